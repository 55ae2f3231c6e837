"""Shared test setup: a clean Keras state and fixed seeds for every test, one quick run per recipe, and the
benchmark scripts imported as modules."""

import contextlib
import importlib
import io
import json
import os
import sys
from collections.abc import Mapping
from pathlib import Path

import pytest

# Quiet TensorFlow's C++ start-up chatter in test logs.
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")


def pytest_addoption(parser):
    parser.addoption("--browser", action="store_true",
                     help="also run the tests marked 'browser', which drive Debian's Chromium (apt-get install -y "
                          "chromium). .ci/run installs it and runs them with the site check.")


def pytest_report_header(config):
    browser = ("run (--browser)" if config.getoption("--browser") else
               "left out: they need Debian's chromium; `python -m pytest --browser -m browser` runs them (.ci/run "
               "does, after installing it)")
    return [f"KERAS_BACKEND={os.environ.get('KERAS_BACKEND', 'tensorflow (default)')}", f"browser tests: {browser}"]


def pytest_collection_modifyitems(config, items):
    """Leave the browser tests to `--browser`: the README's test command installs Python packages only."""
    if config.getoption("--browser"):
        chromium = _site_check_chromium()
        if not Path(chromium).is_file():
            raise pytest.UsageError(f"--browser needs {chromium}, which is missing; install Debian's chromium: "
                                    "apt-get install -y chromium")
        return
    browser = [item for item in items if "browser" in item.keywords]
    if browser:
        config.hook.pytest_deselected(items=browser)
        items[:] = [item for item in items if "browser" not in item.keywords]


def _site_check_chromium() -> str:
    """The Chromium binary docs/scripts/check_site.py drives (read only with --browser: the script imports zoo_docs)."""
    import sys

    sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "docs" / "scripts"))
    import check_site

    return check_site.CHROMIUM


BENCHMARKS = Path(__file__).resolve().parents[1] / "benchmarks"


@contextlib.contextmanager
def _benchmark_scripts(*names):
    """benchmarks/ scripts imported as modules, the way they import each other (from their folder); forgotten
    afterwards, with the helper modules they import, so the next import reads them afresh."""
    sys.path.insert(0, str(BENCHMARKS))
    try:
        yield tuple(importlib.import_module(name) for name in names)
    finally:
        sys.path.remove(str(BENCHMARKS))
        for name in (*names, "recipe_runs", "machine"):
            sys.modules.pop(name, None)


@pytest.fixture(scope="session")
def benchmark_scripts():
    """``with benchmark_scripts("splits") as (splits,): ...``: see ``_benchmark_scripts``."""
    return _benchmark_scripts


@pytest.fixture
def ascii_locale_env():
    """The environment of a child Python whose open() defaults to ASCII: the C locale, UTF-8 mode and coercion off."""
    return {**os.environ, "LC_ALL": "C", "PYTHONUTF8": "0", "PYTHONCOERCECLOCALE": "0"}


@pytest.fixture(autouse=True)
def clean_keras_state(request):
    """Clear Keras's global state and seed every RNG, for tests that use Keras."""
    if "no_keras" in request.keywords:
        yield
        return
    import keras

    # free_memory=False: Keras's own gc.collect() costs about 0.2 s in a test process (half a million
    # objects), twice per test over some 800 tests; Python's collector frees the old models as it runs.
    keras.backend.clear_session(free_memory=False)
    keras.utils.set_random_seed(0)
    yield
    keras.backend.clear_session(free_memory=False)
    keras.config.set_dtype_policy("float32")  # recipes' --precision sets a global policy


# The quick runs this process has read, kept past the fixture's teardown: a pytest-xdist worker tears session
# fixtures down whenever it runs out of queued tests for a moment.
_QUICK_RUNS: dict = {}


class QuickRuns(Mapping):
    """recipe name -> (run folder, value returned by main): one ``--quick`` run each, made on demand.

    A run is made the first time a test asks for it, by whichever pytest-xdist worker asks
    first; the others wait for it (a file lock per recipe) and read the same folder, so each
    quick run is trained once per test session, not once per worker. Each folder also keeps
    what the run printed, in ``.stdout``. Tests read the folders and never change them (copy
    a folder first to change it). The value is main's return value when it is JSON (the
    recipes' test metrics), else None.
    """

    def __init__(self, root: Path):
        from zoo.recipes import summaries

        self.root, self.names = root, list(summaries())

    def __getitem__(self, name):
        if name not in self.names:
            raise KeyError(f"no recipe {name!r}; recipes: {', '.join(self.names)}")
        if name not in _QUICK_RUNS:
            _QUICK_RUNS[name] = self._made(name)
        return _QUICK_RUNS[name]

    def __iter__(self):
        return iter(self.names)

    def __len__(self):
        return len(self.names)

    def _made(self, name):
        from filelock import FileLock

        out, record = self.root / name, self.root / f"{name}.json"
        with FileLock(str(self.root / f"{name}.lock")):
            if not record.exists():
                from zoo.files import atomic_write_json

                atomic_write_json(record, _quick_run(name, out))
        made = json.loads(record.read_text())
        return out, made["value"]


def _quick_run(name: str, out: Path) -> dict:
    """Run ``zoo.recipes.<name> --quick --out out`` in this process; what it returned (untimed: the suite's workers
    share the machine, so benchmarks/quick_runs.py times each --quick alone)."""
    import importlib

    import keras

    keras.backend.clear_session()
    keras.config.set_dtype_policy("float32")
    printed = io.StringIO()
    try:
        with contextlib.redirect_stdout(printed):
            value = importlib.import_module(f"zoo.recipes.{name}").main(["--quick", "--out", str(out)])
    finally:
        keras.backend.clear_session()
        keras.config.set_dtype_policy("float32")
    (out / ".stdout").write_text(printed.getvalue())
    try:
        json.dumps(value)
    except TypeError:
        value = None
    return {"value": value}


@pytest.fixture(scope="session")
def quick_runs(tmp_path_factory):
    """The session's quick runs (``QuickRuns``), shared by the tests that read run folders (recipes, predict,
    export, model cards, generate) and by every pytest-xdist worker of the session."""
    worker, session = os.environ.get("PYTEST_XDIST_WORKER"), os.environ.get("PYTEST_XDIST_TESTRUNUID")
    # Under xdist each worker has its own basetemp inside the session's: the runs go beside them.
    root = (tmp_path_factory.getbasetemp().parent / f"quick-runs-{session}" if worker and session
            else tmp_path_factory.getbasetemp() / "quick-runs")
    root.mkdir(parents=True, exist_ok=True)
    return QuickRuns(root)
