"""pytest plugin for the mutation runs (benchmarks/mutation.py): lets Keras read mutated ``__init__`` signatures.

mutmut swaps each mutated function for a trampoline made with ``functools.wraps``.
``inspect.signature`` follows the trampoline's ``__wrapped__`` to the real
signature, but ``inspect.getfullargspec`` does not, and Keras's
``Operation.__new__`` reads both to build a layer's default config: for a zoo
layer's trampolined ``__init__`` it sees no arguments and fails with
``IndexError`` before any test can tell a mutant from the original. This plugin
makes ``getfullargspec`` look through mutmut's trampolines, and through
nothing else. Loaded only by the mutation runs (``[tool.mutmut]`` in
pyproject.toml); the test suite never sees it.

Some tests start Python processes (a reload in a fresh process, every recipe
run in the run-layer tests). They inherit ``MUTANT_UNDER_TEST``; the plugin also
puts the mutated copy of the package first on their ``PYTHONPATH`` (ahead of the
editable install, which points at the unmutated source) with a ``sitecustomize``
that applies the same fix, so a mutant is tested the same way in and out of
process. During mutmut's stats pass the children also report which functions
they reached (``ZOO_MUTMUT_HITS``, a folder per test): without that, a function
that only a recipe run in a child process reaches would count as reached by no
test, and its mutants as survivors.
"""

import functools
import inspect
import os
from pathlib import Path

import pytest

_getfullargspec = inspect.getfullargspec


def _is_mutmut_trampoline(function):
    code = getattr(function, "__code__", None)
    return code is not None and code.co_name == "_trampoline_wrapper" and hasattr(function, "__wrapped__")


@functools.wraps(_getfullargspec)
def getfullargspec(function):
    while _is_mutmut_trampoline(function):
        function = function.__wrapped__
    return _getfullargspec(function)


inspect.getfullargspec = getfullargspec


_MUTATED_ROOT = Path(__file__).resolve().parent.parent  # mutants/, the mutated copy mutmut runs in
_SITE = Path(__file__).resolve().parent / "mutation_site"
_paths = [p for p in os.environ.get("PYTHONPATH", "").split(os.pathsep) if p]
os.environ["PYTHONPATH"] = os.pathsep.join(
    [str(_MUTATED_ROOT), str(_SITE)] + [p for p in _paths if p not in (str(_MUTATED_ROOT), str(_SITE))]
)


def _recorded_durations() -> dict:
    """Each test's seconds from mutmut's stats pass (mutants/mutmut-stats.json), or {} before it exists."""
    import json

    try:
        return json.loads((_MUTATED_ROOT / "mutmut-stats.json").read_text()).get("duration_by_test", {})
    except (OSError, ValueError):
        return {}


def pytest_collection_modifyitems(session, config, items):
    """Run a mutant's tests fastest first.

    mutmut runs the tests that reach a mutant with ``-x`` in the order it lists them (a set's order),
    so a mutant that a 1-second test kills could first wait for a 2-minute one. Sorting by the stats
    pass's durations changes no verdict (the same tests run until the first failure; the suite's
    tests do not depend on their order, CI runs them spread over xdist workers) and only how soon a
    killed mutant stops. Tests the stats pass did not time keep their place after the timed ones.
    """
    if not os.environ.get("MUTANT_UNDER_TEST") or os.environ["MUTANT_UNDER_TEST"] in ("stats", "fail"):
        return
    durations = _recorded_durations()
    if durations:
        items.sort(key=lambda item: durations.get(item.nodeid, float("inf")))


def _collecting_stats() -> bool:
    return os.environ.get("MUTANT_UNDER_TEST") == "stats"


def _add_child_hits() -> None:
    """Add what the test's child processes reached so far to mutmut's record of the running test."""
    folder = os.environ.get("ZOO_MUTMUT_HITS")
    if not (_collecting_stats() and folder):
        return
    from mutmut.state import state

    for hits in Path(folder).glob("*.txt"):
        state()._stats.update(line for line in hits.read_text(encoding="utf-8").splitlines() if line)
        hits.unlink()


# mutmut's stats collector reads its record in pytest_runtest_teardown; the children a test's
# fixtures and body start have reported by the end of its setup and call phases.
@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_setup(item):
    """During the stats pass, give each test a folder where the processes it starts list what they ran."""
    if _collecting_stats():
        import tempfile

        os.environ["ZOO_MUTMUT_HITS"] = tempfile.mkdtemp(prefix="zoo-mutmut-hits-")
    yield
    _add_child_hits()


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_call(item):
    yield
    _add_child_hits()


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_teardown(item, nextitem):
    yield
    folder = os.environ.pop("ZOO_MUTMUT_HITS", None)
    if folder:
        import shutil

        shutil.rmtree(folder, ignore_errors=True)
