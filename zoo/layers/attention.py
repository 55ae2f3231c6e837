"""Transformer building blocks: token + position embedding, an encoder block (causal: a GPT block)."""

import keras
from keras import layers, ops


@keras.saving.register_keras_serializable(package="zoo")
class TokenAndPositionEmbedding(keras.layers.Layer):
    """Token ids -> token embedding + learned position embedding.

    Attention by itself ignores order; adding a vector per position tells the
    model where each token sits. Token id 0 is padding: the layer emits a mask
    so the layers after it ignore padded positions.

    Args:
        vocab_size: number of token ids (id 0 is padding).
        sequence_length: longest sequence the position table covers.
        embed_dim: size of each embedding vector.
    """

    def __init__(self, vocab_size, sequence_length, embed_dim, **kwargs):
        super().__init__(**kwargs)
        self.vocab_size = vocab_size
        self.sequence_length = sequence_length
        self.embed_dim = embed_dim
        # Sublayers share this layer's dtype policy (as in keras-hub), so a per-layer
        # dtype="mixed_float16" returns float16 like Keras's own Embedding does.
        self.token_embedding = layers.Embedding(
            vocab_size, embed_dim, dtype=self.dtype_policy, name="token_embedding"
        )
        self.position_embedding = layers.Embedding(
            sequence_length, embed_dim, dtype=self.dtype_policy, name="position_embedding"
        )
        self.supports_masking = True

    def build(self, input_shape):
        self.token_embedding.build(input_shape)
        self.position_embedding.build((input_shape[-1],))

    def call(self, token_ids):
        positions = ops.arange(ops.shape(token_ids)[-1])
        return self.token_embedding(token_ids) + self.position_embedding(positions)

    def compute_mask(self, token_ids, mask=None):
        return ops.not_equal(token_ids, 0)

    def compute_output_shape(self, input_shape):
        return tuple(input_shape) + (self.embed_dim,)

    def get_config(self):
        return {
            **super().get_config(),
            "vocab_size": self.vocab_size,
            "sequence_length": self.sequence_length,
            "embed_dim": self.embed_dim,
        }


@keras.saving.register_keras_serializable(package="zoo")
class TransformerEncoder(keras.layers.Layer):
    """One Transformer encoder block (Vaswani et al., 2017), post-norm.

    Self-attention lets every token look at every other non-padded token; a
    position-wise feed-forward network then transforms each token. Each
    sub-layer is wrapped in a residual connection and layer normalisation.

    Args:
        embed_dim: size of the token vectors in and out.
        num_heads: attention heads; must divide embed_dim.
        ff_dim: hidden width of the feed-forward network.
        dropout: dropout rate after attention and feed-forward.
        causal: each token attends to itself and the tokens before it only, never
            to later ones: the block of a GPT-style generator, which learns to
            predict every next token of a text at once without seeing it.
    """

    def __init__(self, embed_dim, num_heads, ff_dim, dropout=0.0, causal=False, **kwargs):
        super().__init__(**kwargs)
        self.embed_dim = embed_dim
        self.num_heads = num_heads
        self.ff_dim = ff_dim
        self.dropout = dropout
        self.causal = bool(causal)
        # Every sublayer gets this layer's dtype policy (as in keras-hub): with the global
        # default instead, dtype="mixed_float16" here would add float32 attention outputs
        # to float16 inputs and fail on the first call.
        policy = self.dtype_policy
        self.attention = layers.MultiHeadAttention(
            num_heads=num_heads, key_dim=embed_dim // num_heads, dtype=policy, name="attention"
        )
        self.feed_forward_hidden = layers.Dense(ff_dim, activation="relu", dtype=policy, name="ff_hidden")
        self.feed_forward_output = layers.Dense(embed_dim, dtype=policy, name="ff_output")
        self.attention_norm = layers.LayerNormalization(epsilon=1e-6, dtype=policy, name="attention_norm")
        self.feed_forward_norm = layers.LayerNormalization(epsilon=1e-6, dtype=policy, name="ff_norm")
        self.attention_dropout = layers.Dropout(dropout, dtype=policy)
        self.feed_forward_dropout = layers.Dropout(dropout, dtype=policy)
        self.supports_masking = True

    def build(self, input_shape):
        self.attention.build(input_shape, input_shape)
        self.attention_norm.build(input_shape)
        self.feed_forward_hidden.build(input_shape)
        self.feed_forward_output.build(tuple(input_shape[:-1]) + (self.ff_dim,))
        self.feed_forward_norm.build(input_shape)

    def call(self, inputs, mask=None, training=None, return_attention_scores=False):
        # A (batch, 1, keys) mask: every query may attend to every real token.
        attention_mask = None if mask is None else ops.expand_dims(ops.cast(mask, "bool"), 1)
        attended, scores = self.attention(
            inputs,
            inputs,
            attention_mask=attention_mask,
            use_causal_mask=self.causal,
            training=training,
            return_attention_scores=True,
        )
        x = self.attention_norm(inputs + self.attention_dropout(attended, training=training))
        hidden = self.feed_forward_output(self.feed_forward_hidden(x))
        outputs = self.feed_forward_norm(x + self.feed_forward_dropout(hidden, training=training))
        return (outputs, scores) if return_attention_scores else outputs

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        return {
            **super().get_config(),
            "embed_dim": self.embed_dim,
            "num_heads": self.num_heads,
            "ff_dim": self.ff_dim,
            "dropout": self.dropout,
            "causal": self.causal,
        }
