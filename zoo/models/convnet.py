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


# ----------------------------------------------------------------------------- one dimension: time series

GLOBAL_POOLINGS = ("average", "max")
# The fully convolutional network for time series has three blocks; past 8, a plain stack stops paying.
MAX_BLOCKS_1D = 8
# Batch norm's moving statistics, which inference uses, follow about the last 10 batches (Keras's default
# 0.99: the last 100). Time-series training sets are small: GunPoint's 40 series are 3 batches an epoch, and
# with 0.99 the statistics still lagged the network after 40 epochs, so validation accuracy sat at chance
# while training accuracy reached 0.9.
BATCH_NORM_MOMENTUM = 0.9


def convnet_1d_size(input_shape, num_classes, filters, kernel_sizes, batch_norm, **_):
    """``(parameters, values per example)`` of ``convnet_1d`` with these arguments (exact parameters)."""
    length, channels = input_shape if len(input_shape) == 2 else (input_shape[0], 1)
    parameters, values = 0, length * channels
    for count, kernel in zip(filters, kernel_sizes):
        # With batch norm the convolution has no bias (the norm's offset does its job).
        parameters += (kernel * channels + (0 if batch_norm else 1)) * count + (4 * count if batch_norm else 0)
        values += 2 * length * count
        channels = count
    return parameters + (channels + 1) * num_classes, values


def search_space_1d(hp) -> dict:
    width = hp.Choice("width", [16, 32, 64], default=16)
    return {
        "filters": (width, 2 * width, width),
        "batch_norm": hp.Boolean("batch_norm", default=True),
        "dropout": hp.Float("dropout", 0.0, 0.5, step=0.1, default=0.0),
    }


@register(
    "convnet_1d",
    summary="1-D ConvNet for time series: convolution blocks along time, global pooling, softmax.",
    task="series_classification",
    inputs="(batch, length) or (batch, length, channels) float32 series, z-normalised as in training",
    outputs="(batch, num_classes) softmax class probabilities",
    paper=Paper(
        title="Time series classification from scratch with deep neural networks: a strong baseline",
        authors="Wang, Z., Yan, W., Oates, T.",
        year=2017,
        arxiv="1611.06455",
    ),
    search_space=search_space_1d,
    num_params=4514,
    default_dataset="gunpoint",
    recipe="zoo.recipes.convnet_1d",
)
def convnet_1d(input_shape=(150,), num_classes=2, filters=(16, 32, 16), kernel_sizes=(8, 5, 3), batch_norm=True,
               pooling="average", dropout=0.0, activation="relu", name="convnet_1d"):
    """A fully convolutional network for time series: ``[conv -> batch norm -> activation] x n -> global pool``.

    Each block slides ``filters[i]`` filters of ``kernel_sizes[i]`` steps along time; the
    layers pad their input, so every block keeps the series' length. A global pooling layer
    then keeps one number per filter, wherever along the series its pattern appeared.

    Args:
        input_shape: ``(length,)`` for one channel (a univariate series) or
            ``(length, channels)``.
        num_classes: number of classes of the softmax output (>= 2).
        filters: filters of each convolutional block, e.g. ``(16, 32, 16)``; at most 8 blocks.
        kernel_sizes: the filters' length in time steps, one per block.
        batch_norm: batch normalisation after each convolution (before the activation).
        pooling: ``"average"`` or ``"max"`` global pooling over time.
        dropout: dropout rate before the softmax, in [0, 1).
        activation: Keras activation name of the convolutional blocks.
        name: name of the returned model.

    Returns:
        An uncompiled ``keras.Model``; train with sparse categorical cross-entropy.
    """
    model = "convnet_1d"
    input_shape = _checks.fixed_shape(model, "input_shape", input_shape, example="(150,) or (150, 3)")
    if len(input_shape) > 2:
        raise ValueError(f"{model}: input_shape={input_shape} must be (length,) or (length, channels), e.g. (150,); "
                         "images go to convnet.")
    num_classes = _checks.integer(model, "num_classes", num_classes, minimum=2)
    filters = _checks.integers(model, "filters", filters, max_length=MAX_BLOCKS_1D)
    kernel_sizes = _checks.integers(model, "kernel_sizes", kernel_sizes, max_length=MAX_BLOCKS_1D)
    if len(kernel_sizes) != len(filters):
        raise ValueError(f"{model}: kernel_sizes={kernel_sizes} must give one length per block of filters={filters}, "
                         f"{len(filters)} in all, e.g. kernel_sizes={(3,) * len(filters)}.")
    batch_norm = _checks.boolean(model, "batch_norm", batch_norm)
    pooling = _checks.choice(model, "pooling", pooling, GLOBAL_POOLINGS)
    dropout = _checks.fraction(model, "dropout", dropout)
    activation = _checks.activation(model, "activation", activation, rank=3)
    name = _checks.model_name(model, name)
    _checks.size(model, convnet_1d_size, dict(input_shape=input_shape, num_classes=num_classes, filters=filters,
                                              kernel_sizes=kernel_sizes, batch_norm=batch_norm))

    import keras
    from zoo.layers.core import classifier_head

    inputs = keras.Input(shape=input_shape, name="series")
    x = keras.layers.Reshape((input_shape[0], 1), name="one_channel")(inputs) if len(input_shape) == 1 else inputs
    for index, (count, kernel) in enumerate(zip(filters, kernel_sizes), start=1):
        x = keras.layers.Conv1D(count, kernel, padding="same", use_bias=not batch_norm, name=f"conv_{index}")(x)
        if batch_norm:   # momentum 0.9: see BATCH_NORM_MOMENTUM
            x = keras.layers.BatchNormalization(momentum=BATCH_NORM_MOMENTUM, name=f"batch_norm_{index}")(x)
        x = keras.layers.Activation(activation, name=f"activation_{index}")(x)
    pool = {"average": keras.layers.GlobalAveragePooling1D, "max": keras.layers.GlobalMaxPooling1D}[pooling]
    x = pool(name="pooling")(x)
    return keras.Model(inputs, classifier_head(x, num_classes, dropout), name=name)
