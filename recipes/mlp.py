"""Recipe: a multilayer perceptron learns to read handwritten digits.

    python -m recipes.mlp                          # full run: scikit-learn's 1,797 digit scans, offline
    python -m recipes.mlp --quick                  # a few epochs, for a smoke test
    python -m recipes.mlp --dataset mnist_5k       # 5,000 real 28x28 MNIST digits, also offline
    python -m recipes.mlp --dataset tfds:mnist     # all 70,000 (online, or TFDS_DATA_DIR)
    python -m recipes.mlp --tune random --max-trials 10
    zoo launch --workers 2 -- recipes.mlp --distribute multi_worker   # two workers (TF_CONFIG), locally

The story: every 8x8 scan is 64 numbers (ink from 0 to 16). The input layer
passes them on unchanged, one hidden layer of 32 units (half the inputs, the
rule of thumb) combines them, and a 10-way softmax says which digit it is.
Writes results.json, model.keras, history.csv, curves.png and TensorBoard logs to --out.
"""

from __future__ import annotations

import time

# Flags and their defaults, with the reason beside each.
DATASETS = ("digits", "mnist_5k")  # embedded; tfds:NAME works too
EPOCHS = 300           # 1,300 training images: epochs are cheap; early stopping ends the run
BATCH_SIZE = 32        # small batches: more updates per epoch on a small dataset
LEARNING_RATE = 1e-3   # Adam's default; 3e-3 converges faster but settles slightly worse here
DROPOUT = 0.1          # a little: 2,410 weights against 1,300 examples
SEED = 0
PATIENCE = 30          # epochs without a better validation loss before stopping
TEST_FRACTION = 0.2    # held out, touched once at the end
VALIDATION_FRACTION = 0.1
QUICK_EPOCHS = 3


def parse_args(argv=None):
    from zoo import training

    parser = training.recipe_parser("mlp", __doc__.split("\n\n")[0], epochs=EPOCHS, batch_size=BATCH_SIZE,
                                    learning_rate=LEARNING_RATE, seed=SEED, quick_epochs=QUICK_EPOCHS,
                                    datasets=DATASETS, multi_worker=True)
    parser.add_argument("--dropout", type=float, default=DROPOUT, help="dropout after the hidden layer")
    return training.parse_recipe_args(parser, argv)


def build(args, dataset, ink_scale, hp=None):
    """The zoo's MLP behind Flatten + Rescaling, so the saved model reads raw scans; compiled."""
    import keras

    import zoo
    from zoo import tuning

    overrides = zoo.info("mlp").search_space(hp) if hp else {"dropout": args.dropout}
    inputs_size = 1
    for dim in dataset.input_shape:
        inputs_size *= dim
    classifier = zoo.get("mlp", input_shape=(inputs_size,), num_classes=dataset.num_classes, **overrides)
    inputs = keras.Input(shape=dataset.input_shape, name="scan")
    x = keras.layers.Flatten(name="flatten")(inputs)
    x = keras.layers.Rescaling(1 / ink_scale, name="ink_to_unit")(x)
    model = keras.Model(inputs, classifier(x), name="digits_mlp")
    model.compile(optimizer=keras.optimizers.Adam(tuning.learning_rate(hp, args.learning_rate)),
                  loss=zoo.info("mlp").loss_for(), metrics=["accuracy"])
    return model


def main(argv=None):
    args = parse_args(argv)
    import keras
    import numpy as np

    from zoo import data, distributed, training, tuning

    out = training.run_folder(args.out, "mlp")
    keras.utils.set_random_seed(args.seed)
    training.set_precision(args.precision)
    strategy = training.strategy(args.distribute)
    started = time.perf_counter()

    # Data: three stratified splits; the test split is only used once, at the end.
    digits = data.load(args.dataset, seed=args.seed, test_fraction=TEST_FRACTION,
                       validation_fraction=VALIDATION_FRACTION)
    train, validation, test = digits.batches(args.batch_size, seed=args.seed)
    ink_scale = float(max(np.max(x) for x, _ in train.as_numpy_iterator()))  # 16 for digits, 255 for MNIST

    # Optional: search the entry's space (zoo.info("mlp").search_space) with KerasTuner first.
    best, trials = tuning.search_if_asked(
        args, lambda hp: build(args, digits, ink_scale, hp), out, "mlp", strategy,
        x=train, validation_data=validation, epochs=args.epochs,
        callbacks=[keras.callbacks.EarlyStopping(patience=PATIENCE, restore_best_weights=True)])

    # Train: early stopping keeps the weights of the best validation epoch. Then evaluate on the
    # held-out test split.
    with strategy.scope():
        model = build(args, digits, ink_scale, best)
    if args.distribute == "multi_worker":
        # fit fails under MultiWorkerMirroredStrategy on this Keras (keras-team/keras#20585): the same
        # training (shards per worker, checkpoint per epoch, early stopping) through a short visible loop.
        cluster = distributed.cluster_from_env()
        epochs_run = distributed.fit(model, strategy, cluster, digits.train, train_size=digits.sizes["train"],
                                     global_batch_size=args.batch_size, epochs=args.epochs, seed=args.seed,
                                     out=out, validation=digits.validation, patience=PATIENCE)
        test_loss, test_accuracy = distributed.evaluate(model, test)
        if not cluster.is_chief:  # the chief reports; a worker keeps its copy apart, to check replicas agree
            model.save(distributed.task_folder(out, cluster) / "model.keras")
            print(f"{cluster.name}: test accuracy {test_accuracy:.4f}; the chief writes the results")
            return test_accuracy
    else:
        history = model.fit(train, validation_data=validation, epochs=args.epochs, verbose=2,
                            callbacks=training.standard_callbacks(out, patience=PATIENCE))
        epochs_run = history.epoch[-1] + 1
        test_loss, test_accuracy = model.evaluate(test, verbose=0)

    # Keep everything.
    model.save(out / "model.keras")
    training.plot_curves(out, title=f"mlp on {digits.name}")
    path = training.write_results(
        out, "mlp", flags=vars(args),
        metrics={"test_accuracy": round(float(test_accuracy), 4), "test_loss": round(float(test_loss), 4),
                 "epochs_run": epochs_run},
        wall_time_s=time.perf_counter() - started,
        distribution=training.describe_strategy(strategy),
        data=digits.describe(),
        tuning={"best": best.values, "trials": trials} if best else None,
    )
    if args.distribute == "multi_worker":
        distributed.finish(out, cluster)
    print(f"test accuracy {test_accuracy:.4f} on {digits.sizes['test']} held-out digits; wrote {path}")
    return test_accuracy


if __name__ == "__main__":
    from zoo.training import run_main

    raise SystemExit(run_main(main))
