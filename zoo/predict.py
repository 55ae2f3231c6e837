"""``zoo predict``: a finished run folder's model on raw inputs: image files, text, CSV rows.

    zoo predict runs/mlp digit.png                     # an image file (PNG, JPEG, ...)
    zoo predict runs/mlp rows.csv --top 5              # every row of a CSV file; a header row is skipped
    zoo predict runs/perceptron --row "17.99,10.38,..."  # one CSV row inline (repeat --row for more)
    zoo predict runs/lstm --text "a gorgeous, moving film" --text "dull and far too long"
    zoo predict runs/lstm --lines reviews.txt          # one text per line; --lines - reads standard input
    zoo predict runs/mlp digit.png --json              # one JSON document, for scripts
    python -m zoo.predict runs/mlp digit.png           # the same without the console script

RUN_DIR is the ``--out`` folder of a finished recipe run: its model.keras is
loaded with ``safe_mode=True`` after ``import zoo.layers`` (offline), and its
results.json names the classes. Positional INPUTs are files: images, or .csv
files whose every row is one input. Text never comes positionally (a
mistyped file name would be classified as a review): use ``--text`` or
``--lines``. Each input prints its ``--top`` classes (default 3) by name.

What each model reads, and how raw inputs become model inputs:

- **images** (vgg16_transfer; mlp on mnist_5k or tfds images): converted to the
  channels the model was trained on (grey or RGB) and resized to its input
  size, pixels 0-255 as in the training data. The models hold the rest of
  their preprocessing (vgg16_transfer resizes to 32x32 and repeats grey into
  RGB itself; the mlp rescales). The zoo's one-channel sets are light ink on
  a dark ground: ``--invert`` turns a dark-on-light scan into that.
- **CSV rows** (perceptron: the 30 breast cancer measurements; mlp on digits:
  the 64 ink values 0-16 of an 8x8 scan), raw, in the training data's column
  order: the models standardise or rescale inside. The digits mlp also takes
  an image file, shown to it as an 8x8 grey scan with ink 0-16.
- **text** (lstm_sentiment, mini_transformer, mini_bert): raw strings; the saved model
  holds its vectorizers.
- **written dates** (attention_seq2seq): raw strings through ``--text``, turned into
  the character ids of the run's vocabulary (results.json); the answer is the
  model's whole output sequence (1987-03-04), with the probability of that answer
  (the product of each step's).

The perceptron recipe trains four personalities and saves one (``--activation``,
recorded in results.json) as model.keras: that neuron answers. Its sigmoid
(and the naive constant) output is a probability; the tanh and relu outputs
are scores, mapped to 0-1 around their thresholds and labelled as scores.
A style_transfer run classifies nothing and is refused, naming its picture.

In Python:

```python
import zoo
from zoo.predict import predict
run = zoo.load_run("runs/lstm")
for prediction in predict(run, ["a gorgeous, moving film"], top=2):
    print(prediction.input, prediction.top)     # [('fresh', 0.91), ('rotten', 0.09)]
```
"""

from __future__ import annotations

import argparse
import csv
import dataclasses
import json
import math
import os
import sys
from pathlib import Path

from zoo.errors import ZooError, exit_status

MODEL_FILE = "model.keras"
RESULTS_FILE = "results.json"
UNFINISHED_FILE = "run.json"      # written when a run starts; results.json only when it finishes
TOP = 3
SHOWN_TEXT = 48                   # characters of a text shown in the table
DARK_GROUND = 128                 # a one-channel image whose border is brighter than this is dark ink on light
FORMS = {"image": "an image", "row": "a row of numbers", "text": "a text"}   # an input's form, for messages
# A one-unit output -> the second class's share in 0..1, with each activation's decision threshold
# (zoo.models.perceptron.THRESHOLDS) landing on 0.5, and whether that share is a probability.
ONE_UNIT_OUTPUTS = {
    "sigmoid": (lambda y: y, "probability"),
    "constant": (lambda y: y, "probability"),     # the naive neuron: one learned probability
    "tanh": (lambda y: (y + 1) / 2, "score"),     # hinge-trained: a margin, not a probability
    "relu": (lambda y: y.clip(0, 1), "score"),    # squared-error fit to 0/1 labels, unbounded above
}


class RunLoadError(ZooError, ValueError):
    """RUN_DIR is not a finished zoo run with a classifier in it."""

    exit_code = 2


