"""What masked-token pretraining adds to a Transformer encoder: reading the vectors of the hidden tokens."""

import keras
from keras import ops


@keras.saving.register_keras_serializable(package="zoo")
class MaskedPositions(keras.layers.Layer):
    """``[token_ids, vectors]`` -> the vectors of the first ``max_predictions`` tokens equal to ``mask_id``.

    BERT's pretraining hides some tokens of each text behind a mask token and
    asks the model to name them; only those positions are scored. Gathering
    their vectors first makes the softmax over the vocabulary, by far the
    largest layer, run on ``max_predictions`` vectors per text instead of one
    per token. The positions come out in reading order; a text with fewer mask
    tokens fills its last slots with other positions, which its targets mark
    as unused (label 0, weight 0).

    Args:
        max_predictions: slots per text: the most mask tokens a text may hold.
        mask_id: the token id that marks a hidden token.
    """

    def __init__(self, max_predictions, mask_id, **kwargs):
        super().__init__(**kwargs)
        self.max_predictions = max_predictions
        self.mask_id = mask_id
        self.supports_masking = True   # it reads the padding mask away: its slots are not positions

    def call(self, inputs, mask=None):
        token_ids, vectors = inputs
        length = ops.shape(token_ids)[-1]
        # Each masked position scores length - position (the first highest), every other one 0: top_k
        # then lists the masked positions in reading order.
        order = ops.cast(length - ops.arange(length), "int32")
        scores = ops.where(ops.equal(token_ids, self.mask_id), order, ops.zeros_like(order))
        _, positions = ops.top_k(scores, k=self.max_predictions, sorted=True)
        shape = (ops.shape(vectors)[0], self.max_predictions, ops.shape(vectors)[-1])
        return ops.take_along_axis(vectors, ops.broadcast_to(ops.expand_dims(positions, -1), shape), axis=1)

    def compute_mask(self, inputs, mask=None):
        return None

    def compute_output_shape(self, input_shape):
        _, vectors_shape = input_shape
        return (vectors_shape[0], self.max_predictions, vectors_shape[-1])

    def get_config(self):
        return {**super().get_config(), "max_predictions": self.max_predictions, "mask_id": self.mask_id}
