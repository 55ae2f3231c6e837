"""The body both sentiment recipes share: a review in, fresh or rotten out.

``zoo.recipes.lstm_sentiment`` and ``zoo.recipes.mini_transformer`` differ only in
the zoo entry and its defaults (a ``Settings`` each); the story is the same,
told here once:

1. Data: Rotten Tomatoes snippets (embedded) or tfds:imdb_reviews, three splits.
2. Text to numbers: a TextVectorization layer learns the vocabulary of the
   training split and runs inside the tf.data pipeline (on the CPU, ahead of
   the model), turning each review into ``sequence_length`` token ids.
3. Model: the zoo entry over token ids; optional KerasTuner search first.
4. Train ``--members`` copies of it from different seeds, with early stopping
   on validation accuracy, and beside them a wide model: one linear layer
   over the TF-IDF of word 1- and 2-grams (``--wide-ngrams``), the classic
   text classifier written in Keras. With ``--wide-characters N`` it also
   reads the TF-IDF of character 1..N-grams (a second TextVectorization,
   split into characters), so "dullest" shares pieces such as "dull" with
   "dull" and a word rare in training is not a stranger. With
   ``--thesaurus`` it also counts the words' categories of meaning in a
   thesaurus (``zoo.layers.WordCategories``), so a rare word borrows from
   its synonyms. The ensemble averages their class probabilities. On 9,000
   short snippets a bag of n-grams is hard to beat; word order, which only
   the sequence models see, might add to it. Each part is also scored alone
   on validation (results.json's ``model.validation_accuracy_alone``), so a
   run shows whether it does: on Rotten Tomatoes it does not.
5. Evaluate the ensemble once on test; save one end-to-end model that scores
   raw strings: vectorizers + ensemble.
"""

from __future__ import annotations

import argparse
import dataclasses

DATASETS = ("rotten_tomatoes",)  # embedded; tfds:imdb_reviews online
TEST_FRACTION = 0.2
VALIDATION_FRACTION = 0.1
QUICK_EPOCHS = 1
QUICK_TRAIN_SIZE = 2000   # --quick also trains on a subset: a smoke test in seconds
MIN_TOKENS = 3            # padding, out-of-vocabulary and at least one word: TextVectorization needs them
CATEGORIES_PER_WORD = 16  # --thesaurus: 99% of the thesaurus's words have at most 16 categories (median 1)
# What the sentiment classifiers cannot do, for their model cards (zoo.model_card): LIMITS for one sequence model
# (mini_bert's), ENSEMBLE_LIMITS for the recipes' average of sequence models and a wide model.
_DOMAIN = ("English film-review snippets only: Rotten Tomatoes critics' one-line verdicts. Other kinds of text "
           "(product reviews, social-media posts, long reviews) and other languages were never measured.")
_TWO_CLASSES = "Two classes only: a mixed or neutral review is still called fresh or rotten."
LIMITS = (_DOMAIN, "It reads at most the first 48 tokens of a text, with a vocabulary learnt from the training "
                   "split; words it never saw there all share one out-of-vocabulary token.", _TWO_CLASSES)
ENSEMBLE_LIMITS = (
    _DOMAIN,
    "Its sequence models read at most the first 48 tokens of a text, with a vocabulary learnt from the training "
    "split; words they never saw there all share one out-of-vocabulary token. Its wide model (unless "
    "--wide-ngrams 0) reads the whole text, but only the word and character n-grams most frequent in the "
    "training split.",
    _TWO_CLASSES)


