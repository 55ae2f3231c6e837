"""zoo predict and zoo.load_run on the session's quick run folders (conftest.quick_runs): raw inputs in, classes out.

The inputs are real examples of each recipe's embedded data, taken with zoo.data.embedded_arrays, the
function the recipes train from; the expected answers come from the run's own model on those arrays.
"""

import json
import shutil
import subprocess
import sys

import numpy as np
import pytest
from PIL import Image

import zoo
from zoo import predict as zoo_predict
from zoo.data import embedded_arrays


def cli(capsys, *argv):
    """``python -m zoo.predict ARGV`` in this process: (exit status, stdout, stderr)."""
    status = zoo_predict.main([str(arg) for arg in argv])
    captured = capsys.readouterr()
    return status, captured.out, captured.err


def json_cli(capsys, *argv) -> dict:
    status, out, err = cli(capsys, *argv, "--json")
    assert status == 0, err
    return json.loads(out)


def all_values(document: dict) -> list[dict]:
    """{class: value} per prediction of a --json document."""
    key = document["output"]
    return [{entry["class"]: entry[key] for entry in prediction["top"]} for prediction in document["predictions"]]


def class_names(run_folder) -> list[str]:
    return json.loads((run_folder / "results.json").read_text())["data"]["class_names"]


def model_probabilities(run_folder, batch):
    """What the run's own model answers for ``batch``, loaded as a user would."""
    import keras

    import zoo.layers  # noqa: F401

    model = keras.saving.load_model(run_folder / "model.keras", safe_mode=True, compile=False)
    return model.predict(batch, verbose=0)


def one_error_line(status, out, err, *fragments):
    """A refused input: exit status 2, nothing on stdout, one ``error:`` line naming ``fragments``."""
    assert status == 2, (out, err)
    assert out == ""
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), err
    assert "Traceback" not in err
    for fragment in fragments:
        assert fragment in lines[0], (fragment, lines[0])
    return lines[0]


@pytest.fixture(scope="module")
def digits():
    inputs, labels, _ = embedded_arrays("digits")
    return inputs, labels


@pytest.fixture(scope="module")
def mnist():
    inputs, labels, _ = embedded_arrays("mnist_5k")
    return inputs, labels


@pytest.fixture(scope="module")
def tumours():
    inputs, labels, _ = embedded_arrays("breast_cancer")
    return inputs, labels


@pytest.fixture(scope="module")
def gunpoint():
    inputs, labels, _ = embedded_arrays("gunpoint")
    return inputs, labels


@pytest.fixture
def digit_png(tmp_path, digits):
    """The first digits scan as an 8x8 grey PNG: ink 0-16 stored as brightness 0-255."""
    path = tmp_path / "digit.png"
    Image.fromarray(np.round(digits[0][0].reshape(8, 8) * 255 / 16).astype("uint8")).save(path)
    return path


@pytest.fixture
def mnist_png(tmp_path, mnist):
    path = tmp_path / "mnist.png"
    Image.fromarray(mnist[0][0, :, :, 0]).save(path)
    return path


def write_csv(path, rows, header=None):
    lines = ([",".join(header)] if header else []) + [",".join(repr(float(value)) for value in row) for row in rows]
    path.write_text("\n".join(lines) + "\n")
    return path


# ---------------------------------------------------------------------------- answers

@pytest.mark.parametrize("recipe, image", [("mlp", "digit_png"), ("vgg16_transfer", "mnist_png"),
                                           ("convnet", "mnist_png"), ("inception", "mnist_png")])
def test_an_image_file_gets_class_names_and_probabilities(recipe, image, quick_runs, request, capsys):
    folder = quick_runs[recipe][0]
    path = request.getfixturevalue(image)
    status, out, err = cli(capsys, folder, path)
    assert status == 0, err
    names = class_names(folder)
    rows = [line.split() for line in out.splitlines()[3:]]   # after the run's line, a blank and the header
    assert len(rows) == 3 and rows[0][0] == str(path) and [row[-3] for row in rows] == ["1", "2", "3"]
    assert all(row[-2] in names and 0 <= float(row[-1]) <= 1 for row in rows)
    document = json_cli(capsys, folder, path, "--top", 99)   # more than there are: all classes
    values = all_values(document)[0]
    assert sorted(values) == sorted(names) and document["top"] == len(names)
    assert sum(values.values()) == pytest.approx(1, abs=1e-4)
    ranked = [entry[document["output"]] for entry in document["predictions"][0]["top"]]
    assert ranked == sorted(ranked, reverse=True)


