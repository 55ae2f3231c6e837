"""Keras callbacks for runs that never lose work, and a timer for benchmarks.

``RunCheckpoint`` replaces ``keras.callbacks.BackupAndRestore`` in the recipes.
Keras's callback rewrites one weights file in place: a kill during that write
leaves a file no rerun can open. Here every epoch's state goes to a new folder
that is renamed into place when complete, the two newest are kept, and a
resume that finds the newest unreadable says so and takes the one before.
The state is everything an uninterrupted run would still have in memory: the
weights and the optimizer, the random-number generators' state (dropout
masks), early stopping's best value, wait count and best weights, the history
rows and the training time so far. With the training pipelines' order fixed
per epoch (``zoo.data.shuffled_batches``), a run killed at any moment and
resumed ends with the weights an uninterrupted run ends with.
"""

from __future__ import annotations

import json
import math
import os
import shutil
import sys
import time
from pathlib import Path

import keras

from zoo.files import atomic_write_text

_GENERATION = "epoch-{epoch:05d}{end}"
_KEEP = 2   # generations kept: the newest, and the one before in case the newest is unreadable
_COST_FACTOR = 5  # an epoch's state is saved unless the last save took over a fifth of the time since


class ResumableEarlyStopping(keras.callbacks.EarlyStopping):
    """Keras's EarlyStopping whose state (best value, wait, best weights) a checkpoint can carry.

    ``RunCheckpoint`` restores it in its own ``on_train_begin``, which runs after this
    callback's (it comes later in the list), so Keras's reset there does not undo it.
    """

    def state(self) -> tuple[dict, list | None]:
        best = None if self.best is None else float(self.best)
        return ({"wait": int(self.wait), "best": best, "best_epoch": int(self.best_epoch),
                 "stopped_epoch": int(self.stopped_epoch)}, self.best_weights)

    def restore(self, state: dict, best_weights) -> None:
        self.wait, self.best, self.best_epoch = state["wait"], state["best"], state["best_epoch"]
        self.stopped_epoch, self.best_weights = state["stopped_epoch"], best_weights


