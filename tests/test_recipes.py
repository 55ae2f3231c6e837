"""Every recipe runs end to end with --quick and leaves a complete run folder whose model reloads.

The quick runs happen once per session (module fixture); each test then checks one recipe's
artifacts, and one fresh Python process loads every saved model.keras and predicts.
"""

import csv
import importlib
import json
import os
import socket
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import numpy as np
import pytest

from zoo.data import DATE_FORMATS
from zoo.recipes import summaries

RECIPES = summaries()   # {name: summary} of every recipe the registry names

COMMON_FILES = ("results.json", "model.keras")


def _results(out):
    return json.loads((out / "results.json").read_text())


def done_line(out):
    """What the run printed last is its headline: kept by the fixture in out/.stdout."""
    return (out / ".stdout").read_text()


def test_every_recipe_has_a_quick_run_and_lists_itself():
    done = subprocess.run([sys.executable, "-m", "zoo.recipes"], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0 and all(name in done.stdout for name in RECIPES)
    assert all(summary and "Recipe:" not in summary for summary in RECIPES.values()), RECIPES
    import zoo

    assert {zoo.info(name).recipe for name in zoo.list_models()} == {f"zoo.recipes.{name}" for name in RECIPES}


@pytest.mark.parametrize("name", list(RECIPES))
def test_quick_run_writes_the_run_folder(quick_runs, name):
    # Not timed: two workers share the machine, so a bound fails by its load. The minute each --quick is meant
    # to take is a goal of benchmarks/quick_runs.py, measured one recipe at a time (benchmarks/results/).
    out, _ = quick_runs[name]
    files = {path.name for path in out.iterdir()}
    results = _results(out)
    assert results["recipe"] == name and results["flags"]["quick"] is True
    assert results["environment"]["packages"]["keras"] and results["environment"]["devices"]
    assert results["wall_time_s"] > 0 and results["command"] == f"python -m zoo.recipes.{name} --quick --out {out}"
    # The classic model in the same run, on the same split: its result in words, its settings, its cost.
    baseline = results["baseline"]
    assert baseline["name"] and baseline["headline"].startswith(baseline["name"])
    assert results["headline"] and results["headline"] in done_line(out)
    if name == "style_transfer":
        assert {"stylized.png", "content.png", "style.png", "history.csv", "curves.png", "results.json"} <= files
        assert baseline["steps"] == results["flags"]["epochs"] and baseline["seconds_per_step"] > 0
        # The hand-written loop reaches the loss Keras's fit reaches: the same optimisation.
        assert baseline["total_loss"] == pytest.approx(results["metrics"]["final_losses"]["total"], rel=0.02)
        return
    # What a run is measured on: accuracy, or for the date model exact match (every character of the answer).
    measure = "exact_match" if "test_exact_match" in baseline else "accuracy"
    assert 0 <= baseline[f"test_{measure}"] <= 1 and baseline["fit_seconds"] > 0
    assert baseline["chosen_on"] == "validation split" and len(baseline["candidates"]) >= 2
    if "validation_bits_per_character" in baseline:   # a language model: fewer bits are better
        assert baseline["validation_bits_per_character"] == min(c["validation_bits_per_character"]
                                                                for c in baseline["candidates"])
    elif measure == "exact_match":
        assert baseline["validation_exact_match"] == max(c["validation_exact_match"] for c in baseline["candidates"])
    else:
        assert baseline["validation_accuracy"] == max(c["validation_accuracy"] for c in baseline["candidates"])
    assert set(COMMON_FILES) <= files and "logs" in files
    assert any(f.startswith("history") and f.endswith(".csv") for f in files)
    assert any(f.startswith("curves") and f.endswith(".png") for f in files)
    assert 0 <= results["metrics"][f"test_{measure}"] <= 1
    assert results["distribution"] == {"strategy": "_DefaultDistributionStrategy", "replicas": 1}
    assert not (out / "checkpoints").exists()  # the run's checkpoints go once its results are written


def test_quick_metrics_are_the_real_ones(quick_runs):
    mlp_out, mlp_accuracy = quick_runs["mlp"]
    assert _results(mlp_out)["metrics"]["test_accuracy"] == pytest.approx(mlp_accuracy, abs=1e-4)
    assert mlp_accuracy > 0.5  # three epochs on digits beat chance (0.1) by far
    perceptron = _results(quick_runs["perceptron"][0])["metrics"]
    # The naive neuron ignores its inputs: it can only say the majority class.
    assert perceptron["personalities"]["naive"]["test_accuracy"] == perceptron["majority_class_baseline"]
    vgg = _results(quick_runs["vgg16_transfer"][0])
    assert set(vgg["metrics"]["arms"]) == {"pretrained", "scratch"} and vgg["data"]["train"] == 40
    assert vgg["metrics"]["arms"]["scratch"]["trainable_params"] > vgg["metrics"]["arms"]["pretrained"]["trainable_params"]
    convnet = _results(quick_runs["convnet"][0])
    arms = convnet["metrics"]["arms"]
    assert convnet["data"]["train"] == 500 and arms["mlp"]["params"] > 0 and arms["convnet"]["params"] > 0
    assert convnet["metrics"]["test_accuracy"] == arms["convnet"]["test_accuracy"]
    assert convnet["metrics"]["accuracy_gain_over_mlp"] == pytest.approx(
        arms["convnet"]["test_accuracy"] - arms["mlp"]["test_accuracy"], abs=1e-4)
    filters = json.loads((quick_runs["convnet"][0] / "filters.json").read_text())
    # 32 learned 3x3 filters, each one's map of the same 28x28 validation digit, and the hand-made edge filter's.
    assert len(filters["kernels"]) == len(filters["feature_maps"]) == 32
    assert [len(filters["kernels"][0]), len(filters["kernels"][0][0])] == [3, 3]
    assert len(filters["feature_maps"][0]) == len(filters["digit"]) == len(filters["hand_made_edge"]["feature_map"]) == 28
    assert min(min(row) for row in filters["feature_maps"][3]) >= 0   # after the ReLU
    assert filters["hand_made_edge"]["kernel"] == [[1, 1, 1], [0, 0, 0], [-1, -1, -1]]
    # The edge map is the kernel slid over the zero-padded digit: its top row minus its bottom row.
    padded = np.pad(np.asarray(filters["digit"]), 1)
    expected = sum(padded[:-2, column:column + 28] - padded[2:, column:column + 28] for column in range(3))
    # Both are stored to 2 decimals: six rounded pixels and the rounded sum differ by at most 0.035.
    np.testing.assert_allclose(filters["hand_made_edge"]["feature_map"], expected, atol=0.035)
    inception = _results(quick_runs["inception"][0])["metrics"]
    assert set(inception["arms"]) == {"inception", "plain"} and inception["test_accuracy"] == inception["arms"][
        "inception"]["test_accuracy"]
    # The comparison is fair in size: the plain stack has the Inception network's parameters, to 1%.
    assert inception["params_ratio"] == pytest.approx(1, abs=0.01)
    assert inception["params_ratio"] == round(inception["arms"]["plain"]["params"] /
                                              inception["arms"]["inception"]["params"], 4)
    assert inception["accuracy_gain_over_plain"] == pytest.approx(
        inception["arms"]["inception"]["test_accuracy"] - inception["arms"]["plain"]["test_accuracy"], abs=1e-4)
    sums = _results(quick_runs["convnet_lstm"][0])
    # 498 of the 500 training digits fill sequences of three, 5 times over; 999 of 1,000 test digits, 3 times.
    assert (sums["data"]["train"], sums["data"]["test"], sums["data"]["num_classes"]) == (830, 999, 28)
    assert sums["baseline"]["labels"].startswith("each digit's own label") and 0 < sums["baseline"][
        "digit_test_accuracy"] <= 1
    from zoo.recipes import mini_gpt

    gpt = _results(quick_runs["mini_gpt"][0])
    assert gpt["data"]["class_names"][0] == "" and len(gpt["data"]["class_names"]) == 67
    assert gpt["metrics"]["test_bits_per_character"] == pytest.approx(gpt["metrics"]["test_loss"] / np.log(2), abs=1e-3)
    # The n-gram's order was chosen on validation bits, every order scored; then the pair of it and an n-gram of
    # the other text the GPT read first (the default --pretrain-text), its orders and weight chosen there too.
    candidates = gpt["baseline"]["candidates"]
    assert [c["settings"]["order"] for c in candidates[:8]] == list(range(1, 9))
    assert len(candidates) == 9 and {"extra_order", "extra_weight"} <= set(candidates[8]["settings"])
    assert gpt["baseline"]["extra_characters"] == mini_gpt.QUICK_PRETRAIN_SIZE
    assert 1 < gpt["baseline"]["test_bits_per_character"] < 5   # between English text and 67 equally likely characters
    # The average of the two is chosen on validation among weights from 0 (the n-gram alone) to 1 (the GPT
    # alone): on validation it is no worse than either.
    metrics = gpt["metrics"]
    assert 0 <= metrics["mixed_with_ngram_gpt_weight"] <= 1
    assert metrics["mixed_with_ngram_validation_bits_per_character"] <= min(
        gpt["baseline"]["validation_bits_per_character"], metrics["validation_bits_per_character"]) + 1e-3
    # The softmax temperature was chosen on validation: no worse there than the network as trained.
    assert metrics["calibrated_temperature"] in mini_gpt.TEMPERATURES
    assert metrics["validation_bits_per_character"] <= metrics["uncalibrated_validation_bits_per_character"] + 1e-3
    gunpoint = _results(quick_runs["convnet_1d"][0])
    # The archive's own test split, and validation out of its 50 training series.
    assert (gunpoint["data"]["train"], gunpoint["data"]["validation"], gunpoint["data"]["test"]) == (40, 10, 150)
    assert gunpoint["baseline"]["candidates"][0]["settings"] == {"k": 1}
    style = _results(quick_runs["style_transfer"][0])["metrics"]
    assert style["final_losses"]["total"] < style["initial_losses"]["total"]
    dates = _results(quick_runs["attention_seq2seq"][0])
    metrics, arms = dates["metrics"], dates["metrics"]["arms"]
    assert (dates["data"]["train"], dates["data"]["validation"], dates["data"]["test"]) == (1000, 200, 200)
    assert set(arms) == {"attention", "no_attention"} and arms["attention"]["params"] > arms["no_attention"]["params"]
    assert metrics["test_exact_match"] == arms["attention"]["test_exact_match"]
    assert metrics["exact_match_gain_over_no_attention"] == pytest.approx(
        arms["attention"]["test_exact_match"] - arms["no_attention"]["test_exact_match"], abs=1e-4)
    # Exact match by written form, for the forms the test dates were written in.
    assert set(arms["attention"]["test_exact_match_by_form"]) == set(dates["data"]["forms"]) <= set(DATE_FORMATS)
    assert [sample["iso"][4] + sample["iso"][7] for sample in dates["samples"]] == ["--"] * 12
    assert all(len(sample["answer"]) == 10 for sample in dates["samples"]) and dates["alignment_example"]
    maps = json.loads((quick_runs["attention_seq2seq"][0] / "attention.json").read_text())["examples"]
    assert [example["form"] for example in maps] == ["the 4th of March 1987", "Wednesday, March 4, 1987",
                                                      "3/4/87 (month first)", "4.3.87 (day first)"]
    for example in maps:   # one row per output character, one weight per written character, each row a softmax
        assert len(example["weights"]) == 10 and {len(row) for row in example["weights"]} == {len(example["written"])}
        assert all(abs(sum(row) - 1) < 1e-2 for row in example["weights"])
    assert dates["baseline"]["settings"] == {"dayfirst": "with dots", "century": "1950-2049"}
    bert = _results(quick_runs["mini_bert"][0])
    metrics, arms = bert["metrics"], bert["metrics"]["arms"]
    # Both arms: the pretrained encoder copied in by name, and the same classifier from random weights.
    assert set(arms) == {"pretrained", "scratch"} and arms["pretrained"]["params"] == arms["scratch"]["params"]
    assert arms["pretrained"]["copied_layers"] == ["embedding", "encoder_1"] and arms["scratch"]["copied_layers"] == []
    assert metrics["test_accuracy"] == arms["pretrained"]["test_accuracy"]
    # Each arm is its classifier averaged with one wide model, the same for both: its parts alone on validation.
    assert arms["pretrained"]["wide_model_alone_validation_accuracy"] == arms["scratch"][
        "wide_model_alone_validation_accuracy"]
    assert arms["pretrained"]["classifier_alone_validation_accuracy"] != arms["scratch"][
        "classifier_alone_validation_accuracy"]
    assert bert["model"]["validation_accuracy_alone"] == {
        "classifier": arms["pretrained"]["classifier_alone_validation_accuracy"],
        "wide_model": arms["pretrained"]["wide_model_alone_validation_accuracy"]}
    assert bert["headline"].endswith("each classifier averaged with a 1-2-gram linear model with character 1-5-grams")
    assert arms["pretrained"]["members"] == arms["scratch"]["members"] == 1   # --quick: one classifier per arm
    assert metrics["accuracy_gain_over_scratch"] == pytest.approx(
        arms["pretrained"]["test_accuracy"] - arms["scratch"]["test_accuracy"], abs=1e-4)
    # --quick: 3,000 passages of unlabelled text and the 2,000 training reviews, every one hidden in two ways.
    pretraining = metrics["pretraining"]
    assert pretraining["passages"] <= 5000 and pretraining["masked_copies"] == 2
    assert 0 < pretraining["validation_hidden_word_accuracy"] < 1 and pretraining["epochs_run"] == 1
    assert 0 < pretraining["validation_commonest_word_accuracy"] < 0.5   # "the" is not half of the hidden words
    assert (quick_runs["mini_bert"][0] / "pretrained.keras").is_file()
    attention = json.loads((quick_runs["mini_transformer"][0] / "attention.json").read_text())
    assert len(attention["weights"]) == len(attention["tokens"]) >= 8
    assert all(abs(sum(row) - 1) < 1e-2 for row in attention["weights"])  # softmax rows over real tokens


def test_saved_models_load_in_a_fresh_process_and_predict(quick_runs):
    folders = {name: str(quick_runs[name][0] / "model.keras") for name in RECIPES if name != "style_transfer"}
    script = textwrap.dedent(f"""
        import json, keras, numpy as np
        import zoo.layers
        from zoo import data
        folders = {folders!r}
        out = {{}}
        samples = {{"perceptron": data.embedded_arrays("breast_cancer")[0][:4],
                    "mlp": data.embedded_arrays("digits")[0][:4],
                    "convnet": data.embedded_arrays("mnist_5k")[0][:4],
                    "convnet_1d": data.embedded_arrays("gunpoint")[0][:4],
                    "inception": data.embedded_arrays("mnist_5k")[0][:4],
                    "convnet_lstm": data.embedded_arrays("mnist_5k")[0][:12].reshape(4, 3, 28, 28, 1),
                    "mini_gpt": np.array([[20, 45, 3, 41, 44]], dtype="int32"),
                    "attention_seq2seq": data.encode_dates(["3/4/87", "the 4th of March 1987"],
                                                           data.DATE_CHARACTERS, 32),
                    "vgg16_transfer": data.embedded_arrays("mnist_5k")[0][:4],
                    "lstm_sentiment": np.array(["a gorgeous, moving film", "dull and far too long"], dtype=object),
                    "mini_transformer": np.array(["a gorgeous, moving film", "dull and far too long"], dtype=object),
                    "mini_bert": np.array(["a gorgeous, moving film", "dull and far too long"], dtype=object)}}
        for name, path in folders.items():
            model = keras.saving.load_model(path, safe_mode=True)
            out[name] = np.asarray(model.predict(samples[name], verbose=0)).tolist()
        print(json.dumps(out))
    """)
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=240)
    assert done.returncode == 0, done.stderr[-3000:]
    predictions = json.loads(done.stdout.strip().splitlines()[-1])
    assert len(predictions["perceptron"]) == 4 and len(predictions["mlp"][0]) == 10
    assert len(predictions["vgg16_transfer"][0]) == 10 and len(predictions["convnet"][0]) == 10
    assert len(predictions["inception"]) == 4 and all(abs(sum(row) - 1) < 1e-4 for row in predictions["inception"])
    assert len(predictions["convnet_lstm"]) == 4 and len(predictions["convnet_lstm"][0]) == 28
    # The generator: the next character's probabilities after each of the 5 characters.
    assert np.asarray(predictions["mini_gpt"]).shape == (1, 5, 67)
    # The date model: each of the 10 output characters' probabilities over "-" and the digits.
    assert np.asarray(predictions["attention_seq2seq"]).shape == (2, 10, 11)
    assert len(predictions["convnet_1d"]) == 4 and all(abs(sum(row) - 1) < 1e-4 for row in predictions["convnet_1d"])
    for name in ("lstm_sentiment", "mini_transformer", "mini_bert"):  # raw strings in, class probabilities out
        assert len(predictions[name]) == 2 and all(abs(sum(row) - 1) < 1e-4 for row in predictions[name])


