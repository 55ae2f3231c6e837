"""Recipe: an encoder-decoder with attention rewrites dates as people write them in ISO form.

    python -m zoo.recipes.attention_seq2seq              # 20,000 generated dates, offline
    python -m zoo.recipes.attention_seq2seq --quick      # a smoke test
    python -m zoo.recipes.attention_seq2seq --tune random --max-trials 6
    zoo predict runs/attention_seq2seq --text "the 4th of March 1987" --text "3/4/87"

The story: a sequence in, another sequence out (many-to-many). The recipe's
generator writes calendar days from 1950 to 2049 in 16 ways people write dates
("the 4th of March 1987", "Wed 4 Mar 1987", "3/4/87" month first, "4.3.87" day
first...), and the network learns to answer 1987-03-04, one character per output
step, from examples alone: nobody tells it what a month is. The days are shared
out first, so every test date is a day the network never saw. The same run
trains the same network without attention (the encoder's final states are all
the decoder gets) on the same dates and budget, and scores python-dateutil's
parser, the tool a programmer would use, with its settings chosen on the
validation dates. The measure is exact match: all ten characters right. The run
keeps the attention maps of a few test dates (attention.json): which written
characters each output character read. Every setting below was chosen on the
validation dates.
Writes results.json, model.keras (the attention model), history*.csv, curves*.png
and TensorBoard logs to --out.
"""

from __future__ import annotations

from zoo import model_card

# Flags and their defaults, with the reason beside each.
DATA = "dates"             # zoo.data.GENERATED: written dates and their ISO form, from zoo.data.dates
EPOCHS = 30                # the budget of each arm: both stay within 10 minutes on a 2-core CPU
BATCH_SIZE = 64
# Chosen on validation among 3 variants (benchmarks/results/choices_attention_seq2seq.json): all three answered every
# validation date right, so the lowest validation loss chose: 1.2e-6, against 2.3e-6 with a 64-unit decoder and
# 1.3e-5 with Adam's default step of 1e-3.
LEARNING_RATE = 3e-3
TRAIN_DATES = 20_000       # generated written dates to learn from
EVALUATION_DATES = 2_000   # validation and test dates each, of days never trained on
SOURCE_LENGTH = 32         # characters of input; the longest written form has 29
EMBEDDING_DIM = 32
ENCODER_UNITS = 32
DECODER_UNITS = 128
ATTENTION_UNITS = 32
PATIENCE = 5               # epochs without a better validation loss before stopping
SEED = 0
QUICK_EPOCHS = 2
QUICK_TRAIN_DATES = 1_000  # --quick: 1,000 training dates, 200 validation and test dates
QUICK_EVALUATION_DATES = 200
ATTENTION_EXAMPLES = ("the 4th of March 1987", "Wednesday, March 4, 1987", "3/4/87 (month first)",
                      "4.3.87 (day first)")   # the forms whose first test date attention.json keeps
SAMPLES = 12               # test dates with the model's answers that results.json keeps
LEARNED_ACCURACY = 0.999   # each arm records the first epoch its validation characters reach this
# XLA on: 1.81x faster per epoch (1.63x without attention) on a 2-core CPU, its compiling paid back within the
# run's 30 epochs (benchmarks/results/xla.json, python benchmarks/xla.py attention_seq2seq).
JIT_COMPILE = "on"
QUICK_JIT_COMPILE = "auto"   # --quick: two short epochs do not pay back XLA's compiling
USE = model_card.Use(
    intended_use=("Teaching: what attention adds to an encoder-decoder (many-to-many), measured against the same "
                  "network without attention and a date parser; rewriting written dates as YYYY-MM-DD."),
    limits=(
        "It knows only the 16 written forms of the recipe's generator, in English, for days from 1950 to 2049: "
        "other forms, languages or years were never measured.",
        "Numbers with slashes are read month first (3/4/87 is March 4th) and with dots day first (4.3.87 is 4 "
        "March), as the generator writes them; two-digit years 50-99 are 19xx and 00-49 are 20xx.",
        "It always writes a date, even for text that is not one, and can write a day that does not exist.",
    ),
    written_for={},
)


