"""The recipes' command line: the flags every recipe shares, each checked before TensorFlow is imported.

    parser = command.recipe_parser("mlp", __doc__, command.Defaults(epochs=300, learning_rate=1e-3, ...))
    parser.add_argument("--dropout", type=command.number("--dropout", 0, 1, below=True), default=0.1)
    args = command.parse(parser, argv)

A bad value is one ``error:`` line naming the flag, the value and what is
allowed, with exit status 2, within a second: no flag reaches Keras unchecked.
``run_main`` is the one place that turns a ``ZooError`` into that line, for
``python -m zoo.recipes.X`` and ``zoo run X`` alike.
"""

from __future__ import annotations

import argparse
import dataclasses
import math
import os
import re
import sys

from zoo.distributed import DISTRIBUTE
from zoo.errors import FlagError, ZooError
from zoo.tuning import TUNERS

PRECISIONS = ("float32", "mixed_float16", "mixed_bfloat16")
JIT_COMPILE = ("auto", "on", "off")
TUNE = ("off", *TUNERS)
SEED_MAX = 2**32 - 1   # what numpy's and TensorFlow's seeding accept
_TFDS_NAME = re.compile(r"^[a-z0-9_]+(/[a-z0-9_.+-]+)?(:[0-9.*]+)?$")


@dataclasses.dataclass(frozen=True)
class Defaults:
    """A recipe's defaults for the shared flags (an explicit object: no reading of the caller's globals)."""

    epochs: int
    learning_rate: float
    seed: int = 0
    batch_size: int | None = 32          # None: the recipe has no --batch-size
    quick: dict = dataclasses.field(default_factory=dict)  # defaults under --quick, e.g. {"epochs": 3}
    datasets: tuple = ()                 # embedded sets offered; the first is the default
    kinds: tuple = ()                    # kinds of input the recipe reads: "tabular", "image", "text"
    classes: int | None = None           # the number of classes the recipe needs, when fixed
    max_trials: int = 10
    tunable: bool = True                 # --tune, --max-trials
    distributable: bool = True           # --distribute
    multi_worker: bool = False           # trains through zoo.distributed under --distribute multi_worker
    epochs_help: str = "most epochs to train"
    jit_compile: str = "auto"            # --jit-compile: "on", "off", or "auto" (Keras: XLA off on CPUs)
    precision: str = "float32"           # --precision: one of PRECISIONS, the Keras dtype policy


class RecipeParser(argparse.ArgumentParser):
    """argparse, with its errors raised as ``FlagError`` (one line, exit status 2 through ``run_main``)."""

    def error(self, message):
        # "argument --epochs: --epochs=0 must be ..." -> "--epochs=0 must be ..."
        match = re.match(r"argument (\S+?)(/\S+)?: (.*)", message, re.S)
        if match:
            flag, rest = match.group(1), match.group(3)
            message = rest if rest.startswith(flag) else f"{flag}: {rest}"
        raise FlagError(f"{message} (see {self.prog} --help)")


# ---------------------------------------------------------------------------- flag types

def integer(flag: str, minimum: int | None = None, maximum: int | None = None):
    """An argparse type: a whole number within [minimum, maximum]."""
    allowed = _range_words(minimum, maximum, "an integer")

    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{flag}={text} is not {allowed}") from None
        if (minimum is not None and value < minimum) or (maximum is not None and value > maximum):
            raise argparse.ArgumentTypeError(f"{flag}={text} is out of range: use {allowed}")
        return value

    return parse


