"""BERT-style pretraining: the mini_transformer's encoder learns English by filling in hidden words.

Devlin et al.'s BERT hides 15% of the tokens of unlabelled text behind a mask
token and trains a Transformer encoder to name them from the words on both
sides. Nobody labels anything, so it can read far more text than any labelled
set holds; then its encoder, copied into a classifier, starts fine-tuning
already knowing which words go together. The zoo's ``mini_bert`` has exactly the
``mini_transformer``'s layers under the same names (``embedding``,
``encoder_1``...), so ``copy_encoder`` moves its weights into a
``mini_transformer`` by name, plus the head that names the hidden tokens.
"""

from __future__ import annotations

import itertools

from zoo import _checks
from zoo.models.sequence import mini_transformer_size, transformer_search_space
from zoo.registry import Paper, register

ENCODER_LAYERS = ("embedding", "encoder_")   # the layers copy_encoder moves: these names and prefixes


def mini_bert_size(vocab_size, sequence_length, embed_dim, num_heads, ff_dim, num_layers, max_predictions,
                   predicted_tokens=None, **_):
    """``(parameters, values per example)`` of ``mini_bert`` (exact parameters)."""
    encoder, values = mini_transformer_size(vocab_size=vocab_size, sequence_length=sequence_length, num_classes=0,
                                            embed_dim=embed_dim, num_heads=num_heads, ff_dim=ff_dim,
                                            num_layers=num_layers)
    predicted = vocab_size if predicted_tokens is None else predicted_tokens
    head = (embed_dim + 1) * embed_dim + 2 * embed_dim + (embed_dim + 1) * predicted
    return encoder + head, values + max_predictions * predicted


