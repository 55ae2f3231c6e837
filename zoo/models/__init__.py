"""The built-in zoo entries, one family per module.

Each module registers its factories when imported. The modules import Keras
inside the factories only, so importing them here stays cheap.

They are imported in the order a learner meets the ideas (perceptron, MLP,
ConvNet, transfer learning, style transfer, sequence models). The registry keeps that
order for its recipes (``zoo.registry.recipes()``), so the README's results
table and ``python -m recipes`` list them alike.
"""

from zoo.models import perceptron, mlp, convnet, inception, vgg16_transfer, style_transfer, sequence, bert, hybrid, seq2seq, gpt  # noqa: F401
