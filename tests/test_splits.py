"""benchmarks/splits.py: a recipe and its baseline on several random splits, and what the pages show of it.

The script's bookkeeping is tested with a stand-in for the recipe runs (a full run takes minutes);
the committed reports are checked against the committed runs they repeat and against the pages.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

from zoo import results as results_lib

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "benchmarks" / "results"   # the committed reports
sys.path.insert(0, str(ROOT / "docs" / "scripts"))

import zoo_docs  # noqa: E402


@pytest.fixture(scope="module")
def splits(benchmark_scripts):
    """benchmarks/splits.py, imported as its folder's scripts import each other."""
    with benchmark_scripts("splits") as (module,):
        yield module


def _results(zoo_value, baseline_value, kind="accuracy", validation=None):
    if kind == "accuracy":
        return {"metrics": {"test_accuracy": zoo_value, **({"validation_accuracy": validation} if validation else {})},
                "baseline": {"name": "a linear model", "test_accuracy": baseline_value, "settings": {"C": 1.0}}}
    return {"metrics": {"test_bits_per_character": zoo_value,
                        **({"validation_bits_per_character": validation} if validation else {})},
            "baseline": {"name": "an n-gram", "test_bits_per_character": baseline_value, "settings": {"order": 5}}}


def _runs(monkeypatch, splits, by_seed):
    """Recipe runs replaced by ``by_seed[seed]``; returns the flags each run was given."""
    calls = []

    def run(recipe, flags):
        calls.append((recipe, flags))
        return by_seed[int(flags[flags.index("--seed") + 1])], 12.34

    monkeypatch.setattr(splits.recipe_runs, "run", run)
    return calls


def test_each_seed_is_one_run_and_the_gap_is_positive_where_the_zoo_model_wins(splits, monkeypatch, tmp_path, capsys):
    calls = _runs(monkeypatch, splits, {3: _results(0.80, 0.78), 5: _results(0.77, 0.78), 8: _results(0.79, 0.78)})
    out = tmp_path / "report.json"
    report = splits.main(["some_recipe", "--seeds", "3", "5", "8", "--out", str(out)])

    assert calls == [("some_recipe", ["--seed", "3"]), ("some_recipe", ["--seed", "5"]),
                     ("some_recipe", ["--seed", "8"])]
    assert json.loads(out.read_text()) == report
    assert [(row["seed"], row["zoo"], row["baseline"], row["gap"]) for row in report["rows"]] == [
        (3, 0.80, 0.78, 0.02), (5, 0.77, 0.78, -0.01), (8, 0.79, 0.78, 0.01)]
    assert report["rows"][0]["baseline_settings"] == {"C": 1.0} and report["rows"][0]["seconds"] == 12.3
    assert report["command"] == "python benchmarks/splits.py some_recipe --seeds 3 5 8"
    assert report["measure"] == "test accuracy" and report["higher_is_better"] is True
    assert report["gap"] == "zoo minus baseline (positive: the zoo model wins)"
    assert report["baseline"] == "a linear model" and not report["quick"] and "environment" in report
    summary = report["summary"]
    assert (summary["splits"], summary["zoo_wins"], summary["baseline_wins"], summary["ties"]) == (3, 2, 1, 0)
    assert summary["mean_gap"] == 0.0067 and (summary["mean_zoo"], summary["mean_baseline"]) == (0.7867, 0.78)
    # mean 0.00667, standard deviation 0.01528, t(2 degrees of freedom) 4.303: +-0.03795
    assert summary["mean_gap_95"] == [-0.0313, 0.0446]
    printed = capsys.readouterr().out
    assert "seed 5: test accuracy 0.77 vs baseline 0.78 (gap -0.0100, 12 s)" in printed
    assert "over 3 splits: mean gap +0.0067, zoo wins 2" in printed


def test_where_lower_is_better_the_gap_is_the_baseline_minus_the_zoo(splits, monkeypatch, tmp_path):
    _runs(monkeypatch, splits, {0: _results(2.0, 2.5, "bits"), 1: _results(2.2, 2.1, "bits")})
    report = splits.main(["some_recipe", "--seeds", "0", "1", "--quick", "--out", str(tmp_path / "r.json")])
    assert [row["gap"] for row in report["rows"]] == [0.5, -0.1]
    assert report["gap"] == "baseline minus zoo (lower is better) (positive: the zoo model wins)"
    assert report["measure"] == "bits per character" and report["higher_is_better"] is False
    assert report["quick"] and report["command"] == "python benchmarks/splits.py some_recipe --seeds 0 1 --quick"