@register(
    "mini_bert",
    summary="BERT-style masked-token pretraining of the mini_transformer encoder: hidden words, named from both sides.",
    task="masked_language_model",
    inputs=("(batch, sequence_length) int32 token ids, 0 = padding (masked), mask_id = a hidden token (at most "
            "max_predictions per text)"),
    outputs=("(batch, max_predictions, predicted_tokens) softmax: for each hidden token, in reading order, the "
             "probabilities of the token ids below predicted_tokens (default: the whole vocabulary; unused slots: "
             "label 0, weight 0)"),
    paper=Paper(title="BERT: Pre-training of deep bidirectional transformers for language understanding",
                authors="Devlin, J., Chang, M.-W., Lee, K., Toutanova, K.", year=2019, arxiv="1810.04805"),
    search_space=transformer_search_space,
    num_params=2630560,
    default_dataset="rotten_tomatoes",
    recipe="zoo.recipes.mini_bert",
)
def mini_bert(vocab_size=20000, sequence_length=200, embed_dim=64, num_heads=2, ff_dim=128, num_layers=1,
              dropout=0.1, max_predictions=32, mask_id=None, predicted_tokens=None, name="mini_bert"):
    """Token ids with hidden tokens -> the mini_transformer's encoder -> a softmax over the vocabulary at each.

    Args:
        vocab_size: number of token ids: padding (0), the words and the mask token.
        sequence_length: longest input the position embedding covers.
        embed_dim: size of the token vectors; a multiple of num_heads.
        num_heads: attention heads per block.
        ff_dim: hidden width of each block's feed-forward network.
        num_layers: number of encoder blocks.
        dropout: dropout rate inside the blocks, in [0, 1).
        max_predictions: hidden tokens scored per text (15% of 200 is 30).
        mask_id: the id of the mask token, in [1, vocab_size); default: the last id, vocab_size - 1.
        predicted_tokens: the softmax names the ids below this one: with a vocabulary sorted by
            frequency (TextVectorization's), the most frequent words. Its cost grows with it, and on a
            CPU it is most of the training's; the rarer words still enter as context. Default: all of
            vocab_size.
        name: name of the returned model.

    Returns:
        An uncompiled ``keras.Model``; train it with sparse categorical cross-entropy against the hidden
        tokens' ids, weighting unused slots 0. ``copy_encoder(model, classifier)`` then hands its encoder
        to a ``mini_transformer`` of the same sizes.
    """
    model = "mini_bert"
    vocab_size = _checks.integer(model, "vocab_size", vocab_size, minimum=3)
    sequence_length = _checks.integer(model, "sequence_length", sequence_length)
    embed_dim = _checks.integer(model, "embed_dim", embed_dim)
    num_heads = _checks.integer(model, "num_heads", num_heads)
    ff_dim = _checks.integer(model, "ff_dim", ff_dim)
    num_layers = _checks.integer(model, "num_layers", num_layers, maximum=24)
    dropout = _checks.fraction(model, "dropout", dropout)
    max_predictions = _checks.integer(model, "max_predictions", max_predictions, minimum=1)
    name = _checks.model_name(model, name)
    mask_id = vocab_size - 1 if mask_id is None else _checks.integer(model, "mask_id", mask_id, minimum=1)
    if mask_id >= vocab_size:
        raise ValueError(f"{model}: mask_id={mask_id} is not a token id of a vocabulary of vocab_size={vocab_size}; "
                         f"use an id in [1, {vocab_size - 1}] (default: the last, {vocab_size - 1}).")
    predicted_tokens = vocab_size if predicted_tokens is None else _checks.integer(
        model, "predicted_tokens", predicted_tokens, minimum=2)
    if predicted_tokens > vocab_size:
        raise ValueError(f"{model}: predicted_tokens={predicted_tokens} is more than the vocab_size={vocab_size} token "
                         f"ids there are; use at most {vocab_size} (or None: all of them).")
    if max_predictions > sequence_length:
        raise ValueError(f"{model}: max_predictions={max_predictions} is more than the sequence_length="
                         f"{sequence_length} tokens a text holds; use at most {sequence_length} (15% of the "
                         f"tokens is {max(1, round(0.15 * sequence_length))}).")
    if embed_dim % num_heads:
        divisors = (heads for heads in range(1, min(embed_dim, 64) + 1) if embed_dim % heads == 0)
        raise ValueError(f"{model}: embed_dim={embed_dim} is not divisible by num_heads={num_heads}; "
                         f"pick num_heads among {list(itertools.islice(divisors, 8))}.")
    _checks.size(model, mini_bert_size, dict(
        vocab_size=vocab_size, sequence_length=sequence_length, embed_dim=embed_dim, num_heads=num_heads,
        ff_dim=ff_dim, num_layers=num_layers, max_predictions=max_predictions, predicted_tokens=predicted_tokens))

    import keras
    from zoo.layers import MaskedPositions, TokenAndPositionEmbedding, TransformerEncoder

    # The encoder: the mini_transformer's layers, names included, so copy_encoder can find them.
    inputs = keras.Input(shape=(sequence_length,), dtype="int32", name="token_ids")
    x = TokenAndPositionEmbedding(vocab_size, sequence_length, embed_dim, name="embedding")(inputs)
    for index in range(1, num_layers + 1):
        x = TransformerEncoder(embed_dim, num_heads, ff_dim, dropout, name=f"encoder_{index}")(x)
    # The head (BERT's): the hidden tokens' vectors, a dense layer, a normalisation, a softmax over the vocabulary.
    x = MaskedPositions(max_predictions, mask_id, name="masked_positions")([inputs, x])
    x = keras.layers.Dense(embed_dim, activation="gelu", name="mlm_dense")(x)
    x = keras.layers.LayerNormalization(epsilon=1e-6, name="mlm_norm")(x)
    outputs = keras.layers.Dense(predicted_tokens, activation="softmax", dtype="float32", name="predictions")(x)
    return keras.Model(inputs, outputs, name=name)


def copy_encoder(pretrained, model) -> list[str]:
    """Copy ``pretrained``'s encoder layers (``embedding``, ``encoder_1``...) into ``model``, by name.

    ``model`` is typically a ``mini_transformer`` of the same sizes (its vocabulary
    included); the head of each stays its own. Returns the names copied; raises
    ValueError naming the layer when the two do not match.
    """
    names = [layer.name for layer in pretrained.layers if layer.name == ENCODER_LAYERS[0]
             or layer.name.startswith(ENCODER_LAYERS[1])]
    targets = {layer.name: layer for layer in model.layers}
    for name in names:
        if name not in targets:
            raise ValueError(f"{model.name} has no layer {name!r} to copy {pretrained.name}'s into; build it with "
                             f"num_layers={sum(n.startswith(ENCODER_LAYERS[1]) for n in names)}.")
        source, target = pretrained.get_layer(name).get_weights(), targets[name].get_weights()
        shapes = [w.shape for w in source], [w.shape for w in target]
        if shapes[0] != shapes[1]:
            raise ValueError(f"layer {name!r}: {pretrained.name}'s weights have shapes {shapes[0]}, {model.name}'s "
                             f"{shapes[1]}; build both with the same vocab_size, sequence_length, embed_dim and "
                             f"ff_dim.")
        targets[name].set_weights(source)
    return names
