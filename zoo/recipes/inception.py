"""Recipe: a small GoogLeNet of Inception modules reads handwritten digits, beside a plain stack as large.

    python -m zoo.recipes.inception                       # 5,000 real 28x28 MNIST digits, offline
    python -m zoo.recipes.inception --quick               # a smoke test
    python -m zoo.recipes.inception --dataset tfds:mnist  # all 70,000 (online, or TFDS_DATA_DIR)
    python -m zoo.recipes.inception --tune random --max-trials 10

The story: an Inception module runs 1x1, 3x3 and 5x5 filters and a pooling side
by side on the same maps and lets the next layer use whichever found something;
1x1 "reductions" keep the large filters cheap. Is it the modules that help, or
only the parameters? The same run trains the same network with each module
replaced by one 3x3 convolution of about the module's parameter count (the
entry's block="plain"), on the same digits, split and budget, and an SVM (the
classic baseline). Both networks read the digits as the convnet recipe's ConvNet
does: pixels scaled to [0, 1], random 2-pixel shifts and label smoothing in
training. Every setting below was chosen on the validation split, for the
Inception network; benchmarks/results/choices_inception.json holds each variant
tried (python benchmarks/choices.py inception).
Writes results.json, model.keras (the Inception network), history*.csv,
curves*.png and TensorBoard logs to --out.
"""

from __future__ import annotations

from zoo import model_card

# Flags and their defaults, with the reason beside each.
DATASETS = ("mnist_5k",)   # embedded; tfds:NAME (e.g. tfds:mnist) works online or from TFDS_DATA_DIR
KINDS = ("image",)
EPOCHS = 100               # early stopping ends the run long before
BATCH_SIZE = 32
LEARNING_RATE = 1e-3       # Adam's default
# Validation accuracies (400 digits): benchmarks/results/choices_inception.json (every variant tried).
STEM_FILTERS = 32
STAGES = (1, 1)            # the entry's: one module on 14x14 maps, one on 7x7 (0.9875; two on 14x14: 0.9875 too)
WIDTH = 64                 # channels out of each first-stage module, doubled in the second (width 32: 0.985)
DROPOUT = 0.3              # before the softmax (GoogLeNet: 0.4)
SHIFT = 2                  # pixels of random shift in training, as in the convnet recipe
LABEL_SMOOTHING = 0.1
PATIENCE = 10              # epochs without a better validation loss before stopping
SEED = 0
TEST_FRACTION = 0.2        # 1,000 test digits, touched once at the end
VALIDATION_FRACTION = 0.1  # validation digits: early stopping and every choice above
QUICK_EPOCHS = 2
QUICK_TRAIN_SIZE = 500     # --quick trains on 500 digits
# Keras's choice, XLA off on CPUs: 0.99x as fast with it here, its plain arm 1.03x (benchmarks/results/xla.json)
JIT_COMPILE = "auto"
# What the trained model is for and where it stops being trustworthy: its model card (zoo.model_card).
USE = model_card.Use(
    intended_use=("Teaching: what Inception modules do, measured against a plain stack of 3x3 convolutions of the "
                  "same size on the same split; naming the digit (0 to 9) in 28x28 grey MNIST scans."),
    limits=(
        "Its inputs are 28x28 grey MNIST-style digits (white on black, centred, pixel values 0 to 255): other "
        "pictures must be brought to that form first, and handwriting unlike MNIST's was never measured.",
        "It names one of the ten digits for any input, a blank or a letter too: it has no 'none of these'.",
        "Trained on the 3,600 training digits of a 5,000-digit sample of MNIST, not all 60,000; GoogLeNet's "
        "modules were made for 224x224 photos, and 28x28 digits leave them little to choose between.",
    ),
    written_for={"dataset": "mnist_5k"},   # the flag values this text describes
)


