"""benchmarks/choices.py's bookkeeping: a full report, and variants added to it later with --only.

Each variant is a full recipe run (minutes); here a stand-in returns its row, so what is
tested is which variants run, what the report keeps and what it says about where each
row came from. tests/test_results.py checks the committed reports themselves.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "docs" / "scripts"))

import zoo_docs  # noqa: E402

RECIPE = "convnet_1d"   # four small variants, chosen on validation accuracy


@pytest.fixture()
def choices(monkeypatch, benchmark_scripts):
    """benchmarks/choices.py with each run replaced: validation accuracy 0.5 + 0.01 per call so far."""
    with benchmark_scripts("choices") as (module,):
        runs = []

        def run_variant(recipe, settings, quick):
            runs.append((recipe, settings, quick))
            return {"settings": settings, "validation_accuracy": round(0.5 + 0.01 * len(runs), 4),
                    "test_accuracy": 0.4, "epochs_run": 3, "seconds": 1.0}

        monkeypatch.setattr(module, "run_variant", run_variant)
        module.runs = runs
        yield module


def test_a_full_run_scores_every_variant_and_chooses_the_best_on_validation(choices, tmp_path, capsys):
    out = tmp_path / "report.json"
    choices.main([RECIPE, "--out", str(out)])
    report = json.loads(out.read_text())
    names = list(choices.VARIANTS[RECIPE])
    assert [settings for _, settings, _ in choices.runs] == list(choices.VARIANTS[RECIPE].values())
    assert list(report["variants"]) == names and report["chosen"] == names[-1]   # the last call scored best
    assert report["command"] == f"python benchmarks/choices.py {RECIPE}" and "added" not in report
    assert "environment" in report and not report["quick"]
    assert f"chose {names[-1]!r} on validation" in capsys.readouterr().out


def test_quick_runs_each_variant_with_the_recipes_smoke_test_epochs_not_its_own(benchmark_scripts, monkeypatch):
    with benchmark_scripts("choices") as (choices,):
        given = []

        def run(recipe, flags):
            given.append(flags)
            return {"metrics": {"validation_accuracy": 0.5, "test_accuracy": 0.5, "epochs_run": 1}}, 1.0

        monkeypatch.setattr(choices.recipe_runs, "run", run)
        settings = {"num_layers": 4, "epochs": 100, "dropout": 0.1}
        full, quick = choices.run_variant("mini_gpt", settings, False), choices.run_variant("mini_gpt", settings, True)
    assert given == [["--num-layers", "4", "--epochs", "100", "--dropout", "0.1"],
                     ["--num-layers", "4", "--dropout", "0.1", "--quick"]]
    assert full["settings"] == quick["settings"] == settings   # the row still names the variant's settings


def test_only_reruns_the_named_variants_and_keeps_the_others(choices, tmp_path):
    out = tmp_path / "report.json"
    choices.main([RECIPE, "--out", str(out)])
    first = json.loads(out.read_text())
    names = list(choices.VARIANTS[RECIPE])
    choices.runs.clear()
    choices.main([RECIPE, "--only", names[1], "--out", str(out)])
    report = json.loads(out.read_text())

    assert choices.runs == [(RECIPE, choices.VARIANTS[RECIPE][names[1]], False)]
    assert report["variants"][names[1]]["validation_accuracy"] == 0.51
    assert {name: row for name, row in report["variants"].items() if name != names[1]} == {
        name: row for name, row in first["variants"].items() if name != names[1]}
    assert list(report["variants"]) == names   # the listed order, simplest first
    assert report["chosen"] == first["chosen"] == names[-1]
    # The report still names the command that remakes all of it, and the environment of the full run;
    # the rerun row says how and where it was measured.
    assert report["command"] == first["command"] and report["environment"] == first["environment"]
    assert report["added"] == [{"command": f"python benchmarks/choices.py {RECIPE} --only '{names[1]}'",
                                "variants": [names[1]], "environment": report["added"][0]["environment"]}]
    choices.main([RECIPE, "--only", names[0], "--out", str(out)])
    assert [added["variants"] for added in json.loads(out.read_text())["added"]] == [[names[1]], [names[0]]]


def test_two_only_runs_at_once_both_keep_their_rows(choices, tmp_path, monkeypatch):
    """A second --only run that starts and finishes while the first one's variant runs: its row stays."""
    out = tmp_path / "report.json"
    choices.main([RECIPE, "--out", str(out)])
    names = list(choices.VARIANTS[RECIPE])
    stand_in = choices.run_variant

    def first_run(recipe, settings, quick):
        monkeypatch.setattr(choices, "run_variant", stand_in)
        choices.main([RECIPE, "--only", names[2], "--out", str(out)])   # the other run, meanwhile
        return stand_in(recipe, settings, quick)

    monkeypatch.setattr(choices, "run_variant", first_run)
    choices.main([RECIPE, "--only", names[1], "--out", str(out)])
    report = json.loads(out.read_text())
    calls = len(names)   # the full run's; then the other run's variant, then this one's
    assert report["variants"][names[2]]["validation_accuracy"] == round(0.5 + 0.01 * (calls + 1), 4)
    assert report["variants"][names[1]]["validation_accuracy"] == round(0.5 + 0.01 * (calls + 2), 4)
    assert [added["variants"] for added in report["added"]] == [[names[2]], [names[1]]]


