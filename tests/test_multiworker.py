"""Scale-out on 127.0.0.1: MultiWorkerMirroredStrategy workers, KerasTuner's distributed search, zoo launch.

Every multi-process test goes through ``python -m zoo.launch`` (which only binds 127.0.0.1)
under a hard deadline; whatever happens, the launcher and every process it started (their
pids are in its log) are SIGKILLed at the end of the test, and the tests that pass check
that none of them is left. Also here: TF_CONFIG and KerasTuner environment errors, and the
GPU check script run small on the CPU under JAX.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import numpy as np
import pytest

import zoo
from zoo import distributed, tuning

ROOT = Path(__file__).resolve().parents[1]
# 30 epochs at 3e-3: both the single process and the 2-worker cluster settle near 0.97 on digits,
# so "within one point" compares converged runs, not two points on a steep curve.
# Random shifts draw per replica, so two workers and one process would see other images: off here, where the
# comparison is of the arithmetic. The recipe's default network, trained without them, still reads digits.
MWMS_FLAGS = ["--epochs", "30", "--learning-rate", "3e-3", "--shift", "0"]
MWMS_EPOCHS = 30


def _env(**extra):
    env = {k: v for k, v in os.environ.items() if k != "TF_CONFIG" and not k.startswith("KERASTUNER_")}
    env.update(TF_CPP_MIN_LOG_LEVEL="2", PYTHONUNBUFFERED="1", **extra)
    return env


def _started_pids(log: Path) -> dict[str, list[int]]:
    """{"worker 0": [pid, pid after a restart], ...} from the launcher's "started pid" lines."""
    pids: dict[str, list[int]] = {}
    text = log.read_text(errors="replace") if log.exists() else ""
    for name, pid in re.findall(r"^\[([^\]]+)\] started pid (\d+)", text, flags=re.M):
        pids.setdefault(name, []).append(int(pid))
    return pids


