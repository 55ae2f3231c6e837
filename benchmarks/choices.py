"""Benchmark: how each recipe's defaults were chosen. Every setting tried, scored on validation.

    python benchmarks/choices.py mlp                 # writes benchmarks/results/choices_mlp.json
    python benchmarks/choices.py mlp --quick         # a smoke test: each variant with --quick's epochs
    python benchmarks/choices.py --list
    python benchmarks/choices.py mlp --only "256 units, dropout 0.3"   # rerun one variant, keep the others

Each variant is a full run of the recipe itself (``python -m zoo.recipes.<name>``
with the variant's flags) in a temporary folder; its results.json gives the
validation accuracy of the kept weights and the test accuracy (a language
model's: bits per character, ``CHOSEN_ON``). The variant with the best
validation score wins; among equals, the one with the better second
validation measure where the recipe names one (``THEN_ON``: a validation
score every variant maxes out cannot choose), then the one listed first
(variants are listed simplest first). The test accuracies are recorded so a
reader can see what each choice would have scored, but nothing is chosen on
them. The recipe's defaults must be the winner (tests/test_results.py
checks it with ``is_default``). Several ``--only`` runs may add to one
report at once: each reads the report again when its variants are done and
writes it back under a lock (``zoo.files.locked``), so none drops another's rows.
"""

from __future__ import annotations

import argparse
import importlib
import json
import shlex
import sys
from pathlib import Path

import recipe_runs  # benchmarks/, beside this script

RESULTS = Path(__file__).resolve().parent / "results"

# Simplest first: the first of equal validation scores wins. Each variant names every flag it sets.
_MLP = {"hidden_units": [256, 256], "dropout": 0.3, "shift": 1, "label_smoothing": 0.1}
_CONVNET = {"filters": [16, 32], "dense_units": 64, "dropout": 0.3, "shift": 2, "label_smoothing": 0.1}
_CONVNET_1D = {"filters": [32, 64, 32], "kernel_sizes": [8, 5, 3], "batch_norm": True}
_CONVNET_LSTM = {"filters": [16, 32], "dense_units": 64, "lstm_units": 64, "dropout": 0.3, "shift": 2,
                 "label_smoothing": 0.1}
# mini_gpt's first training: constant Adam, a window every 64 characters, no weight decay, early stopping alone.
_MINI_GPT = {"num_layers": 4, "dropout": 0.1, "learning_rate": 0.001, "epochs": 100, "schedule": "constant",
             "train_stride": 64, "weight_decay": 0.0, "patience": 5}
# Then: twice the training windows, weight decay, and a step size that warms up and falls along a cosine in 10 epochs.
_MINI_GPT_COSINE = {"num_layers": 4, "dropout": 0.3, "learning_rate": 0.002, "epochs": 10, "schedule": "cosine",
                    "train_stride": 32, "weight_decay": 0.1, "patience": 3}
# Then the chosen dropout 0.2 and 3e-3, after one pass over the other English the packages ship (--pretrain-text).
_MINI_GPT_PRETRAINED = {**_MINI_GPT_COSINE, "learning_rate": 0.003, "dropout": 0.2, "pretrain_text": "all"}
_SENTIMENT = {"members": 3, "wide_ngrams": 2, "label_smoothing": 0.0, "weight_decay": 0.0,
              "wide_characters": 0}


