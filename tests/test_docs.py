"""The documentation site: every page in the nav, no stubs, a generated page per model and recipe.

The full build (figures, ``mkdocs build --strict``, the headless-Chromium walk)
runs in .ci/run; these checks are the fast part, without Keras models or a browser.
"""

import json
import math
import re
import sys
from pathlib import Path

import pytest
import yaml

REPO = Path(__file__).resolve().parents[1]
DOCS = REPO / "docs"
sys.path.insert(0, str(DOCS / "scripts"))

import mkdocs_hooks  # noqa: E402
import zoo_docs  # noqa: E402

import zoo  # noqa: E402
from zoo.registry import REGISTRY, ModelSpec  # noqa: E402

def _models_section(nav) -> list:
    return next(item["Models"] for item in nav if isinstance(item, dict) and "Models" in item)


def _nav_pages(nav) -> list[str]:
    pages = []
    for item in nav:
        value = next(iter(item.values())) if isinstance(item, dict) else item
        pages += _nav_pages(value) if isinstance(value, list) else [value]
    return pages


@pytest.fixture()
def config():
    """mkdocs.yml's nav after the hook added the generated pages."""
    raw = yaml.safe_load((REPO / "mkdocs.yml").read_text())
    return mkdocs_hooks.on_config({"nav": raw["nav"]})


@pytest.fixture()
def figures(tmp_path, monkeypatch):
    """Empty stand-ins for every figure a page may show, so pages render without running Keras."""
    monkeypatch.setattr(zoo_docs, "FIGURES", tmp_path / "figures")
    figures = [zoo_docs.model_diagram(name) for name in zoo.list_models()]
    figures += [figure.path for recipe in zoo_docs.committed_runs() for figure in zoo_docs.result_figures(recipe)]
    for figure in figures:
        path = tmp_path / "figures" / figure
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(b"")
    return tmp_path / "figures"


def test_every_page_under_docs_is_in_the_nav_and_the_nav_finds_every_page(config):
    written = {path.relative_to(DOCS).as_posix() for path in DOCS.rglob("*.md")
               if "scripts" not in path.parts and "figures" not in path.parts}
    in_nav = _nav_pages(config["nav"])
    assert sorted(written - set(in_nav)) == []
    generated = {f"models/{name}.md" for name in zoo.list_models()}
    generated |= {f"recipes/{name}.md" for name in zoo_docs.recipe_names()}
    assert sorted(set(in_nav) - written - generated) == []
    assert len(in_nav) == len(set(in_nav))


def test_no_page_is_a_stub():
    stub = re.compile(r"\bTODO\b|coming soon|\bTBD\b|lorem ipsum|under construction", re.I)
    offenders = [path.name for path in DOCS.rglob("*.md") if stub.search(path.read_text())]
    assert offenders == []


def test_every_registry_entry_gets_a_page_from_zoo_info(config, figures):
    models = _models_section(config["nav"])
    for name in zoo.list_models():
        spec = zoo.info(name)
        assert {name: f"models/{name}.md"} in models
        page = zoo_docs.model_page(name)
        assert page.startswith(f"# {name}\n") and spec.summary in page
        assert f"{spec.num_params:,}" in page
        for argument, default in spec.defaults.items():
            assert f"| `{argument}` | `{default!r}` |" in page
        assert f"../figures/models/{name}.png" in page
        if spec.search_space:
            hp_names = re.findall(r"^\| `(\w+)` \| (?:Choice|Int|Float|Boolean) \|", page, re.M)
            assert hp_names, f"{name}: the search space table is empty"


def test_a_newly_registered_entry_gets_its_page_and_nav_entry(figures, monkeypatch):
    def tiny(units=3, name="tiny"):
        """A test entry.

        Args:
            units: how many.
            name: the model's name.
        """

    monkeypatch.setitem(REGISTRY._specs, "zz_tiny", ModelSpec(
        name="zz_tiny", factory=tiny, summary="A tiny test entry.", task="test", inputs="x", outputs="y"))
    (figures / "models" / "zz_tiny.png").write_bytes(b"")
    raw = yaml.safe_load((REPO / "mkdocs.yml").read_text())
    nav = mkdocs_hooks.on_config({"nav": raw["nav"]})["nav"]
    assert {"zz_tiny": "models/zz_tiny.md"} in _models_section(nav)
    page = zoo_docs.model_page("zz_tiny")
    assert "| `units` | `3` | how many. |" in page
    assert "No recipe trains this entry" in page and "declares no KerasTuner search space" in page


