"""Recipe: a small ConvNet reads handwritten digits, beside an MLP on the same pixels.

    python -m zoo.recipes.convnet                       # 5,000 real 28x28 MNIST digits, offline
    python -m zoo.recipes.convnet --quick               # a smoke test
    python -m zoo.recipes.convnet --dataset tfds:mnist  # all 70,000 (online, or TFDS_DATA_DIR)
    python -m zoo.recipes.convnet --tune random --max-trials 10

The story: an MLP sees a 28x28 digit as 784 unrelated numbers; a ConvNet keeps
it a picture. Its first layer slides small 3x3 filters over the digit, each
lighting up where its pattern (an edge, a stroke's end) appears; pooling keeps
the strongest answer of each 2x2 window; a second layer finds patterns of
patterns; one dense layer names the digit. The same run trains the zoo's MLP
with the mlp recipe's settings on the same pixels and split, and an SVM (the
classic baseline), so the three stand side by side. After training, the run
records the first layer's filters and what they make of one validation digit
(filters.json), beside the hand-made horizontal-edge filter of the docs'
6x6 example: the picture the docs draw. Every setting below was chosen on the
validation split; benchmarks/results/choices_convnet.json holds each variant
tried (python benchmarks/choices.py convnet).
Writes results.json, model.keras, history*.csv, curves*.png, filters.json and
TensorBoard logs to --out.
"""

from __future__ import annotations

from zoo import model_card

# Flags and their defaults, with the reason beside each.
DATASETS = ("mnist_5k",)   # embedded; tfds:NAME (e.g. tfds:mnist) works online or from TFDS_DATA_DIR
KINDS = ("image",)
EPOCHS = 100               # early stopping ends the run long before
BATCH_SIZE = 32
LEARNING_RATE = 1e-3       # Adam's default
# Validation accuracies below (400 digits): benchmarks/results/choices_convnet.json (every variant tried).
FILTERS = (32, 64)         # the zoo's defaults: 0.995; 16-32 filters and 64 dense units: 0.9825; 64-128 and 256: 0.995
DENSE_UNITS = 128
DROPOUT = 0.3              # before the softmax; 16-32 without dropout, shifts or smoothing: 0.965, with dropout: 0.970
SHIFT = 2                  # pixels of random shift in training (0: off); 16-32 with 1 pixel: 0.9775, with 2: 0.980
LABEL_SMOOTHING = 0.1      # 16-32 with 2-pixel shifts and smoothing: 0.9825
PATIENCE = 10              # epochs without a better validation loss before stopping
SEED = 0
TEST_FRACTION = 0.2        # 1,000 test digits, touched once at the end
VALIDATION_FRACTION = 0.1  # validation digits: early stopping and every choice above
QUICK_EPOCHS = 2
QUICK_TRAIN_SIZE = 500     # --quick trains on 500 digits
# Keras's choice, XLA off on CPUs: the ConvNet trains 1.03x as fast with it here, under the 1.1x asked of both
# arms (its MLP arm: 1.11x; benchmarks/results/xla.json)
JIT_COMPILE = "auto"
HAND_MADE_EDGE = ((1.0, 1.0, 1.0), (0.0, 0.0, 0.0), (-1.0, -1.0, -1.0))   # docs/concepts/convnets.md's filter
# What the trained model is for and where it stops being trustworthy: its model card (zoo.model_card).
USE = model_card.Use(
    intended_use=("Teaching and a first image benchmark: naming the digit (0 to 9) in 28x28 grey MNIST scans, "
                  "side by side with an MLP and an SVM on the same split."),
    limits=(
        "Its inputs are 28x28 grey MNIST-style digits (white on black, centred, pixel values 0 to 255): other "
        "pictures must be brought to that form first, and handwriting unlike MNIST's was never measured.",
        "It names one of the ten digits for any input, a blank or a letter too: it has no 'none of these'.",
        "Trained on the 3,600 training digits of a 5,000-digit sample of MNIST, not all 60,000.",
    ),
    written_for={"dataset": "mnist_5k"},   # the flag values this text describes
)


