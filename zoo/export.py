"""``zoo export``: a run folder's model as an inference artifact, through Keras's own ``Model.export``.

    zoo export runs/mlp                                  # TensorFlow SavedModel: runs/mlp/export/tf_saved_model/
    zoo export runs/mlp --format onnx                    # runs/mlp/export/model.onnx (pip install "keras-zoo[export]")
    zoo export runs/mlp --format litert                  # runs/mlp/export/model.tflite
    zoo export runs/mlp --format onnx --out mlp.onnx     # anywhere else
    python -m zoo.export runs/mlp                        # the same without the console script

RUN_DIR is the ``--out`` folder of a recipe run; its model.keras is loaded with
``safe_mode=True`` after ``import zoo.layers`` (offline). The artifact holds the
forward pass only, in inference mode: augmentation and dropout are off, as in
``model.predict``. It is written beside its place and renamed into it, so a
failed or killed export leaves the previous artifact (or none), never half of one.

Formats and how to load them again:

- ``tf_saved_model``: ``tf.saved_model.load(path).serve(x)``. Carries everything,
  the sentiment models' raw-string preprocessing (TextVectorization) included.
- ``onnx``: ``onnxruntime.InferenceSession(path)``; converted by tf2onnx
  (``pip install "keras-zoo[export]"``).
- ``litert`` (TensorFlow Lite): ``ai_edge_litert.interpreter.Interpreter(model_path=path)``;
  converted by TensorFlow's own converter to LiteRT's builtin ops only, so the file
  runs on every LiteRT runtime (none needs TensorFlow's Flex delegate).

A model that a format cannot carry is refused with the reason and the format that
works (``ExportRefusedError``): the sentiment models read raw strings, and neither
ONNX nor LiteRT has the string ops their vectorizers run on.
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import importlib.util
import os
import re
import sys
from pathlib import Path

from zoo.errors import FlagError, RunFolderError, ZooError, exit_status
from zoo.files import atomic_folder, atomic_path

MODEL_FILE = "model.keras"
EXPORT_FOLDER = "export"          # RUN_DIR/export/ holds the artifacts unless --out says otherwise
INSTALL = 'pip install "keras-zoo[export]"'


@dataclasses.dataclass(frozen=True)
class Format:
    """One export format: where its artifact goes, what it needs, and how to load it again."""

    name: str
    artifact: str                 # file or folder name under RUN_DIR/export/
    loader: str                   # how to load the artifact, for messages and --help
    packages: tuple = ()          # modules the export imports beyond TensorFlow and Keras
    strings_refused: str = ""     # why a model that reads raw strings cannot go into this format

    @property
    def is_folder(self) -> bool:
        return not Path(self.artifact).suffix


FORMATS = {
    "tf_saved_model": Format("tf_saved_model", "tf_saved_model", "tf.saved_model.load(PATH).serve(x)"),
    "onnx": Format("onnx", "model.onnx", "onnxruntime.InferenceSession(PATH)", packages=("tf2onnx", "onnx"),
                   strings_refused="tf2onnx has no standard ONNX op for TensorFlow's string ops (such as "
                                   "StaticRegexReplace, StringSplitV2, StringNGrams) and vocabulary lookups"),
    "litert": Format("litert", "model.tflite", "ai_edge_litert.interpreter.Interpreter(model_path=PATH)",
                     strings_refused="LiteRT has no builtin op for TensorFlow's string ops (regex replace, "
                                     "split, n-grams) and vocabulary lookups"),
}
DEFAULT_FORMAT = "tf_saved_model"    # Keras's default, and the one format every zoo model goes into


class ExportRefusedError(ZooError, ValueError):
    """The run's model cannot go into the asked format; the message says why and which format works."""

    exit_code = 2


class ExportPackageError(ZooError, ImportError):
    """The format needs an optional package that is not installed; the message says how to install it."""


