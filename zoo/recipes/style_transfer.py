"""Recipe: neural style transfer — paint one photo in the style of another.

    python -m zoo.recipes.style_transfer                               # bundled photos, packaged VGG16 weights, offline
    python -m zoo.recipes.style_transfer --quick                       # a few steps on small images
    python -m zoo.recipes.style_transfer --content my.jpg --style painting.jpg --weights imagenet
    python -m zoo.recipes.style_transfer --style-weight 1e-3 --epochs 400

The story (Gatys et al., 2015): a pretrained VGG's layers describe an image at
two levels. Deep feature maps say *what* is where: the content. Correlations
between feature maps (Gram matrices), at several depths, say which textures
and colours go together regardless of where: the style. Start from the
content photo and let Adam change its pixels so that its content features stay
those of the content photo while its Gram matrices move towards the style
photo's. No network weights change; the image is what is trained.

Defaults: content is scikit-image's coffee cup, style scikit-learn's flower photo, both
bundled. The loss network is VGG16 with the packaged HED weights
(weights="hed_bsds500", offline; VGG16 conv layers fine-tuned from ImageNet).
Writes stylized.png, content.png, style.png, results.json (the losses before
and after), history.csv and curves.png to --out.
"""

from __future__ import annotations

from zoo import model_card

# Flags and their defaults, with the reason beside each.
CONTENT = "coffee"         # a bundled photo (zoo.data.PHOTOS) or a file
STYLE = "flower"
WEIGHTS = "hed_bsds500"    # offline; "imagenet" online
MAX_SIDE = 256             # pixels of the longer side: a few minutes on a laptop CPU
EPOCHS = 200               # optimizer steps on the pixels (one step per epoch)
LEARNING_RATE = 5.0        # Adam, in pixel units (0-255)
CONTENT_WEIGHT = 1.0
STYLE_WEIGHT = 1e-4
TOTAL_VARIATION_WEIGHT = 1.0
SEED = 0
QUICK_EPOCHS = 5
QUICK_MAX_SIDE = 64
JIT_COMPILE = "auto"   # Keras's choice, XLA off on CPUs: 0.84x per step here (benchmarks/results/xla.json)
# What the trained model is for and where it stops being trustworthy: its model card (zoo.model_card).
USE = model_card.Use(
    intended_use=("A demonstration of Gatys et al.'s style transfer: one photo's pixels are optimised to keep "
                  "its content features while taking on another photo's style statistics."),
    limits=(
        "There is no trained model to reuse: the result is one picture, and each new pair of pictures needs "
        "its own optimisation, minutes of it on a CPU.",
        "The loss network's VGG16 weights are an edge detector's (hed_bsds500), not the ImageNet classifier of"
        " the paper, so the features it matches, and the look of the result, differ from the paper's.",
        "Both photos are shrunk so that their longer side is at most 256 pixels.",
    ),
    written_for={"weights": "hed_bsds500", "max_side": 256},   # the flag values this text describes
)


def parse_args(argv=None):
    from zoo import command, data
    from zoo.weights import NAMED

    parser = command.recipe_parser("style_transfer", __doc__, command.Defaults(
        epochs=EPOCHS, batch_size=None, learning_rate=LEARNING_RATE, seed=SEED, tunable=False, distributable=False,
        quick={"epochs": QUICK_EPOCHS, "max_side": QUICK_MAX_SIDE}, epochs_help="optimizer steps on the image's pixels",
        jit_compile=JIT_COMPILE))
    photo = command.name_or_file("--content", data.PHOTOS, "a bundled photo")
    parser.add_argument("--content", default=CONTENT, type=photo,
                        help=f"content photo: {', '.join(data.PHOTOS)} or a file (default: %(default)s)")
    parser.add_argument("--style", default=STYLE, type=command.name_or_file("--style", data.PHOTOS, "a bundled photo"),
                        help="style photo, same choices (default: %(default)s)")
    parser.add_argument("--weights", default=WEIGHTS, type=command.name_or_file("--weights", NAMED, "named weights"),
                        help="loss network weights: hed_bsds500 (offline), imagenet, or a .h5 path")
    parser.add_argument("--max-side", type=command.integer("--max-side", 32, 4096), default=MAX_SIDE,
                        help="longer side of the images, in pixels; VGG pools five times (default: %(default)s)")
    for flag, default, about in (("--content-weight", CONTENT_WEIGHT, "weight of the content loss"),
                                 ("--style-weight", STYLE_WEIGHT, "weight of the style loss"),
                                 ("--total-variation-weight", TOTAL_VARIATION_WEIGHT,
                                  "penalty on neighbouring-pixel differences: against speckle")):
        parser.add_argument(flag, type=command.number(flag, 0, 1e12), default=default,
                            help=f"{about} (default: %(default)s)")
    return command.parse(parser, argv)


