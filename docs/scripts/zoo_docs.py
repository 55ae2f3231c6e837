"""What the documentation site knows about the zoo: generated pages, committed results, figures.

Used by the MkDocs hook (``docs/scripts/mkdocs_hooks.py``), the figure script
(``docs/scripts/figures.py``) and ``tests/test_docs.py``.

Every page about a model or a recipe is generated here from ``zoo.info`` and
the registry's recipes (``zoo.recipes.summaries()``), so a new registry entry or recipe gets its page without
anyone writing one. Every measured number comes from a committed
``results/<recipe>/results.json`` and is printed beside the command, machine
and date that produced it; where no committed run exists, the page says so.
"""

from __future__ import annotations

import csv
import functools
import inspect
import json
import math
import os
import posixpath
import re
import subprocess
import sys
from pathlib import Path
from typing import NamedTuple

REPO = Path(__file__).resolve().parents[2]
DOCS = REPO / "docs"
# The committed runs. ZOO_DOCS_RESULTS points the site at other run folders, to preview them.
RESULTS = Path(os.environ.get("ZOO_DOCS_RESULTS", REPO / "results"))
# Written by docs/scripts/figures.py (not committed; .ci/run makes them before the build).
FIGURES = DOCS / "figures"
# Committed benchmarks: how defaults were chosen (choices_<recipe>.json), XLA on or off (xla.json).
BENCHMARKS = Path(os.environ.get("ZOO_DOCS_BENCHMARKS", REPO / "benchmarks" / "results"))
FIGURE_COMMAND = "python docs/scripts/figures.py"

MODELS_DIR = "models"
RECIPES_DIR = "recipes"
NETWORK_NOTE = "needs the network"   # marks an example line that downloads (tests/test_examples.py)

if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))


class FigureMissing(RuntimeError):
    """A page needs a generated figure that is not on disk."""


# ------------------------------------------------------------------ registry and recipes

def model_names() -> list[str]:
    """Every registry entry in learning order: the order of their recipes, perceptron first.

    ``zoo.list_models()`` sorts by name; a reader should meet the perceptron before
    the Transformer. The recipes come in registration order (``zoo.registry.recipes()``);
    entries no recipe trains come last, by name.
    """
    import zoo
    from zoo.registry import recipes

    order = {recipe: index for index, recipe in enumerate(recipes())}
    return sorted(zoo.list_models(), key=lambda name: order.get(recipe_of(zoo.info(name)), len(order)))


def recipe_names() -> list[str]:
    from zoo.registry import recipes

    return list(recipes())


def recipe_of(spec) -> str | None:
    """``"zoo.recipes.mlp"`` -> ``"mlp"``."""
    if not spec.recipe:
        return None
    return spec.recipe.removeprefix("zoo.recipes.")


def models_trained_by(recipe: str) -> list[str]:
    from zoo.registry import trained_by

    trained = trained_by(recipe)
    return [name for name in model_names() if name in trained]   # in learning order


# --------------------------------------------------------------------------- results

def results_dir(recipe: str) -> Path:
    return RESULTS / recipe


def committed_runs() -> list[str]:
    """Recipes with a finished committed run: a folder under results/ holding a readable results.json."""
    if not RESULTS.is_dir():
        return []
    return sorted(path.parent.name for path in RESULTS.glob("*/results.json")
                  if load_results(path.parent.name) is not None)


def load_results(recipe: str) -> dict | None:
    """The committed results.json of ``recipe``, or None when no run is committed.

    A damaged file counts as no run: ``zoo.results.load`` prints one warning
    naming it (to stderr, not the MkDocs log, so ``--strict`` builds the rest).
    """
    from zoo import results

    return results.load(recipe, RESULTS)


def run_file(recipe: str, name) -> Path | None:
    """The file a results.json names (``"images"``, ``"attention_example"``), if it is one in the run folder.

    Only a plain file name counts: a recorded ``../`` path must not make the docs read outside results/.
    """
    if not isinstance(name, str) or not name or Path(name).name != name or name in (".", ".."):
        return None
    path = results_dir(recipe) / name
    return path if path.is_file() else None


def _number(text) -> float:
    try:
        return float(text)
    except (TypeError, ValueError):   # CSVLogger writes "NA" for a metric it did not log
        return float("nan")


def load_histories(recipe: str) -> dict[str, dict[str, list[float]]]:
    """Every history*.csv (Keras CSVLogger) of the committed run, as columns, keyed by tag.

    ``history.csv`` has the tag ``""``; a run with several arms writes
    ``history_<tag>.csv`` per arm.
    """
    histories = {}
    for path in sorted(results_dir(recipe).glob("history*.csv")):
        with path.open(newline="") as handle:
            rows = list(csv.DictReader(handle))
        if rows:
            tag = path.stem[len("history_"):] if path.stem.startswith("history_") else ""
            histories[tag] = {key: [_number(row[key]) for row in rows] for key in rows[0]}
    return histories


def _cell(value) -> str:
    """Trusted Markdown (docstrings, registry summaries) as one line of a table cell: the rest as JSON."""
    text = value if isinstance(value, str) else json.dumps(value)
    return " ".join(text.split()).replace("|", "\\|")


def _value(value) -> str:
    """A value read from a results file as inert Markdown: no HTML, code spans, links or extra cells."""
    from zoo.results import markdown_text

    return markdown_text(value)


def _code(value) -> str:
    """A value read from a results file as a code span nothing inside it can close (commands, names)."""
    from zoo.results import markdown_code

    return markdown_code(value if isinstance(value, str) else json.dumps(value))


# ------------------------------------------------------------------ results in words

# What each metric a recipe records means to a reader, and how its number reads. A number
# under a key not listed here is shown under the key's words ("test_loss" -> "test loss"),
# never as a dotted path; true/false, text and lists in metrics are not shown.
METRIC_LABELS = {
    "test_accuracy": ("test accuracy", "accuracy"),
    "validation_accuracy": ("validation accuracy", "accuracy"),
    "majority_class_baseline": ("always guessing the commonest class", "accuracy"),
    "test_loss": ("test loss", "loss"),
    "final_train_loss": ("training loss at the end", "loss"),
    "epochs_run": ("epochs run", "count"),
    "best_epoch": ("best epoch (its weights are kept)", "count"),
    "train_seconds": ("training time", "seconds"),
    "trainable_params": ("trainable parameters", "count"),
    "params": ("parameters", "count"),
    "accuracy_gain_over_plain": ("test accuracy gained over the plain stack of the same size", "signed"),
    "params_ratio": ("the plain stack's parameters, as a fraction of the Inception network's", "number"),
    "test_bits_per_character": ("test bits per character (lower is better)", "bits"),
    "validation_bits_per_character": ("validation bits per character (lower is better)", "bits"),
    "calibrated_temperature": ("the GPT's softmax temperature (1: as trained; chosen on validation)", "number"),
    "uncalibrated_validation_bits_per_character": ("validation bits per character before that temperature",
                                                   "bits"),
    "mixed_with_ngram_gpt_weight": ("the GPT's weight in its average with the n-gram (chosen on validation)",
                                    "number"),
    "mixed_with_ngram_validation_bits_per_character": ("validation bits per character of that average", "bits"),
    "mixed_with_ngram_test_bits_per_character": ("test bits per character of that average", "bits"),
    "accuracy_gain_over_mlp": ("test accuracy gained over the MLP on the same pixels", "signed"),
    "accuracy_gain_over_scratch": ("test accuracy gained over training from scratch", "signed"),
    "train_time_ratio": ("training time, as a fraction of training from scratch", "ratio"),
    "total_loss_fall": ("fall of the total loss", "percent"),
    "seconds_per_step": ("time per optimisation step", "seconds"),
    "test_exact_match": ("test exact match (answers right in every character)", "accuracy"),
    "validation_exact_match": ("validation exact match", "accuracy"),
    "test_character_accuracy": ("test accuracy per character", "accuracy"),
    "validation_character_accuracy": ("validation accuracy per character", "accuracy"),
    "validation_loss": ("validation loss (cross-entropy per character)", "loss"),
    "epochs_to_validation_character_accuracy_0999": ("first epoch with validation accuracy per character "
                                                     ">= 0.999", "count"),
    "exact_match_gain_over_no_attention": ("test exact match gained over the same network without attention",
                                           "signed"),
    # Masked-token pretraining (mini_bert's "pretraining" numbers) and its arms.
    "passages": ("passages of text read", "count"),
    "words": ("words in them", "count"),
    "masked_copies": ("differently masked copies of each passage", "count"),
    "mask_rate": ("share of each passage's words hidden", "percent"),
    "validation_hidden_word_accuracy": ("hidden words of validation reviews named right", "accuracy"),
    "validation_commonest_word_accuracy": ("the same, always answering the word hidden most often in training",
                                           "accuracy"),
    "seconds": ("training time", "seconds"),
    # mini_bert's arms with a wide model: each part of the arm's average alone.
    "classifier_alone_validation_accuracy": ("validation accuracy without the wide model", "accuracy"),
    "members": ("classifiers averaged", "count"),
    "wide_model_alone_validation_accuracy": ("validation accuracy of the wide model alone", "accuracy"),
    # The parts of a loss that is a weighted sum (style transfer's).
    "content": ("content loss", "loss"),
    "style": ("style loss", "loss"),
    "total_variation": ("total variation loss", "loss"),
    "total": ("total loss", "loss"),
}
# A metric group of trainings compared side by side -> what one member is called; a group of
# plain numbers -> the title of its column.
GROUP_LABELS = {"arms": "arm", "personalities": "personality",
                "initial_losses": "at the start", "final_losses": "at the end",
                "pretraining": "naming hidden words, before any label"}
