"""One ``Run`` per recipe run: its folder, lock, flags, seed, precision, strategy, training and results.

    with Run("mlp", args) as run:
        digits = data.load(args.dataset, seed=args.seed)
        model = build(...)                          # inside run.scope(): the --distribute strategy
        fitted = run.fit(model, digits, batch_size=args.batch_size, epochs=args.epochs, patience=30)
        metrics = run.evaluate(model, digits)      # the test split, once, at the end
        run.save_model(model)
        run.finish(metrics, headline=f"test accuracy {metrics['test_accuracy']:.4f}")

What a run folder promises:

- **One run at a time.** The folder is locked (``fcntl.flock`` on ``.lock``) for the
  whole run; a second run on it stops at once, naming the folder and the other process.
- **Its flags.** ``run.json`` records the flags at the start. Rerunning with the same
  ``--out`` and the same flags resumes; other flags are refused with the differences
  listed; ``--overwrite`` starts again.
- **Finished means finished.** A folder holding ``results.json`` is not trained again
  unless ``--overwrite`` says so.
- **Nothing half-written.** Every file appears by rename (``zoo.files``); training state
  is checkpointed every epoch (``zoo.callbacks.RunCheckpoint``), so a run killed at any
  moment and rerun ends with the result an uninterrupted run gives.
- **Diverged is not finished.** A NaN loss stops the run with ``TrainingDivergedError``;
  no model or results are written as if it were good.
"""

from __future__ import annotations

import dataclasses
import datetime
import json
import os
import platform
import shlex
import shutil
import sys
import time
from importlib import metadata
from pathlib import Path

from zoo import fingerprint
from zoo.errors import RunFolderError, TrainingDivergedError, arguments_as_flags
from zoo.files import atomic_path, atomic_write_json

_PACKAGES = ("keras", "tensorflow", "jax", "keras-tuner", "tensorflow-datasets", "numpy", "scikit-learn")
# Flags that say where and how to run, not what: they may differ between a run and its resume.
_NOT_COMPARED = ("out", "overwrite", "argv")
RUN_FILE = "run.json"
RESULTS_FILE = "results.json"


@dataclasses.dataclass
class Fitted:
    """What one training (``Run.fit``) did, restored epochs included."""

    rows: list            # every epoch's logs, e.g. {"epoch": 0, "loss": ..., "val_loss": ...}
    seconds: float        # training time, summed over every session that trained it
    best_epoch: int | None = None   # 1-based epoch whose weights were kept (early stopping)
    value: object = None            # what the training function returned (Run.train)

    @property
    def epochs_run(self) -> int:
        return len(self.rows)


