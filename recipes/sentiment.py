"""The body both sentiment recipes share: a review in, fresh or rotten out.

``recipes.lstm_sentiment`` and ``recipes.mini_transformer`` differ only in
the zoo entry and its defaults; the story is the same, told here once:

1. Data: Rotten Tomatoes snippets (embedded) or tfds:imdb_reviews, three splits.
2. Text to numbers: a TextVectorization layer learns the vocabulary of the
   training split and runs inside the tf.data pipeline (on the CPU, ahead of
   the model), turning each review into ``sequence_length`` token ids.
3. Model: the zoo entry over token ids; optional KerasTuner search first.
4. Train with early stopping on validation accuracy, evaluate once on test.
5. Save an end-to-end model that scores raw strings: vectorizer + classifier.
"""

from __future__ import annotations

import time

DATASETS = ("rotten_tomatoes",)  # embedded; tfds:imdb_reviews online
TEST_FRACTION = 0.2
VALIDATION_FRACTION = 0.1
QUICK_EPOCHS = 1
QUICK_TRAIN_SIZE = 2000   # --quick also trains on a subset: a smoke test in seconds


def parse_args(recipe: str, doc: str, defaults: dict, argv=None):
    from zoo import training

    parser = training.recipe_parser(recipe, doc, epochs=defaults["EPOCHS"], batch_size=defaults["BATCH_SIZE"],
                                    learning_rate=defaults["LEARNING_RATE"], seed=defaults["SEED"],
                                    quick_epochs=QUICK_EPOCHS, datasets=DATASETS, multi_worker=True)
    parser.add_argument("--max-tokens", type=int, default=defaults["MAX_TOKENS"],
                        help="vocabulary size, padding and out-of-vocabulary ids included (default: %(default)s)")
    parser.add_argument("--sequence-length", type=int, default=defaults["SEQUENCE_LENGTH"],
                        help="token ids per review: longer ones are cut, shorter ones padded (default: %(default)s)")
    args = training.parse_recipe_args(parser, argv)
    for flag in ("max_tokens", "sequence_length"):
        if getattr(args, flag) < 2:
            parser.error(f"--{flag.replace('_', '-')}={getattr(args, flag)} must be >= 2")
    return args


def build(recipe: str, args, vocabulary_size: int, num_classes: int, model_defaults: dict, hp=None):
    """The zoo entry over token ids, compiled; ``hp`` picks the architecture from its search space."""
    import keras

    import zoo
    from zoo import tuning

    arguments = dict(model_defaults)
    if hp is not None:
        arguments.update(zoo.info(recipe).search_space(hp))
    if recipe == "mini_transformer":
        arguments["sequence_length"] = args.sequence_length
    model = zoo.get(recipe, vocab_size=vocabulary_size, num_classes=num_classes, **arguments)
    model.compile(optimizer=keras.optimizers.Adam(tuning.learning_rate(hp, args.learning_rate)),
                  loss=zoo.info(recipe).loss_for(), metrics=["accuracy"])
    return model


def raw_text_model(vectorizer, classifier):
    """One model from raw strings to class probabilities: what a user serves (TensorFlow backend).

        model = keras.saving.load_model("model.keras")
        model.predict(np.array(["a gorgeous, moving film", "dull and far too long"], dtype=object))
    """
    import keras

    texts = keras.Input(shape=(1,), dtype="string", name="review")
    return keras.Model(texts, classifier(vectorizer(texts)), name=f"{classifier.name}_on_text")