@dataclasses.dataclass(frozen=True)
class Settings:
    """One sentiment recipe's defaults, with the reason beside each; ``model`` holds the zoo entry's arguments.

    Both recipes share the optimiser, batches and early stopping; the ensemble's size and the
    regularisers are each recipe's own choice on validation, so each shows its model at its best.
    """

    recipe: str
    model: dict
    epochs: int = 20            # early stopping usually ends it after a few epochs: small data overfits fast
    batch_size: int = 32
    learning_rate: float = 1e-3  # Adam's default
    seed: int = 0
    patience: int = 3           # epochs without a better validation accuracy before stopping
    max_tokens: int = 20000     # the corpus has 22.5k distinct words; the rarest share the out-of-vocabulary id
    sequence_length: int = 48   # snippets: median 18 words, 99% at most 40, the longest 53
    # Each recipe's own choices on validation replace these (its SETTINGS; benchmarks/results/choices_*.json).
    members: int = 3            # sequence models averaged, each from its own seed
    wide_ngrams: int = 2        # the wide model reads word 1..n-grams; 0: no wide model
    # The sequence models' regularisers:
    label_smoothing: float = 0.0  # share of each target spread over both classes
    weight_decay: float = 0.0     # Adam's decoupled weight decay (AdamW): each step shrinks weights by lr * this
    wide_tokens: int = 30000    # its n-gram vocabulary: the most frequent in the training reviews
    thesaurus: bool = False     # the wide model also counts the words' thesaurus categories
    wide_characters: int = 0    # the wide model also reads character 1..n-grams; 0: words only
    # Its character n-gram vocabulary, from a first exploration on validation (one seed, not kept in choices_*.json):
    # 1-5-grams scored 0.798 with 50,000 and 0.808 with 100,000; 1-4-grams 0.799 and 0.795 (words alone: 0.782).
    wide_character_tokens: int = 100000
    # The wide model's settings come from a first exploration on validation, not kept in choices_*.json:
    # 1e-2 beat 3e-3 (0.785 vs 0.778), and a weight penalty of 1e-6 beat 1e-5 (0.785 vs 0.780).
    wide_learning_rate: float = 1e-2  # one linear layer on L2-normalised features: large steps are safe
    wide_l2: float = 1e-6
    wide_batch_size: int = 64
    wide_patience: int = 5      # a linear model improves slowly and steadily: more patience
    use: object = None          # a zoo.model_card.Use: what the model is for and its limits (its card)
    # Keras's choice, XLA off on CPUs. One flag sets it for every model of the run; on, the LSTMs trained 2.1x as
    # fast per epoch here but their wide model 0.96x, the Transformers 1.14x and theirs 0.87x (xla.json): it stays off.
    jit_compile: str = "auto"


def parse_args(settings: Settings, doc: str, argv=None):
    from zoo import command

    parser = command.recipe_parser(settings.recipe, doc, command.Defaults(
        epochs=settings.epochs, batch_size=settings.batch_size, learning_rate=settings.learning_rate,
        seed=settings.seed, quick={"epochs": QUICK_EPOCHS, "members": 1}, datasets=DATASETS, kinds=("text",),
        multi_worker=True, jit_compile=settings.jit_compile))
    parser.add_argument("--max-tokens", type=command.integer("--max-tokens", MIN_TOKENS, 10_000_000),
                        default=settings.max_tokens,
                        help="vocabulary size, padding and out-of-vocabulary ids included (default: %(default)s)")
    parser.add_argument("--sequence-length", type=command.integer("--sequence-length", 2, 100_000),
                        default=settings.sequence_length,
                        help="token ids per review: longer ones are cut, shorter ones padded (default: %(default)s)")
    parser.add_argument("--members", type=command.integer("--members", 1, 16), default=settings.members,
                        help="sequence models trained from different seeds and averaged (default: %(default)s)")
    add_wide_flags(parser, settings)
    parser.add_argument("--label-smoothing", type=command.number("--label-smoothing", 0, 1, below=True),
                        default=settings.label_smoothing,
                        help="the sequence models' share of each target spread over all classes (default: %(default)s)")
    parser.add_argument("--weight-decay", type=command.number("--weight-decay", 0, 1),
                        default=settings.weight_decay,
                        help="the sequence models' decoupled weight decay; 0 turns it off (default: %(default)s)")
    return command.parse(parser, argv, check=needs_wide_model)


