"""The body both sentiment recipes share: a review in, fresh or rotten out.

``recipes.lstm_sentiment`` and ``recipes.mini_transformer`` differ only in
the zoo entry and its defaults (a ``Settings`` each); the story is the same,
told here once:

1. Data: Rotten Tomatoes snippets (embedded) or tfds:imdb_reviews, three splits.
2. Text to numbers: a TextVectorization layer learns the vocabulary of the
   training split and runs inside the tf.data pipeline (on the CPU, ahead of
   the model), turning each review into ``sequence_length`` token ids.
3. Model: the zoo entry over token ids; optional KerasTuner search first.
4. Train with early stopping on validation accuracy, evaluate once on test.
5. Save an end-to-end model that scores raw strings: vectorizer + classifier.
"""

from __future__ import annotations

import dataclasses

DATASETS = ("rotten_tomatoes",)  # embedded; tfds:imdb_reviews online
TEST_FRACTION = 0.2
VALIDATION_FRACTION = 0.1
QUICK_EPOCHS = 1
QUICK_TRAIN_SIZE = 2000   # --quick also trains on a subset: a smoke test in seconds
MIN_TOKENS = 3            # padding, out-of-vocabulary and at least one word: TextVectorization needs them


@dataclasses.dataclass(frozen=True)
class Settings:
    """One sentiment recipe's defaults, with the reason beside each; ``model`` holds the zoo entry's arguments.

    Both recipes use the same training defaults, so the comparison is of the models alone.
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


def parse_args(settings: Settings, doc: str, argv=None):
    from zoo import command

    parser = command.recipe_parser(settings.recipe, doc, command.Defaults(
        epochs=settings.epochs, batch_size=settings.batch_size, learning_rate=settings.learning_rate,
        seed=settings.seed, quick={"epochs": QUICK_EPOCHS}, datasets=DATASETS, kinds=("text",), multi_worker=True))
    parser.add_argument("--max-tokens", type=command.integer("--max-tokens", MIN_TOKENS, 10_000_000),
                        default=settings.max_tokens,
                        help="vocabulary size, padding and out-of-vocabulary ids included (default: %(default)s)")
    parser.add_argument("--sequence-length", type=command.integer("--sequence-length", 2, 100_000),
                        default=settings.sequence_length,
                        help="token ids per review: longer ones are cut, shorter ones padded (default: %(default)s)")
    return command.parse(parser, argv)


def build(settings: Settings, args, vocabulary_size: int, num_classes: int, hp=None):
    """The zoo entry over token ids, compiled; ``hp`` picks the architecture from its search space."""
    import keras

    import zoo
    from zoo import command, tuning

    spec = zoo.info(settings.recipe)
    arguments = dict(settings.model)
    if hp is not None:
        arguments.update(spec.search_space(hp))
    if "sequence_length" in spec.defaults:  # entries with position embeddings need the length
        arguments["sequence_length"] = args.sequence_length
    model = zoo.get(settings.recipe, vocab_size=vocabulary_size, num_classes=num_classes, **arguments)
    model.compile(optimizer=keras.optimizers.Adam(tuning.learning_rate(hp, args.learning_rate)),
                  loss=spec.loss_for(), metrics=["accuracy"], jit_compile=command.jit_compile(args))
    return model


def raw_text_model(vectorizer, classifier):
    """One model from raw strings to class probabilities: what a user serves (TensorFlow backend).

        model = keras.saving.load_model("model.keras")
        model.predict(np.array(["a gorgeous, moving film", "dull and far too long"], dtype=object))
    """
    import keras

    texts = keras.Input(shape=(1,), dtype="string", name="review")
    return keras.Model(texts, classifier(vectorizer(texts)), name=f"{classifier.name}_on_text")


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
        to_ids = lambda text, label: (vectorizer(text), label)  # noqa: E731
        build_for = lambda hp: build(settings, args, vectorizer.vocabulary_size(), reviews.num_classes, hp)  # noqa: E731

        # 3. Optional KerasTuner search over the entry's own space, then the model.
        stop = dict(monitor="val_accuracy", patience=settings.patience)
        best = run.tune(build_for, reviews, batch_size=args.batch_size, transform=to_ids, **stop)
        with run.scope():
            classifier = build_for(best)

        # 4. Train (fit, or the multi-worker loop); early stopping keeps the best validation epoch.
        fitted = run.fit(classifier, reviews, batch_size=args.batch_size, epochs=args.epochs, transform=to_ids, **stop)
        metrics, majority = run.evaluate(classifier, reviews, transform=to_ids), baselines.majority_class(reviews)

        # 5. Save what scores raw strings, and what the recipe reports besides.
        run.save_model(raw_text_model(vectorizer, classifier))
        extra = report(run, classifier, vectorizer, reviews) if report and run.is_chief else {}
        model = {"arguments": {**settings.model, **(best.values if best else {})},
                 "params": classifier.count_params(), "vocabulary_size": vectorizer.vocabulary_size()}
        run.finish({**metrics, "majority_class_baseline": majority, "epochs_run": fitted.epochs_run,
                    "best_epoch": fitted.best_epoch}, data=reviews, model=model, **extra,
                   baseline=baselines.tfidf_linear_svc(reviews),
                   headline=f"test accuracy {metrics['test_accuracy']:.4f} on {reviews.sizes['test']} held-out "
                            f"reviews (majority class {majority:.4f})")
    return metrics["test_accuracy"]
