"""Neural style transfer (Gatys et al., 2015): the loss network and the optimisation.

A pretrained VGG sees an image at several depths. Deep feature maps say
*what* is where (content); the Gram matrices of feature maps (which channels
fire together, wherever) describe texture and colour (style). Style transfer
starts from the content photo and changes its *pixels* by gradient descent
until its content features match the content photo and its Gram matrices
match the style photo.

``style_transfer`` builds the loss network; ``stylize`` runs the
optimisation with Keras's own ``fit``, so it works under every backend.
"""

from __future__ import annotations

import dataclasses

from zoo import _checks, weights as weights_lib
from zoo.models import vgg
from zoo.registry import Paper, register

CONTENT_LAYERS = ("block5_conv2",)
STYLE_LAYERS = ("block1_conv1", "block2_conv1", "block3_conv1", "block4_conv1", "block5_conv1")
CONTENT_PREFIX, STYLE_PREFIX = "content_", "style_"


def _check_layers(argument: str, layers, backbone: str) -> tuple[str, ...]:
    if isinstance(layers, str):
        layers = (layers,)
    if not isinstance(layers, (tuple, list)) or not layers:
        raise TypeError(
            f"style_transfer: {argument}={_checks.show(layers)} must be a non-empty list of layer names."
        )
    # dict.fromkeys: a layer named twice is one output, not two.
    return tuple(dict.fromkeys(_checks.choice("style_transfer", argument, layer, vgg.CONV_LAYERS[backbone])
                               for layer in layers))


def style_transfer_size(input_shape, content_layers, style_layers, backbone, **_):
    """``(parameters, values per example)``: the backbone's convolutions up to the deepest layer used."""
    deepest = max(content_layers + style_layers, key=vgg.depth)
    return vgg.conv_parameters(backbone, deepest), vgg.feature_map_values(input_shape)


def search_space(hp) -> dict:
    return {"content_layers": (hp.Choice("content_layer", ["block4_conv2", "block5_conv2"],
                                         default="block5_conv2"),)}


@register(
    "style_transfer",
    summary="Gatys et al. loss network: VGG content features and style Gram matrices of an image.",
    task="style_transfer",
    inputs="(batch, height, width, 3) raw RGB pixels in [0, 255]; any size >= 32x32",
    outputs="dict: 'content_<layer>' feature maps (batch, h, w, c) and 'style_<layer>' "
    "Gram matrices (batch, c, c)",
    paper=Paper(title="A neural algorithm of artistic style", authors="Gatys, L. A., Ecker, A. S., Bethge, M.",
                year=2015, arxiv="1508.06576"),
    loss="mean_squared_error",
    search_space=search_space,
    num_params=12354880,
    default_dataset="coffee, flower",  # the content photo, then the style photo
    recipe="zoo.recipes.style_transfer",
    weights=weights_lib.for_architectures(*vgg.ARCHITECTURES),
)
def style_transfer(input_shape=(None, None, 3), content_layers=CONTENT_LAYERS, style_layers=STYLE_LAYERS,
                   weights="imagenet", backbone="vgg16", name="style_transfer"):
    """The loss network: raw image -> content features and style Gram matrices.

    Args:
        input_shape: (height, width, 3); ``None`` height/width accept any size >= 32.
        content_layers: VGG conv layers whose feature maps define content.
        style_layers: VGG conv layers whose Gram matrices define style.
        weights: ``"imagenet"``, ``None`` (random; only for tests) or the path to
            a no-top ``.h5`` weights file of the backbone.
        backbone: ``"vgg16"`` or ``"vgg19"`` (the network Gatys et al. used).
        name: name of the returned model.

    Returns:
        An uncompiled, frozen ``keras.Model`` whose outputs are a dict keyed
        ``content_<layer>`` and ``style_<layer>``.
    """
    input_shape = vgg.check_image_shape("style_transfer", input_shape)
    backbone = _checks.choice("style_transfer", "backbone", backbone, vgg.ARCHITECTURES)
    content_layers = _check_layers("content_layers", content_layers, backbone)
    style_layers = _check_layers("style_layers", style_layers, backbone)
    name = _checks.model_name("style_transfer", name)
    _checks.size("style_transfer", style_transfer_size, dict(
        input_shape=input_shape, content_layers=content_layers, style_layers=style_layers, backbone=backbone))

    import keras
    from zoo.layers import GramMatrix, VGGPreprocessing

    inputs = keras.Input(shape=input_shape, name="image")
    preprocessed = VGGPreprocessing(name="preprocessing")(inputs)
    base = vgg.backbone("style_transfer", backbone, weights, input_tensor=preprocessed)
    # Outputs in float32 under any dtype policy, like the Gram matrices: the losses square differences of
    # feature values in the hundreds, which float16 would round (a linear Activation is a cast here).
    outputs = {CONTENT_PREFIX + layer: keras.layers.Activation("linear", dtype="float32", name=f"content_{layer}")(
        base.get_layer(layer).output) for layer in content_layers}
    for layer in style_layers:
        outputs[STYLE_PREFIX + layer] = GramMatrix(name=f"gram_{layer}")(base.get_layer(layer).output)
    model = keras.Model(inputs, outputs, name=name)
    model.trainable = False
    return model