def parse_args(argv=None):
    from zoo import command

    parser = command.recipe_parser("convnet", __doc__, command.Defaults(
        epochs=EPOCHS, batch_size=BATCH_SIZE, learning_rate=LEARNING_RATE, seed=SEED,
        quick={"epochs": QUICK_EPOCHS}, datasets=DATASETS, kinds=KINDS, jit_compile=JIT_COMPILE))
    parser.add_argument("--filters", type=command.integer("--filters", 1, 4096), nargs="+", default=list(FILTERS),
                        help="filters of each convolutional layer (default: %(default)s)")
    parser.add_argument("--dense-units", type=command.integer("--dense-units", 0, 100_000), default=DENSE_UNITS,
                        help="width of the dense layer before the softmax; 0 for none (default: %(default)s)")
    parser.add_argument("--dropout", type=command.number("--dropout", 0, 1, below=True), default=DROPOUT,
                        help="dropout before the softmax (default: %(default)s)")
    parser.add_argument("--shift", type=command.integer("--shift", 0, 100), default=SHIFT,
                        help="random shift of each training image, in pixels; 0 turns it off (default: %(default)s)")
    parser.add_argument("--label-smoothing", type=command.number("--label-smoothing", 0, 1, below=True),
                        default=LABEL_SMOOTHING, help="share of each target spread over all classes "
                                                      "(default: %(default)s)")
    parser.add_argument("--patience", type=command.integer("--patience", 1), default=PATIENCE,
                        help="epochs without a better validation loss before stopping (default: %(default)s)")
    parser.add_argument("--skip-mlp", action="store_true",
                        help="do not train the MLP on the same pixels (the comparison arm)")
    return command.parse(parser, argv)


def build(args, dataset, hp=None):
    """The zoo's ConvNet behind rescaling and random shifts, so the saved model reads raw 0-255 pixels; compiled."""
    import zoo

    overrides = zoo.info("convnet").search_space(hp) if hp else {
        "filters": tuple(args.filters), "dense_units": args.dense_units, "dropout": args.dropout}
    classifier = zoo.get("convnet", input_shape=dataset.image_shape, num_classes=dataset.num_classes, **overrides)
    return on_raw_pixels(classifier, args, dataset, hp, name="digits_convnet")


def on_raw_pixels(classifier, args, dataset, hp=None, name="digits"):
    """``classifier`` of [0, 1] images behind rescaling and, in training, random shifts; compiled.

    The saved model reads the dataset's raw 0-255 pixel rows. Used by every recipe that
    trains a ConvNet on digits (convnet, inception), with their ``--shift``,
    ``--label-smoothing``, ``--learning-rate`` and ``--jit-compile`` flags.
    """
    import keras

    from zoo import command, tuning
    from zoo.losses import SparseCategoricalCrossentropy

    inputs = keras.Input(shape=dataset.input_shape, name="pixels")
    x = keras.layers.Rescaling(1 / 255, name="ink_to_unit")(inputs)
    x = keras.layers.Reshape(dataset.image_shape, name="as_image")(x)
    if args.shift:  # training only: Keras's random layers pass inputs through at inference
        height, width, _ = dataset.image_shape
        x = keras.layers.RandomTranslation(args.shift / height, args.shift / width, fill_mode="constant",
                                           seed=args.seed, name="random_shift")(x)
    model = keras.Model(inputs, classifier(x), name=name)
    model.compile(optimizer=keras.optimizers.Adam(tuning.learning_rate(hp, args.learning_rate)),
                  loss=SparseCategoricalCrossentropy(label_smoothing=args.label_smoothing), metrics=["accuracy"],
                  jit_compile=command.jit_compile(args))
    return model


def arm(model, fitted, metrics: dict) -> dict:
    """One training's numbers for results.json's "arms": its scores, epochs and size."""
    return {**metrics, "epochs_run": fitted.epochs_run, "best_epoch": fitted.best_epoch,
            "params": int(model.count_params())}


def mlp_arm(run, args, digits) -> dict:
    """The zoo's MLP with the mlp recipe's settings, trained on the same pixels, split and budget."""
    import keras

    from zoo.recipes import mlp as mlp_recipe

    flags = ["--seed", str(args.seed), "--batch-size", str(args.batch_size), "--epochs", str(args.epochs),
             "--patience", str(args.patience), "--jit-compile", args.jit_compile]
    mlp_args = mlp_recipe.parse_args(flags)
    keras.utils.set_random_seed(args.seed)
    with run.scope():
        model = mlp_recipe.build(mlp_args, digits, 255.0)
    fitted = run.fit(model, digits, batch_size=args.batch_size, epochs=args.epochs, patience=args.patience, tag="mlp")
    return {**arm(model, fitted, run.evaluate(model, digits)),
            "settings": {name: getattr(mlp_args, name) for name in ("hidden_units", "dropout", "shift",
                                                                    "label_smoothing")},
            "settings_from": "zoo.recipes.mlp's defaults (chosen on digits' validation split)"}


