"""Layers for the VGG-based models: preprocessing, Gram matrices, an image to optimise."""

import keras
from keras import ops

# ImageNet channel means in BGR order, as used to train the original VGG
# ("caffe" preprocessing in keras.applications.vgg16.preprocess_input).
IMAGENET_BGR_MEAN = (103.939, 116.779, 123.68)


@keras.saving.register_keras_serializable(package="zoo")
class VGGPreprocessing(keras.layers.Layer):
    """Raw RGB pixels in [0, 255] -> the BGR, mean-centred input VGG was trained on.

    Doing this inside the model means a saved model scores raw images, with no
    preprocessing function to remember at inference time.
    """

    def call(self, inputs):
        inputs = ops.cast(inputs, self.compute_dtype)
        bgr = ops.flip(inputs, axis=-1)
        return bgr - ops.convert_to_tensor(IMAGENET_BGR_MEAN, dtype=self.compute_dtype)

    def compute_output_shape(self, input_shape):
        return input_shape


@keras.saving.register_keras_serializable(package="zoo")
class GramMatrix(keras.layers.Layer):
    """Feature maps (batch, H, W, C) -> Gram matrices (batch, C, C) / (H * W).

    Entry (i, j) is how strongly channels i and j fire together, averaged over
    positions: a summary of texture and colour that forgets where things are.
    Gatys et al. (2015) use it as the definition of an image's "style".

    Always computes and returns float32, whatever the dtype policy: a Gram entry
    sums H * W products of activations, and VGG's activations reach the hundreds,
    so in float16 (largest value 65504) the sums overflow to inf even on a 32x32
    image. Its style loss is computed in float32 anyway.
    """

    def call(self, features):
        features = ops.cast(features, "float32")
        positions = ops.cast(ops.shape(features)[1] * ops.shape(features)[2], "float32")
        return ops.einsum("bijc,bijd->bcd", features, features) / positions

    def compute_output_shape(self, input_shape):
        return (input_shape[0], input_shape[-1], input_shape[-1])

    def compute_output_spec(self, features):
        # Keras would announce the compute dtype (float16 under mixed precision); say float32, as call does.
        return keras.KerasTensor(self.compute_output_shape(features.shape), dtype="float32")


@keras.saving.register_keras_serializable(package="zoo")
class TotalVariation(keras.layers.Layer):
    """Per-image mean absolute difference between neighbouring pixels.

    Used as a smoothness penalty when optimising an image: it discourages
    the high-frequency noise that gradient steps on pixels tend to add.
    """

    def call(self, images):
        images = ops.cast(images, self.compute_dtype)  # integer images too: uint8 differences would wrap
        down = ops.abs(images[:, 1:, :, :] - images[:, :-1, :, :])
        right = ops.abs(images[:, :, 1:, :] - images[:, :, :-1, :])
        return ops.mean(down, axis=(1, 2, 3)) + ops.mean(right, axis=(1, 2, 3))

    def compute_output_shape(self, input_shape):
        return (input_shape[0],)


@keras.saving.register_keras_serializable(package="zoo")
class _PixelRange(keras.constraints.Constraint):
    """Keeps optimised pixels inside [0, 255] after every optimizer step."""

    def __call__(self, w):
        return ops.clip(w, 0.0, 255.0)


@keras.saving.register_keras_serializable(package="zoo")
class ImageCanvas(keras.layers.Layer):
    """An image held as a trainable weight; ignores its input and returns the image.

    Lets Keras's own ``fit`` optimise pixels (style transfer): the optimizer
    updates the canvas instead of network weights, under any backend.

    Args:
        shape: (height, width, channels) of the image.
    """

    def __init__(self, shape, **kwargs):
        super().__init__(**kwargs)
        self.shape = tuple(int(d) for d in shape)

    def build(self, input_shape):
        self.image = self.add_weight(
            name="image",
            shape=(1,) + self.shape,
            initializer=keras.initializers.Constant(127.5),
            constraint=_PixelRange(),
        )

    def call(self, inputs):
        # The pixels stay float32 (the optimizer's precision); the output follows the policy.
        return ops.cast(self.image, self.compute_dtype)

    def compute_output_shape(self, input_shape):
        return (1,) + self.shape

    def get_config(self):
        return {**super().get_config(), "shape": self.shape}
