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

DISTRIBUTE = ("auto", "off", "mirrored", "multi_worker")
PRECISIONS = ("float32", "mixed_float16", "mixed_bfloat16")
TUNE = ("off", "random", "hyperband", "bayesian")
_PACKAGES = ("keras", "tensorflow", "jax", "keras-tuner", "tensorflow-datasets", "numpy", "scikit-learn")


def run_folder(out: str | os.PathLike | None, recipe: str) -> Path:
    """``out`` as a Path (created), or ``runs/<recipe>-<timestamp>`` when not given."""
    if out is None:
        out = Path("runs") / f"{recipe}-{datetime.datetime.now():%Y%m%d-%H%M%S}"
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    return out


def standard_callbacks(out: Path, patience: int | None = None, monitor: str = "val_loss", tag: str = ""):
    """History CSV, TensorBoard logs and a backup under ``out``; early stopping when ``patience`` is given.

    ``BackupAndRestore`` saves the state after every epoch into ``out/backup``, so
    a killed run resumes at its last finished epoch when rerun with the same
    ``--out`` (the backup is deleted once training ends). ``tag`` keeps the files
    of several fits in one run apart.
    """
    import keras

    suffix = f"_{tag}" if tag else ""
    backup = out / f"backup{suffix}"
    if not backup.exists():  # a fresh fit, not a resumed one: start the history afresh
        (out / f"history{suffix}.csv").unlink(missing_ok=True)
    callbacks = [
        keras.callbacks.BackupAndRestore(backup_dir=str(backup)),
        keras.callbacks.CSVLogger(str(out / f"history{suffix}.csv"), append=True),
        keras.callbacks.TensorBoard(log_dir=str(out / "logs" / (tag or "fit"))),
    ]
    if patience:
        callbacks.append(keras.callbacks.EarlyStopping(monitor=monitor, patience=patience,
                                                       restore_best_weights=True))
    return callbacks


def strategy(distribute: str):
    """The tf.distribute strategy for ``--distribute``; build and compile inside its ``scope()``.

    ``auto``: MirroredStrategy over all GPUs when there are several, else the default strategy.
    ``off``: the default strategy. ``mirrored``: MirroredStrategy over every local GPU, or every
    logical CPU device when there is no GPU. ``multi_worker``: MultiWorkerMirroredStrategy over the
    cluster in TF_CONFIG (see ``zoo.distributed``; train with ``zoo.distributed.fit``, not ``fit``).
    Other Keras backends have no tf.distribute: there ``auto``/``off`` give a no-op strategy and
    ``mirrored``/``multi_worker`` are refused.
    """
    import contextlib

    import keras

    if distribute not in DISTRIBUTE:
        raise ValueError(f"--distribute={distribute!r} must be one of {', '.join(DISTRIBUTE)}.")
    if keras.backend.backend() != "tensorflow":
        if distribute in ("mirrored", "multi_worker"):
            raise ValueError(f"--distribute={distribute} needs KERAS_BACKEND=tensorflow (now "
                             f"{keras.backend.backend()}); use --distribute auto or off.")

        class _Single:
            num_replicas_in_sync = 1

            def scope(self):
                return contextlib.nullcontext()

        return _Single()
    if distribute == "multi_worker":
        from zoo import distributed

        return distributed.multi_worker_strategy()
    import tensorflow as tf

    gpus = tf.config.list_logical_devices("GPU")
    if distribute == "off" or (distribute == "auto" and len(gpus) < 2):
        return tf.distribute.get_strategy()
    devices = gpus or tf.config.list_logical_devices("CPU")
    return tf.distribute.MirroredStrategy([device.name for device in devices])


def describe_strategy(strategy) -> dict:
    """What results.json records about the distribution: the strategy's class and replica count."""
    name = type(strategy).__name__
    name = {"CollectiveAllReduceStrategy": "MultiWorkerMirroredStrategy"}.get(name, name)  # its public name
    return {"strategy": name, "replicas": int(strategy.num_replicas_in_sync)}


def set_precision(precision: str) -> None:
    """Set the global Keras dtype policy (``mixed_float16`` on GPUs, ``mixed_bfloat16`` on TPUs/new CPUs)."""
    import keras

    if precision not in PRECISIONS:
        raise ValueError(f"--precision={precision!r} must be one of {', '.join(PRECISIONS)}.")
    keras.config.set_dtype_policy(precision)