class Run:
    """A recipe run's life: see the module docstring. Use as a context manager."""

    def __init__(self, recipe: str, args):
        self.recipe, self.args = recipe, args
        self.flags = {key: value for key, value in vars(args).items() if key not in _NOT_COMPARED}
        self.folder = Path(args.out) if getattr(args, "out", None) else (
            Path("runs") / f"{recipe}-{datetime.datetime.now():%Y%m%d-%H%M%S}")
        self.cluster = None        # zoo.distributed.Cluster under --distribute multi_worker
        self.is_chief = True       # the process that writes results.json
        self.trials = None
        self.best_hyperparameters = None
        self._fits: list = []
        self._epoch_seconds: dict = {}   # tag -> wall seconds of each epoch this process trained
        self._lock_handle = None

    # ------------------------------------------------------------------ the folder

    def __enter__(self) -> Run:
        from zoo import distributed, tuning

        if getattr(self.args, "distribute", None) == "multi_worker":
            self.cluster = distributed.cluster_from_env()
            self.is_chief = self.cluster.is_chief
            worker_name = self.cluster.name
        else:
            role = tuning.distributed_role() if getattr(self.args, "tune", "off") != "off" else None
            self.is_chief = role != "worker"
            worker_name = os.environ.get("KERASTUNER_TUNER_ID", "")
        # Other processes of a cluster share --out and keep what is theirs in workers/<name>.
        self.own_folder = self.folder if self.is_chief else self.folder / "workers" / worker_name
        self.own_folder.mkdir(parents=True, exist_ok=True)
        self._lock()
        try:
            if self.is_chief:
                self._claim()
            self._set_up()
        except BaseException:
            self._unlock()
            raise
        self.started = time.perf_counter()
        self._flags_spelling = arguments_as_flags()   # messages say --weights, not weights=
        self._flags_spelling.__enter__()
        return self

    def __exit__(self, *exc_info) -> None:
        self._flags_spelling.__exit__(*exc_info)
        self._unlock()

    def _lock(self) -> None:
        import fcntl

        handle = open(self.own_folder / ".lock", "a+")
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.seek(0)
            holder = handle.read().strip() or "another process"
            handle.close()
            raise RunFolderError(f"{self.own_folder} is in use by another run ({holder}); wait for it to end, "
                                 "or choose another --out.") from None
        handle.seek(0)
        handle.truncate()
        handle.write(f"pid {os.getpid()}, `{self.command}`, since {datetime.datetime.now():%Y-%m-%d %H:%M:%S}")
        handle.flush()
        self._lock_handle = handle  # held until the process ends: a SIGKILL releases it too

    def _unlock(self) -> None:
        if self._lock_handle is not None:
            self._lock_handle.close()
            self._lock_handle = None

    @property
    def command(self) -> str:
        argv = getattr(self.args, "argv", None)
        argv = sys.argv[1:] if argv is None else argv
        return shlex.join(["python", "-m", f"zoo.recipes.{self.recipe}", *argv])

    def _claim(self) -> None:
        """Start, resume or refuse, from what the folder holds (see the module docstring)."""
        folder, overwrite = self.folder, getattr(self.args, "overwrite", False)
        entries = sorted(path.name for path in folder.iterdir()
                         if not path.name.startswith(".") and path.name != "workers")
        results, started = folder / RESULTS_FILE, folder / RUN_FILE
        if (results.exists() or started.exists()) and overwrite:
            self._clear()
        elif results.exists():
            # Checkpoints left by a kill between writing the results and removing them are of no more use.
            shutil.rmtree(folder / "checkpoints", ignore_errors=True)
            raise RunFolderError(f"{folder} holds a finished run ({RESULTS_FILE}); pass --overwrite to train "
                                 "again in it (its files are replaced), or choose another --out.")
        elif started.exists():
            self._check_flags(started)
            print(f"resuming the run in {folder}", file=sys.stderr, flush=True)
            return
        elif entries:
            shown = ", ".join(entries[:5]) + (", ..." if len(entries) > 5 else "")
            raise RunFolderError(f"--out={folder} holds other files ({shown}) and no run; choose a new or empty "
                                 "folder.")
        atomic_write_json(started, {"recipe": self.recipe, "command": self.command, "flags": self.flags,
                                    "started": _now()})

    def _check_flags(self, started: Path) -> None:
        try:
            recorded = json.loads(started.read_text())["flags"]
        except (OSError, ValueError, KeyError, TypeError) as error:
            raise RunFolderError(f"{started} cannot be read ({error}); pass --overwrite to start the run "
                                 "again, or choose another --out.") from None
        now = json.loads(json.dumps(self.flags, default=str))  # as stored: tuples become lists
        changed = [f"--{key.replace('_', '-')} {recorded.get(key)!r} (now {now.get(key)!r})"
                   for key in sorted(set(recorded) | set(now)) if recorded.get(key) != now.get(key)]
        if changed:
            raise RunFolderError(f"{self.folder} holds an unfinished run started with other flags: "
                                 f"{'; '.join(changed)}. Rerun with its flags to resume it, pass --overwrite "
                                 "to start again, or choose another --out.")

    def _clear(self) -> None:
        for path in self.folder.iterdir():
            if path.name == ".lock":
                continue
            if path.is_dir() and not path.is_symlink():
                shutil.rmtree(path)
            else:
                path.unlink()

    def _set_up(self) -> None:
        import warnings

        import keras

        # Keras 3.15 warns that fit's own shuffle flag is ignored: zoo.data's pipelines shuffle themselves.
        warnings.filterwarnings("ignore", message="`shuffle=True` was passed")

        from zoo import distributed

        keras.utils.set_random_seed(self.args.seed)
        keras.config.set_dtype_policy(getattr(self.args, "precision", "float32"))
        self.strategy = distributed.strategy(getattr(self.args, "distribute", "off"))

    def scope(self):
        """Build and compile models inside this: the --distribute strategy's scope."""
        return self.strategy.scope()

    # ------------------------------------------------------------------ training

    def tune(self, build, data, *, batch_size: int, transform=None, patience=None, monitor="val_loss"):
        """With ``--tune``, search ``build(hp)`` with KerasTuner; returns the best hyperparameters or None."""
        from zoo import tuning

        if self.args.tune == "off":
            return None
        train, validation, _ = data.batches(batch_size, seed=self.args.seed, transform=transform)
        callbacks = [] if patience is None else [_early_stopping(monitor, patience)]
        best, self.trials = tuning.search_if_asked(self.args, build, self.own_folder, self.recipe, self.strategy,
                                                   x=train, validation_data=validation, epochs=self.args.epochs,
                                                   callbacks=callbacks)
        self.best_hyperparameters = best
        return best

    def fit(self, model, data, *, batch_size: int, epochs: int, transform=None, patience=None,
            monitor="val_loss", tag: str = "", progress: bool = True) -> Fitted:
        """Train a compiled ``model`` on ``data`` (a ``zoo.data.Dataset``): Keras ``fit``, or the multi-worker loop.

        With ``patience``, early stopping on ``monitor`` keeps the best epoch's weights.
        ``tag`` keeps the files of several trainings in one run apart (``history_<tag>.csv``).
        ``progress`` prints a few lines while it trains (``zoo.callbacks.ProgressLines``).
        """
        if self.cluster is not None:
            return self._fit_multi_worker(model, data, batch_size, epochs, transform, patience, tag)
        train, validation, _ = data.batches(batch_size, seed=self.args.seed, transform=transform)
        return self.train(lambda callbacks: model.fit(train, validation_data=validation, epochs=epochs,
                                                      verbose=0, callbacks=callbacks),
                          tag=tag, patience=patience, monitor=monitor, progress=progress)

    def train(self, fit, *, tag: str = "", patience=None, monitor="val_loss", progress: bool = True) -> Fitted:
        """Call ``fit(callbacks)``, a Keras ``fit`` with the run's callbacks: checkpoints, history, NaN stop.

        For trainings that are not ``model.fit(dataset)``, such as style transfer's. ``fit`` should
        pass ``verbose=0``: with ``progress``, the run prints a few lines itself (``ProgressLines``).
        """
        import keras

        from zoo.callbacks import EpochTimer, ProgressLines, RunCheckpoint

        suffix = f"_{tag}" if tag else ""
        stopping = _early_stopping(monitor, patience) if patience is not None else None
        checkpoint = RunCheckpoint(self.own_folder / "checkpoints" / (tag or "fit"),
                                   history_path=self.own_folder / f"history{suffix}.csv", early_stopping=stopping)
        timer = EpochTimer()
        # The timer ends each epoch before the checkpoint is written: it times training alone.
        callbacks = [timer, keras.callbacks.TerminateOnNaN(), *([stopping] if stopping else []), checkpoint,
                     keras.callbacks.TensorBoard(log_dir=str(self.own_folder / "logs" / (tag or "fit"))),
                     *([ProgressLines(tag)] if progress and self.is_chief else [])]
        value = fit(callbacks)
        self._epoch_seconds[tag or "fit"] = getattr(timer, "seconds", [])
        if checkpoint.diverged_epoch is not None:
            raise TrainingDivergedError(
                f"the training loss became NaN or infinite in epoch {checkpoint.diverged_epoch + 1}"
                f"{f' ({tag})' if tag else ''}; nothing was saved as a result. Lower --learning-rate (now "
                f"{getattr(self.args, 'learning_rate', '?')}) and rerun with --overwrite.")
        self._fits.append(checkpoint)
        best_epoch = stopping.best_epoch + 1 if stopping is not None and stopping.best is not None else None
        return Fitted(rows=checkpoint.rows, seconds=checkpoint.seconds, best_epoch=best_epoch, value=value)

    def _fit_multi_worker(self, model, data, batch_size, epochs, transform, patience, tag="") -> Fitted:
        import csv

        from zoo import distributed

        started = time.perf_counter()
        distributed.fit(model, self.strategy, self.cluster, data.examples("train", transform),
                        train_size=data.sizes["train"], global_batch_size=batch_size, epochs=epochs,
                        seed=self.args.seed, out=self.folder, validation=data.examples("validation", transform),
                        patience=patience, tag=tag)
        history = self.folder / (f"history_{tag}.csv" if tag else "history.csv")
        rows = list(csv.DictReader(history.open())) if self.is_chief and history.exists() else []
        return Fitted(rows=rows, seconds=time.perf_counter() - started)

    def evaluate(self, model, data, *, batch_size: int = 256, transform=None) -> dict:
        """``test_loss`` and ``test_accuracy`` on the test split: call it once, at the end.

        Also ``validation_accuracy`` of the kept weights: the number choices between runs are made on.
        """
        scores = {}
        for split in ("validation", "test"):
            batches = data.evaluation_batches(split, batch_size, transform)
            if batches is None:
                continue
            if self.cluster is not None:
                from zoo import distributed

                loss, accuracy = distributed.evaluate(model, batches)
            else:
                loss, accuracy = model.evaluate(batches, verbose=0)
            scores[f"{split}_accuracy"], scores[f"{split}_loss"] = round(float(accuracy), 4), round(float(loss), 4)
        return {key: scores[key] for key in ("test_accuracy", "test_loss", "validation_accuracy") if key in scores}

    # ------------------------------------------------------------------ results

    def save_model(self, model, name: str = "model.keras") -> Path:
        """Save atomically into this process's folder (a worker's copy goes to workers/<name>)."""
        path = self.own_folder / name
        with atomic_path(path) as partial:
            model.save(partial)
        return path

    def write_json(self, name: str, value, indent: int | None = 2) -> Path:
        """``name`` in this process's folder, atomically; ``indent=None`` for one compact line (large grids)."""
        return atomic_write_json(self.own_folder / name, value, indent=indent)

    def finish(self, metrics: dict, *, headline: str, baseline: dict | None = None, data=None, use=None,
               **extra) -> Path | None:
        """Write results.json and MODEL_CARD.md (chief), draw the curves, drop the checkpoints, print the headline.

        ``baseline`` is the classic model trained in the same run on the same split
        (``zoo.baselines``), with its own ``headline``. ``data`` is a ``zoo.data.Dataset``
        (described for the reader) or a dict recorded as it is. ``use`` is the recipe's
        ``zoo.model_card.Use``: what the model is for and its limits, for the model card.
        Each results.json also records the fingerprint of the code that made it (``zoo.fingerprint``).
        """
        if not self.is_chief:
            print(f"{self.own_folder.name}: {headline}; the chief writes the results", flush=True)
            return None
        for path in sorted(self.folder.glob("history*.csv")):
            tag = path.stem[len("history_"):] if path.stem.startswith("history_") else ""
            on = f" on {data.name}" if hasattr(data, "name") else ""
            plot_curves(self.folder, tag=tag, title=f"{self.recipe}{f', {tag}' if tag else ''}{on}")
        results = {
            "recipe": self.recipe,
            "command": self.command,
            "flags": self.flags,
            "headline": headline,
            "metrics": metrics,
            "baseline": baseline,
            "wall_time_s": round(time.perf_counter() - self.started, 2),
            "finished": _now(),
            "distribution": describe_strategy(self.strategy),
            "data": data.describe() if hasattr(data, "describe") else data,
            "tuning": ({"best": self.best_hyperparameters.values, "trials": self.trials}
                       if self.best_hyperparameters is not None else None),
            "epoch_seconds": {tag: epoch_timing(seconds) for tag, seconds in self._epoch_seconds.items()},
            **extra,
            "use": use.record() if use is not None else None,
            "environment": environment(),
            "fingerprint": fingerprint.of_recipe(self.recipe),
        }
        path = atomic_write_json(self.folder / RESULTS_FILE, results)
        from zoo import model_card

        model_card.write(self.folder)   # MODEL_CARD.md: the same results, for a reader
        for checkpoint in self._fits:
            checkpoint.remove()
        if self.cluster is not None:
            from zoo import distributed

            distributed.finish(self.folder, self.cluster)
        _remove_empty(self.folder / "checkpoints")
        if baseline is not None:
            print(f"baseline, same split: {baseline['headline']}", flush=True)
        print(f"{headline}; wrote {path}", flush=True)
        return path


