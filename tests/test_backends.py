"""The registry-wide test again under the JAX backend, and one recipe end to end: not TensorFlow-only."""

import importlib.metadata
import json
import importlib.util
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from packaging.requirements import Requirement

pytestmark = pytest.mark.no_keras


def declared_by_test_extra(package: str) -> bool:
    """Whether ``pip install -e ".[test]"`` (the README's test setup) declares ``package``."""
    for line in importlib.metadata.requires("keras-zoo") or []:
        requirement = Requirement(line)
        if requirement.name == package and requirement.marker and requirement.marker.evaluate({"extra": "test"}):
            return True
    return False


# The registry-wide tests (test_models.py, test_behaviour.py) in two parts of about equal time, so that
# pytest-xdist's two workers can run them side by side: building, training, saving and reloading every
# entry with the behaviour tests; everything else of test_models.py. One test is left to the
# TensorFlow pass (and the torch pass of .ci/run leaves it out too): every value of every search space
# building a model (SEARCH_VALUES). Those values are plain arguments of the factories, the same under any
# backend; what a backend changes, building, training, saving, mixed precision, is all checked here.
# It took 130 s of this pass's 560 in CI.
RELOADS = "tests/test_models.py::test_entry_builds_learns_and_reloads"
SEARCH_VALUES = "tests/test_models.py::test_every_value_of_the_search_space_builds_and_runs"
PARTS = {"learn-and-reload": [RELOADS, "tests/test_behaviour.py"],
         "the-rest": ["tests/test_models.py", "--deselect", RELOADS, "--deselect", SEARCH_VALUES]}


@pytest.mark.timeout(900)  # each part gets 900 s, beyond pytest's default 600
@pytest.mark.parametrize("part", list(PARTS))
@pytest.mark.parametrize("backend", ["jax"])
def test_registry_wide_test_passes_under(backend, part):
    # The test extra installs it (test_jax_is_in_the_test_extra): missing is a broken install, never a skip.
    assert importlib.util.find_spec(backend), f'{backend} is in the test extra but not installed: pip install -e ".[test]"'
    tests = Path(__file__).parent
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", *PARTS[part]],
        capture_output=True, text=True, timeout=900, cwd=tests.parent,
        env={**os.environ, "KERAS_BACKEND": backend},
    )
    assert f"KERAS_BACKEND={backend}" in done.stdout
    assert done.returncode == 0, done.stdout[-6000:] + done.stderr[-2000:]
    # The pass counts only if the tests ran: a skip under this backend would hide what it is for.
    summary = done.stdout.strip().splitlines()[-1]
    assert re.search(r"\d+ passed", summary) and "skipped" not in summary, done.stdout[-6000:]


def test_jax_is_in_the_test_extra():
    """The JAX pass above runs in CI because the test extra installs JAX; keep it there."""
    assert declared_by_test_extra("jax")


@pytest.mark.timeout(300)
def test_a_recipe_runs_end_to_end_under_jax(tmp_path):
    """mlp --quick under KERAS_BACKEND=jax: the run layer (checkpoints, results, card, saved model) is backend-agnostic."""
    out = tmp_path / "run"
    done = subprocess.run([sys.executable, "-m", "zoo.recipes.mlp", "--quick", "--out", str(out)],
                          capture_output=True, text=True, timeout=300, env={**os.environ, "KERAS_BACKEND": "jax"})
    assert done.returncode == 0, done.stderr[-3000:]
    results = json.loads((out / "results.json").read_text())
    assert results["environment"]["keras_backend"] == "jax"
    # Ten classes (chance 0.1); three quick epochs reach about 0.92 under either backend.
    assert results["metrics"]["test_accuracy"] > 0.8, results["metrics"]
    assert (out / "model.keras").is_file() and (out / "MODEL_CARD.md").is_file()
    assert not (out / "checkpoints").exists()


TORCH_PASS = 'pip install -e ".[torch]" && KERAS_BACKEND=torch python -m pytest'


def test_the_torch_pass_has_its_own_extra_and_runs_in_ci():
    """torch stays out of the main install and the test/dev extras; .ci/run runs the README's torch pass."""
    root = Path(__file__).resolve().parent.parent
    declared = {}
    for line in importlib.metadata.requires("keras-zoo") or []:
        requirement = Requirement(line)
        for extra in ("", "test", "dev", "torch"):
            if requirement.name == "torch" and (
                    requirement.marker.evaluate({"extra": extra}) if requirement.marker else True):
                declared.setdefault(requirement.name, set()).add(extra)
    assert declared == {"torch": {"torch"}}, f"torch must be in the torch extra only, found in {declared}"
    readme, ci = (root / "README.md").read_text(), (root / ".ci" / "run").read_text()
    readme_command = next(line for line in readme.splitlines() if line.startswith(TORCH_PASS))
    # .ci/run installs first, then runs the same tests in the background while it builds the site.
    install, _, run = TORCH_PASS.partition(" && ")
    assert install in ci.splitlines(), f".ci/run does not run {install!r} on a line of its own"
    ci_command = next(line for line in ci.splitlines() if line.startswith(run))
    tested = re.findall(r"tests/\S+\.py", readme_command)
    assert tested == ["tests/test_models.py", "tests/test_behaviour.py"] == re.findall(r"tests/\S+\.py", ci_command)
