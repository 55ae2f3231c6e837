"""Read committed recipe results and say what they measured, for the README and the docs.

    python -m zoo.results               # the README's results table, from results/*/results.json

Every number the README or the docs show comes from a ``results.json`` a recipe
wrote; this module only reads and formats them (``tests/test_results.py``
checks that the README's table is exactly what it prints).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

RESULTS_DIR = Path(__file__).resolve().parent.parent / "results"


def load(recipe: str, results_dir: str | Path = RESULTS_DIR) -> dict | None:
    """The committed results.json of a recipe, or None when there is none."""
    path = Path(results_dir) / recipe / "results.json"
    return json.loads(path.read_text()) if path.exists() else None


def headline(results: dict) -> str:
    """The run's main measurement in words, e.g. 'test accuracy 0.9722 (360 digits)'."""
    metrics, recipe = results["metrics"], results["recipe"]
    if recipe == "style_transfer":
        before, after = metrics["initial_losses"]["total"], metrics["final_losses"]["total"]
        return f"total loss {before:g} -> {after:g} ({metrics['total_loss_fall']:.1%} lower)"
    test = results.get("data", {}).get("test")
    text = f"test accuracy {metrics['test_accuracy']:.4f}" + (f" on {test} held-out examples" if test else "")
    if recipe == "perceptron":
        naive = metrics["personalities"]["naive"]["test_accuracy"]
        text += f" ({metrics['saved_activation']}); naive {naive:.4f} = majority baseline " \
                f"{metrics['majority_class_baseline']:.4f}"
    elif recipe == "vgg16_transfer" and "scratch" in metrics["arms"]:
        pretrained, scratch = metrics["arms"]["pretrained"], metrics["arms"]["scratch"]
        text = (f"pretrained {pretrained['test_accuracy']:.4f} in {pretrained['train_seconds']:.0f} s of training vs "
                f"from scratch {scratch['test_accuracy']:.4f} in {scratch['train_seconds']:.0f} s "
                f"({results['data']['train']} labels, {test} test digits)")
    elif "majority_class_baseline" in metrics:
        text += f" (majority class {metrics['majority_class_baseline']:.4f})"
    return text


def machine(results: dict) -> str:
    """'2-CPU Linux x86_64, Keras 3.15.1 (tensorflow)' from the environment block."""
    environment = results["environment"]
    devices = ", ".join(environment.get("devices", [])) or "cpu:0"
    return (f"{environment['machine']['cpu_count']}-core {environment['machine']['processor']} ({devices}), "
            f"Keras {environment['packages'].get('keras', '?')} ({environment['keras_backend']})")


def markdown_table(recipes, results_dir: str | Path = RESULTS_DIR) -> str:
    """One row per recipe with a committed full run: command, result, wall time, machine."""
    rows = ["| recipe | result of the full default run | wall time | machine |", "| --- | --- | --- | --- |"]
    for recipe in recipes:
        results = load(recipe, results_dir)
        if results is None or results["flags"].get("quick"):
            continue
        rows.append(f"| `{results['command']}` | {headline(results)} | {results['wall_time_s']:.0f} s "
                    f"| {machine(results)} |")
    return "\n".join(rows)


def main() -> int:
    from recipes import RECIPES

    print(markdown_table(RECIPES))
    return 0


if __name__ == "__main__":
    sys.exit(main())
