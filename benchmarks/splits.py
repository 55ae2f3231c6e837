"""Benchmark: is a recipe's gap to its baseline real, or the luck of one split? The same run on other splits.

    python benchmarks/splits.py lstm_sentiment               # seeds 0-4: benchmarks/results/splits_lstm_sentiment.json
    python benchmarks/splits.py mini_transformer --seeds 0 1 2
    python benchmarks/splits.py lstm_sentiment --quick       # a smoke test: each run with --quick

A recipe's ``--seed`` draws its train/validation/test split as well as its
initial weights, so each seed is a fresh draw of the whole comparison: the
recipe's full default run (``python -m zoo.recipes.<name> --seed S``) and its
baseline, with the baseline's settings chosen on that split's validation data
as always. One split's test set scores each side with a standard error of
about sqrt(p(1-p)/n) (0.008 for 2,562 reviews at 0.78); the difference of
two models on the same reviews is less noisy than that, but not free of it.
Several splits show whether the zoo model loses (or wins) on most of them, and
by how much on average. Where a recipe's split is fixed (``SEED_DRAWS``: mini_gpt's
parts of the play), the seeds draw only its initial weights and dropout: the rows
show how much one training run's luck moves the result. Nothing is chosen here:
the recipe's defaults stay the ones its validation data chose
(benchmarks/results/choices_*.json).
"""

from __future__ import annotations

import argparse
import math
import statistics
from pathlib import Path

import recipe_runs  # benchmarks/, beside this script

RESULTS = Path(__file__).resolve().parent / "results"
SEEDS = (0, 1, 2, 3, 4)
# What a recipe's --seed draws: the split and the initial weights, except where named here. mini_gpt's parts
# of the play are fixed (the first 80%, the next 10%, the last 10%), so its seeds differ only in weights and
# dropout, and its n-gram baseline, which has neither, is the same on every row.
SEED_DRAWS = {"mini_gpt": "weights"}


def seed_draws(recipe: str) -> str:
    """"split and weights", or "weights" where the recipe's split does not depend on its seed."""
    return SEED_DRAWS.get(recipe, "split and weights")


# The zoo model's validation score beside each test measure, where its results.json holds one: the score its
# settings were chosen on, so its spread over seeds says how far apart two variants must be to differ.
VALIDATION_OF = {"test accuracy": "validation_accuracy", "bits per character": "validation_bits_per_character",
                 "test exact match": "validation_exact_match"}


def summary(rows: list[dict]) -> dict:
    """Mean gap (zoo minus baseline), its 95% Student t interval over the splits, and the count of splits won."""
    from scipy import stats

    gaps = [row["gap"] for row in rows]
    mean = statistics.fmean(gaps)
    out = {"splits": len(gaps), "mean_gap": round(mean, 4),
           "zoo_wins": sum(gap > 0 for gap in gaps), "ties": sum(gap == 0 for gap in gaps),
           "baseline_wins": sum(gap < 0 for gap in gaps),
           "mean_zoo": round(statistics.fmean(row["zoo"] for row in rows), 4),
           "mean_baseline": round(statistics.fmean(row["baseline"] for row in rows), 4)}
    if rows and all("zoo_validation" in row for row in rows):
        out["zoo_validation_range"] = [min(row["zoo_validation"] for row in rows),
                                       max(row["zoo_validation"] for row in rows)]
    if len(gaps) > 1:
        half = float(stats.t.ppf(0.975, len(gaps) - 1)) * statistics.stdev(gaps) / math.sqrt(len(gaps))
        out["mean_gap_95"] = [round(mean - half, 4), round(mean + half, 4)]
    return out


def main(argv=None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("recipe", help="a recipe with a baseline block, e.g. lstm_sentiment")
    parser.add_argument("--seeds", type=int, nargs="+", default=list(SEEDS),
                        help="splits to draw, one --seed each (default: %(default)s)")
    parser.add_argument("--quick", action="store_true", help="run each recipe with --quick (a smoke test)")
    parser.add_argument("--out", type=Path, default=None,
                        help="where to write the report (default: benchmarks/results/splits_RECIPE.json)")
    args = parser.parse_args(argv)
    if len(set(args.seeds)) != len(args.seeds):
        parser.error(f"--seeds {' '.join(map(str, args.seeds))}: each seed once, so each split counts once")

    from zoo import results as results_lib
    from zoo.runs import environment

    rows = []
    for seed in args.seeds:
        flags = ["--seed", str(seed), *(["--quick"] if args.quick else [])]
        results, seconds = recipe_runs.run(args.recipe, flags)
        compared = results_lib.versus(results)
        if compared is None:
            raise SystemExit(f"splits.py: {args.recipe}'s results.json has no baseline number to compare with; "
                             "choose a recipe whose run writes a baseline block")
        zoo_value, baseline_value, higher_is_better, measure = compared
        gap = (zoo_value - baseline_value) if higher_is_better else (baseline_value - zoo_value)
        validation = (results.get("metrics") or {}).get(VALIDATION_OF.get(measure, ""))
        rows.append({"seed": seed, "zoo": zoo_value, "baseline": baseline_value, "gap": round(gap, 4),
                     **({"zoo_validation": validation} if isinstance(validation, (int, float)) else {}),
                     "baseline_settings": results["baseline"].get("settings"), "seconds": round(seconds, 1)})
        print(f"splits: {args.recipe} seed {seed}: {measure} {zoo_value} vs baseline {baseline_value} "
              f"(gap {gap:+.4f}, {seconds:.0f} s)", flush=True)
    report = {"benchmark": "benchmarks/splits.py", "recipe": args.recipe, "quick": args.quick,
              "command": " ".join(["python benchmarks/splits.py", args.recipe,
                                   *(["--seeds", *map(str, args.seeds)] if list(args.seeds) != list(SEEDS) else []),
                                   *(["--quick"] if args.quick else [])]),
              "seed_draws": seed_draws(args.recipe), "measure": measure, "higher_is_better": higher_is_better,
              "baseline": results["baseline"]["name"],
              "gap": ("zoo minus baseline" if higher_is_better else "baseline minus zoo (lower is better)")
              + " (positive: the zoo model wins)",
              "rows": rows, "summary": summary(rows), "environment": environment()}
    path = args.out or RESULTS / f"splits_{args.recipe}.json"
    from zoo.files import atomic_write_json
    atomic_write_json(path, report)
    what = "seeds" if report["seed_draws"] == "weights" else "splits"
    print(f"splits: {args.recipe} over {len(rows)} {what}: mean gap {report['summary']['mean_gap']:+.4f}, "
          f"zoo wins {report['summary']['zoo_wins']} -> {path}")
    return report


if __name__ == "__main__":
    main()
