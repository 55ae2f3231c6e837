"""Multi-worker training: MultiWorkerMirroredStrategy from TF_CONFIG, through a short visible loop.

    # On every host the same command and the same shared --out; only the task index differs.
    TF_CONFIG='{"cluster": {"worker": ["10.0.0.1:12345", "10.0.0.2:12345"]},
                "task": {"type": "worker", "index": 0}}' \\
        python -m zoo.recipes.mlp --distribute multi_worker --out /shared/runs/mlp
    zoo launch --workers 2 -- zoo.recipes.mlp --distribute multi_worker   # the same, as a local cluster

Why a loop and not ``fit``: on Keras 3.15 / TF 2.21 ``model.fit`` under
MultiWorkerMirroredStrategy fails with ``Attempt to convert a value (PerReplica...)``
(keras-team/keras#20585). The loop is tf.distribute's documented pattern:
``strategy.run`` inside a ``tf.function``, the loss averaged over the global
batch with ``tf.nn.compute_average_loss``, and the Keras optimizer summing the
gradients of all workers, so every worker ends every step with the same weights.

Faults: every epoch ends with a checkpoint (model, optimizer, epoch, early-stopping
state) in ``<out>/checkpoints``. A peer that dies makes the others block in their
next collective, so the cluster is restarted as a whole (``zoo launch
--max-restarts``, or the cluster manager) and every worker resumes from the
chief's last checkpoint: ``--out`` must be one folder all workers can read.
"""

from __future__ import annotations

import csv
import dataclasses
import json
import math
import os
import shutil
from pathlib import Path

from zoo.errors import FlagError, ZooError

DISTRIBUTE = ("auto", "off", "mirrored", "multi_worker")

HOW_TO = ("Set TF_CONFIG on every host, e.g. TF_CONFIG='{\"cluster\": {\"worker\": [\"host1:12345\", "
          "\"host2:12345\"]}, \"task\": {\"type\": \"worker\", \"index\": 0}}' (index 1 on host2), or start a "
          "local cluster with: zoo launch --workers 2 -- zoo.recipes.mlp --distribute multi_worker")


class ClusterConfigError(ZooError, ValueError):
    """TF_CONFIG is missing or does not describe this task in a cluster."""


@dataclasses.dataclass(frozen=True)
class Cluster:
    """This process's place in the cluster, read from TF_CONFIG."""

    jobs: dict          # {"worker": ["host:port", ...], "chief": [...]}
    task_type: str
    task_index: int

    @property
    def is_chief(self) -> bool:
        """The chief writes results.json and model.keras: task "chief", or worker 0 when there is none."""
        if "chief" in self.jobs:
            return self.task_type == "chief"
        return self.task_type == "worker" and self.task_index == 0

    @property
    def name(self) -> str:
        return f"{self.task_type}-{self.task_index}"

    @property
    def size(self) -> int:
        return sum(len(addresses) for addresses in self.jobs.values())


