"""An LSTM decoder that writes a fixed number of steps, reading the encoder through additive attention."""

import keras
from keras import layers, ops


@keras.saving.register_keras_serializable(package="zoo")
class AttentionDecoder(keras.layers.Layer):
    """Reads a bidirectional encoder's outputs and returns ``steps`` decoder states, one per output token.

    The encoder's summary (its forward half's last real position and its backward half's
    first: the two final states) starts the decoder's LSTM. At each step the decoder then
    reads a *context*, a vector made from the encoder's outputs, and moves on:

    - with ``attention=True`` (Bahdanau et al., 2014), the context is an average of the
      encoder's outputs weighted by how well each matches the decoder's state:
      ``score_j = v . tanh(W_k h_j + W_q s)``, ``weights = softmax(score)`` over the real
      (unmasked) positions, ``context = sum_j weights_j h_j``. Each output step can look at
      the characters it needs;
    - with ``attention=False`` (Cho et al., 2014), the context is the summary at every
      step: the whole input has to pass through one vector.

    No previous output is fed back (the output has a fixed form), so all steps train at once.

    Args:
        steps: number of output steps.
        units: size of the decoder's LSTM state.
        attention_units: size of the space the scores are computed in (``W_k``, ``W_q``).
        attention: read through attention (True) or the summary alone (False).
    Call arguments:
        encoded: ``(batch, positions, features)``: a ``Bidirectional`` RNN's outputs with
            ``merge_mode="concat"`` (forward half first), real positions before padding.
        mask: ``(batch, positions)``, False at padding; Keras passes the encoder's.
        return_attention_scores: also return the ``(batch, steps, positions)`` weights
            (uniform when ``attention=False``: every position counts the same).
    """

    def __init__(self, steps, units, attention_units=32, attention=True, **kwargs):
        super().__init__(**kwargs)
        self.steps = steps
        self.units = units
        self.attention_units = attention_units
        self.attention = bool(attention)
        # Sublayers share this layer's dtype policy (as in keras-hub).
        policy = self.dtype_policy
        self.start = layers.Dense(units, activation="tanh", dtype=policy, name="start")
        self.cell = layers.LSTMCell(units, dtype=policy, name="cell")
        if self.attention:
            self.keys = layers.Dense(attention_units, use_bias=False, dtype=policy, name="keys")
            self.query = layers.Dense(attention_units, dtype=policy, name="query")
            self.score = layers.Dense(1, use_bias=False, dtype=policy, name="score")

    def build(self, encoded_shape):
        features = encoded_shape[-1]
        if features is None or features % 2:
            raise ValueError(f"AttentionDecoder reads a bidirectional encoder's outputs (forward and backward "
                             f"halves), so their last axis must be even; got {encoded_shape}.")
        self.start.build((None, features))
        self.cell.build((None, features))
        if self.attention:
            self.keys.build(encoded_shape)
            self.query.build((None, self.units))
            self.score.build((None, None, self.attention_units))

    def call(self, encoded, mask=None, training=None, return_attention_scores=False):
        batch, positions = ops.shape(encoded)[0], ops.shape(encoded)[1]
        real = ops.ones((batch, positions), "bool") if mask is None else ops.cast(mask, "bool")
        summary = self._summary(encoded, real)
        state = [self.start(summary)]
        state.append(ops.zeros_like(state[0]))
        if self.attention:
            keys = self.keys(encoded)
        else:  # the summary every step; the weights a reader sees: every real position alike
            uniform = ops.cast(real, "float32") / ops.sum(ops.cast(real, "float32"), axis=1, keepdims=True)
        outputs, weights = [], []
        for _ in range(self.steps):
            if self.attention:
                scores = ops.squeeze(self.score(ops.tanh(keys + ops.expand_dims(self.query(state[0]), 1))), -1)
                # In float32: a float16 score could not hold the large negative that hides padding.
                scores = ops.where(real, ops.cast(scores, "float32"), -1e9)
                step_weights = ops.softmax(scores, axis=-1)
                context = ops.sum(ops.expand_dims(ops.cast(step_weights, encoded.dtype), -1) * encoded, axis=1)
            else:
                step_weights, context = uniform, summary
            output, state = self.cell(context, state, training=training)
            outputs.append(output)
            weights.append(step_weights)
        outputs = ops.stack(outputs, axis=1)
        return (outputs, ops.stack(weights, axis=1)) if return_attention_scores else outputs

    def _summary(self, encoded, real):
        """The encoder's two final states: forward at the last real position, backward at the first."""
        half = encoded.shape[-1] // 2
        last = ops.maximum(ops.sum(ops.cast(real, "int32"), axis=1) - 1, 0)
        forward = ops.take_along_axis(encoded[..., :half], ops.reshape(last, (-1, 1, 1)), axis=1)[:, 0]
        return ops.concatenate([forward, encoded[:, 0, half:]], axis=-1)

    def compute_mask(self, encoded, mask=None):
        return None   # every output step is real

    def compute_output_shape(self, encoded_shape):
        return (encoded_shape[0], self.steps, self.units)

    def get_config(self):
        return {
            **super().get_config(),
            "steps": self.steps,
            "units": self.units,
            "attention_units": self.attention_units,
            "attention": self.attention,
        }