def _sentiment_variants(one: str, many: str, unigrams: bool = False) -> dict:
    """The sentiment recipes' variants, simplest first, named after the recipe's model ("LSTM", "LSTMs")."""
    wide = f"{many} + 1-2-gram wide model"
    return {
        f"1 {one}": {**_SENTIMENT, "members": 1, "wide_ngrams": 0},
        **({f"1 {one} + 1-gram wide model": {**_SENTIMENT, "members": 1, "wide_ngrams": 1}} if unigrams else {}),
        f"1 {one} + 1-2-gram wide model": {**_SENTIMENT, "members": 1},
        f"3 {many}": {**_SENTIMENT, "wide_ngrams": 0},
        f"3 {wide}": _SENTIMENT,
        f"3 {wide}, label smoothing 0.1": {**_SENTIMENT, "label_smoothing": 0.1},
        f"3 {wide}, weight decay 0.05": {**_SENTIMENT, "weight_decay": 0.05},
        f"5 {wide}": {**_SENTIMENT, "members": 5},
        f"3 {wide}, label smoothing 0.2": {**_SENTIMENT, "label_smoothing": 0.2},
        f"3 {wide}, label smoothing 0.1, weight decay 0.05": {**_SENTIMENT, "label_smoothing": 0.1,
                                                               "weight_decay": 0.05},
        f"5 {wide}, label smoothing 0.1": {**_SENTIMENT, "members": 5, "label_smoothing": 0.1},
    }


def _then_again(variants: dict, chosen: str, change: str, **settings) -> dict:
    """``variants`` and, last, ``chosen`` again with ``settings`` on top, named "<chosen>, <change>"."""
    return {**variants, f"{chosen}, {change}": {**variants[chosen], **settings}}


def _with_more(variants: dict, chosen: str) -> dict:
    """The sentiment variants tried after the first table, each on top of the choice so far: the sequence
    model's architecture searched by KerasTuner (the recipe's own --tune, on validation, before the members
    train), thesaurus categories in the wide model (--thesaurus: zoo.layers.WordCategories over the packaged
    thesaurus), character 1-5-grams in the wide model (--wide-characters 5: a second TextVectorization)."""
    variants = _then_again(variants, chosen, "architecture searched by KerasTuner (Bayesian, 10 trials)",
                           tune="bayesian", max_trials=10)
    variants = _then_again(variants, chosen, "thesaurus categories in the wide model", thesaurus=True)
    return _then_again(variants, chosen, "character 1-5-grams in the wide model", wide_characters=5)


