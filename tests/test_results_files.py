"""Reading results.json files that a recipe did not write cleanly: damaged, diverged, or holding Markdown/HTML.

Fast: temporary results folders only, no Keras (the docs pages are rendered
from ``docs/scripts/zoo_docs.py`` with empty stand-in figures).
"""

import html
import json
import re
import subprocess
import sys
from pathlib import Path

import markdown
import pytest
from markdown_it import MarkdownIt

from zoo import results as results_lib
from zoo.recipes import summaries

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "docs" / "scripts"))

import zoo_docs  # noqa: E402

RECIPES = summaries()   # {name: summary} of every recipe the registry names

pytestmark = pytest.mark.no_keras

HOSTILE = "python -m zoo.recipes.mlp --note `x` <script>alert(1)</script> | y"


def _results(recipe: str = "mlp", **changes) -> dict:
    """A complete results.json as a recipe writes it."""
    results = {
        "recipe": recipe, "command": f"python -m zoo.recipes.{recipe} --out results/{recipe}",
        "flags": {"quick": False}, "wall_time_s": 38.2, "finished": "2030-01-02T03:04:05+00:00",
        "data": {"train": 1293, "test": 360}, "metrics": {"test_accuracy": 0.9722},
        "environment": {"machine": {"platform": "TestOS", "processor": "x86_64", "cpu_count": 2},
                        "keras_backend": "tensorflow", "packages": {"keras": "3.99"}, "devices": ["cpu:0"]},
    }
    results.update(changes)
    return results


def _write(folder: Path, recipe: str, content) -> Path:
    path = folder / recipe / "results.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content if isinstance(content, str) else json.dumps(content))
    return path


def _render_readme_table(table: str) -> str:
    """The table as GitHub renders a README (CommonMark with GFM tables)."""
    return MarkdownIt("commonmark").enable("table").render(table)


def _render_docs(text: str) -> str:
    """Markdown as the docs site renders it (Python-Markdown, as MkDocs runs it)."""
    return markdown.markdown(text, extensions=["tables", "admonition"])


DAMAGED = {
    "empty": ("", "not valid JSON (Expecting value: line 1 column 1)"),
    "truncated": ('{"recipe": "mlp", "metr', "not valid JSON (Unterminated string"),
    "list": ([1, 2], "holds a list, not a JSON object"),
    "missing keys": ({"recipe": "mlp", "metrics": {}},
                     "lacks the keys 'command', 'flags', 'environment', 'wall_time_s'"),
    "wrong type": (_results(flags=["--quick"]), "'flags' is a list, not an object"),
    "NaN wall time": (_results(wall_time_s=float("nan")), "'wall_time_s' is nan, not a number of seconds"),
    "binary": (b"\x89PNG\r\n\x1a\n\xff\xfe", "not UTF-8 text"),
}


@pytest.mark.parametrize("case", list(DAMAGED))
def test_a_damaged_results_json_is_skipped_with_one_warning_naming_it(case, tmp_path, capsys):
    content, reason = DAMAGED[case]
    bad = _write(tmp_path, "mlp", content)
    _write(tmp_path, "perceptron", _results("perceptron"))

    table = results_lib.markdown_table(["perceptron", "mlp"], tmp_path)
    assert "zoo.recipes.perceptron" in table and "zoo.recipes.mlp" not in table
    assert len(table.splitlines()) == 3
    warnings = capsys.readouterr().err.splitlines()
    assert len(warnings) == 1 and warnings[0].startswith(f"warning: skipping {bad}: "), warnings
    assert reason in warnings[0]

    # A docs build reads a file from many pages: still one line per damaged file.
    assert results_lib.load("mlp", tmp_path) is None
    assert capsys.readouterr().err == ""
    with pytest.raises(results_lib.BadResults, match=str(bad)):
        results_lib.read(bad)


