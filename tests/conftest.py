"""Shared test setup: a clean Keras state and fixed seeds for every test, and one quick run per recipe."""

import contextlib
import io
import os
import time

import pytest

# Quiet TensorFlow's C++ start-up chatter in test logs.
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")


def pytest_report_header(config):
    return f"KERAS_BACKEND={os.environ.get('KERAS_BACKEND', 'tensorflow (default)')}"


@pytest.fixture(autouse=True)
def clean_keras_state(request):
    """Clear Keras's global state and seed every RNG, for tests that use Keras."""
    if "no_keras" in request.keywords:
        yield
        return
    import keras

    keras.backend.clear_session()
    keras.utils.set_random_seed(0)
    yield
    keras.backend.clear_session()
    keras.config.set_dtype_policy("float32")  # recipes' --precision sets a global policy


# The quick runs of this process, kept past the fixture's teardown: a pytest-xdist worker tears session
# fixtures down whenever it runs out of queued tests for a moment, and would train them all again.
_QUICK_RUNS: dict = {}


@pytest.fixture(scope="session")
def quick_runs(tmp_path_factory):
    """recipe name -> (run folder, value returned by main, seconds): one ``--quick`` run each, made once.

    Shared by the tests that read run folders (recipes, predict, export, model cards), so each test
    process trains each quick run once (with -n 2, each worker that reaches such a test). Each folder also
    keeps what the run printed, in ``.stdout``. The folders live in the session's temporary directory, so
    a second request of the fixture in the same process reuses them.
    """
    if _QUICK_RUNS:
        return _QUICK_RUNS
    import importlib

    import keras

    from zoo.recipes import summaries

    runs = {}
    for name in summaries():
        keras.backend.clear_session()
        keras.config.set_dtype_policy("float32")
        out = tmp_path_factory.mktemp(name)
        started = time.perf_counter()
        printed = io.StringIO()
        with contextlib.redirect_stdout(printed):
            value = importlib.import_module(f"zoo.recipes.{name}").main(["--quick", "--out", str(out)])
        runs[name] = (out, value, time.perf_counter() - started)
        (out / ".stdout").write_text(printed.getvalue())
    keras.backend.clear_session()
    keras.config.set_dtype_policy("float32")
    _QUICK_RUNS.update(runs)
    return _QUICK_RUNS