def add_wide_flags(parser, settings: Settings) -> None:
    """--wide-ngrams, --wide-characters and --thesaurus: the wide model's flags (mini_bert's too)."""
    from zoo import command

    parser.add_argument("--wide-ngrams", type=command.integer("--wide-ngrams", 0, 3), default=settings.wide_ngrams,
                        help="the wide model's longest word n-gram; 0: no wide model (default: %(default)s)")
    parser.add_argument("--wide-characters", type=command.integer("--wide-characters", 0, 8),
                        default=settings.wide_characters,
                        help="the wide model also reads character 1..N-grams (TF-IDF), which words with a common "
                             "stem share; 0: words only (default: %(default)s)")
    parser.add_argument("--thesaurus", action=argparse.BooleanOptionalAction, default=settings.thesaurus,
                        help="the wide model also counts each review's categories of meaning in a thesaurus "
                             f"(default: {'on' if settings.thesaurus else 'off'})")


def needs_wide_model(args):
    from zoo.errors import FlagError

    if args.thesaurus and not args.wide_ngrams:
        raise FlagError("--thesaurus feeds the wide model, which --wide-ngrams 0 turns off: use --wide-ngrams 1, 2 "
                        "or 3 with it, or --no-thesaurus.")
    if args.wide_characters and not args.wide_ngrams:
        raise FlagError(f"--wide-characters {args.wide_characters} feeds the wide model, which --wide-ngrams 0 turns "
                        "off: use --wide-ngrams 1, 2 or 3 with it, or --wide-characters 0.")


def build(settings: Settings, args, vocabulary_size: int, num_classes: int, hp=None, name=None):
    """The zoo entry over token ids, compiled; ``hp`` picks the architecture from its search space."""
    import keras

    import zoo
    from zoo import command, tuning
    from zoo.losses import SparseCategoricalCrossentropy

    spec = zoo.info(settings.recipe)
    arguments = dict(settings.model)
    if hp is not None:
        arguments.update(spec.search_space(hp))
    if "sequence_length" in spec.defaults:  # entries with position embeddings need the length
        arguments["sequence_length"] = args.sequence_length
    model = zoo.get(settings.recipe, vocab_size=vocabulary_size, num_classes=num_classes, **arguments,
                    **({"name": name} if name else {}))
    # The regularisers' flags, or the settings' values for a caller with other flags (zoo.recipes.mini_bert).
    label_smoothing = getattr(args, "label_smoothing", settings.label_smoothing)
    weight_decay = getattr(args, "weight_decay", settings.weight_decay)
    # Both entries are trained with sparse cross-entropy (spec.loss_for()); smoothing needs the zoo's version of it.
    loss = SparseCategoricalCrossentropy(label_smoothing=label_smoothing) if label_smoothing else spec.loss_for()
    model.compile(optimizer=keras.optimizers.Adam(tuning.learning_rate(hp, args.learning_rate),
                                                  weight_decay=weight_decay or None),
                  loss=loss, metrics=["accuracy"], jit_compile=command.jit_compile(args))
    return model


def wide_model(settings: Settings, args, features: int, num_classes: int, categories=None, characters: int = 0):
    """TF-IDF of n-grams -> L2 normalisation -> one softmax layer: logistic regression, written in Keras.

    With ``characters`` (the size of a character n-gram vocabulary) the model also reads the TF-IDF of
    character n-grams; with ``categories`` (a ``WordCategories`` layer, its table set) it also reads the
    token ids and counts their thesaurus categories. Each part is L2-normalised on its own, as TF-IDF
    blocks side by side would be, and one softmax layer reads them all. With either, its inputs are a
    dict: ``{"ngrams", "characters", "token_ids"}``, as many of them as it reads.
    """
    import keras

    from zoo import command

    ngrams = keras.Input(shape=(features,), name="ngrams")
    inputs, parts = {"ngrams": ngrams}, [keras.layers.UnitNormalization(name="l2_normalise")(ngrams)]
    if characters:
        inputs["characters"] = keras.Input(shape=(characters,), name="characters")
        parts.append(keras.layers.UnitNormalization(name="l2_normalise_characters")(inputs["characters"]))
    if categories is not None:
        inputs["token_ids"] = keras.Input(shape=(args.sequence_length,), dtype="int32", name="token_ids")
        parts.append(keras.layers.UnitNormalization(name="l2_normalise_categories")(categories(inputs["token_ids"])))
    x = parts[0] if len(parts) == 1 else keras.layers.Concatenate(name="wide_features")(parts)
    outputs = keras.layers.Dense(num_classes, activation="softmax", dtype="float32", name="predictions",
                                 kernel_regularizer=keras.regularizers.L2(settings.wide_l2))(x)
    model = keras.Model(inputs if len(inputs) > 1 else ngrams, outputs, name="wide_ngrams")
    model.compile(optimizer=keras.optimizers.Adam(settings.wide_learning_rate), loss="sparse_categorical_crossentropy",
                  metrics=["accuracy"], jit_compile=command.jit_compile(args))
    return model