class PredictInputError(ZooError, ValueError):
    """An input is missing, unreadable, or not what the run's model reads."""

    exit_code = 2


@dataclasses.dataclass
class LoadedRun:
    """A finished run's model, ready for raw inputs; ``load_run`` makes one."""

    folder: Path
    results: dict                 # results.json as written by the run
    model: object                 # the keras.Model of model.keras (uncompiled: for inference)
    class_names: tuple
    recipe: str
    kind: str                     # what the model reads: "image", "tabular", "text" or "characters" (seq2seq)
    image_shape: tuple | None     # (height, width, channels) images become; None: it takes no images
    features: int | None          # numbers per CSV row (tabular models)
    ink_scale: float = 255.0      # the model-input value of a full-bright pixel: 255, or 16 for digits' ink
    output: str = "probability"   # or "score" (a perceptron's tanh or relu neuron)
    activation: str | None = None  # a one-unit model's final activation
    inside_model: tuple = ()      # the preprocessing layers the model holds, as "name (Class)"
    characters: tuple = ()        # a sequence-to-sequence model's input vocabulary (id 0: padding)
    length: int | None = None     # and the longest text it reads

    def expects(self) -> str:
        """What the model reads, in words for messages: '64 numbers per CSV row (...), or an image file ...'."""
        if self.kind == "text":
            return "text: raw strings, one input each (--text or --lines)"
        if self.kind == "characters":
            return f"text of 1 to {self.length} characters, one input each (--text or --lines)"
        image = (f"an image file (PNG, JPEG, ...), turned into {self.image_shape[0]}x{self.image_shape[1]} "
                 f"{'grey' if self.image_shape[2] == 1 else 'RGB'} pixels" if self.image_shape else None)
        if self.kind == "image":
            return f"{image}, 0-255"
        source = self.results.get("data", {}).get("source")
        rows = f"{self.features} numbers per CSV row, in the training data's order" + (f" ({source})" if source else "")
        return rows + (f", or {image} with ink 0-{self.ink_scale:g}" if image else "")

    def describe(self) -> str:
        """One line for the table: the recipe, the folder, what the model reads and what it does itself."""
        inside = f"; inside the model: {', '.join(self.inside_model)}" if self.inside_model else ""
        neuron = f" ({self.activation} neuron)" if self.activation else ""
        return f"{self.recipe}{neuron} run {self.folder}: reads {self.expects()}{inside}"


@dataclasses.dataclass
class Prediction:
    """One input's best classes: ``top`` is [(class name, value)], highest first."""

    input: str
    top: list
    output: str = "probability"   # what the values are: "probability" or "score"
    text: str | None = None       # the input's text, for text models
    note: str | None = None       # a doubt about the input worth a look, e.g. its polarity

    def to_dict(self) -> dict:
        return {"input": self.input, **({"text": self.text} if self.text is not None else {}),
                "top": [{"class": name, self.output: round(value, 6)} for name, value in self.top],
                **({"note": self.note} if self.note else {})}


@dataclasses.dataclass(frozen=True)
class _Input:
    """One raw input and where it came from (``name`` is how messages and the table call it)."""

    name: str
    form: str                     # "image" (a path or picture), "row" (numbers) or "text"
    value: object


# ---------------------------------------------------------------------------- loading