def finished_run_folder(path, then: str, error: type = RunFolderError) -> Path:
    """``path`` as a run folder that exists; else ``error`` saying how to make one and ``then`` what to run."""
    folder = Path(path).expanduser()
    if not folder.exists():
        raise error(f"no folder {folder}: pass the --out folder of a finished recipe run, e.g. "
                    f"python -m zoo.recipes.mlp --quick --out runs/mlp, then {then}")
    if not folder.is_dir():
        raise error(f"{folder} is a file; pass the run folder that holds it: {folder.parent}")
    return folder


def load_saved_model(path, error: type = RunFolderError):
    """A run's model.keras for inference: offline, ``safe_mode=True``, uncompiled (no optimizer needed).

    Imports ``zoo.layers`` first: Keras finds the zoo's layers and losses only once they
    are registered. A file that cannot be loaded raises ``error`` (a ZooError class)
    naming the file and the fix.
    """
    import zipfile

    import keras

    import zoo.layers  # noqa: F401  (registers the zoo's layers and losses)

    try:
        return keras.saving.load_model(path, safe_mode=True, compile=False)
    except (OSError, ValueError, TypeError, KeyError, zipfile.BadZipFile) as failure:
        raise error(f"{path} cannot be loaded ({type(failure).__name__}: {failure}); rerun the recipe with "
                    "--overwrite to write it again.") from failure