def cluster_from_env(environ=None) -> Cluster:
    """Parse and check TF_CONFIG, so a mistake is one clear message and not a hang at the first step."""
    environ = os.environ if environ is None else environ
    raw = environ.get("TF_CONFIG")
    if not raw:
        raise ClusterConfigError(f"--distribute multi_worker reads the cluster from TF_CONFIG, which is not set. "
                                 f"{HOW_TO}")
    try:
        config = json.loads(raw)
    except json.JSONDecodeError as error:
        raise ClusterConfigError(f"TF_CONFIG={raw!r} is not valid JSON ({error}). {HOW_TO}") from None
    cluster, task = (config.get("cluster"), config.get("task")) if isinstance(config, dict) else (None, None)
    if not isinstance(cluster, dict) or not cluster or not isinstance(task, dict):
        raise ClusterConfigError(f"TF_CONFIG={raw!r} needs a \"cluster\" object of jobs and a \"task\" object. "
                                 f"{HOW_TO}")
    for job, addresses in cluster.items():
        if job not in ("chief", "worker"):
            raise ClusterConfigError(f"TF_CONFIG={raw!r}: job {job!r} is not used by MultiWorkerMirroredStrategy; "
                                     f"use \"worker\" (and at most one \"chief\").")
        if (not isinstance(addresses, list) or not addresses
                or not all(isinstance(a, str) and a.rpartition(":")[2].isdigit() for a in addresses)):
            raise ClusterConfigError(f"TF_CONFIG={raw!r}: job {job!r} must list \"host:port\" addresses, "
                                     f"got {addresses!r}.")
    if len(cluster.get("chief", [])) > 1:
        raise ClusterConfigError(f"TF_CONFIG={raw!r}: a cluster has at most one chief.")
    task_type, task_index = task.get("type"), task.get("index")
    if task_type not in cluster:
        raise ClusterConfigError(f"TF_CONFIG={raw!r}: task type {task_type!r} is not a job of the cluster "
                                 f"({', '.join(cluster)}).")
    if not isinstance(task_index, int) or not 0 <= task_index < len(cluster[task_type]):
        raise ClusterConfigError(f"TF_CONFIG={raw!r}: task index {task_index!r} must be an integer from 0 to "
                                 f"{len(cluster[task_type]) - 1} (the {task_type} job has "
                                 f"{len(cluster[task_type])} addresses).")
    return Cluster(jobs=cluster, task_type=task_type, task_index=task_index)


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
        raise FlagError(f"--distribute={distribute!r} must be one of {', '.join(DISTRIBUTE)}.")
    if keras.backend.backend() != "tensorflow":
        if distribute in ("mirrored", "multi_worker"):
            raise FlagError(f"--distribute={distribute} needs KERAS_BACKEND=tensorflow (now "
                             f"{keras.backend.backend()}); use --distribute auto or off.")

        class _Single:
            num_replicas_in_sync = 1

            def scope(self):
                return contextlib.nullcontext()

        return _Single()
    if distribute == "multi_worker":
        return multi_worker_strategy()
    import tensorflow as tf

    gpus = tf.config.list_logical_devices("GPU")
    if distribute == "off" or (distribute == "auto" and len(gpus) < 2):
        return tf.distribute.get_strategy()
    devices = gpus or tf.config.list_logical_devices("CPU")
    return tf.distribute.MirroredStrategy([device.name for device in devices])


def multi_worker_strategy():
    """MultiWorkerMirroredStrategy for this task; create it before any other TensorFlow work."""
    cluster = cluster_from_env()
    import tensorflow as tf

    print(f"multi_worker: {cluster.name} of a {cluster.size}-task cluster {cluster.jobs}"
          f"{' (chief)' if cluster.is_chief else ''}", flush=True)
    return tf.distribute.MultiWorkerMirroredStrategy()


def task_folder(out: Path, cluster: Cluster) -> Path:
    """Where this task writes: ``out`` for the chief, ``out/workers/<task>`` for the others."""
    folder = Path(out) if cluster.is_chief else Path(out) / "workers" / cluster.name
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def _per_example_loss(loss):
    """The compiled loss without its batch reduction: compute_average_loss divides by the global batch."""
    import keras

    loss = keras.losses.get(loss)
    return loss.call if isinstance(loss, keras.losses.Loss) else loss


def _correct(labels, predictions):
    """1.0 per correct prediction: argmax for a softmax head, 0.5 threshold for one sigmoid unit."""
    import tensorflow as tf

    if predictions.shape[-1] == 1:
        guesses = tf.cast(predictions[..., 0] > 0.5, labels.dtype)
    else:
        guesses = tf.cast(tf.argmax(predictions, axis=-1), labels.dtype)
    return tf.cast(tf.equal(tf.reshape(labels, tf.shape(guesses)), guesses), tf.float32)


def scorer(model):
    """A function: batched dataset -> (mean loss, accuracy), computed by this worker alone (no collectives)."""
    import tensorflow as tf

    per_example = _per_example_loss(model.loss)

    @tf.function(reduce_retracing=True)  # traced once per shape family, not once per call
    def sums(x, y):
        predictions = model(x, training=False)
        return (tf.reduce_sum(per_example(y, predictions)), tf.reduce_sum(_correct(y, predictions)),
                tf.cast(tf.shape(y)[0], tf.float32))

    def score(dataset):
        totals = [0.0, 0.0, 0.0]
        for x, y in dataset:
            totals = [total + float(value) for total, value in zip(totals, sums(x, y))]
        return totals[0] / max(totals[2], 1), totals[1] / max(totals[2], 1)

    return score


def evaluate(model, dataset):
    """(mean loss, accuracy) of ``model`` on a batched dataset, computed by this worker alone."""
    return scorer(model)(dataset)