def filters_report(run, model, digits) -> dict:
    """filters.json: the first layer's filters, and the maps they and the hand-made edge filter make of one digit."""
    import keras
    import numpy as np

    from zoo.models.convnet import first_layer_maps

    image, label = next(digits.validation.take(1).as_numpy_iterator())
    pixels = image.reshape(digits.image_shape).astype("float32") / 255.0
    classifier = model.get_layer("convnet")
    kernels, maps = first_layer_maps(classifier, pixels[None])
    edge = np.asarray(HAND_MADE_EDGE, dtype="float32")
    # The hand-made filter over the same digit: a one-filter Conv2D, padded like the ConvNet's layers.
    conv = keras.layers.Conv2D(1, 3, padding="same", use_bias=False, name="hand_made_edge")
    conv.build((1, *digits.image_shape))
    conv.set_weights([edge[:, :, None, None]])
    edge_map = keras.ops.convert_to_numpy(conv(pixels[None]))[0, :, :, 0]
    # Which learned filter looks most like the hand-made one (cosine similarity of the 3x3 weights).
    flat = kernels.reshape(len(kernels), -1)
    cosine = flat @ edge.ravel() / (np.linalg.norm(flat, axis=1) * np.linalg.norm(edge) + 1e-12)
    probabilities = keras.ops.convert_to_numpy(model(image[None].astype("float32")))[0]
    record = {"digit": _rounded(pixels[:, :, 0], 2), "label": digits.class_names[int(label)],
              "prediction": digits.class_names[int(probabilities.argmax())],
              "probability": round(float(probabilities.max()), 4),
              "chosen_as": "the first validation digit (the test split is not looked at)",
              "kernels": _rounded(kernels, 4), "feature_maps": _rounded(maps[0], 2),
              "hand_made_edge": {"kernel": edge.tolist(), "feature_map": _rounded(edge_map, 2)},
              "closest_to_hand_made": {"filter": int(np.abs(cosine).argmax()),
                                       "cosine": round(float(cosine[np.abs(cosine).argmax()]), 4)}}
    run.write_json("filters.json", record, indent=None)   # 32 maps of 28x28: one compact line
    return {"filters_example": "filters.json"}


def _rounded(values, decimals: int) -> list:
    """Nested lists of ``values`` rounded, as float64 first: a float32 0.35 would print as 0.3499999940395355."""
    import numpy as np

    return np.round(np.asarray(values, dtype="float64"), decimals).tolist()


def main(argv=None):
    args = parse_args(argv)
    from zoo import baselines, data
    from zoo.runs import Run

    with Run("convnet", args) as run:
        # Data: three stratified splits; the test split is only used once, at the end.
        digits = data.load(args.dataset, seed=args.seed, test_fraction=TEST_FRACTION,
                           validation_fraction=VALIDATION_FRACTION, kinds=KINDS,
                           train_size=QUICK_TRAIN_SIZE if args.quick else None)

        # Optional: search the entry's space (zoo.info("convnet").search_space) with KerasTuner first.
        best = run.tune(lambda hp: build(args, digits, hp), digits, batch_size=args.batch_size,
                        patience=args.patience)

        # Train: early stopping keeps the weights of the best validation epoch; then the test split, once.
        with run.scope():
            model = build(args, digits, best)
        fitted = run.fit(model, digits, batch_size=args.batch_size, epochs=args.epochs, patience=args.patience)
        arms = {"convnet": arm(model, fitted, run.evaluate(model, digits))}
        run.save_model(model)
        extra = filters_report(run, model, digits)

        # The comparison arm: an MLP on the same pixels; then the classic baseline, an SVM.
        if not args.skip_mlp:
            arms["mlp"] = mlp_arm(run, args, digits)
        metrics = {key: arms["convnet"][key] for key in ("test_accuracy", "validation_accuracy")}
        metrics["arms"] = arms
        if "mlp" in arms:
            metrics["accuracy_gain_over_mlp"] = round(arms["convnet"]["test_accuracy"] - arms["mlp"]["test_accuracy"], 4)
        mlp_words = f" vs the MLP's {arms['mlp']['test_accuracy']:.4f}" if "mlp" in arms else ""
        run.finish(metrics, data=digits, baseline=baselines.svc_rbf(digits), use=USE, **extra,
                   headline=f"test accuracy {metrics['test_accuracy']:.4f}{mlp_words} on {digits.sizes['test']} "
                            "held-out digits")
    return metrics["test_accuracy"]


if __name__ == "__main__":
    from zoo.command import run_main

    raise SystemExit(run_main(main))