# Recipe flags that set a factory argument of another name: flag -> (argument, the value it gets).
FLAG_ARGUMENTS = {"image_size": ("input_shape", lambda size: (size, size, 3))}
# The "" tag of a run's single or first training (history.csv; "fit" in epoch_seconds).
MAIN_TRAINING = "fit"


def _is_number(value) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _words(key) -> str:
    """A key from a results file as words: no underscores or dots, inert Markdown."""
    return _value(re.sub(r"[_.]+", " ", str(key)).strip())


def _seconds(value: float) -> str:
    return f"{value:,.0f} s" if value >= 100 else f"{value:.3g} s"


def number_text(value: float, unit: str) -> str:
    """A measured number as a reader takes it in: accuracies to 4 places, counts with separators, seconds with s."""
    from zoo.results import not_finite

    if not math.isfinite(value):
        return not_finite(value)
    formats = {"accuracy": "{:.4f}", "count": "{:,.0f}", "signed": "{:+.4f}", "ratio": "{:.2g}x",
               "percent": "{:.1%}"}
    if unit == "seconds":
        return _seconds(value)
    return formats.get(unit, "{:.4g}").format(value)


def metric_label(key) -> tuple[str, str]:
    """(label, unit) of a metric key; an unknown key reads as its words."""
    label, unit = METRIC_LABELS.get(key, (None, "number"))
    return (_value(label) if label else _words(key)), unit


def _table(header: list[str], rows: list[list[str]]) -> str:
    return "\n".join(["| " + " | ".join(header) + " |", "|" + " --- |" * len(header),
                      *("| " + " | ".join(row) + " |" for row in rows)])


def metrics_tables(results: dict) -> str:
    """The run's metrics as a reader needs them: labelled numbers, then one table per group compared.

    Top-level numbers make a measure/value table. A group of trainings (``"arms"``,
    ``"personalities"``: a dict of dicts) becomes one row per training; groups of plain
    numbers (``"initial_losses"``, ``"final_losses"``) become columns of one table.
    Nothing deeper, and nothing that is not a number, is shown.
    """
    metrics = results.get("metrics") if isinstance(results.get("metrics"), dict) else {}
    scalars = [(*metric_label(key), value) for key, value in metrics.items() if _is_number(value)]
    tables = []
    if scalars:
        tables.append(_table(["measure", "value"], [[label, number_text(value, unit)]
                                                    for label, unit, value in scalars]))
    groups = {key: value for key, value in metrics.items() if isinstance(value, dict) and value}
    for key, members in groups.items():
        if all(isinstance(member, dict) for member in members.values()):
            tables.append(_members_table(key, members))
    columns = {key: value for key, value in groups.items()
               if any(map(_is_number, value.values())) and not any(isinstance(item, dict) for item in value.values())}
    parts = list(dict.fromkeys(part for values in columns.values() for part in values if _is_number(values[part])))
    if parts:
        header = ["", *(_value(GROUP_LABELS[key]) if key in GROUP_LABELS else _words(key) for key in columns)]
        tables.append(_table(header, [[metric_label(part)[0], *(
            number_text(values[part], metric_label(part)[1]) if _is_number(values.get(part)) else ""
            for values in columns.values())] for part in parts]))
    return "\n\n".join(table for table in tables if table)


def _members_table(group: str, members: dict) -> str:
    """One row per training of a group (an arm, a personality), one column per number they record."""
    keys = list(dict.fromkeys(key for member in members.values() for key, value in member.items()
                              if _is_number(value)))
    if not keys:
        return ""
    header = [_value(GROUP_LABELS[group]) if group in GROUP_LABELS else _words(group),
              *(metric_label(key)[0] for key in keys)]
    rows = [[_words(name), *(number_text(member[key], metric_label(key)[1]) if _is_number(member.get(key)) else ""
                             for key in keys)] for name, member in members.items()]
    return _table(header, rows)


def training_times(results: dict) -> str:
    """Epochs and seconds of each training, from results.json's ``epoch_seconds``: a table beside the curves.

    Curves are drawn per epoch, so a training with more, cheaper epochs looks
    longer; this says how long each took. The training time is the recorded one
    (``train_seconds`` of the arm) where the run recorded it, else the first epoch
    plus the median later epoch times the later epochs, marked "about".
    """
    timed = results.get("epoch_seconds")
    if not isinstance(timed, dict) or not timed:
        return ""
    recorded = {name: member.get("train_seconds") for group in (results.get("metrics") or {}).values()
                if isinstance(group, dict) for name, member in group.items() if isinstance(member, dict)}
    rows, epochs = [], set()
    for tag, times in timed.items():
        if not isinstance(times, dict) or not _is_number(times.get("epochs_timed")):
            continue
        count, first, median = times["epochs_timed"], times.get("first"), times.get("median_after_first")
        epochs.add(count)
        if _is_number(recorded.get(tag)):
            total = _seconds(recorded[tag])
        elif _is_number(first) and _is_number(median):
            total = "about " + _seconds(first + median * max(count - 1, 0))
        else:
            total = ""
        rows.append([_words("main" if tag == MAIN_TRAINING else tag), f"{count:,}",
                     _seconds(first) if _is_number(first) else "",
                     _seconds(median) if _is_number(median) and count > 1 else "", total])
    if not rows:
        return ""
    table = _table(["training", "epochs", "first epoch (compiles)", "each later epoch (median)", "training time"],
                   rows)
    notes = []
    if len(epochs) > 1:
        notes.append("The trainings ran for different numbers of epochs (early stopping), so compare their "
                     "times here, not the lengths of their curves.")
    if _is_number(results.get("wall_time_s")):
        notes.append(f"The whole run, data and baseline included, took {_seconds(results['wall_time_s'])}.")
    return "\n\n".join([table, *([" ".join(notes)] if notes else [])])


def _literal(value) -> str:
    """A setting as Python writes it (JSON lists read back as the tuples the factories take)."""
    def tupled(item):
        return tuple(tupled(part) for part in item) if isinstance(item, list) else item

    return repr(tupled(value))


def run_settings(results: dict, model: str) -> tuple[list[list[str]], list[str]]:
    """Each argument of ``model``'s factory that the committed run set: (table rows, the arguments that differ).

    Read from what results.json records: flags named like an argument
    (``--weights``), flags that set one under another name (``--image-size`` ->
    ``input_shape``), the model arguments it lists, and the number of classes of its data.
    """
    import zoo

    defaults = zoo.info(model).defaults
    flags = results.get("flags") if isinstance(results.get("flags"), dict) else {}
    used = {}
    for flag, value in flags.items():
        if flag in defaults:
            used[flag] = (value, f"--{flag.replace('_', '-')}")
        elif flag in FLAG_ARGUMENTS and _is_number(value) and FLAG_ARGUMENTS[flag][0] in defaults:
            argument, convert = FLAG_ARGUMENTS[flag]
            used[argument] = (convert(value), f"--{flag.replace('_', '-')} {value}")
    recorded = results.get("model") if isinstance(results.get("model"), dict) else {}
    for argument, value in (recorded.get("arguments") or {}).items():
        if argument in defaults:
            used.setdefault(argument, (value, "the model arguments it records"))
    data = results.get("data") if isinstance(results.get("data"), dict) else {}
    if "num_classes" in defaults and _is_number(data.get("num_classes")):
        used.setdefault("num_classes", (data["num_classes"], "the classes of its data"))
    rows, differ = [], []
    for argument in defaults:          # in the factory's order, as under Arguments
        if argument not in used:
            continue
        value, source = used[argument]
        this_run, default = _literal(value), repr(defaults[argument])
        if this_run != default:
            differ.append(argument)
        shown = _code(this_run)
        rows.append([f"`{argument}`", f"**{shown}**" if this_run != default else shown, f"`{default}`",
                     _code(source) if source.startswith("--") else _value(source)])
    return rows, differ


def settings_section(results: dict, model: str | None) -> str:
    """The arguments the committed run built the model with, beside the factory's defaults."""
    if model is None:
        return ""
    rows, differ = run_settings(results, model)
    if not rows:
        return ""
    call = f'zoo.get("{model}")'
    if differ:
        lead = (f"The committed run built `{model}` with the arguments below, read from its results.json: "
                f"it differs from the defaults of `{call}` in " + ", ".join(f"`{name}`" for name in differ)
                + " (in bold). The numbers on this page come from these settings, not from the defaults.")
    else:
        lead = f"The committed run built `{model}` with the defaults of `{call}` for the arguments below."
    return "\n\n".join([lead, _table(["argument", "this run", "default", "set by"], rows)])


