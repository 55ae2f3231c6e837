"""MODEL_CARD.md: a run folder described for a reader, from its results.json, the registry and zoo.weights.

    from zoo import model_card, results
    print(model_card.render(results.read("runs/mlp/results.json")))   # Markdown
    model_card.write("runs/mlp")        # runs/mlp/MODEL_CARD.md; Run.finish does this for every run

The card says what the model is (the registry entry's summary and paper, the
recipe and its settings), the data and its split, the result beside the
baseline trained in the same run and which is better (``zoo.results.verdict``),
the pretrained weights used (``zoo.weights``), the command, machine and date,
and what the model is for and where it stops being trustworthy. Every label is
words: no raw JSON key reaches the card (``raw_keys`` finds them, and the site
check uses the same detector).

What a recipe's model is for, and its limits, belong to the recipe: each
declares a ``Use`` (with the flag values its text describes) and passes it to
``Run.finish``, which keeps it in results.json; a run with other data or
settings gets the text with a warning saying which flags differ.
"""

from __future__ import annotations

import dataclasses
import math
import re
from pathlib import Path

from zoo.files import atomic_write_text

CARD_FILE = "MODEL_CARD.md"
RESULTS_FILE = "results.json"


# ------------------------------------------------------------------ raw JSON keys

# A dotted identifier path: 2+ segments of letters, digits, '_' or '-', each starting with a letter or '_'.
# Numbers (0.9972, 3.15.1) start with a digit, so they are never one; a sentence's full stop is not a segment.
_DOTTED = re.compile(r"(?<![\w.-])[A-Za-z_][\w-]*(?:\.[A-Za-z_][\w-]*)+(?![\w-]|\.\w)")


def key_paths(*documents) -> frozenset[str]:
    """Every chain of 2+ nested keys in ``documents`` (results.json objects), joined by dots.

    Chains start at any depth: ``{"metrics": {"arms": {"pretrained": {"features_cached": ...}}}}``
    gives ``metrics.arms``, ``arms.pretrained``, ``arms.pretrained.features_cached`` and the rest.
    Lists are looked through (``baseline.candidates`` holds objects with ``settings``).
    """
    chains: set[str] = set()

    def walk(value, path: tuple[str, ...]) -> None:
        if isinstance(value, dict):
            for key, item in value.items():
                below = (*path, str(key))
                chains.update(".".join(below[start:]) for start in range(len(below) - 1))
                walk(item, below)
        elif isinstance(value, list):
            for item in value:
                walk(item, path)

    for document in documents:
        walk(document, ())
    return frozenset(chains)


def raw_keys(text: str, paths) -> list[str]:
    """The dotted identifiers in ``text`` that are key chains in ``paths`` (``key_paths``), in order.

    ``initial_losses.content`` is one when a results.json nests ``content`` in
    ``initial_losses``; module names (``zoo.recipes.mlp``), file names
    (``results.json``) and numbers are not, as no results.json nests those keys.
    """
    return [match for match in _DOTTED.findall(text) if match in paths]


def is_raw_key(cell: str, paths) -> bool:
    """True when the whole of a table cell's text is one raw key chain (``raw_keys``)."""
    text = cell.strip()
    return bool(text) and raw_keys(text, paths) == [text]


# ------------------------------------------------------------------ per-recipe use and limits

@dataclasses.dataclass(frozen=True)
class Use:
    """What a recipe's trained model is for and its limits, and the flag values that text describes."""

    intended_use: str
    limits: tuple[str, ...]
    written_for: dict   # flag -> value; a run with another value gets a warning beside the text

    def record(self) -> dict:
        """What results.json keeps under ``"use"``."""
        return {"intended_use": self.intended_use, "limits": list(self.limits), "written_for": dict(self.written_for)}


def use_of(results: dict) -> tuple[str, list[str], str | None]:
    """(intended use, limits, a warning or None) for a run, as its recipe recorded them (``Use.record``).

    The warning names the flags of this run that differ from those the text was written for.
    """
    use = results.get("use")
    if not (isinstance(use, dict) and isinstance(use.get("intended_use"), str)
            and isinstance(use.get("limits"), list)):
        return ("Not recorded: the recipe states no intended use.", [
            "No limits are recorded; judge them from the data and the result above."], None)
    flags, written_for = results.get("flags") or {}, use.get("written_for") or {}
    differ = [f"--{flag.replace('_', '-')} {flags[flag]} (written for {value})"
              for flag, value in written_for.items() if flag in flags and flags[flag] != value]
    warning = (f"This text was written for the recipe's default run; this run used {', '.join(differ)}, "
               "so it describes this run only in part." if differ else None)
    return use["intended_use"], [str(limit) for limit in use["limits"]], warning


