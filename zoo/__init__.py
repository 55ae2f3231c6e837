"""keras-zoo: deep learning's first ideas as Keras 3 models, one call away.

    >>> import zoo
    >>> zoo.list_models()
    ['lstm_sentiment', 'mini_transformer', 'mlp', 'perceptron', 'style_transfer', 'vgg16_transfer']
    >>> model = zoo.get("mlp", num_classes=10)      # imports Keras here, not before
    >>> run = zoo.load_run("runs/mlp")               # a finished run's model, for zoo.predict.predict

Importing this package, listing and describing models import neither Keras nor
TensorFlow; building a model does.
"""

from zoo.registry import DuplicateModelError, UnknownModelError, get, info, list_models, register
from zoo import models as _models  # noqa: F401  (registers the built-in entries)

__all__ = ["get", "list_models", "info", "register", "load_run", "UnknownModelError", "DuplicateModelError"]
__version__ = "0.1.0"


def load_run(path):
    """A finished recipe run's folder, loaded for prediction: see ``zoo.predict.load_run`` (imports Keras)."""
    from zoo.predict import load_run as load

    return load(path)