def flags_text(results: dict) -> str:
    """Every flag the run recorded, as a command line (``--epochs 100 --quick``); off switches left out."""
    flags = results.get("flags") if isinstance(results.get("flags"), dict) else {}
    words = []
    for flag, value in flags.items():
        if value is None or value is False:
            continue
        words.append(f"--{flag.replace('_', '-')}")
        if value is not True:
            words += [str(item) for item in value] if isinstance(value, list) else [str(value)]
    return " ".join(words)


def data_text(data: dict) -> str:
    """The run's data in words: name and source, split sizes, classes; style transfer's two photos."""
    pieces = []
    if data.get("dataset") or data.get("source"):
        name = _code(data["dataset"]) if data.get("dataset") else ""
        source = f"({_value(data['source'])})" if data.get("source") else ""
        pieces.append(" ".join(part for part in (name, source) if part))
    sizes = [f"{data[key]:,} {words}" for key, words in (("train", "training"), ("validation", "validation"),
                                                          ("test", "test")) if _is_number(data.get(key))]
    if sizes:
        pieces.append(", ".join(sizes) + " examples")
    if _is_number(data.get("num_classes")):
        names = data.get("class_names")
        listed = (f" ({', '.join(_value(name) for name in names[:10])}{', ...' if len(names) > 10 else ''})"
                  if isinstance(names, list) and names else "")
        pieces.append(f"{data['num_classes']} classes{listed}")
    for role in ("content", "style"):
        if isinstance(data.get(role), str):
            shape = data.get(f"{role}_shape")
            size = f", {'x'.join(map(str, shape))}" if isinstance(shape, list) and all(map(_is_number, shape)) else ""
            pieces.append(f"{role} image {_code(data[role])}{_value(size)}")
    return "; ".join(pieces)


def provenance(results: dict, recipe: str) -> str:
    """Where the numbers came from: command, machine, date, wall time, versions."""
    from zoo.results import machine

    environment = results.get("environment") or {}
    packages = environment.get("packages") or {}
    command = _code(results["command"]) if "command" in results else "(not recorded)"
    lines = [f"- **Command:** {command}", f"- **Machine:** {_value(machine(results))}"]
    if (environment.get("machine") or {}).get("platform"):
        lines.append(f"- **Platform:** {_value(environment['machine']['platform'])}")
    if results.get("finished"):
        lines.append(f"- **Finished:** {_value(results['finished'])}")
    if results.get("wall_time_s") is not None:
        lines.append(f"- **Wall time:** {_value(results['wall_time_s'])} s")
    software = []
    if environment.get("keras_backend"):
        software.append(f"Keras backend {_value(environment['keras_backend'])}")
    software += [f"{_value(name)} {_value(version)}" for name, version in packages.items()]
    if software:
        lines.append(f"- **Software:** {', '.join(software)}")
    if flags_text(results):
        lines.append(f"- **Flags:** {_code(flags_text(results))}")
    data = results.get("data")
    if isinstance(data, dict) and data_text(data):
        lines.append(f"- **Data:** {data_text(data)}")
    lines.append(f"- **Source:** `results/{recipe}/results.json`")
    return "\n".join(lines)


def no_run(recipe: str) -> str:
    return (f"No committed run of `zoo.recipes.{recipe}` exists yet, so this page shows no measured "
            f"numbers. `python -m zoo.recipes.{recipe}` makes one on your machine; its `results.json` "
            "holds the metrics with the command and machine that produced them.")


# --------------------------------------------------------------------------- figures

def figure_path(relative: str) -> Path:
    return FIGURES / relative


def figure_link(relative: str, page_src: str, alt: str) -> str:
    """Markdown image for ``docs/figures/<relative>``, as seen from the page ``page_src``."""
    if not figure_path(relative).is_file():
        raise FigureMissing(
            f"docs/figures/{relative} is missing (needed by {page_src}); run `{FIGURE_COMMAND}` first."
        )
    target = posixpath.relpath(f"figures/{relative}", posixpath.dirname(page_src) or ".")
    return f"![{alt}]({target})"


def curves_figure(recipe: str) -> str:
    return f"results/{recipe}-curves.png"


def trio_figure(recipe: str) -> str:
    return f"results/{recipe}-trio.png"


def attention_figure(recipe: str) -> str:
    return f"results/{recipe}-attention.png"


def alignment_figure(recipe: str) -> str:
    return f"results/{recipe}-alignment.png"


def filters_figure(recipe: str) -> str:
    return f"results/{recipe}-filters.png"


def baseline_figure(recipe: str) -> str:
    return f"results/{recipe}-baseline.png"


def comparison(results: dict) -> tuple[str, list[tuple[str, float]]] | None:
    """(what is compared, [(who, value)]) of the zoo model and its baseline, from one results.json.

    Test bits per character for text generators (lower is better), else test accuracy where
    both record one; else seconds per step (style transfer's loop).
    """
    baseline, metrics = results.get("baseline"), results.get("metrics", {})
    if not isinstance(baseline, dict):
        return None
    for key, label in (("test_bits_per_character", "test bits per character (lower is better)"),
                       ("test_exact_match", "test exact match (every character right)"),
                       ("test_accuracy", "test accuracy"), ("seconds_per_step", "seconds per step")):
        ours, theirs = metrics.get(key), baseline.get(key)
        if all(isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)
               for value in (ours, theirs)):
            return label, [(f"zoo: {results['recipe']}", float(ours)), (str(baseline.get("name", "baseline")),
                                                                        float(theirs))]
    return None


def model_diagram(name: str) -> str:
    return f"models/{name}.png"


class ResultFigure(NamedTuple):
    """A figure the figure script draws from a committed run, and the pages show."""

    path: str       # under docs/figures/
    caption: str
    kind: str       # what figures.py draws: "curves", "trio", "attention", "alignment", "filters" or "baseline"


TRIO = ("content", "style", "stylized")


def result_figures(recipe: str) -> list[ResultFigure]:
    """The figures of a committed run of ``recipe``, decided by what its results.json records.

    Curves when it left history*.csv; a content/style/stylized trio when
    ``"images"`` names those three files; an attention heatmap when
    ``"attention_example"`` names a file; a ConvNet's first-layer filters and
    feature maps when ``"filters_example"`` does. Only a finished, readable run counts:
    a folder without results.json (a run still going) or with a damaged one gives none.
    """
    results = load_results(recipe)
    if results is None:
        return []
    figures = []
    if load_histories(recipe):
        figures.append(ResultFigure(curves_figure(recipe), f"Loss (and accuracy, where logged) per epoch of the "
                                    f"committed {recipe} run: training solid, validation dashed", "curves"))
    images = results.get("images")
    if isinstance(images, dict) and all(run_file(recipe, images.get(role)) for role in TRIO):
        figures.append(ResultFigure(trio_figure(recipe), f"Content image, style image and the stylized result "
                                    f"of the committed {recipe} run", "trio"))
    if comparison(results) is not None:
        figures.append(ResultFigure(baseline_figure(recipe), f"The zoo model beside its baseline, trained in the "
                                    f"same committed {recipe} run on the same split", "baseline"))
    if run_file(recipe, results.get("attention_example")):
        figures.append(ResultFigure(attention_figure(recipe), f"Attention weights of the committed {recipe} run "
                                    "on one real test example", "attention"))
    if run_file(recipe, results.get("alignment_example")):
        figures.append(ResultFigure(alignment_figure(recipe), f"What each output character read: the attention "
                                    f"weights of the committed {recipe} run over a few written test dates",
                                    "alignment"))
    if run_file(recipe, results.get("filters_example")):
        figures.append(ResultFigure(filters_figure(recipe), f"The first layer of the committed {recipe} run: its "
                                    "learned 3x3 filters and what each makes of one validation digit, beside the "
                                    "hand-made horizontal-edge filter", "filters"))
    return figures


def results_section(recipe: str, page_src: str, heading: str = "##", figures: bool = True,
                    model: str | None = None) -> str:
    """Metrics beside the baseline's, the settings they came from, their provenance and the run's figures.

    Or a statement that no run exists. ``model`` is the entry whose factory
    defaults the run's settings are set beside (the first one the recipe trains by default).
    """
    from zoo.results import baseline_headline, headline, verdict

    results = load_results(recipe)
    if results is None:
        return no_run(recipe)
    trained = models_trained_by(recipe)
    model = model or (trained[0] if trained else None)

    parts = [f"In short: {_value(headline(results))}.",
             f"The baseline a practitioner would pick first, trained in the same run on the same split: "
             f"{_value(baseline_headline(results))}. Better: {_value(verdict(results))}."]
    if (results.get("flags") or {}).get("quick"):
        parts.append("!!! warning \"A smoke test, not a result\"\n    This committed run used `--quick`: "
                     "a few epochs on a small budget, so its numbers say little about the model.")
    settings = settings_section(results, model)
    if settings:
        parts += [f"{heading}# Settings of this run", settings]
    parts += [f"{heading}# What it measured", metrics_tables(results),
              f"{heading}# How it was measured", provenance(results, recipe)]
    if figures:
        for figure in result_figures(recipe):
            parts.append(figure_block(figure, results, page_src))
    return "\n\n".join(part for part in parts if part)


