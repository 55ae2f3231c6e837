"""Benchmark: what a zoo user waits for and pays in memory. Cold starts, and each recipe's peak memory.

    python benchmarks/footprint.py            # writes benchmarks/results/footprint.json (about 12 min on 2 cores:
                                              # every recipe's full default run)
    python benchmarks/footprint.py convnet    # one entry (zoo list, import keras, its zoo.get and its
                                              # recipe), merged into the committed report
    python benchmarks/footprint.py --quick    # zoo list and one --quick recipe, started once each:
                                              # a smoke test; writes nothing unless --out is given

* **cold start**: wall seconds of a fresh Python process running ``zoo list``
  (which must not import Keras), ``import keras`` alone (the floor any Keras
  program pays), and ``import zoo; zoo.get(NAME)`` for every entry at its default
  arguments (``weights=None`` where the entry has weights: the download is not
  start-up). The median of ``--repeats`` runs, after one that warms the disk cache.
* **peak memory**: the largest resident set (``getrusage``'s ``ru_maxrss``) of a
  fresh process running each recipe's full default run, ``python -m
  zoo.recipes.NAME --out <temporary folder>``, with its wall seconds.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import machine  # benchmarks/, beside this script

ROOT = Path(__file__).resolve().parents[1]
RESULTS = Path(__file__).resolve().parent / "results"
# The child prints its own peak resident set when the recipe returns (Linux: kibibytes).
_RECIPE_CHILD = ("import resource, sys\n"
                 "from zoo.recipes import {recipe} as recipe\n"
                 "recipe.main({flags!r})\n"
                 "print('peak_rss_kib', resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)\n")


def _environment() -> dict:
    environment = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3")
    environment["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), environment.get("PYTHONPATH")]))
    return environment


def _seconds(command: list[str]) -> float:
    started = time.perf_counter()
    finished = subprocess.run(command, capture_output=True, text=True, env=_environment(), cwd=ROOT, timeout=600)
    seconds = time.perf_counter() - started
    if finished.returncode:
        raise RuntimeError(f"{' '.join(command)} failed ({finished.returncode}):\n{finished.stderr[-2000:]}")
    return seconds


def cold_start(label: str, command: list[str], repeats: int, warm: bool = True) -> dict:
    if warm:
        _seconds(command)  # the disk cache warmed: what a second start costs, which is what users see most
    times = [_seconds(command) for _ in range(repeats)]
    print(f"{label:>40}: {statistics.median(times):.2f} s", flush=True)
    return {"command": " ".join(command[1:]) if command[0] == sys.executable else " ".join(command),
            "seconds": [round(t, 3) for t in times], "median_s": round(statistics.median(times), 3)}


def get_code(name: str) -> str:
    import zoo

    arguments = "weights=None" if "weights" in zoo.info(name).defaults else ""
    return f"import zoo; zoo.get({name!r}{', ' if arguments else ''}{arguments})"


def peak_memory(recipe: str, flags: list[str]) -> dict:
    with tempfile.TemporaryDirectory(prefix=f"footprint-{recipe}-") as folder:
        code = _RECIPE_CHILD.format(recipe=recipe, flags=[*flags, "--out", folder])
        started = time.perf_counter()
        finished = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                                  env=_environment(), cwd=ROOT, timeout=3600)
        seconds = time.perf_counter() - started
    if finished.returncode:
        raise RuntimeError(f"zoo.recipes.{recipe} {' '.join(flags)} failed ({finished.returncode}):\n"
                           f"{finished.stderr[-2000:]}")
    kib = int(finished.stdout.split("peak_rss_kib")[-1].split()[0])
    row = {"command": " ".join(["python -m", f"zoo.recipes.{recipe}", *flags]), "peak_rss_mib": round(kib / 1024, 1),
           "wall_s": round(seconds, 1)}
    print(f"{recipe:>17}: peak {row['peak_rss_mib']:.0f} MiB, {row['wall_s']} s", flush=True)
    return row


def merged(earlier: dict, report: dict, sections=("cold_start", "peak_memory")) -> dict:
    """``report`` (some entries measured) over ``earlier`` (the committed report): every row says who measured it.

    Rows of ``report`` replace those of ``earlier``; the rest are kept, each with the command that measured it
    (``measured_by``), and the report keeps the earlier command, the one that measured most rows. The report's
    ``environment`` is the new one; a kept row measured on another machine (another CPU or platform) keeps its
    own ``environment``, so no number is shown as measured where it was not. ``sections`` name the parts of the
    report that hold rows (benchmarks/quick_runs.py merges its one section the same way).
    """
    result = {**report, "command": earlier["command"]}
    now = report.get("environment") or {}

    def where(environment: dict) -> dict:
        return {key: environment.get(key) for key in ("cpu", "machine", "gpus")}

    for section in sections:
        kept = {}
        for key, row in earlier[section].items():
            measured_on = row.get("environment") or earlier.get("environment") or {}
            elsewhere = {"environment": measured_on} if where(measured_on) != where(now) else {}
            kept[key] = {"measured_by": earlier["command"], **{k: v for k, v in row.items() if k != "environment"},
                         **elsewhere}
        fresh = {key: {**row, "measured_by": report["command"]} for key, row in report[section].items()}
        result[section] = {**kept, **fresh}
    return result


def main(argv=None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("entries", nargs="*", metavar="ENTRY",
                        help="measure only these entries' zoo.get and recipes, and keep the other rows of the "
                             "existing report (default: all)")
    parser.add_argument("--quick", action="store_true",
                        help="zoo list and one --quick recipe, started once each: a smoke test")
    parser.add_argument("--repeats", type=int, default=None, help="timed starts of each (default: 3; --quick 1)")
    parser.add_argument("--out", type=Path, default=None,
                        help="JSON file (default: benchmarks/results/footprint.json; with --quick, none unless given)")
    args = parser.parse_args(argv)
    if args.repeats is not None and args.repeats < 1:
        parser.error(f"--repeats {args.repeats}: give at least 1")
    sys.path.insert(0, str(ROOT))
    import zoo
    from zoo.files import atomic_write_json, locked

    for name in args.entries:
        zoo.info(name)   # an unknown name: the registry's error, with the close matches
    if args.quick and args.entries:
        parser.error("--quick measures a fixed smoke-test set; leave out the entries")
    started = time.perf_counter()
    repeats = args.repeats or (1 if args.quick else 3)
    python, warm = sys.executable, not args.quick
    starts = {"zoo list": cold_start("zoo list", [python, "-m", "zoo", "list"], repeats, warm)}
    if not args.quick:
        starts["import keras"] = cold_start("import keras", [python, "-c", "import keras"], repeats)
    entries = [] if args.quick else args.entries or zoo.list_models()
    for name in entries:
        starts[f"zoo.get({name!r})"] = cold_start(f"zoo.get({name!r})", [python, "-c", get_code(name)], repeats)
    recipes = {"perceptron": ["--quick"]} if args.quick else dict.fromkeys(
        [zoo.info(name).recipe.rsplit(".", 1)[-1] for name in args.entries] or zoo.registry.recipes(), [])
    memory = {recipe: peak_memory(recipe, flags) for recipe, flags in recipes.items()}
    command = " ".join(["python benchmarks/footprint.py", *(["--quick"] if args.quick else []), *args.entries])
    out = args.out or (None if args.quick else RESULTS / "footprint.json")
    report = {"benchmark": "benchmarks/footprint.py", "command": command, "repeats": repeats,
              "environment": machine.describe(), "cold_start": starts, "peak_memory": memory}
    report["wall_time_s"] = round(time.perf_counter() - started, 1)
    if out:
        with locked(out):   # another footprint.py ENTRY run may merge into the same report
            if args.entries and out.exists():
                report = merged(json.loads(out.read_text()), report)
            atomic_write_json(out, report)
        print(f"wrote {out}")
    return report


if __name__ == "__main__":
    main()
