"""Sequence networks for text: an LSTM and a small Transformer encoder.

Both read a review as token ids (0 = padding) and answer many-to-one: one
label for the whole sequence (fresh/rotten, or 1-5 stars). They share their
input contract so the recipes can compare memory (LSTM) with attention
(Transformer) on the same corpus.
"""

from __future__ import annotations

import itertools

from zoo import _checks
from zoo.registry import Paper, register

_TEXT_INPUTS = "(batch, sequence_length) int32 token ids, 0 = padding (masked)"
_TEXT_OUTPUTS = "(batch, num_classes) softmax: 2 classes for sentiment, 5 for 1-5 stars"


def _check_text_args(model, vocab_size, num_classes, dropout, name) -> tuple[int, int, float, str]:
    """The arguments both sequence models share, as the plain Python values Keras accepts."""
    return (_checks.integer(model, "vocab_size", vocab_size, minimum=2),
            _checks.integer(model, "num_classes", num_classes, minimum=2),
            _checks.fraction(model, "dropout", dropout),
            _checks.model_name(model, name))


def lstm_sentiment_size(vocab_size, num_classes, embedding_dim, lstm_units, num_layers, bidirectional, **_):
    """``(parameters, values per example)`` of ``lstm_sentiment`` (exact parameters; the
    per-example values depend on the review's length, unknown until it is called)."""
    directions = 2 if bidirectional else 1
    parameters, width = vocab_size * embedding_dim, embedding_dim
    for _ in range(num_layers):  # four gates, each a dense layer over [input, state] with a bias
        parameters += directions * 4 * (width + lstm_units + 1) * lstm_units
        width = directions * lstm_units
    return parameters + (width + 1) * num_classes, 0


def mini_transformer_size(vocab_size, sequence_length, num_classes, embed_dim, num_heads, ff_dim,
                          num_layers, **_):
    """``(parameters, values per example)`` of ``mini_transformer`` (exact parameters; the values
    are one block's attention scores and feed-forward activations for one review)."""
    block = (4 * (embed_dim + 1) * embed_dim  # query, key, value and output projections
             + 4 * embed_dim  # two layer normalisations, scale and offset each
             + (embed_dim + 1) * ff_dim + (ff_dim + 1) * embed_dim)
    parameters = (vocab_size + sequence_length) * embed_dim + num_layers * block + (embed_dim + 1) * num_classes
    return parameters, num_heads * sequence_length**2 + sequence_length * (ff_dim + embed_dim)


def lstm_search_space(hp) -> dict:
    return {
        "embedding_dim": hp.Choice("embedding_dim", [32, 64, 128], default=64),
        "lstm_units": hp.Choice("lstm_units", [32, 64, 128], default=64),
        "bidirectional": hp.Boolean("bidirectional", default=False),
        "dropout": hp.Float("dropout", 0.0, 0.5, step=0.1, default=0.0),
    }


@register(
    "lstm_sentiment",
    summary="Embedding + LSTM, many-to-one: a review in, a sentiment out.",
    task="text_classification",
    inputs=_TEXT_INPUTS,
    outputs=_TEXT_OUTPUTS,
    paper=Paper(
        title="Long short-term memory",
        authors="Hochreiter, S., Schmidhuber, J.",
        year=1997,
        url="https://doi.org/10.1162/neco.1997.9.8.1735",
    ),
    search_space=lstm_search_space,
    num_params=1313154,
    default_dataset="rotten_tomatoes",
    recipe="zoo.recipes.lstm_sentiment",
)
def lstm_sentiment(vocab_size=20000, num_classes=2, embedding_dim=64, lstm_units=64,
                   num_layers=1, bidirectional=False, dropout=0.0, name="lstm_sentiment"):
    """Token ids -> embedding -> LSTM layer(s) -> softmax over classes.

    Args:
        vocab_size: number of token ids, including 0 for padding.
        num_classes: 2 for positive/negative, 5 for 1-5 stars (any >= 2).
        embedding_dim: size of each token's vector.
        lstm_units: size of the LSTM's memory.
        num_layers: stacked LSTM layers (>= 1).
        bidirectional: read the sequence both ways.
        dropout: dropout rate before the classifier, in [0, 1).
        name: name of the returned model.
    """
    model = "lstm_sentiment"
    vocab_size, num_classes, dropout, name = _check_text_args(model, vocab_size, num_classes, dropout, name)
    embedding_dim = _checks.integer(model, "embedding_dim", embedding_dim)
    lstm_units = _checks.integer(model, "lstm_units", lstm_units)
    num_layers = _checks.integer(model, "num_layers", num_layers, maximum=8)
    bidirectional = _checks.boolean(model, "bidirectional", bidirectional)
    _checks.size(model, lstm_sentiment_size, dict(
        vocab_size=vocab_size, num_classes=num_classes, embedding_dim=embedding_dim, lstm_units=lstm_units,
        num_layers=num_layers, bidirectional=bidirectional))

    import keras
    from zoo.layers.core import classifier_head

    inputs = keras.Input(shape=(None,), dtype="int32", name="token_ids")
    x = keras.layers.Embedding(vocab_size, embedding_dim, mask_zero=True, name="embedding")(inputs)
    for index in range(1, num_layers + 1):
        # Every layer but the last hands the whole sequence on; the last keeps its final state.
        lstm = keras.layers.LSTM(lstm_units, return_sequences=index < num_layers, name=f"lstm_{index}")
        x = keras.layers.Bidirectional(lstm, name=f"bidirectional_{index}")(x) if bidirectional else lstm(x)
    return keras.Model(inputs, classifier_head(x, num_classes, dropout), name=name)