def figure_block(figure: "ResultFigure", results: dict, page_src: str) -> str:
    """A result figure with its caption; training curves also get the time each training took."""
    block = f"{figure_link(figure.path, page_src, figure.caption)}\n\n*{figure.caption}.*"
    times = training_times(results) if figure.kind == "curves" else ""
    return f"{block}\n\n{times}" if times else block


# ------------------------------------------------------------------------ model pages

def argument_docs(factory) -> dict[str, str]:
    """Argument -> description, from the factory's Google-style docstring."""
    import griffe

    doc = inspect.getdoc(factory) or ""
    sections = griffe.Docstring(doc).parse("google", warn_missing_types=False, warnings=False)
    described = {}
    for section in sections:
        if section.kind.value == "parameters":
            for parameter in section.value:
                for name in parameter.name.split(","):
                    described[name.strip()] = parameter.description
    return described


def search_space_rows(spec) -> tuple[list[str], dict]:
    """Table rows for the entry's KerasTuner search space, and the overrides its defaults give.

    Runs ``spec.search_space`` on a real ``keras_tuner.HyperParameters`` object,
    which records every hyperparameter the space declares.
    """
    import keras_tuner

    hp = keras_tuner.HyperParameters()
    overrides = spec.search_space(hp)
    rows = []
    for parameter in hp.space:
        config = parameter.get_config()
        kind = type(parameter).__name__
        if kind == "Choice":
            values = ", ".join(f"`{value!r}`" for value in config["values"])
        elif kind == "Boolean":
            values = "`True`, `False`"
        else:
            values = f"`{config['min_value']!r}` to `{config['max_value']!r}`"
            if config.get("step"):
                values += f", step `{config['step']!r}`"
            if config.get("sampling") not in (None, "linear"):
                values += f", {config['sampling']} sampling"
        rows.append(f"| `{config['name']}` | {kind} | {values} | `{config['default']!r}` |")
    return rows, overrides


def default_data(names: str) -> str:
    """A registry entry's ``default_dataset`` with what ``zoo.data`` says of each name."""
    from zoo import data

    described = []
    for name in names.split(", "):
        about = (data.EMBEDDED.get(name) or data.CORPORA.get(name)
                 or (f"generated from a seed: {data.GENERATED[name]}" if name in data.GENERATED else None)
                 or ("a bundled photo, zoo.data.image" if name in data.PHOTOS else None))
        described.append(f"`{name}`" + (f" ({_cell(about)})" if about else ""))
    return ", ".join(described)


def weights_section(name: str, entries, page_src: str) -> list[str]:
    """The named pretrained weights that fit a model: what each learnt, where it comes from, what it measured.

    The measured results are read from the committed results.json of every recipe run that used the weights.
    """
    out = ["## Pretrained weights", "",
           f"`weights=` takes one of these names, `None` (random initialisation) or the path to a weights file; "
           f"`zoo weights {name}` prints the same.", "",
           "| `weights=` | layers | trained on | source | licence | expects | network | measured with it |",
           "| --- | --- | --- | --- | --- | --- | --- | --- |"]
    base = posixpath.relpath(RECIPES_DIR, posixpath.dirname(page_src) or ".")
    for weights in entries:
        source = (f"[{weights.file}]({weights.source})" if weights.source.startswith("https://")
                  else _cell(weights.source))
        measured = "; ".join(
            f"[`{recipe}`]({base}/{recipe.rpartition('.')[2]}.md): {_value(headline)}"
            for recipe, headline in weights.measured(RESULTS)) or "no committed run used them"
        out.append(f"| `\"{weights.name}\"` | {weights.architecture} | {_cell(weights.trained_on)} | {source} "
                   f"| {_cell(weights.licence)} | {_cell(weights.preprocessing)} "
                   f"| {'never' if weights.offline else 'once, to fill the Keras cache'} | {measured} |")
    return out + [""]


def model_page(name: str) -> str:
    import zoo

    spec = zoo.info(name)
    page_src = f"{MODELS_DIR}/{name}.md"
    recipe = recipe_of(spec)
    described = argument_docs(spec.factory)
    factory_path = f"{spec.factory.__module__}.{spec.factory.__qualname__}"

    out = [f"# {name}", "", spec.summary, ""]
    facts = [f"- **Task:** `{spec.task}`"]
    if spec.paper:
        paper = str(spec.paper)
        facts.append(f"- **Paper:** [{paper}]({spec.paper.link})" if spec.paper.link else f"- **Paper:** {paper}")
    if spec.num_params:
        facts.append(f"- **Parameters (default arguments):** {spec.num_params:,}")
    facts.append(f"- **Loss that fits the outputs (defaults):** `{spec.loss_for()}`")
    if spec.default_dataset:
        facts.append(f"- **Offline default data:** {default_data(spec.default_dataset)}")
    recipe_link = (f"[`zoo.recipes.{recipe}`](../{RECIPES_DIR}/{recipe}.md)" if recipe in recipe_names()
                   else f"`zoo.recipes.{recipe}`")
    if recipe:
        facts.append(f"- **Recipe:** {recipe_link}")
    facts.append(f"- **Factory:** [`{factory_path}`][{factory_path}] (API reference)")
    out += facts + [""]

    # The default weights may need a download: the line says so (tests/test_examples.py runs it offline).
    default_weights = spec.defaults.get("weights")
    downloads = any(entry.name == default_weights and not entry.offline for entry in spec.weights)
    offline_entries = [entry for entry in spec.weights if entry.offline]
    # Short enough to be seen whole in the page's code column: the network note must not scroll away.
    comment = (f"defaults; {NETWORK_NOTE} once (weights={default_weights!r})" if downloads
               else "the defaults; any argument below overrides")
    out += ["## Build it", "", "```python", "import zoo", "", f'model = zoo.get("{name}")   # {comment}']
    if not (downloads and offline_entries):
        out.append("model.summary()")
    for weights in offline_entries:
        out += [f'# "{weights.name}": {weights.architecture} weights that need no network',
                f'offline = zoo.get("{name}", weights="{weights.name}")']
    if downloads and offline_entries:
        out.append("offline.summary()")
    if "weights" in spec.defaults:
        out += [f'scratch = zoo.get("{name}", weights=None)   # random initialisation']
    out += [f'loss = zoo.info("{name}").loss_for()   # the loss that fits the outputs', "```", ""]
    if "weights" in spec.defaults:
        out += [f"The default `weights={spec.defaults['weights']!r}` may need a download; "
                "[Offline use](../offline.md) lists what works without network.", ""]
    if spec.weights:
        out += weights_section(name, spec.weights, page_src)

    out += ["## Arguments", "", "| argument | default | meaning |", "| --- | --- | --- |"]
    for argument, default in spec.defaults.items():
        out.append(f"| `{argument}` | `{default!r}` | {_cell(described.get(argument, ''))} |")
    out += ["", "## Inputs and outputs", "", f"- **Inputs:** {spec.inputs}", f"- **Outputs:** {spec.outputs}", ""]

    out += ["## Diagram", "",
            "The model built with the default arguments (`weights=None` where there are weights), "
            "drawn by `keras.utils.plot_model`.", "",
            figure_link(model_diagram(name), page_src, f"{name} model diagram"), ""]

    out += ["## Search space", ""]
    if spec.search_space is None:
        out += ["This entry declares no KerasTuner search space.", ""]
    else:
        rows, overrides = search_space_rows(spec)
        out += [f"`zoo.info(\"{name}\").search_space(hp)` declares these hyperparameters on a "
                "KerasTuner `HyperParameters` object and returns keyword arguments for `zoo.get`.", "",
                "| hyperparameter | kind | values | default |", "| --- | --- | --- | --- |", *rows, "",
                "At the defaults it returns:", "", "```python", repr(dict(overrides)), "```", "",
                "```python", "import keras_tuner", "import zoo", "",
                "def build(hp):",
                f'    overrides = zoo.info("{name}").search_space(hp)',
                f'    model = zoo.get("{name}", **overrides)',
                f'    model.compile("adam", loss=zoo.info("{name}").loss_for())',
                "    return model", "",
                'tuner = keras_tuner.RandomSearch(build, objective="val_loss", max_trials=5)'
                + (f"   # builds one model now: {NETWORK_NOTE} once, for weights={default_weights!r}"
                   if downloads else ""), "```", ""]

    out += ["## Measured results", ""]
    if recipe is None:
        out += ["No recipe trains this entry, so there are no measured results.", ""]
    else:
        out += [f"Measured by {recipe_link}, with the settings listed first: where they differ from the "
                "default arguments above, the numbers come from the run's settings.", "",
                results_section(recipe, page_src, heading="##", model=name), ""]
        out += model_card_section(recipe)
    return "\n".join(out)


