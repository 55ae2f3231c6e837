"""zoo.export: every classifier run's model, in every format, answers as the Keras model does, or is refused clearly.

Each export is loaded again by its format's own runtime (TensorFlow for SavedModel,
ONNX Runtime, the LiteRT interpreter) and fed real examples of the run's own dataset.
The ONNX and LiteRT runtimes come with the optional extra (pip install "keras-zoo[export]"):
without it those checks are skipped, saying so.
"""

import json
import re
import shutil
import subprocess
import sys

import numpy as np
import pytest

from zoo import export as zoo_export
from zoo.errors import FlagError, RunFolderError, ZooError

CLASSIFIERS = ("perceptron", "mlp", "convnet", "convnet_1d", "inception", "vgg16_transfer", "lstm_sentiment", "mini_transformer")
EXAMPLES = 8          # real inputs per model, spread over the dataset
TOLERANCE = 1e-4      # max abs difference of class probabilities; float32 kernels differ by ~1e-7 here
INSTALL = 'pip install "keras-zoo[export]"'


def _run_copy(quick_runs, recipe, tmp_path):
    """A run folder of its own (model.keras, results.json): exports write into the folder."""
    folder = tmp_path / recipe
    folder.mkdir()
    for name in ("model.keras", "results.json"):
        shutil.copy2(quick_runs[recipe][0] / name, folder / name)
    return folder