_LSTM_CHOSEN = "3 LSTMs + 1-2-gram wide model, label smoothing 0.1, weight decay 0.05"
_TRANSFORMER_CHOSEN = "5 Transformers + 1-2-gram wide model"
_INCEPTION = {"stem_filters": 32, "stages": [2, 1], "width": 64, "dropout": 0.3, "shift": 2, "label_smoothing": 0.1}
VARIANTS = {
    "mlp": {
        "rule of thumb: 32 units, dropout 0.1": {**_MLP, "hidden_units": [32], "dropout": 0.1, "shift": 0,
                                                 "label_smoothing": 0.0},
        "32 units, dropout 0.1, shifts, label smoothing": {**_MLP, "hidden_units": [32], "dropout": 0.1},
        "128 units, dropout 0.2, shifts, label smoothing": {**_MLP, "hidden_units": [128], "dropout": 0.2},
        "256 units, dropout 0.3": {**_MLP, "hidden_units": [256], "shift": 0, "label_smoothing": 0.0},
        "256 units, dropout 0.3, shifts": {**_MLP, "hidden_units": [256], "label_smoothing": 0.0},
        "256 units, dropout 0.3, label smoothing": {**_MLP, "hidden_units": [256], "shift": 0},
        "256 units, dropout 0.3, shifts, label smoothing": {**_MLP, "hidden_units": [256]},
        "256 units, dropout 0.5, shifts, label smoothing": {**_MLP, "hidden_units": [256], "dropout": 0.5},
        "512 units, dropout 0.4, shifts, label smoothing": {**_MLP, "hidden_units": [512], "dropout": 0.4},
        "2x256 units, dropout 0.3": {**_MLP, "hidden_units": [256, 256], "shift": 0, "label_smoothing": 0.0},
        "2x256 units, dropout 0.3, label smoothing": {**_MLP, "hidden_units": [256, 256], "shift": 0},
        "2x256 units, dropout 0.3, shifts, label smoothing": _MLP,
    },
    "convnet": {
        "16-32 filters, dense 64": {**_CONVNET, "dropout": 0.0, "shift": 0, "label_smoothing": 0.0},
        "16-32 filters, dense 64, dropout 0.3": {**_CONVNET, "shift": 0, "label_smoothing": 0.0},
        "16-32 filters, dense 64, dropout 0.3, 1-pixel shifts": {**_CONVNET, "shift": 1, "label_smoothing": 0.0},
        "16-32 filters, dense 64, dropout 0.3, 2-pixel shifts": {**_CONVNET, "label_smoothing": 0.0},
        "16-32 filters, dense 64, dropout 0.3, 2-pixel shifts, label smoothing": _CONVNET,
        "32-64 filters, dense 128, dropout 0.3, 2-pixel shifts, label smoothing": {
            **_CONVNET, "filters": [32, 64], "dense_units": 128},
        "64-128 filters, dense 256, dropout 0.3, 2-pixel shifts, label smoothing": {
            **_CONVNET, "filters": [64, 128], "dense_units": 256},
    },
    "convnet_1d": {
        "16-32-16 filters": {**_CONVNET_1D, "filters": [16, 32, 16]},
        "16-32-16 filters, no batch norm": {**_CONVNET_1D, "filters": [16, 32, 16], "batch_norm": False},
        "32-64-32 filters": _CONVNET_1D,
        "32-64-32 filters, no batch norm": {**_CONVNET_1D, "batch_norm": False},
        "64-128-64 filters": {**_CONVNET_1D, "filters": [64, 128, 64]},
    },
    "inception": {
        "width 32, one module per stage": {**_INCEPTION, "width": 32, "stages": [1, 1]},
        "width 32, modules 2-1": {**_INCEPTION, "width": 32},
        "width 64, one module per stage": {**_INCEPTION, "stages": [1, 1]},
        "width 64, modules 2-1": _INCEPTION,
    },
    "convnet_lstm": {
        "no shifts, dropout or label smoothing": {**_CONVNET_LSTM, "dropout": 0.0, "shift": 0, "label_smoothing": 0.0},
        "2-pixel shifts": {**_CONVNET_LSTM, "dropout": 0.0, "label_smoothing": 0.0},
        "2-pixel shifts, dropout 0.3, label smoothing": _CONVNET_LSTM,
    },
    "mini_gpt": {
        "2 blocks, dropout 0.1": {**_MINI_GPT, "num_layers": 2},
        "2 blocks, dropout 0.3": {**_MINI_GPT, "num_layers": 2, "dropout": 0.3},
        "4 blocks, dropout 0.1": _MINI_GPT,
        "4 blocks, dropout 0.3": {**_MINI_GPT, "dropout": 0.3},
        "4 blocks, dropout 0.3, windows every 32 characters, weight decay 0.1, cosine from 2e-3 over 10 epochs":
            _MINI_GPT_COSINE,
        "4 blocks, dropout 0.3, windows every 32 characters, weight decay 0.1, cosine from 3e-3 over 10 epochs":
            {**_MINI_GPT_COSINE, "learning_rate": 0.003},
        "4 blocks, dropout 0.3, windows every 32 characters, weight decay 0.1, cosine from 3e-3 over 14 epochs":
            {**_MINI_GPT_COSINE, "learning_rate": 0.003, "epochs": 14},
        "4 blocks, dropout 0.4, windows every 32 characters, weight decay 0.1, cosine from 3e-3 over 10 epochs":
            {**_MINI_GPT_COSINE, "learning_rate": 0.003, "dropout": 0.4},
        "4 blocks, dropout 0.2, windows every 32 characters, weight decay 0.1, cosine from 3e-3 over 10 epochs":
            {**_MINI_GPT_COSINE, "learning_rate": 0.003, "dropout": 0.2},
        "4 blocks, dropout 0.1, windows every 32 characters, weight decay 0.1, cosine from 3e-3 over 10 epochs":
            {**_MINI_GPT_COSINE, "learning_rate": 0.003, "dropout": 0.1},
        # Then the same GPT first reads the other English the packages ship, once (its own cosine from 3e-3), and
        # the play after it from a fresh optimizer; the n-gram baseline reads that text too.
        "the chosen dropout 0.2 variant after one pass over the other English text, the play's cosine from 3e-3":
            _MINI_GPT_PRETRAINED,
        "the chosen dropout 0.2 variant after one pass over the other English text, the play's cosine from 2e-3":
            {**_MINI_GPT_PRETRAINED, "learning_rate": 0.002},
        "the chosen dropout 0.2 variant after one pass over the other English text, the play's cosine from 1e-3":
            {**_MINI_GPT_PRETRAINED, "learning_rate": 0.001},
        # The same in bfloat16 (--precision mixed_bfloat16: 1.37x the steps a second on this CPU's AMX units,
        # benchmarks/results/speed.json), and the time it saves spent on a second pass over the other text.
        "the chosen pretrained variant in bfloat16":
            {**_MINI_GPT_PRETRAINED, "precision": "mixed_bfloat16"},
        "the chosen pretrained variant in bfloat16, two passes over the other English text":
            {**_MINI_GPT_PRETRAINED, "precision": "mixed_bfloat16", "pretrain_epochs": 2},
        "the chosen pretrained variant in bfloat16, two passes over the other English text, the play's cosine "
        "over 7 epochs": {**_MINI_GPT_PRETRAINED, "precision": "mixed_bfloat16", "pretrain_epochs": 2, "epochs": 7},
    },
    "attention_seq2seq": {
        "Adam 1e-3, decoder 64": {"learning_rate": 0.001, "decoder_units": 64},
        "Adam 3e-3, decoder 64": {"learning_rate": 0.003, "decoder_units": 64},
        "Adam 3e-3, decoder 128": {"learning_rate": 0.003, "decoder_units": 128},
    },
    # The fine-tuned classifier alone, or averaged with the sentiment recipes' wide model (the same for both arms).
    "mini_bert": {
        "pretrained classifier alone": {"members": 1, "wide_ngrams": 0, "wide_characters": 0},
        "averaged with a 1-2-gram wide model": {"members": 1, "wide_ngrams": 2, "wide_characters": 0},
        "averaged with a 1-2-gram wide model with character 1-5-grams": {"members": 1, "wide_ngrams": 2,
                                                                         "wide_characters": 5},
        "3 pretrained classifiers, averaged with the same wide model": {"members": 3, "wide_ngrams": 2,
                                                                        "wide_characters": 5},
    },
    "lstm_sentiment": _with_more(_sentiment_variants("LSTM", "LSTMs", unigrams=True), _LSTM_CHOSEN),
    "mini_transformer": _with_more(_sentiment_variants("Transformer", "Transformers"), _TRANSFORMER_CHOSEN),
}


