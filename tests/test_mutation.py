"""The committed mutation report (benchmarks/mutation.py): consistent, every planted bug caught, and on target."""

import importlib.util
import json
from pathlib import Path

import pytest

pytestmark = pytest.mark.no_keras
ROOT = Path(__file__).resolve().parent.parent


def _benchmark():
    spec = importlib.util.spec_from_file_location("mutation_benchmark", ROOT / "benchmarks" / "mutation.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _report():
    path = ROOT / "benchmarks" / "results" / "mutation.json"
    assert path.exists(), "no benchmarks/results/mutation.json: run python benchmarks/mutation.py"
    return json.loads(path.read_text())


def test_every_planted_bug_still_applies_to_the_code():
    """Each hand-planted bug's original text is still in its file once, and its catching test exists."""
    for what, path, original, buggy, test in _benchmark().PLANTED:
        source = (ROOT / path).read_text()
        assert source.count(original) == 1, f"planted bug {what!r}: {original!r} is no longer once in {path}"
        assert original != buggy
        test_file, _, test_name = test.partition("::")
        assert f"def {test_name.split('[')[0]}(" in (ROOT / test_file).read_text(), f"{test} does not exist"


def test_the_report_shows_every_planted_bug_caught_by_its_test():
    benchmark, report = _benchmark(), _report()
    planted = {bug["bug"]: bug for bug in report["planted"]}
    assert list(planted) == [what for what, *_ in benchmark.PLANTED]
    for what, path, original, buggy, test in benchmark.PLANTED:
        bug = planted[what]
        assert bug["test"] == test and bug["caught"] and bug["pytest_exit_code"] == 1 and bug["failure"], bug


def test_the_report_adds_up_and_its_markdown_is_current():
    benchmark, report = _benchmark(), _report()
    assert set(report["areas"]) | set(report["not_run"]) == set(benchmark.AREAS)
    assert not set(report["areas"]) & set(report["not_run"])
    survivors = {survivor["mutant"] for survivor in report["survivors"]}
    for name, counts in {**report["areas"], **report["modules"]}.items():
        statuses = {k: v for k, v in counts.items()
                    if k not in ("mutants", "score", "score_without_equivalent", "reviewed equivalent")}
        assert counts["mutants"] == sum(statuses.values()) > 0, name
        assert counts["reviewed equivalent"] <= statuses.get("survived", 0), name
        listed = [s for s in survivors if s.startswith(name + ".")]
        assert len(listed) == counts["mutants"] - sum(statuses.get(s, 0) for s in ("killed", "timeout",
                                                                                    "not checked")), name
    for survivor in report["survivors"]:
        assert survivor["diff"], f"{survivor['mutant']}: no diff recorded"
    markdown = (ROOT / "benchmarks" / "results" / "mutation.md").read_text()
    assert markdown == benchmark.markdown(report), "mutation.md is not the report's: python benchmarks/mutation.py --report"


@pytest.mark.xfail(strict=True, reason="not reached yet: zoo.registry, zoo._checks, zoo.runs and zoo.files have not "
                                       "been run, and part of zoo.models and zoo.layers is unchecked "
                                       "(benchmarks/results/mutation.md)")
def test_every_area_was_checked_and_models_and_layers_meet_their_targets():
    benchmark, report = _benchmark(), _report()
    assert not report["not_run"], f"not run yet: {report['not_run']}"
    for area, counts in report["areas"].items():
        assert not counts.get("not checked"), f"{area}: {counts['not checked']} mutants not checked yet"
    for area, target in benchmark.TARGETS.items():
        assert report["areas"][area]["score"] >= target, f"{area}: mutation score {report['areas'][area]['score']}"