def export(run_dir, format: str = DEFAULT_FORMAT, out=None) -> Path:
    """Export RUN_DIR's model.keras in ``format``; returns the artifact's path.

    Args:
        run_dir: the ``--out`` folder of a recipe run (it holds model.keras).
        format: one of ``FORMATS``: ``"tf_saved_model"`` (a folder), ``"onnx"``, ``"litert"``.
        out: where the artifact goes (default ``RUN_DIR/export/<artifact>``); files keep their
            format's suffix (``.onnx``, ``.tflite``).

    Raises:
        FlagError: an unknown format, or ``out`` without the format's suffix.
        RunFolderError: no such folder, or no model.keras in it.
        ExportPackageError: the format's converter is not installed.
        ExportRefusedError: the model holds ops the format cannot carry.
    """
    spec = _format(format)
    model_path = _model_path(run_dir)
    target = _target(model_path.parent, spec, out)
    _check_packages(spec)
    model = _inference_model(model_path)
    if spec.strings_refused and _reads_strings(model):
        raise ExportRefusedError(
            f"cannot export {model_path} as {spec.name}: the model reads raw strings and tokenizes them inside "
            f"itself, and {spec.strings_refused}. Use --format tf_saved_model, which carries them "
            f"(load it with tf.saved_model.load).")
    target.parent.mkdir(parents=True, exist_ok=True)
    with atomic_folder(target) if spec.is_folder else atomic_path(target) as partial:
        _write(model, spec, partial, model_path)
    return target


def _format(name) -> Format:
    if name not in FORMATS:
        raise FlagError(f"unknown export format {name!r}; supported: {', '.join(FORMATS)}.")
    return FORMATS[name]


def _model_path(run_dir) -> Path:
    from zoo.runs import finished_run_folder

    folder = finished_run_folder(run_dir, then="zoo export runs/mlp")
    if not (folder / MODEL_FILE).is_file():
        raise RunFolderError(f"{folder} holds no {MODEL_FILE}: pass the --out folder of a finished recipe run "
                             "(committed results/ folders keep the numbers only; style_transfer makes pictures, "
                             "not a model).")
    return folder / MODEL_FILE


def _target(folder: Path, spec: Format, out) -> Path:
    if out is None:
        return folder / EXPORT_FOLDER / spec.artifact
    target = Path(out).expanduser()
    suffix = Path(spec.artifact).suffix
    if suffix and target.suffix != suffix:
        raise FlagError(f"--out {out} must end in {suffix} for --format {spec.name}, e.g. {target.stem}{suffix}")
    if spec.is_folder and target.is_file():
        raise FlagError(f"--out {out} is a file; --format {spec.name} writes a folder: name a new or old folder.")
    return target


def _check_packages(spec: Format) -> None:
    missing = [name for name in spec.packages if importlib.util.find_spec(name) is None]
    if missing:
        raise ExportPackageError(f"--format {spec.name} needs {' and '.join(missing)}, not installed here: "
                                 f"{INSTALL}")


def _inference_model(model_path: Path):
    """The saved model, wrapped so that every call runs in inference mode.

    Keras's SavedModel and ONNX exports call the model without ``training``, and a
    layer then falls back to its own default: the augmentation layers' is True, so
    the mlp's RandomTranslation would shift every served digit. The wrapper passes
    ``training=False`` the way ``model.predict`` does.
    """
    import keras

    from zoo.runs import load_saved_model

    model = load_saved_model(model_path)
    inputs = keras.tree.map_structure(
        lambda tensor: keras.Input(batch_shape=tensor.shape, dtype=tensor.dtype, name=tensor.name), model.input)
    return keras.Model(inputs, model(inputs, training=False), name=model.name)


def _reads_strings(model) -> bool:
    return any("string" in str(tensor.dtype) for tensor in model.inputs)


def _write(model, spec: Format, path: Path, model_path: Path) -> None:
    """``model.export`` into ``path``, with what each format needs to come out whole and loadable."""
    # The wrapper has not been called on data, so its inputs are the signature (Keras would otherwise refuse ONNX).
    signature = [model.input]
    if spec.name == "onnx":
        _inline_normalization_constants(model)
        with _quiet_tf2onnx():
            model.export(str(path), format="onnx", verbose=False, input_signature=signature)
        _check_onnx(path, model_path)
    elif spec.name == "litert":
        _export_litert(model, path, signature, model_path)
    else:
        model.export(str(path), format=spec.name, verbose=False, input_signature=signature)


def _inline_normalization_constants(model) -> None:
    """An adapted Normalization layer's mean and variance become constants of the traced graph.

    Keras keeps them as eager tensors, which a traced function captures as extra inputs, and
    tf2onnx (1.17) makes every captured input an ONNX graph input: the exported perceptron
    would ask its caller for the training set's mean and variance. As numpy arrays they are
    written into the graph instead. The values do not change.
    """
    import keras

    for layer in _all_layers(model):
        if isinstance(layer, keras.layers.Normalization) and layer.mean is not None:
            layer.mean = keras.ops.convert_to_numpy(layer.mean)
            layer.variance = keras.ops.convert_to_numpy(layer.variance)


def _all_layers(layer):
    yield layer
    for sublayer in getattr(layer, "layers", ()):
        yield from _all_layers(sublayer)