# ------------------------------------------------------------------ rendering

# Labels for the keys a results.json uses; any other key becomes its words (test_accuracy -> test accuracy).
_LABELS = {"dataset": "Dataset", "source": "Source", "num_classes": "Number of classes",
           "class_names": "Class names", "train": "Training examples", "validation": "Validation examples",
           "test": "Test examples", "content": "Content picture", "style": "Style picture",
           "content_shape": "Content picture size", "style_shape": "Style picture size",
           "arguments": "Arguments", "params": "Parameters", "members": "Sequence models averaged",
           "wide_ngrams": "Longest n-gram of the wide model", "thesaurus": "Thesaurus categories in the wide model",
           "wide_characters": "Longest character n-gram of the wide model",
           "validation_accuracy_alone": "Validation accuracy of each part alone"}
_SPLITS = (("train", "training", "fitting the weights"),
           ("validation", "validation", "choices made in the run"),
           ("test", "test", "the reported result, measured once, at the end"))


def _words(key) -> str:
    """A key in words: ``test_accuracy`` -> ``test accuracy``."""
    return str(key).replace("_", " ").replace("-", " ")


def _label(key) -> str:
    """What a data or model key means (``train`` -> ``Training examples``), else its words, capitalised."""
    words = _words(key)
    return _LABELS.get(str(key), words[:1].upper() + words[1:])


def _text(value) -> str:
    """A recorded value as inert Markdown on one line: yes/no for booleans, lists and objects spelled out."""
    from zoo.results import markdown_text

    if isinstance(value, bool):
        return "yes" if value else "no"
    if value is None:
        return "none"
    if isinstance(value, int):
        return f"{value:,}"
    if isinstance(value, list):
        return ", ".join(_text(item) for item in value)
    if isinstance(value, dict):
        return ", ".join(f"{_words(key)} {_text(item)}" for key, item in value.items())
    return markdown_text(value)


def _flag(name: str) -> str:
    return f"`--{name.replace('_', '-')}`"


def _measurements(metrics: dict, above: tuple[str, ...] = ()) -> list[tuple[str, object]]:
    """Nested metrics as (label in words, value): ``arms → pretrained → test accuracy``."""
    rows = []
    for key, value in metrics.items():
        path = (*above, _words(key))
        if isinstance(value, dict):
            rows += _measurements(value, path)
        else:
            rows.append((" → ".join(path), value))
    return rows


def _models_of(recipe: str) -> list:
    """The registry entries the recipe trains (``ModelSpec.recipe`` names it)."""
    from zoo import registry

    import zoo.models  # noqa: F401  (the entries, registered)

    return [registry.info(name) for name in registry.trained_by(recipe)]


def _model_section(results: dict, recipe: str) -> list[str]:
    from zoo.registry import recipe_summaries

    out = []
    for spec in _models_of(recipe):
        out += [f"- **Zoo entry:** `{spec.name}`: {spec.summary}", f"- **Task:** {_words(spec.task)}"]
        if spec.paper:
            out.append(f"- **Paper:** [{spec.paper}]({spec.paper.link})" if spec.paper.link
                       else f"- **Paper:** {spec.paper}")
        out += [f"- **Inputs:** {spec.inputs}", f"- **Outputs:** {spec.outputs}"]
    if not out:
        out.append("- **Zoo entry:** none registered for this recipe")
    summary = recipe_summaries().get(recipe)
    out.append(f"- **Recipe:** `python -m zoo.recipes.{recipe}`" + (f": {summary}" if summary else ""))
    model = results.get("model")
    if isinstance(model, dict):
        out += [f"- **{_label(key)}:** {_model_fact(key, value)}" for key, value in model.items()]
    tuning = results.get("tuning")
    if isinstance(tuning, dict) and tuning.get("best"):
        out.append(f"- **Tuned with KerasTuner; best:** {_text(tuning['best'])}")
    flags = results.get("flags") or {}
    if flags:
        out += ["", "The recipe's settings in this run:", "", "| flag | value |", "| --- | --- |"]
        out += [f"| {_flag(name)} | {_text(value)} |" for name, value in flags.items()]
    return out