def content_loss(features, target):
    """Mean squared difference of feature maps: does the image show the same things?"""
    from keras import ops

    return ops.mean(ops.square(ops.cast(features, "float32") - ops.cast(target, "float32")))


def style_loss(gram, target_gram):
    """Mean squared difference of Gram matrices: does the image have the same texture?"""
    return content_loss(gram, target_gram)


def total_variation_loss(image):
    """Mean absolute difference between neighbouring pixels: how noisy is the image?"""
    from keras import ops
    from zoo.layers import TotalVariation

    return ops.mean(TotalVariation()(ops.cast(image, "float32")))


@dataclasses.dataclass
class Stylized:
    """Result of ``stylize``: the image (H, W, 3) float32 in [0, 255] and the losses."""

    image: object
    initial_losses: dict
    final_losses: dict
    history: dict


def style_transfer_losses(loss_network, image, targets, content_weight=1.0, style_weight=1e-4,
                          total_variation_weight=1.0) -> dict:
    """The weighted content, style, total-variation and total loss of ``image`` (1, H, W, 3).

    ``targets`` is the dict the loss network returned for the content photo
    (its ``content_*`` entries) and the style photo (its ``style_*`` entries).
    Content and style losses are averaged over their layers.
    """
    from keras import ops

    outputs = loss_network(ops.convert_to_tensor(image, "float32"))
    content_keys = [key for key in outputs if key.startswith(CONTENT_PREFIX)]
    style_keys = [key for key in outputs if key.startswith(STYLE_PREFIX)]
    losses = {
        "content": content_weight * sum(content_loss(outputs[k], targets[k]) for k in content_keys)
        / len(content_keys),
        "style": style_weight * sum(style_loss(outputs[k], targets[k]) for k in style_keys) / len(style_keys),
        "total_variation": total_variation_weight * total_variation_loss(image),
    }
    losses["total"] = losses["content"] + losses["style"] + losses["total_variation"]
    return {key: float(ops.convert_to_numpy(value)) for key, value in losses.items()}