def read_results(path, generating: bool = False) -> tuple[Path, dict]:
    """The run folder and its results.json, checked to belong to a finished run that answers; no Keras.

    A classifier's run, or with ``generating`` a text generator's (``zoo generate``).
    """
    from zoo.runs import finished_run_folder

    command = "zoo generate runs/mini_gpt --prompt ..." if generating else "zoo predict runs/mlp ..."
    folder = finished_run_folder(path, then=command, error=RunLoadError)
    results_path = folder / RESULTS_FILE
    if not results_path.is_file():
        if (folder / UNFINISHED_FILE).is_file():
            raise RunLoadError(f"{folder} holds an unfinished run (no {RESULTS_FILE} yet): rerun its recipe with "
                               "the same flags to finish it, then predict.")
        raise RunLoadError(f"{folder} is not a zoo run folder (no {RESULTS_FILE}): pass the --out folder of a "
                           "finished recipe run.")
    try:
        results = json.loads(results_path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError) as error:
        raise RunLoadError(f"{results_path} cannot be read ({error}): is {folder} a zoo run folder?") from None
    if not isinstance(results, dict) or not isinstance(results.get("recipe"), str):
        raise RunLoadError(f"{results_path} names no recipe: {folder} is not a zoo run folder.")
    recipe = results["recipe"]
    if not generating and _task(recipe) == "text_generation":
        raise RunLoadError(f"{folder} is a {recipe} run: its model writes text rather than classifying inputs. "
                           f"Continue a prompt with: zoo generate {folder} --prompt \"To be\"")
    data = results.get("data") if isinstance(results.get("data"), dict) else {}
    if not data.get("class_names"):
        pictures = [name for name in (results.get("images") or {}).values() if (folder / name).is_file()]
        made = f"; what it made is in {folder}: {', '.join(pictures)}" if pictures else ""
        raise RunLoadError(f"{folder} is a {recipe} run: its model classifies nothing, so there is nothing to "
                           f"predict{made}.")
    if not (folder / MODEL_FILE).is_file():
        raise RunLoadError(f"{folder} holds the {recipe} run's {RESULTS_FILE} but no {MODEL_FILE} (committed "
                           f"results keep the numbers only): train one with python -m zoo.recipes.{recipe} "
                           f"--out runs/{recipe} and pass that folder.")
    return folder, results


def _task(recipe: str) -> str | None:
    """The registry's task of the entry a recipe trains (None for a name the registry does not know)."""
    import zoo

    try:
        return zoo.info(recipe).task
    except (KeyError, ValueError):
        return None


def load_run(path) -> LoadedRun:
    """Load a finished run folder for prediction: its model.keras (``safe_mode=True``, offline) and class names.

    Raises ``RunLoadError`` (a ``ZooError``) naming the folder and the fix when it is
    missing, unfinished, not a zoo run, a run without a classifier (style_transfer)
    or without model.keras (committed results).
    """
    from zoo.runs import load_saved_model

    folder, results = read_results(path)
    return _describe_model(folder, results, load_saved_model(folder / MODEL_FILE, RunLoadError))


def _describe_model(folder: Path, results: dict, model) -> LoadedRun:
    """What the model reads and answers, from its own input and output layers and results.json's data."""
    data = results["data"]
    class_names = tuple(str(name) for name in data["class_names"])
    if _task(results["recipe"]) == "sequence_to_sequence":
        return LoadedRun(folder=folder, results=results, model=model, class_names=class_names,
                         recipe=results["recipe"], kind="characters", image_shape=None, features=None,
                         characters=tuple(data.get("source_characters") or ()), length=data.get("source_length"))
    if len(model.inputs) != 1:
        raise RunLoadError(f"{folder / MODEL_FILE} takes {len(model.inputs)} inputs; zoo predict feeds models "
                           "with one.")
    spec = model.inputs[0]
    shape = tuple(spec.shape[1:])
    units = model.outputs[0].shape[-1]
    if units not in (len(class_names), 1) or (units == 1 and len(class_names) != 2):
        raise RunLoadError(f"{folder / MODEL_FILE} outputs {units} values but {RESULTS_FILE} names "
                           f"{len(class_names)} classes: the files belong to different runs.")
    run = LoadedRun(folder=folder, results=results, model=model, class_names=class_names,
                    recipe=results["recipe"], kind="tabular", image_shape=None, features=None,
                    inside_model=_preprocessing_layers(model))
    if "string" in str(spec.dtype):
        run.kind = "text"
    elif len(shape) == 3:
        run.kind, run.image_shape = "image", shape
    elif len(shape) == 1 and shape[0] is not None:
        run.features = shape[0]
        run.image_shape, run.ink_scale = _flat_image(data.get("dataset"), model, shape[0])
    else:
        raise RunLoadError(f"{folder / MODEL_FILE} reads inputs of shape {shape}; zoo predict feeds images "
                           "(height, width, channels), rows of numbers or text.")
    if units == 1:
        run.activation = _final_activation(model)
        if run.activation not in ONE_UNIT_OUTPUTS:
            raise RunLoadError(f"{folder / MODEL_FILE} ends in one unit with activation {run.activation!r}; zoo "
                               f"predict reads one-unit outputs of {', '.join(ONE_UNIT_OUTPUTS)}.")
        run.output = ONE_UNIT_OUTPUTS[run.activation][1]
    return run


