"""KerasTuner glue: a recipe's build function + a zoo entry's search space -> a search that fails loudly.

    import keras_tuner
    from zoo import tuning

    def build(hp):                       # hp: keras_tuner.HyperParameters, or None for the defaults
        overrides = zoo.info("mlp").search_space(hp) if hp else {}
        ...                              # zoo.get("mlp", **overrides), compile with tuning.learning_rate(hp, 3e-3)
        return model

    best_hp, trials = tuning.search("random", build, out / "tuner", "mlp", max_trials=10,
                                    fit_kwargs=dict(x=train, validation_data=validation, epochs=20))

KerasTuner marks a trial whose ``fit`` raised as FAILED and moves on, so a
bug can hide behind a search that "finished". Here the first failed trial
stops the search and ``TrialFailedError`` carries its traceback. The search
lives in ``directory``: calling ``search`` again with the same directory
resumes it (completed trials are kept, the rest run).

Distributed search is KerasTuner's own: with KERASTUNER_TUNER_ID, KERASTUNER_ORACLE_IP
and KERASTUNER_ORACLE_PORT set, the process whose id contains "chief" serves the
oracle (``search`` blocks until every trial ended, then returns as usual) and every
other id runs trials and ends with ``SearchWorkerDone``: the chief reports. A worker
that dies mid-trial is waited for until a worker with the same id comes back.
"""

from __future__ import annotations

import contextlib
import os

from zoo.errors import ZooError

TUNERS = ("random", "hyperband", "bayesian")


class TrialFailedError(ZooError, RuntimeError):
    """A tuning trial raised; the message holds the trial's own error."""


class SearchWorkerDone(Exception):
    """This process ran trials for a distributed search's chief, which retrains the best and reports."""


DISTRIBUTED_ENV = ("KERASTUNER_TUNER_ID", "KERASTUNER_ORACLE_IP", "KERASTUNER_ORACLE_PORT")


def distributed_role(environ=None) -> str | None:
    """``"chief"`` or ``"worker"`` in a distributed search, ``None`` alone; a partial environment is refused."""
    environ = os.environ if environ is None else environ
    present = {name: environ[name] for name in DISTRIBUTED_ENV if environ.get(name)}
    if not present:
        return None
    how = ("set all three on every process: KERASTUNER_TUNER_ID=chief on the one serving the oracle, a unique "
           "id such as tuner0, tuner1 on each worker, and KERASTUNER_ORACLE_IP/KERASTUNER_ORACLE_PORT to the "
           "chief's address (locally: zoo launch --workers 2 --tuning -- zoo.recipes.mlp --tune random)")
    missing = [name for name in DISTRIBUTED_ENV if name not in present]
    if missing:
        raise ValueError(f"a distributed search needs {', '.join(missing)} too (set: "
                         f"{', '.join(f'{k}={v}' for k, v in present.items())}); {how}.")
    port = present["KERASTUNER_ORACLE_PORT"]
    if not port.isdigit() or not 0 < int(port) < 65536:
        raise ValueError(f"KERASTUNER_ORACLE_PORT={port!r} must be a port number from 1 to 65535; {how}.")
    return "chief" if "chief" in present["KERASTUNER_TUNER_ID"] else "worker"


def learning_rate(hp, default: float):
    """The Adam step size: searched on a log scale around ``default`` when tuning, else ``default``."""
    if hp is None:
        return default
    return hp.Float("learning_rate", min(1e-4, default), max(1e-2, default), sampling="log", default=default)


def make_tuner(kind: str, build, directory, project_name: str, *, max_trials: int, max_epochs: int,
               objective: str = "val_accuracy", seed: int = 0, distribution_strategy=None):
    """A KerasTuner tuner of ``kind`` that resumes from ``directory`` and stops at the first failed trial."""
    import keras_tuner

    if kind not in TUNERS:
        raise ValueError(f"tuner {kind!r} is not one of {', '.join(TUNERS)}.")
    if max_trials < 1:
        raise ValueError(f"max_trials={max_trials} must be >= 1.")
    common = dict(objective=keras_tuner.Objective(objective, direction="min" if "loss" in objective else "max"),
                  seed=seed, directory=os.fspath(directory), project_name=project_name, overwrite=False,
                  distribution_strategy=distribution_strategy, max_consecutive_failed_trials=1)
    if kind == "random":
        tuner = keras_tuner.RandomSearch(build, max_trials=max_trials, **common)
    elif kind == "bayesian":
        tuner = keras_tuner.BayesianOptimization(build, max_trials=max_trials,
                                                 num_initial_points=min(2, max_trials), **common)
    else:
        tuner = keras_tuner.Hyperband(build, max_epochs=max(2, max_epochs), factor=3, **common)
        # Hyperband sizes its brackets from max_epochs; the oracle's own cap keeps --max-trials true.
        tuner.oracle.max_trials = max_trials
    return tuner