@pytest.fixture(scope="module")
def references(quick_runs):
    """recipe -> (real inputs, the Keras model's outputs on them), computed once per recipe."""
    cache = {}

    def reference(recipe):
        if recipe not in cache:
            import keras
            import tensorflow as tf

            import zoo.layers  # noqa: F401
            from zoo.data import embedded_arrays

            folder = quick_runs[recipe][0]
            dataset = json.loads((folder / "results.json").read_text())["data"]["dataset"]
            model = keras.saving.load_model(folder / "model.keras", safe_mode=True, compile=False)
            inputs = embedded_arrays(dataset)[0]
            inputs = inputs[:: len(inputs) // EXAMPLES][:EXAMPLES]
            dtype = model.inputs[0].dtype
            inputs = inputs.astype(str).astype(object) if dtype == "string" else inputs.astype(dtype)
            outputs = keras.ops.convert_to_numpy(model(tf.constant(inputs), training=False))
            cache[recipe] = inputs, outputs
        return cache[recipe]

    return reference


def _required(module: str):
    """The test extra installs every export runtime (keras-zoo[export]): missing is a broken install, not a skip."""
    import importlib

    try:
        return importlib.import_module(module)
    except ImportError as error:
        pytest.fail(f"{module} is missing ({error}): {INSTALL}, as the test extra does")


def _saved_model_outputs(path, inputs):
    import tensorflow as tf

    loaded = tf.saved_model.load(str(path))   # held: its functions' variables live as long as it does
    return loaded.serve(tf.constant(inputs)).numpy()


def _onnx_outputs(path, inputs):
    onnxruntime = _required("onnxruntime")
    session = onnxruntime.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    (model_input,) = session.get_inputs()
    return session.run(None, {model_input.name: inputs})[0]


def _litert_outputs(path, inputs):
    interpreter_module = _required("ai_edge_litert.interpreter")
    interpreter = interpreter_module.Interpreter(model_path=str(path))
    (model_input,) = interpreter.get_input_details()
    interpreter.resize_tensor_input(model_input["index"], inputs.shape)
    interpreter.allocate_tensors()
    interpreter.set_tensor(model_input["index"], inputs)
    interpreter.invoke()
    return interpreter.get_tensor(interpreter.get_output_details()[0]["index"])


RUNTIMES = {"tf_saved_model": _saved_model_outputs, "onnx": _onnx_outputs, "litert": _litert_outputs}


def _leftovers(folder):
    """Temporary names an export may leave only while it runs."""
    return sorted(path.name for path in folder.glob(".*") if ".partial-" in path.name or ".old-" in path.name)


@pytest.mark.parametrize("format", list(zoo_export.FORMATS))
@pytest.mark.parametrize("recipe", CLASSIFIERS)
def test_an_export_answers_as_the_keras_model_or_is_refused(recipe, format, quick_runs, references, tmp_path):
    folder = _run_copy(quick_runs, recipe, tmp_path)
    inputs, expected = references(recipe)
    target = folder / "export" / zoo_export.FORMATS[format].artifact
    if inputs.dtype == object and format != "tf_saved_model":
        # Raw strings in, tokenized inside the model: only a SavedModel carries the string ops.
        with pytest.raises(zoo_export.ExportRefusedError, match="raw strings") as refused:
            zoo_export.export(folder, format)
        assert "--format tf_saved_model" in str(refused.value) and "\n" not in str(refused.value)
        assert not target.exists() and _leftovers(target.parent) == []
        return
    assert zoo_export.export(folder, format) == target
    assert _leftovers(target.parent) == []
    got = RUNTIMES[format](target, inputs)
    assert got.shape == expected.shape
    # The inputs are told apart by the model, so agreeing on them is not agreeing on a constant.
    assert np.ptp(expected, axis=0).max() > 100 * TOLERANCE
    difference = float(np.abs(got - expected).max())
    print(f"{recipe} {format}: max abs difference {difference:.2e}")   # shown with pytest -rP
    assert difference <= TOLERANCE, f"{recipe} {format}: max abs difference {difference:.2e}"


def test_the_string_refusals_are_needed(quick_runs, tmp_path):
    """Straight through Keras, a sentiment model comes out as ONNX that ONNX Runtime cannot load, and no LiteRT."""
    _required("tf2onnx")
    onnxruntime = _required("onnxruntime")
    import keras
    from tensorflow.lite.python.convert_phase import ConverterError

    import zoo.layers  # noqa: F401

    model = keras.saving.load_model(quick_runs["lstm_sentiment"][0] / "model.keras", safe_mode=True, compile=False)
    # A reloaded Functional model has not been called: Keras's ONNX export then wants the signature.
    model.export(str(tmp_path / "model.onnx"), format="onnx", verbose=False, input_signature=[model.input])
    unconverted = zoo_export.unconverted_onnx_ops(tmp_path / "model.onnx")
    assert {"StaticRegexReplace", "StringSplitV2"} <= set(unconverted)
    with pytest.raises(Exception, match="No Op registered for") as failed:
        onnxruntime.InferenceSession(str(tmp_path / "model.onnx"), providers=["CPUExecutionProvider"])
    assert any(op in str(failed.value) for op in unconverted)
    with pytest.raises(ConverterError, match="StringNGrams"):
        model.export(str(tmp_path / "model.tflite"), format="litert", verbose=False)


def test_a_second_export_replaces_the_first_whole(quick_runs, tmp_path):
    folder = _run_copy(quick_runs, "perceptron", tmp_path)
    first = zoo_export.export(folder, "tf_saved_model")
    (first / "stale.txt").write_text("from an older export")
    second = zoo_export.export(folder, "tf_saved_model")
    assert second == first and not (second / "stale.txt").exists() and (second / "saved_model.pb").is_file()
    assert _leftovers(folder / "export") == []


def test_out_puts_the_artifact_anywhere_with_its_suffix(quick_runs, tmp_path):
    folder = _run_copy(quick_runs, "perceptron", tmp_path)
    target = tmp_path / "elsewhere" / "neuron.tflite"
    assert zoo_export.export(folder, "litert", out=target) == target and target.stat().st_size > 0
    assert not (folder / "export").exists()
    with pytest.raises(FlagError, match=r"must end in \.tflite for --format litert"):
        zoo_export.export(folder, "litert", out=tmp_path / "neuron.onnx")


def test_a_refused_litert_export_names_the_ops_and_keeps_the_old_file(tmp_path):
    """A mixed_float16 model has float16 ops LiteRT's builtins do not take: refused, the previous export kept."""
    import keras

    keras.config.set_dtype_policy("mixed_float16")   # the fixture restores float32
    inputs = keras.Input(shape=(4,), name="features")
    outputs = keras.layers.Dense(3, activation="softmax", dtype="float32")(keras.layers.Dense(8)(inputs))
    keras.Model(inputs, outputs).save(tmp_path / "model.keras")
    keras.config.set_dtype_policy("float32")
    old = tmp_path / "export" / "model.tflite"
    old.parent.mkdir()
    old.write_bytes(b"an older export")
    with pytest.raises(zoo_export.ExportRefusedError, match="MatMul") as refused:
        zoo_export.export(tmp_path, "litert")
    assert "mixed_float16" in str(refused.value) and "--precision float32" in str(refused.value)
    assert old.read_bytes() == b"an older export" and _leftovers(old.parent) == []


def test_bad_run_folders_and_formats_are_one_clear_line(quick_runs, tmp_path):
    with pytest.raises(RunFolderError, match="no folder .*python -m zoo.recipes.mlp --quick --out runs/mlp"):
        zoo_export.export(tmp_path / "missing")
    (tmp_path / "model.keras").write_text("not a model")
    with pytest.raises(RunFolderError, match="is a file; pass the run folder"):
        zoo_export.export(tmp_path / "model.keras")
    with pytest.raises(RunFolderError, match="cannot be loaded"):
        zoo_export.export(tmp_path)
    # style_transfer paints pictures: its run folder holds no model to export.
    with pytest.raises(RunFolderError, match="holds no model.keras"):
        zoo_export.export(quick_runs["style_transfer"][0])
    with pytest.raises(FlagError, match="unknown export format 'keras'; supported: tf_saved_model, onnx, litert"):
        zoo_export.export(quick_runs["mlp"][0], "keras")


def test_a_missing_converter_says_what_to_install(quick_runs, monkeypatch):
    real_find_spec = zoo_export.importlib.util.find_spec
    monkeypatch.setattr(zoo_export.importlib.util, "find_spec",
                        lambda name, *args: None if name == "tf2onnx" else real_find_spec(name, *args))
    with pytest.raises(zoo_export.ExportPackageError, match=re.escape(f"needs tf2onnx, not installed here: {INSTALL}")):
        zoo_export.export(quick_runs["mlp"][0], "onnx")


def test_the_command_line_prints_the_artifact_or_one_error_line(quick_runs, tmp_path, capsys):
    folder = _run_copy(quick_runs, "perceptron", tmp_path)
    assert zoo_export.main([str(folder), "--format", "litert"]) == 0
    printed = capsys.readouterr().out
    assert f"wrote {folder / 'export' / 'model.tflite'}" in printed and "Interpreter(model_path=" in printed
    assert zoo_export.main([str(tmp_path / "missing")]) == RunFolderError.exit_code == 2
    error = capsys.readouterr().err
    assert error.startswith("error: no folder") and error.count("\n") == 1
    assert issubclass(zoo_export.ExportRefusedError, ZooError) and issubclass(zoo_export.ExportPackageError, ZooError)


@pytest.mark.no_keras
def test_python_m_zoo_export_lists_the_formats_without_importing_keras():
    help_text = subprocess.run([sys.executable, "-m", "zoo.export", "--help"], capture_output=True, text=True,
                               check=True).stdout
    assert "{tf_saved_model,onnx,litert}" in help_text and "RUN_DIR" in help_text
    imported = subprocess.run([sys.executable, "-c", "import sys, zoo.export; "
                               "print(sorted({'keras', 'tensorflow'} & set(sys.modules)))"],
                              capture_output=True, text=True, check=True).stdout
    assert imported.strip() == "[]"