def test_a_recipe_whose_split_is_fixed_is_reported_and_shown_as_seeds_of_its_weights(splits, monkeypatch, tmp_path,
                                                                                    capsys):
    # mini_gpt's parts of the play do not depend on --seed: its rows differ in initial weights and dropout only.
    _runs(monkeypatch, splits, {0: _results(2.3, 2.28, "bits", 2.5), 1: _results(2.4, 2.28, "bits", 2.55)})
    fixed = splits.main(["mini_gpt", "--seeds", "0", "1", "--out", str(tmp_path / "fixed.json")])
    assert "mini_gpt over 2 seeds: mean gap -0.0700" in capsys.readouterr().out
    _runs(monkeypatch, splits, {0: _results(0.8, 0.7, validation=0.81), 1: _results(0.7, 0.8, validation=0.72)})
    drawn = splits.main(["some_recipe", "--seeds", "0", "1", "--out", str(tmp_path / "drawn.json")])
    assert (fixed["seed_draws"], drawn["seed_draws"]) == ("weights", "split and weights")
    # The zoo model's validation score is kept beside its test score; its range over seeds, in the summary.
    assert [row["zoo_validation"] for row in fixed["rows"]] == [2.5, 2.55]
    assert fixed["summary"]["zoo_validation_range"] == [2.5, 2.55]
    assert drawn["summary"]["zoo_validation_range"] == [0.72, 0.81]

    def section(report):
        monkeypatch.setattr(zoo_docs, "benchmark_report", lambda name: report)
        return "\n".join(zoo_docs.splits_section(report["recipe"]))

    assert section(fixed).startswith("## On other seeds") and "Over 2 seeds the mean gap is **-0.0700**" in section(
        fixed)
    assert "same train/validation/test parts" in section(fixed) and "draws another" not in section(fixed)
    # On one split the validation spread is the luck the variants were chosen with; over other splits it is not.
    assert "| 0 | 2.3 | 2.28 | -0.0200 | 2.5 |" in section(fixed)
    assert "scored from 2.5 to 2.55: variants closer than 0.05 there may differ by luck alone" in section(fixed)
    assert "zoo on validation" not in section(drawn) and "luck alone" not in section(drawn)
    assert section(drawn).startswith("## On other splits") and "draws another train/validation/test split" in section(
        drawn)
    # Reports written before the field existed drew their splits.
    assert section({key: value for key, value in drawn.items() if key != "seed_draws"}) == section(drawn)


def test_the_default_seeds_are_written_as_the_plain_command(splits, monkeypatch, tmp_path):
    calls = _runs(monkeypatch, splits, {seed: _results(0.5, 0.5) for seed in splits.SEEDS})
    report = splits.main(["some_recipe", "--quick", "--out", str(tmp_path / "r.json")])
    assert [flags for _, flags in calls] == [["--seed", str(seed), "--quick"] for seed in splits.SEEDS]
    assert report["command"] == "python benchmarks/splits.py some_recipe --quick"
    assert report["summary"]["ties"] == len(splits.SEEDS) and report["summary"]["mean_gap_95"] == [0.0, 0.0]


def test_one_split_has_no_interval(splits):
    summary = splits.summary([{"zoo": 0.8, "baseline": 0.7, "gap": 0.1}])
    assert summary["mean_gap"] == 0.1 and "mean_gap_95" not in summary


def test_a_seed_given_twice_is_refused(splits, capsys):
    with pytest.raises(SystemExit) as stopped:
        splits.main(["some_recipe", "--seeds", "1", "2", "1"])
    assert stopped.value.code == 2
    assert "--seeds 1 2 1: each seed once" in capsys.readouterr().err


def test_a_run_without_a_baseline_names_the_recipe(splits, monkeypatch, tmp_path):
    _runs(monkeypatch, splits, {0: {"metrics": {"test_accuracy": 0.9}}})
    with pytest.raises(SystemExit, match="some_recipe's results.json has no baseline number"):
        splits.main(["some_recipe", "--seeds", "0", "--out", str(tmp_path / "r.json")])
    assert not (tmp_path / "r.json").exists()


# ------------------------------------------------------------------------ the committed reports

REPORTS = sorted(RESULTS.glob("splits_*.json"))


def test_the_sentiment_recipes_have_a_committed_report():
    assert {path.stem.removeprefix("splits_") for path in REPORTS} >= {"lstm_sentiment", "mini_transformer"}


@pytest.mark.parametrize("path", REPORTS, ids=[path.stem for path in REPORTS])
def test_a_committed_report_repeats_the_committed_run_and_its_summary_follows_from_its_rows(splits, path):
    report = json.loads(path.read_text())
    recipe = report["recipe"]
    assert not report["quick"] and report["command"] == f"python benchmarks/splits.py {recipe}"
    assert [row["seed"] for row in report["rows"]] == list(splits.SEEDS)
    assert splits.summary(report["rows"]) == report["summary"]
    assert report.get("seed_draws", "split and weights") == splits.seed_draws(recipe)
    assert report["gap"].startswith("zoo minus baseline" if report["higher_is_better"] else "baseline minus zoo")
    # Seed 0 is the committed full default run, run again: the same numbers (the recipes are reproducible).
    committed = json.loads((ROOT / "results" / recipe / "results.json").read_text())
    seed_0 = report["rows"][0]
    zoo_value, baseline_value, higher_is_better, measure = results_lib.versus(committed)
    assert (seed_0["zoo"], seed_0["baseline"]) == (zoo_value, baseline_value)
    if "zoo_validation" in seed_0:   # recorded since 2026-12-07
        assert seed_0["zoo_validation"] == committed["metrics"][splits.VALIDATION_OF[measure]]
    if report.get("seed_draws") == "weights":   # one split: its validation spread is shown, so it must be there
        assert report["summary"]["zoo_validation_range"]
    assert (report["measure"], report["higher_is_better"]) == (measure, higher_is_better)


@pytest.mark.parametrize("path", REPORTS, ids=[path.stem for path in REPORTS])
def test_the_recipe_page_shows_every_split(path, monkeypatch):
    # The figures are drawn after the tests (docs/scripts/figures.py, then the strict build fails without them).
    monkeypatch.setattr(zoo_docs, "figure_link", lambda relative, page_src, alt: f"![{alt}](figures/{relative})")
    report = json.loads(path.read_text())
    text = "\n".join(zoo_docs.splits_section(report["recipe"]))
    for row in report["rows"]:
        assert f"| {row['seed']} | {row['zoo']} | {row['baseline']} | {row['gap']:+.4f} |" in text
    assert f"mean gap is **{report['summary']['mean_gap']:+.4f}**" in text
    assert f"`benchmarks/results/{path.name}`" in text
    what = "seeds" if report.get("seed_draws") == "weights" else "splits"
    assert f"## On other {what}" in zoo_docs.recipe_page(report["recipe"])
    assert f"Over {len(report['rows'])} {what} the mean gap" in text
