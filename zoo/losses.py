"""Losses the Keras library does not have, registered under the package name "zoo".

``SparseCategoricalCrossentropy(label_smoothing=0.1)``: Keras's sparse
cross-entropy takes integer labels but no label smoothing, and its
categorical one smooths but wants one-hot labels. This one takes integer
labels (like every zoo dataset) and smooths: the target puts
``1 - label_smoothing`` on the true class and spreads ``label_smoothing``
evenly over all classes, so the model is never pushed to infinite confidence.
With ``label_smoothing=0`` it is Keras's sparse cross-entropy.
"""

import keras
from keras import ops

from zoo import _checks


@keras.saving.register_keras_serializable(package="zoo")
class SparseCategoricalCrossentropy(keras.losses.Loss):
    """Cross-entropy between integer labels and class probabilities, with optional label smoothing.

    Args:
        label_smoothing: in [0, 1): the share of the target spread over all classes.
    """

    def __init__(self, label_smoothing=0.0, name="smoothed_sparse_categorical_crossentropy",
                 reduction="sum_over_batch_size", dtype=None):
        super().__init__(name=name, reduction=reduction, dtype=dtype)
        self.label_smoothing = _checks.fraction("SparseCategoricalCrossentropy", "label_smoothing", label_smoothing)

    def call(self, y_true, y_pred):
        labels = ops.cast(y_true, "int32")
        if len(labels.shape) == len(y_pred.shape):  # (batch, 1) labels, as Keras's sparse losses accept
            labels = ops.squeeze(labels, axis=-1)
        targets = ops.one_hot(labels, ops.shape(y_pred)[-1], dtype=y_pred.dtype)
        return keras.losses.categorical_crossentropy(targets, y_pred, label_smoothing=self.label_smoothing)

    def get_config(self):
        return {**super().get_config(), "label_smoothing": self.label_smoothing}