def trial_records(tuner) -> list[dict]:
    """Every trial: id, status, hyperparameters, score and (when it failed) its message."""
    records = []
    for trial_id, trial in sorted(tuner.oracle.trials.items()):
        record = {"trial_id": trial_id, "status": str(trial.status), "score": trial.score,
                  "hyperparameters": dict(trial.hyperparameters.values)}
        if trial.message:
            record["message"] = trial.message
        records.append(record)
    return records


@contextlib.contextmanager
def quiet_surrogate():
    """Silence scikit-learn's ConvergenceWarning from the Gaussian process of a Bayesian search, nothing else.

    KerasTuner's BayesianOptimization refits that surrogate after every trial; on a few
    noisy scores its length scale often ends at a bound and scikit-learn warns, several
    times per trial. The warning is about the surrogate, not the model: the search goes on
    as well either way, and there is nothing for the user to change.
    """
    import warnings

    from sklearn.exceptions import ConvergenceWarning

    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", category=ConvergenceWarning, module=r"sklearn\.gaussian_process")
        yield


def search(kind: str, build, directory, project_name: str, *, max_trials: int, fit_kwargs: dict,
           objective: str = "val_accuracy", seed: int = 0, distribution_strategy=None):
    """Run (or resume) a search; returns (best HyperParameters, trial records).

    Writes ``trials.json`` beside the tuner's folder. Raises ``TrialFailedError``
    with the failed trial's traceback as soon as one trial fails.
    """
    import keras_tuner

    role = distributed_role()
    tuner = make_tuner(kind, build, directory, project_name, max_trials=max_trials,
                       max_epochs=fit_kwargs.get("epochs", 1), objective=objective, seed=seed,
                       distribution_strategy=distribution_strategy)
    where = f"{os.environ.get('KERASTUNER_ORACLE_IP')}:{os.environ.get('KERASTUNER_ORACLE_PORT')}"
    if role == "worker":  # runs trials until the chief's oracle says stop; the oracle lives on the chief
        import grpc

        tuner_id = os.environ["KERASTUNER_TUNER_ID"]
        try:
            with quiet_surrogate():
                tuner.search(**fit_kwargs)
        except (RuntimeError, grpc.RpcError) as error:  # a failed trial comes back from the chief as an RpcError
            raise TrialFailedError(f"tuner worker {tuner_id}: a trial failed, so it stopped (the chief at "
                                   f"{where} records it): {error}") from error
        raise SearchWorkerDone(f"tuner worker {tuner_id}: no trials left; the chief at {where} reports the results.")
    if role == "chief":
        print(f"tuning chief: serving the oracle on {where}; the workers run the {max_trials} trials", flush=True)
    try:
        with quiet_surrogate():
            tuner.search(**fit_kwargs)
    except RuntimeError as error:
        failed = [r for r in trial_records(tuner) if r["status"] == keras_tuner.engine.trial.TrialStatus.FAILED]
        if not failed:
            raise
        _write(directory, trial_records(tuner))
        raise TrialFailedError(f"tuning trial {failed[-1]['trial_id']} failed, so the {kind} search stopped "
                               f"(trials are in {directory}):\n{failed[-1].get('message', error)}") from error
    records = trial_records(tuner)
    _write(directory, records)
    failed = [r for r in records if r["status"] == keras_tuner.engine.trial.TrialStatus.FAILED]
    if failed:  # a failed trial that did not stop the search still fails the run
        raise TrialFailedError(f"tuning trial {failed[0]['trial_id']} failed:\n{failed[0].get('message')}")
    completed = [r for r in records if r["status"] == keras_tuner.engine.trial.TrialStatus.COMPLETED]
    if not completed:
        raise TrialFailedError(f"the {kind} search in {directory} completed no trial; see {directory}.")
    return tuner.get_best_hyperparameters(1)[0], records


def _write(directory, records):
    from zoo.files import atomic_write_json

    os.makedirs(directory, exist_ok=True)
    atomic_write_json(os.path.join(directory, "trials.json"), records)


def search_if_asked(args, build, out, project_name: str, strategy=None, **fit_kwargs):
    """The recipes' common step: ``(None, None)`` for ``--tune off``, else ``search`` with the recipe's flags.

    The tuner's folder is ``out/tuner``, so rerunning with the same ``--out`` resumes the search.
    """
    if args.tune == "off":
        return None, None
    tf_strategy = strategy if hasattr(strategy, "extended") else None  # only tf.distribute strategies
    fit_kwargs.setdefault("verbose", 0)
    return search(args.tune, build, os.path.join(out, "tuner"), project_name, max_trials=args.max_trials,
                  fit_kwargs=fit_kwargs, seed=args.seed, distribution_strategy=tf_strategy)