def _flat_image(dataset, model, features: int):
    """(image shape, ink scale) when rows are flattened images (digits), else (None, 255).

    The ink scale is the model's own: its first Rescaling layer maps the training data's
    full ink to 1, so a full-bright pixel must arrive as 1 / scale (16 for digits).
    """
    import keras

    from zoo.data import FLAT_IMAGES

    image_shape = FLAT_IMAGES.get(dataset)
    if image_shape is None or math.prod(image_shape) != features:
        return None, 255.0
    rescaling = next((layer for layer in model.layers if isinstance(layer, keras.layers.Rescaling)), None)
    if rescaling is None or rescaling.offset != 0 or not float(rescaling.scale) > 0:
        return None, 255.0  # no record of the ink scale: CSV rows only, never a guessed scale
    return tuple(image_shape), 1 / float(rescaling.scale)


def _final_activation(model) -> str:
    """The activation of the layer that makes a one-unit output, looking inside nested models."""
    from zoo.layers import ConstantOutput

    layer = model
    while getattr(layer, "layers", None):
        layer = layer.layers[-1]
    if isinstance(layer, ConstantOutput):
        return "constant"
    activation = layer.get_config().get("activation")
    return activation if isinstance(activation, str) else getattr(activation, "__name__", str(activation))


def _preprocessing_layers(model) -> tuple:
    """What the model does to its inputs before its first learnt layer, e.g. ('ink_to_unit (Rescaling)', ...).

    Layers in order, nested models entered, up to the first layer with weights that is not
    one of Keras's preprocessing layers (a Normalization's statistics are weights too).
    Random augmentation layers are left out: Keras passes inputs through them at inference.
    """
    found = []

    def walk(layers) -> bool:
        for layer in layers:
            kind = type(layer)
            preprocessing = ".preprocessing." in kind.__module__
            if getattr(layer, "layers", None):
                if not walk(layer.layers):
                    return False
            elif layer.weights and not preprocessing:
                return False
            elif kind.__name__ != "InputLayer" and not kind.__name__.startswith("Random"):
                found.append(f"{layer.name} ({kind.__name__})")
        return True

    walk(model.layers)
    return tuple(found)


# ---------------------------------------------------------------------------- raw inputs

def _as_inputs(run: LoadedRun, items) -> list[_Input]:
    """Python values -> named inputs: str are texts for text models and file paths for the others."""
    if isinstance(items, (str, bytes, os.PathLike)):
        items = [items]
    inputs = []
    for index, item in enumerate(items, 1):
        if isinstance(item, _Input):
            inputs.append(item)
        elif run.kind in ("text", "characters"):
            if not isinstance(item, str):
                raise PredictInputError(f"input {index} is a {type(item).__name__}, but this {run.recipe} model "
                                        f"reads {run.expects()}: pass each text as a str.")
            inputs.append(_Input(_shown(item), "text", item))
        elif isinstance(item, (str, os.PathLike)):
            inputs.extend(_file_inputs(run, Path(item)))
        elif type(item).__module__.startswith("PIL."):
            inputs.append(_Input(f"image {index}", "image", item))
        else:
            inputs.append(_Input(f"row {index}", "row", item))
    return inputs


def _file_inputs(run: LoadedRun, path: Path) -> list[_Input]:
    """A positional file: every row of a .csv file, or one image."""
    if not path.is_file():
        hint = (" This model reads text: pass it with --text \"...\" or a file of lines with --lines."
                if run.kind == "text" else f" This {run.recipe} model reads {run.expects()}.")
        raise PredictInputError(f"no file {str(path)!r}.{hint}")
    if path.suffix.lower() == ".csv":
        return _csv_rows(path.read_text(encoding="utf-8", errors="replace"), str(path))
    return [_Input(str(path), "image", path)]


def _csv_rows(text: str, source: str, header: bool = True) -> list[_Input]:
    """Each row of a CSV text, as numbers; with ``header``, a first row that is not all numbers is skipped."""
    rows = []
    for line, cells in enumerate(csv.reader(text.splitlines()), 1):
        cells = [cell.strip() for cell in cells]
        if not any(cells):
            continue
        try:
            values = [float(cell) for cell in cells]
        except ValueError:
            if header and line == 1:
                continue  # a header: column names
            bad = next(cell for cell in cells if not _is_number(cell))
            where, rule = ((f"{source} line {line}", "every CSV row after an optional header must hold numbers only")
                           if header else (source, "give numbers separated by commas"))
            raise PredictInputError(f"{where}: {repr(bad) if bad else 'an empty cell'} is not a number; {rule}.") \
                from None
        rows.append(_Input(f"{source}:{line}", "row", values))
    if not rows:
        raise PredictInputError(f"{source} holds no CSV rows of numbers.")
    return rows