@pytest.mark.parametrize("argv, message", [
    (["--epochs", "0"], "--epochs=0 is out of range: use an integer from 1 to"),
    (["--batch-size", "-1"], "--batch-size=-1 is out of range: use an integer from 1 to"),
    (["--learning-rate", "0"], "--learning-rate=0 is out of range: use a finite number > 0"),
    (["--max-trials", "0"], "--max-trials=0 is out of range: use an integer from 1 to"),
    (["--tune", "grid"], "--tune: invalid choice: 'grid'"),
])
def test_bad_flags_are_refused_with_the_value(argv, message):
    done = subprocess.run([sys.executable, "-m", "zoo.recipes.mlp", *argv], capture_output=True, text=True, timeout=60)
    assert done.returncode == 2 and message in done.stderr


@pytest.mark.parametrize("recipe, argv, message", [
    ("vgg16_transfer", ["--image-size", "16"], "--image-size=16 is out of range: use an integer from 32 to"),
    ("style_transfer", ["--tune", "random"], "unrecognized arguments: --tune"),
    ("lstm_sentiment", ["--sequence-length", "1"], "--sequence-length=1 is out of range: use an integer from 2 to"),
    ("mini_bert", ["--unlabelled", "tweets"], "--unlabelled=tweets: tweets is not unlabelled text the zoo knows; use "
                                              "all, none, or some of film_plots"),
    ("mini_bert", ["--mask-rate", "1"], "--mask-rate=1 is out of range: use a finite number > 0 and < 1"),
    ("mini_bert", ["--wide-ngrams", "0"], "--wide-characters 5 feeds the wide model, which --wide-ngrams 0 turns off"),
    ("mini_bert", ["--members", "0"], "--members=0 is out of range: use an integer from 1 to 16"),
    ("mini_transformer", ["--label-smoothing", "1"],
     "--label-smoothing=1 is out of range: use a finite number >= 0 and < 1"),
    ("lstm_sentiment", ["--weight-decay", "-0.1"], "--weight-decay=-0.1 is out of range: use a finite number >= 0"),
    ("mini_transformer", ["--thesaurus", "--wide-ngrams", "0"],
     "--thesaurus feeds the wide model, which --wide-ngrams 0 turns off: use --wide-ngrams 1, 2 or 3 with it"),
    ("lstm_sentiment", ["--wide-characters", "5", "--wide-ngrams", "0"],
     "--wide-characters 5 feeds the wide model, which --wide-ngrams 0 turns off: use --wide-ngrams 1, 2 or 3 "
     "with it, or --wide-characters 0"),
    ("lstm_sentiment", ["--wide-characters", "9"], "--wide-characters=9 is out of range: use an integer from 0 to 8"),
    ("mini_gpt", ["--schedule", "linear"], "--schedule: invalid choice: 'linear' (choose from"),
    ("mini_gpt", ["--train-stride", "0"], "--train-stride=0 is out of range: use an integer from 1 to 4096"),
])
def test_recipe_specific_flags_are_checked(recipe, argv, message):
    done = subprocess.run([sys.executable, "-m", f"zoo.recipes.{recipe}", *argv], capture_output=True, text=True,
                          timeout=60)
    assert done.returncode == 2 and message in done.stderr