def plot_curves(out: Path, tag: str = "", title: str = "") -> Path | None:
    """``curves.png``: loss and (when logged) accuracy per epoch, training vs validation, from history.csv."""
    import csv

    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    suffix = f"_{tag}" if tag else ""
    source = out / f"history{suffix}.csv"
    if not source.exists():
        return None
    with source.open() as handle:
        rows = list(csv.DictReader(handle))
    if not rows:
        return None
    metrics = [m for m in ("loss", "accuracy") if m in rows[0]]
    figure, axes = plt.subplots(1, len(metrics), figsize=(5 * len(metrics), 3.6), squeeze=False)
    epochs = [int(row["epoch"]) + 1 for row in rows]
    for axis, metric in zip(axes[0], metrics):
        for prefix, label in (("", "training"), ("val_", "validation")):
            values = [row.get(prefix + metric) for row in rows]
            if all(value not in (None, "", "NA") for value in values):  # CSVLogger writes NA when unlogged
                axis.plot(epochs, [float(value) for value in values], label=label)
        axis.set_xlabel("epoch")
        axis.set_ylabel(metric)
        axis.grid(alpha=0.3)
        axis.legend()
    figure.suptitle(title or out.name)
    figure.tight_layout()
    path = out / f"curves{suffix}.png"
    figure.savefig(path, dpi=100)
    plt.close(figure)
    return path


def epoch_timer():
    """A Keras callback whose ``seconds`` lists every epoch's wall time, for benchmarks.

    Reading the epoch's loss waits for its last step: under JAX, steps run asynchronously.
    """
    import time

    import keras

    class EpochTimer(keras.callbacks.Callback):
        def on_train_begin(self, logs=None):
            self.seconds = []

        def on_epoch_begin(self, epoch, logs=None):
            self.started = time.perf_counter()

        def on_epoch_end(self, epoch, logs=None):
            float((logs or {}).get("loss", 0.0))
            self.seconds.append(time.perf_counter() - self.started)

    return EpochTimer()


def devices() -> list[str]:
    """The devices Keras computes on, e.g. ['cpu:0'] or ['gpu:0', 'gpu:1']."""
    import keras

    try:
        return [str(device) for device in keras.distribution.list_devices()]
    except (RuntimeError, ValueError):
        return ["cpu:0"]


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
        "dtype_policy": keras.config.dtype_policy().name,
        "devices": devices(),
        "machine": {"platform": platform.platform(), "processor": platform.machine(),
                    "cpu_count": os.cpu_count()},
    }


