"""The perceptron: one neuron, the smallest network there is.

A weighted sum of the inputs, z = w . x + b, passed through an activation.
The activation gives the neuron its "personality":

- sigmoid, the rationalist: squashes z into (0, 1), a probability. This
  perceptron *is* logistic regression.
- tanh, the pessimist: squashes z into (-1, 1).
- relu, the optimist: negative z gives 0, positive z passes unchanged.
- constant, the naive one: the same output whatever the input (useless,
  and a good mnemonic for why activations must depend on z).

Rosenblatt, F. (1958). The perceptron: a probabilistic model for information
storage and organization in the brain. Psychological Review 65(6).
"""

from __future__ import annotations

import math

from zoo import _checks
from zoo.registry import Paper, register

PERSONALITIES = {
    "rationalist": "sigmoid",
    "pessimist": "tanh",
    "optimist": "relu",
    "naive": "constant",
}
ACTIVATIONS = tuple(PERSONALITIES.values())

# The loss and decision threshold that fit each activation's output range.
# Keras's hinge loss maps 0/1 labels to -1/+1 itself, so tanh needs no relabelling.
LOSSES = {"sigmoid": "binary_crossentropy", "tanh": "hinge", "relu": "mean_squared_error",
          "constant": "binary_crossentropy"}
THRESHOLDS = {"sigmoid": 0.5, "tanh": 0.0, "relu": 0.5, "constant": 0.5}


def resolve_activation(activation: str) -> str:
    """'pessimist' -> 'tanh'; activation names pass through; others raise ValueError."""
    if not isinstance(activation, str):
        raise TypeError(
            f"perceptron: activation={_checks.show(activation)} must be a name: one of "
            f"{', '.join(map(repr, ACTIVATIONS + tuple(PERSONALITIES)))}."
        )
    activation = _checks.choice("perceptron", "activation", activation, ACTIVATIONS + tuple(PERSONALITIES))
    return PERSONALITIES.get(activation, activation)


def perceptron_size(input_shape, activation, **_):
    """``(parameters, values per example)``: a weight per input and a bias (plus the naive one's opinion)."""
    inputs = math.prod(input_shape)
    return inputs + 1 + (resolve_activation(activation) == "constant"), inputs


def search_space(hp) -> dict:
    return {"activation": hp.Choice("activation", list(ACTIVATIONS[:3]), default="sigmoid")}


@register(
    "perceptron",
    summary="One neuron: a weighted sum of the inputs and an activation with a personality.",
    task="binary_classification",
    inputs="(batch, features) float32 feature vectors; standardised features train best",
    outputs="(batch, 1): sigmoid/constant a probability in (0, 1), tanh a score in (-1, 1), "
    "relu a score >= 0; see zoo.models.perceptron.THRESHOLDS",
    paper=Paper(
        title="The perceptron: a probabilistic model for information storage and organization in the brain",
        authors="Rosenblatt, F.",
        year=1958,
        url="https://doi.org/10.1037/h0042519",
    ),
    loss=lambda args: LOSSES[resolve_activation(args["activation"])],
    search_space=search_space,
    num_params=31,
    default_dataset="breast_cancer",
    recipe="zoo.recipes.perceptron",
)
def perceptron(input_shape=(30,), activation="sigmoid", name="perceptron"):
    """One neuron: ``activation(w . x + b)``.

    Args:
        input_shape: shape of one example, e.g. ``(30,)`` for the 30 breast
            cancer measurements.
        activation: ``"sigmoid"``, ``"tanh"``, ``"relu"`` or ``"constant"``,
            or a personality: ``"rationalist"``, ``"pessimist"``,
            ``"optimist"``, ``"naive"``.
        name: name of the returned model.

    Returns:
        An uncompiled ``keras.Model`` with one output unit. Compile it with
        ``zoo.info("perceptron").loss_for(activation=...)``.
    """
    input_shape = _checks.fixed_shape("perceptron", "input_shape", input_shape, rank=1, example="(30,)")
    activation = resolve_activation(activation)
    name = _checks.model_name("perceptron", name)
    _checks.size("perceptron", perceptron_size, dict(input_shape=input_shape, activation=activation))

    import keras
    from zoo.layers import ConstantOutput

    inputs = keras.Input(shape=input_shape, name="features")
    weighted_sum = keras.layers.Dense(1, name="weighted_sum")(inputs)
    if activation == "constant":
        outputs = ConstantOutput(name="activation", dtype="float32")(weighted_sum)
    else:
        outputs = keras.layers.Activation(activation, name="activation", dtype="float32")(weighted_sum)
    return keras.Model(inputs, outputs, name=name)
