"""Recipe: one neuron diagnoses breast tumours, in four personalities.

    python -m recipes.perceptron                       # all four personalities, offline
    python -m recipes.perceptron --quick               # a few epochs, for a smoke test
    python -m recipes.perceptron --activation pessimist --epochs 100
    python -m recipes.perceptron --tune random --max-trials 6   # search activation and step size

The story: 569 real tumour biopsies (scikit-learn's Wisconsin breast cancer
set), 30 measurements each, malignant or benign. One neuron weighs the 30
measurements, sums them and squashes the sum with its activation. The
rationalist (sigmoid) is logistic regression; the pessimist (tanh) and the
optimist (relu) learn too; the naive one (constant) cannot use the inputs at
all and ends at the majority-class baseline. The run trains all four side by
side and saves the --activation one as model.keras.
"""

from __future__ import annotations

import time

DATASETS = ("breast_cancer",)  # embedded; tfds:NAME works for binary sets
EPOCHS = 100           # 400 training examples and 31 weights: epochs take milliseconds
BATCH_SIZE = 32
LEARNING_RATE = 1e-2   # one neuron on standardised inputs tolerates a large step
SEED = 0
ACTIVATION = "rationalist"
TEST_FRACTION = 0.2
VALIDATION_FRACTION = 0.1
QUICK_EPOCHS = 3
PERSONALITIES = ("rationalist", "pessimist", "optimist", "naive")


def parse_args(argv=None):
    from zoo import training

    parser = training.recipe_parser("perceptron", __doc__.split("\n\n")[0], epochs=EPOCHS,
                                    batch_size=BATCH_SIZE, learning_rate=LEARNING_RATE, seed=SEED,
                                    quick_epochs=QUICK_EPOCHS, datasets=DATASETS)
    parser.add_argument("--activation", default=ACTIVATION,
                        choices=PERSONALITIES + ("sigmoid", "tanh", "relu", "constant"),
                        help="the personality saved as model.keras (default: %(default)s)")
    return training.parse_recipe_args(parser, argv)


def build(personality, features, standardise, learning_rate, hp=None):
    """Standardise the measurements (training-split statistics), then one neuron; compiled.

    With ``hp`` (tuning) the activation and the step size come from the search space.
    """
    import keras

    import zoo
    from zoo import tuning
    from zoo.models.perceptron import THRESHOLDS, resolve_activation

    if hp is not None:
        personality = zoo.info("perceptron").search_space(hp)["activation"]
    neuron = zoo.get("perceptron", input_shape=features, activation=personality)
    inputs = keras.Input(shape=features, name="measurements")
    model = keras.Model(inputs, neuron(standardise(inputs)), name=f"perceptron_{personality}")
    threshold = THRESHOLDS[resolve_activation(personality)]
    model.compile(optimizer=keras.optimizers.Adam(tuning.learning_rate(hp, learning_rate)),
                  loss=zoo.info("perceptron").loss_for(activation=personality),
                  metrics=[keras.metrics.BinaryAccuracy(threshold=threshold, name="accuracy")])
    return model


def main(argv=None):
    args = parse_args(argv)
    import warnings

    import keras

    from zoo import data, training, tuning

    out = training.run_folder(args.out, "perceptron")
    training.set_precision(args.precision)
    strategy = training.strategy(args.distribute)
    started = time.perf_counter()
    tumours = data.load(args.dataset, seed=args.seed, test_fraction=TEST_FRACTION,
                        validation_fraction=VALIDATION_FRACTION)
    if tumours.num_classes != 2:
        raise ValueError(f"--dataset={args.dataset} has {tumours.num_classes} classes; one neuron needs 2.")
    train, validation, test = tumours.batches(args.batch_size, seed=args.seed)
    test_labels = tumours.labels("test")
    majority = float(max(test_labels.mean(), 1 - test_labels.mean()))

    # Standardise with the training split's statistics, inside the model (it reads raw measurements).
    standardise = keras.layers.Normalization(name="standardise")
    standardise.adapt(tumours.train.map(lambda x, y: x).batch(1024))
    build_model = lambda personality, hp=None: build(personality, tumours.input_shape, standardise,
                                                             args.learning_rate, hp)  # noqa: E731

    best, trials = tuning.search_if_asked(args, lambda hp: build_model(args.activation, hp), out, "perceptron",
                                          strategy, x=train, validation_data=validation, epochs=args.epochs)
    chosen = best["activation"] if best else args.activation

    results = {}
    for personality in dict.fromkeys(PERSONALITIES + (chosen,)):
        keras.utils.set_random_seed(args.seed)
        is_chosen = personality == chosen
        with strategy.scope():
            model = build_model(personality, best if is_chosen else None)
        callbacks = training.standard_callbacks(out) if is_chosen else []
        with warnings.catch_warnings():
            # The naive neuron's weights get no gradient: that is its lesson, not a bug.
            warnings.filterwarnings("ignore", message="Gradients do not exist")
            history = model.fit(train, validation_data=validation, epochs=args.epochs, verbose=0,
                                callbacks=callbacks)
        results[personality] = {"test_accuracy": round(float(model.evaluate(test, verbose=0)[1]), 4),
                                "final_train_loss": round(float(history.history["loss"][-1]), 4)}
        print(f"{personality:<12} test accuracy {results[personality]['test_accuracy']:.4f}")
        if is_chosen:
            model.save(out / "model.keras")
            training.plot_curves(out, title=f"perceptron ({personality}) on {tumours.name}")

    path = training.write_results(
        out, "perceptron", flags=vars(args),
        metrics={"test_accuracy": results[chosen]["test_accuracy"], "saved_activation": chosen,
                 "majority_class_baseline": round(majority, 4), "personalities": results},
        wall_time_s=time.perf_counter() - started,
        distribution=training.describe_strategy(strategy),
        data=tumours.describe(), tuning={"best": best.values, "trials": trials} if best else None,
    )
    print(f"majority-class baseline {majority:.4f}; wrote {path}")
    return results


if __name__ == "__main__":
    from zoo.training import run_main

    raise SystemExit(run_main(main))