def epoch_timing(seconds: list) -> dict:
    """The first epoch (tracing and compiling included) apart from the median of the rest (steady state).

    Counts only the epochs this process trained: after a resume, the restored ones are not timed.
    """
    import statistics

    rest = seconds[1:]
    return {"epochs_timed": len(seconds), "first": round(seconds[0], 3) if seconds else None,
            "median_after_first": round(statistics.median(rest), 4) if rest else None}


def _early_stopping(monitor: str, patience: int):
    from zoo.callbacks import ResumableEarlyStopping

    return ResumableEarlyStopping(monitor=monitor, patience=patience, restore_best_weights=True)


def _remove_empty(folder: Path) -> None:
    try:
        folder.rmdir()
    except OSError:
        pass


def _now() -> str:
    return datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds")


def describe_strategy(strategy) -> dict:
    """What results.json records about the distribution: the strategy's class and replica count."""
    name = type(strategy).__name__
    name = {"CollectiveAllReduceStrategy": "MultiWorkerMirroredStrategy"}.get(name, name)  # its public name
    return {"strategy": name, "replicas": int(strategy.num_replicas_in_sync)}


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


def plot_curves(out: Path, tag: str = "", title: str = "") -> Path | None:
    """``curves[_tag].png``: loss and (when logged) accuracy per epoch, training vs validation."""
    import csv

    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.ticker import MaxNLocator

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
            if all(value not in (None, "", "NA") for value in values):  # NA: not logged that epoch
                # Markers keep a run of a few epochs visible; one point is no line.
                axis.plot(epochs, [float(value) for value in values], label=label,
                          marker="o" if len(rows) <= 20 else None)
        axis.set_xlabel("epoch")
        axis.set_ylabel(metric)
        axis.xaxis.set_major_locator(MaxNLocator(integer=True))
        axis.grid(alpha=0.3)
        axis.legend()
    figure.suptitle(title or out.name)
    figure.tight_layout()
    path = out / f"curves{suffix}.png"
    with atomic_path(path) as partial:
        figure.savefig(partial, dpi=100, format="png")
    plt.close(figure)
    return path
