"""--tune with each KerasTuner kind, loud failures, resuming an interrupted search, and --distribute mirrored."""

import contextlib
import json
import os
import signal
import subprocess
import sys
import textwrap
import time

import pytest

from zoo import tuning


# --quick MLP runs on the 10 digits: the tuned, retrained model reaches about 0.86 (chance is 0.1,
# the majority class about 0.1). A model or a search that does not learn stays far below this floor.
QUICK_ACCURACY_FLOOR = 0.6


def _results(out):
    return json.loads((out / "results.json").read_text())


def _keras_tuner_trials(out, project="mlp"):
    """KerasTuner's own record of each trial (tuner/<project>/trial_*/trial.json), in the zoo's format."""
    trials = []
    for path in sorted((out / "tuner" / project).glob("trial_*/trial.json")):
        trial = json.loads(path.read_text())
        trials.append({"trial_id": trial["trial_id"], "status": trial["status"], "score": trial["score"],
                       "hyperparameters": trial["hyperparameters"]["values"]})
    return sorted(trials, key=lambda trial: trial["trial_id"])


@pytest.mark.parametrize("kind", tuning.TUNERS)
def test_each_tuner_kind_completes_its_trials_and_retrains_the_best(tmp_path, kind):
    from zoo.recipes import mlp

    mlp.main(["--quick", "--tune", kind, "--max-trials", "2", "--out", str(tmp_path)])
    results = _results(tmp_path)
    # What KerasTuner itself wrote for each trial is what trials.json and results.json report.
    trials = _keras_tuner_trials(tmp_path)
    assert len(trials) == 2 and {trial["status"] for trial in trials} == {"COMPLETED"}
    assert all("learning_rate" in trial["hyperparameters"] for trial in trials)
    assert results["tuning"]["trials"] == trials
    assert json.loads((tmp_path / "tuner" / "trials.json").read_text()) == trials
    best = max(trials, key=lambda trial: trial["score"])
    assert best["score"] > QUICK_ACCURACY_FLOOR, trials  # validation accuracy of the best trial
    assert results["tuning"]["best"] == best["hyperparameters"]
    assert results["metrics"]["test_accuracy"] > QUICK_ACCURACY_FLOOR


def test_only_the_bayesian_surrogates_convergence_warning_is_silenced():
    import warnings

    from sklearn.exceptions import ConvergenceWarning

    def warn(category, module, line):
        warnings.warn_explicit("length_scale is close to the specified lower bound", category, "kernels.py", line,
                               module=module)

    with warnings.catch_warnings(record=True) as seen:
        warnings.simplefilter("always")
        with tuning.quiet_surrogate():
            warn(ConvergenceWarning, "sklearn.gaussian_process.kernels", 1)     # the surrogate's: silenced
            warn(ConvergenceWarning, "sklearn.linear_model._logistic", 2)       # a model's own: kept
            warn(UserWarning, "sklearn.gaussian_process.kernels", 3)            # another kind: kept
        warn(ConvergenceWarning, "sklearn.gaussian_process.kernels", 4)         # after the search: kept
    assert [(w.category, w.lineno) for w in seen] == [(ConvergenceWarning, 2), (UserWarning, 3),
                                                      (ConvergenceWarning, 4)]


def test_a_failing_trial_fails_the_search_loudly(tmp_path):
    import keras

    def build(hp):
        units = hp.Int("units", 2, 4)
        model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(units)])
        model.compile("adam", "mse")
        return model

    import numpy as np

    bad_targets = np.zeros((8, 7))  # shape mismatch: every fit raises inside the trial
    with pytest.raises(tuning.TrialFailedError, match=r"tuning trial 0 failed(.|\n)*(shape|Dimensions|incompatible)"):
        tuning.search("random", build, tmp_path / "tuner", "broken", max_trials=3,
                      fit_kwargs=dict(x=np.zeros((8, 3)), y=bad_targets, epochs=1, verbose=0), objective="loss")
    records = json.loads((tmp_path / "tuner" / "trials.json").read_text())
    assert [record["status"] for record in records] == ["FAILED"]


def _trial_status(path):
    """A trial.json's status; None while it is absent or half-written (KerasTuner rewrites it in place)."""
    with contextlib.suppress(OSError, ValueError, KeyError):
        return json.loads(path.read_text())["status"]
    return None


