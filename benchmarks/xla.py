"""Benchmark: does XLA (``--jit-compile on``) make a recipe train faster here? Seconds per epoch, on and off.

    python benchmarks/xla.py                          # every recipe; writes benchmarks/results/xla.json
    python benchmarks/xla.py mlp lstm_sentiment       # some recipes
    python benchmarks/xla.py --quick                  # a smoke test: --quick runs, nothing written by default

On a CPU, Keras leaves XLA off (``jit_compile="auto"``). Each recipe runs
twice, a few epochs each, with ``--jit-compile off`` and ``--jit-compile on``,
and results.json's ``epoch_seconds`` gives the first epoch (tracing and XLA
compiling included) and the median of the others (the steady state). A
recipe turns XLA on when the steady state is at least ``MIN_SPEEDUP`` times
faster and the extra compile time is paid back within the epochs its
committed full run trained; the recipe's ``--jit-compile`` default cites the
number.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import recipe_runs  # benchmarks/, beside this script

RESULTS = Path(__file__).resolve().parent / "results"
ROOT = Path(__file__).resolve().parent.parent
MIN_SPEEDUP = 1.1
# Flags of the short runs: enough epochs for a steady-state median, early stopping out of the way.
FLAGS = {
    "perceptron": ["--epochs", "6"],
    "mlp": ["--epochs", "6", "--patience", "100"],
    "lstm_sentiment": ["--epochs", "4", "--members", "1"],      # one sequence model and the wide model
    "mini_transformer": ["--epochs", "4", "--members", "1"],
    "vgg16_transfer": ["--epochs", "4"],
    "style_transfer": ["--epochs", "30"],     # one optimizer step per epoch
    "attention_seq2seq": ["--epochs", "4", "--patience", "100"],   # both arms
    # The play alone: pretraining runs the same model and step on other windows (one epoch, no steady state).
    "mini_gpt": ["--epochs", "4", "--patience", "100", "--pretrain-text", "none"],
    "convnet": ["--epochs", "6", "--patience", "100"],          # the ConvNet and its MLP arm
    "convnet_1d": ["--epochs", "30", "--patience", "100"],     # 3 steps an epoch: more epochs for a steady median
    "inception": ["--epochs", "6", "--patience", "100"],        # the Inception net and its plain stack
    "convnet_lstm": ["--epochs", "6", "--patience", "100"],
}


def time_recipe(recipe: str, jit: str, quick: bool) -> dict:
    results, _ = recipe_runs.run(recipe, [*(["--quick"] if quick else FLAGS[recipe]), "--jit-compile", jit])
    return results["epoch_seconds"]


def committed_epochs(recipe: str, tag: str) -> int | None:
    """Epochs the committed full run trained (tag: one training of several), for the pay-back test."""
    path = ROOT / "results" / recipe / "results.json"
    if not path.exists():
        return None
    results = json.loads(path.read_text())
    arm = results["metrics"].get("arms", {}).get(tag, results["metrics"])
    # Runs without early stopping (the perceptron's personalities, style transfer's steps) train every epoch.
    return arm.get("epochs_run") or results["flags"].get("epochs")


def compare(recipe: str, quick: bool) -> dict:
    timings = {jit: time_recipe(recipe, jit, quick) for jit in ("off", "on")}
    trainings = {}
    for tag in timings["off"]:
        off, on = timings["off"][tag], timings["on"].get(tag)
        row = {"off": off, "on": on}
        if on and off["median_after_first"] and on["median_after_first"]:
            speedup = off["median_after_first"] / on["median_after_first"]
            extra_compile = on["first"] - off["first"]
            epochs = committed_epochs(recipe, tag)
            saved = (off["median_after_first"] - on["median_after_first"]) * max(0, (epochs or 0) - 1)
            row.update(speedup=round(speedup, 2), extra_compile_s=round(extra_compile, 2),
                       committed_epochs=epochs, seconds_saved_over_committed_run=round(saved - extra_compile, 1),
                       xla_pays=bool(speedup >= MIN_SPEEDUP and saved > extra_compile))
        trainings[tag] = row
    pays = [row.get("xla_pays", False) for row in trainings.values()]
    return {"command": f"python benchmarks/xla.py {'--quick ' if quick else ''}{recipe}", "trainings": trainings,
            "decision": "on" if pays and all(pays) else "off"}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("recipes", nargs="*", default=[], metavar="RECIPE",
                        help=f"some of {', '.join(FLAGS)} (default: all)")
    parser.add_argument("--quick", action="store_true", help="--quick runs: a smoke test")
    parser.add_argument("--out", type=Path, help="JSON file (default: benchmarks/results/xla.json; "
                                                 "with --quick, nothing is written unless given)")
    args = parser.parse_args(argv)
    unknown = sorted(set(args.recipes) - set(FLAGS))
    if unknown:
        parser.error(f"unknown recipe(s) {', '.join(unknown)}; choose from {', '.join(FLAGS)}")
    from zoo.files import atomic_write_json
    from zoo.runs import environment

    out = args.out or (None if args.quick else RESULTS / "xla.json")
    # Some recipes measured again: the others keep their entries (each says its own command).
    earlier = json.loads(out.read_text()) if out and out.exists() and args.recipes else {}
    for entry in earlier.get("recipes", {}).values():
        entry.setdefault("command", earlier["command"].strip())
    report = {"benchmark": "benchmarks/xla.py", "command": "python benchmarks/xla.py " + " ".join(
        [*(["--quick"] if args.quick else []), *args.recipes]), "min_speedup": MIN_SPEEDUP,
        "recipes": earlier.get("recipes", {})}
    for recipe in args.recipes or list(FLAGS):
        report["recipes"][recipe] = compare(recipe, args.quick)
        print(f"{recipe}: XLA {report['recipes'][recipe]['decision']}: "
              + json.dumps({tag: row.get("speedup") for tag, row in report["recipes"][recipe]["trainings"].items()}),
              flush=True)
    report["environment"] = environment()
    if out:
        atomic_write_json(out, report)
        print(f"wrote {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
