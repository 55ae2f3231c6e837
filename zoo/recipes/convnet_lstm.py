"""Recipe: a ConvNet reads each of three handwritten digits, an LSTM adds them up, learning from the sums alone.

    python -m zoo.recipes.convnet_lstm                  # sequences of 5,000 real MNIST digits, offline
    python -m zoo.recipes.convnet_lstm --quick          # a smoke test
    python -m zoo.recipes.convnet_lstm --length 4       # four digits a sequence (sums 0 to 36)
    python -m zoo.recipes.convnet_lstm --tune random --max-trials 10

The story: many images in, one answer out. Each example is a sequence of three
MNIST digits, and its label is their sum (0 to 27); the network is never told
what any single digit is. The same small ConvNet reads every image (Keras's
TimeDistributed), and an LSTM reads the three readings in order and names the
sum. The sequences of each split are made of that split's digits only, so the
test digits were never seen in training. The baseline in the same run is the
pipeline a practitioner would build: an SVM trained on the single digits, with
their own labels, names each digit, and the names are added. It is told more
than the network is. Every setting below was chosen on the validation split;
benchmarks/results/choices_convnet_lstm.json holds each variant tried
(python benchmarks/choices.py convnet_lstm).
Writes results.json, model.keras, history.csv, curves.png and TensorBoard logs to --out.
"""

from __future__ import annotations

from zoo import model_card

# Flags and their defaults, with the reason beside each.
DATASETS = ("mnist_5k",)   # embedded; tfds:NAME of digits (e.g. tfds:mnist) works online or from TFDS_DATA_DIR
KINDS = ("image",)
EPOCHS = 100               # early stopping ends the run long before
BATCH_SIZE = 32
LEARNING_RATE = 1e-3       # Adam's default
LENGTH = 3                 # digits per sequence: sums 0 to 27
# Each training digit appears in this many training sequences (each time with other digits): 3,600 digits
# make 6,000 sequences of three. Validation and test digits appear 3 times: 400 and 1,000 sequences.
TRAIN_COPIES = 5
EVALUATION_COPIES = 3
# Validation accuracies of the sums: benchmarks/results/choices_convnet_lstm.json (every variant tried).
FILTERS = (16, 32)
DENSE_UNITS = 64
LSTM_UNITS = 64
DROPOUT = 0.0              # before the softmax; 0.3 with label smoothing 0.1: 0.9123 (without either: 0.9398)
SHIFT = 2                  # pixels of random shift of each training digit, as in the convnet recipe (0: off): 0.7469
LABEL_SMOOTHING = 0.0      # 0.1 with dropout 0.3: see above
PATIENCE = 10              # epochs without a better validation loss before stopping
SEED = 0
TEST_FRACTION = 0.2        # 1,000 test digits, touched once at the end
VALIDATION_FRACTION = 0.1  # 400 validation digits: early stopping and every choice above
QUICK_EPOCHS = 2
QUICK_TRAIN_SIZE = 500     # --quick trains on sequences of 500 digits
JIT_COMPILE = "auto"       # Keras's choice, XLA off on CPUs: 0.98x per epoch here (benchmarks/results/xla.json)
USE = model_card.Use(
    intended_use=("Teaching: combining layer families (a ConvNet for each image, an LSTM over the sequence) in a "
                  "many-to-one model; naming the sum of three 28x28 grey MNIST digits."),
    limits=(
        "Its inputs are sequences of exactly three 28x28 grey MNIST-style digits (white on black, centred, pixel "
        "values 0 to 255); other pictures, or other lengths, were never measured.",
        "It answers a sum for any input, blanks or letters too: it has no 'none of these'.",
        "It learned from sums alone: it can be right about a sum while misreading two digits whose errors cancel.",
    ),
    written_for={"dataset": "mnist_5k", "length": LENGTH},   # the flag values this text describes
)