def _is_number(cell: str) -> bool:
    try:
        float(cell)
    except ValueError:
        return False
    return True


def _shown(text: str) -> str:
    """A text as the table names it: quoted, shortened."""
    flat = " ".join(text.split())
    return json.dumps(flat if len(flat) <= SHOWN_TEXT else flat[:SHOWN_TEXT - 3] + "...", ensure_ascii=False)


# ---------------------------------------------------------------------------- raw inputs -> model inputs

def model_inputs(run: LoadedRun, inputs: list[_Input], invert: bool = False):
    """(a batch the model reads, one row per input; a note or None per input).

    Raises ``PredictInputError`` naming the first bad input.
    """
    import numpy as np

    from zoo.data import clean_text

    for item in inputs:
        _check_form(run, item)
    if run.kind == "characters":
        from zoo.data import encode_dates

        try:
            return encode_dates([item.value for item in inputs], run.characters, run.length), [None] * len(inputs)
        except ValueError as error:
            raise PredictInputError(str(error)) from None
    if run.kind == "text":
        for item in inputs:
            if not item.value.strip():
                raise PredictInputError(f"input {item.name} is empty: give the text to classify.")
        # Line breaks as the training data had them: spaces (zoo.data.clean_text).
        return np.array([clean_text(item.value) for item in inputs], dtype=object), [None] * len(inputs)
    rows = [_image_values(run, item, invert) if item.form == "image" else (_row_values(run, item), None)
            for item in inputs]
    return np.stack([values for values, _ in rows]).astype("float32"), [note for _, note in rows]


def _check_form(run: LoadedRun, item: _Input) -> None:
    """An input of a form the model does not read is an error saying what it reads and how to give that."""
    fix = {"text": "pass text with --text \"...\" or --lines FILE", "image": "pass an image file",
           "row": "pass a .csv file or --row \"v1,v2,...\""}
    accepted = {"text": ["text"], "characters": ["text"], "image": ["image"],
                "tabular": ["row"] + (["image"] if run.image_shape else [])}
    if item.form not in accepted[run.kind]:
        fixes = [fix[form] for form in accepted[run.kind]]
        raise PredictInputError(f"input {item.name} is {FORMS[item.form]}, but this {run.recipe} model reads "
                                f"{run.expects()}: {' or '.join(fixes)}.")


def _row_values(run: LoadedRun, item: _Input):
    """A row of numbers, checked against the model's width."""
    import numpy as np

    try:
        values = np.asarray(item.value, dtype="float32")
    except (TypeError, ValueError) as error:
        raise PredictInputError(f"input {item.name} is not a row of numbers ({error}); this {run.recipe} model "
                                f"reads {run.expects()}.") from None
    if values.ndim != 1 or values.shape[0] != run.features:
        count = values.shape[0] if values.ndim == 1 else f"shape {values.shape}"
        extra = " (a label column? drop it)" if values.ndim == 1 and values.shape[0] == run.features + 1 else ""
        raise PredictInputError(f"input {item.name} has {count} values{extra}; this {run.recipe} model reads "
                                f"{run.expects()}.")
    if not np.isfinite(values).all():
        raise PredictInputError(f"input {item.name} holds a missing or infinite value; give all {run.features} "
                                "numbers.")
    return values


def _image_values(run: LoadedRun, item: _Input, invert: bool):
    """An image file or PIL image -> (the model's channels and size, pixels 0-255 or the model's ink scale; note)."""
    import numpy as np
    from PIL import Image

    height, width, channels = run.image_shape
    if channels not in (1, 3):
        raise PredictInputError(f"this {run.recipe} model reads {channels}-channel images; zoo predict makes grey "
                                "or RGB ones only.")
    picture = item.value
    if not isinstance(picture, Image.Image):
        try:
            picture = Image.open(picture)
            picture.load()
        except (OSError, Image.DecompressionBombError) as error:
            raise PredictInputError(f"{item.name} cannot be read as an image ({error}); this {run.recipe} model "
                                    f"reads {run.expects()}.") from None
    picture = picture.convert("L" if channels == 1 else "RGB")
    if picture.size != (width, height):
        picture = picture.resize((width, height), Image.Resampling.BILINEAR)
    pixels = np.asarray(picture, dtype="float32")
    if invert:
        pixels = 255 - pixels
    note = None
    if channels == 1 and _border(pixels).mean() > DARK_GROUND:
        note = (f"{item.name} looks like dark ink on a light ground, and this model learnt light ink on a dark "
                f"ground: {'drop' if invert else 'pass'} --invert if its answers look wrong.")
    pixels = pixels.reshape(height, width, channels) * (run.ink_scale / 255)
    return (pixels.reshape(-1) if run.kind == "tabular" else pixels), note


