"""A small convolutional network: the three kinds of layer, in the classic order.

Convolutional layers (must have) slide small learned filters over the image,
each filter bringing out one pattern (an edge, a curve) wherever it appears;
pooling layers (should have) keep the strongest answer of each 2x2 window, so
the maps shrink and a pattern counts wherever it sits in the window; dense
layers (may have) turn the last maps into a prediction. LeCun et al.'s LeNet
read handwritten digits this way.
"""

from __future__ import annotations

from zoo import _checks
from zoo.registry import Paper, register

POOLINGS = ("max", "average", None)
# Each pooling halves the maps; past 8 blocks a 28x28 digit is long gone, and any deeper plain
# stack without normalisation or skips stops learning.
MAX_BLOCKS = 8


def convnet_size(input_shape, num_classes, filters, kernel_size, pooling, dense_units, **_):
    """``(parameters, values per example)`` of ``convnet`` with these arguments (exact parameters)."""
    height, width, channels = input_shape
    parameters, values = 0, height * width * channels
    for count in filters:
        parameters += (kernel_size * kernel_size * channels + 1) * count
        values += height * width * count
        channels = count
        if pooling is not None:
            height, width = height // 2, width // 2
            values += height * width * count
    features = height * width * channels
    if dense_units:
        parameters += (features + 1) * dense_units
        features = dense_units
    return parameters + (features + 1) * num_classes, values


def search_space(hp) -> dict:
    first = hp.Choice("first_filters", [16, 32, 64], default=32)
    return {
        "filters": (first, 2 * first),
        "dense_units": hp.Choice("dense_units", [0, 64, 128, 256], default=128),
        "dropout": hp.Float("dropout", 0.0, 0.5, step=0.1, default=0.0),
        "pooling": hp.Choice("pooling", ["max", "average"], default="max"),
    }


@register(
    "convnet",
    summary="Small ConvNet: 3x3 convolutions, each followed by 2x2 pooling, then a dense layer.",
    task="image_classification",
    inputs="(batch, height, width, channels) float32 pixels, scaled as in training (the recipe: [0, 1])",
    outputs="(batch, num_classes) softmax class probabilities",
    paper=Paper(
        title="Gradient-based learning applied to document recognition",
        authors="LeCun, Y., Bottou, L., Bengio, Y., Haffner, P.",
        year=1998,
        url="https://doi.org/10.1109/5.726791",
    ),
    search_space=search_space,
    num_params=421642,
    default_dataset="mnist_5k",
    recipe="zoo.recipes.convnet",
)
def convnet(input_shape=(28, 28, 1), num_classes=10, filters=(32, 64), kernel_size=3, pooling="max",
            dense_units=128, dropout=0.0, activation="relu", name="convnet"):
    """A small ConvNet classifier: ``[conv -> pool] x len(filters) -> flatten -> dense -> softmax``.

    Args:
        input_shape: ``(height, width, channels)`` of one image, e.g. ``(28, 28, 1)``
            for a grey digit; the sides must survive one halving per pooling.
        num_classes: number of classes of the softmax output (>= 2).
        filters: number of filters of each convolutional layer, e.g. ``(32, 64)``;
            one layer per value, at most 8.
        kernel_size: side of every (square) filter, odd (3 or 5); the layers pad
            their input, so a map keeps its size until it is pooled.
        pooling: ``"max"`` or ``"average"`` 2x2 pooling after each convolutional
            layer, or ``None`` for none.
        dense_units: width of the hidden dense layer before the softmax; 0 for
            none (the flattened maps feed the softmax).
        dropout: dropout rate before the softmax, in [0, 1).
        activation: Keras activation name of the convolutional and dense layers.
        name: name of the returned model.

    Returns:
        An uncompiled ``keras.Model``; train with sparse categorical cross-entropy.
    """
    model = "convnet"
    input_shape = _checks.fixed_shape(model, "input_shape", input_shape, rank=3, example="(28, 28, 1)")
    num_classes = _checks.integer(model, "num_classes", num_classes, minimum=2)
    filters = _checks.integers(model, "filters", filters, max_length=MAX_BLOCKS)
    kernel_size = _checks.integer(model, "kernel_size", kernel_size, minimum=1)
    if kernel_size % 2 == 0:
        raise ValueError(f"{model}: kernel_size={kernel_size} must be odd (3 or 5), so a filter has a centre "
                         "pixel and the padded map keeps its size.")
    pooling = _checks.choice(model, "pooling", pooling, POOLINGS)
    dense_units = _checks.integer(model, "dense_units", dense_units, minimum=0)
    dropout = _checks.fraction(model, "dropout", dropout)
    activation = _checks.activation(model, "activation", activation, rank=4)
    name = _checks.model_name(model, name)
    if pooling is not None:
        smallest = 2 ** len(filters)
        if min(input_shape[:2]) < smallest:
            raise ValueError(
                f"{model}: input_shape={input_shape} is too small for {len(filters)} pooling layers (filters="
                f"{filters}): each halves the maps, so the sides must be at least {smallest}. Use fewer "
                "filters values, pooling=None, or larger images.")
    _checks.size(model, convnet_size, dict(input_shape=input_shape, num_classes=num_classes, filters=filters,
                                           kernel_size=kernel_size, pooling=pooling, dense_units=dense_units))

    import keras
    from zoo.layers.core import classifier_head

    pool = {"max": keras.layers.MaxPooling2D, "average": keras.layers.AveragePooling2D}.get(pooling)
    inputs = keras.Input(shape=input_shape, name="image")
    x = inputs
    for index, count in enumerate(filters, start=1):
        x = keras.layers.Conv2D(count, kernel_size, padding="same", activation=activation, name=f"conv_{index}")(x)
        if pool is not None:
            x = pool(2, name=f"pool_{index}")(x)
    x = keras.layers.Flatten(name="flatten")(x)
    if dense_units:
        x = keras.layers.Dense(dense_units, activation=activation, name="dense")(x)
    return keras.Model(inputs, classifier_head(x, num_classes, dropout), name=name)


def first_layer_maps(model, images):
    """``(kernels, maps)`` of the first convolutional layer: its filters and what they make of ``images``.

    ``kernels`` is ``(filters, height, width)`` (the first input channel); ``maps`` is
    ``(images, filters, height, width)``, after the layer's activation.
    """
    import keras
    import numpy as np

    layer = model.get_layer("conv_1")
    kernel = keras.ops.convert_to_numpy(layer.kernel)
    maps = keras.ops.convert_to_numpy(layer(keras.ops.convert_to_tensor(images, dtype=layer.compute_dtype)))
    return np.moveaxis(kernel[:, :, 0, :], -1, 0), np.moveaxis(maps, -1, 1)