def plain_loop(content, style, loss_network, args) -> dict:
    """The baseline: the same optimisation as a hand-written loop (tf.GradientTape, Adam, pixels clipped).

    What Keras's ``fit`` costs or saves against the loop a tutorial writes: the loss
    reached and the seconds per step, on the same images, weights and steps.
    """
    import time

    import keras
    import tensorflow as tf

    from zoo.models.style_transfer import (CONTENT_PREFIX, STYLE_PREFIX, content_loss, style_loss,
                                           style_transfer_losses, total_variation_loss)

    targets = {key: value for key, value in loss_network.predict(content[None], verbose=0).items()
               if key.startswith(CONTENT_PREFIX)}
    targets.update({key: value for key, value in loss_network.predict(style[None], verbose=0).items()
                    if key.startswith(STYLE_PREFIX)})
    image = tf.Variable(content[None].astype("float32"))
    optimizer = keras.optimizers.Adam(args.learning_rate)
    mean = lambda values: tf.add_n(values) / len(values)  # noqa: E731

    @tf.function
    def step():
        with tf.GradientTape() as tape:
            outputs = loss_network(image)
            loss = (args.content_weight * mean([content_loss(outputs[k], t) for k, t in targets.items()
                                                if k.startswith(CONTENT_PREFIX)])
                    + args.style_weight * mean([style_loss(outputs[k], t) for k, t in targets.items()
                                                if k.startswith(STYLE_PREFIX)])
                    + args.total_variation_weight * total_variation_loss(image))
        optimizer.apply_gradients([(tape.gradient(loss, image), image)])
        image.assign(tf.clip_by_value(image, 0.0, 255.0))  # the canvas's pixel range

    started = time.perf_counter()
    for _ in range(args.epochs):
        step()
    seconds = (time.perf_counter() - started) / args.epochs
    final = style_transfer_losses(loss_network, image.numpy(), targets, content_weight=args.content_weight,
                                  style_weight=args.style_weight,
                                  total_variation_weight=args.total_variation_weight)["total"]
    return {"name": "plain loop (tf.GradientTape + Adam)", "total_loss": round(final, 2),
            "seconds_per_step": round(seconds, 4), "steps": args.epochs,
            "headline": f"plain loop (tf.GradientTape + Adam): total loss {final:.4g} after {args.epochs} steps, "
                        f"{seconds:.3f} s per step (compiling included)"}


def main(argv=None):
    args = parse_args(argv)
    from PIL import Image

    import zoo
    from zoo import command, data
    from zoo.files import atomic_path
    from zoo.models.style_transfer import stylize
    from zoo.runs import Run

    with Run("style_transfer", args) as run:
        # The two photos, shrunk so the longer side is --max-side.
        content = data.image(args.content, max_side=args.max_side)
        style = data.image(args.style, max_side=args.max_side)

        # The loss network: VGG16 feature maps for content, Gram matrices for style.
        loss_network = zoo.get("style_transfer", weights=args.weights)
        # Optimise the pixels with Keras's fit: one step per epoch, checkpointed like any training.
        fitted = run.train(lambda callbacks: stylize(
            content, style, loss_network, steps=args.epochs, learning_rate=args.learning_rate,
            content_weight=args.content_weight, style_weight=args.style_weight,
            total_variation_weight=args.total_variation_weight, callbacks=callbacks,
            jit_compile=command.jit_compile(args)))
        painted = fitted.value

        for name, picture in (("content", content), ("style", style), ("stylized", painted.image)):
            with atomic_path(run.folder / f"{name}.png") as partial:
                Image.fromarray(picture.clip(0, 255).astype("uint8")).save(partial, format="PNG")
        before, after = painted.initial_losses, painted.final_losses
        fall = 1 - after["total"] / before["total"] if before["total"] else 0.0
        run.finish({"total_loss_fall": round(fall, 4), "initial_losses": {k: round(v, 2) for k, v in before.items()},
                    "final_losses": {k: round(v, 2) for k, v in after.items()},
                    "seconds_per_step": round(fitted.seconds / args.epochs, 4)},
                   baseline=plain_loop(content, style, loss_network, args), use=USE,
                   headline=f"total loss {before['total']:.4g} -> {after['total']:.4g} ({fall:.1%} lower), "
                            f"{fitted.seconds / args.epochs:.3f} s per step",
                   data={"content": args.content, "style": args.style, "content_shape": list(content.shape),
                         "style_shape": list(style.shape)},
                   images={"content": "content.png", "style": "style.png", "stylized": "stylized.png"})
    return painted


if __name__ == "__main__":
    from zoo.command import run_main

    raise SystemExit(run_main(main))