def test_an_image_reaches_the_model_as_the_recipe_trained_it(quick_runs, mnist, mnist_png):
    folder = quick_runs["vgg16_transfer"][0]
    run = zoo.load_run(folder)
    assert run.kind == "image" and run.image_shape == (28, 28, 1)
    assert any("Resizing" in layer for layer in run.inside_model)   # the model resizes to 32x32 RGB itself
    got = zoo_predict.predict(run, [mnist_png], top=10)[0]
    expected = model_probabilities(folder, mnist[0][:1].astype("float32"))[0]
    np.testing.assert_allclose([dict(got.top)[name] for name in run.class_names], expected, rtol=1e-3, atol=1e-4)


def test_an_rgb_image_of_another_size_is_converted(quick_runs, mnist, tmp_path, capsys):
    grey = mnist[0][0, :, :, 0]
    path = tmp_path / "big.jpg"
    Image.fromarray(np.stack([grey] * 3, axis=-1)).resize((56, 56)).save(path)
    values = all_values(json_cli(capsys, quick_runs["vgg16_transfer"][0], path, "--top", 10))[0]
    assert len(values) == 10 and sum(values.values()) == pytest.approx(1, abs=1e-4)


def test_a_digit_image_is_read_at_the_mlps_ink_scale(quick_runs, digits, digit_png):
    folder = quick_runs["mlp"][0]
    run = zoo.load_run(folder)
    assert run.kind == "tabular" and run.features == 64 and run.image_shape == (8, 8, 1) and run.ink_scale == 16
    got = zoo_predict.predict(run, [digit_png], top=10)[0]
    expected = model_probabilities(folder, digits[0][:1])[0]
    # The PNG holds each ink value rounded to 1/255 of the range (at most 0.03 of 16): close, not equal.
    np.testing.assert_allclose([dict(got.top)[name] for name in run.class_names], expected, atol=1e-2)


def test_invert_turns_a_dark_on_light_scan_into_the_training_polarity(quick_runs, digit_png, tmp_path, capsys):
    folder = quick_runs["mlp"][0]
    negative = tmp_path / "paper.png"
    Image.fromarray(255 - np.asarray(Image.open(digit_png))).save(negative)
    original = json_cli(capsys, folder, digit_png, "--top", 10)["predictions"][0]
    inverted = json_cli(capsys, folder, negative, "--invert", "--top", 10)["predictions"][0]
    assert inverted["top"] == original["top"] and "note" not in original
    plain = json_cli(capsys, folder, negative)["predictions"][0]
    assert "--invert" in plain["note"]
    status, out, _ = cli(capsys, folder, negative)
    assert status == 0 and "note: " in out and "pass --invert" in out


@pytest.mark.parametrize("recipe, dataset", [("mlp", "digits"), ("perceptron", "breast_cancer"),
                                             ("convnet_1d", "gunpoint")])
