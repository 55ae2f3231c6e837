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


def recipe_parser(recipe: str, doc: str, *, epochs: int, batch_size: int, learning_rate: float,
                  seed: int, quick_epochs: int):
    """An argparse parser with the flags every recipe shares, defaults from the recipe's constants."""
    import argparse

    parser = argparse.ArgumentParser(prog=f"python -m recipes.{recipe}", description=doc,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--epochs", type=int, default=epochs, help="most epochs to train (default: %(default)s)")
    parser.add_argument("--batch-size", type=int, default=batch_size, help="examples per step (default: %(default)s)")
    parser.add_argument("--learning-rate", type=float, default=learning_rate,
                        help="Adam step size (default: %(default)s)")
    parser.add_argument("--seed", type=int, default=seed, help="seed for the split, the weights and the shuffling")
    parser.add_argument("--out", default=None, help=f"run folder (default: runs/{recipe}-<timestamp>)")
    parser.add_argument("--quick", action="store_true", help=f"{quick_epochs} epochs: a smoke test, not a result")
    parser.set_defaults(quick_epochs=quick_epochs)
    return parser


def parse_recipe_args(parser, argv=None):
    """Parse, refuse impossible values with the flag and the value, and apply --quick."""
    args = parser.parse_args(argv)
    for flag in ("epochs", "batch_size"):
        if getattr(args, flag) < 1:
            parser.error(f"--{flag.replace('_', '-')}={getattr(args, flag)} must be >= 1")
    if not args.learning_rate > 0:
        parser.error(f"--learning-rate={args.learning_rate} must be > 0")
    if args.quick:
        args.epochs = args.quick_epochs
    del args.quick_epochs
    return args


def stratified_splits(features, labels, seed: int, test_fraction: float = 0.2, validation_fraction: float = 0.1):
    """(train, validation, test) pairs with the class balance of the whole set in each."""
    from sklearn.model_selection import train_test_split

    x_train, x_test, y_train, y_test = train_test_split(
        features, labels, test_size=test_fraction, stratify=labels, random_state=seed)
    x_train, x_val, y_train, y_val = train_test_split(
        x_train, y_train, test_size=validation_fraction, stratify=y_train, random_state=seed)
    return (x_train, y_train), (x_val, y_val), (x_test, y_test)