def parse_args(argv=None):
    from zoo import command

    parser = command.recipe_parser("attention_seq2seq", __doc__, command.Defaults(
        epochs=EPOCHS, batch_size=BATCH_SIZE, learning_rate=LEARNING_RATE, seed=SEED,
        quick={"epochs": QUICK_EPOCHS, "train_dates": QUICK_TRAIN_DATES, "jit_compile": QUICK_JIT_COMPILE},
        jit_compile=JIT_COMPILE))
    parser.add_argument("--train-dates", type=command.integer("--train-dates", 1, 10_000_000), default=TRAIN_DATES,
                        help="generated dates to train on (default: %(default)s)")
    parser.add_argument("--embedding-dim", type=command.integer("--embedding-dim", 1, 4096), default=EMBEDDING_DIM,
                        help="size of each input character's vector (default: %(default)s)")
    parser.add_argument("--encoder-units", type=command.integer("--encoder-units", 1, 4096), default=ENCODER_UNITS,
                        help="LSTM units in each direction of the encoder (default: %(default)s)")
    parser.add_argument("--decoder-units", type=command.integer("--decoder-units", 1, 4096), default=DECODER_UNITS,
                        help="size of the decoder's LSTM state (default: %(default)s)")
    parser.add_argument("--attention-units", type=command.integer("--attention-units", 1, 4096),
                        default=ATTENTION_UNITS, help="size of the space attention scores are computed in "
                                                      "(default: %(default)s)")
    parser.add_argument("--patience", type=command.integer("--patience", 1), default=PATIENCE,
                        help="epochs without a better validation loss before stopping (default: %(default)s)")
    parser.add_argument("--skip-no-attention", action="store_true",
                        help="do not train the same network without attention (the comparison arm)")
    return command.parse(parser, argv)


def build(args, dates, hp=None, attention=True):
    """The zoo's attention_seq2seq (or its twin without attention) for the dates' vocabularies; compiled."""
    import keras

    import zoo
    from zoo import command, tuning

    overrides = zoo.info("attention_seq2seq").search_space(hp) if hp else {
        "embedding_dim": args.embedding_dim, "encoder_units": args.encoder_units,
        "decoder_units": args.decoder_units, "attention_units": args.attention_units}
    model = zoo.get("attention_seq2seq", source_vocab=len(dates.source_characters), target_vocab=dates.num_classes,
                    target_length=dates.target_length, attention=attention,
                    name="dates" if attention else "dates_no_attention", **overrides)
    model.compile(optimizer=keras.optimizers.Adam(tuning.learning_rate(hp, args.learning_rate)),
                  loss="sparse_categorical_crossentropy", metrics=["accuracy"], jit_compile=command.jit_compile(args))
    return model


def answers(model, dates, split: str) -> list[str]:
    """The model's ISO answer to each date of a split, in order."""
    import numpy as np

    probabilities = model.predict(dates.evaluation_batches(split, 256), verbose=0)
    return ["".join(dates.class_names[i] for i in row) for row in np.argmax(probabilities, axis=-1)]


def exact_match(model, dates, split: str) -> dict:
    """The share of a split's dates answered with all characters right, overall and for each written form."""
    got = answers(model, dates, split)
    right = [answer == iso for answer, (_, iso) in zip(got, dates.texts[split])]
    forms = {}
    for form, hit in zip(dates.forms[split], right):
        forms.setdefault(form, []).append(hit)
    return {f"{split}_exact_match": round(sum(right) / len(right), 4),
            f"{split}_exact_match_by_form": {form: round(sum(hits) / len(hits), 4) for form, hits in forms.items()}}


def validation_loss(model, dates) -> float:
    """The kept weights' mean cross-entropy per character on validation, to 4 significant digits: what decides
    between settings whose validation dates are all answered right (benchmarks/choices.py)."""
    loss, _ = model.evaluate(dates.evaluation_batches("validation", 256), verbose=0)
    return float(f"{loss:.4g}")


