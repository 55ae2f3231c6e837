"""Run folders never lose work: kills, second runs, finished folders, other flags, NaN, bad flags.

The kill test is the promise in one piece: ``python -m zoo.recipes.mlp`` is SIGKILLed at
20 moments (while it starts, between epochs, while a checkpoint or the final model is
being written, after the results), rerun with the same ``--out`` each time, and must
end exactly where an uninterrupted run with the same seed ends.
"""

import csv
import json
import os
import signal
import subprocess
import sys
import time
import zipfile
from pathlib import Path

import pytest

MLP = [sys.executable, "-m", "zoo.recipes.mlp"]
# Short enough to rerun 20 times; early stopping ends it (after 18 epochs on this seed).
KILL_FLAGS = ["--epochs", "60", "--learning-rate", "1e-2", "--patience", "5"]
ENV = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3", "ZOO_OFFLINE": "1"}


def _history(out: Path) -> list[dict]:
    path = out / "history.csv"
    if not path.exists():
        return []
    with path.open() as handle:
        return list(csv.DictReader(handle))


def _partials(folder: Path, pattern: str) -> bool:
    return folder.is_dir() and any(folder.glob(pattern))


def _kill_when(out: Path, moment: str, argv: list[str], timeout: float = 120) -> str:
    """Start the run, SIGKILL it at ``moment``; returns what was seen when the signal went out."""
    process = subprocess.Popen([*MLP, *KILL_FLAGS, "--out", str(out), *argv], env=ENV, stdout=subprocess.DEVNULL,
                               stderr=subprocess.DEVNULL, start_new_session=True)
    rows_before = len(_history(out))
    kind, _, value = moment.partition(":")
    deadline = time.monotonic() + timeout
    seen = "exited"
    try:
        while time.monotonic() < deadline and process.poll() is None:
            checkpoints = out / "checkpoints" / "fit"
            if ((kind == "after" and time.monotonic() > deadline - timeout + float(value))
                    or (kind == "epochs" and len(_history(out)) >= rows_before + int(value))
                    or (kind == "checkpoint" and _partials(checkpoints, ".epoch-*.partial-*"))
                    or (kind == "generations" and checkpoints.is_dir()
                        and len(list(checkpoints.glob("epoch-*"))) >= int(value))
                    or (kind == "model" and _partials(out, ".model.partial-*"))
                    or (kind == "curves" and _partials(out, ".curves.partial-*"))
                    or (kind == "results" and (out / "results.json").exists())):
                seen = moment
                break
            time.sleep(0.0005)
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=30)
    return seen


def _assert_consistent(out: Path) -> None:
    """What a kill may leave: no half-written file under a real name, each epoch once."""
    epochs = [int(row["epoch"]) for row in _history(out)]
    assert epochs == list(range(len(epochs))), epochs
    if (out / "results.json").exists():
        json.loads((out / "results.json").read_text())
    if (out / "model.keras").exists():
        assert zipfile.is_zipfile(out / "model.keras")