def test_python_m_zoo_results_skips_a_bad_file_and_prints_the_others(tmp_path):
    bad = _write(tmp_path, "mlp", "{not json")
    for recipe in ("perceptron", "lstm_sentiment"):
        _write(tmp_path, recipe, _results(recipe))
    run = subprocess.run([sys.executable, "-m", "zoo.results", "--results", str(tmp_path)], cwd=REPO,
                         capture_output=True, text=True, timeout=60)
    assert run.returncode == 0, run.stderr
    rows = run.stdout.strip().splitlines()
    assert len(rows) == 4 and "zoo.recipes.perceptron" in rows[2] and "zoo.recipes.lstm_sentiment" in rows[3]
    assert "Traceback" not in run.stderr
    assert run.stderr.splitlines() == [f"warning: skipping {bad}: not valid JSON "
                                       "(Expecting property name enclosed in double quotes: line 1 column 2)"]

    missing = subprocess.run([sys.executable, "-m", "zoo.results", "--results", str(tmp_path / "nowhere")],
                             cwd=REPO, capture_output=True, text=True, timeout=60)
    assert missing.returncode == 2 and "--results" in missing.stderr and "no such folder" in missing.stderr
    assert "Traceback" not in missing.stderr


def test_docs_pages_treat_a_bad_results_json_as_no_committed_run(tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(zoo_docs, "RESULTS", tmp_path)
    monkeypatch.setattr(zoo_docs, "recipe_help", lambda recipe: f"usage: python -m zoo.recipes.{recipe}")
    bad = _write(tmp_path, "mlp", [{"recipe": "mlp"}])
    (tmp_path / "mlp" / "history.csv").write_text("epoch,loss\n0,1.0\n")
    _write(tmp_path, "perceptron", _results("perceptron"))

    no_run = "No committed run of `zoo.recipes.mlp` exists yet"
    assert no_run in zoo_docs.results_section("mlp", "models/mlp.md")
    page = zoo_docs.recipe_page("mlp")
    assert no_run in page and "keeps its small files" not in page
    assert zoo_docs.committed_runs() == ["perceptron"] and zoo_docs.result_figures("mlp") == []
    mlp_row = next(row for row in zoo_docs.recipes_table("index.md").splitlines() if "[`mlp`]" in row)
    assert mlp_row.endswith("| no committed run yet |  |  |")
    assert "No committed run of `zoo.recipes.mlp`" in zoo_docs.expand("<!-- zoo:curves mlp -->", "concepts/training.md")
    assert capsys.readouterr().err.splitlines() == [f"warning: skipping {bad}: holds a list, not a JSON object"]


def test_a_recorded_command_with_backticks_and_html_renders_as_code(tmp_path):
    _write(tmp_path, "mlp", _results(command=HOSTILE, headline="accuracy <b>1.0</b> | `all` [x](javascript:y)"))
    table = results_lib.markdown_table(["mlp"], tmp_path)
    rendered = _render_readme_table(table)
    assert "<script>" not in rendered and "<b>" not in rendered and "href" not in rendered
    cells = rendered.split("<tbody>")[1].count("<td>")
    assert cells == 6, rendered
    assert f"<td><code>{html.escape(HOSTILE, quote=False)}</code></td>" in rendered
    assert "<td>accuracy &lt;b&gt;1.0&lt;/b&gt; | `all` [x](javascript:y)</td>" in rendered

    page = _render_docs(zoo_docs.provenance(_results(command=HOSTILE, data={"source": "<img src=x>"}), "mlp"))
    assert "<script>" not in page and "<img" not in page
    assert f"<code>{html.escape(HOSTILE, quote=False)}</code>" in page
    # Whatever the longest run of backticks, the fence is longer and the span holds the command whole.
    for command in ("a ``b`` c", "`starts and ends`", "x ```` y"):
        assert html.escape(command.strip(), quote=False) in _render_docs(results_lib.markdown_code(command))


def test_a_diverged_run_never_shows_nan(tmp_path, monkeypatch):
    assert results_lib.headline(_results(metrics={"test_accuracy": float("nan")})) == \
        "test accuracy not a number (the run diverged)"
    assert results_lib.headline(_results(metrics={"test_accuracy": float("inf")})) == \
        "test accuracy infinite (the run diverged)"
    # json.dump writes NaN as a bare NaN token, which json.load reads back as a float.
    _write(tmp_path, "mlp", json.dumps(_results(metrics={"test_accuracy": float("nan"),
                                                         "test_loss": [float("nan"), float("-inf")]})))
    table = results_lib.markdown_table(["mlp"], tmp_path)
    assert "zoo.recipes.mlp" in table and "nan" not in table.lower()
    monkeypatch.setattr(zoo_docs, "RESULTS", tmp_path)
    section = zoo_docs.results_section("mlp", "models/mlp.md", figures=False)
    assert "nan" not in section.lower() and "Infinity" not in section
    assert "| test accuracy | not a number |" in section
    # A list under metrics is not a number a reader can take in: the tables leave it out.
    assert "| test loss |" not in section


def test_the_headline_is_the_one_the_recipe_recorded():
    recorded = "total loss 90.83 -> 10.47 (88.5% lower)"
    assert results_lib.headline(_results(headline=recorded)) == recorded
    assert results_lib.headline(_results()) == "test accuracy 0.9722 on 360 held-out examples"
    assert results_lib.headline(_results(headline=0.97)) == "test accuracy 0.9722 on 360 held-out examples"
    assert results_lib.headline(_results(data={})) == "test accuracy 0.9722"
    assert results_lib.headline(_results(metrics={"total_loss_fall": 0.88})) == "no headline recorded"


def test_nothing_downstream_switches_on_a_recipe_name():
    for path in (REPO / "zoo" / "results.py", REPO / "docs" / "scripts" / "zoo_docs.py"):
        source = path.read_text()
        # A recipe name compared against, used as a key or value, or listed in a tuple.
        named = [recipe for recipe in RECIPES if re.search(
            rf"(==|!=|:|\(|,)\s*[\"']{recipe}[\"']|[\"']{recipe}[\"']\s*(==|!=|:|,)", source)]
        assert named == [], f"{path.relative_to(REPO)} names recipes {named}: read what results.json records instead"


def test_result_figures_follow_what_results_json_records(tmp_path, monkeypatch):
    monkeypatch.setattr(zoo_docs, "RESULTS", tmp_path)
    monkeypatch.setattr(zoo_docs, "FIGURES", tmp_path / "figures")
    folder = _write(tmp_path, "any_recipe", _results("any_recipe")).parent
    assert zoo_docs.result_figures("any_recipe") == []

    for name in ("c.png", "s.png", "out.png"):
        (folder / name).write_bytes(b"")
    (folder / "weights.json").write_text(json.dumps({
        "text": "a `tick` and <script>x</script>", "tokens": ["a", "b"], "weights": [[0.25, 0.75], [0.5, 0.5]],
        "label": "fresh", "prediction": "<i>fresh</i>"}))
    # A name outside the run folder is ignored, not read.
    _write(tmp_path, "any_recipe", _results("any_recipe", images={"content": "c.png", "style": "../s.png",
                                                                   "stylized": "out.png"}))
    assert [figure.kind for figure in zoo_docs.result_figures("any_recipe")] == []
    _write(tmp_path, "any_recipe", _results("any_recipe", images={"content": "c.png", "style": "s.png",
                                                                   "stylized": "out.png"},
                                            attention_example="weights.json"))
    figures = zoo_docs.result_figures("any_recipe")
    assert [(figure.kind, figure.path) for figure in figures] == [
        ("trio", "results/any_recipe-trio.png"), ("attention", "results/any_recipe-attention.png")]

    for figure in figures:
        (tmp_path / "figures" / figure.path).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / "figures" / figure.path).write_bytes(b"")
    page = _render_docs(zoo_docs.expand("<!-- zoo:attention any_recipe -->\n\n<!-- zoo:stylized any_recipe -->",
                                        "concepts/transformers.md"))
    assert "../figures/results/any_recipe-attention.png" in page and "../figures/results/any_recipe-trio.png" in page
    assert "<script>" not in page and "<i>" not in page
    assert "lie between 0.2500 and 0.7500" in page and "each 0.5000" in page
    assert "colour scale runs from 0 to the largest weight, 0.7500" in page
    assert "No committed run of `zoo.recipes.mlp`" in zoo_docs.expand("<!-- zoo:stylized mlp -->", "x.md")
    with pytest.raises(ValueError, match="needs a name"):
        zoo_docs.expand("<!-- zoo:attention -->", "concepts/transformers.md")


