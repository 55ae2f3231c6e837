"""Recipe: a multilayer perceptron learns to read handwritten digits.

    python -m recipes.mlp                  # full run: scikit-learn's 1,797 digit scans, offline
    python -m recipes.mlp --quick          # a few epochs, for a smoke test
    python -m recipes.mlp --epochs 50 --learning-rate 3e-3 --out runs/mlp-lr3e-3

The story: every 8x8 scan is 64 numbers (ink from 0 to 16). The input layer
passes them on unchanged, one hidden layer of 32 units (half the inputs, the
rule of thumb) combines them, and a 10-way softmax says which digit it is.
Writes results.json, model.keras, history.csv and TensorBoard logs to --out.
"""

from __future__ import annotations

import time

# Flags and their defaults, with the reason beside each.
EPOCHS = 200           # 1,300 training images: epochs are cheap; early stopping ends the run
BATCH_SIZE = 32        # small batches: more updates per epoch on a small dataset
LEARNING_RATE = 3e-3   # Adam; 1e-3 also works, slower
SEED = 0
PATIENCE = 20          # epochs without a better validation loss before stopping
TEST_FRACTION = 0.2    # held out, touched once at the end
VALIDATION_FRACTION = 0.1
QUICK_EPOCHS = 3


def parse_args(argv=None):
    from zoo import training

    parser = training.recipe_parser("mlp", __doc__.split("\n\n")[0], epochs=EPOCHS, batch_size=BATCH_SIZE,
                                    learning_rate=LEARNING_RATE, seed=SEED, quick_epochs=QUICK_EPOCHS)
    return training.parse_recipe_args(parser, argv)


def load_digits(seed):
    """scikit-learn's digits: real 8x8 scans of handwriting, shipped inside the package."""
    from sklearn.datasets import load_digits as sklearn_digits

    from zoo import training

    images, labels = sklearn_digits(return_X_y=True)
    return training.stratified_splits(images.astype("float32"), labels, seed, TEST_FRACTION, VALIDATION_FRACTION)


def main(argv=None):
    args = parse_args(argv)
    import keras

    import zoo
    from zoo import training

    out = training.run_folder(args.out, "mlp")
    keras.utils.set_random_seed(args.seed)
    started = time.perf_counter()

    # Data: three stratified splits; the test split is only used once, at the end.
    (x_train, y_train), (x_val, y_val), (x_test, y_test) = load_digits(args.seed)

    # Model: the zoo's MLP behind a rescaling layer, so the saved model reads raw scans (0..16).
    classifier = zoo.get("mlp", input_shape=(64,), num_classes=10)
    inputs = keras.Input(shape=(64,), name="scan")
    model = keras.Model(inputs, classifier(keras.layers.Rescaling(1 / 16, name="ink_to_unit")(inputs)),
                        name="digits_mlp")
    model.compile(optimizer=keras.optimizers.Adam(args.learning_rate),
                  loss=zoo.info("mlp").loss_for(), metrics=["accuracy"])

    # Train: early stopping keeps the weights of the best validation epoch.
    history = model.fit(x_train, y_train, validation_data=(x_val, y_val), epochs=args.epochs,
                        batch_size=args.batch_size, verbose=2,
                        callbacks=training.standard_callbacks(out, patience=PATIENCE))

    # Evaluate on the held-out test split and keep everything.
    test_loss, test_accuracy = model.evaluate(x_test, y_test, verbose=0)
    model.save(out / "model.keras")
    path = training.write_results(
        out, "mlp", flags=vars(args),
        metrics={"test_accuracy": round(float(test_accuracy), 4), "test_loss": round(float(test_loss), 4),
                 "epochs_run": len(history.history["loss"])},
        wall_time_s=time.perf_counter() - started,
        data={"dataset": "sklearn digits", "train": len(x_train), "validation": len(x_val), "test": len(x_test)},
    )
    print(f"test accuracy {test_accuracy:.4f} on {len(x_test)} held-out digits; wrote {path}")
    return test_accuracy


if __name__ == "__main__":
    main()