def train(settings: Settings, args, run, reviews, vectorizer, best):
    """The sequence models and the wide model, each with early stopping: (models, the wide model's text
    vectorizers {"ngrams", "characters"}, as many as it reads, first fit)."""
    import keras

    to_ids = lambda text, label: (vectorizer(text), label)  # noqa: E731
    stop = dict(monitor="val_accuracy", patience=settings.patience)
    models, fits = [], []
    for member in range(args.members):
        keras.utils.set_random_seed(args.seed + member)  # each member starts from its own weights and dropout
        with run.scope():
            model = build(settings, args, vectorizer.vocabulary_size(), reviews.num_classes, best,
                          name=f"{settings.recipe}_{member + 1}" if args.members > 1 else None)
        fits.append(run.fit(model, reviews, batch_size=args.batch_size, epochs=args.epochs, transform=to_ids,
                            tag=f"member_{member + 1}" if member else "", **stop))
        models.append(model)
    wide_vectorizers = {}
    if args.wide_ngrams:
        wide, wide_vectorizers = train_wide(settings, args, run, reviews, vectorizer)
        models.append(wide)
    return models, wide_vectorizers, fits[0]


def train_wide(settings: Settings, args, run, reviews, vectorizer):
    """The wide model over the training reviews' n-grams (``args.wide_ngrams``, at least 1), fitted with early
    stopping: (the model, its text vectorizers {"ngrams", "characters"}, as many as it reads)."""
    import keras

    texts = reviews.train.map(lambda text, label: text).batch(1024)
    wide_vectorizers = {"ngrams": keras.layers.TextVectorization(
        max_tokens=settings.wide_tokens, ngrams=args.wide_ngrams, output_mode="tf_idf", name="ngram_vectorizer")}
    if args.wide_characters:  # punctuation and spaces kept: "!" and word boundaries are characters too
        wide_vectorizers["characters"] = keras.layers.TextVectorization(
            max_tokens=settings.wide_character_tokens, standardize="lower", split="character",
            ngrams=args.wide_characters, output_mode="tf_idf", name="character_vectorizer")
    for layer in wide_vectorizers.values():
        layer.adapt(texts)
    with run.scope():
        categories = word_categories(vectorizer) if args.thesaurus else None
        characters = wide_vectorizers["characters"].vocabulary_size() if args.wide_characters else 0
        wide = wide_model(settings, args, wide_vectorizers["ngrams"].vocabulary_size(), reviews.num_classes,
                          categories, characters)
    run.fit(wide, reviews, batch_size=settings.wide_batch_size, epochs=args.epochs, tag="wide",
            transform=reads(wide, ensemble_inputs(vectorizer, **wide_vectorizers)), monitor="val_accuracy",
            patience=settings.wide_patience)
    return wide, wide_vectorizers


def word_categories(vectorizer):
    """A ``WordCategories`` layer over ``vectorizer``'s token ids, its table made from the packaged thesaurus.

    Only the training vocabulary's words are looked up (the vectorizer learnt it from training reviews).
    """
    from zoo import data
    from zoo.layers import WordCategories
    from zoo.layers.text import category_table

    table, categories = category_table(vectorizer.get_vocabulary(), data.thesaurus(), CATEGORIES_PER_WORD)
    layer = WordCategories(len(table), max(len(categories), 1), CATEGORIES_PER_WORD, name="word_categories")
    layer.set_table(table)
    return layer