def command_line(settings: dict) -> list[str]:
    """``{"hidden_units": [256], "dropout": 0.3}`` -> ``["--hidden-units", "256", "--dropout", "0.3"]``.

    A True or False setting is a switch: ``{"batch_norm": False}`` -> ``["--no-batch-norm"]``.
    """
    flags = []
    for name, value in settings.items():
        flag = name.replace("_", "-")
        if isinstance(value, bool):
            flags.append(f"--{flag}" if value else f"--no-{flag}")
            continue
        flags.append("--" + flag)
        flags += [str(item) for item in value] if isinstance(value, list) else [str(value)]
    return flags


def is_default(recipe: str, settings: dict) -> bool:
    """Whether the recipe's defaults are these settings (each compared as the recipe parses it: mini_gpt's
    ``"pretrain_text": "all"`` is the tuple of texts its default also becomes)."""
    parse_args = importlib.import_module(f"zoo.recipes.{recipe}").parse_args
    defaults, given = vars(parse_args([])), vars(parse_args(command_line(settings)))
    return all(defaults[name] == given[name] for name in settings)


# Flags every variant of a recipe gets that are not choices: the comparison arms (convnet's MLP, inception's
# plain stack, mini_bert's classifier from scratch) do not change the model chosen.
FIXED_FLAGS = {"convnet": ["--skip-mlp"], "inception": ["--skip-plain"], "attention_seq2seq": ["--skip-no-attention"],
               "mini_bert": ["--skip-scratch"]}


