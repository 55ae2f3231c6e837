"""Recipe: a 1-D ConvNet tells a drawn gun from a pointing finger, from the hand's path alone.

    python -m zoo.recipes.convnet_1d                  # the UCR archive's GunPoint, offline
    python -m zoo.recipes.convnet_1d --quick          # a smoke test
    python -m zoo.recipes.convnet_1d --tune random --max-trials 10

The story: GunPoint follows the x position of an actor's right hand over 150
video frames while they either draw a replica gun from a hip holster or point
a finger at a target. The two movements look alike; the gun's draw and
holstering leave small dips and overshoots at the start and end. A 1-D ConvNet
slides filters of a few frames along the series, like an image ConvNet's 3x3
filters over pixels, so a dip counts wherever it happens; batch normalisation
keeps each block's outputs on one scale; global average pooling keeps one
number per filter; a softmax says gun or point. This is the fully convolutional
network of Wang et al. (2017), narrower. The test split is the archive's own
(150 series), so the number compares with the literature; the 50 training
series give 40 for training and 10 for validation. The classic baseline, in the
same run on the same split, is nearest neighbours with Euclidean distance.
Every setting below was chosen on the validation split;
benchmarks/results/choices_convnet_1d.json holds each variant tried
(python benchmarks/choices.py convnet_1d).
Writes results.json, model.keras, history.csv, curves.png and TensorBoard logs to --out.
"""

from __future__ import annotations

from zoo import model_card

# Flags and their defaults, with the reason beside each.
DATASETS = ("gunpoint",)   # embedded (sktime's copy of the UCR archive's files)
KINDS = ("series",)
EPOCHS = 500               # 40 training series: 3 steps an epoch; early stopping ends the run
BATCH_SIZE = 16
LEARNING_RATE = 1e-3       # Adam's default
# Validation accuracies below (10 series): benchmarks/results/choices_convnet_1d.json (every variant tried).
FILTERS = (16, 32, 16)     # the zoo's defaults, an eighth of Wang et al.'s 128-256-128: 1.0 (32-64-32 and 64-128-64 too)
KERNEL_SIZES = (8, 5, 3)   # theirs
BATCH_NORM = True          # theirs; without it: 0.9 (16-32-16 and 32-64-32)
PATIENCE = 50              # epochs without a better validation loss before stopping
SEED = 0
VALIDATION_FRACTION = 0.2  # 10 of the 50 training series
QUICK_EPOCHS = 3
JIT_COMPILE = "auto"       # Keras's choice, XLA off on CPUs: 0.99x per epoch here (benchmarks/results/xla.json)
# What the trained model is for and where it stops being trustworthy: its model card (zoo.model_card).
USE = model_card.Use(
    intended_use=("Teaching and a first time-series benchmark: whether the x position of a hand over 150 video "
                  "frames comes from drawing a gun or from pointing a finger (the UCR archive's GunPoint)."),
    limits=(
        "Its inputs are GunPoint's series: 150 z-normalised steps of one actor's hand position from a fixed "
        "camera. Other movements, lengths, sampling rates or unnormalised positions were never measured.",
        "It learnt from 40 series of two actors: it says gun or point for any series, whatever the movement.",
    ),
    written_for={"dataset": "gunpoint"},   # the flag values this text describes
)


def parse_args(argv=None):
    import argparse

    from zoo import command

    parser = command.recipe_parser("convnet_1d", __doc__, command.Defaults(
        epochs=EPOCHS, batch_size=BATCH_SIZE, learning_rate=LEARNING_RATE, seed=SEED,
        quick={"epochs": QUICK_EPOCHS}, datasets=DATASETS, kinds=KINDS, jit_compile=JIT_COMPILE))
    parser.add_argument("--filters", type=command.integer("--filters", 1, 4096), nargs="+", default=list(FILTERS),
                        help="filters of each convolutional block (default: %(default)s)")
    parser.add_argument("--kernel-sizes", type=command.integer("--kernel-sizes", 1, 1000), nargs="+",
                        default=list(KERNEL_SIZES), help="filter length of each block, in steps; one per "
                                                         "--filters value (default: %(default)s)")
    parser.add_argument("--batch-norm", action=argparse.BooleanOptionalAction, default=BATCH_NORM,
                        help="batch normalisation after each convolution (default: on)")
    parser.add_argument("--patience", type=command.integer("--patience", 1), default=PATIENCE,
                        help="epochs without a better validation loss before stopping (default: %(default)s)")
    return command.parse(parser, argv, check=_one_length_per_block)


def _one_length_per_block(args):
    from zoo.errors import FlagError

    if len(args.kernel_sizes) != len(args.filters):
        raise FlagError(f"--kernel-sizes gives {len(args.kernel_sizes)} lengths for {len(args.filters)} --filters "
                        f"values ({' '.join(map(str, args.filters))}); give one per block")


def build(args, dataset, hp=None):
    """The zoo's 1-D ConvNet on the series as they are (the archive z-normalised each one); compiled."""
    import keras

    import zoo
    from zoo import command, tuning

    overrides = zoo.info("convnet_1d").search_space(hp) if hp else {
        "filters": tuple(args.filters), "kernel_sizes": tuple(args.kernel_sizes), "batch_norm": args.batch_norm}
    model = zoo.get("convnet_1d", input_shape=dataset.input_shape, num_classes=dataset.num_classes, **overrides)
    model.compile(optimizer=keras.optimizers.Adam(tuning.learning_rate(hp, args.learning_rate)),
                  loss="sparse_categorical_crossentropy", metrics=["accuracy"], jit_compile=command.jit_compile(args))
    return model


def main(argv=None):
    args = parse_args(argv)
    from zoo import baselines, data
    from zoo.runs import Run

    with Run("convnet_1d", args) as run:
        # Data: the archive's test split; validation out of its training series. Test is used once, at the end.
        series = data.load(args.dataset, seed=args.seed, validation_fraction=VALIDATION_FRACTION, kinds=KINDS)

        # Optional: search the entry's space (zoo.info("convnet_1d").search_space) with KerasTuner first.
        best = run.tune(lambda hp: build(args, series, hp), series, batch_size=args.batch_size,
                        patience=args.patience)

        # Train: early stopping keeps the weights of the best validation epoch; then the test split, once.
        with run.scope():
            model = build(args, series, best)
        fitted = run.fit(model, series, batch_size=args.batch_size, epochs=args.epochs, patience=args.patience)
        metrics = {**run.evaluate(model, series), "epochs_run": fitted.epochs_run, "best_epoch": fitted.best_epoch,
                   "params": int(model.count_params())}
        run.save_model(model)
        run.finish(metrics, data=series, baseline=baselines.nearest_neighbours(series), use=USE,
                   headline=f"test accuracy {metrics['test_accuracy']:.4f} on the archive's {series.sizes['test']} "
                            "test series")
    return metrics["test_accuracy"]


if __name__ == "__main__":
    from zoo.command import run_main

    raise SystemExit(run_main(main))