def parse_args(argv=None):
    from zoo import command

    parser = command.recipe_parser("convnet_lstm", __doc__, command.Defaults(
        epochs=EPOCHS, batch_size=BATCH_SIZE, learning_rate=LEARNING_RATE, seed=SEED,
        quick={"epochs": QUICK_EPOCHS}, datasets=DATASETS, kinds=KINDS, jit_compile=JIT_COMPILE, classes=10))
    parser.add_argument("--length", type=command.integer("--length", 1, 32), default=LENGTH,
                        help="digits per sequence; the sums run from 0 to 9 x length (default: %(default)s)")
    parser.add_argument("--train-copies", type=command.integer("--train-copies", 1, 100), default=TRAIN_COPIES,
                        help="training sequences each training digit appears in (default: %(default)s)")
    parser.add_argument("--filters", type=command.integer("--filters", 1, 4096), nargs="+", default=list(FILTERS),
                        help="filters of each convolutional layer of the image reader (default: %(default)s)")
    parser.add_argument("--dense-units", type=command.integer("--dense-units", 1, 100_000), default=DENSE_UNITS,
                        help="features the image reader passes on for each digit (default: %(default)s)")
    parser.add_argument("--lstm-units", type=command.integer("--lstm-units", 1, 100_000), default=LSTM_UNITS,
                        help="size of the LSTM's memory (default: %(default)s)")
    parser.add_argument("--dropout", type=command.number("--dropout", 0, 1, below=True), default=DROPOUT,
                        help="dropout before the softmax (default: %(default)s)")
    parser.add_argument("--shift", type=command.integer("--shift", 0, 100), default=SHIFT,
                        help="random shift of each training digit, in pixels; 0 turns it off (default: %(default)s)")
    parser.add_argument("--label-smoothing", type=command.number("--label-smoothing", 0, 1, below=True),
                        default=LABEL_SMOOTHING, help="share of each target spread over all classes "
                                                      "(default: %(default)s)")
    parser.add_argument("--patience", type=command.integer("--patience", 1), default=PATIENCE,
                        help="epochs without a better validation loss before stopping (default: %(default)s)")
    return command.parse(parser, argv)


def build(args, sequences, hp=None):
    """The zoo's ConvNet+LSTM behind rescaling (0-255 pixels to [0, 1]) and random shifts of each digit; compiled."""
    import keras

    import zoo
    from zoo import command, tuning
    from zoo.losses import SparseCategoricalCrossentropy

    overrides = zoo.info("convnet_lstm").search_space(hp) if hp else {
        "filters": tuple(args.filters), "dense_units": args.dense_units, "lstm_units": args.lstm_units,
        "dropout": args.dropout}
    steps, *image = sequences.input_shape
    shape = (steps, *image, *((1,) if len(image) == 2 else ()))
    network = zoo.get("convnet_lstm", input_shape=shape, num_classes=sequences.num_classes, **overrides)
    inputs = keras.Input(shape=sequences.input_shape, name="pixels")
    x = keras.layers.Rescaling(1 / 255, name="ink_to_unit")(inputs)
    x = keras.layers.Reshape(shape, name="as_images")(x)
    if args.shift:  # each digit of a sequence shifted on its own, in training only
        height, width = shape[1:3]
        x = keras.layers.TimeDistributed(keras.layers.RandomTranslation(
            args.shift / height, args.shift / width, fill_mode="constant", seed=args.seed), name="random_shift")(x)
    model = keras.Model(inputs, network(x), name="digit_sums")
    model.compile(optimizer=keras.optimizers.Adam(tuning.learning_rate(hp, args.learning_rate)),
                  loss=SparseCategoricalCrossentropy(label_smoothing=args.label_smoothing), metrics=["accuracy"],
                  jit_compile=command.jit_compile(args))
    return model


def main(argv=None):
    args = parse_args(argv)
    from zoo import baselines, data
    from zoo.recipes.convnet import arm
    from zoo.runs import Run

    with Run("convnet_lstm", args) as run:
        # Data: three stratified splits of single digits, then sequences of each split's own digits.
        digits = data.load(args.dataset, seed=args.seed, test_fraction=TEST_FRACTION,
                           validation_fraction=VALIDATION_FRACTION, kinds=KINDS, classes=10,
                           train_size=QUICK_TRAIN_SIZE if args.quick else None)
        sequences = data.summed_sequences(digits, args.length, seed=args.seed, copies={
            "train": args.train_copies, "validation": EVALUATION_COPIES, "test": EVALUATION_COPIES})

        # Optional: search the entry's space (zoo.info("convnet_lstm").search_space) with KerasTuner first.
        best = run.tune(lambda hp: build(args, sequences, hp), sequences, batch_size=args.batch_size,
                        patience=args.patience)

        # Train on the sums; early stopping keeps the best validation epoch; then the test split, once.
        with run.scope():
            model = build(args, sequences, best)
        fitted = run.fit(model, sequences, batch_size=args.batch_size, epochs=args.epochs, patience=args.patience)
        metrics = arm(model, fitted, run.evaluate(model, sequences))
        metrics["majority_class_baseline"] = baselines.majority_class(sequences)
        run.save_model(model)
        run.finish(metrics, data=sequences, baseline=baselines.digits_then_sum(digits, sequences), use=USE,
                   headline=f"test accuracy {metrics['test_accuracy']:.4f} on the sums of {sequences.sizes['test']} "
                            f"held-out sequences of {args.length} digits (most common sum "
                            f"{metrics['majority_class_baseline']:.4f})")
    return metrics["test_accuracy"]


if __name__ == "__main__":
    from zoo.command import run_main

    raise SystemExit(run_main(main))