@contextlib.contextmanager
def _quiet_tf2onnx():
    """tf2onnx logs each op it cannot convert with a traceback; ``_check_onnx`` reports them in one line instead."""
    import logging
    import warnings

    logger = logging.getLogger("tf2onnx")
    level = logger.level
    logger.setLevel(logging.CRITICAL)
    try:
        with warnings.catch_warnings():
            # Keras's numpy 2 patch of tf2onnx touches np.object, which numpy announces as a FutureWarning.
            warnings.filterwarnings("ignore", message=".*np\\.object.*", category=FutureWarning)
            yield
    finally:
        logger.setLevel(level)


def unconverted_onnx_ops(path) -> list[str]:
    """The op types in an ONNX file that no ONNX op set defines: TensorFlow ops tf2onnx left as they were.

    tf2onnx writes such ops into the file and still succeeds; ONNX Runtime then refuses
    to load it ("No Op registered for ...").
    """
    import onnx

    def graph_ops(graph):
        for node in graph.node:
            yield node
            for attribute in node.attribute:
                for subgraph in ([attribute.g] if attribute.HasField("g") else []) + list(attribute.graphs):
                    yield from graph_ops(subgraph)

    model = onnx.load(str(path), load_external_data=False)
    return sorted({node.op_type for node in graph_ops(model.graph) if not onnx.defs.has(node.op_type, node.domain)})


def _check_onnx(path: Path, model_path: Path) -> None:
    unconverted = unconverted_onnx_ops(path)
    if unconverted:
        raise ExportRefusedError(f"cannot export {model_path} as onnx: tf2onnx found no ONNX op for "
                                 f"{', '.join(unconverted)}. Use --format tf_saved_model, which carries every "
                                 "TensorFlow op.")


def _export_litert(model, path: Path, signature, model_path: Path) -> None:
    """LiteRT builtin ops only: a file that needs TensorFlow's Flex delegate would fail in LiteRT's own runtime."""
    import tensorflow as tf
    from tensorflow.lite.python.convert_phase import ConverterError

    try:
        model.export(str(path), format="litert", verbose=False, input_signature=signature,
                     target_spec={"supported_ops": [tf.lite.OpsSet.TFLITE_BUILTINS]})
    except ConverterError as error:
        ops = sorted(set(re.findall(r"'tf\.(\w+)' op", str(error))))
        named = f" for {', '.join(ops)}" if ops else f" ({str(error).splitlines()[0][:200]})"
        policies = sorted({layer.dtype_policy.name for layer in _all_layers(model)} - {"float32"})
        precision = (f" (its layers compute in {', '.join(policies)}; LiteRT's builtins take these ops in float32: "
                     "train with --precision float32 for a LiteRT export)") if policies else ""
        raise ExportRefusedError(f"cannot export {model_path} as litert: LiteRT has no builtin op{named}"
                                 f"{precision}. --format tf_saved_model carries every TensorFlow op.") from None


# ---------------------------------------------------------------------------- command line

def add_arguments(parser: argparse.ArgumentParser) -> argparse.ArgumentParser:
    parser.add_argument("run_dir", metavar="RUN_DIR", help="the --out folder of a recipe run (holds model.keras)")
    parser.add_argument("--format", default=DEFAULT_FORMAT, choices=list(FORMATS),
                        help="tf_saved_model (a folder; carries every model), onnx (needs keras-zoo[export]) "
                             "or litert (.tflite) (default: %(default)s)")
    parser.add_argument("--out", default=None, metavar="PATH",
                        help="where the artifact goes (default: RUN_DIR/export/tf_saved_model, model.onnx or "
                             "model.tflite)")
    return parser


def run(args, output=None) -> int:
    """Export and print where the artifact is and how to load it; returns 0."""
    from zoo.console import native_logs_filtered

    output = output or sys.stdout
    with native_logs_filtered():
        path = export(args.run_dir, args.format, args.out)
    output.write(f"wrote {path}\nload it with {FORMATS[args.format].loader.replace('PATH', repr(str(path)))}\n")
    return 0


def main(argv=None) -> int:
    """``python -m zoo.export``: a ZooError is one ``error:`` line and its exit status, as in ``zoo``."""
    parser = add_arguments(argparse.ArgumentParser(prog="zoo export", description=__doc__.split("\n\n")[0],
                                                   epilog="See the module docstring: python -m pydoc zoo.export"))
    args = parser.parse_args(argv)
    return exit_status(lambda: run(args))


if __name__ == "__main__":
    sys.exit(main())