def scored(model, fitted, dates, run) -> dict:
    """One arm's numbers: exact match on validation and test, character accuracy, how fast it learned, size."""
    scores = run.evaluate(model, dates)
    # How fast: the first epoch whose validation characters were right 999 times in 1,000.
    reached = next((epoch for epoch, row in enumerate(fitted.rows, 1)
                    if row.get("val_accuracy", 0) >= LEARNED_ACCURACY), None)
    return {**exact_match(model, dates, "validation"), **exact_match(model, dates, "test"),
            "test_character_accuracy": scores["test_accuracy"],
            "validation_character_accuracy": scores["validation_accuracy"],
            "validation_loss": validation_loss(model, dates),
            "epochs_to_validation_character_accuracy_0999": reached,
            "epochs_run": fitted.epochs_run, "best_epoch": fitted.best_epoch, "params": int(model.count_params())}


def attention_maps(model, dates) -> dict:
    """attention.json: for the first test date of each form in ATTENTION_EXAMPLES, what each output step read."""
    from zoo.models.seq2seq import attention_weights

    examples = []
    for form in ATTENTION_EXAMPLES:
        index = dates.forms["test"].index(form) if form in dates.forms["test"] else None
        if index is None:
            continue
        written, iso = dates.texts["test"][index]
        ids = dates.encode(written)
        weights = attention_weights(model, ids)[0, :, :len(written)]
        answer = "".join(dates.class_names[i] for i in model.predict(ids, verbose=0)[0].argmax(axis=-1))
        examples.append({"form": form, "written": written, "iso": iso, "answer": answer,
                         "weights": [[round(float(value), 4) for value in row] for row in weights]})
    return {"chosen_as": "the first test date of each of these written forms", "examples": examples}


def main(argv=None):
    args = parse_args(argv)
    import keras
    from zoo import baselines, data
    from zoo.runs import Run
    with Run("attention_seq2seq", args) as run:
        # Data: the days are shared out first, so the validation and test dates are days never trained on.
        evaluation = QUICK_EVALUATION_DATES if args.quick else EVALUATION_DATES
        dates = data.dates({"train": args.train_dates, "validation": evaluation, "test": evaluation},
                           seed=args.seed, length=SOURCE_LENGTH)
        # Optional: search the entry's space (zoo.info("attention_seq2seq").search_space) with KerasTuner first.
        best = run.tune(lambda hp: build(args, dates, hp), dates, batch_size=args.batch_size, patience=args.patience)
        with run.scope():   # train: early stopping keeps the best validation epoch's weights; test once, at the end
            model = build(args, dates, best)
        fitted = run.fit(model, dates, batch_size=args.batch_size, epochs=args.epochs, patience=args.patience)
        arms = {"attention": scored(model, fitted, dates, run)}
        run.save_model(model)
        run.write_json("attention.json", attention_maps(model, dates))
        samples = [{"written": written, "iso": iso, "answer": answer} for (written, iso), answer
                   in zip(dates.texts["test"][:SAMPLES], answers(model, dates, "test"))]
        if not args.skip_no_attention:   # the comparison arm: the same network, its decoder reading the final states
            keras.utils.set_random_seed(args.seed)
            with run.scope():
                plain = build(args, dates, best, attention=False)
            fitted = run.fit(plain, dates, batch_size=args.batch_size, epochs=args.epochs, patience=args.patience,
                             tag="no_attention")
            arms["no_attention"] = scored(plain, fitted, dates, run)
        metrics = {key: arms["attention"][key] for key in ("test_exact_match", "validation_exact_match",
                                                          "validation_loss", "test_character_accuracy")}
        metrics["arms"] = arms
        plain_words = ""
        if "no_attention" in arms:
            metrics["exact_match_gain_over_no_attention"] = round(
                arms["attention"]["test_exact_match"] - arms["no_attention"]["test_exact_match"], 4)
            plain_words = f" vs {arms['no_attention']['test_exact_match']:.4f} without attention"
        run.finish(metrics, data=dates, baseline=baselines.date_parser(dates), use=USE, samples=samples,
                   alignment_example="attention.json",
                   headline=f"test exact match {metrics['test_exact_match']:.4f}{plain_words} on "
                            f"{dates.sizes['test']:,} written dates of days never trained on")
    return metrics["test_exact_match"]


if __name__ == "__main__":
    from zoo.command import run_main

    raise SystemExit(run_main(main))