def test_a_filters_record_gets_its_figure_and_caption_and_a_broken_one_names_the_fix(tmp_path, monkeypatch):
    monkeypatch.setattr(zoo_docs, "RESULTS", tmp_path)
    monkeypatch.setattr(zoo_docs, "FIGURES", tmp_path / "figures")
    folder = _write(tmp_path, "any_recipe", _results("any_recipe", filters_example="first_layer.json")).parent
    assert [figure.kind for figure in zoo_docs.result_figures("any_recipe")] == []   # named, but not there yet
    grid = [[0.0, 0.5], [1.0, 0.25]]
    record = {"digit": grid, "kernels": [grid, grid], "feature_maps": [grid, grid], "label": "7", "prediction": "7",
              "hand_made_edge": {"kernel": [[1, 1, 1], [0, 0, 0], [-1, -1, -1]], "feature_map": grid},
              "closest_to_hand_made": {"filter": 1, "cosine": -0.91}}
    (folder / "first_layer.json").write_text(json.dumps(record))
    figures = zoo_docs.result_figures("any_recipe")
    assert [(figure.kind, figure.path) for figure in figures] == [("filters", "results/any_recipe-filters.png")]
    (tmp_path / "figures" / "results").mkdir(parents=True)
    (tmp_path / "figures" / figures[0].path).write_bytes(b"")
    page = _render_docs(zoo_docs.expand("<!-- zoo:filters any_recipe -->", "concepts/convnets.md"))
    assert "../figures/results/any_recipe-filters.png" in page
    assert "Of the 2 learned filters, number 1 is the most like the hand-made edge filter" in page
    assert "sign flipped, cosine similarity -0.91" in page
    (folder / "first_layer.json").write_text(json.dumps({**record, "feature_maps": [grid]}))
    with pytest.raises(ValueError, match="2 kernels but 1 feature maps; rerun python -m zoo.recipes.any_recipe"):
        zoo_docs.expand("<!-- zoo:filters any_recipe -->", "concepts/convnets.md")
    (folder / "first_layer.json").write_text(json.dumps({key: value for key, value in record.items() if key != "digit"}))
    with pytest.raises(ValueError, match="is not a filters record.*'digit'"):
        zoo_docs.filters_caption("any_recipe")
    _write(tmp_path, "other_recipe", _results("other_recipe"))
    assert 'records no "filters_example" file' in zoo_docs.expand("<!-- zoo:filters other_recipe -->", "x.md")