def stylize(content_image, style_image, loss_network=None, *, steps=200, learning_rate=5.0,
            content_weight=1.0, style_weight=1e-4, total_variation_weight=1.0, callbacks=None,
            verbose=0, jit_compile="auto") -> Stylized:
    """Paint ``content_image`` in the style of ``style_image`` by optimising its pixels.

    The pixels live in a trainable ``ImageCanvas`` layer in front of the frozen
    loss network, and Keras's ``fit`` with Adam minimises
    ``content_weight * content + style_weight * style + total_variation_weight * tv``
    (one optimizer step per epoch, so ``history`` has one loss per step).

    Args:
        content_image: (H, W, 3) RGB array in [0, 255]; the starting point.
        style_image: (h, w, 3) RGB array in [0, 255]; any size the loss network accepts.
        loss_network: a model from ``zoo.get("style_transfer", ...)``;
            default: the ImageNet-weighted one.
        steps: optimizer steps (>= 1).
        learning_rate: Adam step size, in pixel units.
        content_weight, style_weight, total_variation_weight: the loss mix (>= 0).
        jit_compile: ``Model.compile``'s: compile the step with XLA (True), not (False), or Keras's choice.
        callbacks: extra Keras callbacks for ``fit``; ``self.model.get_layer("canvas").image`` is the
            image being painted.
        verbose: ``fit`` verbosity.
    """
    import numpy as np

    for argument, value in (("content_image", content_image), ("style_image", style_image)):
        array = np.asarray(value)
        if array.ndim != 3 or array.shape[-1] != 3:
            raise ValueError(f"stylize: {argument} has shape {array.shape}; pass one RGB image (H, W, 3).")
    steps = _checks.integer("stylize", "steps", steps)
    learning_rate = _checks.number("stylize", "learning_rate", learning_rate)
    content_weight = _checks.number("stylize", "content_weight", content_weight)
    style_weight = _checks.number("stylize", "style_weight", style_weight)
    total_variation_weight = _checks.number("stylize", "total_variation_weight", total_variation_weight)
    if not any(jit_compile is allowed for allowed in (True, False)) and jit_compile != "auto":
        raise ValueError(f"stylize: jit_compile={jit_compile!r} must be True, False or 'auto'.")

    import keras
    from zoo.layers import ImageCanvas, TotalVariation

    content = np.asarray(content_image, dtype="float32")[None]
    style = np.asarray(style_image, dtype="float32")[None]
    if loss_network is None:
        loss_network = style_transfer()
    loss_network.trainable = False
    targets = {key: value for key, value in loss_network.predict(content, verbose=0).items()
               if key.startswith(CONTENT_PREFIX)}
    targets.update({key: value for key, value in loss_network.predict(style, verbose=0).items()
                    if key.startswith(STYLE_PREFIX)})
    weights = dict(content_weight=content_weight, style_weight=style_weight,
                   total_variation_weight=total_variation_weight)
    initial_losses = style_transfer_losses(loss_network, content, targets, **weights)

    canvas = ImageCanvas(content.shape[1:], name="canvas")
    step_input = keras.Input(shape=(1,), name="step")
    image = canvas(step_input)
    outputs = dict(loss_network(image))
    outputs["total_variation"] = TotalVariation(name="total_variation")(image)
    painter = keras.Model(step_input, outputs, name="style_transfer_painter")
    canvas.image.assign(content)

    content_keys = [key for key in outputs if key.startswith(CONTENT_PREFIX)]
    style_keys = [key for key in outputs if key.startswith(STYLE_PREFIX)]
    loss_weights = {key: content_weight / len(content_keys) for key in content_keys}
    loss_weights.update({key: style_weight / len(style_keys) for key in style_keys})
    loss_weights["total_variation"] = total_variation_weight
    # TotalVariation is >= 0, so its mean absolute error against 0 is the penalty itself.
    losses = {key: "mean_absolute_error" if key == "total_variation" else "mean_squared_error"
              for key in outputs}
    painter.compile(optimizer=keras.optimizers.Adam(learning_rate), loss=losses, loss_weights=loss_weights,
                    jit_compile=jit_compile)
    batch = (np.zeros((1, 1), "float32"), {**targets, "total_variation": np.zeros((1,), "float32")})

    def every_step():  # the same batch, forever: fit takes one per epoch
        while True:
            yield batch

    # From arrays, fit would rebuild its input pipeline every epoch and copy the targets every
    # step: a fifth of a 256-pixel step on a CPU (benchmarks/results/speed.json, style_transfer).
    history = painter.fit(every_step(), steps_per_epoch=1, epochs=steps, shuffle=False, callbacks=callbacks,
                          verbose=verbose)
    result = keras.ops.convert_to_numpy(canvas.image)
    return Stylized(
        image=result[0],
        initial_losses=initial_losses,
        final_losses=style_transfer_losses(loss_network, result, targets, **weights),
        history=history.history,
    )
