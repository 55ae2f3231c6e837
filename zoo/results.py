"""Read committed recipe results and say what they measured, for the README and the docs.

    python -m zoo.results                     # the README's results table, from results/*/results.json
    python -m zoo.results --results DIR       # the same table from DIR/<recipe>/results.json
    ZOO_RESULTS=DIR zoo weights               # every reader of committed results looks in DIR

Where committed results are read from (``RESULTS_DIR``): ``$ZOO_RESULTS`` when
set; else ``results/`` of the checkout this package runs from; else
``./results`` (an installed package has no checkout beside it).

Every number the README or the docs show comes from a ``results.json`` a recipe
wrote; this module only reads and formats them (``tests/test_results.py``
checks that the README's table is exactly what it prints). Each recipe writes
its own one-line ``"headline"``; nothing here knows one recipe from another.

A ``results.json`` that cannot be read (not JSON, not an object, or lacking
what the table needs) is skipped with one ``warning:`` line on stderr naming
the file and the reason, so one damaged run never hides the others.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import re
import sys
from pathlib import Path

from zoo.errors import ZooError



def results_dir() -> Path:
    """$ZOO_RESULTS, else the checkout's results/ (beside pyproject.toml), else ./results."""
    if os.environ.get("ZOO_RESULTS"):
        return Path(os.environ["ZOO_RESULTS"])
    checkout = Path(__file__).resolve().parent.parent
    if (checkout / "pyproject.toml").is_file() and (checkout / "results").is_dir():
        return checkout / "results"
    return Path("results")


RESULTS_DIR = results_dir()

# What the README table and the docs read from every file, and the JSON type each must have.
REQUIRED = {"recipe": str, "command": str, "flags": dict, "metrics": dict, "environment": dict,
            "wall_time_s": (int, float)}
_JSON_TYPES = {str: "a string", dict: "an object", (int, float): "a number"}


class BadResults(ZooError, ValueError):
    """A results.json that is unreadable or lacks what the table needs; the message names the file."""

    def __init__(self, path: Path, reason: str):
        super().__init__(f"{_shown(path)}: {reason}")
        self.path, self.reason = path, reason


def _shown(path: Path) -> str:
    """The path relative to the working directory when it is below it, as a user would type it."""
    try:
        return str(path.resolve().relative_to(Path.cwd().resolve()))
    except ValueError:
        return str(path)


def _kind(value) -> str:
    return {dict: "an object", list: "a list", str: "a string", bool: "a boolean",
            type(None): "null"}.get(type(value), "a number")


def read(path: str | Path) -> dict:
    """The results.json at ``path``, checked; raises ``BadResults`` saying what is wrong with it."""
    path = Path(path)
    try:
        results = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as error:
        raise BadResults(path, f"not valid JSON ({error.msg}: line {error.lineno} column {error.colno})") from None
    except UnicodeDecodeError:
        raise BadResults(path, "not UTF-8 text (a binary or truncated file?)") from None
    except OSError as error:
        raise BadResults(path, f"cannot be read ({error.strerror or error})") from None
    if not isinstance(results, dict):
        raise BadResults(path, f"holds {_kind(results)}, not a JSON object")
    missing = [key for key in REQUIRED if key not in results]
    if missing:
        raise BadResults(path, f"lacks the key{'s' * (len(missing) > 1)} {', '.join(map(repr, missing))}")
    for key, wanted in REQUIRED.items():
        value = results[key]
        if not isinstance(value, wanted) or isinstance(value, bool):
            raise BadResults(path, f"{key!r} is {_kind(value)}, not {_JSON_TYPES[wanted]}")
    if not math.isfinite(results["wall_time_s"]) or results["wall_time_s"] < 0:
        raise BadResults(path, f"'wall_time_s' is {results['wall_time_s']}, not a number of seconds")
    return results


# A docs build reads each file from several pages; one line per damaged file is enough.
_warned: set[str] = set()