def test_an_interrupted_search_resumes_where_it_stopped(tmp_path):
    out = tmp_path / "run"
    command = [sys.executable, "-m", "zoo.recipes.mlp", "--quick", "--tune", "random", "--max-trials", "3",
               "--out", str(out)]
    first = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    try:
        first_trial = out / "tuner" / "mlp" / "trial_0" / "trial.json"
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline and first.poll() is None:
            if _trial_status(first_trial) == "COMPLETED":
                break
            time.sleep(0.2)
        assert first.poll() is None, "the search ended before it could be interrupted"
        assert first_trial.exists(), "no trial completed within 120 s"
        os.killpg(first.pid, signal.SIGKILL)
        first.wait(timeout=30)
    finally:
        if first.poll() is None:
            os.killpg(first.pid, signal.SIGKILL)
            first.wait(timeout=30)
    kept = json.loads(first_trial.read_text())
    assert not (out / "results.json").exists()

    done = subprocess.run(command, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    trials = {trial["trial_id"]: trial for trial in _results(out)["tuning"]["trials"]}
    assert len(trials) == 3 and {trial["status"] for trial in trials.values()} == {"COMPLETED"}
    # The trial finished before the kill was kept, not rerun.
    assert trials["0"]["hyperparameters"] == kept["hyperparameters"]["values"]
    assert trials["0"]["score"] == pytest.approx(kept["score"])


def test_mirrored_strategy_trains_on_two_logical_cpus(tmp_path):
    script = textwrap.dedent(f"""
        import tensorflow as tf
        cpu = tf.config.list_physical_devices("CPU")[0]
        tf.config.set_logical_device_configuration(cpu, [tf.config.LogicalDeviceConfiguration()] * 2)
        from zoo.recipes import mlp
        mlp.main(["--quick", "--distribute", "mirrored", "--out", {str(tmp_path)!r}])
    """)
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    results = _results(tmp_path)
    assert results["distribution"] == {"strategy": "MirroredStrategy", "replicas": 2}
    assert results["metrics"]["test_accuracy"] > 0.5


def test_mirrored_tuning_builds_inside_the_strategy(tmp_path):
    script = textwrap.dedent(f"""
        import tensorflow as tf
        cpu = tf.config.list_physical_devices("CPU")[0]
        tf.config.set_logical_device_configuration(cpu, [tf.config.LogicalDeviceConfiguration()] * 2)
        import json
        from zoo.recipes import mlp
        from zoo import tuning

        # Record every model the recipe builds: during the search or after it, and whether its variables
        # are mirrored (the strategy's scope was active when they were created).
        builds, searching, recipe_build, search = [], [False], mlp.build, tuning.search

        def build(args, dataset, ink_scale, hp=None):
            model = recipe_build(args, dataset, ink_scale, hp)
            builds.append(dict(searching=searching[0], replicas=tf.distribute.get_strategy().num_replicas_in_sync,
                               mirrored=all(isinstance(w.value, tf.distribute.DistributedValues)
                                            for w in model.weights),
                               hyperparameters=dict(hp.values) if hp else None))
            return model

        def recorded_search(*args, **kwargs):
            searching[0] = True
            try:
                return search(*args, **kwargs)
            finally:
                searching[0] = False

        mlp.build, tuning.search = build, recorded_search
        mlp.main(["--quick", "--distribute", "mirrored", "--tune", "random", "--max-trials", "2",
                  "--out", {str(tmp_path)!r}])
        with open({str(tmp_path / "builds.json")!r}, "w") as handle:
            json.dump(builds, handle)
    """)
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    builds = json.loads((tmp_path / "builds.json").read_text())
    results = _results(tmp_path)
    assert results["distribution"]["replicas"] == 2
    trials = results["tuning"]["trials"]
    assert len(trials) == 2 and {trial["status"] for trial in trials} == {"COMPLETED"}
    # Each trial's model was built inside the strategy: its variables are mirrored on both replicas.
    # (KerasTuner also builds once outside it, to learn the search space; that model never trains.)
    in_trials = [build for build in builds if build["searching"] and build["mirrored"]]
    assert len(in_trials) == len(trials), builds
    assert all(build["replicas"] == 2 for build in in_trials), builds
    assert sorted(json.dumps(build["hyperparameters"], sort_keys=True) for build in in_trials) == sorted(
        json.dumps(trial["hyperparameters"], sort_keys=True) for trial in trials)
    # ... and so was the best model, retrained after the search.
    assert not builds[-1]["searching"] and builds[-1]["mirrored"], builds