def _border(pixels):
    import numpy as np

    return np.concatenate([pixels[0], pixels[-1], pixels[:, 0], pixels[:, -1]])


# ---------------------------------------------------------------------------- predicting

def predict(run: LoadedRun, inputs, *, top: int = TOP, invert: bool = False) -> list[Prediction]:
    """Each input's ``top`` classes by name, with probabilities (or a perceptron's scores), highest first.

    Args:
        run: a ``LoadedRun`` (``load_run``).
        inputs: for text models, strings; for the others, file paths (images; .csv files give
            one input per row), PIL images, or rows of numbers.
        top: how many classes per input; more than the model has gives them all.
        invert: turn images into their negative first (dark ink on light -> light on dark).
    """
    if isinstance(top, bool) or not isinstance(top, int) or top < 1:
        raise PredictInputError(f"top={top!r} must be a whole number >= 1, e.g. 3.")
    inputs = _as_inputs(run, inputs)
    if not inputs:
        raise PredictInputError(f"nothing to predict: give {run.expects()}.")
    batch, notes = model_inputs(run, inputs, invert)
    if run.kind == "characters":   # one answer per input: the likeliest token at each output step
        import numpy as np

        steps = np.asarray(run.model.predict(batch, verbose=0), dtype="float64")
        return [Prediction(item.name, [("".join(run.class_names[i] for i in row.argmax(axis=-1)),
                                        float(row.max(axis=-1).prod()))], run.output, item.value)
                for item, row in zip(inputs, steps)]
    values = class_values(run, run.model.predict(batch, verbose=0))
    top = min(top, len(run.class_names))
    predictions = []
    for item, row, note in zip(inputs, values, notes):
        best = row.argsort(kind="stable")[::-1][:top]
        predictions.append(Prediction(item.name, [(run.class_names[i], float(row[i])) for i in best], run.output,
                                      item.value if item.form == "text" else None, note))
    return predictions


def class_values(run: LoadedRun, outputs):
    """The model's outputs -> one value per class: softmax rows as they are, a single unit as (1 - p, p)."""
    import numpy as np

    outputs = np.asarray(outputs, dtype="float64")
    if outputs.shape[-1] != 1:
        return outputs
    second = ONE_UNIT_OUTPUTS[run.activation][0](outputs[:, 0])
    return np.stack([1 - second, second], axis=1)


# ---------------------------------------------------------------------------- command line

def add_arguments(parser: argparse.ArgumentParser) -> argparse.ArgumentParser:
    """``zoo predict``'s arguments, on ``parser`` (this module's ``main`` or the ``zoo`` command's subparser)."""
    parser.add_argument("run_dir", metavar="RUN_DIR", help="the --out folder of a finished recipe run")
    parser.add_argument("inputs", nargs="*", metavar="INPUT",
                        help="image files, or .csv files whose every row is one input (a header row is skipped)")
    parser.add_argument("--text", action="append", default=[], metavar="TEXT",
                        help="a text to classify (text models); repeat for more")
    parser.add_argument("--lines", action="append", default=[], metavar="FILE",
                        help="a file of texts, one per line (blank lines skipped); - reads standard input")
    parser.add_argument("--row", action="append", default=[], metavar="CSV",
                        help='one row of numbers, comma-separated, e.g. --row "0,3,16,..."; a row that starts '
                             'with a minus sign needs the = form, --row="-0.6,-0.5,..."; repeat for more')
    parser.add_argument("--top", type=_top, default=TOP, metavar="K",
                        help="classes shown per input, best first; at most the model's classes (default: %(default)s)")
    parser.add_argument("--invert", action="store_true",
                        help="use each image's negative: for dark ink on a light ground, as scans of paper are")
    parser.add_argument("--json", action="store_true", help="print one JSON document instead of a table")
    return parser