def run_main(main, argv=None) -> int:
    """Run a recipe's ``main`` from the command line: missing data or weights end in one clear line.

    The errors a user fixes outside the code (no network, no local copy, a failed
    tuning trial) are printed as ``error: <message>`` with exit status 1, not as a
    traceback; every other exception propagates unchanged.
    """
    from zoo.data import DataUnavailableError
    from zoo.distributed import ClusterConfigError
    from zoo.tuning import SearchWorkerDone, TrialFailedError
    from zoo.weights import WeightsUnavailableError

    try:
        main(argv)
    except SearchWorkerDone as done:  # a distributed-search worker: the chief reports the results
        print(done, file=sys.stderr)
    except (DataUnavailableError, WeightsUnavailableError, TrialFailedError, ClusterConfigError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    return 0


def write_results(out: Path, recipe: str, flags: dict, metrics: dict, wall_time_s: float, **extra) -> Path:
    """Write ``results.json``: the metrics with every flag, the command and the environment."""
    flags = dict(flags)
    argv = flags.pop("argv", None)
    argv = sys.argv[1:] if argv is None else argv
    results = {
        "recipe": recipe,
        "command": " ".join(["python", "-m", f"recipes.{recipe}", *argv]),
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


def recipe_parser(recipe: str, doc: str, *, epochs: int, batch_size: int | None, learning_rate: float,
                  seed: int, quick_epochs: int, datasets=None, max_trials: int = 10, tunable: bool = True,
                  distributable: bool = True, multi_worker: bool = False,
                  epochs_help: str = "most epochs to train"):
    """An argparse parser with the flags every recipe shares, defaults from the recipe's constants.

    ``batch_size=None`` leaves out --batch-size, ``tunable=False`` --tune/--max-trials
    and ``distributable=False`` --distribute, for recipes where they mean nothing
    (style transfer optimises one image and has no held-out score to tune on).
    ``multi_worker=True`` says the recipe trains through ``zoo.distributed.fit`` under
    ``--distribute multi_worker``; other recipes refuse that value with their name.
    """
    import argparse

    parser = argparse.ArgumentParser(prog=f"python -m recipes.{recipe}", description=doc,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--epochs", type=int, default=epochs, help=epochs_help + " (default: %(default)s)")
    if batch_size is not None:
        parser.add_argument("--batch-size", type=int, default=batch_size,
                            help="examples per step (default: %(default)s)")
    parser.add_argument("--learning-rate", type=float, default=learning_rate,
                        help="Adam step size (default: %(default)s)")
    parser.add_argument("--seed", type=int, default=seed, help="seed for the split, the weights and the shuffling")
    parser.add_argument("--out", default=None, help=f"run folder (default: runs/{recipe}-<timestamp>)")
    parser.add_argument("--quick", action="store_true",
                        help=f"{quick_epochs} epoch(s) on a small budget: a smoke test, not a result")
    if datasets:
        parser.add_argument("--dataset", default=datasets[0],
                            help=f"embedded ({', '.join(datasets)}) or tfds:NAME, online or from "
                                 "TFDS_DATA_DIR (default: %(default)s)")
    if tunable:
        parser.add_argument("--tune", default="off", choices=TUNE,
                            help="search the model's KerasTuner space first, then retrain the best (default: off)")
        parser.add_argument("--max-trials", type=int, default=max_trials,
                            help="trials when tuning (default: %(default)s)")
    if distributable:
        parser.add_argument("--distribute", default="auto", choices=DISTRIBUTE,
                            help="auto: all GPUs when there are several; mirrored: all local devices; "
                                 "multi_worker: the cluster in TF_CONFIG (default: auto)")
    parser.add_argument("--precision", default="float32", choices=PRECISIONS,
                        help="Keras dtype policy (default: float32)")
    parser.set_defaults(quick_epochs=quick_epochs, recipe=recipe, multi_worker_ready=multi_worker)
    return parser


def parse_recipe_args(parser, argv=None):
    """Parse, refuse impossible values with the flag and the value, and apply --quick."""
    args = parser.parse_args(argv)
    import warnings

    # Our tf.data pipelines are shuffled in zoo.data; Keras 3.15 warns that fit's own shuffle flag is ignored.
    warnings.filterwarnings("ignore", message="`shuffle=True` was passed")
    for flag in ("epochs", "batch_size", "max_trials"):
        if getattr(args, flag, 1) < 1:
            parser.error(f"--{flag.replace('_', '-')}={getattr(args, flag)} must be >= 1")
    if not args.learning_rate > 0:
        parser.error(f"--learning-rate={args.learning_rate} must be > 0")
    recipe, multi_worker_ready = vars(args).pop("recipe", "?"), vars(args).pop("multi_worker_ready", False)
    if getattr(args, "distribute", None) == "multi_worker":
        if not multi_worker_ready:
            parser.error(f"--distribute multi_worker is not available in recipes.{recipe}: it trains with "
                         "fit, which fails under MultiWorkerMirroredStrategy on this Keras (keras-team/keras#20585). "
                         "Use --distribute auto or mirrored here, or recipes.mlp for multi-worker training.")
        if getattr(args, "tune", "off") != "off":
            parser.error("--tune with --distribute multi_worker is not supported: spread a search over machines "
                         "with KerasTuner's own distributed mode instead (KERASTUNER_TUNER_ID, KERASTUNER_ORACLE_IP, "
                         "KERASTUNER_ORACLE_PORT; locally: zoo launch --workers 2 --tuning -- recipes.mlp --tune ...).")
    if args.quick:
        args.epochs = args.quick_epochs
    del args.quick_epochs
    args.argv = list(sys.argv[1:] if argv is None else argv)  # for results.json's "command"
    return args
