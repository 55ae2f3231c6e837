"""Benchmark: how fast every zoo entry trains here, against a plain-Keras twin and against the machine.

    python benchmarks/speed.py                      # every entry; writes benchmarks/results/speed.json
    python benchmarks/speed.py mlp lstm_sentiment   # some entries (the others keep their committed rows)
    python benchmarks/speed.py --quick              # tiny sizes, few steps: a smoke test (CI); writes nothing
                                                    # unless --out is given

For each entry, at the size its recipe trains (batch, input and model arguments):

* **twin ratio**: training samples per second of the zoo model over those of a
  *plain-Keras twin*, the same network written with stock ``keras.layers`` as a
  Keras tutorial would (same parameters, same FLOPs), timed in the same run,
  alternating, after a warm-up. Target: >= 0.95 (the zoo costs nothing).
  Each variant's speed is its fastest timed epoch (a "round"), because other work
  on a shared machine only ever adds time. On the 2-core machine here, medians moved
  by 5-10% from one run to the next.
* **% of peak**: the FLOPs of a training step (``machine.training_flops``: matrix
  products and convolutions) times the steps per second, over the float32
  matrix-product peak ``machine.matmul_peak`` measures in the same run.
  Targets on a CPU: the conv networks >= 60%, the LSTM and attention >= 25%.
* **precision**: the zoo model under ``mixed_bfloat16`` against float32.
  Target: >= 2x where the CPU has bfloat16 matrix units (AMX); otherwise the
  JSON says the CPU has none.
* **XLA**: ``jit_compile=True`` against Keras's default on this backend.

style_transfer trains pixels, not weights: its "samples" are optimizer steps on
one image (``stylize``, Keras's ``fit``), its twin the plain ``tf.GradientTape``
loop of its recipe's baseline, and a step costs a forward pass and the gradient
with respect to the input (two passes, not three).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import machine  # benchmarks/, beside this script

RESULTS = Path(__file__).resolve().parent / "results"
TARGETS = {"twin_ratio": 0.95, "conv_fraction_of_peak": 0.60, "sequence_fraction_of_peak": 0.25,
           "bfloat16_speedup_with_matrix_units": 2.0}
CONV = ("convnet", "convnet_1d", "inception", "convnet_lstm", "vgg16_transfer", "style_transfer")
SEQUENCE = ("lstm_sentiment", "mini_transformer", "mini_gpt", "attention_seq2seq", "mini_bert")
VARIANTS = ("zoo", "twin", "zoo_jit", "zoo_bfloat16")
SEED = 0

# The recipes' own sizes (results/*/results.json flags) and how many steps make one timed round.
SIZES = {
    "full": {
        "perceptron": {"arguments": {"input_shape": (30,), "activation": "sigmoid"}, "batch": 32, "steps": 400},
        "mlp": {"arguments": {"input_shape": (64,), "num_classes": 10, "hidden_units": (256, 256), "dropout": 0.3},
                "batch": 32, "steps": 300},
        "convnet": {"arguments": {"input_shape": (28, 28, 1), "num_classes": 10, "dropout": 0.3}, "batch": 32,
                    "steps": 100},
        "convnet_1d": {"arguments": {"input_shape": (150,), "num_classes": 2}, "batch": 16, "steps": 300},
        "inception": {"arguments": {"input_shape": (28, 28, 1), "num_classes": 10}, "batch": 32,
                      "steps": 100},
        "convnet_lstm": {"arguments": {"input_shape": (3, 28, 28, 1), "num_classes": 28}, "batch": 32, "steps": 60},
        "lstm_sentiment": {"arguments": {"vocab_size": 20000, "num_classes": 2}, "length": 48, "batch": 32,
                           "steps": 60},
        "mini_transformer": {"arguments": {"vocab_size": 20000, "sequence_length": 48, "num_classes": 2},
                             "length": 48, "batch": 32, "steps": 60},
        "mini_gpt": {"arguments": {"vocab_size": 67, "sequence_length": 128}, "length": 128, "batch": 32, "steps": 20},
        "mini_bert": {"arguments": {"vocab_size": 20001, "sequence_length": 48, "max_predictions": 8,
                                    "predicted_tokens": 5000}, "length": 48, "batch": 64, "steps": 30},
        "attention_seq2seq": {"arguments": {"source_vocab": 68, "target_vocab": 11}, "length": 32, "batch": 64,
                              "steps": 60},
        "vgg16_transfer": {"arguments": {"input_shape": (32, 32, 3), "num_classes": 10, "weights": None,
                                         "feature_layer": "block4_pool", "pooling": "flatten",
                                         "fine_tune_layers": 10}, "batch": 32, "steps": 8},
        "style_transfer": {"arguments": {"input_shape": (256, 256, 3), "weights": None}, "steps": 4},
    },
    "quick": {
        "perceptron": {"arguments": {"input_shape": (30,), "activation": "sigmoid"}, "batch": 8, "steps": 3},
        "mlp": {"arguments": {"input_shape": (64,), "num_classes": 10, "hidden_units": (16,), "dropout": 0.3},
                "batch": 8, "steps": 3},
        "convnet": {"arguments": {"input_shape": (8, 8, 1), "num_classes": 3, "filters": (4,), "dense_units": 8},
                    "batch": 8, "steps": 3},
        "convnet_1d": {"arguments": {"input_shape": (12,), "num_classes": 2, "filters": (4, 4), "kernel_sizes": (3, 3)},
                       "batch": 8, "steps": 3},
        "inception": {"arguments": {"input_shape": (8, 8, 1), "num_classes": 3, "stem_filters": 4, "stages": (1, 1),
                                    "width": 16}, "batch": 8, "steps": 3},
        "convnet_lstm": {"arguments": {"input_shape": (2, 8, 8, 1), "num_classes": 3, "filters": (4,), "dense_units": 8,
                                       "lstm_units": 8}, "batch": 8, "steps": 3},
        "lstm_sentiment": {"arguments": {"vocab_size": 50, "num_classes": 2, "embedding_dim": 8, "lstm_units": 8},
                           "length": 6, "batch": 8, "steps": 3},
        "mini_transformer": {"arguments": {"vocab_size": 50, "sequence_length": 6, "num_classes": 2, "embed_dim": 8,
                                           "num_heads": 2, "ff_dim": 8}, "length": 6, "batch": 8, "steps": 3},
        "mini_gpt": {"arguments": {"vocab_size": 20, "sequence_length": 6, "embed_dim": 8, "num_heads": 2, "ff_dim": 8,
                                   "num_layers": 1}, "length": 6, "batch": 8, "steps": 3},
        "attention_seq2seq": {"arguments": {"source_vocab": 20, "target_vocab": 5, "target_length": 3,
                                            "embedding_dim": 4, "encoder_units": 4, "decoder_units": 8,
                                            "attention_units": 4}, "length": 6, "batch": 8, "steps": 3},
        "mini_bert": {"arguments": {"vocab_size": 50, "sequence_length": 6, "embed_dim": 8, "num_heads": 2, "ff_dim": 8,
                                    "max_predictions": 2}, "length": 6, "batch": 8, "steps": 3},
        "vgg16_transfer": {"arguments": {"input_shape": (32, 32, 3), "num_classes": 3, "weights": None,
                                         "feature_layer": "block1_pool", "pooling": "flatten",
                                         "fine_tune_layers": 2}, "batch": 4, "steps": 2},
        "style_transfer": {"arguments": {"input_shape": (32, 32, 3), "weights": None,
                                         "content_layers": ("block1_conv2",), "style_layers": ("block1_conv1",)},
                           "steps": 2},
    },
}


# ----------------------------------------------------------------------------- the twins

def twin(name: str, arguments: dict):
    """The plain-Keras network ``zoo.get(name, **arguments)`` builds, written with stock layers only."""
    import keras
    from keras import layers

    def head(x, classes, dropout=0.0):
        x = layers.Dropout(dropout)(x) if dropout else x
        return layers.Dense(classes, activation="softmax", dtype="float32")(x)

    if name == "perceptron":
        inputs = keras.Input(arguments["input_shape"])
        outputs = layers.Activation(arguments["activation"], dtype="float32")(layers.Dense(1)(inputs))
    elif name == "mlp":
        inputs = keras.Input(arguments["input_shape"])
        x = inputs
        for units in arguments["hidden_units"]:
            x = layers.Dropout(arguments["dropout"])(layers.Dense(units, activation="relu")(x))
        outputs = head(x, arguments["num_classes"])
    elif name == "convnet":
        import zoo

        arguments = {**zoo.info("convnet").defaults, **arguments}
        inputs = keras.Input(arguments["input_shape"])
        x = inputs
        for count in arguments["filters"]:
            x = layers.MaxPooling2D(2)(layers.Conv2D(count, 3, padding="same", activation="relu")(x))
        x = layers.Flatten()(x)
        units = arguments["dense_units"]
        outputs = head(layers.Dense(units, activation="relu")(x) if units else x, arguments["num_classes"],
                       arguments["dropout"])
    elif name == "convnet_1d":
        import zoo

        arguments = {**zoo.info("convnet_1d").defaults, **arguments}
        inputs = keras.Input(arguments["input_shape"])
        x = layers.Reshape((arguments["input_shape"][0], 1))(inputs)
        for count, kernel in zip(arguments["filters"], arguments["kernel_sizes"]):
            x = layers.Conv1D(count, kernel, padding="same", use_bias=False)(x)
            x = layers.Activation("relu")(layers.BatchNormalization(momentum=0.9)(x))
        outputs = head(layers.GlobalAveragePooling1D()(x), arguments["num_classes"])
    elif name == "inception":
        import zoo

        arguments = {**zoo.info("inception").defaults, **arguments}

        def conv(x, filters, size):
            return layers.Conv2D(filters, size, padding="same", activation="relu")(x)

        inputs = keras.Input(arguments["input_shape"])
        x = layers.MaxPooling2D(3, strides=2, padding="same")(conv(inputs, arguments["stem_filters"], 3))
        for stage, modules in enumerate(arguments["stages"]):
            x = layers.MaxPooling2D(3, strides=2, padding="same")(x) if stage else x
            width = arguments["width"] * 2**stage
            for _ in range(modules):   # GoogLeNet's split: 1/4 1x1, 1/2 3x3, 1/8 5x5, 1/8 pooling
                x = layers.Concatenate()([
                    conv(x, width // 4, 1), conv(conv(x, 3 * width // 8, 1), width // 2, 3),
                    conv(conv(x, width // 16, 1), width // 8, 5),
                    conv(layers.MaxPooling2D(3, strides=1, padding="same")(x), width // 8, 1)])
        outputs = head(layers.GlobalAveragePooling2D()(x), arguments["num_classes"], arguments["dropout"])
    elif name == "convnet_lstm":
        import zoo

        arguments = {**zoo.info("convnet_lstm").defaults, **arguments}
        reader = keras.Sequential([keras.Input(arguments["input_shape"][1:])])
        for count in arguments["filters"]:
            reader.add(layers.Conv2D(count, 3, padding="same", activation="relu"))
            reader.add(layers.MaxPooling2D(2))
        reader.add(layers.Flatten())
        reader.add(layers.Dense(arguments["dense_units"], activation="relu"))
        inputs = keras.Input(arguments["input_shape"])
        x = layers.LSTM(arguments["lstm_units"])(layers.TimeDistributed(reader)(inputs))
        outputs = head(x, arguments["num_classes"], arguments["dropout"])
    elif name == "mini_gpt":
        import zoo

        arguments = {**zoo.info("mini_gpt").defaults, **arguments}
        length, width, heads = arguments["sequence_length"], arguments["embed_dim"], arguments["num_heads"]
        inputs = keras.Input((length,), dtype="int32")
        positions = keras.ops.cumsum(keras.ops.ones_like(inputs), axis=1) - 1  # 0, 1, ... per row
        x = layers.Embedding(arguments["vocab_size"], width)(inputs) + layers.Embedding(length, width)(positions)
        for _ in range(arguments["num_layers"]):
            attended = layers.MultiHeadAttention(heads, width // heads)(x, x, use_causal_mask=True)
            x = layers.LayerNormalization(epsilon=1e-6)(x + layers.Dropout(arguments["dropout"])(attended))
            feed_forward = layers.Dense(width)(layers.Dense(arguments["ff_dim"], activation="relu")(x))
            x = layers.LayerNormalization(epsilon=1e-6)(x + layers.Dropout(arguments["dropout"])(feed_forward))
        outputs = layers.Dense(arguments["vocab_size"], activation="softmax", dtype="float32")(x)
    elif name == "attention_seq2seq":
        import zoo

        arguments = {**zoo.info("attention_seq2seq").defaults, **arguments}
        units, steps = arguments["decoder_units"], arguments["target_length"]
        inputs = keras.Input((None,), dtype="int32")
        x = layers.Embedding(arguments["source_vocab"], arguments["embedding_dim"], mask_zero=True)(inputs)
        encoded = layers.Bidirectional(layers.LSTM(arguments["encoder_units"], return_sequences=True))(x)
        real = keras.ops.not_equal(inputs, 0)
        last = keras.ops.sum(keras.ops.cast(real, "int32"), axis=1) - 1   # the last real position
        half = arguments["encoder_units"]
        forward = keras.ops.take_along_axis(encoded[..., :half], keras.ops.reshape(last, (-1, 1, 1)), axis=1)
        summary = keras.ops.concatenate([forward[:, 0], encoded[:, 0, half:]], axis=-1)
        state = [layers.Dense(units, activation="tanh")(summary)]
        state.append(keras.ops.zeros_like(state[0]))
        keys = layers.Dense(arguments["attention_units"], use_bias=False)(encoded)
        query, score = layers.Dense(arguments["attention_units"]), layers.Dense(1, use_bias=False)
        cell, outputs = layers.LSTMCell(units), []
        for _ in range(steps):   # the same layers at every output step
            scores = keras.ops.squeeze(score(keras.ops.tanh(keys + keras.ops.expand_dims(query(state[0]), 1))), -1)
            weights = keras.ops.softmax(keras.ops.where(real, scores, -1e9), axis=-1)
            context = keras.ops.sum(keras.ops.expand_dims(weights, -1) * encoded, axis=1)
            output, state = cell(context, state)
            outputs.append(output)
        outputs = head(keras.ops.stack(outputs, axis=1), arguments["target_vocab"])
    elif name == "lstm_sentiment":
        inputs = keras.Input((None,), dtype="int32")
        x = layers.Embedding(arguments["vocab_size"], arguments.get("embedding_dim", 64), mask_zero=True)(inputs)
        outputs = head(layers.LSTM(arguments.get("lstm_units", 64))(x), arguments["num_classes"])
    elif name == "mini_transformer":
        length, width = arguments["sequence_length"], arguments.get("embed_dim", 64)
        heads, hidden = arguments.get("num_heads", 2), arguments.get("ff_dim", 128)
        inputs = keras.Input((length,), dtype="int32")
        positions = keras.ops.cumsum(keras.ops.ones_like(inputs), axis=1) - 1  # 0, 1, ... per row
        x = layers.Embedding(arguments["vocab_size"], width)(inputs) + layers.Embedding(length, width)(positions)
        mask = keras.ops.not_equal(inputs, 0)
        attended = layers.MultiHeadAttention(heads, width // heads)(x, x, attention_mask=mask[:, None, :])
        x = layers.LayerNormalization(epsilon=1e-6)(x + layers.Dropout(0.1)(attended))
        feed_forward = layers.Dense(width)(layers.Dense(hidden, activation="relu")(x))
        x = layers.LayerNormalization(epsilon=1e-6)(x + layers.Dropout(0.1)(feed_forward))
        outputs = head(layers.GlobalAveragePooling1D()(x, mask=mask), arguments["num_classes"], 0.1)
    elif name == "mini_bert":
        import zoo

        arguments = {**zoo.info("mini_bert").defaults, **arguments}
        length, width, heads = arguments["sequence_length"], arguments["embed_dim"], arguments["num_heads"]
        vocab, hidden = arguments["vocab_size"], arguments["max_predictions"]
        mask_id = vocab - 1 if arguments["mask_id"] is None else arguments["mask_id"]
        inputs = keras.Input((length,), dtype="int32")
        positions = keras.ops.cumsum(keras.ops.ones_like(inputs), axis=1) - 1  # 0, 1, ... per row
        x = layers.Embedding(vocab, width)(inputs) + layers.Embedding(length, width)(positions)
        mask = keras.ops.not_equal(inputs, 0)
        for _ in range(arguments["num_layers"]):
            attended = layers.MultiHeadAttention(heads, width // heads)(x, x, attention_mask=mask[:, None, :])
            x = layers.LayerNormalization(epsilon=1e-6)(x + layers.Dropout(arguments["dropout"])(attended))
            feed_forward = layers.Dense(width)(layers.Dense(arguments["ff_dim"], activation="relu")(x))
            x = layers.LayerNormalization(epsilon=1e-6)(x + layers.Dropout(arguments["dropout"])(feed_forward))
        # The first `hidden` mask tokens' vectors, in reading order: top_k of (length - position) where masked.
        order = keras.ops.cast(length - keras.ops.arange(length), "int32")
        scores = keras.ops.where(keras.ops.equal(inputs, mask_id), order, keras.ops.zeros_like(inputs))
        _, chosen = keras.ops.top_k(scores, k=hidden)
        x = keras.ops.einsum("bkl,bld->bkd", keras.ops.one_hot(chosen, length, dtype=x.dtype), x)
        x = layers.LayerNormalization(epsilon=1e-6)(layers.Dense(width, activation="gelu")(x))
        outputs = layers.Dense(arguments["predicted_tokens"] or vocab, activation="softmax", dtype="float32")(x)
    elif name == "vgg16_transfer":
        inputs = keras.Input(arguments["input_shape"])
        # keras.applications.vgg16.preprocess_input: RGB -> BGR, ImageNet means subtracted.
        x = layers.Normalization(mean=[123.68, 116.779, 103.939], variance=[1.0, 1.0, 1.0])(inputs)
        x = keras.ops.flip(x, axis=-1)
        base = keras.applications.VGG16(include_top=False, weights=None, input_shape=arguments["input_shape"])
        base = keras.Model(base.input, base.get_layer(arguments["feature_layer"]).output)
        x = layers.LayerNormalization()(layers.Flatten()(base(x)))
        outputs = head(x, arguments["num_classes"])
    else:
        raise ValueError(f"no twin for {name!r}")
    return keras.Model(inputs, outputs, name=f"{name}_twin")


# ----------------------------------------------------------------------------- training entries

def _data(name: str, size: dict):
    """Random inputs and labels of the model's shapes: speed does not depend on the values."""
    import numpy as np

    import zoo

    generator = np.random.default_rng(SEED)
    count = size["batch"] * size["steps"]
    if name == "mini_gpt":   # text without padding, and the next character at every position
        shape = (count, size["length"])
        vocab = size["arguments"]["vocab_size"]
        return (generator.integers(1, vocab, shape).astype("int32"), generator.integers(1, vocab, shape).astype("int32"))
    if name == "attention_seq2seq":   # written dates' characters (some padding), a token at every output step
        arguments = {**zoo.info(name).defaults, **size["arguments"]}
        x = generator.integers(1, arguments["source_vocab"], (count, size["length"])).astype("int32")
        x[:, -size["length"] // 4:] = 0
        return x, generator.integers(0, arguments["target_vocab"], (count, arguments["target_length"])).astype("int32")
    if name == "mini_bert":   # max_predictions tokens hidden behind the mask id (the last), and the ids they hid
        arguments = {**zoo.info(name).defaults, **size["arguments"]}
        vocab, hidden = arguments["vocab_size"], arguments["max_predictions"]
        x = generator.integers(1, vocab - 1, (count, size["length"])).astype("int32")
        x[:, :: size["length"] // hidden][:, :hidden] = vocab - 1
        return x, generator.integers(1, arguments["predicted_tokens"] or vocab - 1, (count, hidden)).astype("int32")
    if "length" in size:
        x = generator.integers(1, size["arguments"]["vocab_size"], (count, size["length"])).astype("int32")
        x[:, -size["length"] // 4:] = 0  # some padding, as in real reviews
    else:
        x = generator.uniform(0, 255 if name == "vgg16_transfer" else 1,
                              (count, *size["arguments"]["input_shape"])).astype("float32")
    classes = size["arguments"].get("num_classes", 2)
    return x, generator.integers(0, classes, count).astype("float32" if name == "perceptron" else "int32")


def _build(name: str, size: dict, variant: str):
    import keras

    import zoo

    keras.config.set_dtype_policy("mixed_bfloat16" if variant == "zoo_bfloat16" else "float32")
    try:
        model = twin(name, size["arguments"]) if variant == "twin" else zoo.get(name, **size["arguments"])
    finally:
        keras.config.set_dtype_policy("float32")
    loss = "binary_crossentropy" if name == "perceptron" else "sparse_categorical_crossentropy"
    model.compile(optimizer=keras.optimizers.Adam(1e-3), loss=loss, jit_compile=variant == "zoo_jit")
    return model


def _fit_seconds(model, x, y, batch: int) -> float:
    """Seconds of one epoch over (x, y): every step, their results waited for."""
    from zoo.callbacks import EpochTimer

    timer = EpochTimer()
    model.fit(x, y, batch_size=batch, epochs=1, shuffle=False, verbose=0, callbacks=[timer])
    return timer.seconds[0]


def time_training(name: str, size: dict, rounds: int) -> dict:
    """Samples per second of each variant: one warm-up epoch each, then ``rounds`` epochs each, alternating."""
    import keras

    keras.utils.set_random_seed(SEED)
    models = {variant: _build(name, size, variant) for variant in VARIANTS}
    length = size.get("length")  # checked before anything is timed: a different twin would waste the run
    zoo_flops, twin_flops = (machine.training_flops(models[v], length) for v in ("zoo", "twin"))
    if zoo_flops != twin_flops or models["zoo"].count_params() != models["twin"].count_params():
        raise AssertionError(f"{name}: the twin is not the same network ({models['twin'].count_params()} "
                             f"parameters, {twin_flops} FLOPs against {models['zoo'].count_params()}, {zoo_flops})")
    x, y = _data(name, size)
    warmup = {variant: round(_fit_seconds(model, x, y, size["batch"]), 3) for variant, model in models.items()}
    seconds = {variant: [] for variant in VARIANTS}
    for _ in range(rounds):
        for variant, model in models.items():
            seconds[variant].append(_fit_seconds(model, x, y, size["batch"]))
    return {"parameters": models["zoo"].count_params(), "training_flops_per_sample": zoo_flops,
            "batch": size["batch"], "samples_per_round": len(x), "warmup_s": warmup,
            "variants": {variant: {"rounds_s": [round(s, 4) for s in times],
                                   "samples_per_s": round(len(x) / min(times), 2)}
                         for variant, times in seconds.items()}}


# ----------------------------------------------------------------------------- style transfer

def time_stylize(size: dict, rounds: int) -> dict:
    """Optimizer steps per second of ``stylize`` (Keras ``fit``) and of a plain ``tf.GradientTape`` loop."""
    import keras
    import numpy as np
    import tensorflow as tf

    import zoo
    from zoo.callbacks import EpochTimer
    from zoo.models.style_transfer import CONTENT_PREFIX, STYLE_PREFIX, content_loss, stylize, style_loss

    generator = np.random.default_rng(SEED)
    shape = size["arguments"]["input_shape"]
    content, style = (generator.uniform(0, 255, shape).astype("float32") for _ in range(2))
    warm, steps = 2, size["steps"] * rounds
    variants, warmup = {}, {}
    for variant in ("zoo", "zoo_jit", "zoo_bfloat16"):
        keras.config.set_dtype_policy("mixed_bfloat16" if variant == "zoo_bfloat16" else "float32")
        try:
            network = zoo.get("style_transfer", **size["arguments"])
        finally:
            keras.config.set_dtype_policy("float32")
        timer = EpochTimer()  # one optimizer step per epoch
        stylize(content, style, network, steps=warm + steps, callbacks=[timer], jit_compile=variant == "zoo_jit")
        warmup[variant] = round(sum(timer.seconds[:warm]), 3)
        variants[variant] = timer.seconds[warm:]
    network = zoo.get("style_transfer", **size["arguments"])
    targets = {key: value for key, value in network.predict(content[None], verbose=0).items()
               if key.startswith(CONTENT_PREFIX)}
    targets.update({key: value for key, value in network.predict(style[None], verbose=0).items()
                    if key.startswith(STYLE_PREFIX)})
    image = tf.Variable(content[None])
    optimizer = keras.optimizers.Adam(5.0)

    @tf.function
    def step():  # the loop of zoo/recipes/style_transfer.py's baseline, total variation left out of both counts
        with tf.GradientTape() as tape:
            outputs = network(image)
            loss = tf.add_n([(content_loss if key.startswith(CONTENT_PREFIX) else style_loss)(outputs[key], target)
                             for key, target in targets.items()])
        optimizer.apply_gradients([(tape.gradient(loss, image), image)])
        image.assign(tf.clip_by_value(image, 0.0, 255.0))

    started = time.perf_counter()
    for _ in range(warm):
        step()
    image.numpy()
    warmup["twin"] = round(time.perf_counter() - started, 3)
    variants["twin"] = []
    for _ in range(steps):
        started = time.perf_counter()
        step()
        image.numpy()  # wait for the step
        variants["twin"].append(time.perf_counter() - started)
    # A step: the forward pass and the gradient for the input (frozen weights: no weight gradients).
    flops = 2 * machine.forward_flops(network)
    per_round = size["steps"]  # the steps timed one by one, summed in rounds as the other entries' epochs
    rounds_s = {variant: [sum(times[start:start + per_round]) for start in range(0, len(times), per_round)]
                for variant, times in variants.items()}
    return {"parameters": network.count_params(), "training_flops_per_sample": flops, "batch": 1,
            "samples_per_round": per_round, "warmup_s": warmup,
            "variants": {variant: {"rounds_s": [round(s, 4) for s in rounds_s[variant]],
                                   "samples_per_s": round(per_round / min(rounds_s[variant]), 3)}
                         for variant in VARIANTS}}


# ----------------------------------------------------------------------------- the report

def summarise(name: str, row: dict, peaks: dict, cpu_features: list[str]) -> dict:
    """Ratios and fractions of peak from one entry's timings, each beside its target."""
    speed = {variant: numbers["samples_per_s"] for variant, numbers in row["variants"].items()}
    achieved = row["training_flops_per_sample"] * speed["zoo"]
    summary = {"twin_ratio": round(speed["zoo"] / speed["twin"], 3),
               "achieved_flops_per_s": round(achieved),
               "fraction_of_float32_peak": machine.significant(achieved / peaks["float32"]["flops_per_s"]),
               "bfloat16_speedup": round(speed["zoo_bfloat16"] / speed["zoo"], 3),
               "jit_speedup": round(speed["zoo_jit"] / speed["zoo"], 3)}
    target = (TARGETS["conv_fraction_of_peak"] if name in CONV
              else TARGETS["sequence_fraction_of_peak"] if name in SEQUENCE else None)
    summary["targets"] = {"twin_ratio": {"target": TARGETS["twin_ratio"],
                                         "met": summary["twin_ratio"] >= TARGETS["twin_ratio"]}}
    if target is not None:
        summary["targets"]["fraction_of_float32_peak"] = {
            "target": target, "met": summary["fraction_of_float32_peak"] >= target}
    if "amx_bf16" in cpu_features:
        summary["targets"]["bfloat16_speedup"] = {"target": TARGETS["bfloat16_speedup_with_matrix_units"],
                                                  "met": summary["bfloat16_speedup"] >= 2.0}
    return summary


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("entries", nargs="*", metavar="ENTRY",
                        help=f"some of {', '.join(SIZES['full'])} (default: all)")
    parser.add_argument("--quick", action="store_true", help="tiny sizes and few steps: a smoke test")
    parser.add_argument("--rounds", type=int, default=None, help="timed epochs per variant (default: 5; --quick 1)")
    parser.add_argument("--out", type=Path, default=None,
                        help="JSON file (default: benchmarks/results/speed.json; with --quick, none unless given)")
    args = parser.parse_args(argv)
    unknown = sorted(set(args.entries) - set(SIZES["full"]))
    if unknown:
        parser.error(f"unknown entr{'y' if len(unknown) == 1 else 'ies'} {', '.join(unknown)}; "
                     f"choose from {', '.join(SIZES['full'])}")
    if args.rounds is not None and args.rounds < 1:
        parser.error(f"--rounds {args.rounds}: give at least 1")
    return args


def main(argv=None) -> dict:
    args = parse_args(argv)
    started = time.perf_counter()
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # the checkout's zoo, installed or not
    import keras

    from zoo.files import atomic_write_json

    if keras.backend.backend() != "tensorflow":
        raise SystemExit(f"speed.py measures the default TensorFlow backend (KERAS_BACKEND={keras.backend.backend()});"
                         " on a JAX GPU machine run benchmarks/gpu_check.py instead.")
    size_name = "quick" if args.quick else "full"
    rounds = args.rounds or (1 if args.quick else 5)
    out = args.out or (None if args.quick else RESULTS / "speed.json")
    earlier = json.loads(out.read_text()) if out and out.exists() and args.entries else {}
    description = machine.describe()
    peak_size = 256 if args.quick else 2048
    peaks = {dtype: machine.matmul_peak(dtype, size=peak_size) for dtype in ("float32", "bfloat16")}
    print(f"matrix-product peak: float32 {peaks['float32']['flops_per_s'] / 1e9:.1f} GFLOP/s, "
          f"bfloat16 {peaks['bfloat16']['flops_per_s'] / 1e9:.1f} GFLOP/s", flush=True)
    command = " ".join(["python benchmarks/speed.py", *(["--quick"] if args.quick else []), *args.entries])
    for row in earlier.get("entries", {}).values():  # kept from the run that measured them
        row.setdefault("command", earlier["command"])
    report = {"benchmark": "benchmarks/speed.py", "command": earlier.get("command", command),
              "targets": TARGETS, "rounds": rounds, "environment": description, "matmul_peak": peaks,
              "bfloat16_matrix_units": "amx_bf16" in description["cpu"]["features"],
              "entries": earlier.get("entries", {})}
    for name in args.entries or list(SIZES[size_name]):
        size = SIZES[size_name][name]
        began = time.perf_counter()
        row = time_stylize(size, rounds) if name == "style_transfer" else time_training(name, size, rounds)
        row.update(command=command, arguments=size["arguments"], length=size.get("length"),
                   summary=summarise(name, row, peaks, description["cpu"]["features"]),
                   matmul_peak=peaks, seconds=round(time.perf_counter() - began, 1))
        report["entries"][name] = row
        s = row["summary"]
        print(f"{name:>17}: {row['variants']['zoo']['samples_per_s']:>10.1f} samples/s, twin ratio "
              f"{s['twin_ratio']:.3f}, {100 * s['fraction_of_float32_peak']:.1f}% of the float32 peak, bf16 x"
              f"{s['bfloat16_speedup']:.2f}, XLA x{s['jit_speedup']:.2f} ({row['seconds']} s)", flush=True)
    report["wall_time_s"] = round(time.perf_counter() - started, 1)
    if out:
        atomic_write_json(out, report)
        print(f"wrote {out}")
    return report


if __name__ == "__main__":
    main()