def _epoch_shard(dataset, context, *, size, global_batch_size, steps, seed):
    """This worker's share of one epoch: the same permutation on every worker, then every n-th example."""
    # The seed depends on the epoch (via ``seed``), so a resumed run sees the data an uninterrupted run would.
    return (dataset.shuffle(size, seed=seed, reshuffle_each_iteration=False)
            .shard(context.num_input_pipelines, context.input_pipeline_id)
            # Shards differ by an example; repeating keeps every worker at exactly ``steps`` full
            # batches, because a worker that runs one step more than its peers waits for them forever.
            .repeat()
            .batch(context.get_per_replica_batch_size(global_batch_size))
            .take(steps)
            .prefetch(2))


def fit(model, strategy, cluster: Cluster, train, *, train_size: int, global_batch_size: int, epochs: int,
        seed: int, out: Path, validation=None, patience: int | None = None, log=None, tag: str = "") -> int:
    """Train a compiled ``model`` (built in ``strategy.scope()``) on unbatched ``train``; returns epochs run.

    Every worker calls this with the same arguments. ``validation`` (unbatched) is scored by
    every worker on its own and averaged across workers, so all take the same early-stopping
    decision; with ``patience`` training stops after that many epochs without a lower
    validation loss, and the best epoch's weights are kept. The chief appends each epoch to
    ``out/history.csv`` (``history_<tag>.csv`` for one of several trainings in a run, checkpointed apart).
    """
    import numpy as np
    import tensorflow as tf

    log = log or (lambda line: print(line, flush=True))  # flushed: a launcher streams it line by line
    replicas = strategy.num_replicas_in_sync
    if global_batch_size % replicas:
        raise ValueError(f"--batch-size={global_batch_size} must be a multiple of the {replicas} replicas "
                         f"of the cluster, e.g. {global_batch_size - global_batch_size % replicas or replicas}.")
    steps = math.ceil(train_size / global_batch_size)
    per_example = _per_example_loss(model.loss)
    optimizer = model.optimizer
    with strategy.scope():
        optimizer.build(model.trainable_variables)  # slots exist before a restore fills them

    def replica_step(x, y):
        with tf.GradientTape() as tape:
            predictions = model(x, training=True)
            loss = tf.nn.compute_average_loss(per_example(y, predictions))  # / global batch, not local
            if model.losses:
                loss += tf.nn.scale_regularization_loss(tf.add_n(model.losses))
            scaled = optimizer.scale_loss(loss)  # a no-op unless mixed_float16 wrapped it in loss scaling
        gradients = tape.gradient(scaled, model.trainable_variables)
        optimizer.apply_gradients(zip(gradients, model.trainable_variables))  # all-reduces across workers
        return tf.stack([tf.cast(loss, tf.float32), tf.reduce_sum(_correct(y, predictions)),
                         tf.cast(tf.shape(y)[0], tf.float32)])

    @tf.function
    def train_epoch(iterator):
        # One call per epoch, and the logged sums stay local until the end: per step, the Python round
        # trip and the extra collectives took longer than the step itself on a busy 2-core CPU.
        local = tf.zeros(3)
        for _ in tf.range(steps):
            for sums in strategy.experimental_local_results(strategy.run(replica_step, args=next(iterator))):
                local += sums
        return local

    @tf.function
    def mean_over_workers(values):
        return strategy.reduce("MEAN", strategy.run(tf.identity, args=(values,)), axis=None)

    # Loop state lives in the checkpoint, so a restarted cluster continues where it stopped.
    epoch = tf.Variable(0, dtype=tf.int64, trainable=False)
    best_loss = tf.Variable(np.inf, dtype=tf.float64, trainable=False)
    waited = tf.Variable(0, dtype=tf.int64, trainable=False)
    best_weights = [tf.Variable(value, trainable=False) for value in model.get_weights()]
    # The model's checkpoint leaves out non-trainable state such as dropout's seed generator; with it, a
    # resumed run draws the same dropout masks as an uninterrupted one.
    checkpoint = tf.train.Checkpoint(model=model, optimizer=optimizer, state=list(model.non_trainable_variables),
                                     epoch=epoch, best_loss=best_loss, waited=waited, best_weights=best_weights)
    shared = Path(out) / "checkpoints" / tag if tag else Path(out) / "checkpoints"
    # Every worker saves (saving may communicate); only the chief's copy is kept and read back.
    own = shared if cluster.is_chief else task_folder(out, cluster) / "checkpoints" / tag
    manager = tf.train.CheckpointManager(checkpoint, str(own), max_to_keep=2)
    latest = tf.train.latest_checkpoint(str(shared))
    if latest:
        checkpoint.restore(latest).assert_existing_objects_matched()
    start = int(epoch.numpy())
    # All workers must resume at the same epoch, or they wait on each other forever.
    mean, mean_square = mean_over_workers(tf.constant([start, start * start], tf.float64)).numpy()
    if mean_square != mean * mean:
        raise ClusterConfigError(f"the workers restored different epochs from {shared} ({cluster.name}: {start}, "
                                 f"mean {mean:g}): --out must be one folder every worker reads, e.g. a shared "
                                 "filesystem, so all resume from the chief's checkpoint.")
    if latest:
        log(f"{cluster.name}: resumed from {latest} at epoch {start + 1}")
    history_path = Path(out) / (f"history_{tag}.csv" if tag else "history.csv")
    if cluster.is_chief:
        _keep_history_before(history_path, start)
    local_validation = validation.batch(global_batch_size).cache() if validation is not None else None
    score = scorer(model)

    stopped = patience is not None and int(waited.numpy()) >= patience  # it had stopped early before a restart
    for current in range(start, start if stopped else epochs):
        shards = strategy.distribute_datasets_from_function(
            lambda context, current=current: _epoch_shard(train, context, size=train_size,
                                                          global_batch_size=global_batch_size, steps=steps,
                                                          seed=seed * 100_003 + current))
        totals = mean_over_workers(train_epoch(iter(shards))).numpy() * cluster.size  # sums over workers
        row = {"epoch": current, "loss": totals[0] / steps, "accuracy": totals[1] / totals[2]}
        stop = False
        if local_validation is not None:
            row["val_loss"], row["val_accuracy"] = (
                float(v) for v in mean_over_workers(tf.constant(score(local_validation), tf.float64)))
            if row["val_loss"] < best_loss.numpy():
                best_loss.assign(row["val_loss"])
                waited.assign(0)
                for keep, value in zip(best_weights, model.get_weights()):
                    keep.assign(value)
            else:
                waited.assign_add(1)
                stop = patience is not None and int(waited.numpy()) >= patience
        epoch.assign(current + 1)
        manager.save(checkpoint_number=current + 1)
        if not cluster.is_chief:
            shutil.rmtree(own, ignore_errors=True)  # a worker's copy only existed for the save to run
        if cluster.is_chief:
            _append_history(history_path, row)
        log(f"{cluster.name} epoch {current + 1}/{epochs}: "
            + " ".join(f"{key} {value:.4f}" for key, value in row.items() if key != "epoch"))
        if stop:
            log(f"{cluster.name}: no better val_loss for {patience} epochs; stopping early")
            break
    if local_validation is not None:  # keep the best epoch's weights, as EarlyStopping(restore_best_weights)
        model.set_weights([value.numpy() for value in best_weights])
    return int(epoch.numpy())


def finish(out: Path, cluster: Cluster) -> None:
    """After the chief wrote its results: drop the checkpoints, which a finished run no longer needs."""
    if cluster.is_chief:
        shutil.rmtree(Path(out) / "checkpoints", ignore_errors=True)


def _keep_history_before(path: Path, epoch: int) -> None:
    """Drop history rows of epochs the restored checkpoint does not hold (they will be trained again)."""
    if path.exists():
        _write_history(path, [row for row in _read_history(path) if int(row["epoch"]) < epoch])


def _append_history(path: Path, row: dict) -> None:
    _write_history(path, [*(_read_history(path) if path.exists() else []), row])


def _read_history(path: Path) -> list[dict]:
    with path.open(newline="") as handle:
        return list(csv.DictReader(handle))


def _write_history(path: Path, rows: list[dict]) -> None:
    """The whole file, renamed into place: a kill mid-write never leaves half a row."""
    import io

    from zoo.files import atomic_write_text

    text = io.StringIO()
    if rows:
        writer = csv.DictWriter(text, fieldnames=list(rows[0]), lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)
    atomic_write_text(path, text.getvalue())