def test_the_page_says_which_variants_were_added_later(choices, tmp_path, monkeypatch):
    out = tmp_path / f"choices_{RECIPE}.json"
    choices.main([RECIPE, "--out", str(out)])
    name = list(choices.VARIANTS[RECIPE])[2]
    choices.main([RECIPE, "--only", name, "--out", str(out)])
    monkeypatch.setattr(zoo_docs, "BENCHMARKS", tmp_path)
    text = "\n".join(zoo_docs.choices_section(RECIPE))
    assert f"Added later: {name}, by `python benchmarks/choices.py {RECIPE} --only '{name}'` on " in text


@pytest.mark.parametrize("argv, message", [
    (["--only", "no such variant"], "has no variant 'no such variant'; python benchmarks/choices.py --list"),
    (["--only", "32-64-32 filters"], "does not exist: run without --only first"),
])
def test_only_refuses_what_it_cannot_add_to(choices, tmp_path, argv, message):
    with pytest.raises(SystemExit, match=message):
        choices.main([RECIPE, *argv, "--out", str(tmp_path / "none.json")])
    assert choices.runs == []


def test_only_refuses_a_report_missing_other_variants_or_made_another_way(choices, tmp_path, capsys):
    out = tmp_path / "report.json"
    choices.main([RECIPE, "--quick", "--out", str(out)])
    assert "a --quick smoke test, which chooses nothing" in capsys.readouterr().out
    names = list(choices.VARIANTS[RECIPE])
    choices.runs.clear()
    with pytest.raises(SystemExit, match="was made with --quick and this run is without it: rows of both kinds "
                                         "cannot share a report; run without --only"):
        choices.main([RECIPE, "--only", names[0], "--out", str(out)])
    report = json.loads(out.read_text())
    del report["variants"][names[2]]
    out.write_text(json.dumps(report))
    with pytest.raises(SystemExit, match=f"lacks '{names[2]}': add those variants to --only"):
        choices.main([RECIPE, "--quick", "--only", names[0], "--out", str(out)])
    assert choices.runs == []
    choices.main([RECIPE, "--quick", "--only", names[0], names[2], "--out", str(out)])
    assert [settings for _, settings, _ in choices.runs] == [choices.VARIANTS[RECIPE][names[0]],
                                                             choices.VARIANTS[RECIPE][names[2]]]


def test_equal_validation_scores_are_decided_by_the_second_measure_then_by_the_order(choices):
    # attention_seq2seq's variants can all answer every validation date right: the lower validation loss decides.
    rows = {"first": {"validation_exact_match": 1.0, "validation_loss": 0.002, "seconds": 200.0},
            "second": {"validation_exact_match": 1.0, "validation_loss": 0.001, "seconds": 200.0},
            "third": {"validation_exact_match": 0.999, "validation_loss": 0.0001, "seconds": 200.0}}
    assert choices.best_variant("attention_seq2seq", rows) == "second"
    rows["first"]["validation_loss"] = 0.001
    assert choices.best_variant("attention_seq2seq", rows) == "first"   # equal on both: the one listed first
    assert choices.described("attention_seq2seq") == "validation exact match, then validation loss (lower is better)"
    # A recipe that names no second measure: the first of equals wins, whatever else its rows hold.
    rows = {"a": {"validation_accuracy": 0.9, "validation_loss": 0.5, "seconds": 60.0},
            "b": {"validation_accuracy": 0.9, "validation_loss": 0.1, "seconds": 60.0}}
    assert choices.best_variant(RECIPE, rows) == "a" and choices.described(RECIPE) == "validation accuracy"
    assert choices.described("mini_gpt") == "validation bits per character (lower is better)"


def test_a_variant_too_slow_to_be_a_default_run_is_shown_but_not_chosen(choices):
    budget = choices.TIME_BUDGET_S
    rows = {"fast": {"validation_bits_per_character": 2.45, "seconds": budget - 1},
            "slow": {"validation_bits_per_character": 2.44, "seconds": budget + 1},
            "faster": {"validation_bits_per_character": 2.50, "seconds": budget / 2}}
    assert choices.best_variant("mini_gpt", rows) == "fast"
    rows["fast"]["seconds"] = budget   # the budget itself is within it
    assert choices.best_variant("mini_gpt", rows) == "fast"
    for row in rows.values():   # where none fits, the best of them all: a report still names a choice
        row["seconds"] = budget * 2
    assert choices.best_variant("mini_gpt", rows) == "slow"


def test_the_page_shows_the_measure_that_decided_between_equals(choices, tmp_path, monkeypatch):
    rows = {name: {"validation_exact_match": 1.0, "test_exact_match": 0.9995, "validation_loss": loss,
                   "epochs_run": 30, "seconds": 200.0, "settings": settings}
            for (name, settings), loss in zip(choices.VARIANTS["attention_seq2seq"].items(), (3e-4, 1e-4, 2e-4))}
    monkeypatch.setattr(choices, "measure", lambda recipe, quick, only: rows)
    choices.main(["attention_seq2seq", "--out", str(tmp_path / "choices_attention_seq2seq.json")])
    monkeypatch.setattr(zoo_docs, "BENCHMARKS", tmp_path)
    text = "\n".join(zoo_docs.choices_section("attention_seq2seq"))
    second = list(rows)[1]
    assert "| variant | validation exact match | validation loss | test exact match | epochs | seconds |" in text
    assert f"| **{second} (chosen)** | 1.0 | 0.0001 | 0.9995 |" in text
    assert "among equals, the lower validation loss, then the simpler one, listed first" in text
