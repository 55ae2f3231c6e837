"""keras-zoo: deep learning's first ideas as Keras 3 models, one call away.

    >>> import zoo
    >>> zoo.list_models()
    ['lstm_sentiment', 'mini_transformer', 'mlp', 'perceptron', 'style_transfer', 'vgg16_transfer']
    >>> model = zoo.get("mlp", num_classes=10)      # imports Keras here, not before

Importing this package, listing and describing models import neither Keras nor
TensorFlow; building a model does.
"""

from zoo.registry import DuplicateModelError, UnknownModelError, get, info, list_models, register
from zoo import models as _models  # noqa: F401  (registers the built-in entries)

__all__ = ["get", "list_models", "info", "register", "UnknownModelError", "DuplicateModelError"]
__version__ = "0.1.0"