# What each recipe's variants are compared on (validation accuracy, higher is better, unless named here).
CHOSEN_ON = {"mini_gpt": ("validation_bits_per_character", "lower"),
             "attention_seq2seq": ("validation_exact_match", "higher")}


# What decides between variants of equal validation score, where a recipe names it: attention_seq2seq's variants
# can all answer every validation date right, and then the one surer of its right answers is chosen.
THEN_ON = {"attention_seq2seq": ("validation_loss", "lower")}


def chosen_on(recipe: str) -> tuple[str, str]:
    """(the validation metric a recipe's variants are compared on, "higher" or "lower" is better)."""
    return CHOSEN_ON.get(recipe, ("validation_accuracy", "higher"))


def compared_on(recipe: str) -> list[tuple[str, str]]:
    """The validation measures a recipe's variants are compared on, in order: ``chosen_on``, then ``THEN_ON``'s."""
    return [chosen_on(recipe), *([THEN_ON[recipe]] if recipe in THEN_ON else [])]


def described(recipe: str) -> str:
    """How a recipe's variants are compared, in words: "validation exact match, then validation loss (lower is
    better)"."""
    return ", then ".join(key.replace("_", " ") + f" ({better} is better)" * (better != "higher")
                          for key, better in compared_on(recipe))


# Settings that say how long a variant trains. Under --quick the recipe's smoke-test budget replaces them, as
# flags given would otherwise win over it: mini_gpt's first variants ask for 100 epochs (stopped early).
BUDGET = ("epochs",)


def run_variant(recipe: str, settings: dict, quick: bool) -> dict:
    """One variant: the recipe run with its settings as flags (under ``quick``, less ``BUDGET``); its row."""
    given = {name: value for name, value in settings.items() if not (quick and name in BUDGET)}
    flags = [*command_line(given), *FIXED_FLAGS.get(recipe, []), *(["--quick"] if quick else [])]
    results, seconds = recipe_runs.run(recipe, flags)
    metrics = results["metrics"]
    arms = metrics.get("arms", {})   # attention_seq2seq's and mini_bert's kept arm has the epochs
    row = {"settings": settings, "validation_accuracy": metrics.get("validation_accuracy"),
           "test_accuracy": metrics.get("test_accuracy"),
           "epochs_run": metrics.get("epochs_run", (arms.get("attention") or arms.get("pretrained") or {}).get(
               "epochs_run")),
           "seconds": round(seconds, 1)}
    for key in ("validation_bits_per_character", "test_bits_per_character", "validation_exact_match",
                "test_exact_match", "validation_loss"):
        if key in metrics:
            row[key] = metrics[key]
    return row


# The longest a full default run may take on a 2-core CPU (10 minutes). A variant that took longer is measured
# and shown, but is not chosen: it could not be the default. (All the recipes with variants here have this budget.)
TIME_BUDGET_S = 600


def best_variant(recipe: str, rows: dict) -> str:
    """The variant with the best validation score among those within ``TIME_BUDGET_S`` (among all, where none
    is); among equals, the one with the better ``THEN_ON`` measure (where the recipe names one), then the one
    listed first (the simplest)."""
    within = [name for name, row in rows.items() if row["seconds"] <= TIME_BUDGET_S] or list(rows)
    return max(within, key=lambda name: tuple((1 if better == "higher" else -1) * rows[name][key]
                                              for key, better in compared_on(recipe)))   # max keeps the first of equals


def measure(recipe: str, quick: bool = False, only=None) -> dict:
    """``{variant: row}``: each of the recipe's variants (``only`` these) run in turn, in the listed order."""
    rows = {}
    key, _ = chosen_on(recipe)
    for name, flags in VARIANTS[recipe].items():
        if only is None or name in only:
            rows[name] = run_variant(recipe, flags, quick)
            test_key = key.replace("validation_", "test_")
            print(f"{recipe}: {name}: {key} {rows[name][key]:.4f}, {test_key} {rows[name][test_key]:.4f}",
                  flush=True)
    return rows


