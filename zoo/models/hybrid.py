"""Layer families combined: a ConvNet reads each image of a sequence, an LSTM reads the sequence.

A ConvNet turns one picture into a short list of features; an LSTM reads a
sequence one step at a time, keeping a memory. Put together, the ConvNet is
applied to every image of the sequence with the same weights (Keras's
``TimeDistributed`` wrapper), and the LSTM reads the resulting features in
order: many images in, one answer out (many-to-one). Video classification and
reading a line of handwriting are built this way.
"""

from __future__ import annotations

from zoo import _checks
from zoo.registry import Paper, register

# Each pooling halves the maps: a 28x28 digit survives 4.
MAX_BLOCKS = 4
MAX_STEPS = 1024


def convnet_lstm_size(input_shape, num_classes, filters, dense_units, lstm_units, bidirectional, **_):
    """``(parameters, values per example)`` of ``convnet_lstm`` with these arguments (exact parameters)."""
    steps, height, width, channels = input_shape
    parameters, values = 0, steps * height * width * channels
    for count in filters:
        parameters += (9 * channels + 1) * count
        values += steps * height * width * count
        height, width, channels = height // 2, width // 2, count
    parameters += (height * width * channels + 1) * dense_units
    directions = 2 if bidirectional else 1
    parameters += directions * 4 * (dense_units + lstm_units + 1) * lstm_units
    return parameters + (directions * lstm_units + 1) * num_classes, values + steps * (dense_units + 4 * lstm_units)


def search_space(hp) -> dict:
    return {
        "lstm_units": hp.Choice("lstm_units", [32, 64, 128], default=64),
        "dense_units": hp.Choice("dense_units", [32, 64, 128], default=64),
        "dropout": hp.Float("dropout", 0.0, 0.5, step=0.1, default=0.0),
    }


@register(
    "convnet_lstm",
    summary="ConvNet + LSTM: the same small ConvNet reads each image of a sequence, an LSTM reads the sequence.",
    task="image_sequence_classification",
    inputs="(batch, steps, height, width, channels) float32 pixels, scaled as in training (the recipe: [0, 1])",
    outputs="(batch, num_classes) softmax class probabilities",
    paper=Paper(
        title="Long-term recurrent convolutional networks for visual recognition and description",
        authors="Donahue, J., Hendricks, L. A., Guadarrama, S., Rohrbach, M., Venugopalan, S., Saenko, K., "
                "Darrell, T.",
        year=2015,
        arxiv="1411.4389",
    ),
    search_space=search_space,
    num_params=140060,
    default_dataset="mnist_5k",
    recipe="zoo.recipes.convnet_lstm",
)
def convnet_lstm(input_shape=(3, 28, 28, 1), num_classes=28, filters=(16, 32), dense_units=64, lstm_units=64,
                 bidirectional=False, dropout=0.0, activation="relu", name="convnet_lstm"):
    """A ConvNet applied to every image of a sequence (``TimeDistributed``), an LSTM over the results, a softmax.

    The image reader is ``[3x3 conv -> 2x2 max pool] x len(filters) -> flatten -> dense``,
    one set of weights for every step: the third image is read exactly as the first.
    The LSTM reads the ``dense_units`` features of each image in order and its last
    state feeds the softmax.

    Args:
        input_shape: ``(steps, height, width, channels)`` of one sequence, e.g.
            ``(3, 28, 28, 1)`` for three grey digits.
        num_classes: number of classes of the softmax output (>= 2); the recipe's
            sums of three digits take 28 values (0 to 27).
        filters: filters of each convolutional layer of the image reader, e.g. ``(16, 32)``.
        dense_units: features the image reader passes on for each image.
        lstm_units: size of the LSTM's memory.
        bidirectional: also read the sequence backwards (a ``Bidirectional`` LSTM).
        dropout: dropout rate before the softmax, in [0, 1).
        activation: Keras activation name of the image reader's layers.
        name: name of the returned model.

    Returns:
        An uncompiled ``keras.Model``; train with sparse categorical cross-entropy.
    """
    model = "convnet_lstm"
    input_shape = _checks.fixed_shape(model, "input_shape", input_shape, rank=4, example="(3, 28, 28, 1)")
    num_classes = _checks.integer(model, "num_classes", num_classes, minimum=2)
    filters = _checks.integers(model, "filters", filters, max_length=MAX_BLOCKS)
    dense_units = _checks.integer(model, "dense_units", dense_units, minimum=1)
    lstm_units = _checks.integer(model, "lstm_units", lstm_units, minimum=1)
    bidirectional = _checks.boolean(model, "bidirectional", bidirectional)
    dropout = _checks.fraction(model, "dropout", dropout)
    activation = _checks.activation(model, "activation", activation, rank=4)
    name = _checks.model_name(model, name)
    if input_shape[0] > MAX_STEPS:
        raise ValueError(f"{model}: input_shape={input_shape} has {input_shape[0]} images per sequence; at most "
                         f"{MAX_STEPS}, e.g. (3, 28, 28, 1).")
    smallest = 2 ** len(filters)
    if min(input_shape[1:3]) < smallest:
        raise ValueError(
            f"{model}: input_shape={input_shape} has images too small for {len(filters)} pooling layers (filters="
            f"{filters}): each halves the maps, so the sides must be at least {smallest}. Use fewer filters values "
            "or larger images.")
    _checks.size(model, convnet_lstm_size, dict(input_shape=input_shape, num_classes=num_classes, filters=filters,
                                                dense_units=dense_units, lstm_units=lstm_units,
                                                bidirectional=bidirectional))

    import keras
    from zoo.layers.core import classifier_head

    image = keras.Input(shape=input_shape[1:], name="image")
    x = image
    for index, count in enumerate(filters, start=1):
        x = keras.layers.Conv2D(count, 3, padding="same", activation=activation, name=f"conv_{index}")(x)
        x = keras.layers.MaxPooling2D(2, name=f"pool_{index}")(x)
    x = keras.layers.Flatten(name="flatten")(x)
    features = keras.layers.Dense(dense_units, activation=activation, name="features")(x)
    reader = keras.Model(image, features, name="image_reader")

    sequence = keras.Input(shape=input_shape, name="images")
    x = keras.layers.TimeDistributed(reader, name="read_each_image")(sequence)
    lstm = keras.layers.LSTM(lstm_units, name="lstm")
    x = (keras.layers.Bidirectional(lstm, name="bidirectional_lstm") if bidirectional else lstm)(x)
    return keras.Model(sequence, classifier_head(x, num_classes, dropout), name=name)


def image_reader(model):
    """The ConvNet that reads each image of ``model``'s sequences (shared by every step)."""
    return model.get_layer("read_each_image").layer