def model_card_section(recipe: str) -> list[str]:
    """The model card of the recipe's committed run (``zoo.model_card.render``), its headings under the page's."""
    from zoo import model_card

    results = load_results(recipe)
    if results is None:
        return []
    title, _, body = model_card.render(results, heading_level=2).partition("\n\n")
    return [title, "", f"Every run writes this card as `{model_card.CARD_FILE}` beside its `results.json`; "
            f"this one is `zoo.model_card.render` of `results/{recipe}/results.json`.", "", body, ""]


# ----------------------------------------------------------------------- recipe pages

def _docstring_blocks(doc: str) -> str:
    """A recipe docstring as Markdown: indented paragraphs become shell blocks."""
    blocks = []
    for paragraph in doc.strip("\n").split("\n\n"):
        lines = paragraph.split("\n")
        if all(line.startswith("    ") or not line.strip() for line in lines):
            blocks.append("```bash\n" + "\n".join(line[4:] for line in lines) + "\n```")
        else:
            blocks.append(" ".join(line.strip() for line in lines))
    return "\n\n".join(blocks)


@functools.lru_cache(maxsize=None)
def recipe_help(recipe: str) -> str:
    """The recipe's own ``--help`` text, exactly as a user sees it."""
    environment = {**os.environ, "COLUMNS": "80", "TF_CPP_MIN_LOG_LEVEL": "3"}
    result = subprocess.run([sys.executable, "-m", f"zoo.recipes.{recipe}", "--help"], cwd=REPO, env=environment,
                            capture_output=True, text=True, timeout=120)
    if result.returncode != 0:
        raise RuntimeError(f"python -m zoo.recipes.{recipe} --help failed:\n{result.stderr}")
    return result.stdout.rstrip()


def recipe_page(recipe: str) -> str:
    import importlib

    from zoo.recipes import summaries

    summary = summaries()[recipe]
    module = importlib.import_module(f"zoo.recipes.{recipe}")
    page_src = f"{RECIPES_DIR}/{recipe}.md"
    doc = inspect.getdoc(module) or ""
    _, _, body = doc.partition("\n\n")   # the first line repeats the summary above
    models = models_trained_by(recipe)

    out = [f"# zoo.recipes.{recipe}", "", f"{summary[0].upper()}{summary[1:]}.", ""]
    if models:
        out += ["Trains " + ", ".join(f"[`{name}`](../{MODELS_DIR}/{name}.md)" for name in models) + ".", ""]
    out += [_docstring_blocks(body), ""]
    out += [f"The same run through the console script: `zoo run {recipe} [flags]`.", ""]
    out += ["## Flags", "", f"`python -m zoo.recipes.{recipe} --help` prints:", "", "```text",
            recipe_help(recipe), "```", ""]

    out += ["## What it writes", "",
            "Every run writes a folder (`--out`, by default `runs/<recipe>-<timestamp>/`) with "
            "`results.json` (the test metrics, every flag, the seed, package versions, the machine "
            "and the wall time), `model.keras`, `history.csv`, TensorBoard logs under `logs/` and "
            "`curves.png`.", ""]
    folder = results_dir(recipe)
    if load_results(recipe) is not None:
        files = sorted(path.name for path in folder.iterdir() if path.is_file())
        out += [f"The committed run in `results/{recipe}/` keeps its small files: "
                + ", ".join(_code(name) for name in files) + ".", ""]

    out += ["## Results", "", results_section(recipe, page_src, heading="##"), ""]
    out += parts_section(recipe)
    out += choices_section(recipe)
    out += splits_section(recipe)
    out += xla_section(recipe)
    return "\n".join(out)


def benchmark_report(name: str) -> dict | None:
    path = BENCHMARKS / name
    return json.loads(path.read_text()) if path.exists() else None


def parts_section(recipe: str) -> list[str]:
    """Each part of an ensemble alone on validation, beside the whole, from results.json's
    ``model.validation_accuracy_alone`` (the sentiment recipes, mini_bert with a wide model)."""
    results = load_results(recipe) or {}
    model = results.get("model") if isinstance(results.get("model"), dict) else {}
    alone = model.get("validation_accuracy_alone")
    whole = (results.get("metrics") or {}).get("validation_accuracy")
    if not isinstance(alone, dict) or not _is_number(whole):
        return []
    members = model.get("members", 1)
    names = {"sequence_models": f"the {members} sequence model{'s' if members != 1 else ''}"
                                + (", averaged" if members != 1 else ""),
             "classifier": f"the {members} fine-tuned classifiers, averaged" if members != 1
                           else "the fine-tuned classifier",
             "wide_model": "the wide (linear) model"}
    rows = [[_value(names.get(part, part)), _value(score)] for part, score in alone.items()]
    rows.append(["**the ensemble (what the recipe saves)**", f"**{_value(whole)}**"])
    best_part = max(alone, key=alone.get)
    if alone[best_part] >= whole:
        verdict = (f"On validation {_value(names.get(best_part, best_part))} alone scores as high as the ensemble "
                   "or higher: on this data, averaging it with the other parts adds nothing validation can see.")
    else:
        verdict = "On validation the ensemble scores higher than any of its parts alone: the parts' errors differ."
    return ["## Each part alone", "",
            "The ensemble averages class probabilities. Here each part is scored alone on the validation "
            "split, in the same run (the test split is scored once, for the ensemble only):", "",
            _table(["part", "validation accuracy"], rows), "", verdict, "",
            f"Source: `results/{recipe}/results.json` (`model.validation_accuracy_alone`).", ""]


def choices_section(recipe: str) -> list[str]:
    """Every setting tried for the recipe's defaults, from benchmarks/results/choices_<recipe>.json."""
    from zoo.results import machine as results_machine

    report = benchmark_report(f"choices_{recipe}.json")
    if report is None:
        return []
    # The score the variants were compared on: validation accuracy, (a language model's) bits per character
    # or (a sequence-to-sequence model's) exact match.
    measure, key = next(((words, key) for prefix, words, key in (
        ("validation bits", "bits per character", "bits_per_character"),
        ("validation exact", "exact match", "exact_match")) if report["chosen_on"].startswith(prefix)),
        ("accuracy", "accuracy"))
    best = "lowest" if measure == "bits per character" else "best"
    # A second validation measure decides between equal scores where the report names one (choices.THEN_ON).
    then = report["chosen_on"].partition(", then ")[2].replace(" (lower is better)", "")
    then_key = then.replace(" ", "_")
    rows = [f"| variant | validation {measure} |{f' {then} |' if then else ''} test {measure} | epochs | seconds |",
            "| --- | --- | --- | --- | --- |" + " --- |" * bool(then)]
    budget = report.get("time_budget_s")   # a variant slower than a default run may be is not chosen
    for name, row in report["variants"].items():
        label = (f"**{_value(name)} (chosen)**" if name == report["chosen"]
                 else f"{_value(name)} (over the {budget:.0f} s budget)" if budget and row["seconds"] > budget
                 else _value(name))
        rows.append(f"| {label} | {_value(row['validation_' + key])} |"
                    f"{f' {_value(row[then_key])} |' if then else ''} {_value(row['test_' + key])} | "
                    f"{_value(row['epochs_run'])} | {_value(row['seconds'])} |")
    among = f"the lower {then}, then the simpler one, listed first" if then else "the simpler one, listed first"
    return ["## How the defaults were chosen", "",
            "Each variant below is a full run of this recipe with other flags. "
            + (f"Of those that took at most {budget:.0f} s, the most a default run may take, the one" if budget
               else "The one")
            + f" with the {best} validation {measure} became the default (among equals, {among}). "
            f"The test {measure} is shown so you can see what each choice would have scored, but nothing "
            "was chosen on it.", "", "\n".join(rows), "",
            f"Made by {_code(report['command'])} on {_value(results_machine(report))}; source: "
            f"`benchmarks/results/choices_{recipe}.json`."
            + "".join(f" Added later: {', '.join(_value(name) for name in added['variants'])}, by "
                      f"{_code(added['command'])} on {_value(results_machine(added))}."
                      for added in report.get("added", [])), ""]


