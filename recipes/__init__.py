"""Runnable experiments, one module per zoo entry: ``python -m recipes.<name> --help``."""

RECIPES = {
    "perceptron": "one neuron diagnoses breast tumours, in four activation personalities",
    "mlp": "a multilayer perceptron reads handwritten digits (scikit-learn's 8x8 scans)",
}
