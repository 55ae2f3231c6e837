"""Runnable experiments, one module per zoo entry: ``python -m recipes.<name> --help``."""

RECIPES = {
    "perceptron": "one neuron diagnoses breast tumours, in four activation personalities",
    "mlp": "a multilayer perceptron reads handwritten digits (scikit-learn's 8x8 scans)",
    "vgg16_transfer": "reuse a pretrained VGG-16 on 200 labelled digits, against the same net from scratch",
    "style_transfer": "paint a photo in the style of another with VGG features (Gatys et al.)",
    "lstm_sentiment": "an LSTM reads film review snippets: fresh or rotten",
    "mini_transformer": "a small Transformer reads the same snippets, with attention",
}