def number(flag: str, minimum: float | None = None, maximum: float | None = None, *, above: bool = False,
           below: bool = False):
    """An argparse type: a finite number within the range (``above``/``below`` exclude the ends)."""
    low = "" if minimum is None else f"{'>' if above else '>='} {minimum:g}"
    high = "" if maximum is None else f"{'<' if below else '<='} {maximum:g}"
    allowed = "a finite number" + (f" {low}" if low else "") + (f" and {high}" if low and high else
                                                               f" {high}" if high else "")

    def parse(text: str) -> float:
        try:
            value = float(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{flag}={text} is not {allowed}") from None
        if (not math.isfinite(value)
                or (minimum is not None and (value <= minimum if above else value < minimum))
                or (maximum is not None and (value >= maximum if below else value > maximum))):
            raise argparse.ArgumentTypeError(f"{flag}={text} is out of range: use {allowed}")
        return value

    return parse


def _range_words(minimum, maximum, what: str) -> str:
    if minimum is not None and maximum is not None:
        return f"{what} from {minimum} to {maximum}"
    if minimum is not None:
        return f"{what} >= {minimum}"
    return what if maximum is None else f"{what} <= {maximum}"


def name_or_file(flag: str, names, what: str):
    """An argparse type: one of ``names`` or the path of an existing file."""

    def parse(text: str) -> str:
        if text in names or os.path.isfile(os.path.expanduser(text)):
            return text
        raise argparse.ArgumentTypeError(f"{flag}={text!r} is neither {what} ({', '.join(names)}) nor an "
                                         "existing file")

    return parse


def out_folder(text: str) -> str:
    """An argparse type for --out: a folder that exists or can be made (it is made here)."""
    if not text.strip():
        raise argparse.ArgumentTypeError("--out='' is empty: name a folder, e.g. --out runs/my-run")
    path = os.path.expanduser(text)
    if os.path.exists(path) and not os.path.isdir(path):
        raise argparse.ArgumentTypeError(f"--out={text} is a file, not a folder: name a new or empty folder")
    try:
        os.makedirs(path, exist_ok=True)
        probe = os.path.join(path, f".write-test-{os.getpid()}")
        open(probe, "w").close()
        os.remove(probe)
    except OSError as error:
        raise argparse.ArgumentTypeError(f"--out={text} cannot be used as a run folder ({error.strerror or error}):"
                                         " name a folder you can write to") from None
    return path


def dataset(recipe: str, embedded, kinds, classes=None):
    """An argparse type for --dataset: an embedded set of a kind the recipe reads, or ``tfds:NAME``.

    A tfds name is checked for its form here; whether tensorflow-datasets knows
    it is checked when it is loaded (its catalogue imports TensorFlow).
    """
    from zoo.data import EMBEDDED_KINDS

    def parse(text: str) -> str:
        if text.startswith("tfds:"):
            if not _TFDS_NAME.match(text[len("tfds:"):]):
                raise argparse.ArgumentTypeError(
                    f"--dataset={text} is not a tensorflow-datasets name: use tfds:NAME with lower-case letters, "
                    "digits and _, e.g. tfds:mnist")
            return text
        if text not in EMBEDDED_KINDS:
            import difflib

            close = difflib.get_close_matches(text, list(EMBEDDED_KINDS), n=2)
            hint = f" (did you mean {' or '.join(close)}?)" if close else ""
            raise argparse.ArgumentTypeError(f"--dataset={text} is not a dataset{hint}: use one of "
                                             f"{', '.join(embedded)} (embedded) or tfds:NAME")
        kind, count = EMBEDDED_KINDS[text]
        if kind not in kinds or (classes is not None and count != classes):
            reads = " or ".join(kinds) + (f" with {classes} classes" if classes else "")
            raise argparse.ArgumentTypeError(
                f"--dataset={text} holds {kind} data with {count} classes; zoo.recipes.{recipe} reads {reads}: "
                f"use {', '.join(embedded)}")
        return text

    return parse


# ---------------------------------------------------------------------------- the parser

def recipe_parser(recipe: str, doc: str, defaults: Defaults) -> RecipeParser:
    """A parser with the flags every recipe shares, defaults from ``defaults``; add the recipe's own after."""
    parser = RecipeParser(prog=f"python -m zoo.recipes.{recipe}", description=doc.split("\n\n")[0],
                          formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--epochs", type=integer("--epochs", 1, 1_000_000), default=defaults.epochs,
                        help=defaults.epochs_help + " (default: %(default)s)")
    if defaults.batch_size is not None:
        parser.add_argument("--batch-size", type=integer("--batch-size", 1, 1_000_000), default=defaults.batch_size,
                            help="examples per step (default: %(default)s)")
    parser.add_argument("--learning-rate", type=number("--learning-rate", 0, above=True),
                        default=defaults.learning_rate, help="Adam step size (default: %(default)s)")
    parser.add_argument("--seed", type=integer("--seed", 0, SEED_MAX), default=defaults.seed,
                        help="seed for the split, the weights and the shuffling (default: %(default)s)")
    parser.add_argument("--out", type=out_folder, default=None,
                        help=f"run folder (default: runs/{recipe}-<timestamp>); rerunning into an unfinished "
                             "one resumes it")
    parser.add_argument("--overwrite", action="store_true",
                        help="start again in an --out that holds a finished or differently-flagged run")
    quick = ", ".join(f"--{key.replace('_', '-')} {value}" for key, value in defaults.quick.items())
    parser.add_argument("--quick", action="store_true",
                        help=f"a small budget for a smoke test, not a result ({quick}; flags given win)")
    if defaults.datasets:
        parser.add_argument("--dataset", type=dataset(recipe, defaults.datasets, defaults.kinds, defaults.classes),
                            default=defaults.datasets[0],
                            help=f"embedded ({', '.join(defaults.datasets)}) or tfds:NAME, online or from "
                                 "TFDS_DATA_DIR (default: %(default)s)")
    if defaults.tunable:
        parser.add_argument("--tune", default="off", choices=TUNE,
                            help="search the model's KerasTuner space first, then retrain the best (default: off)")
        parser.add_argument("--max-trials", type=integer("--max-trials", 1, 10_000), default=defaults.max_trials,
                            help="trials when tuning (default: %(default)s)")
    if defaults.distributable:
        parser.add_argument("--distribute", default="auto", choices=DISTRIBUTE,
                            help="auto: all GPUs when there are several; mirrored: all local devices; "
                                 "multi_worker: the cluster in TF_CONFIG (default: auto)")
    parser.add_argument("--precision", default=defaults.precision, choices=PRECISIONS,
                        help="Keras dtype policy (default: %(default)s)")
    parser.add_argument("--jit-compile", default=defaults.jit_compile, choices=JIT_COMPILE,
                        help="compile training with XLA: on, off, or auto (Keras's choice: off on CPUs) "
                             "(default: %(default)s)")
    parser.set_defaults(_recipe=recipe, _defaults=defaults)
    return parser


def jit_compile(args):
    """``--jit-compile`` as ``Model.compile`` takes it: True, False or "auto"."""
    return {"on": True, "off": False}.get(getattr(args, "jit_compile", "auto"), "auto")


def parse(parser: RecipeParser, argv=None, check=None):
    """Parse ``argv``; ``--quick`` changes the defaults (flags given explicitly win); ``check(args)`` may refuse.

    ``check`` raises ``FlagError`` for combinations of flags no single flag's type can judge.
    """
    argv = list(sys.argv[1:] if argv is None else argv)
    defaults: Defaults = parser.get_default("_defaults")
    if "--quick" in argv:
        parser.set_defaults(**defaults.quick)
    args = parser.parse_args(argv)
    recipe = vars(args).pop("_recipe")
    del args._defaults
    if getattr(args, "distribute", None) == "multi_worker":
        if not defaults.multi_worker:
            raise FlagError(f"--distribute multi_worker is not available in zoo.recipes.{recipe}: it trains with fit, "
                            "which fails under MultiWorkerMirroredStrategy on this Keras (keras-team/keras#20585). "
                            "Use --distribute auto or mirrored here, or zoo.recipes.mlp for multi-worker training.")
        if getattr(args, "tune", "off") != "off":
            raise FlagError("--tune with --distribute multi_worker is not supported: spread a search over machines "
                            "with KerasTuner's own distributed mode instead (KERASTUNER_TUNER_ID, "
                            "KERASTUNER_ORACLE_IP, KERASTUNER_ORACLE_PORT; locally: zoo launch --workers 2 "
                            "--tuning -- zoo.recipes.mlp --tune ...).")
    if check is not None:
        check(args)
    args.argv = argv  # for results.json's "command"
    return args


def run_main(main, argv=None) -> int:
    """Run a recipe's ``main``: a ``ZooError`` becomes one ``error:`` line and its exit status.

    Every other exception is a bug and keeps its traceback. TensorFlow's native start-up
    logs are left out of the terminal (``zoo.console``; ``ZOO_VERBOSE=1`` shows them).
    """
    from zoo.console import native_logs_filtered
    from zoo.tuning import SearchWorkerDone

    with native_logs_filtered():
        try:
            main(argv)
        except SearchWorkerDone as done:  # a distributed-search worker: the chief reports the results
            print(done, file=sys.stderr)
        except ZooError as error:
            print(f"error: {error}", file=sys.stderr)
            return error.exit_code
    return 0