def _top(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        raise argparse.ArgumentTypeError(f"--top={text} must be a whole number >= 1, e.g. 3")
    return value


def run(args, output=None) -> int:
    """Predict for every input of the command line and print a table, or JSON with --json; returns 0."""
    output = output or sys.stdout
    if not (args.inputs or args.text or args.lines or args.row):
        raise PredictInputError("nothing to predict: give image or .csv files, --row \"v1,v2,...\", "
                                "--text \"...\" or --lines FILE.")
    read_results(args.run_dir)               # a wrong folder fails before Keras is imported
    for path in [*args.inputs, *(name for name in args.lines if name != "-")]:
        if not Path(path).expanduser().is_file():
            flag = "--lines " if path in args.lines else ""
            # A name without a file suffix, or with spaces, is more likely a text than a file.
            looks_like_text = not flag and (not Path(path).suffix or " " in path)
            text_hint = "; to classify text, pass it with --text \"...\"" if looks_like_text else ""
            raise PredictInputError(f"no file {flag}{path!r}{text_hint}.")
    loaded = load_run(args.run_dir)
    predictions = predict(loaded, _command_line_inputs(loaded, args), top=args.top, invert=args.invert)
    if args.json:
        json.dump(_document(loaded, predictions, args.top), output, indent=2, ensure_ascii=False)
        output.write("\n")
    else:
        output.write(table(loaded, predictions))
    return 0


def _command_line_inputs(loaded: LoadedRun, args) -> list[_Input]:
    inputs = []
    for path in args.inputs:
        inputs.extend(_file_inputs(loaded, Path(path).expanduser()))
    for number, row in enumerate(args.row, 1):
        rows = _csv_rows(row, f"--row {number}", header=False)
        inputs.extend(_Input(f"--row {number}", "row", found.value) for found in rows)
    inputs.extend(_Input(_shown(text), "text", text) for text in args.text)
    for name in args.lines:
        lines = sys.stdin.read() if name == "-" else Path(name).expanduser().read_text(encoding="utf-8",
                                                                                         errors="replace")
        inputs.extend(_Input(f"{name}:{number} {_shown(line)}", "text", line)
                      for number, line in enumerate(lines.splitlines(), 1) if line.strip())
    return inputs


def _document(loaded: LoadedRun, predictions: list[Prediction], top: int) -> dict:
    """--json: the run, what its values are, and each input's best classes."""
    return {"run": str(loaded.folder), "recipe": loaded.recipe, "reads": loaded.expects(),
            "inside_model": list(loaded.inside_model), "output": loaded.output,
            "classes": list(loaded.class_names), "top": min(top, len(loaded.class_names)),
            "predictions": [prediction.to_dict() for prediction in predictions]}


def table(loaded: LoadedRun, predictions: list[Prediction]) -> str:
    """The readable answer: one block of rows per input, its best class first."""
    value_name = loaded.output if loaded.output == "probability" else "score (0-1, not a probability)"
    names_width = max(len("input"), *(len(p.input) for p in predictions))
    what = "answer" if loaded.kind == "characters" else "class"   # a sequence model writes its answer
    class_width = max(len(what), *(len(name) for p in predictions for name, _ in p.top))
    lines = [loaded.describe(), "", f"{'input':<{names_width}}  {'#':>2}  {what:<{class_width}}  {value_name}"]
    for prediction in predictions:
        for rank, (name, value) in enumerate(prediction.top, 1):
            shown = prediction.input if rank == 1 else ""
            lines.append(f"{shown:<{names_width}}  {rank:>2}  {name:<{class_width}}  {value:.4f}")
    lines.extend(f"note: {prediction.note}" for prediction in predictions if prediction.note)
    return "\n".join(lines) + "\n"


def main(argv=None) -> int:
    """``python -m zoo.predict``: a ZooError is one ``error:`` line and its exit status, as in ``zoo``."""
    usage = "\n\n".join(__doc__.split("\n\n")[:2]).replace("``", "")   # the first line and the examples
    parser = add_arguments(argparse.ArgumentParser(prog="zoo predict", description=usage,
                                                   formatter_class=argparse.RawDescriptionHelpFormatter,
                                                   epilog="More: python -m pydoc zoo.predict"))
    args = parser.parse_args(argv)
    return exit_status(lambda: run(args))


if __name__ == "__main__":
    sys.exit(main())