def load(recipe: str, results_dir: str | Path = RESULTS_DIR) -> dict | None:
    """The committed results.json of a recipe, or None when there is none or it is damaged (with a warning)."""
    path = Path(results_dir) / recipe / "results.json"
    if not path.exists():
        return None
    try:
        return read(path)
    except BadResults as error:
        if str(error) not in _warned:
            _warned.add(str(error))
            print(f"warning: skipping {error}", file=sys.stderr)
        return None


def not_finite(value: float) -> str:
    """NaN or an infinity in words, so no page or table shows a bare 'nan' or 'inf'."""
    return "not a number" if math.isnan(value) else ("infinite" if value > 0 else "minus infinite")


def _real(value) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def headline(results: dict) -> str:
    """The run's main measurement in words: the recipe's own ``"headline"``, else one read from the metrics.

    The fallback, for files written before recipes recorded a headline, is the
    test accuracy when there is one ('test accuracy 0.9722 on 360 held-out
    examples'), and 'no headline recorded' otherwise.
    """
    recorded = results.get("headline")
    if isinstance(recorded, str) and recorded.strip():
        return recorded
    metrics = results.get("metrics")
    accuracy = metrics.get("test_accuracy") if isinstance(metrics, dict) else None
    if not _real(accuracy):
        return "no headline recorded"
    if not math.isfinite(accuracy):
        return f"test accuracy {not_finite(accuracy)} (the run diverged)"
    data = results.get("data")
    test = data.get("test") if isinstance(data, dict) else None
    known = isinstance(test, int) and not isinstance(test, bool) and test > 0
    return f"test accuracy {accuracy:.4f}" + (f" on {test} held-out examples" if known else "")


def machine(results: dict) -> str:
    """'2-core x86_64 (cpu:0), Keras 3.15.1 (tensorflow)' from the environment block."""
    environment = results.get("environment") or {}
    about = environment.get("machine") or {}
    devices = ", ".join(map(str, environment.get("devices") or [])) or "cpu:0"
    return (f"{about.get('cpu_count', '?')}-core {about.get('processor') or '?'} ({devices}), "
            f"Keras {(environment.get('packages') or {}).get('keras', '?')} "
            f"({environment.get('keras_backend', '?')})")


def markdown_code(text: str, in_table: bool = False) -> str:
    """``text`` as a Markdown code span that nothing inside it can close or break.

    The fence is one backtick longer than the longest run of backticks in the
    text, so a recorded command holding a backtick stays code (and code is never
    HTML). Line breaks become spaces (they would end a table row or list item);
    in a table, pipes are escaped as GitHub's tables need.
    """
    text = " ".join(str(text).splitlines())
    fence = "`" * (max(map(len, re.findall(r"`+", text)), default=0) + 1)
    if text.startswith("`") or text.endswith("`"):
        text = f" {text} "          # Markdown strips one space each side, and a fence cannot touch a backtick
    if in_table:
        text = text.replace("|", "\\|")
    return f"{fence}{text}{fence}"


_MARKDOWN_SPECIAL = re.compile(r"([\\`\[\]|])")


def markdown_text(value) -> str:
    """A value read from a results file as inert Markdown text on one line.

    ``<`` and ``&`` become entities (no HTML tags or entities from a file reach a
    page); backslashes, backticks, brackets and pipes are backslash-escaped (no code
    spans, links, or extra table cells). Non-string values are shown as JSON,
    with NaN and infinities in words.
    """
    if isinstance(value, float) and not math.isfinite(value):
        text = not_finite(value)
    else:
        text = value if isinstance(value, str) else json.dumps(_words_for_not_finite(value))
    text = " ".join(text.split()).replace("&", "&amp;").replace("<", "&lt;")
    return _MARKDOWN_SPECIAL.sub(r"\\\1", text)


