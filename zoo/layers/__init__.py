"""Custom layers of the zoo, registered with Keras under the package name "zoo".

Import this module (``import zoo.layers``) before ``keras.saving.load_model``
on a zoo model: Keras finds registered classes only in processes that have
defined them. No ``custom_objects`` are needed, and ``safe_mode=True`` works.
The zoo's losses (``zoo.losses``) are registered by the same import, so a
saved model compiled with one loads with its loss.
"""

import zoo.losses  # noqa: F401  (registers the losses a saved, compiled model may name)

from zoo.layers.attention import TokenAndPositionEmbedding, TransformerEncoder
from zoo.layers.bert import MaskedPositions
from zoo.layers.core import ConstantOutput
from zoo.layers.seq2seq import AttentionDecoder
from zoo.layers.text import WordCategories
from zoo.layers.vision import GramMatrix, ImageCanvas, TotalVariation, VGGPreprocessing

__all__ = [
    "AttentionDecoder",
    "ConstantOutput",
    "GramMatrix",
    "ImageCanvas",
    "MaskedPositions",
    "TokenAndPositionEmbedding",
    "TotalVariation",
    "TransformerEncoder",
    "VGGPreprocessing",
    "WordCategories",
]