def main(recipe: str, doc: str, defaults: dict, model_defaults: dict, argv=None, report=None):
    """Run the recipe; ``report(out, classifier, vectorizer, dataset)`` adds recipe-specific artifacts."""
    args = parse_args(recipe, doc, defaults, argv)
    import keras

    from zoo import data, distributed, training, tuning

    out = training.run_folder(args.out, recipe)
    keras.utils.set_random_seed(args.seed)
    training.set_precision(args.precision)
    strategy = training.strategy(args.distribute)
    started = time.perf_counter()

    # 1. Data: three stratified splits of real reviews; test is touched once, at the end.
    reviews = data.load(args.dataset, seed=args.seed, test_fraction=TEST_FRACTION,
                        validation_fraction=VALIDATION_FRACTION,
                        train_size=QUICK_TRAIN_SIZE if args.quick else None)

    # 2. Text to token ids, inside the input pipeline: the vocabulary comes from training reviews only.
    vectorizer = keras.layers.TextVectorization(max_tokens=args.max_tokens,
                                                output_sequence_length=args.sequence_length, name="vectorizer")
    vectorizer.adapt(reviews.train.map(lambda text, label: text).batch(1024))
    to_ids = lambda text, label: (vectorizer(text), label)  # noqa: E731
    train, validation, test = (split.map(to_ids) for split in reviews.batches(args.batch_size, seed=args.seed))
    vocabulary_size = vectorizer.vocabulary_size()

    # 3. Optional KerasTuner search over the entry's own space, then the model.
    stop = dict(monitor="val_accuracy", patience=defaults["PATIENCE"], restore_best_weights=True)
    build_for = lambda hp: build(recipe, args, vocabulary_size, reviews.num_classes, model_defaults, hp)  # noqa: E731
    best, trials = tuning.search_if_asked(args, build_for, out, recipe, strategy, x=train,
                                          validation_data=validation, epochs=args.epochs,
                                          callbacks=[keras.callbacks.EarlyStopping(**stop)])
    with strategy.scope():
        classifier = build_for(best)

    # 4. Train; early stopping keeps the epoch with the best validation accuracy.
    if args.distribute == "multi_worker":
        # fit fails under MultiWorkerMirroredStrategy (keras-team/keras#20585): zoo.distributed's short
        # loop trains the same way (a shard per worker, a checkpoint per epoch, early stopping).
        cluster = distributed.cluster_from_env()
        as_ids = lambda split: split.batch(1024).map(to_ids).unbatch()  # noqa: E731
        epochs_run = distributed.fit(classifier, strategy, cluster, as_ids(reviews.train),
                                     train_size=reviews.sizes["train"], global_batch_size=args.batch_size,
                                     epochs=args.epochs, seed=args.seed, out=out,
                                     validation=as_ids(reviews.validation), patience=defaults["PATIENCE"])
        best_epoch = None
        test_loss, test_accuracy = distributed.evaluate(classifier, test)
        if not cluster.is_chief:  # the chief reports; a worker keeps its copy apart, to check replicas agree
            raw_text_model(vectorizer, classifier).save(distributed.task_folder(out, cluster) / "model.keras")
            print(f"{cluster.name}: test accuracy {test_accuracy:.4f}; the chief writes the results")
            return test_accuracy
    else:
        callbacks = training.standard_callbacks(out)
        callbacks.append(keras.callbacks.EarlyStopping(**stop))
        history = classifier.fit(train, validation_data=validation, epochs=args.epochs, verbose=2,
                                 callbacks=callbacks)
        epochs_run = history.epoch[-1] + 1
        best_epoch = history.epoch[max(range(len(history.epoch)), key=history.history["val_accuracy"].__getitem__)] + 1
        test_loss, test_accuracy = classifier.evaluate(test, verbose=0)
    test_labels = reviews.labels("test")
    majority = float(max(test_labels.mean(), 1 - test_labels.mean()))

    # 5. Save what scores raw strings, and the curves.
    end_to_end = raw_text_model(vectorizer, classifier)
    end_to_end.save(out / "model.keras")
    training.plot_curves(out, title=f"{recipe} on {reviews.name}")
    extra = report(out, classifier, vectorizer, reviews) if report else {}
    path = training.write_results(
        out, recipe, flags=vars(args),
        metrics={"test_accuracy": round(float(test_accuracy), 4), "test_loss": round(float(test_loss), 4),
                 "majority_class_baseline": round(majority, 4), "epochs_run": epochs_run, "best_epoch": best_epoch},
        wall_time_s=time.perf_counter() - started,
        distribution=training.describe_strategy(strategy),
        data={**reviews.describe(), "vocabulary_size": vocabulary_size, "class_names": list(reviews.class_names)},
        model={"arguments": {**model_defaults, **(best.values if best else {})},
               "params": classifier.count_params()},
        tuning={"best": best.values, "trials": trials} if best else None,
        **extra,
    )
    if args.distribute == "multi_worker":
        distributed.finish(out, cluster)
    print(f"test accuracy {test_accuracy:.4f} on {reviews.sizes['test']} held-out reviews "
          f"(majority class {majority:.4f}); wrote {path}")
    return test_accuracy