def _model_fact(key, value) -> str:
    if key == "arguments" and isinstance(value, dict):
        return ", ".join(f"`{name}={item!r}`" for name, item in value.items())
    if key == "params" and isinstance(value, int):
        return f"{value:,}"
    return _text(value)


def _data_section(results: dict) -> list[str]:
    data = results.get("data")
    if not isinstance(data, dict) or not data:
        return ["The run recorded nothing about its data."]
    split = {key for key, _, _ in _SPLITS if isinstance(data.get(key), int)}
    out = [f"- **{_label(key)}:** {_data_value(key, value)}" for key, value in data.items() if key not in split]
    if split:
        out += ["", "| split | examples | used for |", "| --- | --- | --- |"]
        out += [f"| {label} | {data[key]:,} | {purpose} |" for key, label, purpose in _SPLITS if key in split]
    return out


def _data_value(key: str, value) -> str:
    from zoo.results import markdown_code

    if key == "dataset":
        return markdown_code(value)
    if key.endswith("_shape") and isinstance(value, list):   # (height, width, channels)
        return " x ".join(map(_text, value))
    if key == "class_names" and isinstance(value, list):
        # A character vocabulary holds blanks: each shown so a reader sees it (the padding id's "" too).
        return ", ".join(_text(_class_name(str(name))) for name in value)
    return _text(value)


def _class_name(name: str) -> str:
    """A class name as a reader can see it: ``""`` is the padding id; blanks and line breaks are escaped."""
    if name == "":
        return "(padding)"
    return name if name.isprintable() and name.strip() == name else repr(name)


def _result_section(results: dict) -> list[str]:
    from zoo.results import baseline_headline, headline, versus, verdict

    out = [f"**Result:** {_text(headline(results))}.", "",
           f"**Baseline, the classic choice, made in the same run on the same data:** "
           f"{_text(baseline_headline(results))}.", ""]
    compared = versus(results)
    if compared is not None:
        ours, theirs, higher_is_better, measure = compared
        baseline_name = (results.get("baseline") or {}).get("name", "baseline")
        out += [f"| model | {measure} ({'higher' if higher_is_better else 'lower'} is better) |", "| --- | --- |",
                f"| zoo: {_text(results.get('recipe', '?'))} | {_number(ours)} |",
                f"| baseline: {_text(baseline_name)} | {_number(theirs)} |", ""]
    out.append(f"**Better:** {_text(verdict(results))}.")
    metrics = results.get("metrics")
    if isinstance(metrics, dict) and metrics:
        out += ["", "Every measurement the run recorded:", "", "| measurement | value |", "| --- | --- |"]
        out += [f"| {_text(label)} | {_text(value)} |" for label, value in _measurements(metrics)]
    return out


def _number(value: float) -> str:
    from zoo.results import not_finite

    return f"{value:.4g}" if math.isfinite(value) else not_finite(value)


def _weights_section(results: dict, recipe: str) -> list[str]:
    flags = results.get("flags") or {}
    recorded = results.get("weights")
    if "weights" not in flags:
        return ["No pretrained weights: every weight was learnt in this run, from random initialisation."]
    chosen = flags["weights"]
    out = []
    if chosen in (None, "none", "None"):
        out.append("- **Weights:** none: random initialisation (`--weights None`)")
    for entry in _weights_entries(chosen, flags, recipe):
        out += [f"- **Weights:** `{entry.name}`, for {entry.architecture.upper()}",
                f"- **Trained on:** {_text(entry.trained_on)}",
                f"- **Source:** {_text(entry.source)}",
                f"- **Licence:** {_text(entry.licence)}",
                f"- **Input they expect:** {_text(entry.preprocessing)}",
                f"- **Network needed:** {'never' if entry.offline else 'once, to fill the Keras cache'}"]
    if not out:
        out.append(f"- **Weights:** a weights file: {_text(chosen)}")
    if isinstance(recorded, str) and recorded:
        out.append(f"- **As the run recorded them:** {_text(recorded)}")
    return out


def _weights_entries(chosen, flags: dict, recipe: str) -> list:
    """The ``zoo.weights`` entries ``--weights`` named, on the architecture the run used."""
    from zoo import weights

    if chosen not in weights.NAMED:
        return []
    found = []
    for spec in _models_of(recipe):
        architecture = flags.get("backbone", spec.defaults.get("backbone"))
        found += [entry for entry in spec.weights
                  if entry.name == chosen and architecture in (None, entry.architecture) and entry not in found]
    return found[:1] if found else [entry for entry in weights.ENTRIES if entry.name == chosen][:1]


