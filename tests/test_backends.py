"""The registry-wide test again under the JAX backend: the models are backend-agnostic."""

import importlib.metadata
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


@pytest.mark.timeout(900)  # the pass below gets 900 s, beyond pytest's default 600
@pytest.mark.parametrize("backend", ["jax"])
def test_registry_wide_test_passes_under(backend):
    # The test extra installs it (test_jax_is_in_the_test_extra): missing is a broken install, never a skip.
    assert importlib.util.find_spec(backend), f'{backend} is in the test extra but not installed: pip install -e ".[test]"'
    tests = Path(__file__).parent
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", str(tests / "test_models.py"),
         str(tests / "test_behaviour.py")],
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
