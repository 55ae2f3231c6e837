"""--tune with each KerasTuner kind, loud failures, resuming an interrupted search, and --distribute mirrored."""

import json
import os
import signal
import subprocess
import sys
import textwrap
import time

import pytest

from zoo import tuning


def _results(out):
    return json.loads((out / "results.json").read_text())


@pytest.mark.parametrize("kind", tuning.TUNERS)
def test_each_tuner_kind_completes_its_trials_and_retrains_the_best(tmp_path, kind):
    from recipes import mlp

    mlp.main(["--quick", "--tune", kind, "--max-trials", "2", "--out", str(tmp_path)])
    results = _results(tmp_path)
    trials = results["tuning"]["trials"]
    assert len(trials) == 2 and {trial["status"] for trial in trials} == {"COMPLETED"}
    assert all("learning_rate" in trial["hyperparameters"] for trial in trials)
    best_score = max(trial["score"] for trial in trials)
    best = next(trial for trial in trials if trial["score"] == best_score)
    assert results["tuning"]["best"] == best["hyperparameters"]
    assert json.loads((tmp_path / "tuner" / "trials.json").read_text()) == trials
    assert results["metrics"]["test_accuracy"] > 0.1


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


def test_an_interrupted_search_resumes_where_it_stopped(tmp_path):
    out = tmp_path / "run"
    command = [sys.executable, "-m", "recipes.mlp", "--quick", "--tune", "random", "--max-trials", "3",
               "--out", str(out)]
    first = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    try:
        first_trial = out / "tuner" / "mlp" / "trial_0" / "trial.json"
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline and first.poll() is None:
            if first_trial.exists() and json.loads(first_trial.read_text())["status"] == "COMPLETED":
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
        from recipes import mlp
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
        from recipes import mlp
        mlp.main(["--quick", "--distribute", "mirrored", "--tune", "random", "--max-trials", "2",
                  "--out", {str(tmp_path)!r}])
    """)
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    results = _results(tmp_path)
    assert results["distribution"]["replicas"] == 2
    assert {trial["status"] for trial in results["tuning"]["trials"]} == {"COMPLETED"}
