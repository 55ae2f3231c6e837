"""Benchmark: how long each recipe's smoke test (``--quick``) takes, against the goal of a minute each.

    python benchmarks/quick_runs.py               # every recipe; writes benchmarks/results/quick_runs.json
                                                  # (about 6 min on 2 cores)
    python benchmarks/quick_runs.py mini_bert     # some recipes, merged into the committed report
    python benchmarks/quick_runs.py --quick       # the perceptron's alone: a smoke test of this script;
                                                  # writes nothing unless --out is given

``--quick`` is what the test suite and CI run for every recipe (tests/test_recipes.py), so its cost is
paid on every change. The suite runs the quick runs but times none of them: two pytest workers share
a CI machine, so a wall-clock bound there fails by the machine's load, not by the code. The goal lives
here instead: each recipe's ``python -m zoo.recipes.NAME --quick`` in a fresh Python process, one at
a time on an otherwise idle machine (``footprint.peak_memory``, which also reports its peak memory).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import footprint  # benchmarks/, beside this script
import machine

RESULTS = Path(__file__).resolve().parent / "results"
GOAL_S = 60.0   # a smoke test that takes longer than a minute is no longer one


def measure(recipe: str) -> dict:
    """One recipe's ``--quick`` in a fresh process: its command, wall seconds, peak memory and the goal's verdict."""
    row = footprint.peak_memory(recipe, ["--quick"])
    return {**row, "goal_met": row["wall_s"] < GOAL_S}


def main(argv=None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("recipes", nargs="*", metavar="RECIPE",
                        help="measure only these recipes, and keep the other rows of the existing report "
                             "(default: all)")
    parser.add_argument("--quick", action="store_true", help="the perceptron's --quick alone: a smoke test")
    parser.add_argument("--out", type=Path, default=None,
                        help="JSON file (default: benchmarks/results/quick_runs.json; with --quick, none unless given)")
    args = parser.parse_args(argv)
    sys.path.insert(0, str(footprint.ROOT))
    import zoo
    from zoo.files import atomic_write_json, locked

    known = zoo.registry.recipes()
    unknown = [name for name in args.recipes if name not in known]
    if unknown:
        parser.error(f"no recipe named {', '.join(unknown)}: choose from {', '.join(known)}")
    if args.quick and args.recipes:
        parser.error("--quick measures the perceptron alone; leave out the recipes")
    started = time.perf_counter()
    recipes = ["perceptron"] if args.quick else args.recipes or known
    rows = {recipe: measure(recipe) for recipe in recipes}
    command = " ".join(["python benchmarks/quick_runs.py", *(["--quick"] if args.quick else []), *args.recipes])
    report = {"benchmark": "benchmarks/quick_runs.py", "command": command, "goal_s": GOAL_S,
              "environment": machine.describe(), "quick_runs": rows}
    report["wall_time_s"] = round(time.perf_counter() - started, 1)
    missed = [recipe for recipe, row in rows.items() if not row["goal_met"]]
    print(f"goal: under {GOAL_S:.0f} s each; " + (f"missed by {', '.join(missed)}" if missed else "all met"))
    out = args.out or (None if args.quick else RESULTS / "quick_runs.json")
    if out:
        with locked(out):   # another quick_runs.py RECIPE run may merge into the same report
            if args.recipes and out.exists():
                report = footprint.merged(json.loads(out.read_text()), report, sections=("quick_runs",))
            atomic_write_json(out, report)
        print(f"wrote {out}")
    return report


if __name__ == "__main__":
    main()
