"""Recipe: one neuron diagnoses breast tumours, in four personalities.

    python -m zoo.recipes.perceptron                       # all four personalities, offline
    python -m zoo.recipes.perceptron --quick               # a few epochs, for a smoke test
    python -m zoo.recipes.perceptron --activation pessimist --epochs 100
    python -m zoo.recipes.perceptron --tune random --max-trials 6   # search activation and step size

The story: 569 real tumour biopsies (scikit-learn's Wisconsin breast cancer
set), 30 measurements each, malignant or benign. One neuron weighs the 30
measurements, sums them and squashes the sum with its activation. The
rationalist (sigmoid) is logistic regression; the pessimist (tanh) and the
optimist (relu) learn too; the naive one (constant) cannot use the inputs at
all and ends at the majority-class baseline. The run trains all four side by
side and saves the --activation one as model.keras.
"""

from __future__ import annotations

from zoo import model_card

DATASETS = ("breast_cancer",)  # embedded; tfds:NAME works for binary sets
EPOCHS = 100           # 400 training examples and 31 weights: epochs take milliseconds
BATCH_SIZE = 32
LEARNING_RATE = 1e-2   # one neuron on standardised inputs tolerates a large step
SEED = 0
ACTIVATION = "rationalist"
TEST_FRACTION = 0.2
VALIDATION_FRACTION = 0.1
QUICK_EPOCHS = 3
JIT_COMPILE = "auto"   # Keras's choice, XLA off on CPUs: 0.77-0.85x here (benchmarks/results/xla.json)
PERSONALITIES = ("rationalist", "pessimist", "optimist", "naive")
# What the trained model is for and where it stops being trustworthy: its model card (zoo.model_card).
USE = model_card.Use(
    intended_use=("Teaching: what one neuron learns, and how its activation (its personality) changes that, on"
                  " the 30 measurements per biopsy of scikit-learn's breast-cancer set (the Wisconsin "
                  "diagnostic data)."),
    limits=(
        "A teaching example, not a medical device: never use it to diagnose or advise anyone.",
        "It knows only the 30 measurements of scikit-learn's load_breast_cancer, computed from digitised "
        "images of fine-needle aspirates, in that order; other features, or the same ones measured another "
        "way, mean nothing to it.",
        "It was trained and tested on one historical set of 569 biopsies; how it does on other patients, "
        "hospitals or equipment is unknown.",
    ),
    written_for={"dataset": "breast_cancer"},   # the flag values this text describes
)


def parse_args(argv=None):
    from zoo import command

    parser = command.recipe_parser("perceptron", __doc__, command.Defaults(
        epochs=EPOCHS, batch_size=BATCH_SIZE, learning_rate=LEARNING_RATE, seed=SEED, quick={"epochs": QUICK_EPOCHS},
        datasets=DATASETS, kinds=("tabular",), classes=2, jit_compile=JIT_COMPILE))
    parser.add_argument("--activation", default=ACTIVATION,
                        choices=PERSONALITIES + ("sigmoid", "tanh", "relu", "constant"),
                        help="the personality saved as model.keras (default: %(default)s)")
    return command.parse(parser, argv)


def build(personality, features, standardise, learning_rate, hp=None, jit_compile="auto"):
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
                  metrics=[keras.metrics.BinaryAccuracy(threshold=threshold, name="accuracy")], jit_compile=jit_compile)
    return model


def train_personality(run, personality, tumours, build_model, hp=None):
    """One neuron of one personality, trained on the same split and seed as the others; its test scores."""
    import warnings

    import keras

    keras.utils.set_random_seed(run.args.seed)
    with run.scope():
        model = build_model(personality, hp)
    with warnings.catch_warnings():
        # The naive neuron's weights get no gradient: that is its lesson, not a bug.
        warnings.filterwarnings("ignore", message="Gradients do not exist")
        fitted = run.fit(model, tumours, batch_size=run.args.batch_size, epochs=run.args.epochs, tag=personality)
    scores = {**run.evaluate(model, tumours), "final_train_loss": round(float(fitted.rows[-1]["loss"]), 4)}
    print(f"{personality:<12} test accuracy {scores['test_accuracy']:.4f}", flush=True)
    return model, scores


def main(argv=None):
    args = parse_args(argv)
    import keras

    from zoo import baselines, command, data
    from zoo.runs import Run

    with Run("perceptron", args) as run:
        tumours = data.load(args.dataset, seed=args.seed, test_fraction=TEST_FRACTION,
                            validation_fraction=VALIDATION_FRACTION, kinds=("tabular",), classes=2)
        majority = baselines.majority_class(tumours)

        # Standardise with the training split's statistics, inside the model (it reads raw measurements).
        standardise = keras.layers.Normalization(name="standardise")
        standardise.adapt(tumours.train.map(lambda x, y: x).batch(1024))
        build_model = lambda personality, hp=None: build(personality, tumours.input_shape, standardise,  # noqa: E731
                                                         args.learning_rate, hp, command.jit_compile(args))

        # Optionally search activation and step size; then all four personalities side by side.
        best = run.tune(lambda hp: build_model(args.activation, hp), tumours, batch_size=args.batch_size)
        chosen = best["activation"] if best else args.activation
        scores = {}
        for personality in dict.fromkeys(PERSONALITIES + (chosen,)):
            model, scores[personality] = train_personality(run, personality, tumours, build_model,
                                                           best if personality == chosen else None)
            if personality == chosen:
                run.save_model(model)

        naive = scores["naive"]["test_accuracy"]
        run.finish({"test_accuracy": scores[chosen]["test_accuracy"], "saved_activation": chosen,
                    "majority_class_baseline": majority, "personalities": scores}, data=tumours,
                   baseline=baselines.logistic_regression(tumours),
                   use=USE,
                   headline=f"test accuracy {scores[chosen]['test_accuracy']:.4f} on {tumours.sizes['test']} "
                            f"held-out biopsies ({chosen}); naive {naive:.4f} "
                            f"{'=' if naive == majority else 'vs'} majority class {majority:.4f}")
    return scores


if __name__ == "__main__":
    from zoo.command import run_main

    raise SystemExit(run_main(main))
