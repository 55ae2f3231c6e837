"""Recipe: a multilayer perceptron learns to read handwritten digits.

    python -m zoo.recipes.mlp                          # full run: scikit-learn's 1,797 digit scans, offline
    python -m zoo.recipes.mlp --quick                  # a few epochs, for a smoke test
    python -m zoo.recipes.mlp --dataset mnist_5k       # 5,000 real 28x28 MNIST digits, also offline
    python -m zoo.recipes.mlp --dataset tfds:mnist     # all 70,000 (online, or TFDS_DATA_DIR)
    python -m zoo.recipes.mlp --tune random --max-trials 10
    zoo launch --workers 2 -- zoo.recipes.mlp --distribute multi_worker   # two workers (TF_CONFIG), locally

The story: every 8x8 scan is 64 numbers (ink from 0 to 16). The input layer
passes them on unchanged, two hidden layers of 256 units combine them, and a
10-way softmax says which digit it is. Two cheap tricks keep 256 units from
memorising 1,293 training scans: each scan is shifted by up to a pixel at
random every time it is seen (augmentation: a 7 moved left is still a 7), and
the targets are smoothed (label smoothing: 0.9 on the right digit rather
than 1.0, so no answer is pushed to infinite confidence). Every setting below
was chosen on the validation split; benchmarks/results/choices_mlp.json
holds each variant tried (python benchmarks/choices.py mlp).
Writes results.json, model.keras, history.csv, curves.png and TensorBoard logs to --out.
"""

from __future__ import annotations

from zoo import model_card

# Flags and their defaults, with the reason beside each.
DATASETS = ("digits", "mnist_5k")  # embedded; tfds:NAME works too
KINDS = ("tabular", "image")       # numbers or pixels; text needs a vectorizer (see zoo.recipes.lstm_sentiment)
EPOCHS = 300           # 1,300 training images: epochs are cheap; early stopping ends the run
BATCH_SIZE = 32        # small batches: more updates per epoch on a small dataset
LEARNING_RATE = 1e-3   # Adam's default; 3e-3 converges faster but settles slightly worse here
# Validation accuracies below: benchmarks/results/choices_mlp.json (every variant tried, and its test score).
HIDDEN_UNITS = (256, 256)  # 0.993; one layer of 512: 0.986, of 256: 0.972, the rule of thumb's 32: 0.965
DROPOUT = 0.3          # after each hidden layer; 0.5 did no better with one layer of 256 (0.972 both)
SHIFT = 1              # pixels of random shift in training (0: off); 2x256 without shifts: 0.979
LABEL_SMOOTHING = 0.1  # 2x256 with neither shifts nor smoothing: 0.972
SEED = 0
PATIENCE = 30          # epochs without a better validation loss before stopping
TEST_FRACTION = 0.2    # held out, touched once at the end
VALIDATION_FRACTION = 0.1
QUICK_EPOCHS = 3
JIT_COMPILE = "on"     # XLA: 1.12x faster epochs here; its compile is paid back (benchmarks/results/xla.json)
# What the trained model is for and where it stops being trustworthy: its model card (zoo.model_card).
USE = model_card.Use(
    intended_use=("Teaching and a first benchmark: naming the digit (0 to 9) in scikit-learn's handwritten "
                  "digit scans."),
    limits=(
        "Its inputs are 8x8 digit scans of scikit-learn's set (load_digits: pixel values 0 to 16, one centred "
        "digit), not photos and not 28x28 MNIST: other images must be brought to that form first, and even "
        "then it has seen only the handwriting of this set's few dozen writers.",
        "It names one of the ten digits for any input, a blank or a letter too: it has no 'none of these'.",
    ),
    written_for={"dataset": "digits"},   # the flag values this text describes
)