def parse_args(argv=None):
    from zoo import command

    parser = command.recipe_parser("inception", __doc__, command.Defaults(
        epochs=EPOCHS, batch_size=BATCH_SIZE, learning_rate=LEARNING_RATE, seed=SEED,
        quick={"epochs": QUICK_EPOCHS}, datasets=DATASETS, kinds=KINDS, jit_compile=JIT_COMPILE))
    parser.add_argument("--stem-filters", type=command.integer("--stem-filters", 1, 4096), default=STEM_FILTERS,
                        help="filters of the stem's 3x3 convolution (default: %(default)s)")
    parser.add_argument("--stages", type=command.integer("--stages", 1, 8), nargs="+", default=list(STAGES),
                        help="Inception modules in each stage; the maps halve between stages (default: %(default)s)")
    parser.add_argument("--width", type=command.integer("--width", 16, 4096), default=WIDTH,
                        help="channels out of each first-stage module, a multiple of 16 (default: %(default)s)")
    parser.add_argument("--dropout", type=command.number("--dropout", 0, 1, below=True), default=DROPOUT,
                        help="dropout before the softmax (default: %(default)s)")
    parser.add_argument("--shift", type=command.integer("--shift", 0, 100), default=SHIFT,
                        help="random shift of each training image, in pixels; 0 turns it off (default: %(default)s)")
    parser.add_argument("--label-smoothing", type=command.number("--label-smoothing", 0, 1, below=True),
                        default=LABEL_SMOOTHING, help="share of each target spread over all classes "
                                                      "(default: %(default)s)")
    parser.add_argument("--patience", type=command.integer("--patience", 1), default=PATIENCE,
                        help="epochs without a better validation loss before stopping (default: %(default)s)")
    parser.add_argument("--skip-plain", action="store_true",
                        help="do not train the plain stack of the same size (the comparison arm)")
    return command.parse(parser, argv, check=_check)


def _check(args):
    from zoo.command import FlagError

    if args.width % 16:
        raise FlagError(f"--width {args.width} must be a multiple of 16 (each branch of a module gets a whole "
                        f"number of filters), e.g. --width {16 * max(1, round(args.width / 16))}")
    if len(args.stages) > 6:
        raise FlagError(f"--stages {' '.join(map(str, args.stages))} gives {len(args.stages)} stages; at most 6")


def build(args, dataset, hp=None, block="inception"):
    """The zoo's Inception network (or its plain twin) behind rescaling and random shifts; compiled."""
    import zoo
    from zoo.recipes.convnet import on_raw_pixels

    overrides = zoo.info("inception").search_space(hp) if hp else {
        "stem_filters": args.stem_filters, "stages": tuple(args.stages), "width": args.width, "dropout": args.dropout}
    classifier = zoo.get("inception", input_shape=dataset.image_shape, num_classes=dataset.num_classes,
                         block=block, **overrides)
    return on_raw_pixels(classifier, args, dataset, hp, name=f"digits_{block}")


def main(argv=None):
    args = parse_args(argv)
    import keras

    from zoo import baselines, data
    from zoo.recipes.convnet import arm
    from zoo.runs import Run
    with Run("inception", args) as run:
        # Data: three stratified splits; the test split is only used once, at the end.
        digits = data.load(args.dataset, seed=args.seed, test_fraction=TEST_FRACTION,
                           validation_fraction=VALIDATION_FRACTION, kinds=KINDS,
                           train_size=QUICK_TRAIN_SIZE if args.quick else None)
        # Optional: search the entry's space (zoo.info("inception").search_space) with KerasTuner first.
        best = run.tune(lambda hp: build(args, digits, hp), digits, batch_size=args.batch_size, patience=args.patience)
        # Train: early stopping keeps the weights of the best validation epoch; then the test split, once.
        with run.scope():
            model = build(args, digits, best)
        fitted = run.fit(model, digits, batch_size=args.batch_size, epochs=args.epochs, patience=args.patience)
        arms = {"inception": arm(model, fitted, run.evaluate(model, digits))}
        run.save_model(model)
        # The comparison arm: the same network, each module one 3x3 convolution of its size, same budget.
        if not args.skip_plain:
            keras.utils.set_random_seed(args.seed)
            with run.scope():
                plain = build(args, digits, best, block="plain")
            fitted = run.fit(plain, digits, batch_size=args.batch_size, epochs=args.epochs, patience=args.patience,
                             tag="plain")
            arms["plain"] = arm(plain, fitted, run.evaluate(plain, digits))
        metrics = {key: arms["inception"][key] for key in ("test_accuracy", "validation_accuracy")}
        metrics["arms"] = arms
        plain_words = ""
        if "plain" in arms:
            metrics["accuracy_gain_over_plain"] = round(
                arms["inception"]["test_accuracy"] - arms["plain"]["test_accuracy"], 4)
            metrics["params_ratio"] = round(arms["plain"]["params"] / arms["inception"]["params"], 4)
            plain_words = f" vs the plain stack's {arms['plain']['test_accuracy']:.4f}"
        run.finish(metrics, data=digits, baseline=baselines.svc_rbf(digits), use=USE,
                   headline=f"test accuracy {metrics['test_accuracy']:.4f}{plain_words} on {digits.sizes['test']} "
                            "held-out digits")
    return metrics["test_accuracy"]


if __name__ == "__main__":
    from zoo.command import run_main

    raise SystemExit(run_main(main))