def _alive(pid: int) -> bool:
    """Whether anything is left in the process group the launcher gave this process."""
    try:
        os.killpg(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


@contextlib.contextmanager
def _launch(tmp_path: Path, args: list[str], name: str = "launch", env=None):
    """Start ``python -m zoo.launch ARGS``; yields (process, log). Always ends with everything SIGKILLed."""
    log = tmp_path / f"{name}.log"
    with log.open("wb") as handle:
        launcher = subprocess.Popen([sys.executable, "-m", "zoo.launch", *args], stdout=handle,
                                    stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, cwd=ROOT,
                                    env=env or _env(), start_new_session=True)
    try:
        yield launcher, log
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(launcher.pid, signal.SIGKILL)
        for pids in _started_pids(log).values():
            for pid in pids:
                with contextlib.suppress(ProcessLookupError, PermissionError):
                    os.killpg(pid, signal.SIGKILL)
        launcher.wait(timeout=30)


def _wait(launcher, log: Path, timeout: float) -> int:
    try:
        return launcher.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        pytest.fail(f"zoo launch still running after {timeout} s; its log ends:\n{log.read_text()[-4000:]}")


def _wait_for(condition, timeout: float, what: str, launcher, log: Path):
    """Poll ``condition()`` until it returns something truthy; fail (with the log) on timeout or early exit."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        if launcher.poll() is not None:
            pytest.fail(f"zoo launch exited ({launcher.returncode}) before {what}:\n{log.read_text()[-4000:]}")
        time.sleep(0.1)
    pytest.fail(f"no {what} within {timeout} s:\n{log.read_text()[-4000:]}")


def _assert_nothing_left(log: Path, workers: int = 2, chief: bool = False):
    """Every process the launcher started (``workers`` workers, and a chief if asked) is gone.

    The pids come from the log's "started pid" lines: without them there is nothing to check, so
    a log that lacks them (or names other processes) fails here rather than passing unseen.
    """
    started = _started_pids(log)
    expected = {f"worker {index}" for index in range(workers)} | ({"chief"} if chief else set())
    assert set(started) == expected, (f"'started pid' lines for {sorted(started)}, expected {sorted(expected)}; "
                                      f"the log ends:\n{log.read_text(errors='replace')[-2000:]}")
    left = {name: [p for p in pids if _alive(p)] for name, pids in started.items()}
    assert not any(left.values()), f"processes left behind: {left}"


def _load(path: Path):
    """A run's model.keras, loaded as a user would: zoo.layers registers the zoo's layers and losses."""
    import keras

    import zoo.layers  # noqa: F401

    return keras.saving.load_model(path)


def _weights(path: Path):
    return _load(path).get_weights()


@pytest.fixture(scope="module")
def two_worker_run(tmp_path_factory):
    """The mlp recipe on a 2-worker MWMS cluster, uninterrupted: (out folder, launcher log)."""
    tmp_path = tmp_path_factory.mktemp("mwms")
    out = tmp_path / "run"
    with _launch(tmp_path, ["--workers", "2", "--timeout", "300", "--", "zoo.recipes.mlp", "--distribute",
                            "multi_worker", *MWMS_FLAGS, "--out", str(out)]) as (launcher, log):
        assert _wait(launcher, log, 360) == 0, log.read_text()[-4000:]
    return out, log


# ---------------------------------------------------------------------------- multi-worker training

def test_two_workers_agree_and_match_the_single_process_run(two_worker_run, tmp_path):
    from zoo.recipes import mlp

    out, log = two_worker_run
    results = json.loads((out / "results.json").read_text())
    assert results["distribution"] == {"strategy": "MultiWorkerMirroredStrategy", "replicas": 2}
    assert results["metrics"]["epochs_run"] == MWMS_EPOCHS
    # Only the chief reports; the other worker keeps its model apart, and nothing else.
    worker = out / "workers" / "worker-1"
    assert sorted(p.name for p in worker.iterdir() if not p.name.startswith(".")) == ["model.keras"]  # .lock aside
    assert not (out / "checkpoints").exists()  # removed once the run finished
    history = (out / "history.csv").read_text().splitlines()
    assert len(history) == 1 + MWMS_EPOCHS
    # Every step all-reduced the gradients: both replicas end with the very same weights.
    chief_weights, worker_weights = _weights(out / "model.keras"), _weights(worker / "model.keras")
    assert len(chief_weights) == len(worker_weights) > 0
    assert all(np.array_equal(a, b) for a, b in zip(chief_weights, worker_weights))
    # The same flags in one process, through fit.
    single = float(mlp.main(["--distribute", "off", *MWMS_FLAGS, "--out", str(tmp_path / "single")]))
    multi = results["metrics"]["test_accuracy"]
    print(f"test accuracy: 2 workers {multi:.4f}, one process {single:.4f}")
    assert multi > 0.9 and abs(multi - single) <= 0.01
    _assert_nothing_left(log)


def test_two_workers_train_a_sentiment_recipe_with_text_in_the_pipeline(tmp_path):
    """The text pipeline (vectorizer adapted on every worker) through the same loop: replicas agree."""
    out = tmp_path / "run"
    with _launch(tmp_path, ["--workers", "2", "--timeout", "300", "--", "zoo.recipes.lstm_sentiment", "--quick",
                            "--distribute", "multi_worker", "--out", str(out)]) as (launcher, log):
        assert _wait(launcher, log, 360) == 0, log.read_text()[-4000:]
    results = json.loads((out / "results.json").read_text())
    assert results["distribution"] == {"strategy": "MultiWorkerMirroredStrategy", "replicas": 2}
    assert results["metrics"]["epochs_run"] == 1 and results["metrics"]["test_accuracy"] > 0.5
    chief, worker = _load(out / "model.keras"), _load(out / "workers" / "worker-1" / "model.keras")
    assert chief.get_layer("vectorizer").get_vocabulary() == worker.get_layer("vectorizer").get_vocabulary()
    assert all(np.array_equal(a, b) for a, b in zip(chief.get_weights(), worker.get_weights()))
    _assert_nothing_left(log)


def test_a_killed_worker_is_restarted_and_the_run_completes(two_worker_run, tmp_path):
    uninterrupted, _ = two_worker_run
    out = tmp_path / "run"
    args = ["--workers", "2", "--max-restarts", "1", "--grace", "5", "--timeout", "300", "--",
            "zoo.recipes.mlp", "--distribute", "multi_worker", *MWMS_FLAGS, "--out", str(out)]
    with _launch(tmp_path, args) as (launcher, log):
        _wait_for(lambda: (out / "checkpoints" / "ckpt-3.index").exists(), 240, "checkpoint of epoch 3",
                  launcher, log)
        victim = _started_pids(log)["worker 1"][0]
        os.kill(victim, signal.SIGKILL)
        assert _wait(launcher, log, 300) == 0, log.read_text()[-4000:]
    text = log.read_text()
    assert "worker 1 exited with -9" in text and "restarting all 2 workers" in text
    assert re.search(r"\[worker 0\] worker-0: resumed from .*ckpt-\d+ at epoch \d+", text), text[-4000:]
    results = json.loads((out / "results.json").read_text())
    assert results["metrics"]["epochs_run"] == MWMS_EPOCHS
    epochs = [int(line.split(",")[0]) for line in (out / "history.csv").read_text().splitlines()[1:]]
    assert epochs == list(range(MWMS_EPOCHS))  # each epoch once: rows after the checkpoint were dropped
    # The checkpoint holds the whole state (optimizer, dropout seeds, early stopping, data order by
    # epoch), so the resumed run ends where the uninterrupted one did.
    expected = json.loads((uninterrupted / "results.json").read_text())["metrics"]["test_accuracy"]
    assert abs(results["metrics"]["test_accuracy"] - expected) <= 0.01
    for resumed, straight in zip(_weights(out / "model.keras"), _weights(uninterrupted / "model.keras")):
        np.testing.assert_allclose(resumed, straight, rtol=1e-4, atol=1e-5)
    assert len(_started_pids(log)["worker 1"]) == 2
    _assert_nothing_left(log)


# ---------------------------------------------------------------------------- distributed tuning

def test_distributed_search_finishes_after_a_worker_is_killed_mid_trial(tmp_path):
    out = tmp_path / "run"
    oracle = out / "tuner" / "mlp" / "oracle.json"
    args = ["--workers", "2", "--tuning", "--max-restarts", "1", "--grace", "5", "--timeout", "400", "--",
            "zoo.recipes.mlp", "--quick", "--tune", "random", "--max-trials", "4", "--out", str(out)]

    def trial_of_tuner0():
        with contextlib.suppress(OSError, ValueError):
            return json.loads(oracle.read_text())["ongoing_trials"].get("tuner0")

    with _launch(tmp_path, args) as (launcher, log):
        trial_id = _wait_for(trial_of_tuner0, 240, "trial for worker tuner0", launcher, log)
        os.kill(_started_pids(log)["worker 0"][0], signal.SIGKILL)
        trial_file = out / "tuner" / "mlp" / f"trial_{trial_id}" / "trial.json"
        assert json.loads(trial_file.read_text())["status"] == "RUNNING"  # killed mid-trial
        assert _wait(launcher, log, 400) == 0, log.read_text()[-4000:]
    text = log.read_text()
    assert "worker 0 exited with -9" in text and "restarting worker 0" in text
    assert "[worker 0] tuner worker tuner0: no trials left" in text
    assert "[worker 1] tuner worker tuner1: no trials left" in text
    results = json.loads((out / "results.json").read_text())  # written by the chief alone
    trials = {trial["trial_id"]: trial for trial in results["tuning"]["trials"]}
    assert len(trials) == 4 and {trial["status"] for trial in trials.values()} == {"COMPLETED"}
    assert trials[trial_id]["status"] == "COMPLETED"  # the restarted tuner0 got its trial back
    best = max(trials.values(), key=lambda trial: trial["score"])
    assert results["tuning"]["best"] == best["hyperparameters"]
    assert results["metrics"]["test_accuracy"] > 0.5
    print(f"best of 4 trials (score {best['score']:.4f}): {best['hyperparameters']}")
    _assert_nothing_left(log, chief=True)


# ---------------------------------------------------------------------------- zoo launch

FAKE_WORKER = textwrap.dedent("""
    # Worker 1 fails after a moment; worker 0 ignores SIGTERM, as an MWMS peer blocked in a collective does.
    import json, os, signal, sys, time
    index = json.loads(os.environ["TF_CONFIG"])["task"]["index"]
    print("up", flush=True)
    if index == 1 and os.environ.get("FAKE_MODE") == "fail":
        time.sleep(0.5)
        sys.exit(3)
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    time.sleep(600)
""")


@pytest.mark.no_keras
@pytest.mark.parametrize("mode, expected_status, expected_line", [
    ("fail", 1, "worker 1 exited with 3"),
    ("hang", 124, "--timeout 4 s reached"),
])
def test_launch_stops_the_whole_cluster_quickly(tmp_path, mode, expected_status, expected_line):
    (tmp_path / "fake_worker.py").write_text(FAKE_WORKER)
    env = _env(PYTHONPATH=str(tmp_path), FAKE_MODE=mode)
    started = time.monotonic()
    with _launch(tmp_path, ["--workers", "2", "--grace", "1", "--timeout", "4", "--", "fake_worker"],
                 env=env) as (launcher, log):
        status = _wait(launcher, log, 60)
    elapsed = time.monotonic() - started
    text = log.read_text()
    assert status == expected_status, text
    assert expected_line in text and "[worker 0] up" in text and "[worker 1] up" in text
    assert "[worker 0] still running 1 s after SIGTERM: SIGKILL" in text
    assert elapsed < 30, f"launch took {elapsed:.1f} s to give up"
    _assert_nothing_left(log)


@pytest.mark.no_keras
def test_launch_stops_everything_on_ctrl_c(tmp_path):
    (tmp_path / "fake_worker.py").write_text(FAKE_WORKER)
    env = _env(PYTHONPATH=str(tmp_path), FAKE_MODE="hang")
    with _launch(tmp_path, ["--workers", "2", "--grace", "1", "--", "fake_worker"], env=env) as (launcher, log):
        _wait_for(lambda: log.read_text().count(" up\n") == 2, 30, "both workers up", launcher, log)
        os.kill(launcher.pid, signal.SIGINT)
        assert _wait(launcher, log, 30) == 130
    assert "interrupted: stopping everything" in log.read_text()
    _assert_nothing_left(log)


@pytest.mark.no_keras
@pytest.mark.parametrize("argv, message", [
    (["--workers", "2", "--", "zoo.recipes.mlp", "--epochs", "3"], "add --distribute multi_worker"),
    (["--workers", "2", "--tuning", "--", "zoo.recipes.mlp"], "give zoo.recipes.mlp a tuner"),
    (["--workers", "2", "--", "recipes.mpl", "--distribute", "multi_worker"], "no recipe module 'zoo.recipes.mpl'"),
    (["--workers", "0", "--", "zoo.recipes.mlp", "--distribute", "multi_worker"], "--workers=0 must be >= 1"),
    (["--workers", "2"], "say what to run after --"),
])
def test_launch_refuses_bad_commands_before_starting_anything(argv, message, capsys):
    from zoo import launch

    assert launch.main(argv) == 2
    assert message in capsys.readouterr().err


# ---------------------------------------------------------------------------- configuration errors

@pytest.mark.no_keras
@pytest.mark.parametrize("tf_config, message", [
    (None, "TF_CONFIG, which is not set"),
    ("{cluster", "is not valid JSON"),
    ('{"cluster": {"worker": ["127.0.0.1:1"]}}', 'needs a "cluster" object of jobs and a "task" object'),
    ('{"cluster": {"worker": ["localhost"]}, "task": {"type": "worker", "index": 0}}', 'must list "host:port"'),
    ('{"cluster": {"ps": ["a:1"]}, "task": {"type": "ps", "index": 0}}', "job 'ps' is not used"),
    ('{"cluster": {"worker": ["a:1", "b:2"]}, "task": {"type": "worker", "index": 2}}', "from 0 to 1"),
    ('{"cluster": {"worker": ["a:1"]}, "task": {"type": "chief", "index": 0}}', "task type 'chief' is not a job"),
])
def test_bad_tf_config_is_a_clear_error(tf_config, message):
    environ = {} if tf_config is None else {"TF_CONFIG": tf_config}
    with pytest.raises(distributed.ClusterConfigError, match=re.escape(message)) as caught:
        distributed.cluster_from_env(environ)
    assert "zoo launch" in str(caught.value) or (tf_config or "") in str(caught.value)


@pytest.mark.no_keras
def test_the_chief_is_the_chief_job_or_else_worker_0():
    workers = {"worker": ["a:1", "b:2"]}
    config = lambda cluster, kind, index: json.dumps({"cluster": cluster, "task": {"type": kind, "index": index}})  # noqa: E731
    assert distributed.cluster_from_env({"TF_CONFIG": config(workers, "worker", 0)}).is_chief
    assert not distributed.cluster_from_env({"TF_CONFIG": config(workers, "worker", 1)}).is_chief
    with_chief = {"chief": ["c:3"], **workers}
    assert distributed.cluster_from_env({"TF_CONFIG": config(with_chief, "chief", 0)}).is_chief
    assert not distributed.cluster_from_env({"TF_CONFIG": config(with_chief, "worker", 0)}).is_chief


def test_multi_worker_without_tf_config_fails_in_one_line(tmp_path, monkeypatch, capsys):
    from zoo.recipes import mlp
    from zoo.command import run_main

    monkeypatch.delenv("TF_CONFIG", raising=False)
    assert run_main(mlp.main, ["--distribute", "multi_worker", "--out", str(tmp_path)]) == 1
    assert "error: --distribute multi_worker reads the cluster from TF_CONFIG, which is not set" in capsys.readouterr().err


@pytest.mark.parametrize("recipe, argv, message", [
    ("perceptron", ["--distribute", "multi_worker"], "--distribute multi_worker is not available in zoo.recipes.perceptron"),
    ("mlp", ["--distribute", "multi_worker", "--tune", "random"], "KerasTuner's own distributed mode"),
])
def test_recipes_refuse_multi_worker_where_it_cannot_run(recipe, argv, message):
    import importlib

    from zoo.errors import FlagError

    with pytest.raises(FlagError, match=re.escape(message)):
        importlib.import_module(f"zoo.recipes.{recipe}").parse_args(argv)


@pytest.mark.no_keras
def test_distributed_tuning_environment_is_checked():
    ids = {"KERASTUNER_TUNER_ID": "tuner0", "KERASTUNER_ORACLE_IP": "127.0.0.1", "KERASTUNER_ORACLE_PORT": "8000"}
    assert tuning.distributed_role({}) is None
    assert tuning.distributed_role(ids) == "worker"
    assert tuning.distributed_role({**ids, "KERASTUNER_TUNER_ID": "chief"}) == "chief"
    with pytest.raises(ValueError, match="needs KERASTUNER_ORACLE_PORT too"):
        tuning.distributed_role({k: v for k, v in ids.items() if k != "KERASTUNER_ORACLE_PORT"})
    with pytest.raises(ValueError, match="KERASTUNER_ORACLE_PORT='http' must be a port number"):
        tuning.distributed_role({**ids, "KERASTUNER_ORACLE_PORT": "http"})


# ---------------------------------------------------------------------------- GPU check, small, on the CPU

@pytest.mark.no_keras
def test_gpu_check_runs_small_under_jax_with_two_devices_and_no_tensorflow(tmp_path):
    """The script the GPU machine runs, on 2 host devices: every entry, float32 and bf16, DataParallel splits batches."""
    out = tmp_path / "gpu_check.json"
    script = textwrap.dedent(f"""
        import runpy, sys
        sys.modules["tensorflow"] = None  # as on the GPU machines, where TensorFlow is not installed
        sys.argv = ["gpu_check.py", "--quick", "--out", {str(out)!r}]
        runpy.run_path({str(ROOT / "benchmarks" / "gpu_check.py")!r}, run_name="__main__")
    """)
    env = _env(KERAS_BACKEND="jax", XLA_FLAGS="--xla_force_host_platform_device_count=2")
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=240, env=env,
                          cwd=tmp_path)
    assert done.returncode == 0, done.stderr[-3000:]
    results = json.loads(out.read_text())
    assert results["devices"] == ["cpu:0", "cpu:1"] and results["precisions"] == ["float32", "mixed_bfloat16"]
    assert results["tensorflow_imported"] is False
    assert set(results["matmul_peak"]) == {"float32", "mixed_bfloat16"}
    assert sorted(results["entries"]) == sorted(zoo.list_models())
    for name, policies in results["entries"].items():
        for policy, numbers in policies.items():
            assert numbers["samples_per_s"] > 0 and numbers["loss_is_finite"], (name, policy, numbers)
            assert numbers["training_flops_per_sample"] > 0 and 0 < numbers["fraction_of_peak"], (name, numbers)
            assert len(numbers["warmup_epochs_s"]) == (1 if name == "style_transfer" else 2)
            if name != "style_transfer":  # one image cannot be split
                assert numbers["global_batch"] % 2 == 0
            assert re.search(rf"{name} +{policy}: +[0-9.]+ samples/s", done.stdout), done.stdout
        assert "test_accuracy" in policies["float32"] or name not in ("mlp", "mini_transformer")
