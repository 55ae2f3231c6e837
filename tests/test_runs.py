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
