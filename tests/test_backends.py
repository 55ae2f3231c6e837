"""The registry-wide test again under the JAX backend: the models are backend-agnostic."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.no_keras


@pytest.mark.parametrize("backend", ["jax"])
def test_registry_wide_test_passes_under(backend):
    pytest.importorskip(backend, reason=f"the dev extra installs {backend}")
    tests = Path(__file__).parent
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", str(tests / "test_models.py"),
         str(tests / "test_behaviour.py")],
        capture_output=True, text=True, timeout=900, cwd=tests.parent,
        env={**os.environ, "KERAS_BACKEND": backend},
    )
    assert f"KERAS_BACKEND={backend}" in done.stdout
    assert done.returncode == 0, done.stdout[-6000:] + done.stderr[-2000:]