def splits_section(recipe: str) -> list[str]:
    """The same comparison on other random splits, from benchmarks/results/splits_<recipe>.json."""
    from zoo.results import machine as results_machine

    report = benchmark_report(f"splits_{recipe}.json")
    if report is None:
        return []
    measure, summary = report["measure"], report["summary"]
    mean = summary["mean_gap"]
    # Seeds on one split: the zoo model's validation spread, the luck its variants were chosen with (reports from
    # before it was recorded have none; over other splits the validation parts differ, so it would mean little).
    fixed_split = report.get("seed_draws", "split and weights") == "weights"
    validation = summary.get("zoo_validation_range") if fixed_split else None
    rows = [[_value(row["seed"]), _value(row["zoo"]), _value(row["baseline"]), _value(f"{row['gap']:+.4f}"),
             *([_value(row["zoo_validation"])] if validation else []), _code(row["baseline_settings"])]
            for row in report["rows"]]
    if fixed_split:
        what, intro = "seeds", (
            "One training run is one draw. This recipe's split does not depend on `--seed`: here the full default "
            "run was repeated with other `--seed` values, each of which draws other initial weights and other "
            "dropout on the same train/validation/test parts, and the baseline was fitted again beside it (one "
            "that draws nothing, as an n-gram, is the same on every row).")
    else:
        what, intro = "splits", (
            "One test split is one draw. Here the full default run and its baseline were repeated with other "
            "`--seed` values, each of which draws another train/validation/test split (and other initial "
            "weights); the baseline chose its settings on each split's own validation data.")
    interval = summary.get("mean_gap_95")
    spread = (f" (95% interval of the mean over these {what}: {_value(f'{interval[0]:+.4f}')} to "
              f"{_value(f'{interval[1]:+.4f}')})") if interval else ""
    return [f"## On other {what}", "",
            f"{intro} The gap compares their {_value(measure)}: positive where the zoo model wins.", "",
            _table(["seed", f"zoo {_value(measure)}", f"baseline {_value(measure)}", "gap",
                    *(["zoo on validation"] if validation else []), "baseline settings"], rows), "",
            f"Over {_value(summary['splits'])} {what} the mean gap is **{_value(f'{mean:+.4f}')}**"
            f"{spread}; the zoo model wins {_value(summary['zoo_wins'])}, "
            f"the baseline {_value(summary['baseline_wins'])}, ties {_value(summary['ties'])}."
            + (f" On validation, where its settings were chosen, the zoo model scored from {_value(validation[0])} "
               f"to {_value(validation[1])}: variants closer than "
               f"{_value(round(validation[1] - validation[0], 4))} there may differ by luck alone." if validation
               else ""), "",
            f"Made by {_code(report['command'])} on {_value(results_machine(report))}; source: "
            f"`benchmarks/results/splits_{recipe}.json`.", ""]


def xla_section(recipe: str) -> list[str]:
    """Seconds per epoch with XLA off and on, and the recipe's choice, from benchmarks/results/xla.json."""
    from zoo.results import machine as results_machine

    report = benchmark_report("xla.json")
    entry = (report or {}).get("recipes", {}).get(recipe)
    if entry is None:
        return []
    rows = ["| training | s/epoch, XLA off | s/epoch, XLA on | speed-up | extra compile s | pays back |",
            "| --- | --- | --- | --- | --- | --- |"]
    for tag, row in entry["trainings"].items():
        rows.append(f"| {_value(tag)} | {_value(row['off']['median_after_first'])} | "
                    f"{_value((row['on'] or {}).get('median_after_first'))} | {_value(row.get('speedup'))} | "
                    f"{_value(row.get('extra_compile_s'))} | {_value(row.get('xla_pays'))} |")
    return ["## Speed: XLA on or off", "",
            f"On a CPU Keras leaves XLA off. Measured for this recipe (steady-state seconds per epoch; the "
            f"first epoch, which compiles, apart), XLA is **{_value(entry['decision'])}** by default: it is "
            f"turned on only where it is at least {_value(report['min_speedup'])}x faster and the compile time "
            "is paid back within the epochs of the committed run. `--jit-compile on|off|auto` overrides it.", "",
            "\n".join(rows), "",
            f"Made by {_code(entry.get('command', report['command']))} on {_value(results_machine(report))}; source: "
            "`benchmarks/results/xla.json`.", ""]


# ------------------------------------------------------------- the Performance page

SPEED_FIGURE, FOOTPRINT_FIGURE = "performance/speed.png", "performance/footprint.png"
SPEED_COMMAND, FOOTPRINT_COMMAND = "python benchmarks/speed.py", "python benchmarks/footprint.py"


def hardware(report: dict) -> str:
    """'2-core AMD EPYC (cpu:0), Keras 3.15.1 (tensorflow)': the machine of a benchmark's JSON."""
    from zoo.results import machine as results_machine

    environment = report.get("environment") or {}
    cpu, gpus = environment.get("cpu") or {}, environment.get("gpus") or []
    if not cpu:
        return results_machine(report)
    packages = environment.get("packages") or {}
    on = f"{', '.join(gpus)} with a " if gpus else ""
    return (f"{on}{cpu.get('cores', '?')}-core {cpu.get('model', '?')} CPU, Keras {packages.get('keras', '?')} "
            f"({environment.get('keras_backend', '?')})")


def _table_code(value: str) -> str:
    from zoo.results import markdown_code

    return markdown_code(value, in_table=True)


def _against(target: dict | None, text: str, percent: bool = False) -> str:
    """A measured value's text, and whether it met its target (when it has one)."""
    if not target:
        return text
    goal = f"{target['target']:.0%}" if percent else _value(target["target"])
    return f"{text} (target {goal}: {'met' if target['met'] else '**missed**'})"


def _rate(value: float) -> str:
    """Samples per second: whole numbers with separators, or three digits below 100 (style steps)."""
    return f"{value:,.0f}" if value >= 100 else f"{value:.3g}"


def speed_section(page_src: str) -> str:
    """Each entry's training speed against its twin and the machine, from benchmarks/results/speed.json."""
    report = benchmark_report("speed.json")
    if report is None:
        return f"No speed benchmark is committed yet: run {_code(SPEED_COMMAND)}."
    peaks = report["matmul_peak"]
    rows = []
    for name, row in report["entries"].items():
        summary, speed = row["summary"], row["variants"]
        targets = summary["targets"]
        rows.append([_code(name), _rate(speed["zoo"]["samples_per_s"]), _rate(speed["twin"]["samples_per_s"]),
                     _against(targets.get("twin_ratio"), f"{summary['twin_ratio']:.3f}"),
                     f"{row['training_flops_per_sample'] / 1e9:.3g}",
                     f"{summary['achieved_flops_per_s'] / 1e9:.3g}",
                     _against(targets.get("fraction_of_float32_peak"),
                              f"{summary['fraction_of_float32_peak']:.1%}", percent=True),
                     f"{summary['bfloat16_speedup']:.2f}x", f"{summary['jit_speedup']:.2f}x"])
    table = _table(["entry", "samples/s", "twin samples/s", "zoo / twin", "GFLOP per sample", "GFLOP/s",
                    "of the float32 peak", "bfloat16 vs float32", "XLA vs not"], rows)
    features = report["environment"].get("cpu", {}).get("features") or []
    ratio = peaks["bfloat16"]["flops_per_s"] / peaks["float32"]["flops_per_s"]
    units = ("This CPU has bfloat16 matrix units (AMX), so bfloat16 should train at least twice as fast."
             if report["bfloat16_matrix_units"] else
             "This CPU has no bfloat16 matrix units (no AMX; its features: "
             f"{', '.join(_code(f) for f in features) or 'none recorded'}). Its vector units make a large "
             f"bfloat16 matrix product {ratio:.2f}x as fast as a float32 one, so even the products alone could "
             "not train twice as fast. The 2x target applies to CPUs with matrix units, and the column shows "
             "what the 16-bit policy gains or costs on this one, casts and all.")
    return "\n".join([
        f"Measured on {_value(hardware(report))}. Each run also measures the matrix-product peak, and "
        "each entry is compared with its own run's; the latest: "
        f"**{peaks['float32']['flops_per_s'] / 1e9:.1f} GFLOP/s** in float32 and "
        f"{peaks['bfloat16']['flops_per_s'] / 1e9:.1f} GFLOP/s in bfloat16 "
        f"({peaks['float32']['size']}x{peaks['float32']['size']} products).", "",
        table, "",
        figure_link(SPEED_FIGURE, page_src, "training speed of each entry against its twin and the machine"), "",
        units, "",
        f"Made by {made_by(report)}; {report['rounds']} timed epochs per variant, the fastest; "
        "source: `benchmarks/results/speed.json`."])


def made_by(report: dict) -> str:
    """The commands that wrote a benchmark's entries: the whole run's, then any entry measured again alone."""
    commands = dict.fromkeys([report["command"], *(row.get("command", report["command"])
                                                   for row in report["entries"].values())])
    return ", then ".join(_code(command) for command in commands)


def footprint_section(page_src: str) -> str:
    """Cold starts and each recipe's peak memory, from benchmarks/results/footprint.json."""
    report = benchmark_report("footprint.json")
    if report is None:
        return f"No footprint benchmark is committed yet: run {_code(FOOTPRINT_COMMAND)}."
    # Rows kept from an earlier run on another machine carry their own environment (footprint.merged).
    mixed = any("environment" in row for section in ("cold_start", "peak_memory") for row in report[section].values())
    where = (lambda row: [_value(hardware(row if "environment" in row else report))]) if mixed else (lambda row: [])
    starts = _table(["what starts", "seconds (median)", "command", *(["machine"] if mixed else [])],
                    [[_value(label), _seconds(row["median_s"]), _table_code(row["command"]), *where(row)]
                     for label, row in report["cold_start"].items()])
    memory = _table(["recipe (full default run)", "peak memory", "seconds", "command", *(["machine"] if mixed else [])],
                    [[_code(recipe), f"{row['peak_rss_mib']:,.0f} MiB", _seconds(row["wall_s"]),
                      _table_code(row["command"]), *where(row)] for recipe, row in report["peak_memory"].items()])
    measured = ("Measured on the machine each row names" if mixed
                else f"Measured on {_value(hardware(report))}")
    return "\n".join([
        f"{measured}, each in a fresh Python process.", "",
        "### Cold start", "", starts, "",
        "### Peak memory of each recipe", "", memory, "",
        figure_link(FOOTPRINT_FIGURE, page_src, "cold starts and peak memory"), "",
        f"Made by {_code(report['command'])}; source: `benchmarks/results/footprint.json`."])