def test_csv_rows_match_the_model_on_the_same_rows(recipe, dataset, quick_runs, request, tmp_path, capsys):
    folder = quick_runs[recipe][0]
    inputs = request.getfixturevalue({"digits": "digits", "breast_cancer": "tumours",
                                      "gunpoint": "gunpoint"}[dataset])[0][:3]
    names = class_names(folder)
    expected = model_probabilities(folder, inputs)
    if expected.shape[-1] == 1:   # the rationalist neuron: the probability of the second class
        expected = np.concatenate([1 - expected, expected], axis=1)
    header = [f"feature_{index}" for index in range(inputs.shape[1])]
    for path in (write_csv(tmp_path / "with_header.csv", inputs, header), write_csv(tmp_path / "bare.csv", inputs)):
        document = json_cli(capsys, folder, path, "--top", len(names))
        offset = 2 if path.name == "with_header.csv" else 1
        assert [p["input"] for p in document["predictions"]] == [f"{path}:{line + offset}" for line in range(3)]
        assert document["output"] == "probability" and document["classes"] == names
        got = np.array([[values[name] for name in names] for values in all_values(document)])
        np.testing.assert_allclose(got, expected, rtol=1e-3, atol=1e-4)
    # The = form: a z-normalised series starts with a minus sign, which argparse would take for a flag.
    inline = json_cli(capsys, folder, "--row=" + ",".join(repr(float(v)) for v in inputs[1]), "--top", len(names))
    assert inline["predictions"][0]["input"] == "--row 1"
    np.testing.assert_allclose([all_values(inline)[0][name] for name in names], expected[1], rtol=1e-3, atol=1e-4)


def test_the_perceptron_says_which_neuron_answers(quick_runs, tumours):
    run = zoo.load_run(quick_runs["perceptron"][0])
    saved = run.results["metrics"]["saved_activation"]
    from zoo.models.perceptron import resolve_activation

    assert run.activation == resolve_activation(saved) and run.output == "probability"
    assert f"({run.activation} neuron)" in run.describe() and "standardise (Normalization)" in run.inside_model
    prediction = zoo_predict.predict(run, [list(tumours[0][0])], top=50)[0]   # a Python row of numbers
    assert sorted(name for name, _ in prediction.top) == sorted(run.class_names)
    assert sum(value for _, value in prediction.top) == pytest.approx(1, abs=1e-6)


@pytest.mark.parametrize("activation", ["sigmoid", "tanh", "relu", "constant"])
def test_each_one_unit_output_puts_its_threshold_at_one_half(activation):
    from zoo.models.perceptron import THRESHOLDS

    run = zoo_predict.LoadedRun(folder=None, results={}, model=None, class_names=("no", "yes"), recipe="perceptron",
                                kind="tabular", image_shape=None, features=30, activation=activation)
    threshold = THRESHOLDS[activation]
    values = zoo_predict.class_values(run, np.array([[threshold], [threshold + 0.25], [threshold - 0.25]]))
    np.testing.assert_allclose(values.sum(axis=1), 1)
    assert values[0, 1] == pytest.approx(0.5)
    if activation != "constant":   # a constant's output never moves; the others rank "yes" by their output
        assert values[1, 1] > 0.5 > values[2, 1]


@pytest.mark.parametrize("recipe", ["lstm_sentiment", "mini_transformer"])
def test_texts_get_the_class_names_and_match_the_model(recipe, quick_runs, tmp_path, capsys):
    folder = quick_runs[recipe][0]
    texts = [str(text) for text in embedded_arrays("rotten_tomatoes")[0][:3]]
    run = zoo.load_run(folder)
    assert run.kind == "text" and any("TextVectorization" in layer for layer in run.inside_model)
    got = zoo_predict.predict(run, texts, top=2)   # a plain list of str
    expected = model_probabilities(folder, np.array(texts, dtype=object))
    for prediction, row in zip(got, expected):
        np.testing.assert_allclose([dict(prediction.top)[name] for name in run.class_names], row, rtol=1e-3, atol=1e-4)
    lines = tmp_path / "reviews.txt"
    lines.write_text(f"{texts[0]}\n\n{texts[1]}\n")
    document = json_cli(capsys, folder, "--text", texts[2], "--lines", lines)
    assert [p["text"] for p in document["predictions"]] == [texts[2], texts[0], texts[1]]
    assert document["predictions"][1]["input"].startswith(f"{lines}:1 ")
    assert document["predictions"][2]["input"].startswith(f"{lines}:3 ")   # the blank line is skipped
    for values in all_values(document):
        assert sorted(values) == sorted(class_names(folder)) and sum(values.values()) == pytest.approx(1, abs=1e-4)
    # A line break of any kind reads as a space, as in the training data (zoo.data.clean_text).
    broken = zoo_predict.predict(run, [texts[0].replace(" ", "\u2028", 1)], top=2)[0]
    np.testing.assert_allclose([dict(broken.top)[name] for name in run.class_names], expected[0], rtol=1e-3,
                               atol=1e-4)
    status, out, err = cli(capsys, folder, "--text", texts[0], "--top", 1)
    assert status == 0, err
    assert out.splitlines()[3].split()[-2] == max(dict(got[0].top), key=dict(got[0].top).get)


