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


def test_every_module_of_a_measured_area_is_in_the_report():
    """A module added to a measured area shows in the report (not checked yet), instead of being left out."""
    import ast

    benchmark, report = _benchmark(), _report()

    def has_code(module):  # mutmut mutates functions and methods; a package's __init__ may only import
        path = ROOT / (module.replace(".", "/") + ".py")
        path = path if path.exists() else ROOT / module.replace(".", "/") / "__init__.py"
        return any(isinstance(node, (ast.FunctionDef, ast.ClassDef)) for node in ast.walk(ast.parse(path.read_text())))

    missing = [module for module in benchmark.source_digests()
               if benchmark.area_of(module) in report["areas"] and module not in report["modules"] and has_code(module)]
    assert not missing, f"not in the report: {missing}; run python benchmarks/mutation.py AREA"


def test_rewording_a_docstring_or_comment_keeps_a_modules_digest_and_new_code_or_a_pragma_does_not():
    benchmark = _benchmark()
    source = 'def twice(x):\n    """Twice x."""\n    return x * 2  # doubled\n'
    digest = benchmark.mutated_code(source)
    assert benchmark.mutated_code(source.replace("Twice x.", "x, doubled.").replace("doubled\n", "x2\n\n")) == digest
    assert benchmark.mutated_code(source.replace("x * 2", "x * 3")) != digest
    assert benchmark.mutated_code(source.replace("# doubled", "# pragma: no mutate")) != digest   # fewer mutants


def test_a_fresh_clone_goes_on_from_the_committed_statuses(monkeypatch, tmp_path):
    """Without mutants/, a run checks only what the report left unchecked or uncaught, plus modules it does not know
    or whose code changed since; the report's statuses stay in the merged result."""
    benchmark = _benchmark()
    monkeypatch.setattr(benchmark, "MUTANTS", tmp_path / "mutants")  # a fresh clone has none
    digests = benchmark.source_digests()
    old = {"sources": {"zoo.models.mlp": digests["zoo.models.mlp"], "zoo.models.gpt": "the digest of older code"},
           "mutants_by_module": {"zoo.models.mlp": {"killed": ["x_a__mutmut_1"], "survived": ["x_a__mutmut_2"],
                                                    "not checked": ["x_a__mutmut_3"]},
                                 "zoo.models.gpt": {"killed": ["x_b__mutmut_1"]}}}
    kept = benchmark.recorded(old)
    assert kept == {"zoo.models.mlp.x_a__mutmut_1": "killed", "zoo.models.mlp.x_a__mutmut_2": "survived",
                    "zoo.models.mlp.x_a__mutmut_3": "not checked"}
    assert benchmark.to_check(["zoo.models.mlp"], False, kept) == ["zoo.models.mlp.x_a__mutmut_2",
                                                                   "zoo.models.mlp.x_a__mutmut_3"]
    everything = benchmark.to_check(["zoo.models"], False, kept)
    assert "zoo.models.gpt.x*" in everything and "zoo.models.mlp.x*" not in everything
    assert "zoo.models.mlp.x_a__mutmut_1" not in everything
    assert benchmark.to_check(["zoo.models.mlp"], True, kept) == ["zoo.models.mlp.*"]
    fresh = {"zoo.models.mlp.x_a__mutmut_1": "not checked", "zoo.models.mlp.x_a__mutmut_3": "survived"}
    assert benchmark.merged(kept, fresh) == {**kept, "zoo.models.mlp.x_a__mutmut_3": "survived"}


def test_the_recorded_statuses_rebuild_the_report_rows(monkeypatch, tmp_path):
    """What a fresh clone rebuilds from the committed statuses is the committed report, module by module
    (modules whose code changed since are left out: a run measures them again)."""
    benchmark, report = _benchmark(), _report()
    monkeypatch.setattr(benchmark, "MUTANTS", tmp_path / "mutants")

    def no_mutmut(name):
        raise AssertionError(f"{name}: its diff should come from the report")

    monkeypatch.setattr(benchmark, "diff_of", no_mutmut)
    kept = benchmark.recorded(report)
    found = benchmark.merged(kept, {})
    rebuilt = benchmark.summarise(found, benchmark.REVIEWED, benchmark.carried_over(report, found),
                                  {s["mutant"]: s["diff"] for s in report["survivors"] if s["mutant"] in kept})
    stale = benchmark.stale(report)
    current = [module for module in report["modules"] if module not in stale]
    assert current, "no module of the report was measured on this checkout's code"
    for module in current:
        assert rebuilt["modules"][module] == report["modules"][module], module
        assert rebuilt["mutants_by_module"][module] == report["mutants_by_module"][module], module
    assert [s for s in rebuilt["survivors"] if s["mutant"].rsplit(".", 1)[0] in current] == [
        s for s in report["survivors"] if s["mutant"].rsplit(".", 1)[0] in current]


def test_every_area_was_checked_and_models_and_layers_meet_their_targets():
    benchmark, report = _benchmark(), _report()
    assert not report["not_run"], f"not run yet: {report['not_run']}"
    assert not benchmark.stale(report), f"measured on other code than this checkout's: {benchmark.stale(report)}"
    for area, counts in report["areas"].items():
        assert not counts.get("not checked"), f"{area}: {counts['not checked']} mutants not checked yet"
    for area, target in benchmark.TARGETS.items():
        assert report["areas"][area]["score"] >= target, f"{area}: mutation score {report['areas'][area]['score']}"
