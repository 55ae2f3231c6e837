"""A GPT-style text generator: a causal Transformer that predicts every next token of a text at once.

Radford et al.'s GPT is a stack of Transformer blocks in which each position may
attend only to itself and the positions before it (a causal mask). Trained to
predict, at every position, the token that comes next, it learns the text's
patterns; to generate, it predicts one token, appends it, and predicts again:
one prompt in, many tokens out (one-to-many). The zoo's is small and reads
characters, so it fits a CPU and a play by Shakespeare.
"""

from __future__ import annotations

from zoo import _checks
from zoo.registry import Paper, register

MAX_LAYERS = 48


def mini_gpt_size(vocab_size, sequence_length, embed_dim, ff_dim, num_layers, **_):
    """``(parameters, values per example)`` of ``mini_gpt`` with these arguments (exact parameters)."""
    block = 4 * (embed_dim * embed_dim + embed_dim) + 2 * embed_dim * ff_dim + ff_dim + embed_dim + 4 * embed_dim
    parameters = (vocab_size + sequence_length) * embed_dim + num_layers * block + (embed_dim + 1) * vocab_size
    # Per block: attention scores (heads x length x length are counted once per head below) and activations.
    values = sequence_length * (num_layers * (4 * embed_dim + ff_dim + sequence_length) + vocab_size)
    return parameters, values


def search_space(hp) -> dict:
    return {
        "embed_dim": hp.Choice("embed_dim", [64, 128, 192], default=128),
        "num_layers": hp.Int("num_layers", 2, 6, default=4),
        "dropout": hp.Float("dropout", 0.0, 0.5, step=0.1, default=0.3),
    }


@register(
    "mini_gpt",
    summary="Small GPT: token + position embedding, causal Transformer blocks, a softmax over the next token.",
    task="text_generation",
    inputs="(batch, length) int32 token ids, length <= sequence_length (the recipe: character ids; 0 is padding)",
    outputs="(batch, length, vocab_size) softmax: at each position, the probabilities of the next token",
    paper=Paper(
        title="Improving language understanding by generative pre-training",
        authors="Radford, A., Narasimhan, K., Salimans, T., Sutskever, I.",
        year=2018,
        url="https://cdn.openai.com/research-covers/language-unsupervised/language_understanding_paper.pdf",
    ),
    search_space=search_space,
    num_params=826691,
    default_dataset="hamlet",
    recipe="zoo.recipes.mini_gpt",
)
def mini_gpt(vocab_size=67, sequence_length=128, embed_dim=128, num_heads=4, ff_dim=512, num_layers=4, dropout=0.3,
             name="mini_gpt"):
    """A causal Transformer language model: ``embedding -> causal blocks x num_layers -> softmax per position``.

    Args:
        vocab_size: number of token ids, padding (id 0) included; Hamlet's characters
            and the padding id are 67.
        sequence_length: the longest context the model reads (its position table);
            shorter inputs work too, which is how generation starts from a prompt.
        embed_dim: size of each token vector; a multiple of ``num_heads``.
        num_heads: attention heads per block.
        ff_dim: hidden width of each block's feed-forward network.
        num_layers: number of causal Transformer blocks.
        dropout: dropout rate inside the blocks, in [0, 1); the recipe trains with 0.2,
            chosen on validation among 0.1 to 0.4, to keep its model from learning
            Hamlet's 140,000 training characters by heart.
        name: name of the returned model.

    Returns:
        An uncompiled ``keras.Model``; train with sparse categorical cross-entropy against
        the ids shifted by one position (the next token at every position).
    """
    model = "mini_gpt"
    vocab_size = _checks.integer(model, "vocab_size", vocab_size, minimum=2)
    sequence_length = _checks.integer(model, "sequence_length", sequence_length, minimum=1)
    embed_dim = _checks.integer(model, "embed_dim", embed_dim, minimum=1)
    num_heads = _checks.integer(model, "num_heads", num_heads, minimum=1)
    ff_dim = _checks.integer(model, "ff_dim", ff_dim, minimum=1)
    num_layers = _checks.integer(model, "num_layers", num_layers, minimum=1, maximum=MAX_LAYERS)
    dropout = _checks.fraction(model, "dropout", dropout)
    name = _checks.model_name(model, name)
    if embed_dim % num_heads:
        raise ValueError(f"{model}: embed_dim={embed_dim} must be a multiple of num_heads={num_heads} (each head "
                         f"reads embed_dim / num_heads values), e.g. embed_dim={num_heads * max(1, embed_dim // num_heads)}.")
    _checks.size(model, mini_gpt_size, dict(vocab_size=vocab_size, sequence_length=sequence_length,
                                            embed_dim=embed_dim, ff_dim=ff_dim, num_layers=num_layers))

    import keras
    from zoo.layers.attention import TokenAndPositionEmbedding, TransformerEncoder
    from zoo.layers.core import classifier_head

    # (None,): any length up to sequence_length, so generation can start from a short prompt.
    inputs = keras.Input(shape=(None,), dtype="int32", name="token_ids")
    x = TokenAndPositionEmbedding(vocab_size, sequence_length, embed_dim, name="embedding")(inputs)
    for index in range(1, num_layers + 1):
        x = TransformerEncoder(embed_dim, num_heads, ff_dim, dropout=dropout, causal=True, name=f"block_{index}")(x)
    return keras.Model(inputs, classifier_head(x, vocab_size), name=name)