def test_results_come_from_results_json_with_their_provenance(tmp_path, monkeypatch):
    monkeypatch.setattr(zoo_docs, "RESULTS", tmp_path)
    assert "No committed run of `zoo.recipes.mlp` exists yet" in zoo_docs.results_section("mlp", "models/mlp.md")

    (tmp_path / "mlp").mkdir()
    (tmp_path / "mlp" / "results.json").write_text(json.dumps({
        "recipe": "mlp", "command": "python -m zoo.recipes.mlp --seed 3", "flags": {"quick": True},
        "finished": "2030-01-02T03:04:05+00:00", "wall_time_s": 12.5, "data": {"test": 360},
        "metrics": {"test_accuracy": 0.8123, "per_class": {"a": 0.5}},
        "environment": {"machine": {"platform": "TestOS", "processor": "x86_64", "cpu_count": 7},
                        "keras_backend": "jax", "packages": {"keras": "3.99"}, "devices": ["cpu:0"]},
    }))
    section = zoo_docs.results_section("mlp", "models/mlp.md", figures=False)
    for expected in ("| `test_accuracy` | 0.8123 |", "| `per_class.a` | 0.5 |", "`python -m zoo.recipes.mlp --seed 3`",
                     "7-core x86_64", "Platform:** TestOS", "2030-01-02T03:04:05+00:00", "12.5 s",
                     "Keras backend jax", "test accuracy 0.8123 on 360 held-out examples", "A smoke test"):
        assert expected in section

    # A run still going (no results.json) has no figures; a finished one has its curves.
    (tmp_path / "lstm_sentiment").mkdir()
    (tmp_path / "lstm_sentiment" / "history.csv").write_text("epoch,loss\n0,1.0\n")
    assert zoo_docs.result_figures("lstm_sentiment") == [] and zoo_docs.committed_runs() == ["mlp"]

    # One history per arm (history_<tag>.csv); CSVLogger's "NA" for an unlogged value reads as NaN.
    (tmp_path / "mlp" / "history_scratch.csv").write_text("epoch,loss,val_loss\n0,1.5,NA\n1,1.25,1.0\n")
    histories = zoo_docs.load_histories("mlp")
    assert list(histories) == ["scratch"] and histories["scratch"]["loss"] == [1.5, 1.25]
    assert math.isnan(histories["scratch"]["val_loss"][0])
    assert zoo_docs.result_figures("mlp")[0].path == zoo_docs.curves_figure("mlp")


def test_getting_started_copies_the_readmes_two_commands():
    block = zoo_docs.readme_setup()
    readme = (REPO / "README.md").read_text()
    assert block.startswith("```bash\n") and block[len("```bash\n"):-3] in readme
    assert "python -m zoo.recipes.mlp" in block and "python -m pytest" in block


def test_the_api_reference_covers_every_public_name():
    api = (DOCS / "api.md").read_text()
    documented = set(re.findall(r"^::: ([\w.]+)", api, re.M))
    documented |= set(re.findall(r"^::: ([\w.]+)", zoo_docs.factory_reference(), re.M))
    assert {f"zoo.{name}" for name in zoo.__all__} <= documented
    import pkgutil

    # Every public module of the library, but the command-line entry points and the registry (its names are above).
    modules = {f"zoo.{module.name}" for module in pkgutil.iter_modules(zoo.__path__)
               if not module.name.startswith("_") and module.name not in ("cli", "registry", "models")}
    assert modules <= documented, modules - documented
    for name in zoo.list_models():
        factory = zoo.info(name).factory
        assert f"{factory.__module__}.{factory.__qualname__}" in documented
