"""Recipe: one neuron diagnoses breast tumours, in four personalities.

    python -m recipes.perceptron                       # all four personalities, offline
    python -m recipes.perceptron --quick               # a few epochs, for a smoke test
    python -m recipes.perceptron --activation pessimist --epochs 100

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
                                    quick_epochs=QUICK_EPOCHS)
    parser.add_argument("--activation", default=ACTIVATION,
                        choices=PERSONALITIES + ("sigmoid", "tanh", "relu", "constant"),
                        help="the personality saved as model.keras (default: %(default)s)")
    return training.parse_recipe_args(parser, argv)


def load_breast_cancer(seed):
    """Wisconsin diagnostic breast cancer: 569 biopsies, 30 features; 1 = benign, 0 = malignant."""
    from sklearn.datasets import load_breast_cancer as sklearn_breast_cancer

    from zoo import training

    features, labels = sklearn_breast_cancer(return_X_y=True)
    return training.stratified_splits(features.astype("float32"), labels, seed, TEST_FRACTION,
                                      VALIDATION_FRACTION)


def build(personality, x_train):
    """Standardise the 30 measurements (statistics of the training split), then one neuron."""
    import keras

    import zoo

    standardise = keras.layers.Normalization(name="standardise")
    standardise.adapt(x_train)
    neuron = zoo.get("perceptron", input_shape=(x_train.shape[1],), activation=personality)
    inputs = keras.Input(shape=(x_train.shape[1],), name="measurements")
    return keras.Model(inputs, neuron(standardise(inputs)), name=f"perceptron_{personality}")


def accuracy(model, personality, x, y):
    """Share of examples on the right side of the personality's decision threshold."""
    import numpy as np

    from zoo.models.perceptron import THRESHOLDS, resolve_activation

    scores = model.predict(x, verbose=0)[:, 0]
    return float(np.mean((scores > THRESHOLDS[resolve_activation(personality)]) == y))


def main(argv=None):
    args = parse_args(argv)
    import warnings

    import keras
    import numpy as np

    import zoo
    from zoo import training

    out = training.run_folder(args.out, "perceptron")
    started = time.perf_counter()
    (x_train, y_train), (x_val, y_val), (x_test, y_test) = load_breast_cancer(args.seed)
    majority = float(max(np.mean(y_test), 1 - np.mean(y_test)))

    results = {}
    chosen = args.activation
    for personality in dict.fromkeys(PERSONALITIES + (chosen,)):
        keras.utils.set_random_seed(args.seed)
        model = build(personality, x_train)
        model.compile(optimizer=keras.optimizers.Adam(args.learning_rate),
                      loss=zoo.info("perceptron").loss_for(activation=personality))
        is_chosen = personality == chosen
        callbacks = training.standard_callbacks(out) if is_chosen else []
        with warnings.catch_warnings():
            # The naive neuron's weights get no gradient: that is its lesson, not a bug.
            warnings.filterwarnings("ignore", message="Gradients do not exist")
            history = model.fit(x_train, y_train.astype("float32"), validation_data=(x_val, y_val.astype("float32")),
                                epochs=args.epochs, batch_size=args.batch_size, verbose=0, callbacks=callbacks)
        results[personality] = {"test_accuracy": round(accuracy(model, personality, x_test, y_test), 4),
                                "final_train_loss": round(float(history.history["loss"][-1]), 4)}
        print(f"{personality:<12} test accuracy {results[personality]['test_accuracy']:.4f}")
        if is_chosen:
            model.save(out / "model.keras")

    path = training.write_results(
        out, "perceptron", flags=vars(args),
        metrics={"test_accuracy": results[chosen]["test_accuracy"], "majority_class_baseline": round(majority, 4),
                 "personalities": results},
        wall_time_s=time.perf_counter() - started,
        data={"dataset": "sklearn breast_cancer", "train": len(x_train), "validation": len(x_val),
              "test": len(x_test)},
    )
    print(f"majority-class baseline {majority:.4f}; wrote {path}")
    return results


if __name__ == "__main__":
    main()
