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
    for expected in ("| test accuracy | 0.8123 |", "| a | 0.5 |", "`python -m zoo.recipes.mlp --seed 3`",
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


def test_getting_started_copies_the_readmes_two_commands_one_copy_button_each():
    page = zoo_docs.readme_setup()
    readme = (REPO / "README.md").read_text()
    blocks = re.findall(r"^```bash\n(.*?)\n```$", page, re.S | re.M)
    # One fenced block (one copy button) per command, each a whole line of the README.
    assert len(blocks) == 2 and all("\n" not in block and f"\n{block}\n" in readme for block in blocks)
    assert "python -m zoo.recipes.mlp" in blocks[0] and "python -m pytest" in blocks[1]
    assert page.count("```") == 4


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


def _leaf_keys(metrics: dict, prefix: str = "") -> list[str]:
    """Every key path of a nested metrics dict, dotted ("arms.pretrained.features_cached")."""
    keys = []
    for key, value in metrics.items():
        keys.append(prefix + key)
        if isinstance(value, dict):
            keys += _leaf_keys(value, f"{prefix}{key}.")
    return keys


@pytest.mark.parametrize("recipe", zoo_docs.committed_runs())
def test_a_committed_results_json_renders_with_labels_not_raw_keys(recipe):
    results = zoo_docs.load_results(recipe)
    tables = zoo_docs.metrics_tables(results)
    assert tables.startswith("|")
    for key in _leaf_keys(results["metrics"]):
        last = key.rpartition(".")[2]
        assert key not in tables, f"{recipe}: the raw key {key!r} is shown"
        if "_" in last:
            assert last not in tables, f"{recipe}: the raw key {last!r} is shown"
    assert not re.search(r"\b(true|false|null)\b", tables)
    # Every number a table shows is labelled: no cell of a first column is empty but the corner.
    for row in tables.splitlines():
        if row.startswith("| ") and not row.startswith("| ---"):
            assert row.split("|")[1].strip() or row.startswith("|  |"), row


def test_unknown_metrics_are_labelled_or_left_out_never_dumped():
    results = {"metrics": {"test_accuracy": 0.51234, "mystery_score": 0.25, "cached": True, "note": "x",
                           "deep": {"a": {"b": {"c": 1}}}, "strings_only": {"k": "v"},
                           "arms": {"fast_one": {"train_seconds": 3.0, "odd_flag": True, "test_accuracy": 0.9}},
                           "initial_losses": {"total": 9.0, "extra_part": 2.5},
                           "final_losses": {"total": float("nan")}}}
    tables = zoo_docs.metrics_tables(results)
    assert "| test accuracy | 0.5123 |" in tables and "| mystery score | 0.25 |" in tables
    assert "| arm | training time | test accuracy |" in tables and "| fast one | 3 s | 0.9000 |" in tables
    assert "|  | at the start | at the end |" in tables
    assert "| total loss | 9 | not a number |" in tables and "| extra part | 2.5 |  |" in tables
    for hidden in ("cached", "note", "deep", "strings", "odd", "true", "_", "nan"):
        assert hidden not in tables, hidden


def _write_results(folder: Path, recipe: str, **fields) -> dict:
    results = {"recipe": recipe, "command": f"python -m zoo.recipes.{recipe}", "flags": {}, "metrics": {},
               "environment": {}, "wall_time_s": 200.0, **fields}
    (folder / recipe).mkdir(parents=True, exist_ok=True)
    (folder / recipe / "results.json").write_text(json.dumps(results))
    return results


def test_the_results_state_the_settings_of_the_run_beside_the_defaults(tmp_path, monkeypatch):
    monkeypatch.setattr(zoo_docs, "RESULTS", tmp_path)
    _write_results(tmp_path, "vgg16_transfer", flags={
        "weights": "hed_bsds500", "image_size": 32, "feature_layer": "block4_pool", "pooling": "flatten",
        "fine_tune_layers": 0, "epochs": 7, "skip_scratch": False, "quick": False}, data={"num_classes": 10})
    section = zoo_docs.results_section("vgg16_transfer", "models/vgg16_transfer.md", figures=False)
    for row in ("| `input_shape` | **`(32, 32, 3)`** | `(224, 224, 3)` | `--image-size 32` |",
                "| `num_classes` | **`10`** | `2` | the classes of its data |",
                "| `weights` | **`'hed_bsds500'`** | `'imagenet'` | `--weights` |",
                "| `fine_tune_layers` | `0` | `0` | `--fine-tune-layers` |",
                "| `pooling` | **`'flatten'`** | `'avg'` | `--pooling` |",
                "| `feature_layer` | **`'block4_pool'`** | `'block5_pool'` | `--feature-layer` |"):
        assert row in section, row
    assert "in `input_shape`, `num_classes`, `weights`, `pooling`, `feature_layer` (in bold)" in section
    assert ("**Flags:** `--weights hed_bsds500 --image-size 32 --feature-layer block4_pool --pooling flatten "
            "--fine-tune-layers 0 --epochs 7`") in section
    # The model page puts the same table under its measured results.
    page = zoo_docs.results_section("vgg16_transfer", "models/vgg16_transfer.md", figures=False,
                                    model="vgg16_transfer")
    assert "### Settings of this run" in page and "`'hed_bsds500'`" in page


def test_the_committed_vgg16_run_shows_the_flags_it_ran_with():
    results = zoo_docs.load_results("vgg16_transfer")
    assert results is not None, "results/vgg16_transfer/results.json is committed"
    section = zoo_docs.results_section("vgg16_transfer", "models/vgg16_transfer.md", figures=False)
    flags = results["flags"]
    size = flags["image_size"]
    assert f"`({size}, {size}, 3)`" in section and "`(224, 224, 3)`" in section
    for flag in ("weights", "feature_layer", "pooling"):
        assert f"`{flags[flag]!r}`" in section and f"`{zoo.info('vgg16_transfer').defaults[flag]!r}`" in section


def test_curves_of_several_trainings_come_with_their_times(tmp_path, monkeypatch, figures):
    monkeypatch.setattr(zoo_docs, "RESULTS", tmp_path)
    _write_results(tmp_path, "vgg16_transfer", wall_time_s=180.0,
                   metrics={"arms": {"fast": {"train_seconds": 46.0}, "slow": {"test_accuracy": 0.5}}},
                   epoch_seconds={"fast": {"epochs_timed": 90, "first": 1.5, "median_after_first": 0.5},
                                  "slow": {"epochs_timed": 30, "first": 20.0, "median_after_first": 15.0}})
    for tag in ("fast", "slow"):
        (tmp_path / "vgg16_transfer" / f"history_{tag}.csv").write_text("epoch,loss\n0,1.0\n1,0.5\n")
    (figures / zoo_docs.curves_figure("vgg16_transfer")).parent.mkdir(parents=True, exist_ok=True)
    (figures / zoo_docs.curves_figure("vgg16_transfer")).write_bytes(b"")
    expected = ["| fast | 90 | 1.5 s | 0.5 s | 46 s |", "| slow | 30 | 20 s | 15 s | about 455 s |",
                "compare their times here, not the lengths of their curves", "took 180 s"]
    section = zoo_docs.results_section("vgg16_transfer", "recipes/vgg16_transfer.md")
    curves = section.index(zoo_docs.curves_figure("vgg16_transfer"))
    for text in expected:
        assert section.index(text) > curves, text
    concept = zoo_docs.expand("<!-- zoo:curves vgg16_transfer -->", "concepts/training.md")
    assert all(text in concept for text in expected)


def test_the_recipes_table_shows_results_baselines_and_who_wins_not_timestamps():
    from zoo.results import headline, markdown_text, verdict, versus

    table = zoo_docs.recipes_table("index.md")
    assert table.splitlines()[0] == ("| recipe | what it does | result of the committed run | "
                                     "baseline, same run and split | better |")
    for recipe in zoo_docs.committed_runs():
        results = zoo_docs.load_results(recipe)
        row = next(row for row in table.splitlines() if row.startswith(f"| [`{recipe}`]"))
        _, theirs, _, measure = versus(results)
        baseline = f"{results['baseline']['name']}: {measure} " + (f"{theirs:.4f}" if "accuracy" in measure
                                                                     else f"{theirs:.4g}")
        for text in (headline(results), baseline, verdict(results)):
            assert markdown_text(text) in row, (recipe, text)
        assert results["finished"] not in row


def test_models_and_recipes_come_in_learning_order(config):
    from zoo.registry import recipes

    names = zoo_docs.model_names()
    assert sorted(names) == zoo.list_models()
    assert names.index("perceptron") < names.index("mlp") < names.index("mini_transformer")
    order = list(recipes())
    trained = [zoo_docs.recipe_of(zoo.info(name)) for name in names]
    assert [recipe for recipe in trained if recipe] == sorted((r for r in trained if r), key=order.index)
    nav = [next(iter(item.values())) for item in _models_section(config["nav"]) if isinstance(item, dict)]
    assert [page for page in nav if page != "models/index.md"] == [f"models/{name}.md" for name in names]
    table = zoo_docs.models_table("index.md")
    assert re.findall(r"^\| \[`(\w+)`\]", table, re.M) == names
    assert re.findall(r"^\| \[`(\w+)`\]", zoo_docs.recipes_table("index.md"), re.M) == order


def test_owner_repo_issue_references_become_links_outside_code_and_links():
    html = ('<p>fails (keras-team/keras#20585); <a href="x">a/b#1</a> <code>c/d#2</code> '
            'https://github.com/e/f#3</p><pre><code>g/h#4</code></pre>')
    linked = mkdocs_hooks.link_github_references(html)
    assert ('(<a href="https://github.com/keras-team/keras/issues/20585">keras-team/keras#20585</a>)'
            in linked)
    assert linked.count("<a ") == 2 and "<code>c/d#2</code>" in linked and "https://github.com/e/f#3<" in linked
    assert "<code>g/h#4</code>" in linked
    assert "[keras-team/keras#20585](https://github.com/keras-team/keras/issues/20585)" in \
        (DOCS / "scaling.md").read_text()


def test_concept_figures_have_captions_not_file_names(figures):
    for name in zoo_docs.CONCEPT_CAPTIONS:
        (figures / f"{name.replace('_', '-')}.png").write_bytes(b"")
        shown = zoo_docs.expand(f"<!-- zoo:figure {name} -->", "concepts/x.md")
        caption = zoo_docs.CONCEPT_CAPTIONS[name]
        assert shown.startswith(f"![{caption}](../figures/") and shown.endswith(f"*{caption}.*")
    used = set(re.findall(r"<!-- zoo:figure (\w+) -->", "".join(p.read_text() for p in DOCS.rglob("*.md"))))
    assert used <= set(zoo_docs.CONCEPT_CAPTIONS), used - set(zoo_docs.CONCEPT_CAPTIONS)


def test_the_figure_script_without_graphviz_says_so_in_one_line_and_deletes_nothing(tmp_path, monkeypatch, capsys):
    import figures as figure_script

    kept = tmp_path / "figures" / "activations.png"
    kept.parent.mkdir()
    kept.write_bytes(b"png")
    monkeypatch.setattr(figure_script, "FIGURES", kept.parent)
    monkeypatch.setattr(figure_script.shutil, "which", lambda program: None)
    assert figure_script.main() == 1
    captured = capsys.readouterr()
    assert captured.out == "" and len(captured.err.splitlines()) == 1
    assert "graphviz" in captured.err and "apt-get install graphviz" in captured.err
    assert kept.read_bytes() == b"png"
    assert "apt-get install graphviz" in (DOCS / "getting-started.md").read_text()


def _mkdocstrings_options() -> dict:
    plugins = yaml.safe_load((REPO / "mkdocs.yml").read_text())["plugins"]
    return next(plugin["mkdocstrings"] for plugin in plugins if isinstance(plugin, dict) and "mkdocstrings" in plugin
                )["handlers"]["python"]["options"]


def test_the_api_reference_shows_no_empty_type_column():
    """A "table" section style has a Type column per parameter; the factories carry no annotations to fill it."""
    import inspect

    options = _mkdocstrings_options()
    unannotated = [name for name in zoo.list_models() if any(
        parameter.annotation is inspect.Parameter.empty
        for parameter in inspect.signature(zoo.info(name).factory).parameters.values())]
    assert options["docstring_style"] == "google"
    assert not unannotated or options.get("docstring_section_style", "table") != "table", unannotated
    assert options.get("separate_signature") and options.get("show_signature_annotations")


def test_shell_blocks_and_signatures_wrap_instead_of_being_clipped():
    config = yaml.safe_load((REPO / "mkdocs.yml").read_text())
    highlight = next(item["pymdownx.highlight"] for item in config["markdown_extensions"]
                     if isinstance(item, dict) and "pymdownx.highlight" in item)
    # Without the language class on each block, no stylesheet rule can tell a shell block from Python.
    assert highlight.get("pygments_lang_class") is True
    css = (DOCS / "stylesheets" / "extra.css").read_text()
    for selector in (".language-bash pre > code", ".doc-signature pre > code"):
        rule = re.search(re.escape(selector) + r"[^{]*\{([^}]*)\}", css)
        assert rule and "white-space: pre-wrap" in rule.group(1), selector


_TRANSFORMER_SPACE = {"embed_dim": "Choice | 32, 64, 128 | 64", "num_heads": "Choice | 1, 2, 4 | 2",
                      "ff_dim": "Choice | 64, 128, 256 | 128", "num_layers": "Int | 1 to 3, step 1 | 1",
                      "dropout": "Float | 0.0 to 0.3, step 0.1 | 0.1"}
_DROPOUT = "Float | 0.0 to 0.5, step 0.1 | 0.0"
# Each entry's KerasTuner search space as its model page shows it (kind | values | default) and as `--tune`
# searches it. A change here is a change to that documented contract: make it on purpose.
SEARCH_SPACES = {
    "attention_seq2seq": {"encoder_units": "Choice | 16, 32, 64 | 32", "decoder_units": "Choice | 32, 64, 128 | 64",
                          "attention_units": "Choice | 16, 32, 64 | 32"},
    "convnet": {"first_filters": "Choice | 16, 32, 64 | 32", "dense_units": "Choice | 0, 64, 128, 256 | 128",
                "dropout": _DROPOUT, "pooling": "Choice | 'max', 'average' | 'max'"},
    "convnet_1d": {"width": "Choice | 16, 32, 64 | 16", "batch_norm": "Boolean | True, False | True",
                   "dropout": _DROPOUT},
    "convnet_lstm": {"lstm_units": "Choice | 32, 64, 128 | 64", "dense_units": "Choice | 32, 64, 128 | 64",
                     "dropout": _DROPOUT},
    "inception": {"width": "Choice | 32, 64, 96 | 64", "first_stage_modules": "Int | 1 to 3, step 1 | 1",
                  "dropout": "Float | 0.0 to 0.5, step 0.1 | 0.3"},
    "lstm_sentiment": {"embedding_dim": "Choice | 32, 64, 128 | 64", "lstm_units": "Choice | 32, 64, 128 | 64",
                       "bidirectional": "Boolean | True, False | False", "dropout": _DROPOUT},
    "mini_bert": _TRANSFORMER_SPACE,
    "mini_gpt": {"embed_dim": "Choice | 64, 128, 192 | 128", "num_layers": "Int | 2 to 6, step 1 | 4",
                 "dropout": "Float | 0.0 to 0.5, step 0.1 | 0.3"},
    "mini_transformer": _TRANSFORMER_SPACE,
    "mlp": {"hidden_layers": "Int | 1 to 3, step 1 | 1", "hidden_width": "Choice | 16, 32, 64, 128 | 32",
            "dropout": _DROPOUT, "activation": "Choice | 'relu', 'tanh', 'gelu' | 'relu'"},
    "perceptron": {"activation": "Choice | 'sigmoid', 'tanh', 'relu' | 'sigmoid'"},
    "style_transfer": {"content_layer": "Choice | 'block4_conv2', 'block5_conv2' | 'block5_conv2'"},
    "vgg16_transfer": {"dropout": _DROPOUT, "pooling": "Choice | 'avg', 'max', 'flatten' | 'avg'",
                       "normalize_features": "Boolean | True, False | True",
                       "feature_layer": "Choice | 'block3_pool', 'block4_pool', 'block5_pool' | 'block5_pool'"},
}


@pytest.mark.parametrize("name", zoo.list_models())
def test_the_search_space_is_the_documented_one(name):
    rows, _ = zoo_docs.search_space_rows(zoo.info(name))
    cells = [row.replace("`", "").strip("| ").split(" | ") for row in rows]
    assert {cell[0]: " | ".join(cell[1:]) for cell in cells} == SEARCH_SPACES[name]
