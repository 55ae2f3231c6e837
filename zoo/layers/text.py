"""Text layers: what a model can know about words before it sees a single label."""

import keras
from keras import ops


@keras.saving.register_keras_serializable(package="zoo")
class WordCategories(keras.layers.Layer):
    """Token ids in, how often each thesaurus category occurs in the text out: a bag of meanings.

    A bag of words learns one weight per word, from the reviews that word occurs in:
    a word met twice in training gets a weight guessed from two reviews. A thesaurus
    files words under categories of meaning ("superb" and "splendid" share GOODNESS;
    "dull", "tedious" and "boring" share TEDIUM). Counting categories as well as words
    lets a linear model learn one weight per category from all its words together, so
    a rare word borrows what its synonyms taught. It is knowledge people wrote down,
    not learned from these reviews: the same idea word embeddings later learned from
    text.

    The table from word to categories is a non-trainable int32 weight of shape
    ``(vocabulary_size, categories_per_word)``: row ``i`` lists the category ids
    (1 to ``num_categories``) of token id ``i``, with 0 filling the rest. ``category_table``
    makes it from a vocabulary and a thesaurus; ``set_table`` puts it in the layer, and
    the model's weights file keeps it.

    Args:
        vocabulary_size: rows of the table: the token ids the layer reads (a TextVectorization's vocabulary).
        num_categories: the categories counted: one output column each.
        categories_per_word: columns of the table: the most categories one word contributes.
        sublinear: output log(1 + count) rather than the count, as sublinear TF-IDF damps repeated words.

    Input: token ids, ``(batch, length)``, each in ``[0, vocabulary_size)``. Output: ``(batch, num_categories)``.
    """

    def __init__(self, vocabulary_size, num_categories, categories_per_word=16, sublinear=True, **kwargs):
        super().__init__(**kwargs)
        for name, value in (("vocabulary_size", vocabulary_size), ("num_categories", num_categories),
                            ("categories_per_word", categories_per_word)):
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ValueError(f"WordCategories({name}={value!r}): {name} must be a whole number >= 1.")
        self.vocabulary_size = vocabulary_size
        self.num_categories = num_categories
        self.categories_per_word = categories_per_word
        self.sublinear = bool(sublinear)

    def build(self, input_shape):
        self.table = self.add_weight(name="table", shape=(self.vocabulary_size, self.categories_per_word),
                                     dtype="int32", initializer="zeros", trainable=False)

    def set_table(self, table):
        """Put a ``(vocabulary_size, categories_per_word)`` table of ids in ``[0, num_categories]`` in the layer."""
        import numpy as np

        table = np.asarray(table)
        expected = (self.vocabulary_size, self.categories_per_word)
        if table.shape != expected or not np.issubdtype(table.dtype, np.integer):
            raise ValueError(f"{self.name}.set_table: the table must be integers of shape {expected}, not "
                             f"{table.dtype} of shape {table.shape}; make it with category_table.")
        if table.size and (table.min() < 0 or table.max() > self.num_categories):
            raise ValueError(f"{self.name}.set_table: category ids must lie in [0, {self.num_categories}], "
                             f"not [{table.min()}, {table.max()}]; 0 means no category.")
        if not self.built:
            self.build(None)
        self.table.assign(table)   # the variable's int32

    def call(self, inputs):
        categories = ops.take(self.table, ops.cast(inputs, "int32"), axis=0)  # (batch, length, per word)
        categories = ops.reshape(categories, (ops.shape(categories)[0], -1))
        # Ids 0 to num_categories (set_table keeps them there): id 0 (no category, and every padding
        # position) is counted too, then dropped.
        counts = ops.bincount(categories, minlength=self.num_categories + 1)[:, 1:]
        counts = ops.cast(counts, self.compute_dtype)
        return ops.log1p(counts) if self.sublinear else counts

    def compute_output_shape(self, input_shape):
        return (input_shape[0], self.num_categories)

    def get_config(self):
        return {**super().get_config(), "vocabulary_size": self.vocabulary_size,
                "num_categories": self.num_categories, "categories_per_word": self.categories_per_word,
                "sublinear": self.sublinear}


def category_table(vocabulary, thesaurus, categories_per_word=16):
    """``(table, categories)`` for ``WordCategories``: each vocabulary word's category ids, and their names.

    ``vocabulary`` is a TextVectorization's ``get_vocabulary()`` (token id i is ``vocabulary[i]``);
    ``thesaurus`` maps a word to its categories (``zoo.data.thesaurus()``). Only the categories of
    words in the vocabulary get ids, ``categories[id - 1]`` being the name of id ``id``, in
    order of first appearance; a word keeps its first ``categories_per_word`` categories.
    Padding, the out-of-vocabulary token and words the thesaurus lacks get none.
    """
    import numpy as np

    ids, table = {}, np.zeros((len(vocabulary), categories_per_word), dtype="int32")
    for row, word in enumerate(vocabulary):
        for column, category in enumerate(thesaurus.get(word, ())[:categories_per_word]):
            table[row, column] = ids.setdefault(category, len(ids) + 1)
    return table, list(ids)
