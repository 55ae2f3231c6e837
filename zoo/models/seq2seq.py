"""An encoder-decoder with attention: a sequence in, another sequence of fixed length out (many-to-many).

A bidirectional LSTM reads the input characters; an LSTM decoder then writes the
output one step at a time. With attention (Bahdanau et al., 2014), each output step
chooses which input characters to read; without it (``attention=False``, the
encoder-decoder of Cho et al., 2014), the whole input reaches the decoder through
the encoder's final states alone. The recipe turns human-written dates ("the 4th of
March 1987", "3/4/87") into ISO dates (1987-03-04) and trains both.
"""

from __future__ import annotations

from zoo import _checks
from zoo.registry import Paper, register

MAX_STEPS = 1024


def seq2seq_size(source_vocab, target_vocab, target_length, embedding_dim, encoder_units, decoder_units,
                 attention_units, attention, source_length=64, **_):
    """``(parameters, values per example)`` of ``attention_seq2seq`` (exact parameters; values for an input of
    ``source_length`` characters)."""
    features = 2 * encoder_units
    parameters = (source_vocab * embedding_dim
                  + 2 * 4 * (embedding_dim + encoder_units + 1) * encoder_units   # the bidirectional LSTM
                  + (features + 1) * decoder_units                                # the start state
                  + 4 * (features + decoder_units + 1) * decoder_units            # the decoder's LSTM cell
                  + (decoder_units + 1) * target_vocab)                           # the softmax
    if attention:
        parameters += features * attention_units + (decoder_units + 1) * attention_units + attention_units
    values = (source_length * (embedding_dim + features + (attention_units if attention else 0))
              + target_length * (decoder_units * 5 + source_length + target_vocab))
    return parameters, values


def search_space(hp) -> dict:
    return {
        "encoder_units": hp.Choice("encoder_units", [16, 32, 64], default=32),
        "decoder_units": hp.Choice("decoder_units", [32, 64, 128], default=64),
        "attention_units": hp.Choice("attention_units", [16, 32, 64], default=32),
    }


@register(
    "attention_seq2seq",
    summary="Encoder-decoder: a bidirectional LSTM reads the input, an LSTM decoder with attention writes the output.",
    task="sequence_to_sequence",
    inputs="(batch, length) int32 character ids, 0 = padding at the end (masked); any length",
    outputs="(batch, target_length, target_vocab) softmax: at each output step, the probabilities of each token",
    paper=Paper(
        title="Neural machine translation by jointly learning to align and translate",
        authors="Bahdanau, D., Cho, K., Bengio, Y.",
        year=2014,
        arxiv="1409.0473",
    ),
    search_space=search_space,
    num_params=60875,
    default_dataset="dates",
    recipe="zoo.recipes.attention_seq2seq",
)
def attention_seq2seq(source_vocab=68, target_vocab=11, target_length=10, embedding_dim=32, encoder_units=32,
                      decoder_units=64, attention_units=32, attention=True, name="attention_seq2seq"):
    """``embedding -> bidirectional LSTM -> attention decoder x target_length -> softmax per step``.

    Args:
        source_vocab: number of input token ids, padding (id 0) included; the recipe's
            written dates use 67 characters and the padding id.
        target_vocab: number of output tokens; an ISO date uses 11 (``-`` and the digits).
        target_length: output steps; 10 for YYYY-MM-DD.
        embedding_dim: size of each input character's vector.
        encoder_units: LSTM units in each direction of the encoder.
        decoder_units: size of the decoder's LSTM state.
        attention_units: size of the space attention scores are computed in.
        attention: True for attention (Bahdanau); False for the plain encoder-decoder
            (Cho), the comparison the recipe trains beside it.
        name: name of the returned model.

    Returns:
        An uncompiled ``keras.Model``; train with sparse categorical cross-entropy against
        the ``(batch, target_length)`` output token ids.
    """
    model = "attention_seq2seq"
    source_vocab = _checks.integer(model, "source_vocab", source_vocab, minimum=2)
    target_vocab = _checks.integer(model, "target_vocab", target_vocab, minimum=2)
    target_length = _checks.integer(model, "target_length", target_length, minimum=1, maximum=MAX_STEPS)
    embedding_dim = _checks.integer(model, "embedding_dim", embedding_dim, minimum=1)
    encoder_units = _checks.integer(model, "encoder_units", encoder_units, minimum=1)
    decoder_units = _checks.integer(model, "decoder_units", decoder_units, minimum=1)
    attention_units = _checks.integer(model, "attention_units", attention_units, minimum=1)
    attention = _checks.boolean(model, "attention", attention)
    name = _checks.model_name(model, name)
    _checks.size(model, seq2seq_size, dict(
        source_vocab=source_vocab, target_vocab=target_vocab, target_length=target_length,
        embedding_dim=embedding_dim, encoder_units=encoder_units, decoder_units=decoder_units,
        attention_units=attention_units, attention=attention))

    import keras
    from zoo.layers.core import classifier_head
    from zoo.layers.seq2seq import AttentionDecoder

    inputs = keras.Input(shape=(None,), dtype="int32", name="source_ids")
    x = keras.layers.Embedding(source_vocab, embedding_dim, mask_zero=True, name="embedding")(inputs)
    encoded = keras.layers.Bidirectional(keras.layers.LSTM(encoder_units, return_sequences=True), name="encoder")(x)
    states = AttentionDecoder(target_length, decoder_units, attention_units, attention=attention, name="decoder")(encoded)
    return keras.Model(inputs, classifier_head(states, target_vocab), name=name)


def attention_weights(model, source_ids):
    """``(batch, target_length, length)``: how much each output step read each input position.

    ``source_ids`` are the model's inputs (0 = padding); padded positions get weight 0.
    For a model built with ``attention=False``, every real position gets the same weight.
    """
    import keras
    import numpy as np

    source_ids = np.asarray(source_ids, dtype="int32")
    encoded = keras.Model(model.input, model.get_layer("encoder").output)(source_ids)
    _, weights = model.get_layer("decoder")(encoded, mask=source_ids != 0, return_attention_scores=True)
    return keras.ops.convert_to_numpy(weights)