def ensemble(models, args, has_wide: bool):
    """One model over {"token_ids", "ngrams", "characters"} (those its models read): the sequence models'
    mean class probabilities, then their mean with the wide model's.

    The wide model weighs as much as all sequence models together: it reads the text another way (which
    words, word pairs and pieces of words occur), while the sequence models differ only by their seeds.
    """
    import keras

    inputs = {"token_ids": keras.Input(shape=(args.sequence_length,), dtype="int32", name="token_ids")}
    sequence_models = models[:-1] if has_wide else models
    outputs = [model(inputs["token_ids"]) for model in sequence_models]
    average = lambda values, name: values[0] if len(values) == 1 else keras.layers.Average(  # noqa: E731
        dtype="float32", name=name)(values)
    averaged = average(outputs, "sequence_models")
    if has_wide:
        wide = models[-1]
        for name in (wide.input if isinstance(wide.input, dict) else ("ngrams",)):
            if name not in inputs:
                inputs[name] = keras.Input(shape=wide.get_layer(name).batch_shape[1:], name=name)
        # A wide model with characters or thesaurus categories reads a dict of the ensemble's inputs.
        reads = ({name: inputs[name] for name in wide.input} if isinstance(wide.input, dict) else inputs["ngrams"])
        averaged = average([averaged, wide(reads)], "with_wide_model")
    return keras.Model(inputs, averaged, name="ensemble")


def input_layers(vectorizer, ngrams=None, characters=None) -> dict:
    """The ensemble's inputs by name, each with the text vectorizer that makes it (the wide model's where it has
    them): what the input pipeline and the saved raw-text model both apply."""
    layers = {"token_ids": vectorizer, "ngrams": ngrams, "characters": characters}
    return {name: layer for name, layer in layers.items() if layer is not None}


def ensemble_inputs(vectorizer, ngrams=None, characters=None):
    """The input pipeline's map from (text, label) to the ensemble's inputs: a dict with a key per vectorizer."""
    layers = input_layers(vectorizer, ngrams, characters)
    return lambda text, label: ({name: layer(text) for name, layer in layers.items()}, label)