def _words_for_not_finite(value):
    if isinstance(value, float) and not math.isfinite(value):
        return not_finite(value)
    if isinstance(value, list):
        return [_words_for_not_finite(item) for item in value]
    if isinstance(value, dict):
        return {key: _words_for_not_finite(item) for key, item in value.items()}
    return value


def baseline_headline(results: dict) -> str:
    """The baseline's result in words, as the run recorded it, or a plain statement that it has none."""
    baseline = results.get("baseline")
    if isinstance(baseline, dict) and isinstance(baseline.get("headline"), str):
        return baseline["headline"]
    return "none recorded"


def versus(results: dict) -> tuple[float, float, bool, str] | None:
    """(the zoo's number, the baseline's, whether higher is better, what they measure), or None.

    Test accuracy for the classifiers; for style transfer, the total loss the
    same optimisation reaches as a plain loop (lower is better); for text
    generators, test bits per character (lower is better); for sequence-to-sequence
    models, test exact match (the share of answers right in every character).
    """
    baseline, metrics = results.get("baseline") or {}, results.get("metrics") or {}
    if "total_loss" in baseline and "total" in (metrics.get("final_losses") or {}):
        return float(metrics["final_losses"]["total"]), float(baseline["total_loss"]), False, "total loss"
    if "test_bits_per_character" in baseline and "test_bits_per_character" in metrics:
        return (float(metrics["test_bits_per_character"]), float(baseline["test_bits_per_character"]), False,
                "bits per character")
    if isinstance(baseline.get("test_exact_match"), (int, float)) and "test_exact_match" in metrics:
        return float(metrics["test_exact_match"]), float(baseline["test_exact_match"]), True, "test exact match"
    if isinstance(baseline.get("test_accuracy"), (int, float)) and "test_accuracy" in metrics:
        return float(metrics["test_accuracy"]), float(baseline["test_accuracy"]), True, "test accuracy"
    return None


def verdict(results: dict) -> str:
    """'zoo, by 0.0083 test accuracy', 'baseline, by 0.0160 test accuracy' or 'tie (total loss 10.6)'."""
    compared = versus(results)
    if compared is None:
        return "no baseline recorded"
    ours, theirs, higher_is_better, measure = compared
    if not math.isfinite(ours):
        return f"baseline (the zoo's {measure} is {not_finite(ours)})"
    if ours == theirs:
        return f"tie ({measure} {ours:.4g})"
    zoo_wins = ours > theirs if higher_is_better else ours < theirs
    return f"{'zoo' if zoo_wins else 'baseline'}, by {abs(ours - theirs):.4g} {measure}"


def markdown_table(recipes, results_dir: str | Path = RESULTS_DIR) -> str:
    """One row per recipe with a committed full run: command, result, baseline, who wins, wall time, machine."""
    rows = ["| recipe | result of the full default run | baseline in the same run, same split | better "
            "| wall time | machine |", "| --- | --- | --- | --- | --- | --- |"]
    for recipe in recipes:
        results = load(recipe, results_dir)
        if results is None or results["flags"].get("quick"):
            continue
        rows.append(f"| {markdown_code(results['command'], in_table=True)} | {markdown_text(headline(results))} "
                    f"| {markdown_text(baseline_headline(results))} | {markdown_text(verdict(results))} "
                    f"| {results['wall_time_s']:.0f} s "
                    f"| {markdown_text(machine(results))} |")
    return "\n".join(rows)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m zoo.results", description=__doc__.split("\n\n")[0])
    parser.add_argument("--results", type=Path, default=RESULTS_DIR, metavar="DIR",
                        help="folder holding <recipe>/results.json (default: %(default)s)")
    args = parser.parse_args(argv)
    if not args.results.is_dir():
        parser.error(f"--results {args.results}: no such folder; give the folder that holds <recipe>/results.json")
    from zoo.registry import recipes

    print(markdown_table(recipes(), args.results))
    return 0


if __name__ == "__main__":
    sys.exit(main())