def parse_args(argv=None):
    from zoo import command

    parser = command.recipe_parser("mlp", __doc__, command.Defaults(
        epochs=EPOCHS, batch_size=BATCH_SIZE, learning_rate=LEARNING_RATE, seed=SEED, quick={"epochs": QUICK_EPOCHS},
        datasets=DATASETS, kinds=KINDS, multi_worker=True, jit_compile=JIT_COMPILE))
    parser.add_argument("--hidden-units", type=command.integer("--hidden-units", 1, 100_000), nargs="+",
                        default=list(HIDDEN_UNITS), help="width of each hidden layer (default: %(default)s)")
    parser.add_argument("--dropout", type=command.number("--dropout", 0, 1, below=True), default=DROPOUT,
                        help="dropout after each hidden layer (default: %(default)s)")
    parser.add_argument("--shift", type=command.integer("--shift", 0, 100), default=SHIFT,
                        help="random shift of each training image, in pixels; 0 turns it off (default: %(default)s)")
    parser.add_argument("--label-smoothing", type=command.number("--label-smoothing", 0, 1, below=True),
                        default=LABEL_SMOOTHING, help="share of each target spread over all classes "
                                                      "(default: %(default)s)")
    parser.add_argument("--patience", type=command.integer("--patience", 1), default=PATIENCE,
                        help="epochs without a better validation loss before stopping (default: %(default)s)")
    return command.parse(parser, argv)


def build(args, dataset, ink_scale, hp=None):
    """The zoo's MLP behind rescaling and random shifts, so the saved model reads raw scans; compiled."""
    import math

    import keras

    import zoo
    from zoo import command, tuning
    from zoo.losses import SparseCategoricalCrossentropy

    overrides = zoo.info("mlp").search_space(hp) if hp else {"hidden_units": tuple(args.hidden_units),
                                                             "dropout": args.dropout}
    classifier = zoo.get("mlp", input_shape=(math.prod(dataset.input_shape),), num_classes=dataset.num_classes,
                         **overrides)
    inputs = keras.Input(shape=dataset.input_shape, name="scan")
    x = keras.layers.Rescaling(1 / ink_scale, name="ink_to_unit")(inputs)
    if args.shift and dataset.image_shape:  # training only: Keras's random layers pass inputs through at inference
        height, width, _ = dataset.image_shape
        x = keras.layers.Reshape(dataset.image_shape, name="as_image")(x)
        x = keras.layers.RandomTranslation(args.shift / height, args.shift / width, fill_mode="constant",
                                           seed=args.seed, name="random_shift")(x)
    x = keras.layers.Flatten(name="flatten")(x)
    model = keras.Model(inputs, classifier(x), name="digits_mlp")
    model.compile(optimizer=keras.optimizers.Adam(tuning.learning_rate(hp, args.learning_rate)),
                  loss=SparseCategoricalCrossentropy(label_smoothing=args.label_smoothing), metrics=["accuracy"],
                  jit_compile=command.jit_compile(args))
    return model


def main(argv=None):
    args = parse_args(argv)
    import numpy as np

    from zoo import baselines, data
    from zoo.runs import Run

    with Run("mlp", args) as run:
        # Data: three stratified splits; the test split is only used once, at the end.
        digits = data.load(args.dataset, seed=args.seed, test_fraction=TEST_FRACTION,
                           validation_fraction=VALIDATION_FRACTION, kinds=KINDS)
        ink_scale = max(float(np.max(x)) for x, _ in digits.train.batch(4096).as_numpy_iterator())  # 16 or 255

        # Optional: search the entry's space (zoo.info("mlp").search_space) with KerasTuner first.
        best = run.tune(lambda hp: build(args, digits, ink_scale, hp), digits, batch_size=args.batch_size,
                        patience=args.patience)

        # Train: early stopping keeps the weights of the best validation epoch (fit, or the
        # multi-worker loop under --distribute multi_worker). Then the held-out test split, once.
        with run.scope():
            model = build(args, digits, ink_scale, best)
        fitted = run.fit(model, digits, batch_size=args.batch_size, epochs=args.epochs, patience=args.patience)
        metrics = run.evaluate(model, digits)

        # Keep everything, beside what an SVM does on the same split.
        run.save_model(model)
        run.finish({**metrics, "epochs_run": fitted.epochs_run, "best_epoch": fitted.best_epoch}, data=digits,
                   baseline=baselines.svc_rbf(digits),
                   use=USE,
                   headline=f"test accuracy {metrics['test_accuracy']:.4f} on {digits.sizes['test']} held-out "
                            "digits")
    return metrics["test_accuracy"]


if __name__ == "__main__":
    from zoo.command import run_main

    raise SystemExit(run_main(main))