def test_a_date_model_answers_each_written_date_with_its_whole_output(quick_runs, capsys):
    from zoo.data import DATE_CHARACTERS, encode_dates

    folder = quick_runs["attention_seq2seq"][0]
    run = zoo.load_run(folder)
    assert run.kind == "characters" and run.length == 32 and run.characters == DATE_CHARACTERS
    written = ["the 4th of March 1987", "3/4/87"]
    got = zoo_predict.predict(run, written)
    steps = np.asarray(model_probabilities(folder, encode_dates(written, DATE_CHARACTERS, 32)))
    for prediction, text, row in zip(got, written, steps):
        (answer, probability), = prediction.top   # one answer: the likeliest character at each of the 10 steps
        assert prediction.text == text and answer == "".join(run.class_names[i] for i in row.argmax(axis=-1))
        assert probability == pytest.approx(float(row.max(axis=-1).prod()), rel=1e-4)
    document = json_cli(capsys, folder, "--text", written[1])
    assert [p["top"][0]["class"] for p in document["predictions"]] == [got[1].top[0][0]]
    # A character no training date has, or a date longer than the model reads, is one error line naming it.
    one_error_line(*cli(capsys, folder, "--text", "4 März 1987"), "'ä'", "no training date has")
    one_error_line(*cli(capsys, folder, "--text", "x" * 40), "40 characters", "reads 1 to 32")


def test_top_is_clamped_and_must_be_positive(quick_runs, tumours, capsys):
    folder = quick_runs["perceptron"][0]
    row = ",".join(map(str, tumours[0][0]))
    document = json_cli(capsys, folder, "--row", row, "--top", 7)
    assert document["top"] == 2 and len(document["predictions"][0]["top"]) == 2
    with pytest.raises(SystemExit) as stopped:
        zoo_predict.main([str(folder), "--row", row, "--top", "0"])
    assert stopped.value.code == 2
    assert "--top=0 must be a whole number >= 1" in capsys.readouterr().err


# ---------------------------------------------------------------------------- refusals

@pytest.mark.parametrize("recipe, case, fragments", [
    ("lstm_sentiment", "image", ["is an image", "reads text", "--text"]),
    ("lstm_sentiment", "positional text", ["no file 'a gorgeous, moving film'", "--text"]),
    ("mlp", "text", ["is a text", "64 numbers per CSV row", "--row"]),
    ("perceptron", "wide csv", ["has 64 values", "30 numbers per CSV row"]),
    ("perceptron", "row with label", ["has 31 values (a label column? drop it)"]),
    ("perceptron", "image", ["is an image", "30 numbers per CSV row", ".csv file"]),
    ("vgg16_transfer", "csv", ["is a row of numbers", "reads an image file", "28x28 grey"]),
    ("vgg16_transfer", "unreadable", ["cannot be read as an image", "reads an image file"]),
    ("mlp", "missing", ["no file", "missing.png"]),
    ("mlp", "not a number", ["'seven' is not a number"]),
    ("perceptron", "bad csv", ["bad.csv line 3: 'n/a' is not a number"]),
    ("mini_transformer", "empty text", ["is empty"]),
])
def test_a_wrong_input_is_one_error_line_naming_it_and_the_fix(recipe, case, fragments, quick_runs, digits,
                                                                 tumours, digit_png, tmp_path, capsys):
    unreadable = tmp_path / "broken.png"
    unreadable.write_text("not a picture")
    bad_csv = tmp_path / "bad.csv"   # a header, a good row, then a row with missing values spelled out
    good = write_csv(tmp_path / "good.csv", tumours[0][:1], [f"f{index}" for index in range(30)])
    bad_csv.write_text(good.read_text() + "n/a," * 29 + "1.0\n")
    inputs = {
        "image": [digit_png], "positional text": ["a gorgeous, moving film"], "text": ["--text", "a good film"],
        "wide csv": [write_csv(tmp_path / "digits.csv", digits[0][:2])],
        "row with label": ["--row", ",".join(map(str, [*tumours[0][0], 1]))],
        "csv": [write_csv(tmp_path / "rows.csv", digits[0][:1])], "unreadable": [unreadable],
        "missing": [tmp_path / "missing.png"], "not a number": ["--row", "1,2,seven"],
        "empty text": ["--text", "  "],
        "bad csv": [bad_csv],
    }[case]
    one_error_line(*cli(capsys, quick_runs[recipe][0], *inputs), *fragments)