class RunCheckpoint(keras.callbacks.Callback):
    """Saves the whole training state after every epoch and restores it when ``fit`` starts again.

    (After every epoch unless saving would take over a fifth of the training time: then
    every few epochs. A resume from any saved epoch ends where an uninterrupted run does.)

    Put it after ``early_stopping`` in the callback list, so that it saves the
    state early stopping has just updated. ``history_path`` gets every epoch's
    logs as CSV, rewritten atomically, so it holds each epoch exactly once.
    After ``fit``, ``rows`` holds every epoch's logs (restored ones too),
    ``seconds`` the training time of every session, and ``diverged_epoch``
    the epoch whose loss was not finite, if any (that state is never saved).
    """

    def __init__(self, folder, history_path=None, early_stopping: ResumableEarlyStopping | None = None, log=None):
        super().__init__()
        self.folder = Path(folder)
        self.history_path = None if history_path is None else Path(history_path)
        self.early_stopping = early_stopping
        self.log = log or (lambda line: print(line, file=sys.stderr, flush=True))
        self.rows: list[dict] = []
        self.seconds = 0.0
        self.diverged_epoch = None
        self.resumed_from = None

    # ------------------------------------------------------------------ saving

    def _extra_variables(self):
        """Model state that ``save_weights`` leaves out, such as dropout's seed generators."""
        saved = {id(variable) for variable in self.model.weights}
        return [variable for variable in self.model.variables if id(variable) not in saved]

    def _save(self, epoch: int, finished: bool) -> None:
        import numpy as np

        started = time.perf_counter()

        name = _GENERATION.format(epoch=epoch, end="-end" if finished else "")
        partial = self.folder / f".{name}.partial-{os.getpid()}"
        shutil.rmtree(partial, ignore_errors=True)
        partial.mkdir(parents=True)
        self.model.save_weights(partial / "model.weights.h5")
        arrays = {f"extra_{i}": keras.ops.convert_to_numpy(v) for i, v in enumerate(self._extra_variables())}
        state = {"epoch": epoch, "finished": finished, "rows": self.rows,
                 "seconds": self.seconds + time.perf_counter() - self._session_started}
        if self.early_stopping is not None:
            state["early_stopping"], best_weights = self.early_stopping.state()
            if best_weights is not None:
                arrays.update({f"best_{i}": np.asarray(w) for i, w in enumerate(best_weights)})
                state["best_weights"] = len(best_weights)
        np.savez(partial / "state.npz", **arrays)
        (partial / "state.json").write_text(json.dumps(state))
        final = self.folder / name
        shutil.rmtree(final, ignore_errors=True)  # the same epoch saved again after a resume
        os.replace(partial, final)                # the generation appears whole, or not at all
        for old in self._generations()[_KEEP:]:
            shutil.rmtree(old, ignore_errors=True)
        self._last_save_end = time.perf_counter()
        self._last_save_seconds = self._last_save_end - started

    def _generations(self) -> list[Path]:
        """Complete generations, newest first."""
        if not self.folder.is_dir():
            return []
        return sorted((path for path in self.folder.iterdir() if path.name.startswith("epoch-")), reverse=True)

    def _write_history(self) -> None:
        if self.history_path is None or not self.rows:
            return
        keys = sorted({key for row in self.rows for key in row} - {"epoch"})
        lines = [",".join(["epoch", *keys])]
        lines += [",".join([str(row["epoch"]), *(repr(row[key]) if key in row else "NA" for key in keys)])
                  for row in self.rows]
        atomic_write_text(self.history_path, "\n".join(lines) + "\n")

    # --------------------------------------------------------------- restoring

    def _read(self, generation: Path):
        """(state, arrays) of a generation, every byte read once, so a damaged file fails here."""
        import h5py
        import numpy as np

        state = json.loads((generation / "state.json").read_text())
        with h5py.File(generation / "model.weights.h5", "r") as weights:
            weights.visititems(lambda _, item: item[()] if isinstance(item, h5py.Dataset) else None)
        with np.load(generation / "state.npz") as stored:
            arrays = {key: stored[key] for key in stored.files}
        return state, arrays

    def _restore(self) -> dict | None:
        for path in self.folder.glob(".*.partial-*") if self.folder.is_dir() else ():
            shutil.rmtree(path, ignore_errors=True)  # a save that a kill interrupted
        for generation in self._generations():
            try:
                state, arrays = self._read(generation)
            except Exception as error:  # noqa: BLE001 - any damage means: use the generation before
                self.log(f"warning: checkpoint {generation} is unreadable ({type(error).__name__}: "
                         f"{str(error).splitlines()[0] if str(error) else 'no detail'}); using the one before it")
                continue
            optimizer = self.model.optimizer
            if optimizer is not None and not optimizer.built:
                optimizer.build(self.model.trainable_variables)  # its slots exist before they are filled
            self.model.load_weights(generation / "model.weights.h5")
            for i, variable in enumerate(self._extra_variables()):
                variable.assign(arrays[f"extra_{i}"])
            if self.early_stopping is not None and "early_stopping" in state:
                best = [arrays[f"best_{i}"] for i in range(state["best_weights"])] if "best_weights" in state else None
                self.early_stopping.restore(state["early_stopping"], best)
            self.resumed_from = generation
            return state
        if self._generations():
            self.log(f"warning: no checkpoint in {self.folder} could be read; training starts again from epoch 1")
        return None

    # ------------------------------------------------------------------ Keras hooks

    def on_train_begin(self, logs=None):
        self._session_started = self._last_save_end = time.perf_counter()
        self._last_save_seconds = 0.0
        state = self._restore()
        if state is None:
            self.rows, self.seconds = [], 0.0
            return
        self.rows, self.seconds = state["rows"], state["seconds"]
        self._write_history()
        # Killed after early stopping decided to stop but before fit ended: it ends now, as it would have.
        finished = state["finished"] or state.get("early_stopping", {}).get("stopped_epoch", 0) > 0
        # Keras's fit starts at model._initial_epoch when a callback sets it (as BackupAndRestore does).
        self.model._initial_epoch = self.params["epochs"] if finished else state["epoch"]
        self.log(f"resuming from {self.resumed_from.name}: {state['epoch']} epoch(s) done"
                 + (", training had finished" if finished else ""))

    def on_epoch_begin(self, epoch, logs=None):
        from zoo import data

        data.set_training_epoch(epoch)  # zoo's training pipelines shuffle into this epoch's order

    def on_epoch_end(self, epoch, logs=None):
        logs = {key: float(value) for key, value in (logs or {}).items()}
        if not math.isfinite(logs.get("loss", 0.0)):
            self.diverged_epoch = epoch
            self.model.stop_training = True
            return
        self.rows.append({"epoch": epoch, **logs})
        self._write_history()
        # Checkpointing may cost at most a fifth of the time: a big model with short epochs (style transfer
        # saves a VGG per optimizer step) saves every few epochs. Any saved epoch resumes exactly.
        if time.perf_counter() - self._last_save_end >= _COST_FACTOR * self._last_save_seconds:
            self._save(epoch + 1, finished=False)

    def on_train_end(self, logs=None):
        self.model._initial_epoch = None  # the next fit of this model starts where it is asked to
        if self.diverged_epoch is None:
            self._save(len(self.rows), finished=True)  # after early stopping put the best weights back
        self.seconds += time.perf_counter() - self._session_started

    def remove(self) -> None:
        """Delete the checkpoints once the run has written its results."""
        shutil.rmtree(self.folder, ignore_errors=True)


