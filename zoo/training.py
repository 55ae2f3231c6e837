"""Thin glue around ``fit`` for the recipes: run folders, standard callbacks, results.json.

No Trainer class: recipes call ``model.compile``/``model.fit`` themselves and
use these helpers for the parts every run shares.
"""

from __future__ import annotations

import datetime
import json
import os
import platform
import sys
from importlib import metadata
from pathlib import Path

_PACKAGES = ("keras", "tensorflow", "jax", "keras-tuner", "tensorflow-datasets", "numpy", "scikit-learn")


def run_folder(out: str | os.PathLike | None, recipe: str) -> Path:
    """``out`` as a Path (created), or ``runs/<recipe>-<timestamp>`` when not given."""
    if out is None:
        out = Path("runs") / f"{recipe}-{datetime.datetime.now():%Y%m%d-%H%M%S}"
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    return out


def standard_callbacks(out: Path, patience: int | None = None, monitor: str = "val_loss"):
    """History CSV and TensorBoard logs under ``out``; early stopping when ``patience`` is given."""
    import keras

    callbacks = [
        keras.callbacks.CSVLogger(str(out / "history.csv")),
        keras.callbacks.TensorBoard(log_dir=str(out / "logs")),
    ]
    if patience:
        callbacks.append(keras.callbacks.EarlyStopping(monitor=monitor, patience=patience,
                                                       restore_best_weights=True))
    return callbacks


def environment() -> dict:
    """Package versions, Keras backend and the machine: what a reader needs to reproduce a number."""
    import keras

    versions = {}
    for package in _PACKAGES:
        try:
            versions[package] = metadata.version(package)
        except metadata.PackageNotFoundError:
            pass
    return {
        "python": sys.version.split()[0],
        "packages": versions,
        "keras_backend": keras.backend.backend(),
        "machine": {"platform": platform.platform(), "processor": platform.machine(),
                    "cpu_count": os.cpu_count()},
    }


def write_results(out: Path, recipe: str, flags: dict, metrics: dict, wall_time_s: float, **extra) -> Path:
    """Write ``results.json``: the metrics with every flag, the command and the environment."""
    results = {
        "recipe": recipe,
        "command": " ".join([Path(sys.executable).name, "-m", f"recipes.{recipe}", *sys.argv[1:]]),
        "flags": flags,
        "metrics": metrics,
        "wall_time_s": round(wall_time_s, 2),
        "finished": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        **extra,
        "environment": environment(),
    }
    path = out / "results.json"
    path.write_text(json.dumps(results, indent=2, default=str) + "\n")
    return path