@pytest.fixture(scope="module")
def uninterrupted(tmp_path_factory):
    out = tmp_path_factory.mktemp("uninterrupted") / "run"
    done = subprocess.run([*MLP, *KILL_FLAGS, "--out", str(out)], env=ENV, capture_output=True, text=True,
                          timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    return out


def test_twenty_kills_end_where_an_uninterrupted_run_ends(uninterrupted, tmp_path):
    out = tmp_path / "run"
    moments = (["after:1.0", "after:4.0", "epochs:1", "checkpoint", "epochs:1", "checkpoint", "epochs:2",
                "checkpoint", "epochs:1", "checkpoint", "epochs:2", "checkpoint", "epochs:1", "epochs:1",
                "checkpoint", "epochs:1"]
               + ["model", "model", "curves", "results"])
    landed = []
    for moment in moments:
        landed.append(_kill_when(out, moment, []))
        _assert_consistent(out)
        if (out / "results.json").exists():
            break
    print("kills:", landed)
    assert len([seen for seen in landed if seen != "exited"]) >= 15, landed
    assert "checkpoint" in landed and ("model" in landed or "curves" in landed), landed

    finished_before = (out / "results.json").exists()
    done = subprocess.run([*MLP, *KILL_FLAGS, "--out", str(out)], env=ENV, capture_output=True, text=True,
                          timeout=300)
    # A finished folder is refused (and loses the checkpoints a kill may have left); otherwise the run completes.
    assert done.returncode == (2 if finished_before else 0), done.stderr[-3000:]
    resumed, straight = (json.loads((folder / "results.json").read_text()) for folder in (out, uninterrupted))
    assert resumed["metrics"] == straight["metrics"]
    assert resumed["metrics"]["epochs_run"] < 60  # early stopping ended both, at the same epoch
    assert _history(out) == _history(uninterrupted)  # every epoch once, with the same losses
    assert not (out / "checkpoints" / "fit").exists()


def test_an_unreadable_checkpoint_falls_back_to_the_one_before(uninterrupted, tmp_path):
    out = tmp_path / "run"
    # Saving is skipped while it would cost more than a fifth of the time, so epochs alone do not say when.
    assert _kill_when(out, "generations:2", []) == "generations:2"
    generations = sorted((out / "checkpoints" / "fit").glob("epoch-*"))
    assert len(generations) >= 2  # the newest and the one before (a third lives until the newest is in place)
    (generations[-1] / "model.weights.h5").write_bytes(b"half a file")
    done = subprocess.run([*MLP, *KILL_FLAGS, "--out", str(out)], env=ENV, capture_output=True, text=True,
                          timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    warnings = [line for line in done.stderr.splitlines() if "is unreadable" in line]
    assert len(warnings) == 1 and generations[-1].name in warnings[0] and "Traceback" not in done.stderr
    straight = json.loads((uninterrupted / "results.json").read_text())
    assert json.loads((out / "results.json").read_text())["metrics"] == straight["metrics"]


def _run(argv, env=None, timeout=120, **kwargs):
    started = time.perf_counter()
    done = subprocess.run(argv, env=env or ENV, capture_output=True, text=True, timeout=timeout, **kwargs)
    return done, time.perf_counter() - started


def test_a_second_run_on_a_busy_folder_stops_at_once(tmp_path):
    out = tmp_path / "run"
    first = subprocess.Popen([*MLP, "--epochs", "12", "--out", str(out)], env=ENV, stdout=subprocess.DEVNULL,
                             stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 120
    while not _history(out) and time.monotonic() < deadline and first.poll() is None:
        time.sleep(0.05)
    second, seconds = _run([*MLP, "--epochs", "12", "--out", str(out)])
    assert second.returncode == 2 and seconds < 5
    assert second.stderr.strip().splitlines() == [second.stderr.strip()]  # one line
    assert second.stderr.startswith(f"error: {out} is in use by another run (pid {first.pid}")
    _, errors = first.communicate(timeout=300)
    assert first.returncode == 0, errors[-3000:]
    assert [int(row["epoch"]) for row in _history(out)] == list(range(12))  # the first run's rows, untouched
    assert json.loads((out / "results.json").read_text())["metrics"]["epochs_run"] == 12


@pytest.fixture(scope="module")
def finished(tmp_path_factory):
    out = tmp_path_factory.mktemp("finished") / "run"
    done = subprocess.run([*MLP, "--quick", "--out", str(out)], env=ENV, capture_output=True, text=True,
                          timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    return out


def test_a_finished_folder_is_not_trained_again_without_overwrite(finished):
    before = (finished / "results.json").read_bytes()
    done, seconds = _run([*MLP, "--quick", "--out", str(finished)])
    assert done.returncode == 2 and seconds < 5
    assert done.stderr.strip() == (f"error: {finished} holds a finished run (results.json); pass --overwrite to "
                                   "train again in it (its files are replaced), or choose another --out.")
    assert (finished / "results.json").read_bytes() == before


def test_overwrite_trains_a_finished_folder_again(tmp_path):
    from zoo.recipes import mlp

    mlp.main(["--quick", "--epochs", "1", "--out", str(tmp_path)])
    first = json.loads((tmp_path / "results.json").read_text())
    mlp.main(["--quick", "--epochs", "2", "--out", str(tmp_path), "--overwrite"])
    second = json.loads((tmp_path / "results.json").read_text())
    assert first["flags"]["epochs"] == 1 and second["flags"]["epochs"] == 2
    assert len(_history(tmp_path)) == 2


def _started(folder: Path, argv: list[str]) -> Path:
    """An unfinished run folder started with ``argv``: the run claims it, then stops before training."""
    from zoo.recipes import mlp
    from zoo.runs import Run

    with Run("mlp", mlp.parse_args([*argv, "--out", str(folder)])):
        pass
    assert (folder / "run.json").exists() and not (folder / "results.json").exists()
    return folder


@pytest.mark.parametrize("started_with, rerun_with, differences", [
    (["--learning-rate", "1e-3", "--dropout", "0.1"], ["--learning-rate", "0.05", "--dropout", "0.5"],
     ["--dropout 0.1 (now 0.5)", "--learning-rate 0.001 (now 0.05)"]),
    ([], ["--dataset", "mnist_5k"], ["--dataset 'digits' (now 'mnist_5k')"]),
    (["--tune", "random", "--max-trials", "3"], ["--tune", "bayesian", "--max-trials", "2"],
     ["--max-trials 3 (now 2)", "--tune 'random' (now 'bayesian')"]),
])
def test_resuming_with_other_flags_is_refused_with_the_differences(tmp_path, started_with, rerun_with, differences):
    out = _started(tmp_path / "run", started_with)
    done, seconds = _run([*MLP, *rerun_with, "--out", str(out)])
    assert done.returncode == 2 and seconds < 5, done.stderr
    assert done.stderr.startswith(f"error: {out} holds an unfinished run started with other flags: ")
    assert "; ".join(differences) in done.stderr and "Traceback" not in done.stderr


def test_a_nan_loss_stops_the_run_and_saves_nothing_as_a_result(tmp_path):
    done, _ = _run([*MLP, "--learning-rate", "1e30", "--epochs", "5", "--out", str(tmp_path)], timeout=300)
    assert done.returncode == 1, done.stderr[-3000:]
    assert done.stderr.strip().splitlines()[-1].startswith("error: the training loss became NaN or infinite in epoch")
    assert not (tmp_path / "results.json").exists() and not (tmp_path / "model.keras").exists()


# (recipe, flags, what the one error line must say) - each refused before TensorFlow is imported.
BAD_FLAGS = [
    ("mlp", ["--dataset", "nonsense"], "--dataset=nonsense is not a dataset: use one of digits, mnist_5k"),
    ("mlp", ["--dataset", "tfds:Not A Name"], "--dataset=tfds:Not A Name is not a tensorflow-datasets name"),
    ("mlp", ["--dataset", "rotten_tomatoes"], "--dataset=rotten_tomatoes holds text data with 2 classes; "
                                              "zoo.recipes.mlp reads tabular or image"),
    ("lstm_sentiment", ["--dataset", "mnist_5k"], "--dataset=mnist_5k holds image data with 10 classes; "
                                                  "zoo.recipes.lstm_sentiment reads text"),
    ("vgg16_transfer", ["--dataset", "rotten_tomatoes"], "zoo.recipes.vgg16_transfer reads image"),
    ("perceptron", ["--dataset", "digits"], "--dataset=digits holds tabular data with 10 classes; zoo.recipes.perceptron "
                                            "reads tabular with 2 classes"),
    ("mlp", ["--dropout", "1.5"], "--dropout=1.5 is out of range: use a finite number >= 0 and < 1"),
    ("mlp", ["--seed", "-1"], "--seed=-1 is out of range: use an integer from 0 to 4294967295"),
    ("mlp", ["--learning-rate", "inf"], "--learning-rate=inf is out of range: use a finite number > 0"),
    ("mlp", ["--learning-rate", "nan"], "--learning-rate=nan is out of range"),
    ("mlp", ["--epochs", "ten"], "--epochs=ten is not an integer from 1 to"),
    ("mlp", ["--out", ""], "--out='' is empty"),
    ("mlp", ["--out", "/dev/null"], "--out=/dev/null is a file, not a folder"),
    ("mlp", ["--out", "/proc/x"], "--out=/proc/x cannot be used as a run folder"),
    ("mlp", ["--tune", "grid"], "--tune: invalid choice: 'grid'"),
    ("vgg16_transfer", ["--weights", "bogus"], "--weights='bogus' is neither named weights (imagenet, hed_bsds500)"),
    ("vgg16_transfer", ["--fine-tune-layers", "99"], "--fine-tune-layers=99 is out of range: the base cut at "
                                                     "--feature-layer block4_pool has 10 conv layers; use 0 to 10"),
    ("style_transfer", ["--content", "/no/such.jpg"], "--content='/no/such.jpg' is neither a bundled photo"),
    ("style_transfer", ["--content-weight", "nan"], "--content-weight=nan is out of range"),
    ("lstm_sentiment", ["--max-tokens", "2"], "--max-tokens=2 is out of range: use an integer from 3 to"),
    ("perceptron", ["--distribute", "multi_worker"], "--distribute multi_worker is not available in "
                                                     "zoo.recipes.perceptron"),
]


@pytest.mark.parametrize("recipe, argv, message", BAD_FLAGS, ids=[f"{r}{'_'.join(a)}" for r, a, _ in BAD_FLAGS])
def test_a_bad_flag_is_one_error_line_in_under_two_seconds_without_tensorflow(tmp_path, recipe, argv, message):
    script = ("import sys; from zoo.command import run_main; from zoo.recipes import " + recipe + " as recipe; "
              f"status = run_main(recipe.main, {argv!r}); "
              "assert 'tensorflow' not in sys.modules and 'keras' not in sys.modules, 'imported TensorFlow'; "
              "sys.exit(status)")
    done, seconds = _run([sys.executable, "-c", script], cwd=tmp_path)
    assert done.returncode == 2, done.stderr
    assert seconds < 2, f"{seconds:.1f} s"
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ") and message in lines[0], done.stderr


def test_an_existing_file_as_out_is_refused(tmp_path):
    (tmp_path / "results.txt").write_text("keep me")
    done, _ = _run([*MLP, "--out", str(tmp_path / "results.txt")])
    assert done.returncode == 2 and "is a file, not a folder" in done.stderr
    assert (tmp_path / "results.txt").read_text() == "keep me"


def test_zoo_run_and_python_m_recipes_say_the_same(tmp_path):
    direct, _ = _run([*MLP, "--dropout", "1.5"])
    through, _ = _run([sys.executable, "-m", "zoo", "run", "mlp", "--dropout", "1.5"])
    assert (direct.returncode, direct.stderr) == (through.returncode, through.stderr) == (2, direct.stderr)


def test_an_unknown_tfds_name_is_one_error_line(tmp_path):
    done, _ = _run([*MLP, "--dataset", "tfds:nonexistent_ds", "--out", str(tmp_path / "run")],
                   env={**ENV, "TFDS_DATA_DIR": str(tmp_path)})
    assert done.returncode == 2 and "Traceback" not in done.stderr
    assert done.stderr.strip().splitlines()[-1].startswith(
        "error: dataset 'tfds:nonexistent_ds' does not exist in tensorflow-datasets")


def test_more_labels_than_the_split_holds_is_one_error_line(tmp_path):
    done, _ = _run([sys.executable, "-m", "zoo.recipes.vgg16_transfer", "--labels", "4000", "--skip-scratch",
                    "--out", str(tmp_path / "run")])
    assert done.returncode == 2 and "Traceback" not in done.stderr, done.stderr[-2000:]
    assert done.stderr.strip().splitlines()[-1] == (
        "error: train_size=4000 must be between 1 and the 3800 training examples this split leaves "
        "(recipes: --labels); ask for at most 3800.")


def test_quick_sets_defaults_and_flags_given_win():
    from zoo.recipes import mlp, style_transfer, vgg16_transfer

    assert mlp.parse_args(["--quick"]).epochs == mlp.QUICK_EPOCHS
    assert mlp.parse_args(["--quick", "--epochs", "50"]).epochs == 50
    assert vgg16_transfer.parse_args(["--quick"]).labels == vgg16_transfer.QUICK_LABELS
    assert vgg16_transfer.parse_args(["--quick", "--labels", "100"]).labels == 100
    assert style_transfer.parse_args(["--quick", "--max-side", "128"]).max_side == 128


@pytest.mark.no_keras
def test_every_recipe_main_reads_as_a_short_story():
    """The plumbing lives in zoo.runs and zoo.command: each recipe's main() fits on one screen."""
    import ast

    paths = sorted((Path(__file__).resolve().parents[1] / "zoo" / "recipes").glob("*.py"))
    assert len(paths) >= 6
    for path in paths:
        for node in ast.parse(path.read_text()).body:
            if isinstance(node, ast.FunctionDef) and node.name == "main":
                assert node.end_lineno - node.lineno + 1 <= 40, f"{path.name}: main() is too long"


# ------------------------------------------------------------------ atomic files (zoo.files)

def test_json_files_are_standard_json_indented_by_two_and_one_line_on_request(tmp_path):
    from zoo.files import atomic_write_json

    value = {"accuracy": float("nan"), "loss": [float("inf"), 0.5], "out": tmp_path / "run", "shape": (2, 3)}
    text = atomic_write_json(tmp_path / "a.json", value).read_text()
    assert text == ('{\n  "accuracy": null,\n  "loss": [\n    null,\n    0.5\n  ],\n'
                    f'  "out": "{tmp_path / "run"}",\n  "shape": [\n    2,\n    3\n  ]\n}}\n')
    assert json.loads(text, parse_constant=pytest.fail)["out"] == str(tmp_path / "run")   # no NaN for strict parsers
    one_line = atomic_write_json(tmp_path / "b.json", {"a": [1, 2], "b": None}, indent=None).read_text()
    assert one_line == '{"a":[1,2],"b":null}\n'
    assert atomic_write_json(tmp_path / "c.json", [1], indent=4).read_text() == "[\n    1\n]\n"
    assert sorted(path.name for path in tmp_path.iterdir()) == ["a.json", "b.json", "c.json"]   # no partial left


def test_text_files_are_utf8_whatever_the_locale(tmp_path, ascii_locale_env):
    code = "import sys; from zoo.files import atomic_write_text; atomic_write_text(sys.argv[1], 'caf\\u00e9 \\u2014 \\u6771')"
    subprocess.run([sys.executable, "-c", code, str(tmp_path / "t.txt")], env=ascii_locale_env, check=True, timeout=60)
    assert (tmp_path / "t.txt").read_bytes() == "caf\u00e9 \u2014 \u6771".encode()


@pytest.mark.no_keras
def test_a_locked_file_waits_for_its_holder_and_is_free_again_after(tmp_path):
    from zoo.files import locked

    report = tmp_path / "report.json"
    # The other process: takes the lock (waiting for it if held), then writes when it got it.
    code = ("import sys, time; from zoo.files import locked\n"
            "with locked(sys.argv[1]):\n    print(time.monotonic(), flush=True)")
    with locked(report) as path:
        assert path == report and (tmp_path / ".report.json.lock").is_file()   # beside the file, hidden
        waiter = subprocess.Popen([sys.executable, "-c", code, str(report)], stdout=subprocess.PIPE, text=True)
        time.sleep(3)   # far longer than the child needs to start and import zoo.files
        assert waiter.poll() is None, "the other process took a held lock"
        released = time.monotonic()
    got, _ = waiter.communicate(timeout=60)
    assert waiter.returncode == 0 and float(got) >= released
    with locked(report), locked(tmp_path / "other.json"):   # free again, and each file has its own
        pass


# ---------------------------------------------------------------------------------------------------------------------
# The run layer in this process: a toy recipe over the digits, so every promise above is also checked in seconds, with
# the exact files and values a run writes (the kill tests above check the same promises end to end, in minutes).

TOY_ARGV = ["--epochs", "3"]


def _toy_args(folder, **flags):
    import argparse

    values = {"out": str(folder), "seed": 0, "epochs": 3, "learning_rate": 0.01, "argv": TOY_ARGV, **flags}
    return argparse.Namespace(**values)


def _toy_model(learning_rate=0.01):
    import keras

    model = keras.Sequential([keras.Input((64,)), keras.layers.Rescaling(1 / 16),
                              keras.layers.Dense(10, activation="softmax")])
    model.compile(optimizer=keras.optimizers.Adam(learning_rate), loss="sparse_categorical_crossentropy",
                  metrics=["accuracy"])
    return model


@pytest.fixture(scope="module")
def digits():
    from zoo import data

    return data.load("digits", seed=0)


@pytest.fixture(scope="module")
def toy_run(tmp_path_factory, digits):
    """A finished toy run, trained once for the tests that read it: three epochs with early stopping, evaluated,
    saved, finished with a baseline."""
    import contextlib
    import io

    import keras

    from zoo.runs import Run

    folder, printed = tmp_path_factory.mktemp("toy") / "toy", io.StringIO()
    keras.utils.set_random_seed(0)
    with contextlib.redirect_stdout(printed), Run("toy", _toy_args(folder)) as run:
        model = _toy_model()
        fitted = run.fit(model, digits, batch_size=64, epochs=3, patience=5, monitor="val_accuracy")
        metrics = run.evaluate(model, digits)
        run.save_model(model)
        path = run.finish(metrics, headline="toy headline", baseline={"headline": "toy baseline"}, data=digits,
                          extra_key=7)
    return {"folder": folder, "fitted": fitted, "metrics": metrics, "model": model, "path": path,
            "out": printed.getvalue(), "results": json.loads((folder / "results.json").read_text())}


def test_a_finished_toy_run_writes_its_results_and_drops_its_checkpoints(toy_run, digits):
    import datetime

    import keras

    from zoo import fingerprint

    folder, results = toy_run["folder"], toy_run["results"]
    assert toy_run["path"] == folder / "results.json"
    assert sorted(path.name for path in folder.iterdir()) == [
        ".lock", "MODEL_CARD.md", "curves.png", "history.csv", "logs", "model.keras", "results.json", "run.json"]
    assert results["recipe"] == "toy" and results["command"] == "python -m zoo.recipes.toy --epochs 3"
    assert results["flags"] == {"seed": 0, "epochs": 3, "learning_rate": 0.01}
    assert results["headline"] == "toy headline" and results["baseline"] == {"headline": "toy baseline"}
    assert results["metrics"] == toy_run["metrics"] and results["extra_key"] == 7
    assert results["data"] == digits.describe() and results["tuning"] is None and results["use"] is None
    default = "_DefaultDistributionStrategy" if keras.backend.backend() == "tensorflow" else "_Single"
    assert results["distribution"] == {"strategy": default, "replicas": 1}
    assert 0 < results["wall_time_s"] < 300
    finished = datetime.datetime.fromisoformat(results["finished"])
    assert finished.utcoffset() == datetime.timedelta(0)
    assert abs((datetime.datetime.now(datetime.timezone.utc) - finished).total_seconds()) < 300
    assert results["epoch_seconds"]["fit"]["epochs_timed"] == 3 and list(results["epoch_seconds"]) == ["fit"]
    assert results["fingerprint"] == fingerprint.of_recipe("toy")
    assert results["environment"]["keras_backend"] == os.environ.get("KERAS_BACKEND", "tensorflow")
    started = json.loads((folder / "run.json").read_text())
    assert started["recipe"] == "toy" and started["flags"] == results["flags"]
    assert started["command"] == results["command"] and started["started"] <= results["finished"]
    assert "/step" not in toy_run["out"]   # fit is silent (verbose=0): the run prints its own few lines
    assert toy_run["out"].splitlines()[-2:] == ["baseline, same split: toy baseline",
                                                f"toy headline; wrote {folder / 'results.json'}"]


def test_a_toy_run_trains_evaluates_and_saves_what_it_trained(toy_run, digits):
    import numpy as np

    from zoo.runs import load_saved_model

    fitted, metrics, model = toy_run["fitted"], toy_run["metrics"], toy_run["model"]
    assert fitted.epochs_run == 3 and [int(row["epoch"]) for row in fitted.rows] == [0, 1, 2]
    assert fitted.best_epoch == 1 + max(range(3), key=lambda epoch: float(fitted.rows[epoch]["val_accuracy"]))
    assert 0 < fitted.seconds < 300 and fitted.value is not None   # the History that Keras's fit returned
    assert [int(row["epoch"]) for row in _history(toy_run["folder"])] == [0, 1, 2]
    assert sorted(metrics) == ["test_accuracy", "test_loss", "validation_accuracy"]
    for split in ("validation", "test"):
        loss, accuracy = model.evaluate(digits.evaluation_batches(split, 256), verbose=0)
        assert metrics[f"{split}_accuracy"] == round(float(accuracy), 4)
        if split == "test":
            assert metrics["test_loss"] == round(float(loss), 4)
    assert metrics["validation_accuracy"] > 0.8   # three epochs of a linear model on the digits
    saved = load_saved_model(toy_run["folder"] / "model.keras")
    x, _ = next(iter(digits.evaluation_batches("test", 32)))
    assert np.allclose(saved.predict(x, verbose=0), model.predict(x, verbose=0), atol=1e-6)


def test_a_toy_run_draws_loss_and_accuracy_curves(toy_run):
    from PIL import Image

    with Image.open(toy_run["folder"] / "curves.png") as image:
        assert image.format == "PNG" and image.size == (1000, 360)   # two panels, 5 x 3.6 inches each, at 100 dpi


def test_the_lock_names_the_run_and_a_second_run_on_the_folder_is_refused(tmp_path):
    from zoo.errors import RunFolderError
    from zoo.runs import Run

    with Run("toy", _toy_args(tmp_path)) as first:
        holder = (tmp_path / ".lock").read_text()
        assert holder.startswith(f"pid {os.getpid()}, `python -m zoo.recipes.toy --epochs 3`, since ")
        with pytest.raises(RunFolderError) as refused:
            Run("toy", _toy_args(tmp_path)).__enter__()
        assert str(refused.value) == (f"{tmp_path} is in use by another run ({holder}); wait for it to end, or "
                                      "choose another --out.")
        assert first._lock_handle is not None
    assert first._lock_handle is None
    with Run("toy", _toy_args(tmp_path)):   # released: the folder's run can be resumed
        pass


def test_a_failed_claim_lets_go_of_the_lock(tmp_path):
    from zoo.errors import RunFolderError
    from zoo.runs import Run

    (tmp_path / "notes.txt").write_text("mine")
    with pytest.raises(RunFolderError):
        Run("toy", _toy_args(tmp_path)).__enter__()
    (tmp_path / "notes.txt").unlink()
    with Run("toy", _toy_args(tmp_path)):   # the failed claim let go of the lock
        pass


@pytest.mark.parametrize("names, shown", [
    (["a.txt"], "a.txt"),
    (["f.txt", "e.txt", "d.txt", "c.txt", "b.txt"], "b.txt, c.txt, d.txt, e.txt, f.txt"),
    (["f.txt", "e.txt", "d.txt", "c.txt", "b.txt", "a.txt"], "a.txt, b.txt, c.txt, d.txt, e.txt, ..."),
])
def test_a_folder_of_other_files_is_refused_naming_the_first_five(tmp_path, names, shown):
    from zoo.errors import RunFolderError
    from zoo.runs import Run

    for name in names:
        (tmp_path / name).write_text("")
    (tmp_path / ".hidden").write_text("")
    (tmp_path / "workers").mkdir()
    with pytest.raises(RunFolderError) as refused:
        with Run("toy", _toy_args(tmp_path)):
            pass
    assert str(refused.value) == f"--out={tmp_path} holds other files ({shown}) and no run; choose a new or empty folder."
    assert not (tmp_path / "run.json").exists()


def test_hidden_files_and_workers_alone_do_not_make_a_folder_taken(tmp_path):
    from zoo.runs import Run

    (tmp_path / ".hidden").write_text("")
    (tmp_path / "workers").mkdir()
    with Run("toy", _toy_args(tmp_path)):
        pass
    assert (tmp_path / "run.json").exists()


@pytest.mark.parametrize("checkpoints", [True, False])
def test_a_finished_folder_is_refused_in_process_and_its_stale_checkpoints_dropped(tmp_path, checkpoints):
    from zoo.errors import RunFolderError
    from zoo.runs import Run

    (tmp_path / "results.json").write_text("{}")
    if checkpoints:   # left by a kill between writing the results and removing them
        (tmp_path / "checkpoints" / "fit").mkdir(parents=True)
    with pytest.raises(RunFolderError) as refused:
        with Run("toy", _toy_args(tmp_path)):
            pass
    assert str(refused.value) == (f"{tmp_path} holds a finished run (results.json); pass --overwrite to train again "
                                  "in it (its files are replaced), or choose another --out.")
    assert not (tmp_path / "checkpoints").exists() and (tmp_path / "results.json").read_text() == "{}"


@pytest.mark.parametrize("left", ["results.json", "run.json"])
def test_overwrite_clears_everything_but_the_lock(tmp_path, left):
    from zoo.runs import Run

    outside = tmp_path / "outside"
    (outside / "kept").mkdir(parents=True)
    folder = tmp_path / "run"
    (folder / "checkpoints" / "fit").mkdir(parents=True)
    (folder / left).write_text("{}")
    (folder / "model.keras").write_text("old")
    (folder / "linked").symlink_to(outside)
    with Run("toy", _toy_args(folder, overwrite=True)):
        assert sorted(path.name for path in folder.iterdir()) == [".lock", "run.json"]
    assert (outside / "kept").is_dir()   # a link is removed, not what it points to


def test_resuming_says_so_and_keeps_the_first_start(tmp_path, capsys):
    from zoo.runs import Run

    with Run("toy", _toy_args(tmp_path)):
        pass
    first = (tmp_path / "run.json").read_text()
    capsys.readouterr()
    with Run("toy", _toy_args(tmp_path, argv=["--epochs", "3", "--out", str(tmp_path)])):
        pass
    assert capsys.readouterr().err == f"resuming the run in {tmp_path}\n"
    assert (tmp_path / "run.json").read_text() == first


def test_flags_that_json_cannot_hold_are_compared_as_text(tmp_path):
    from zoo.runs import Run

    with Run("toy", _toy_args(tmp_path, data_dir=Path("my data"))):
        pass
    assert json.loads((tmp_path / "run.json").read_text())["flags"]["data_dir"] == "my data"
    with Run("toy", _toy_args(tmp_path, data_dir=Path("my data"))):   # resumes
        pass


def test_resuming_with_other_flags_in_process_lists_each_difference(tmp_path):
    from zoo.errors import RunFolderError
    from zoo.runs import Run

    with Run("toy", _toy_args(tmp_path, sizes=(1, 2))):
        pass
    with Run("toy", _toy_args(tmp_path, sizes=[1, 2])):   # a tuple is stored as a list: the same flags
        pass
    with pytest.raises(RunFolderError) as refused:
        with Run("toy", _toy_args(tmp_path, learning_rate=0.5, sizes=(1, 2), dropout_rate=0.1)):
            pass
    assert str(refused.value) == (
        f"{tmp_path} holds an unfinished run started with other flags: --dropout-rate None (now 0.1); "
        "--learning-rate 0.01 (now 0.5). Rerun with its flags to resume it, pass --overwrite to start again, or "
        "choose another --out.")


@pytest.mark.parametrize("content", ["not json", "[1]", '{"recipe": "toy"}'])
def test_an_unreadable_run_json_is_refused_with_the_fix(tmp_path, content):
    from zoo.errors import RunFolderError
    from zoo.runs import Run

    (tmp_path / "run.json").write_text(content)
    with pytest.raises(RunFolderError) as refused:
        with Run("toy", _toy_args(tmp_path)):
            pass
    message = str(refused.value)
    assert message.startswith(f"{tmp_path / 'run.json'} cannot be read (")
    assert message.endswith("); pass --overwrite to start the run again, or choose another --out.")


def test_without_out_a_run_gets_a_dated_folder_under_runs():
    import argparse
    import re

    from zoo.runs import Run

    run = Run("toy", argparse.Namespace(seed=0))
    assert run.folder.parent == Path("runs") and re.fullmatch(r"toy-\d{8}-\d{6}", run.folder.name)
    assert Run("toy", argparse.Namespace(seed=0, out="")).folder.parent == Path("runs")


def test_the_command_is_the_recipe_and_its_arguments_quoted_for_a_shell(tmp_path, monkeypatch):
    from zoo.runs import Run

    assert Run("toy", _toy_args(tmp_path, argv=["--out", "my runs/a"])).command == \
        "python -m zoo.recipes.toy --out 'my runs/a'"
    monkeypatch.setattr(sys, "argv", ["prog", "--seed", "4"])
    assert Run("toy", _toy_args(tmp_path, argv=None)).command == "python -m zoo.recipes.toy --seed 4"
    assert Run("toy", _toy_args(tmp_path, argv=[])).command == "python -m zoo.recipes.toy"


def test_setting_up_seeds_keras_and_sets_the_precision(tmp_path):
    import keras

    from zoo.runs import Run

    draws = []
    for folder, precision in (("a", "mixed_bfloat16"), ("b", "float32")):
        with Run("toy", _toy_args(tmp_path / folder, seed=5, precision=precision)) as run:
            draws.append(float(keras.random.uniform(())))
            assert keras.config.dtype_policy().name == precision
            assert run.scope() is not None
    assert draws[0] == draws[1]
    keras.utils.set_random_seed(6)
    assert float(keras.random.uniform(())) != draws[0]


def test_a_tuning_worker_keeps_its_files_apart_and_leaves_the_results_to_the_chief(tmp_path, monkeypatch, capsys):
    from zoo.runs import Run

    monkeypatch.setenv("KERASTUNER_TUNER_ID", "tuner3")
    monkeypatch.setattr("zoo.tuning.distributed_role", lambda: "worker")
    with Run("toy", _toy_args(tmp_path, tune="random")) as run:
        assert not run.is_chief and run.own_folder == tmp_path / "workers" / "tuner3"
        assert (run.own_folder / ".lock").exists() and not (tmp_path / "run.json").exists()
        assert run.write_json("w.json", {"a": 1}) == run.own_folder / "w.json"
        assert run.finish({}, headline="worker headline") is None
    assert capsys.readouterr().out == "tuner3: worker headline; the chief writes the results\n"
    assert not (tmp_path / "results.json").exists()


def test_tune_off_searches_nothing(tmp_path, digits, monkeypatch):
    from zoo import tuning
    from zoo.runs import Run

    monkeypatch.setattr(tuning, "search_if_asked", lambda *args, **kwargs: pytest.fail("searched with --tune off"))
    spy = _Spy(digits)
    with Run("toy", _toy_args(tmp_path, tune="off")) as run:
        assert run.tune(lambda hp: _toy_model(), spy, batch_size=64) is None
        assert run.trials is None and run.best_hyperparameters is None
    assert spy.calls == []   # not even a pipeline built


def test_write_json_is_indented_or_one_line(tmp_path):
    from zoo.runs import Run

    with Run("toy", _toy_args(tmp_path)) as run:
        assert run.write_json("a.json", {"k": [1, 2]}) == tmp_path / "a.json"
        run.write_json("b.json", {"k": [1, 2]}, indent=None)
    assert (tmp_path / "a.json").read_text() == '{\n  "k": [\n    1,\n    2\n  ]\n}\n'
    assert (tmp_path / "b.json").read_text().strip() == '{"k":[1,2]}'


def test_tagged_trainings_keep_their_files_apart_and_print_progress_only_when_asked(tmp_path, digits, capsys):
    from zoo.runs import Run

    with Run("toy", _toy_args(tmp_path)) as run:
        first = run.fit(_toy_model(), digits, batch_size=256, epochs=2, tag="one")
        quiet = run.fit(_toy_model(), digits, batch_size=256, epochs=1, tag="two", progress=False)
        assert first.best_epoch is None and quiet.epochs_run == 1
        assert (tmp_path / "checkpoints" / "one").is_dir() and (tmp_path / "logs" / "two").is_dir()
        assert sorted(run._epoch_seconds) == ["one", "two"] and len(run._epoch_seconds["one"]) == 2
        printed = capsys.readouterr().out
        run.finish({}, headline="tagged")
    assert "one" in printed and "two" not in printed
    for tag, epochs in (("one", 2), ("two", 1)):
        with (tmp_path / f"history_{tag}.csv").open() as handle:
            assert len(list(csv.DictReader(handle))) == epochs
        assert (tmp_path / f"curves_{tag}.png").exists()
    assert not (tmp_path / "checkpoints").exists() and not (tmp_path / "history.csv").exists()
    results = json.loads((tmp_path / "results.json").read_text())
    assert sorted(results["epoch_seconds"]) == ["one", "two"]
    assert results["epoch_seconds"]["two"]["epochs_timed"] == 1


def test_a_diverged_training_names_the_epoch_the_tag_and_the_learning_rate(tmp_path, digits):
    import keras
    import numpy as np

    from zoo.errors import TrainingDivergedError
    from zoo.runs import Run

    inputs = keras.Input((64,))
    model = keras.Model(inputs, keras.layers.Dense(10, activation="softmax")(
        keras.layers.Lambda(lambda x: x * np.float32("inf"))(inputs)))
    model.compile(optimizer="sgd", loss="sparse_categorical_crossentropy")
    with Run("toy", _toy_args(tmp_path, learning_rate=1e30)) as run:
        with pytest.raises(TrainingDivergedError) as diverged:
            run.fit(model, digits, batch_size=256, epochs=3, tag="wide")
    assert str(diverged.value) == ("the training loss became NaN or infinite in epoch 1 (wide); nothing was saved as "
                                   "a result. Lower --learning-rate (now 1e+30) and rerun with --overwrite.")
    assert run._fits == []
    args = _toy_args(tmp_path / "b")
    del args.learning_rate   # a recipe without the flag
    with Run("toy", args) as run:
        with pytest.raises(TrainingDivergedError) as untagged:
            run.fit(model, digits, batch_size=256, epochs=3)
    assert str(untagged.value) == ("the training loss became NaN or infinite in epoch 1; nothing was saved as a "
                                   "result. Lower --learning-rate (now ?) and rerun with --overwrite.")


def test_epoch_timing_keeps_the_first_epoch_apart_from_the_median_of_the_rest():
    from zoo.runs import epoch_timing

    assert epoch_timing([]) == {"epochs_timed": 0, "first": None, "median_after_first": None}
    assert epoch_timing([2.00049]) == {"epochs_timed": 1, "first": 2.0, "median_after_first": None}
    assert epoch_timing([9.87654, 1.000049, 3.0, 2.0]) == {"epochs_timed": 4, "first": 9.877,
                                                           "median_after_first": 2.0}
    assert epoch_timing([5.0, 1.0, 2.0])["median_after_first"] == 1.5
    assert epoch_timing([5.0, 1.23456, 1.23458])["median_after_first"] == 1.2346


def test_describe_strategy_gives_the_public_name_and_the_replicas():
    from zoo.runs import describe_strategy

    class CollectiveAllReduceStrategy:
        num_replicas_in_sync = 4.0

    class MirroredStrategy:
        num_replicas_in_sync = 2

    assert describe_strategy(CollectiveAllReduceStrategy()) == {"strategy": "MultiWorkerMirroredStrategy",
                                                                "replicas": 4}
    assert describe_strategy(MirroredStrategy()) == {"strategy": "MirroredStrategy", "replicas": 2}
    assert type(describe_strategy(CollectiveAllReduceStrategy())["replicas"]) is int


@pytest.mark.parametrize("error", [RuntimeError, ValueError])
def test_devices_fall_back_to_the_cpu_when_keras_cannot_list_them(monkeypatch, error):
    import keras

    from zoo.runs import devices

    listed = devices()
    assert listed and all(isinstance(device, str) for device in listed)
    monkeypatch.setattr(keras.distribution, "list_devices", lambda: [1, "gpu:0"])
    assert devices() == ["1", "gpu:0"]

    def fails():
        raise error("no devices")

    monkeypatch.setattr(keras.distribution, "list_devices", fails)
    assert devices() == ["cpu:0"]


def test_environment_records_versions_backend_policy_devices_and_machine(monkeypatch):
    import platform
    from importlib import metadata

    import keras

    from zoo import runs

    monkeypatch.setattr(runs, "_PACKAGES", ("keras", "numpy", "no-such-package-zoo"))
    keras.config.set_dtype_policy("mixed_float16")
    recorded = runs.environment()
    assert recorded == {
        "python": sys.version.split()[0],
        "packages": {"keras": metadata.version("keras"), "numpy": metadata.version("numpy")},
        "keras_backend": keras.backend.backend(), "dtype_policy": "mixed_float16", "devices": runs.devices(),
        "machine": {"platform": platform.platform(), "processor": platform.machine(), "cpu_count": os.cpu_count()},
    }


def test_every_package_a_result_depends_on_is_recorded():
    from zoo import runs

    assert runs._PACKAGES == ("keras", "tensorflow", "jax", "keras-tuner", "tensorflow-datasets", "numpy",
                              "scikit-learn")
    assert {"keras", "numpy", "scikit-learn", "keras-tuner"} <= set(runs.environment()["packages"])


def _drawn(monkeypatch):
    """The figures plot_curves draws, kept when it closes them."""
    import matplotlib.pyplot as plt

    figures = []
    close = plt.close
    monkeypatch.setattr(plt, "close", lambda figure=None: (figures.append(figure), close(figure)))
    return figures


def _write_history(path: Path, rows: list[dict]):
    with path.open("w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]) if rows else ["epoch", "loss"])
        writer.writeheader()
        writer.writerows(rows)


def test_plot_curves_draws_training_and_validation_per_epoch(tmp_path, monkeypatch):
    from zoo.runs import plot_curves

    figures = _drawn(monkeypatch)
    _write_history(tmp_path / "history_wide.csv", [
        {"epoch": epoch, "loss": 1.0 / (epoch + 1), "accuracy": 0.5 + epoch / 10, "val_loss": 2.0 - epoch / 10,
         "val_accuracy": 0.4 + epoch / 10} for epoch in range(3)])
    assert plot_curves(tmp_path, tag="wide", title="a title") == tmp_path / "curves_wide.png"
    assert (tmp_path / "curves_wide.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    (figure,) = figures
    assert figure._suptitle.get_text() == "a title"
    loss, accuracy = figure.axes
    assert (loss.get_xlabel(), loss.get_ylabel(), accuracy.get_ylabel()) == ("epoch", "loss", "accuracy")
    assert [line.get_label() for line in loss.lines] == ["training", "validation"]
    assert list(loss.lines[0].get_xdata()) == [1, 2, 3]
    assert list(loss.lines[1].get_ydata()) == pytest.approx([2.0, 1.9, 1.8])
    assert list(accuracy.lines[0].get_ydata()) == pytest.approx([0.5, 0.6, 0.7])
    assert loss.lines[0].get_marker() == "o" and loss.get_legend() is not None


def test_plot_curves_leaves_out_what_was_not_logged(tmp_path, monkeypatch):
    from zoo.runs import plot_curves

    figures = _drawn(monkeypatch)
    _write_history(tmp_path / "history.csv", [{"epoch": epoch, "loss": 1.0, "val_loss": "NA" if epoch else 2.0}
                                              for epoch in range(21)])
    _write_history(tmp_path / "history_b.csv", [{"epoch": epoch, "loss": 1.0, "val_loss": "" if epoch else 2.0}
                                                for epoch in range(20)])
    assert plot_curves(tmp_path) == tmp_path / "curves.png"
    assert plot_curves(tmp_path, tag="b") == tmp_path / "curves_b.png"
    assert [figure._suptitle.get_text() for figure in figures] == [tmp_path.name, tmp_path.name]
    (many,), (twenty,) = (figure.axes for figure in figures)
    for axis in (many, twenty):
        assert [line.get_label() for line in axis.lines] == ["training"]   # "NA" or "": not logged that epoch
    assert many.lines[0].get_marker() in (None, "None", "")   # 21 epochs: a line without markers
    assert twenty.lines[0].get_marker() == "o"                  # up to 20, each epoch a marker


def test_plot_curves_ticks_whole_epochs_on_a_light_grid_at_100_dpi_whatever_matplotlibs_settings(tmp_path,
                                                                                                 monkeypatch):
    import matplotlib

    from zoo.runs import plot_curves

    figures = _drawn(monkeypatch)
    _write_history(tmp_path / "history.csv", [{"epoch": epoch, "loss": 1.0 / (epoch + 1)} for epoch in range(3)])
    with matplotlib.rc_context({"figure.dpi": 50, "savefig.dpi": 50, "savefig.format": "svg"}):
        plot_curves(tmp_path)
    (axis,) = figures[0].axes
    ticks = [tick for tick in axis.get_xticks() if 1 <= tick <= 3]
    assert ticks == [1, 2, 3]   # whole epochs, not 1.25 or 2.5
    assert {line.get_alpha() for line in axis.xaxis.get_gridlines()} == {0.3}
    from PIL import Image

    with Image.open(tmp_path / "curves.png") as image:
        assert image.format == "PNG" and image.size == (500, 360)


def test_plot_curves_draws_nothing_without_a_history(tmp_path):
    from zoo.runs import plot_curves

    assert plot_curves(tmp_path) is None
    _write_history(tmp_path / "history.csv", [])
    assert plot_curves(tmp_path) is None
    assert not (tmp_path / "curves.png").exists()


def test_finished_run_folder_says_how_to_make_one(tmp_path):
    from zoo.errors import RunFolderError
    from zoo.runs import finished_run_folder

    class Other(RunFolderError):
        pass

    assert finished_run_folder(tmp_path, "then x") == tmp_path
    assert finished_run_folder(str(tmp_path), "then x") == tmp_path
    with pytest.raises(Other) as missing:
        finished_run_folder(tmp_path / "nope", "zoo predict it", error=Other)
    assert str(missing.value) == (f"no folder {tmp_path / 'nope'}: pass the --out folder of a finished recipe run, "
                                  "e.g. python -m zoo.recipes.mlp --quick --out runs/mlp, then zoo predict it")
    (tmp_path / "f.txt").write_text("")
    with pytest.raises(RunFolderError) as file:
        finished_run_folder(tmp_path / "f.txt", "then x")
    assert str(file.value) == f"{tmp_path / 'f.txt'} is a file; pass the run folder that holds it: {tmp_path}"


def test_finished_run_folder_expands_the_home_folder(tmp_path, monkeypatch):
    from zoo.runs import finished_run_folder

    monkeypatch.setenv("HOME", str(tmp_path))
    assert finished_run_folder("~", "then x") == tmp_path


@pytest.mark.parametrize("content", [b"not a zip", b""])
def test_an_unloadable_model_file_is_one_error_naming_it(tmp_path, content):
    from zoo.errors import RunFolderError
    from zoo.runs import load_saved_model

    class Other(RunFolderError):
        pass

    path = tmp_path / "model.keras"
    path.write_bytes(content)
    with pytest.raises(Other) as refused:
        load_saved_model(path, error=Other)
    message = str(refused.value)
    assert message.startswith(f"{path} cannot be loaded (ValueError: ") and message.endswith(
        "); rerun the recipe with --overwrite to write it again.")
    assert isinstance(refused.value.__cause__, ValueError)


def test_a_saved_model_loads_uncompiled_and_python_code_in_it_is_refused(tmp_path):
    import keras

    from zoo.errors import RunFolderError
    from zoo.runs import load_saved_model

    model = _toy_model()
    model.save(tmp_path / "model.keras")
    assert not load_saved_model(tmp_path / "model.keras").compiled   # no optimizer needed to predict
    inputs = keras.Input((2,))
    keras.Model(inputs, keras.layers.Lambda(lambda x: x * 2)(inputs)).save(tmp_path / "lambda.keras")
    with pytest.raises(RunFolderError) as refused:
        load_saved_model(tmp_path / "lambda.keras")
    assert "cannot be loaded (ValueError: " in str(refused.value) and "safe_mode" in str(refused.value)


def test_tune_hands_the_search_the_runs_splits_epochs_early_stopping_folder_and_strategy(tmp_path, digits,
                                                                                        monkeypatch):
    from zoo import tuning
    from zoo.callbacks import ResumableEarlyStopping
    from zoo.runs import Run

    asked = {}

    def search_if_asked(args, build, out, project_name, strategy, **fit_kwargs):
        asked.update(args=args, build=build, out=out, project_name=project_name, strategy=strategy, **fit_kwargs)
        return "best", ["trial"]

    monkeypatch.setattr(tuning, "search_if_asked", search_if_asked)
    build, double = object(), lambda x, y: (x * 2, y)
    args = _toy_args(tmp_path, tune="random", epochs=4, seed=3)
    with Run("toy", args) as run:
        assert run.tune(build, digits, batch_size=100, patience=2, monitor="val_accuracy", transform=double) == "best"
        assert run.trials == ["trial"] and run.best_hyperparameters == "best"
        strategy = run.strategy
    assert asked["args"] is args and asked["build"] is build and asked["out"] == tmp_path
    assert asked["project_name"] == "toy" and asked["strategy"] is strategy and asked["epochs"] == 4
    (stopping,) = asked["callbacks"]
    assert isinstance(stopping, ResumableEarlyStopping)
    assert (stopping.monitor, stopping.patience, stopping.restore_best_weights) == ("val_accuracy", 2, True)
    x, y = next(iter(asked["x"]))
    assert len(x) == 100 and float(x.numpy().max()) == 32.0   # batches of the training split, transformed
    seeded, _ = next(iter(digits.batches(100, seed=3, transform=double)[0]))
    assert (x.numpy() == seeded.numpy()).all()   # in the order the run's seed gives
    validation, _ = next(iter(asked["validation_data"]))
    expected, _ = next(iter(digits.evaluation_batches("validation", 100)))
    assert (validation.numpy() == 2 * expected.numpy()).all()
    with Run("toy", _toy_args(tmp_path / "b", tune="random")) as run:
        run.tune(build, digits, batch_size=100, patience=1)
        (stopping,) = asked["callbacks"]
        assert (stopping.monitor, stopping.patience) == ("val_loss", 1)   # the default monitor
        run.tune(build, digits, batch_size=100)
    assert asked["callbacks"] == []   # no patience: no early stopping


def test_a_tuned_run_records_the_best_hyperparameters_and_every_trial(tmp_path, digits):
    from zoo.runs import Run

    def build(hp):
        return _toy_model(hp.Choice("learning_rate", [0.01, 0.001]))

    with Run("toy", _toy_args(tmp_path, tune="random", max_trials=2, epochs=1)) as run:
        best = run.tune(build, digits, batch_size=256)
        run.finish({}, headline="tuned")
    results = json.loads((tmp_path / "results.json").read_text())
    assert best.values["learning_rate"] in (0.01, 0.001)
    assert results["tuning"] == {"best": best.values, "trials": run.trials}
    assert len(run.trials) == 2 and {trial["status"] for trial in run.trials} == {"COMPLETED"}
    assert json.loads((tmp_path / "tuner" / "trials.json").read_text()) == run.trials


def test_inside_a_run_messages_spell_arguments_as_flags_and_outside_as_python(tmp_path):
    from zoo.errors import setting, spelled_as_flags
    from zoo.runs import Run

    assert not spelled_as_flags()
    with Run("toy", _toy_args(tmp_path)):
        assert setting("fine_tune_layers", 3) == "--fine-tune-layers 3"
    assert setting("fine_tune_layers", 3) == "fine_tune_layers=3"
    with pytest.raises(KeyError):
        with Run("toy", _toy_args(tmp_path)):
            raise KeyError("inside")
    assert not spelled_as_flags()


class _Spy:
    """A zoo.data.Dataset that records how the run asks for its pipelines, and hands out the real ones."""

    def __init__(self, data):
        self._data, self.calls = data, []

    def __getattr__(self, name):
        attribute = getattr(self._data, name)
        if name not in ("batches", "evaluation_batches", "examples"):
            return attribute

        def recorded(*args, **kwargs):
            self.calls.append((name, args, kwargs))
            return attribute(*args, **kwargs)

        return recorded


def test_fit_trains_on_the_runs_seeded_transformed_batches_and_passes_its_settings_on(tmp_path, digits, monkeypatch):
    from zoo.runs import Run

    spy, double = _Spy(digits), lambda x, y: (x * 2, y)
    with Run("toy", _toy_args(tmp_path, seed=3)) as run:
        trained = []
        train = run.train
        monkeypatch.setattr(run, "train", lambda fit, **kwargs: trained.append(kwargs) or train(fit, **kwargs))
        model = _toy_model()
        fitted = run.fit(model, spy, batch_size=128, epochs=2, transform=double, patience=4, monitor="val_accuracy",
                         tag="t", progress=False)
    assert spy.calls == [("batches", (128,), {"seed": 3, "transform": double})]
    assert trained == [{"tag": "t", "patience": 4, "monitor": "val_accuracy", "progress": False}]
    assert fitted.epochs_run == 2 and "val_accuracy" in fitted.rows[0]
    assert model.optimizer.iterations.numpy() == 2 * -(-digits.sizes["train"] // 128)   # every batch, twice


def test_train_gives_the_fit_its_callbacks_in_order(tmp_path, capsys):
    import keras

    from zoo.callbacks import EpochTimer, ProgressLines, ResumableEarlyStopping, RunCheckpoint
    from zoo.runs import Run

    given = []

    def fit(callbacks):
        given.append(callbacks)
        return "what fit returned"

    with Run("toy", _toy_args(tmp_path)) as run:
        plain = run.train(fit)
        run.train(fit, tag="b", patience=2, progress=False)
        run.train(fit, tag="c", patience=3, monitor="val_accuracy")
        run.is_chief = False
        run.train(fit, tag="d")
    assert plain.value == "what fit returned" and plain.rows == [] and plain.best_epoch is None
    kinds = [[type(callback) for callback in callbacks] for callbacks in given]
    timed = [EpochTimer, keras.callbacks.TerminateOnNaN]
    assert kinds[0] == [*timed, RunCheckpoint, keras.callbacks.TensorBoard, ProgressLines]
    assert kinds[1] == [*timed, ResumableEarlyStopping, RunCheckpoint, keras.callbacks.TensorBoard]
    assert kinds[2] == [*timed, ResumableEarlyStopping, RunCheckpoint, keras.callbacks.TensorBoard, ProgressLines]
    assert kinds[3] == [*timed, RunCheckpoint, keras.callbacks.TensorBoard]   # a worker prints nothing
    for callbacks, tag in zip(given, ("fit", "b", "c", "d")):
        checkpoint, board = (next(c for c in callbacks if isinstance(c, kind))
                             for kind in (RunCheckpoint, keras.callbacks.TensorBoard))
        assert Path(board.log_dir) == tmp_path / "logs" / tag
        assert checkpoint.folder == tmp_path / "checkpoints" / tag
        assert checkpoint.history_path == tmp_path / ("history.csv" if tag == "fit" else f"history_{tag}.csv")
    assert given[0][-1].label == "" and given[2][-1].label == "c"
    for callbacks, monitor, patience in ((given[1], "val_loss", 2), (given[2], "val_accuracy", 3)):
        stopping = callbacks[2]
        assert (stopping.monitor, stopping.patience, stopping.restore_best_weights) == (monitor, patience, True)
        assert callbacks[3].early_stopping is stopping
    assert given[0][2].early_stopping is None
    assert run._epoch_seconds == {"fit": [], "b": [], "c": [], "d": []}   # fit never trained: no epoch timed


def test_evaluate_scores_the_runs_validation_and_test_batches(tmp_path, digits):
    from zoo.runs import Run

    spy, double, model = _Spy(digits), lambda x, y: (x * 2, y), _toy_model()
    with Run("toy", _toy_args(tmp_path)) as run:
        metrics = run.evaluate(model, spy, batch_size=500, transform=double)
    assert spy.calls == [("evaluation_batches", ("validation", 500, double), {}),
                         ("evaluation_batches", ("test", 500, double), {})]
    assert sorted(metrics) == ["test_accuracy", "test_loss", "validation_accuracy"]
    with Run("toy", _toy_args(tmp_path / "b")) as run:
        assert run.evaluate(model, spy, transform=double) == metrics
    assert spy.calls[-1] == ("evaluation_batches", ("test", 256, double), {})   # the default batch


def test_evaluate_leaves_out_a_split_the_data_does_not_have(tmp_path, digits, monkeypatch):
    from zoo.runs import Run

    spy = _Spy(digits)
    real = digits.evaluation_batches
    monkeypatch.setattr(spy, "evaluation_batches",
                        lambda split, *args: None if split == "validation" else real(split, *args), raising=False)
    with Run("toy", _toy_args(tmp_path)) as run:
        assert sorted(run.evaluate(_toy_model(), spy)) == ["test_accuracy", "test_loss"]


@pytest.fixture
def cluster():
    from zoo.distributed import Cluster

    return Cluster(jobs={"worker": ["127.0.0.1:1", "127.0.0.1:2"]}, task_type="worker", task_index=0)


def test_in_a_cluster_fit_evaluate_and_finish_go_through_zoo_distributed(tmp_path, digits, monkeypatch, cluster):
    from zoo import distributed
    from zoo.runs import Run

    asked = {}

    def fit(model, strategy, cluster, train, **kwargs):
        asked["fit"] = dict(model=model, strategy=strategy, cluster=cluster, train=train, **kwargs)
        _write_history(kwargs["out"] / f"history_{kwargs['tag']}.csv", [{"epoch": 0, "loss": 0.5}])
        return 1

    def evaluate(scored, batches):
        asked.setdefault("evaluate", []).append((scored, batches))
        return 0.25, 0.75

    monkeypatch.setattr(distributed, "fit", fit)
    monkeypatch.setattr(distributed, "evaluate", evaluate)
    monkeypatch.setattr(distributed, "finish", lambda out, cluster: asked.update(finish=(out, cluster)))
    spy, double, model = _Spy(digits), lambda x, y: (x * 2, y), _toy_model()
    with Run("toy", _toy_args(tmp_path, seed=4)) as run:
        run.cluster = cluster
        fitted = run.fit(model, spy, batch_size=64, epochs=5, transform=double, patience=2, tag="w")
        metrics = run.evaluate(model, spy, transform=double)
        run.finish(metrics, headline="cluster")
    assert fitted.rows == [{"epoch": "0", "loss": "0.5"}] and 0 <= fitted.seconds < 60
    called = asked["fit"]
    assert called["model"] is model and called["strategy"] is run.strategy and called["cluster"] is cluster
    assert {key: called[key] for key in ("train_size", "global_batch_size", "epochs", "seed", "out", "patience",
                                         "tag")} == {"train_size": digits.sizes["train"], "global_batch_size": 64,
                                                     "epochs": 5, "seed": 4, "out": tmp_path, "patience": 2,
                                                     "tag": "w"}
    assert [call[:2] for call in spy.calls[:2]] == [("examples", ("train", double)),
                                                    ("examples", ("validation", double))]
    assert called["train"] is not None and called["validation"] is not None
    assert [scored is model and batches is not None for scored, batches in asked["evaluate"]] == [True, True]
    assert metrics == {"test_accuracy": 0.75, "test_loss": 0.25,
                                                       "validation_accuracy": 0.75}
    assert asked["finish"] == (tmp_path, cluster)


def test_in_a_cluster_an_untagged_fit_reads_history_csv_and_a_worker_reads_none(tmp_path, digits, monkeypatch,
                                                                                cluster):
    from zoo import distributed
    from zoo.runs import Run

    monkeypatch.setattr(distributed, "fit", lambda *args, out, tag, **kwargs: _write_history(
        out / (f"history_{tag}.csv" if tag else "history.csv"), [{"epoch": 0, "loss": 1.5}]))
    with Run("toy", _toy_args(tmp_path)) as run:
        run.cluster = cluster
        assert run.fit(_toy_model(), digits, batch_size=64, epochs=1).rows == [{"epoch": "0", "loss": "1.5"}]
        run.is_chief = False
        assert run.fit(_toy_model(), digits, batch_size=64, epochs=1).rows == []
    (tmp_path / "history.csv").unlink()
    monkeypatch.setattr(distributed, "fit", lambda *args, **kwargs: None)
    with Run("toy", _toy_args(tmp_path)) as run:
        run.cluster = cluster
        assert run.fit(_toy_model(), digits, batch_size=64, epochs=1).rows == []   # no history written


def test_a_cluster_worker_keeps_its_files_in_workers_and_does_not_claim_the_folder(tmp_path, monkeypatch):
    from zoo import distributed
    from zoo.distributed import Cluster
    from zoo.runs import Run

    worker = Cluster(jobs={"worker": ["127.0.0.1:1", "127.0.0.1:2"]}, task_type="worker", task_index=1)
    monkeypatch.setattr(distributed, "cluster_from_env", lambda: worker)
    single = distributed.strategy
    monkeypatch.setattr(distributed, "strategy", lambda distribute: single("off"))   # not a real cluster
    with Run("toy", _toy_args(tmp_path, distribute="multi_worker")) as run:
        assert run.cluster is worker and not run.is_chief
        assert run.own_folder == tmp_path / "workers" / "worker-1" and (run.own_folder / ".lock").exists()
    assert not (tmp_path / "run.json").exists()


@pytest.mark.parametrize("role_flags", [{}, {"tune": "off"}])
def test_without_a_search_a_run_is_its_own_chief_whatever_the_tuner_environment(tmp_path, monkeypatch, role_flags):
    from zoo import tuning
    from zoo.runs import Run

    monkeypatch.setattr(tuning, "distributed_role", lambda: "worker")   # KERASTUNER_* set for another run
    with Run("toy", _toy_args(tmp_path, **role_flags)) as run:   # {}: a recipe without --tune
        assert run.is_chief and run.own_folder == tmp_path
    assert (tmp_path / "run.json").exists()


def test_a_tuning_worker_without_a_tuner_id_keeps_to_workers(tmp_path, monkeypatch):
    from zoo import tuning
    from zoo.runs import Run

    monkeypatch.delenv("KERASTUNER_TUNER_ID", raising=False)
    monkeypatch.setattr(tuning, "distributed_role", lambda: "worker")
    with Run("toy", _toy_args(tmp_path, tune="random")) as run:
        assert run.own_folder == tmp_path / "workers"


def test_a_cluster_chief_claims_the_folder(tmp_path, monkeypatch, cluster):
    from zoo import distributed
    from zoo.runs import Run

    asked = []
    single = distributed.strategy
    monkeypatch.setattr(distributed, "cluster_from_env", lambda: cluster)
    monkeypatch.setattr(distributed, "strategy", lambda distribute: asked.append(distribute) or single("off"))
    with Run("toy", _toy_args(tmp_path, distribute="multi_worker")) as run:
        assert run.is_chief is True and run.own_folder == tmp_path
    assert asked == ["multi_worker"] and (tmp_path / "run.json").exists()


def test_a_run_silences_only_kerass_shuffle_warning(tmp_path):
    import warnings

    from zoo.runs import Run

    with Run("toy", _toy_args(tmp_path)):
        with warnings.catch_warnings(record=True) as caught:
            warnings.warn("`shuffle=True` was passed, but will be ignored since the data `x` was provided as a "
                          "generator.", UserWarning)
            warnings.warn("something else", UserWarning)
    assert [str(warning.message) for warning in caught] == ["something else"]


class _Flushes:
    """A stream that keeps what had been written each time it was flushed."""

    def __init__(self):
        self.text, self.flushed = "", []

    def write(self, text):
        self.text += text
        return len(text)

    def flush(self):
        self.flushed.append(self.text)


def test_every_line_a_run_prints_is_flushed_at_once(tmp_path, monkeypatch):
    """A log piped to a file or a CI page shows each line while the run goes on, not at its end."""
    from zoo.runs import Run

    out, err = _Flushes(), _Flushes()
    with Run("toy", _toy_args(tmp_path)):
        pass
    monkeypatch.setattr(sys, "stdout", out)
    monkeypatch.setattr(sys, "stderr", err)
    with Run("toy", _toy_args(tmp_path)) as run:   # resumes
        run.finish({}, headline="chief headline", baseline={"headline": "base"})
        run.is_chief, run.own_folder = False, tmp_path / "workers" / "w1"
        run.finish({}, headline="worker headline")
    assert err.flushed == [f"resuming the run in {tmp_path}\n"]
    lines = out.text.splitlines(keepends=True)
    assert [line.split(";")[0] for line in lines] == ["baseline, same split: base\n", "chief headline",
                                                      "w1: worker headline"]
    assert out.flushed == ["".join(lines[:n]) for n in (1, 2, 3)]


def test_the_curves_are_titled_with_the_recipe_the_training_and_the_data(tmp_path, digits, monkeypatch):
    from zoo.runs import Run

    figures = _drawn(monkeypatch)
    for folder, data in (("named", digits), ("unnamed", {"rows": 3})):
        with Run("toy", _toy_args(tmp_path / folder)) as run:
            for tag in ("", "wide"):
                _write_history(run.folder / (f"history_{tag}.csv" if tag else "history.csv"),
                               [{"epoch": 0, "loss": 1.0}])
            run.finish({}, headline="titled", data=data)
    assert [figure._suptitle.get_text() for figure in figures] == ["toy on digits", "toy, wide on digits", "toy",
                                                                  "toy, wide"]
    assert json.loads((tmp_path / "unnamed" / "results.json").read_text())["data"] == {"rows": 3}


def test_wall_time_is_seconds_since_the_run_began_to_a_hundredth(tmp_path, monkeypatch):
    from zoo import runs

    with runs.Run("toy", _toy_args(tmp_path)) as run:
        run.started = 1000.0
        monkeypatch.setattr(runs.time, "perf_counter", lambda: 1012.34567)
        run.finish({}, headline="timed")
    assert json.loads((tmp_path / "results.json").read_text())["wall_time_s"] == 12.35


def test_a_recipes_stated_use_is_recorded(tmp_path):
    from zoo.model_card import Use
    from zoo.runs import Run

    use = Use(intended_use="reading toy digits", limits=("toys only",), written_for={"epochs": 3})
    with Run("toy", _toy_args(tmp_path)) as run:
        run.finish({}, headline="used", use=use)
    assert json.loads((tmp_path / "results.json").read_text())["use"] == {
        "intended_use": "reading toy digits", "limits": ["toys only"], "written_for": {"epochs": 3}}


def test_a_lock_held_before_its_holder_wrote_its_name_is_another_process(tmp_path):
    import fcntl

    from zoo.errors import RunFolderError
    from zoo.runs import Run

    with open(tmp_path / ".lock", "a+") as other:   # a run that has the lock and has not written its line yet
        fcntl.flock(other, fcntl.LOCK_EX | fcntl.LOCK_NB)
        with pytest.raises(RunFolderError) as refused:
            Run("toy", _toy_args(tmp_path)).__enter__()
    assert str(refused.value).startswith(f"{tmp_path} is in use by another run (another process); ")