@pytest.mark.parametrize("precision", ["mixed_bfloat16", "mixed_float16"])
def test_precision_flag_sets_the_keras_policy(tmp_path, precision):
    import keras

    from zoo.recipes import mlp

    accuracy = mlp.main(["--quick", "--precision", precision, "--out", str(tmp_path)])
    assert _results(tmp_path)["environment"]["dtype_policy"] == precision
    model = keras.saving.load_model(tmp_path / "model.keras", safe_mode=True)
    assert model.get_layer("mlp").get_layer("hidden_1").compute_dtype == precision.split("_")[1]
    assert accuracy > 0.5


def test_a_recipe_may_train_in_another_precision_by_default(quick_runs):
    """mini_gpt's default policy is its PRECISION, bfloat16; every other recipe's float32; the flag wins."""
    import keras

    from zoo.recipes import mini_gpt

    for name in RECIPES:
        module = importlib.import_module(f"zoo.recipes.{name}")
        assert module.parse_args([]).precision == ("mixed_bfloat16" if name == "mini_gpt" else "float32"), name
    assert mini_gpt.parse_args(["--precision", "float32"]).precision == "float32"
    folder, _ = quick_runs["mini_gpt"]
    results = _results(folder)
    assert results["flags"]["precision"] == results["environment"]["dtype_policy"] == "mixed_bfloat16"
    model = keras.saving.load_model(folder / "model.keras", safe_mode=True)
    # The blocks compute in bfloat16 on float32 weights; the softmax stays float32.
    block = model.get_layer("block_1")
    assert (block.compute_dtype, block.variable_dtype) == ("bfloat16", "float32")
    assert model.get_layer("predictions").compute_dtype == "float32"