def choose(recipe: str, quick: bool, only, earlier: dict | None, measured: dict) -> dict:
    """The report: the variants ``measured`` (``only`` these, or all), the rest kept from ``earlier`` (the
    committed report), and the one chosen on validation."""
    from zoo.runs import environment

    rows = {name: measured[name] if name in measured else earlier["variants"][name] for name in VARIANTS[recipe]}
    chosen = best_variant(recipe, rows)
    report = {"benchmark": "benchmarks/choices.py", "command": f"python benchmarks/choices.py {recipe}"
              + (" --quick" if quick else ""), "recipe": recipe, "quick": quick,
              "chosen_on": described(recipe), "time_budget_s": TIME_BUDGET_S,
              "chosen": chosen, "variants": rows,
              "environment": (earlier or {}).get("environment") if only is not None else environment()}
    if only is not None:   # which rows were measured later, how and where (the plain command reruns them all)
        added = {"command": report["command"] + " --only " + " ".join(shlex.quote(name) for name in only),
                 "variants": list(only), "environment": environment()}
        report["added"] = [*(earlier or {}).get("added", []), added]
    return report


def earlier_report(recipe: str, path: Path, quick: bool, only) -> dict:
    """The committed report that ``--only`` adds to: it must hold every variant that is not rerun."""
    unknown = [name for name in only if name not in VARIANTS[recipe]]
    if unknown:
        raise SystemExit(f"choices.py: {recipe} has no variant {', '.join(map(repr, unknown))}; "
                         "python benchmarks/choices.py --list names them")
    if not path.exists():
        raise SystemExit(f"choices.py: --only adds to {path}, which does not exist: run without --only first")
    earlier = json.loads(path.read_text())
    if earlier["quick"] != quick:
        raise SystemExit(f"choices.py: {path} was made {'with' if earlier['quick'] else 'without'} --quick and "
                         f"this run is {'with' if quick else 'without'} it: rows of both kinds cannot share a "
                         "report; run without --only")
    missing = [name for name in VARIANTS[recipe] if name not in only and name not in earlier["variants"]]
    if missing:
        raise SystemExit(f"choices.py: {path} lacks {', '.join(map(repr, missing))}: add those variants to --only, "
                         "or run without it")
    return earlier


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("recipe", nargs="?", choices=sorted(VARIANTS))
    parser.add_argument("--quick", action="store_true", help="each variant with --quick (a smoke test)")
    parser.add_argument("--list", action="store_true", help="print the variants and exit")
    parser.add_argument("--out", type=Path, help="JSON file (default: benchmarks/results/choices_RECIPE.json)")
    parser.add_argument("--only", nargs="+", metavar="VARIANT",
                        help="run only these variants and add them to the report at --out, which keeps the "
                             "others' numbers (a variant added to the list later)")
    args = parser.parse_args(argv)
    if args.list or not args.recipe:
        print(json.dumps(VARIANTS, indent=2))
        return 0
    from zoo.files import atomic_write_json, locked

    out = args.out or RESULTS / f"choices_{args.recipe}.json"
    if args.only:
        earlier_report(args.recipe, out, args.quick, args.only)   # refused now, not after minutes of runs
    measured = measure(args.recipe, args.quick, args.only)
    with locked(out):
        # Read again: another --only run may have added its rows while these ran; they stay.
        earlier = earlier_report(args.recipe, out, args.quick, args.only) if args.only else None
        report = choose(args.recipe, args.quick, args.only, earlier, measured)
        atomic_write_json(out, report)
    default = is_default(args.recipe, report["variants"][report["chosen"]]["settings"])
    verdict = ("a --quick smoke test, which chooses nothing: the defaults follow the full report" if args.quick
               else "the recipe defaults to it" if default else "NOT the recipe's default: make it the default")
    print(f"chose {report['chosen']!r} on validation; {verdict}; wrote {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