class EpochTimer(keras.callbacks.Callback):
    """``seconds`` lists every epoch's wall time, for benchmarks.

    Reading the epoch's loss waits for its last step: under JAX, steps run asynchronously.
    """

    def on_train_begin(self, logs=None):
        self.seconds = []

    def on_epoch_begin(self, epoch, logs=None):
        self.started = time.perf_counter()

    def on_epoch_end(self, epoch, logs=None):
        float((logs or {}).get("loss", 0.0))
        self.seconds.append(time.perf_counter() - self.started)


class ProgressLines(keras.callbacks.Callback):
    """A few lines per training instead of one per epoch: the first epoch, then one every ``interval_s``, the last.

    A 300-epoch MLP otherwise prints 300 lines; a terminal or a CI log needs to see that
    training moves and where it ended. Each line: epoch, the logged metrics, seconds per epoch.

    Args:
        label: what is training, e.g. ``"pretrained"`` (several trainings in one run); "" for one.
        interval_s: the least time between two lines, except the first and the last.
        stream: where the lines go (standard output by default).
    """

    def __init__(self, label: str = "", interval_s: float = 10.0, stream=None):
        super().__init__()
        self.label, self.interval_s, self.stream = label, interval_s, stream

    def on_train_begin(self, logs=None):
        self._started = self._printed = time.perf_counter()
        self._epochs_run, self._pending = 0, None

    def on_epoch_end(self, epoch, logs=None):
        self._epochs_run += 1
        line = self._line(epoch, logs or {})
        now = time.perf_counter()
        if self._epochs_run == 1 or now - self._printed >= self.interval_s:
            self._print(line)
            self._printed, self._pending = now, None
        else:
            self._pending = line

    def on_train_end(self, logs=None):
        if self._pending is not None:   # the last epoch, unless it was just printed
            self._print(self._pending)

    def _line(self, epoch: int, logs: dict) -> str:
        total = self.params.get("epochs") if self.params else None
        metrics = "  ".join(f"{name} {float(value):.4f}" for name, value in logs.items() if name != "learning_rate")
        per_epoch = (time.perf_counter() - self._started) / self._epochs_run
        label = f"{self.label}: " if self.label else ""
        return f"{label}epoch {epoch + 1}{f'/{total}' if total else ''}  {metrics}  ({per_epoch:.2f} s/epoch)"

    def _print(self, line: str) -> None:
        print(line, file=self.stream or sys.stdout, flush=True)