def test_a_style_transfer_run_is_refused_naming_its_picture(quick_runs, capsys):
    folder = quick_runs["style_transfer"][0]
    line = one_error_line(*cli(capsys, folder, "--text", "anything"), "style_transfer run", "classifies nothing")
    assert "stylized.png" in line and str(folder) in line
    with pytest.raises(zoo_predict.RunLoadError, match="stylized.png"):
        zoo.load_run(folder)


def test_a_sequence_model_and_a_text_generator_are_refused_saying_why(quick_runs, capsys):
    # Three digits at once: zoo predict feeds one input (an image, a row, a text) per answer.
    one_error_line(*cli(capsys, quick_runs["convnet_lstm"][0], "--text", "3"), "(3, 28, 28, 1)",
                   "zoo predict feeds images")
    one_error_line(*cli(capsys, quick_runs["mini_gpt"][0], "--text", "To be"), "writes text",
                   "zoo generate")


@pytest.mark.parametrize("case, fragments", [
    ("results only", ["no model.keras", "python -m zoo.recipes.mlp --out"]),
    ("missing", ["no folder"]),
    ("empty", ["not a zoo run folder (no results.json)"]),
    ("unfinished", ["unfinished run", "same flags"]),
    ("a file", ["is a file", "pass the run folder"]),
    ("not results", ["names no recipe"]),
])
def test_a_folder_without_a_classifier_is_refused(case, fragments, quick_runs, tmp_path, capsys):
    folder = tmp_path / "run"
    folder.mkdir()
    if case == "results only":   # what results/<recipe> holds in the repository
        shutil.copy(quick_runs["mlp"][0] / "results.json", folder)
    elif case == "missing":
        folder.rmdir()
    elif case == "unfinished":
        shutil.copy(quick_runs["mlp"][0] / "run.json", folder)
    elif case == "a file":
        folder = shutil.copy(quick_runs["mlp"][0] / "model.keras", tmp_path / "model.keras")
    elif case == "not results":
        (folder / "results.json").write_text('{"metrics": {}}')
    one_error_line(*cli(capsys, folder, "--row", "1,2"), *fragments)
    with pytest.raises(zoo_predict.RunLoadError):
        zoo.load_run(folder)


def test_nothing_to_predict_says_what_to_give(quick_runs, capsys):
    one_error_line(*cli(capsys, quick_runs["mlp"][0]), "nothing to predict", "--text", "--row")


@pytest.mark.no_keras
def test_importing_zoo_and_zoo_predict_leaves_keras_unimported():
    script = ("import json, sys, zoo, zoo.predict\n"
              "assert 'load_run' in zoo.__all__ and callable(zoo.load_run)\n"
              "print(json.dumps(sorted(m for m in ('tensorflow', 'keras') if m in sys.modules)))\n")
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout.strip().splitlines()[-1]) == []


def test_python_m_zoo_predict_refuses_in_one_line(quick_runs, digit_png):
    done = subprocess.run([sys.executable, "-m", "zoo.predict", str(quick_runs["lstm_sentiment"][0]), str(digit_png)],
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 2 and done.stdout == ""
    assert "Traceback" not in done.stderr
    errors = [line for line in done.stderr.splitlines() if line.startswith("error:")]
    assert errors == [errors[-1]] and "is an image, but this lstm_sentiment model reads text" in errors[0]
    assert done.stderr.strip().splitlines()[-1] == errors[0]