def test_committed_results_are_read_from_zoo_results_or_the_checkout(tmp_path):
    """$ZOO_RESULTS points every reader elsewhere (an installed package has no results/ beside it)."""
    import os

    root = Path(__file__).resolve().parents[1]
    _write(tmp_path, "mlp", _results(headline="read from ZOO_RESULTS"))
    script = "from zoo import results; print(results.RESULTS_DIR); print(results.markdown_table(['mlp']))"
    env = {key: value for key, value in os.environ.items() if key != "ZOO_RESULTS"}
    elsewhere = subprocess.run([sys.executable, "-c", script], env={**env, "ZOO_RESULTS": str(tmp_path)},
                               capture_output=True, text=True, check=True, cwd=tmp_path).stdout.splitlines()
    assert elsewhere[0] == str(tmp_path) and "read from ZOO_RESULTS" in "\n".join(elsewhere)
    here = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True, text=True, check=True,
                          cwd=tmp_path).stdout.splitlines()
    assert here[0] == str(root / "results") and "read from ZOO_RESULTS" not in "\n".join(here)


def test_the_recipe_page_scores_each_part_of_an_ensemble_alone_and_says_which_carries_it(tmp_path, monkeypatch):
    monkeypatch.setattr(zoo_docs, "RESULTS", tmp_path)
    results = _results("lstm_sentiment", metrics={"test_accuracy": 0.79, "validation_accuracy": 0.8},
                       model={"members": 3, "validation_accuracy_alone": {"sequence_models": 0.77,
                                                                          "wide_model": 0.81}})
    _write(tmp_path, "lstm_sentiment", results)
    text = "\n".join(zoo_docs.parts_section("lstm_sentiment"))
    assert "| the 3 sequence models, averaged | 0.77 |" in text and "| the wide (linear) model | 0.81 |" in text
    assert "| **the ensemble (what the recipe saves)** | **0.8** |" in text
    assert "the wide (linear) model alone scores as high as the ensemble or higher" in text
    results["model"]["validation_accuracy_alone"]["wide_model"] = 0.79   # now the parts' errors differ
    _write(tmp_path, "lstm_sentiment", results)
    assert "scores higher than any of its parts alone" in "\n".join(zoo_docs.parts_section("lstm_sentiment"))
    _write(tmp_path, "lstm_sentiment", _results("lstm_sentiment"))   # a run without the numbers: no section
    assert zoo_docs.parts_section("lstm_sentiment") == []
