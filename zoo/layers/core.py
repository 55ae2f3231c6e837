"""Small general-purpose layers."""

import keras
from keras import ops


@keras.saving.register_keras_serializable(package="zoo")
class ConstantOutput(keras.layers.Layer):
    """Outputs one learned number for every example, whatever the input.

    This is the perceptron's "naive" personality: a constant activation makes
    the weighted sum irrelevant, so the best the neuron can learn is a single
    opinion. Trained with binary cross-entropy it settles on the frequency of
    the positive class, i.e. it always predicts the majority class.

    Args:
        initial_value: the starting output, in (0, 1).
    """

    def __init__(self, initial_value=0.5, **kwargs):
        super().__init__(**kwargs)
        self.initial_value = float(initial_value)

    def build(self, input_shape):
        self.value = self.add_weight(
            name="value",
            shape=(),
            initializer=keras.initializers.Constant(self.initial_value),
            constraint=_UnitInterval(),
        )

    def call(self, inputs):
        batch_ones = ops.ones_like(inputs[..., :1], dtype=self.compute_dtype)
        return batch_ones * ops.cast(self.value, self.compute_dtype)

    def compute_output_shape(self, input_shape):
        return tuple(input_shape[:-1]) + (1,)

    def get_config(self):
        return {**super().get_config(), "initial_value": self.initial_value}


def classifier_head(features, num_classes, dropout=0.0):
    """Optional dropout, then the ``num_classes``-way softmax every zoo classifier ends with.

    The layers are named ``dropout`` and ``predictions`` (saved models and
    ``split_head`` refer to them). The softmax layer is float32 whatever the dtype
    policy: in float16, small probabilities round to 0 and the cross-entropy's
    log(0) turns the loss into inf.
    """
    if dropout:
        features = keras.layers.Dropout(dropout, name="dropout")(features)
    return keras.layers.Dense(num_classes, activation="softmax", dtype="float32", name="predictions")(features)


@keras.saving.register_keras_serializable(package="zoo")
class _UnitInterval(keras.constraints.Constraint):
    """Keeps a weight inside [0, 1] so it stays a probability."""

    def __call__(self, w):
        return ops.clip(w, 0.0, 1.0)
