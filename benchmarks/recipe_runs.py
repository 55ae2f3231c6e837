"""One recipe run in a temporary folder, for the benchmark scripts: its results.json and its wall seconds."""

from __future__ import annotations

import importlib
import json
import tempfile
import time
from pathlib import Path


def run(recipe: str, flags: list[str]) -> tuple[dict, float]:
    """``python -m zoo.recipes.<recipe> FLAGS --out <temporary folder>`` in this process; (results, seconds)."""
    module = importlib.import_module(f"zoo.recipes.{recipe}")
    with tempfile.TemporaryDirectory(prefix=f"bench-{recipe}-") as folder:
        started = time.perf_counter()
        module.main([*flags, "--out", folder])
        seconds = time.perf_counter() - started
        return json.loads((Path(folder) / "results.json").read_text()), seconds