def quick_runs_section(page_src: str) -> str:
    """Each recipe's --quick against the goal of a minute, from benchmarks/results/quick_runs.json."""
    report = benchmark_report("quick_runs.json")
    if report is None:
        return f"No smoke-test timing is committed yet: run {_code('python benchmarks/quick_runs.py')}."
    goal = report["goal_s"]
    rows = [[_code(recipe), _seconds(row["wall_s"]), f"{row['peak_rss_mib']:,.0f} MiB",
             "met" if row["goal_met"] else "**missed**", _table_code(row["command"])]
            for recipe, row in report["quick_runs"].items()]
    return "\n".join([
        f"Measured on {_value(hardware(report))}, one recipe at a time, each in a fresh Python process.", "",
        _table(["recipe", "--quick seconds", "peak memory", f"under {goal:.0f} s", "command"], rows), "",
        f"Made by {_code(report['command'])}; source: `benchmarks/results/quick_runs.json`."])


def gpu_checks() -> dict[str, dict]:
    """Every committed benchmarks/results/gpu_check-<device>.json, by file name."""
    return {path.name: json.loads(path.read_text()) for path in sorted(BENCHMARKS.glob("gpu_check-*.json"))}


def gpu_section(page_src: str) -> str:
    """The GPU check's numbers per entry and precision, from each committed gpu_check JSON."""
    reports = gpu_checks()
    if not reports:
        return ("No GPU run is committed yet. On a GPU machine, "
                f"{_code('KERAS_BACKEND=jax python benchmarks/gpu_check.py')} writes "
                "`benchmarks/results/gpu_check-<device>.json`, and this section shows it.")
    out = []
    for file_name, report in reports.items():
        rows = [[_code(name), _value(policy), _rate(row["samples_per_s"]),
                 f"{row['tflops_per_s']:.3g}", f"{row['fraction_of_peak']:.1%}"]
                for name, policies in report["entries"].items() for policy, row in policies.items()]
        peaks = ", ".join(f"{_value(policy)} {peak['flops_per_s'] / 1e12:.1f} TFLOP/s"
                          for policy, peak in report["matmul_peak"].items())
        out += [f"### {_value(report['device_kind'])}", "",
                f"{len(report['devices'])} device(s), {_value(hardware(report))}; matrix-product peak {peaks}.",
                "", _table(["entry", "policy", "samples/s", "TFLOP/s", "of the peak"], rows), "",
                f"Made by {_code(report['command'])}; source: `benchmarks/results/{file_name}`.", ""]
    return "\n".join(out)


def measured_table(page_src: str) -> str:
    """What was measured on which hardware: every committed benchmark JSON, with its machine and command."""
    rows = []
    for path in sorted(BENCHMARKS.glob("*.json")):
        report = json.loads(path.read_text())
        if "environment" not in report:
            continue  # the mutation report measures the tests, on no particular hardware
        what = (report.get("benchmark") or path.stem).removeprefix("benchmarks/")
        rows.append([_code(what), _value(hardware(report)), _table_code(report.get("command", "")),
                     f"`benchmarks/results/{path.name}`"])
    return _table(["benchmark", "hardware", "command", "source"], rows)


# ------------------------------------------------------------- directives in hand pages

def models_table(page_src: str) -> str:
    import zoo

    base = posixpath.relpath(MODELS_DIR, posixpath.dirname(page_src) or ".")
    rows = ["| model | task | what it is | paper |", "| --- | --- | --- | --- |"]
    for name in model_names():
        spec = zoo.info(name)
        paper = f"[{spec.paper.authors} {spec.paper.year}]({spec.paper.link})" if spec.paper else ""
        rows.append(f"| [`{name}`]({base}/{name}.md) | `{spec.task}` | {_cell(spec.summary)} | "
                    f"{_cell(paper)} |")
    return "\n".join(rows)


def baseline_short(results: dict) -> str:
    """'SVC (RBF kernel): test accuracy 0.9889': the baseline's name and the number it is compared on."""
    from zoo.results import baseline_headline, versus

    compared, name = versus(results), (results.get("baseline") or {}).get("name")
    if compared is None or not isinstance(name, str) or not math.isfinite(compared[1]):
        return baseline_headline(results)
    return f"{name}: {compared[3]} {number_text(compared[1], 'accuracy' if 'accuracy' in compared[3] else '')}"


def recipes_table(page_src: str) -> str:
    """Each recipe in learning order with what its committed run measured, its baseline's result and who won."""
    from zoo.recipes import summaries
    from zoo.results import headline, verdict

    base = posixpath.relpath(RECIPES_DIR, posixpath.dirname(page_src) or ".")
    rows = ["| recipe | what it does | result of the committed run | baseline, same run and split | better |",
            "| --- | --- | --- | --- | --- |"]
    for recipe, summary in summaries().items():
        results = load_results(recipe)
        if results is None:
            result, baseline, better = "no committed run yet", "", ""
        else:
            quick = "smoke test (`--quick`): " if (results.get("flags") or {}).get("quick") else ""
            result = quick + _value(headline(results))
            baseline, better = _value(baseline_short(results)), _value(verdict(results))
        rows.append(f"| [`{recipe}`]({base}/{recipe}.md) | {_cell(summary)} | {result} | {baseline} | {better} |")
    return "\n".join(rows)


def readme_setup() -> str:
    """The commands of the README's set-up block, verbatim, one fenced block each (one copy button per command).

    A comment line above a command (``# 1. Install, then ...``) becomes the text before its block.
    """
    readme = (REPO / "README.md").read_text()
    match = re.search(r"^## Set-up[^\n]*\n(.*?)^```bash\n(.*?)^```", readme, re.S | re.M)
    if not match:
        raise RuntimeError("README.md has no '## Set-up' section with a ```bash block; the docs copy it from there.")
    blocks, about = [], ""
    for line in match.group(2).splitlines():
        if line.startswith("#"):
            about = line.lstrip("#").strip()
        elif line.strip():
            blocks += ([f"**{about}**"] if about else []) + [f"```bash\n{line}\n```"]
            about = ""
    return "\n\n".join(blocks)


def factory_reference() -> str:
    """mkdocstrings blocks for every registered factory, in the order of ``zoo.list_models()`` (api.md says so)."""
    import zoo

    blocks = []
    for name in zoo.list_models():
        factory = zoo.info(name).factory
        blocks.append(f"::: {factory.__module__}.{factory.__qualname__}")
    return "\n\n".join(blocks)


def embedded_data() -> str:
    from zoo import data

    rows = ["| name | what ships |", "| --- | --- |"]
    rows += [f"| `{name}` | {_cell(text)} |" for name, text in data.EMBEDDED.items()]
    return "\n".join(rows)


def photos() -> str:
    from zoo import data

    return ", ".join(f"`{name}`" for name in data.PHOTOS)


# Captions of the concept figures (<!-- zoo:figure NAME -->) that docs/scripts/figures.py computes.
CONCEPT_CAPTIONS = {
    "activations": "The output of a zoo perceptron with one input, weight 1 and bias 0, for each activation: "
                   "what each personality does with a weighted sum",
    "conv_edge": "A Keras Conv2D with a horizontal-edge kernel scans a 6x6 image: the feature map is large "
                 "where the window straddles the edge and zero elsewhere",
    "gradient_descent": "Keras optimizers walking down the same 2-D loss surface: plain SGD with a small and a "
                        "large learning rate, and Adam",
}

_DIRECTIVE = re.compile(r"<!-- zoo:([a-z_-]+)(?: ([a-z0-9_]+))? -->")
# Directives that show one recipe's run, model or figure, and name it: <!-- zoo:attention mini_transformer -->.
_NAMED = ("results", "run", "figure", "diagram", "curves", "stylized", "attention", "filters", "sample", "alignment")
_FIGURE_KINDS = {"curves": "curves", "stylized": "trio", "attention": "attention", "filters": "filters",
                 "alignment": "alignment"}
_RECORDS = {"curves": "no history*.csv", "trio": 'no "images" naming content, style and stylized files',
            "attention": 'no "attention_example" file', "filters": 'no "filters_example" file',
            "alignment": 'no "alignment_example" file'}


