"""The multilayer perceptron: fully connected layers of neurons.

Input layer (no computation: the eyes and ears), hidden layers, an output
layer that makes the prediction. The default follows a rule of thumb: one
hidden layer with about half as many units as there are inputs.
"""

from __future__ import annotations

import math

from zoo import _checks
from zoo.registry import Paper, register


# Deeper plain MLPs (no normalisation, no skips) stop learning as gradients vanish,
# and each layer costs build time: 32 is far past any that trains.
MAX_HIDDEN_LAYERS = 32


def default_hidden_units(input_shape) -> tuple[int]:
    """The rule of thumb: one hidden layer of half the inputs (at least 1 unit)."""
    return (max(1, math.prod(input_shape) // 2),)


def mlp_size(input_shape, num_classes, hidden_units, **_):
    """``(parameters, values per example)`` of ``mlp`` with these arguments (exact parameters)."""
    widths = (math.prod(input_shape),) + tuple(hidden_units or default_hidden_units(input_shape))
    parameters = sum((units_in + 1) * units_out for units_in, units_out in zip(widths, widths[1:] + (num_classes,)))
    return parameters, sum(widths)


def search_space(hp) -> dict:
    depth = hp.Int("hidden_layers", 1, 3, default=1)
    width = hp.Choice("hidden_width", [16, 32, 64, 128], default=32)
    return {
        "hidden_units": tuple([width] * depth),
        "dropout": hp.Float("dropout", 0.0, 0.5, step=0.1, default=0.0),
        "activation": hp.Choice("activation", ["relu", "tanh", "gelu"], default="relu"),
    }


@register(
    "mlp",
    summary="Fully connected network; the default hidden width is half the inputs.",
    task="classification",
    inputs="(batch, *input_shape) float32; images are flattened inside the model",
    outputs="(batch, num_classes) softmax class probabilities",
    paper=Paper(
        title="Learning representations by back-propagating errors",
        authors="Rumelhart, D. E., Hinton, G. E., Williams, R. J.",
        year=1986,
        url="https://doi.org/10.1038/323533a0",
    ),
    search_space=search_space,
    num_params=2410,
    default_dataset="digits",
    recipe="zoo.recipes.mlp",
)
def mlp(input_shape=(64,), num_classes=10, hidden_units=None, activation="relu", dropout=0.0,
        name="mlp"):
    """A multilayer perceptron classifier.

    Args:
        input_shape: shape of one example; anything with more than one
            dimension (an 8x8 image) is flattened first.
        num_classes: number of classes of the softmax output (>= 2).
        hidden_units: width of each hidden layer, e.g. ``[64, 32]``; ``None``
            means one hidden layer of half the inputs (at least 1 unit); at
            most 32 layers.
        activation: Keras activation name of the hidden layers.
        dropout: dropout rate after each hidden layer, in [0, 1).
        name: name of the returned model.

    Returns:
        An uncompiled ``keras.Model``; train with sparse categorical cross-entropy.
    """
    input_shape = _checks.fixed_shape("mlp", "input_shape", input_shape, example="(64,) or (8, 8)")
    num_classes = _checks.integer("mlp", "num_classes", num_classes, minimum=2)
    if hidden_units is not None:
        hidden_units = _checks.integers("mlp", "hidden_units", hidden_units, max_length=MAX_HIDDEN_LAYERS)
    activation = _checks.activation("mlp", "activation", activation)
    dropout = _checks.fraction("mlp", "dropout", dropout)
    name = _checks.model_name("mlp", name)
    _checks.size("mlp", mlp_size, dict(input_shape=input_shape, num_classes=num_classes, hidden_units=hidden_units))
    hidden_units = hidden_units or default_hidden_units(input_shape)

    import keras
    from zoo.layers.core import classifier_head

    inputs = keras.Input(shape=input_shape, name="features")
    x = keras.layers.Flatten(name="flatten")(inputs) if len(input_shape) > 1 else inputs
    for index, units in enumerate(hidden_units, start=1):
        x = keras.layers.Dense(units, activation=activation, name=f"hidden_{index}")(x)
        if dropout:
            x = keras.layers.Dropout(dropout, name=f"dropout_{index}")(x)
    return keras.Model(inputs, classifier_head(x, num_classes), name=name)