def _provenance_section(results: dict) -> list[str]:
    from zoo.results import machine, markdown_code

    environment = results.get("environment") or {}
    packages = environment.get("packages") or {}
    out = [f"- **Command:** {markdown_code(results.get('command', '(not recorded)'))}"]
    if results.get("finished"):
        out.append(f"- **Finished:** {_text(results['finished'])}")
    if isinstance(results.get("wall_time_s"), (int, float)):
        out.append(f"- **Wall time:** {results['wall_time_s']:.0f} s")
    out.append(f"- **Machine:** {_text(machine(results))}")
    if (environment.get("machine") or {}).get("platform"):
        out.append(f"- **Platform:** {_text(environment['machine']['platform'])}")
    distribution = results.get("distribution")
    if isinstance(distribution, dict) and distribution.get("strategy"):
        strategy = distribution["strategy"]
        strategy = "none (Keras's default strategy)" if strategy == "_DefaultDistributionStrategy" else strategy
        out.append(f"- **Distribution:** {_text(strategy)}, replicas: {_text(distribution.get('replicas', '?'))}")
    if environment.get("dtype_policy"):
        out.append(f"- **Precision:** {_text(environment['dtype_policy'])}")
    if "seed" in (results.get("flags") or {}):
        out.append(f"- **Seed:** {_text(results['flags']['seed'])}")
    if environment.get("python") or packages:
        software = [f"Python {environment['python']}"] if environment.get("python") else []
        software += [f"{name} {version}" for name, version in packages.items()]
        out.append(f"- **Software:** {_text(', '.join(software))}")
    return out


def _files_section(folder: Path) -> list[str]:
    names = sorted(path.name for path in folder.iterdir()
                   if path.is_file() and not path.name.startswith(".") and path.name != CARD_FILE)
    out = ["- " + ", ".join(f"`{name}`" for name in names)] if names else ["- (none)"]
    if (folder / "model.keras").exists():
        out += ["", "Load the model in Python (importing `zoo.layers` registers the zoo's layers and losses):", "",
                "```python", "import keras", "import zoo.layers", "",
                f'model = keras.saving.load_model("{(folder / "model.keras").as_posix()}")', "```"]
    return out


def render(results: dict, folder=None, *, heading_level: int = 1) -> str:
    """The model card of a run, in Markdown, from its results.json object.

    ``folder`` is the run folder, to list its files; ``heading_level`` is the
    level of the card's title (sections are one below), so a page can embed the
    card under its own headings.
    """
    if not isinstance(results, dict):
        raise TypeError(f"render(results=...) takes the results.json object (a dict), not "
                        f"{type(results).__name__}; read one with zoo.results.read(path).")
    if not isinstance(heading_level, int) or isinstance(heading_level, bool) or not 1 <= heading_level <= 5:
        raise ValueError(f"heading_level={heading_level!r}: give 1 to 5 (sections go one level below it)")
    recipe = str(results.get("recipe") or "unknown")
    title, section = "#" * heading_level, "#" * (heading_level + 1)
    intended_use, limits, warning = use_of(results)
    out = [f"{title} Model card: {recipe}", ""]
    if (results.get("flags") or {}).get("quick"):
        out += ["> **A smoke test, not a result:** this run used `--quick`, a few steps on a small budget, so "
                "its numbers say little about the model.", ""]
    sections = [("What the model is", _model_section(results, recipe)),
                ("Data and split", _data_section(results)),
                ("Result beside the baseline", _result_section(results)),
                ("Weights used", _weights_section(results, recipe)),
                ("How it was made", _provenance_section(results)),
                ("Intended use", [intended_use]),
                ("Limits", [f"- {limit}" for limit in limits] + (["", f"> **Note:** {warning}"] if warning else []))]
    if folder is not None and Path(folder).is_dir():
        sections.append(("Files in this run folder", _files_section(Path(folder))))
    for heading, lines in sections:
        out += [f"{section} {heading}", "", *lines, ""]
    return "\n".join(out)


def write(folder) -> Path:
    """Write ``MODEL_CARD.md`` into a finished run folder, from its results.json; returns its path."""
    from zoo.results import read

    folder = Path(folder)
    results = read(folder / RESULTS_FILE)   # BadResults names the file when it is missing or damaged
    return atomic_write_text(folder / CARD_FILE, render(results, folder))


__all__ = ["CARD_FILE", "Use", "is_raw_key", "key_paths", "raw_keys", "render", "use_of", "write"]
