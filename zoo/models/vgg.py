"""VGG (Simonyan & Zisserman, 2014) for every zoo entry that uses it: layer tables, names, checks, the backbone.

VGG-16 and VGG-19 are five blocks of 3x3 convolutions, each block ending in a
2x2 max pooling that halves height and width. keras.applications names their
layers ``block<B>_conv<N>`` and ``block<B>_pool``; everything here reads and
writes those names, so ``vgg16_transfer``, ``style_transfer``, the weights
conversion and the recipes agree on them.

Pure Python at import: ``backbone`` imports Keras when it builds.
"""

from __future__ import annotations

import re

from zoo import _checks, weights as weights_lib

# Convolutions per block.
BLOCKS = {"vgg16": (2, 2, 3, 3, 3), "vgg19": (2, 2, 4, 4, 4)}
ARCHITECTURES = tuple(BLOCKS)
BLOCK_CHANNELS = (64, 128, 256, 512, 512)
CONV_LAYERS = {
    architecture: tuple(f"block{block}_conv{index}" for block, count in enumerate(counts, start=1)
                        for index in range(1, count + 1))
    for architecture, counts in BLOCKS.items()
}
# Where a base may be cut: the end of each block. Earlier blocks hold more generic features
# (edges, strokes); later ones more ImageNet-specific ones (Yosinski et al., 2014).
POOL_LAYERS = tuple(f"block{block}_pool" for block in range(1, len(BLOCK_CHANNELS) + 1))
MIN_SIDE = 32  # five poolings halve it to 1
_LAYER_NAME = re.compile(r"block([1-9])_(?:conv([1-9])|pool)")
_IMAGE_EXAMPLE = "(224, 224, 3)"


def _parts(layer: str) -> tuple[int, int | None]:
    """``"block3_conv2"`` -> ``(3, 2)``; ``"block3_pool"`` -> ``(3, None)``."""
    match = _LAYER_NAME.fullmatch(layer) if isinstance(layer, str) else None
    if match is None:
        raise ValueError(f"{layer!r} is not a VGG layer name; VGG layers are named like 'block3_conv2' "
                         "or 'block3_pool'.")
    return int(match.group(1)), None if match.group(2) is None else int(match.group(2))


def block_of(layer: str) -> int:
    """The block a layer belongs to: ``"block3_conv2"`` -> 3, ``"block4_pool"`` -> 4."""
    return _parts(layer)[0]


def conv_index(layer: str) -> int:
    """A convolution's place in its block: ``"block3_conv2"`` -> 2 (a pooling layer has none: ValueError)."""
    index = _parts(layer)[1]
    if index is None:
        raise ValueError(f"{layer!r} is a pooling layer, not a convolution; conv layers are named like "
                         "'block3_conv2'.")
    return index


def depth(layer: str) -> tuple[int, float]:
    """A sort key from input to output: a block's pooling comes after all its convolutions."""
    block, index = _parts(layer)
    return block, float("inf") if index is None else index


def convs_up_to(architecture: str, layer: str) -> tuple[str, ...]:
    """The conv layers of ``architecture`` from the input up to ``layer`` (a conv or a pooling), in order."""
    last = depth(layer)
    return tuple(conv for conv in CONV_LAYERS[architecture] if depth(conv) <= last)


def conv_parameters(architecture: str, last_layer: str) -> int:
    """Weights and biases of the 3x3 convolutions of ``architecture`` up to ``last_layer``, input included."""
    parameters, channels_in = 0, 3
    for conv in convs_up_to(architecture, last_layer):
        channels = BLOCK_CHANNELS[block_of(conv) - 1]
        parameters += 9 * channels_in * channels + channels
        channels_in = channels
    return parameters


def feature_map_values(input_shape) -> int:
    """Float values of block 1's two 64-channel maps for one image, the most VGG holds at once (0: size unknown)."""
    height, width = input_shape[:2]
    return 0 if height is None or width is None else 2 * height * width * BLOCK_CHANNELS[0]


def check_image_shape(model: str, input_shape) -> tuple:
    """VGG needs 3 RGB channels and, once the five poolings are done, at least 1x1 maps."""
    input_shape = _checks.shape(model, "input_shape", input_shape, rank=3, example=_IMAGE_EXAMPLE)
    if input_shape[-1] != 3:
        raise ValueError(f"{model}: input_shape={input_shape!r} must end in 3 RGB channels, e.g. {_IMAGE_EXAMPLE}.")
    if any(dim is not None and dim < MIN_SIDE for dim in input_shape[:2]):
        raise ValueError(
            f"{model}: input_shape={input_shape!r} is too small; VGG needs images of at least "
            f"{MIN_SIDE}x{MIN_SIDE}."
        )
    return input_shape


def backbone(model: str, architecture: str, weights, **kwargs):
    """keras.applications VGG16/VGG19 without its top, weights checked first (``zoo.weights.resolve``).

    ``kwargs`` go to the application (``input_shape`` or ``input_tensor``). A
    weights file that does not fit the architecture is a ValueError that names
    the model, the file and what would fit.
    """
    import keras

    resolved = weights_lib.resolve(model, weights, architecture)
    application = {"vgg16": keras.applications.VGG16, "vgg19": keras.applications.VGG19}[architecture]
    try:
        return application(include_top=False, weights=resolved, **kwargs)
    except ValueError as error:
        if resolved in (None, "imagenet"):
            raise
        raise ValueError(
            f"{model}: could not load weights from {resolved}: it does not match "
            f"{architecture} without its top ({error}). Pass a weights file saved from "
            f"keras.applications.{architecture.upper()}(include_top=False)."
        ) from error