def expand(markdown: str, page_src: str) -> str:
    """Replace ``<!-- zoo:NAME [ARG] -->`` markers in a hand-written page with generated Markdown."""

    def replace(match: re.Match) -> str:
        directive, argument = match.group(1), match.group(2)
        if directive in _NAMED and not argument:
            raise ValueError(f"{page_src}: <!-- zoo:{directive} --> needs a name, "
                             f"e.g. <!-- zoo:{directive} mlp -->")
        if directive == "models-table":
            return models_table(page_src)
        if directive == "recipes-table":
            return recipes_table(page_src)
        if directive == "readme-setup":
            return readme_setup()
        if directive == "factories":
            return factory_reference()
        if directive == "embedded-data":
            return embedded_data()
        if directive == "photos":
            return photos()
        if directive == "speed":
            return speed_section(page_src)
        if directive == "footprint":
            return footprint_section(page_src)
        if directive == "quick-runs":
            return quick_runs_section(page_src)
        if directive == "gpu-check":
            return gpu_section(page_src)
        if directive == "measured":
            return measured_table(page_src)
        if directive == "results":      # metrics and provenance
            return results_section(argument, page_src, heading="###", figures=False)
        if directive == "run":          # metrics, provenance and the run's figures
            return results_section(argument, page_src, heading="###")
        if directive == "figure":
            # A figure of real computation, made by the figure script.
            caption = CONCEPT_CAPTIONS.get(argument, argument.replace("_", " "))
            return f"{figure_link(argument.replace('_', '-') + '.png', page_src, caption)}\n\n*{caption}.*"
        if directive == "diagram":
            return figure_link(model_diagram(argument), page_src, f"{argument} model diagram")
        if directive == "sample":
            return sample_section(argument)
        if directive in _FIGURE_KINDS:
            return run_figure(argument, _FIGURE_KINDS[directive], page_src)
        raise ValueError(f"{page_src}: unknown directive <!-- zoo:{directive} -->")

    return _DIRECTIVE.sub(replace, markdown)


def sample_section(recipe: str) -> str:
    """The text a committed text-generation run wrote from its prompt, as it wrote it, with how to make more."""
    results = load_results(recipe)
    sample = (results or {}).get("sample")
    if not isinstance(sample, dict) or not isinstance(sample.get("text"), str):
        return f"No committed run of `zoo.recipes.{recipe}` with a sample exists yet, so there is no text to show here."
    # A fence longer than any run of backticks in the text keeps the text as it is.
    fence = "`" * max(3, 1 + max((len(run) for run in re.findall("`+", sample["text"])), default=0))
    text = sample["prompt"] + sample["text"]
    command = "zoo generate RUN_DIR --prompt " + json.dumps(sample["prompt"])
    return (f"{fence}text\n{text}\n{fence}\n\n*The first {sample['length']} characters the committed {recipe} run "
            f"wrote after the prompt {_code(sample['prompt'])}, at temperature {sample['temperature']} (seed "
            f"{sample['seed']}); {_code(command)} writes more from a run folder of your own.*")


def run_figure(recipe: str, kind: str, page_src: str) -> str:
    """One figure of the committed run of ``recipe`` with the command that measured it, or why there is none."""
    results = load_results(recipe)
    if results is None:
        return f"No committed run of `zoo.recipes.{recipe}` exists yet, so there is no figure to show here."
    for figure in result_figures(recipe):
        if figure.kind == kind:
            where = f" Measured by {_code(results['command'])}"
            where += f", finished {_value(results['finished'])}." if results.get("finished") else "."
            extra = {"attention": attention_caption, "filters": filters_caption}.get(kind, lambda _: "")(recipe)
            times = training_times(results) if kind == "curves" else ""
            extra += f"\n\n{times}" if times else ""
            return f"{figure_link(figure.path, page_src, figure.caption)}\n\n*{figure.caption}.{where}*{extra}"
    return (f"The committed run of `zoo.recipes.{recipe}` records {_RECORDS[kind]}, "
            "so there is no figure to show here.")


def _named_record(recipe: str, key: str, what: str, form: str, read):
    """``(file name, record, read(record))`` of the JSON file a committed run's results.json names under ``key``.

    ``read`` pulls out (and so checks) what the caller needs; a missing file, bad JSON or a record ``read``
    cannot take is a ValueError naming the file and saying to rerun the recipe.
    """
    results = load_results(recipe) or {}
    name = results.get(key)
    path = run_file(recipe, name)
    if path is None:
        raise ValueError(f"results/{recipe}/results.json names no {what} file that exists ({key}: {name!r})")
    try:
        record = json.loads(path.read_text())
        return name, record, read(record)
    except (ValueError, TypeError, KeyError) as error:
        article = "an" if what[0] in "aeiou" else "a"
        raise ValueError(f"results/{recipe}/{name} is not {article} {what} ({form}): {error!r}; "
                         f"rerun python -m zoo.recipes.{recipe}") from None


def attention_example(recipe: str) -> tuple[str, dict]:
    """The attention example a committed run names (``"attention_example"``): its file name and record.

    The record holds ``tokens`` and a square ``weights`` matrix (one row per
    token), and may hold the ``text``, its ``label``, the ``prediction``.
    """
    def read(record):
        return list(record["tokens"]), [list(map(float, row)) for row in record["weights"]]

    name, record, (tokens, weights) = _named_record(recipe, "attention_example", "attention example",
                                                    "JSON with tokens and a weights matrix", read)
    if not tokens or len(weights) < len(tokens) or any(len(row) < len(tokens) for row in weights):
        raise ValueError(f"results/{recipe}/{name}: {len(tokens)} tokens need a weights matrix at least "
                         f"{len(tokens)}x{len(tokens)}; rerun python -m zoo.recipes.{recipe}")
    return name, {**record, "tokens": tokens, "weights": weights}


def alignment_example(recipe: str) -> tuple[str, list[dict]]:
    """The alignment examples a committed sequence-to-sequence run names (``"alignment_example"``).

    Each example holds the ``written`` input, the ``answer`` the model wrote, and ``weights``:
    one row per answer character, one weight per written character.
    """
    def read(record):
        examples = [{**example, "weights": [list(map(float, row)) for row in example["weights"]]}
                    for example in record["examples"]]
        for example in examples:
            if (len(example["weights"]) != len(example["answer"])
                    or {len(row) for row in example["weights"]} != {len(example["written"])}):
                raise ValueError(f"{example['written']!r}: the weights must be {len(example['answer'])} rows of "
                                 f"{len(example['written'])}")
        return examples

    name, _, examples = _named_record(recipe, "alignment_example", "alignment example",
                                      "JSON with examples of written text, answer and weights", read)
    if not examples:
        raise ValueError(f"results/{recipe}/{name} holds no examples; rerun python -m zoo.recipes.{recipe}")
    return name, examples


def filters_example(recipe: str) -> tuple[str, dict]:
    """The first-layer record a committed ConvNet run names (``"filters_example"``): its file name and record.

    The record holds the ``digit`` (a square grid), the learned ``kernels``, one
    ``feature_maps`` grid per kernel, the ``hand_made_edge`` kernel and its map of the
    same digit, and may hold the ``label``, the ``prediction`` and ``closest_to_hand_made``.
    """
    def read(record):   # every grid is rows of numbers
        for grid in (record["digit"], *record["kernels"], *record["feature_maps"], record["hand_made_edge"]["kernel"],
                     record["hand_made_edge"]["feature_map"]):
            [list(map(float, row)) for row in grid]

    name, record, _ = _named_record(recipe, "filters_example", "filters record", "JSON with a digit, kernels, feature "
                                    "maps and the hand-made edge filter", read)
    if not record["kernels"] or len(record["kernels"]) != len(record["feature_maps"]):
        raise ValueError(f"results/{recipe}/{name}: {len(record['kernels'])} kernels but "
                         f"{len(record['feature_maps'])} feature maps; rerun python -m zoo.recipes.{recipe}")
    return name, record


def filters_caption(recipe: str) -> str:
    """The digit's label and prediction, and which learned filter is closest to the hand-made one."""
    name, record = filters_example(recipe)
    facts = [f"{key.replace('_', ' ')}: {_code(record[key])}"
             for key in ("label", "prediction", "probability", "chosen_as") if key in record]
    closest = record.get("closest_to_hand_made")
    text = "; ".join(facts) + f" (from {_code(f'results/{recipe}/{name}')})."
    if isinstance(closest, dict) and {"filter", "cosine"} <= set(closest):
        sign = "the same pattern" if closest["cosine"] > 0 else "the same pattern with its sign flipped"
        text += (f" Of the {len(record['kernels'])} learned filters, number {closest['filter']} is the most like "
                 f"the hand-made edge filter: {sign}, cosine similarity {closest['cosine']:.2f} (1 is identical up "
                 "to scale).")
    return "\n\n" + text


def attention_caption(recipe: str) -> str:
    """The example's text, label, prediction and the spread of the weights, from its attention file."""
    name, record = attention_example(recipe)
    facts = [f"{key.replace('_', ' ')}: {_code(record[key])}"
             for key in ("label", "prediction", "probability", "chosen_as") if key in record]
    count = len(record["tokens"])
    weights = [weight for row in record["weights"][:count] for weight in row[:count]]
    spread = (f"The colour scale runs from 0 to the largest weight, {max(weights):.4f}; the weights lie between "
              f"{min(weights):.4f} and {max(weights):.4f}, and attention spread evenly over these {count} tokens "
              f"would give each {1 / count:.4f}.")
    parts = [f"> {_value(record.get('text', ''))}"]
    if facts:
        parts.append("; ".join(facts) + f" (from {_code(f'results/{recipe}/{name}')}).")
    return "\n\n" + "\n\n".join(parts + [spread])
