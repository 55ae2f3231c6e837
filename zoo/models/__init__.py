"""The built-in zoo entries, one family per module.

Each module registers its factories when imported. The modules import Keras
inside the factories only, so importing them here stays cheap.
"""

from zoo.models import mlp, perceptron, sequence, style_transfer, vgg16_transfer  # noqa: F401
