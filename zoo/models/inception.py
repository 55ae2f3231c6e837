"""Inception: filters of several sizes side by side, instead of one size stacked deeper.

A plain ConvNet layer makes one choice for the whole network: 3x3 filters, say.
GoogLeNet's Inception module (Szegedy et al., 2014) refuses to choose. It runs
four branches on the same input at once: 1x1 filters, 3x3 filters, 5x5 filters
and a 3x3 max pooling, and stacks their maps along the channels, so the next
layer picks whichever size found something. The large filters would cost too
much on a deep input, so 1x1 convolutions first squeeze the input to a few
channels (the "reductions"): the module is wide but cheap.

``block="plain"`` builds the same network with each module replaced by one 3x3
convolution of about the module's parameter count: the comparison that asks
whether the modules, not the parameters, make the difference.
"""

from __future__ import annotations

from zoo import _checks
from zoo.registry import Paper, register

BLOCKS = ("inception", "plain")
# Each stage after the first halves the maps; GoogLeNet has three stages of modules, and past 6 a 28x28 digit
# is one pixel wide long before the last one.
MAX_STAGES = 6
MAX_MODULES_PER_STAGE = 8


def branch_widths(width: int) -> dict[str, int]:
    """Filters of each branch of a module whose concatenated output has ``width`` channels.

    GoogLeNet's first module (3a, 256 channels out) in proportion: a quarter of the
    channels from 1x1 filters, half from 3x3, an eighth from 5x5 and an eighth from the
    pooling branch; the 1x1 reductions in front of the 3x3 and 5x5 filters keep 3/8 and
    1/16 of the width.
    """
    return {"1x1": width // 4, "3x3_reduce": 3 * width // 8, "3x3": width // 2,
            "5x5_reduce": width // 16, "5x5": width // 8, "pool_proj": width // 8}


def module_params(channels: int, width: int) -> int:
    """Parameters of one Inception module reading ``channels`` channels and writing ``width``."""
    branch = branch_widths(width)
    return ((channels + 1) * (branch["1x1"] + branch["3x3_reduce"] + branch["5x5_reduce"] + branch["pool_proj"])
            + (9 * branch["3x3_reduce"] + 1) * branch["3x3"] + (25 * branch["5x5_reduce"] + 1) * branch["5x5"])


def plain_width(channels: int, params: int) -> int:
    """Filters of the 3x3 convolution over ``channels`` channels closest to ``params`` parameters (at least 1)."""
    return max(1, round(params / (9 * channels + 1)))


def layout(input_shape, stem_filters, stages, width, block):
    """The network's plan: ``[(stage, module, filters out, parameters, side x side)]``, one row per block.

    A module of stage ``i`` (from 0) writes ``width * 2**i`` channels; a plain block
    writes as many as keep its parameters closest to that module's, given what it reads.
    """
    height, wide = -(-input_shape[0] // 2), -(-input_shape[1] // 2)   # after the stem's pooling
    rows, module_in, plain_in = [], stem_filters, stem_filters
    for stage, modules in enumerate(stages):
        if stage:   # a 3x3 max pooling of stride 2 between stages
            height, wide = -(-height // 2), -(-wide // 2)
        for index in range(modules):
            out = width * 2 ** stage
            params = module_params(module_in, out)
            if block == "plain":
                filters = plain_width(plain_in, params)
                rows.append((stage, index, filters, (9 * plain_in + 1) * filters, height * wide))
                plain_in = filters
            else:
                rows.append((stage, index, out, params, height * wide))
            module_in = out
    return rows


def inception_size(input_shape, num_classes, stem_filters, stages, width, block, **_):
    """``(parameters, values per example)`` of ``inception`` with these arguments (exact parameters)."""
    height, wide, channels = input_shape
    parameters = (9 * channels + 1) * stem_filters
    values = height * wide * (channels + stem_filters)
    rows = layout(input_shape, stem_filters, stages, width, block)
    for _, _, filters, params, area in rows:
        parameters += params
        # A module holds its four branches, their reductions and its concatenation: about 3x its output.
        values += area * filters * (3 if block == "inception" else 1)
    last = rows[-1][2] if rows else stem_filters
    return parameters + (last + 1) * num_classes, values


def search_space(hp) -> dict:
    return {
        "width": hp.Choice("width", [32, 64, 96], default=64),
        "stages": (hp.Int("first_stage_modules", 1, 3, default=1), 1),
        "dropout": hp.Float("dropout", 0.0, 0.5, step=0.1, default=0.3),
    }


@register(
    "inception",
    summary="Small GoogLeNet: Inception modules (1x1, 3x3, 5x5 and pooling branches side by side), global pooling.",
    task="image_classification",
    inputs="(batch, height, width, channels) float32 pixels, scaled as in training (the recipe: [0, 1])",
    outputs="(batch, num_classes) softmax class probabilities",
    paper=Paper(
        title="Going deeper with convolutions",
        authors="Szegedy, C., Liu, W., Jia, Y., Sermanet, P., Reed, S., Anguelov, D., Erhan, D., Vanhoucke, V., "
                "Rabinovich, A.",
        year=2014,
        arxiv="1409.4842",
    ),
    search_space=search_space,
    num_params=48766,
    default_dataset="mnist_5k",
    recipe="zoo.recipes.inception",
)
def inception(input_shape=(28, 28, 1), num_classes=10, stem_filters=32, stages=(1, 1), width=64,
              block="inception", dropout=0.3, activation="relu", name="inception"):
    """A small GoogLeNet: ``stem -> [Inception modules -> pool] x stages -> global average pool -> softmax``.

    The stem is one 3x3 convolution and a 3x3 max pooling of stride 2. Each stage is a
    run of Inception modules; a 3x3 max pooling of stride 2 halves the maps between
    stages. Every module of stage ``i`` (from 0) writes ``width * 2**i`` channels,
    split as in GoogLeNet (see ``branch_widths``). Global average pooling then keeps
    one number per channel, so no large dense layer is needed.

    Args:
        input_shape: ``(height, width, channels)`` of one image, e.g. ``(28, 28, 1)``;
            the sides must survive one halving per stage.
        num_classes: number of classes of the softmax output (>= 2).
        stem_filters: filters of the stem's 3x3 convolution.
        stages: number of modules in each stage, e.g. ``(1, 1)``: one module on the
            14x14 maps of a digit, one on 7x7; at most 6 stages.
        width: output channels of each module of the first stage, a multiple of 16
            (every branch gets a whole number of filters); doubled at each stage.
        block: ``"inception"``, or ``"plain"`` for the comparison network: each
            module replaced by one 3x3 convolution of about its parameter count.
        dropout: dropout rate before the softmax, in [0, 1); GoogLeNet used 0.4.
        activation: Keras activation name of every convolution.
        name: name of the returned model.

    Returns:
        An uncompiled ``keras.Model``; train with sparse categorical cross-entropy.
    """
    model = "inception"
    input_shape = _checks.fixed_shape(model, "input_shape", input_shape, rank=3, example="(28, 28, 1)")
    num_classes = _checks.integer(model, "num_classes", num_classes, minimum=2)
    stem_filters = _checks.integer(model, "stem_filters", stem_filters, minimum=1)
    stages = _checks.integers(model, "stages", stages, max_length=MAX_STAGES)
    if max(stages) > MAX_MODULES_PER_STAGE:
        raise ValueError(f"{model}: stages={stages} asks for {max(stages)} modules in one stage; at most "
                         f"{MAX_MODULES_PER_STAGE} (GoogLeNet's largest stage has 5), e.g. stages=(1, 1).")
    width = _checks.integer(model, "width", width, minimum=16)
    if width % 16:
        raise ValueError(f"{model}: width={width} must be a multiple of 16, so each of the module's branches gets a "
                         f"whole number of filters (the 5x5 reduction is width/16); e.g. width={16 * round(width / 16) or 16}.")
    block = _checks.choice(model, "block", block, BLOCKS)
    dropout = _checks.fraction(model, "dropout", dropout)
    activation = _checks.activation(model, "activation", activation, rank=4)
    name = _checks.model_name(model, name)
    smallest = 2 ** len(stages)
    if min(input_shape[:2]) < smallest:
        raise ValueError(
            f"{model}: input_shape={input_shape} is too small for {len(stages)} stages (stages={stages}): the stem "
            f"and each later stage halve the maps, so the sides must be at least {smallest}. Use fewer stages or "
            "larger images.")
    _checks.size(model, inception_size, dict(input_shape=input_shape, num_classes=num_classes,
                                             stem_filters=stem_filters, stages=stages, width=width, block=block))

    import keras
    from zoo.layers.core import classifier_head

    def conv(x, filters, size, layer_name):
        return keras.layers.Conv2D(filters, size, padding="same", activation=activation, name=layer_name)(x)

    inputs = keras.Input(shape=input_shape, name="image")
    x = conv(inputs, stem_filters, 3, "stem_conv")
    x = keras.layers.MaxPooling2D(3, strides=2, padding="same", name="stem_pool")(x)
    for stage, index, filters, _, _ in layout(input_shape, stem_filters, stages, width, block):
        prefix = f"module_{stage + 1}{'abcdefgh'[index]}"
        if stage and not index:
            x = keras.layers.MaxPooling2D(3, strides=2, padding="same", name=f"pool_{stage}")(x)
        if block == "plain":
            x = conv(x, filters, 3, f"{prefix}_3x3")
            continue
        branch = branch_widths(filters)
        pooled = keras.layers.MaxPooling2D(3, strides=1, padding="same", name=f"{prefix}_pool")(x)
        x = keras.layers.Concatenate(name=f"{prefix}_concat")([
            conv(x, branch["1x1"], 1, f"{prefix}_1x1"),
            conv(conv(x, branch["3x3_reduce"], 1, f"{prefix}_3x3_reduce"), branch["3x3"], 3, f"{prefix}_3x3"),
            conv(conv(x, branch["5x5_reduce"], 1, f"{prefix}_5x5_reduce"), branch["5x5"], 5, f"{prefix}_5x5"),
            conv(pooled, branch["pool_proj"], 1, f"{prefix}_pool_proj"),
        ])
    x = keras.layers.GlobalAveragePooling2D(name="global_pool")(x)
    return keras.Model(inputs, classifier_head(x, num_classes, dropout), name=name)