def transformer_search_space(hp) -> dict:
    return {
        "embed_dim": hp.Choice("embed_dim", [32, 64, 128], default=64),
        "num_heads": hp.Choice("num_heads", [1, 2, 4], default=2),
        "ff_dim": hp.Choice("ff_dim", [64, 128, 256], default=128),
        "num_layers": hp.Int("num_layers", 1, 3, default=1),
        "dropout": hp.Float("dropout", 0.0, 0.3, step=0.1, default=0.1),
    }


@register(
    "mini_transformer",
    summary="Small Transformer encoder classifier: token + position embedding, self-attention, pooling.",
    task="text_classification",
    inputs=_TEXT_INPUTS + ", padded or cut to exactly sequence_length",
    outputs=_TEXT_OUTPUTS,
    paper=Paper(title="Attention is all you need", authors="Vaswani, A. et al.", year=2017,
                arxiv="1706.03762"),
    search_space=transformer_search_space,
    num_params=1326402,
    default_dataset="rotten_tomatoes",
    recipe="zoo.recipes.mini_transformer",
)
def mini_transformer(vocab_size=20000, sequence_length=200, num_classes=2, embed_dim=64,
                     num_heads=2, ff_dim=128, num_layers=1, dropout=0.1, name="mini_transformer"):
    """Token ids -> token + position embedding -> encoder blocks -> mean pool -> softmax.

    Padding (id 0) is masked in attention and in the pooling.

    Args:
        vocab_size: number of token ids, including 0 for padding.
        sequence_length: longest input the position embedding covers.
        num_classes: 2 for positive/negative, 5 for 1-5 stars (any >= 2).
        embed_dim: size of the token vectors; a multiple of num_heads.
        num_heads: attention heads per block.
        ff_dim: hidden width of each block's feed-forward network.
        num_layers: number of encoder blocks.
        dropout: dropout rate inside the blocks and before the classifier.
        name: name of the returned model.
    """
    model = "mini_transformer"
    vocab_size, num_classes, dropout, name = _check_text_args(model, vocab_size, num_classes, dropout, name)
    sequence_length = _checks.integer(model, "sequence_length", sequence_length)
    embed_dim = _checks.integer(model, "embed_dim", embed_dim)
    num_heads = _checks.integer(model, "num_heads", num_heads)
    ff_dim = _checks.integer(model, "ff_dim", ff_dim)
    num_layers = _checks.integer(model, "num_layers", num_layers, maximum=24)
    if embed_dim % num_heads:
        divisors = (heads for heads in range(1, min(embed_dim, 64) + 1) if embed_dim % heads == 0)
        raise ValueError(
            f"{model}: embed_dim={embed_dim} is not divisible by num_heads={num_heads}; "
            f"pick num_heads among {list(itertools.islice(divisors, 8))}."
        )
    _checks.size(model, mini_transformer_size, dict(
        vocab_size=vocab_size, sequence_length=sequence_length, num_classes=num_classes, embed_dim=embed_dim,
        num_heads=num_heads, ff_dim=ff_dim, num_layers=num_layers))

    import keras
    from zoo.layers import TokenAndPositionEmbedding, TransformerEncoder
    from zoo.layers.core import classifier_head

    # A fixed length: longer inputs would index past the position table.
    inputs = keras.Input(shape=(sequence_length,), dtype="int32", name="token_ids")
    x = TokenAndPositionEmbedding(vocab_size, sequence_length, embed_dim, name="embedding")(inputs)
    for index in range(1, num_layers + 1):
        x = TransformerEncoder(embed_dim, num_heads, ff_dim, dropout, name=f"encoder_{index}")(x)
    x = keras.layers.GlobalAveragePooling1D(name="pooling")(x)
    return keras.Model(inputs, classifier_head(x, num_classes, dropout), name=name)