def scorer(model):
    """A compiled twin of ``model`` (same layers and weights) for ``evaluate``; the saved model stays uncompiled."""
    import keras

    twin = keras.Model(model.inputs, model.outputs, name=f"{model.name}_scored")
    twin.compile(loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    return twin


def raw_text_model(vectorizer, ngrams, model, characters=None):
    """One model from raw strings to class probabilities: what a user serves (TensorFlow backend).

        model = keras.saving.load_model("model.keras")
        model.predict(np.array(["a gorgeous, moving film", "dull and far too long"], dtype=object))
    """
    import keras

    texts = keras.Input(shape=(), dtype="string", name="review")  # one string per review
    inputs = {name: layer(texts) for name, layer in input_layers(vectorizer, ngrams, characters).items()}
    return keras.Model(texts, model(inputs), name=f"{model.name}_on_text")


def describe(settings: Settings, args) -> str:
    """'3 lstm_sentiment models and a 1-2-gram linear model, averaged'."""
    members = f"{args.members} {settings.recipe} model{'s' if args.members > 1 else ''}"
    if not args.wide_ngrams:
        return members + (", averaged" if args.members > 1 else "")
    return f"{members} and {describe_wide(args)}, averaged"


def describe_wide(args) -> str:
    """The wide model in words: 'a 1-2-gram linear model with character 1-5-grams'."""
    reads = [*([f"character 1-{args.wide_characters}-grams"] if getattr(args, "wide_characters", 0) else []),
             *(["thesaurus categories"] if getattr(args, "thesaurus", False) else [])]
    return f"a 1-{args.wide_ngrams}-gram linear model{' with ' + ' and '.join(reads) if reads else ''}"


def arms(run, models, reviews, inputs, has_wide: bool) -> dict:
    """Validation accuracy of each part of the ensemble alone: what each part brings.

    The parts are scored on a copy of ``reviews`` without its test split (``Run.evaluate`` leaves out a
    split the data does not have), so they cannot touch test.
    """
    parts = {"sequence_models": ensemble(models[:-1] if has_wide else models, run.args, has_wide=False)}
    if has_wide:
        parts["wide_model"] = models[-1]
    without_test = dataclasses.replace(reviews, test=None)
    return {name: run.evaluate(scorer(part), without_test, transform=reads(part, inputs))["validation_accuracy"]
            for name, part in parts.items()}


def reads(model, inputs):
    """The map from (text, label) to what ``model`` reads of the ensemble's ``inputs`` (``ensemble_inputs``):
    the inputs it has a name for, or the n-grams alone for a plain wide model."""
    if isinstance(model.input, dict):
        return lambda text, label: ({name: value for name, value in inputs(text, label)[0].items()
                                     if name in model.input}, label)
    return lambda text, label: (inputs(text, label)[0]["ngrams"], label)


def main(settings: Settings, doc: str, argv=None, report=None):
    """Run the recipe; ``report(run, classifier, vectorizer, dataset)`` adds recipe-specific artifacts."""
    args = parse_args(settings, doc, argv)
    import keras

    from zoo import baselines, data, runs

    with runs.Run(settings.recipe, args) as run:
        # 1. Data: three stratified splits of real reviews; test is touched once, at the end.
        reviews = data.load(args.dataset, seed=args.seed, test_fraction=TEST_FRACTION, kinds=("text",),
                            validation_fraction=VALIDATION_FRACTION, train_size=QUICK_TRAIN_SIZE if args.quick else None)
        # 2. Text to token ids, inside the input pipeline: the vocabulary comes from training reviews only.
        vectorizer = keras.layers.TextVectorization(max_tokens=args.max_tokens, name="vectorizer",
                                                    output_sequence_length=args.sequence_length)
        vectorizer.adapt(reviews.train.map(lambda text, label: text).batch(1024))
        build_for = lambda hp: build(settings, args, vectorizer.vocabulary_size(), reviews.num_classes, hp)  # noqa: E731
        # 3. Optional KerasTuner search over the entry's own space.
        best = run.tune(build_for, reviews, batch_size=args.batch_size, monitor="val_accuracy",
                        patience=settings.patience, transform=lambda text, label: (vectorizer(text), label))
        # 4. The sequence models and the wide n-gram model (fit, or the multi-worker loop), then their average.
        models, wide_vectorizers, fitted = train(settings, args, run, reviews, vectorizer, best)
        has_wide = bool(wide_vectorizers)
        averaged = ensemble(models, args, has_wide)
        inputs = ensemble_inputs(vectorizer, **wide_vectorizers)
        parts = arms(run, models, reviews, inputs, has_wide)  # each part alone, on validation
        metrics = run.evaluate(scorer(averaged), reviews, transform=inputs)
        majority = baselines.majority_class(reviews)
        # 5. Save what scores raw strings, and what the recipe reports besides.
        run.save_model(raw_text_model(vectorizer, wide_vectorizers.get("ngrams"), averaged,
                                      wide_vectorizers.get("characters")))
        extra = report(run, models[0], vectorizer, reviews) if report and run.is_chief else {}
        model = {"arguments": {**settings.model, **(best.values if best else {})}, "members": args.members,
                 "wide_ngrams": args.wide_ngrams, "wide_characters": args.wide_characters, "thesaurus": args.thesaurus,
                 "params": averaged.count_params(), "validation_accuracy_alone": parts}
        run.finish({**metrics, "majority_class_baseline": majority, "epochs_run": fitted.epochs_run,
                    "best_epoch": fitted.best_epoch}, data=reviews, model=model, **extra,
                   baseline=baselines.tfidf_linear_svc(reviews), use=settings.use,
                   headline=f"test accuracy {metrics['test_accuracy']:.4f} on {reviews.sizes['test']} held-out "
                            f"reviews: {describe(settings, args)} (majority class {majority:.4f})")
    return metrics["test_accuracy"]