def test_a_killed_run_resumes_from_its_last_epoch(tmp_path):
    import csv
    import signal

    out = tmp_path / "run"
    command = [sys.executable, "-m", "zoo.recipes.mlp", "--epochs", "25", "--out", str(out)]
    first = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    history = out / "history.csv"
    try:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline and first.poll() is None:
            if history.exists() and len(history.read_text().splitlines()) > 8:
                break
            time.sleep(0.05)
        assert first.poll() is None, "the run ended before it could be killed"
    finally:
        os.killpg(first.pid, signal.SIGKILL)
        first.wait(timeout=30)
    done_before = len(history.read_text().splitlines()) - 1
    assert done_before >= 8 and (out / "checkpoints").exists() and not (out / "results.json").exists()

    done = subprocess.run(command, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    with history.open() as handle:
        epochs = [int(row["epoch"]) for row in csv.DictReader(handle)]
    assert epochs[:done_before] == list(range(done_before))  # the first run's rows are kept
    assert epochs == sorted(set(epochs)) and epochs[done_before] >= done_before - 1  # resumed, not restarted
    assert _results(out)["metrics"]["epochs_run"] == epochs[-1] + 1
    assert not (out / "checkpoints").exists()


def _refuse(*args, **kwargs):
    raise OSError("network disabled by the test")


def test_tfds_dataset_offline_fails_fast_with_the_fix(tmp_path, monkeypatch):
    from zoo.recipes import mlp
    from zoo.data import DataUnavailableError

    monkeypatch.setenv("TFDS_DATA_DIR", str(tmp_path / "tfds"))
    monkeypatch.setattr(socket, "create_connection", _refuse)
    started = time.perf_counter()
    with pytest.raises(DataUnavailableError, match="'tfds:mnist' is not prepared.*TFDS_DATA_DIR"):
        mlp.main(["--dataset", "tfds:mnist", "--out", str(tmp_path / "run")])
    assert time.perf_counter() - started < 10


def test_imagenet_weights_offline_fail_fast_with_the_fix(tmp_path, monkeypatch):
    from zoo.recipes import vgg16_transfer
    from zoo.weights import WeightsUnavailableError

    monkeypatch.setenv("KERAS_HOME", str(tmp_path / "keras"))
    monkeypatch.setattr(socket, "create_connection", _refuse)
    started = time.perf_counter()
    with pytest.raises(WeightsUnavailableError, match="--weights imagenet needs vgg16_weights.*KERAS_HOME") as caught:
        vgg16_transfer.main(["--weights", "imagenet", "--quick", "--out", str(tmp_path / "run")])
    assert time.perf_counter() - started < 10
    # Spelled as the recipe's flags, the only way the user sets them here.
    message = str(caught.value)
    assert "use weights that need no network: --weights hed_bsds500 (vgg16)." in message
    assert "pass --weights /path/to/vgg16_weights" in message and "weights=" not in message


def test_the_command_line_prints_one_clear_error_offline(tmp_path):
    env = {**os.environ, "ZOO_OFFLINE": "1", "TFDS_DATA_DIR": str(tmp_path)}
    started = time.perf_counter()
    done = subprocess.run([sys.executable, "-m", "zoo.recipes.lstm_sentiment", "--dataset", "tfds:imdb_reviews",
                           "--out", str(tmp_path / "run")], capture_output=True, text=True, timeout=60, env=env)
    assert time.perf_counter() - started < 30  # includes importing TensorFlow
    assert done.returncode == 1 and "Traceback" not in done.stderr
    assert "error: dataset 'tfds:imdb_reviews' is not prepared" in done.stderr
    # TensorFlow's native start-up logs are not in the terminal (zoo.console; tests/test_console.py).
    from zoo.console import is_native_noise

    assert not [line for line in done.stderr.splitlines() if is_native_noise(line.encode())], done.stderr


def test_zoo_run_is_the_recipe_through_the_console_script(tmp_path, capsys):
    from zoo.cli import main

    assert main(["run", "mlp", "--quick", "--out", str(tmp_path)]) == 0
    assert json.loads((tmp_path / "results.json").read_text())["flags"]["quick"] is True
    assert main(["run", "mlpx"]) == 2
    assert f"No recipe named 'mlpx'; recipes: {', '.join(sorted(RECIPES))}." in capsys.readouterr().err


@pytest.mark.no_keras
def test_the_checkout_alias_runs_the_installed_recipe_modules(tmp_path):
    """``python -m recipes.X`` (the README's short form, from a checkout) is ``python -m zoo.recipes.X``.

    The alias is not installed: pyproject packages only zoo*, so no top-level ``recipes`` reaches site-packages.
    """
    root = Path(__file__).resolve().parents[1]
    listing = subprocess.run([sys.executable, "-m", "recipes"], capture_output=True, text=True, timeout=60, cwd=root)
    assert listing.returncode == 0 and all(name in listing.stdout for name in RECIPES)
    helps = [subprocess.run([sys.executable, "-m", module, "--help"], capture_output=True, text=True, timeout=60,
                            cwd=root) for module in ("recipes.perceptron", "zoo.recipes.perceptron")]
    assert helps[0].returncode == helps[1].returncode == 0 and helps[0].stdout == helps[1].stdout
    elsewhere = subprocess.run([sys.executable, "-c", "import recipes"], capture_output=True, text=True,
                               timeout=60, cwd=tmp_path)
    assert elsewhere.returncode != 0 and "No module named 'recipes'" in elsewhere.stderr
    assert 'include = ["zoo*"]' in (root / "pyproject.toml").read_text()


# Where each multi-training recipe is killed: once the named training has saved its first epoch, so the
# trainings before it have finished and must not run again, and this one resumes.
# A recipe of one training is killed after its first epoch. mini_gpt's --quick reads the other text, then the
# play for one epoch, so its kill lands after both trainings, which the rerun restores instead of repeating.
KILLED_DURING = {"vgg16_transfer": "scratch", "style_transfer": "fit", "lstm_sentiment": "wide", "mini_bert": "scratch",
                 "attention_seq2seq": "no_attention", "perceptron": "optimist", "convnet": "mlp", "inception": "plain",
                 "mini_transformer": "wide", "convnet_1d": "fit", "convnet_lstm": "fit", "mini_gpt": "fit"}
# Trainings done before the kill (mini_bert: the pretraining, the wide model and the pretrained classifier's
# fine-tuning; perceptron: its rationalist and pessimist neurons; mini_gpt: its reading of the other text).
FINISHED_BEFORE = {"vgg16_transfer": 1, "style_transfer": 0, "lstm_sentiment": 1, "mini_bert": 3, "attention_seq2seq": 1,
                   "perceptron": 2, "convnet": 1, "inception": 1, "mini_transformer": 1, "convnet_1d": 0,
                   "convnet_lstm": 0, "mini_gpt": 1}


def _timing_free(metrics):
    """The metrics without wall-clock numbers, which no two runs share."""
    if isinstance(metrics, dict):
        return {key: _timing_free(value) for key, value in metrics.items()
                if not any(word in key for word in ("seconds", "time", "_s_", "per_s"))
                and not key.endswith("_s")}
    return metrics


@pytest.mark.parametrize("recipe", list(KILLED_DURING))
def test_every_recipe_resumes_after_a_kill_and_ends_as_an_uninterrupted_run(recipe, quick_runs, tmp_path):
    """SIGKILL in the middle of a later training; the rerun keeps the finished ones and ends with the same numbers."""
    import signal

    out, tag = tmp_path / "run", KILLED_DURING[recipe]
    command = [sys.executable, "-m", f"zoo.recipes.{recipe}", "--quick", "--out", str(out)]
    first = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    checkpoints = out / "checkpoints" / tag
    try:
        deadline = time.monotonic() + 300
        while time.monotonic() < deadline and first.poll() is None:
            if checkpoints.is_dir() and any(path.name.startswith("epoch-") for path in checkpoints.iterdir()):
                break
            time.sleep(0.02)
        assert first.poll() is None, f"the run ended before {tag} saved an epoch"
    finally:
        os.killpg(first.pid, signal.SIGKILL)
        first.wait(timeout=30)
    assert not (out / "results.json").exists()

    done = subprocess.run(command, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]
    resumed = [line for line in done.stderr.splitlines() if line.startswith("resuming from")]
    # Each finished training is restored, not run again; the killed one resumes from its saved epoch.
    assert len([line for line in resumed if line.endswith("training had finished")]) >= FINISHED_BEFORE[recipe]
    assert len(resumed) >= FINISHED_BEFORE[recipe] + 1, done.stderr[-3000:]
    assert _timing_free(_results(out)["metrics"]) == _timing_free(_results(quick_runs[recipe][0])["metrics"])
    assert not (out / "checkpoints").exists()


def test_pretraining_hides_a_share_of_each_texts_real_tokens_and_asks_for_them_in_reading_order():
    from zoo.recipes.mini_bert import hide_tokens

    rng = np.random.default_rng(0)
    ids = np.zeros((200, 20), dtype="int32")
    lengths = rng.integers(1, 21, size=200)
    for row, length in enumerate(lengths):
        ids[row, :length] = rng.integers(2, 60, size=length)
    hidden, targets, weights = hide_tokens(ids, rng, rate=0.15, max_predictions=3, mask_id=99)
    for row, length in enumerate(lengths):
        positions = np.flatnonzero(hidden[row] == 99)
        # 15% of the real tokens, at least one, at most the 3 slots; never a padding position.
        assert len(positions) == min(3, max(1, round(0.15 * length))) and positions.max() < length
        assert list(targets[row, :len(positions)]) == list(ids[row, positions])   # in reading order
        assert list(weights[row]) == [1.0] * len(positions) + [0.0] * (3 - len(positions))
        assert (hidden[row] == np.where(hidden[row] == 99, 99, ids[row])).all()   # the rest untouched
    # Hidden words the softmax does not cover stay hidden but are not scored.
    hidden, targets, weights = hide_tokens(ids, np.random.default_rng(1), 0.15, 3, 99, predicted_tokens=30)
    assert (targets < 30).all() and ((weights > 0) == (targets > 0)).all()
    assert (hidden == 99).sum() > (weights > 0).sum()


@pytest.mark.parametrize("recipe", ["lstm_sentiment", "mini_transformer"])
def test_sentiment_regularisers_reach_each_sequence_models_loss_and_optimizer(recipe):
    from zoo.losses import SparseCategoricalCrossentropy
    from zoo.recipes import sentiment

    module = importlib.import_module(f"zoo.recipes.{recipe}")
    off = module.parse_args(["--label-smoothing", "0", "--weight-decay", "0"])
    plain = sentiment.build(module.SETTINGS, off, vocabulary_size=50, num_classes=2)
    assert plain.loss == "sparse_categorical_crossentropy" and plain.optimizer.weight_decay is None
    args = module.parse_args(["--label-smoothing", "0.1", "--weight-decay", "0.05", "--learning-rate", "0.002"])
    model = sentiment.build(module.SETTINGS, args, vocabulary_size=50, num_classes=2)
    assert isinstance(model.loss, SparseCategoricalCrossentropy) and model.loss.label_smoothing == 0.1
    assert model.optimizer.weight_decay == 0.05
    assert float(model.optimizer.learning_rate) == pytest.approx(0.002)


def test_mini_gpt_warms_up_then_follows_a_cosine_over_the_epochs_and_decays_weights():
    from types import SimpleNamespace

    from zoo.recipes import mini_gpt

    text = SimpleNamespace(num_classes=20, sizes={"train": 640})   # 20 batches of 32 an epoch
    args = mini_gpt.parse_args(["--sequence-length", "8", "--embed-dim", "8", "--num-heads", "2", "--ff-dim", "8",
                                "--num-layers", "1", "--epochs", "30", "--learning-rate", "0.002"])
    model = mini_gpt.build(args, text)
    steps, warm = 20 * 30, mini_gpt.WARMUP_STEPS
    assert model.optimizer.weight_decay == mini_gpt.WEIGHT_DECAY > 0

    def rate(step):
        model.optimizer.iterations.assign(step)
        return float(model.optimizer.learning_rate)

    assert rate(0) == pytest.approx(0.0002, rel=1e-5)   # a tenth of the peak
    assert rate(warm // 2) == pytest.approx(0.0011, rel=1e-5)   # halfway up, in a straight line
    assert rate(warm) == pytest.approx(0.002, rel=1e-5)   # the peak, then down along the cosine
    assert rate(warm + steps // 2) == pytest.approx(0.002 * (0.05 + 0.95 / 2), rel=1e-4)
    assert rate(warm + steps) == pytest.approx(0.002 * 0.05, rel=1e-4)   # a twentieth, for good
    assert rate(warm + 2 * steps) == pytest.approx(0.002 * 0.05, rel=1e-4)
    constant = mini_gpt.build(mini_gpt.parse_args(["--sequence-length", "8", "--embed-dim", "8", "--num-heads", "2",
                                                   "--ff-dim", "8", "--num-layers", "1", "--schedule", "constant",
                                                   "--weight-decay", "0"]), text)
    assert float(constant.optimizer.learning_rate) == pytest.approx(mini_gpt.LEARNING_RATE)
    assert constant.optimizer.weight_decay is None


@pytest.mark.parametrize("length", [8, 7])
def test_mini_gpt_scores_each_character_once_with_half_a_window_before_it_as_the_ngram_does(length):
    import keras

    import zoo
    from zoo import data
    from zoo.recipes import mini_gpt

    text = data.characters("hamlet", length, train_size=200, evaluation_size=60)
    keras.utils.set_random_seed(0)
    model = zoo.get("mini_gpt", vocab_size=text.num_classes, sequence_length=length, embed_dim=8, num_heads=2,
                    ff_dim=8, num_layers=1, dropout=0.0)
    probabilities, ids = mini_gpt.next_character_probabilities(model, text, "validation", batch_size=3)
    scored = text.sizes["validation"] * length
    # The characters the n-gram scores: the 2nd to the (scored + 1)th of the split, in reading order.
    assert probabilities.shape == (scored, text.num_classes) and 5 * length <= scored
    assert list(ids) == list(text.encode(text.texts["validation"][1:scored + 1]))
    every = text.encode(text.texts["validation"])
    step = length // 2
    for character in range(1, scored + 1):
        # The first window scores its every position; the others their last half (the last one, where the
        # half windows do not end on the scored characters, from where the one before it ended).
        start = 0 if character <= length else min(step * -(-(character - length) // step), scored - length)
        assert character <= length or character - start > length - step   # at least half a window before it
        expected = keras.ops.convert_to_numpy(model(every[None, start:start + length]))[0, character - 1 - start]
        np.testing.assert_allclose(probabilities[character - 1], expected, rtol=1e-4, atol=1e-6)


@pytest.mark.parametrize("sharpness", [4.0, 0.25])
def test_mini_gpt_chooses_its_softmax_temperature_on_validation_and_folds_it_into_its_last_layer(sharpness):
    import dataclasses

    import keras

    import zoo
    from zoo import data
    from zoo.recipes import mini_gpt

    text = data.characters("hamlet", 8, train_size=200, evaluation_size=60)
    keras.utils.set_random_seed(0)
    model = zoo.get("mini_gpt", vocab_size=text.num_classes, sequence_length=8, embed_dim=8, num_heads=2, ff_dim=8,
                    num_layers=1, dropout=0.0)
    model.compile(optimizer=keras.optimizers.Adam(0.01), loss="sparse_categorical_crossentropy")
    model.fit(text.batches(32)[0], epochs=5, verbose=0)   # guesses better than chance
    # Logits made sharper (an overconfident model) or flatter (an underconfident one) than the trained model's.
    layer = model.get_layer("predictions")
    layer.set_weights([weight * sharpness for weight in layer.get_weights()])
    before, ids = mini_gpt.next_character_probabilities(model, text, "validation")

    def tempered(temperature):
        scaled = before ** (1 / temperature)
        return scaled / scaled.sum(axis=1, keepdims=True)

    def bits(probabilities):
        return float(-np.log2(probabilities[np.arange(len(ids)), ids]).mean())

    # The test part is not there to read: the temperature is chosen on validation alone.
    calibration = mini_gpt.calibrate(model, dataclasses.replace(text, texts={"validation": text.texts["validation"]}))
    temperature = calibration["calibrated_temperature"]
    assert temperature in mini_gpt.TEMPERATURES and (temperature > 1 if sharpness > 1 else temperature < 1)
    assert calibration["uncalibrated_validation_bits_per_character"] == pytest.approx(bits(before), abs=1e-4)
    after, _ = mini_gpt.next_character_probabilities(model, text, "validation")
    np.testing.assert_allclose(after, tempered(temperature), rtol=1e-3, atol=1e-6)   # the model's own softmax now
    assert bits(after) < bits(before) and all(bits(after) <= bits(tempered(other)) + 1e-4
                                              for other in mini_gpt.TEMPERATURES)


def test_the_ngram_baseline_gets_the_same_calibration_as_the_gpt_chosen_with_its_order_on_validation():
    from zoo import baselines, data

    play = data.corpus("hamlet")
    texts = {"train": play[:6000], "validation": play[6000:7000], "test": play[7000:8000]}
    vocabulary = ("", *sorted(set(play)))
    targets = {"validation": 900, "test": 900}
    plain, calibrated = {}, {}
    as_counted = baselines.character_ngram(texts, vocabulary, targets, orders=range(1, 5), chances=plain)
    tempered = baselines.character_ngram(texts, vocabulary, targets, orders=range(1, 5), chances=calibrated,
                                         temperatures=(0.5, 1.0, 1.5, 2.0, 3.0))
    assert [c["settings"]["temperature"] for c in as_counted["candidates"]] == [1.0] * 4
    assert "temperature" not in as_counted["headline"] and "temperature" in tempered["headline"]
    for before, after in zip(as_counted["candidates"], tempered["candidates"]):
        # Each order with its best temperature: no worse on validation than the counts as they are.
        assert after["settings"]["order"] == before["settings"]["order"]
        assert after["settings"]["temperature"] in (0.5, 1.0, 1.5, 2.0, 3.0)
        assert after["validation_bits_per_character"] <= before["validation_bits_per_character"]
    # The chosen pair is the best on validation, and the chances handed on are the calibrated model's.
    assert tempered["validation_bits_per_character"] == min(c["validation_bits_per_character"]
                                                            for c in tempered["candidates"])
    for found, block in ((plain, as_counted), (calibrated, tempered)):
        assert len(found["validation"]) == len(found["test"]) == 900
        assert -np.log2(found["validation"]).mean() == pytest.approx(block["validation_bits_per_character"], abs=1e-4)
        assert -np.log2(found["test"]).mean() == pytest.approx(block["test_bits_per_character"], abs=1e-4)
    # Tempering never reorders a distribution: the same guesses, so the same accuracy, at the same order.
    if tempered["settings"]["order"] == as_counted["settings"]["order"]:
        assert tempered["test_accuracy"] == as_counted["test_accuracy"]
    log_probabilities = np.log(np.array([[0.7, 0.2, 0.1], [0.1, 0.8, 0.1]]))
    temperature, bits = baselines.best_temperature(log_probabilities, np.array([1, 1]), (0.5, 1.0, 2.0))
    assert bits[1.0] == pytest.approx(-np.log2([0.2, 0.8]).mean()) and temperature == min(bits, key=bits.get)
    # At temperature T each distribution becomes p ** (1/T), renormalised; a zero stays (all but) zero, not NaN.
    distributions = np.array([[0.7, 0.2, 0.1], [0.0, 1.0, 0.0]])
    for temperature in (0.5, 1.0, 2.0):
        expected = distributions ** (1 / temperature)
        np.testing.assert_allclose(np.exp(baselines.tempered(baselines.logs(distributions), temperature)),
                                   expected / expected.sum(axis=1, keepdims=True), rtol=1e-12, atol=1e-12)


def test_the_ngram_reads_the_gpts_pretraining_text_too_mixed_in_where_validation_says_so():
    from zoo import baselines, data

    play = data.corpus("hamlet")
    texts = {"train": play[:6000], "validation": play[6000:7000], "test": play[7000:8000]}
    vocabulary = ("", *sorted(set(play)))
    targets = {"validation": 900, "test": 900}
    alone = baselines.character_ngram(texts, vocabulary, targets, orders=range(1, 5))
    # More of the same play: the second n-gram helps, so the pair is chosen, with weight and orders on validation.
    found = {}
    helped = baselines.character_ngram(texts, vocabulary, targets, orders=range(1, 5), chances=found,
                                       extra_text=play[8000:40000])
    assert helped["settings"]["extra_order"] in range(1, 5) and helped["settings"]["extra_weight"] in (
        baselines.EXTRA_WEIGHTS)
    assert helped["candidates"][:4] == alone["candidates"]   # the play-only candidates, as before
    assert helped["validation_bits_per_character"] < alone["validation_bits_per_character"]
    assert helped["extra_characters"] == 32000 and "on the extra text at weight" in helped["headline"]
    assert -np.log2(found["validation"]).mean() == pytest.approx(helped["validation_bits_per_character"], abs=1e-4)
    assert -np.log2(found["test"]).mean() == pytest.approx(helped["test_bits_per_character"], abs=1e-4)
    # Text that does not help on validation is left out: the block is the play-only one's.
    useless = baselines.character_ngram(texts, vocabulary, targets, orders=range(1, 5), extra_text="|" * 5000)
    assert useless["settings"] == alone["settings"]
    assert useless["test_bits_per_character"] == alone["test_bits_per_character"]


def test_pretraining_text_is_written_in_the_plays_characters(monkeypatch):
    from zoo import data
    from zoo.recipes import mini_gpt

    monkeypatch.setattr(data, "unlabelled_texts", lambda sources: {source: [f"\u201cOK\u201d (\u00a312) \u2014 {source}"]
                                                                   for source in sources})
    text = data.unlabelled_characters(["film_plots", "debates_2016"], ("", "\n", " ", "'", ",", "-", "O", "K",
                                                                         *"film_plotsdebates"))
    assert text == "'OK' ,, - film_plots\n'OK' ,, - debates_"   # the digits and the pound sign left out
    assert data.unlabelled_characters(["film_plots"], ("", " ", "O", "K")) == "OK   "   # no substitute fits
    args = mini_gpt.parse_args(["--pretrain-text", "all"])
    assert args.pretrain_text == mini_gpt.OTHER_TEXT and "hamlet" not in mini_gpt.OTHER_TEXT
    assert set(mini_gpt.OTHER_TEXT) == set(data.UNLABELLED) - {"hamlet"}
    assert mini_gpt.parse_args(["--pretrain-text", "none"]).pretrain_text == ()
    # The model card says what else it read.
    assert mini_gpt.use(args).limits[0] == mini_gpt.PRETRAINING_LIMIT and mini_gpt.use(args).limits[1:] == (
        mini_gpt.USE.limits[1:])
    assert mini_gpt.use(mini_gpt.parse_args(["--pretrain-text", "none"])) == mini_gpt.USE


@pytest.mark.parametrize("argv, message", [
    (["--pretrain-text", "hamlet"], "hamlet holds the play's validation and test parts"),
    (["--pretrain-text", "film_plots,poems"], "poems is not unlabelled text the zoo knows"),
    (["--pretrain-text", ","], "no name is not"),
    (["--pretrain-epochs", "3", "--pretrain-text", "none"],
     "--pretrain-epochs set how the GPT reads the --pretrain-text, which is none"),
    (["--pretrain-learning-rate", "1e-4", "--pretrain-text", "none"], "--pretrain-learning-rate set how")])
def test_pretraining_flags_are_refused_with_the_reason(argv, message):
    from zoo.errors import FlagError
    from zoo.recipes import mini_gpt

    with pytest.raises(FlagError, match=message):
        mini_gpt.parse_args(argv)
    if argv[0] == "--pretrain-epochs":   # with text to read, the same flag is taken
        assert mini_gpt.parse_args([*argv, "--pretrain-text", "debates_2016"]).pretrain_epochs == 3


_TOY_REVIEWS = ["a superb film", "dull and tedious", "a splendid cast", "boring", "superb superb"]


def _toy_word_vectorizers():
    """(token ids of 6 words, TF-IDF of word 1-2-grams): the ensemble's word vectorizers, on five toy reviews."""
    import keras

    vectorizer = keras.layers.TextVectorization(output_sequence_length=6, name="vectorizer")
    vectorizer.adapt(_TOY_REVIEWS)
    ngrams = keras.layers.TextVectorization(ngrams=2, output_mode="tf_idf", name="ngram_vectorizer")
    ngrams.adapt(_TOY_REVIEWS)
    return vectorizer, ngrams


def _scores_raw_text_before_and_after_saving(model, texts, expected, folder):
    import keras

    np.testing.assert_allclose(model.predict(texts, verbose=0), expected, rtol=1e-5, atol=1e-6)
    model.save(folder / "model.keras")
    loaded = keras.saving.load_model(folder / "model.keras", safe_mode=True)
    np.testing.assert_allclose(loaded.predict(texts, verbose=0), expected, rtol=1e-5, atol=1e-6)


def test_the_thesaurus_reaches_the_wide_model_and_the_saved_text_model(tmp_path):
    import keras

    from zoo.recipes import lstm_sentiment, sentiment

    vectorizer, ngrams = _toy_word_vectorizers()
    plain_args = lstm_sentiment.parse_args(["--sequence-length", "6", "--wide-characters", "0"])
    plain = sentiment.wide_model(lstm_sentiment.SETTINGS, plain_args, ngrams.vocabulary_size(), 2)
    assert not isinstance(plain.input, dict) and len(plain.inputs) == 1   # words alone: n-grams only
    args = lstm_sentiment.parse_args(["--sequence-length", "6", "--thesaurus"])
    categories = sentiment.word_categories(vectorizer)   # the packaged thesaurus, over the training vocabulary
    wide = sentiment.wide_model(lstm_sentiment.SETTINGS, args, ngrams.vocabulary_size(), 2, categories)
    assert set(wide.input) == {"ngrams", "token_ids"} and wide.get_layer("word_categories") is categories
    # "dull and tedious" and "boring" share no word, but share TEDIUM.
    counts = keras.ops.convert_to_numpy(categories(vectorizer(np.array(["dull and tedious", "boring"]))))
    assert ((counts[0] > 0) & (counts[1] > 0)).any()

    sequence = sentiment.build(lstm_sentiment.SETTINGS, args, vectorizer.vocabulary_size(), 2)
    model = sentiment.raw_text_model(vectorizer, ngrams, sentiment.ensemble([sequence, wide], args, has_wide=True))
    texts = np.array(["a superb film", "boring and dull"], dtype=object)
    token_ids, features = vectorizer(texts), ngrams(texts)
    expected = (keras.ops.convert_to_numpy(sequence(token_ids))
                + keras.ops.convert_to_numpy(wide({"ngrams": features, "token_ids": token_ids}))) / 2
    _scores_raw_text_before_and_after_saving(model, texts, expected, tmp_path)


def test_character_ngrams_reach_the_wide_model_and_the_saved_text_model(tmp_path):
    import keras

    from zoo.recipes import lstm_sentiment, sentiment

    vectorizer, ngrams = _toy_word_vectorizers()
    characters = keras.layers.TextVectorization(standardize="lower", split="character", ngrams=3,
                                                output_mode="tf_idf", name="character_vectorizer")
    characters.adapt(_TOY_REVIEWS)
    args = lstm_sentiment.parse_args(["--sequence-length", "6", "--wide-characters", "3"])
    wide = sentiment.wide_model(lstm_sentiment.SETTINGS, args, ngrams.vocabulary_size(), 2,
                                characters=characters.vocabulary_size())
    assert set(wide.input) == {"ngrams", "characters"}
    # "dullest" is no word of the training reviews, but shares "dul" and "ull" with "dull".
    counts = keras.ops.convert_to_numpy(characters(np.array(["dull", "dullest"])))
    assert ((counts[0] > 0) & (counts[1] > 0)).sum() >= 5   # d, u, l, du, ul, ll, dul, ull...
    assert keras.ops.convert_to_numpy(ngrams(np.array(["dullest"])))[0, 1:].sum() == 0   # no known word

    sequence = sentiment.build(lstm_sentiment.SETTINGS, args, vectorizer.vocabulary_size(), 2)
    model = sentiment.raw_text_model(vectorizer, ngrams, sentiment.ensemble([sequence, wide], args, has_wide=True),
                                     characters)
    texts = np.array(["a superb film", "boring and dull"], dtype=object)
    expected = (keras.ops.convert_to_numpy(sequence(vectorizer(texts)))
                + keras.ops.convert_to_numpy(wide({"ngrams": ngrams(texts), "characters": characters(texts)}))) / 2
    _scores_raw_text_before_and_after_saving(model, texts, expected, tmp_path)


def test_mini_bert_averages_several_classifiers_per_arm_with_or_without_the_wide_model(tmp_path):
    """--members 2: the arm's two classifiers, fitted from two seeds, are averaged, and the saved model of the
    average scores raw strings; without pretraining, the scratch arm is the one kept."""
    import keras

    from zoo.recipes import mini_bert

    mini_bert.main(["--quick", "--pretrain-epochs", "0", "--members", "2", "--wide-ngrams", "0",
                    "--wide-characters", "0", "--out", str(tmp_path)])
    results = _results(tmp_path)
    assert set(results["metrics"]["arms"]) == {"scratch"} and results["metrics"]["arms"]["scratch"]["members"] == 2
    assert results["headline"].endswith("reviews, each arm's 2 classifiers averaged")
    assert "validation_accuracy_alone" not in results["model"] and results["model"]["members"] == 2
    first, second = ([row["val_accuracy"] for row in csv.DictReader((tmp_path / name).open())]
                     for name in ("history_scratch.csv", "history_scratch_member_2.csv"))
    assert first != second   # two seeds, two classifiers
    model = keras.saving.load_model(tmp_path / "model.keras", safe_mode=True)
    probabilities = model.predict(np.array(["a gorgeous, moving film", "dull and far too long"], dtype=object),
                                  verbose=0)
    assert probabilities.shape == (2, 2) and np.allclose(probabilities.sum(axis=1), 1, atol=1e-5)
    assert [layer.name for layer in model.layers if layer.name.startswith("mini_transformer")] == []
    assert len([layer for layer in model.get_layer("ensemble").layers if layer.name.startswith(
        "mini_transformer_scratch")]) == 2


def test_a_quick_run_reports_each_part_of_the_ensemble_alone_on_validation(tmp_path):
    from zoo.recipes import lstm_sentiment

    lstm_sentiment.main(["--quick", "--wide-characters", "3", "--out", str(tmp_path)])
    results = _results(tmp_path)
    model = results["model"]
    assert model["wide_characters"] == 3 and "with character 1-3-grams" in results["headline"]
    alone = model["validation_accuracy_alone"]
    assert set(alone) == {"sequence_models", "wide_model"}
    # The wide model's number is its kept epoch's validation accuracy, as its own history recorded it.
    history = [float(row["val_accuracy"]) for row in csv.DictReader((tmp_path / "history_wide.csv").open())]
    assert alone["wide_model"] == pytest.approx(max(history), abs=1e-4)
    history = [float(row["val_accuracy"]) for row in csv.DictReader((tmp_path / "history.csv").open())]
    assert alone["sequence_models"] == pytest.approx(max(history), abs=1e-4)   # one member with --quick


def test_a_quick_run_with_the_thesaurus_trains_and_saves_the_categories(tmp_path):
    import keras

    import zoo.layers  # noqa: F401  (registers WordCategories for loading)
    from zoo.recipes import mini_transformer

    mini_transformer.main(["--quick", "--thesaurus", "--out", str(tmp_path)])
    results = _results(tmp_path)
    assert results["model"]["thesaurus"] is True
    assert "linear model with character 1-5-grams and thesaurus categories" in results["headline"]
    wide = keras.saving.load_model(tmp_path / "model.keras", safe_mode=True).get_layer("ensemble").get_layer(
        "wide_ngrams")
    table = keras.ops.convert_to_numpy(wide.get_layer("word_categories").table)
    assert table.shape[1] == 16 and (table > 0).sum(axis=1).astype(bool).mean() > 0.3   # most words have one
    assert (tmp_path / "history_wide.csv").is_file()
