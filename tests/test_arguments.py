"""Any arguments, every entry: the model builds and runs, or the zoo names the bad argument, fast.

For every registry entry, hypothesis draws a full set of valid arguments (small, so
a forward pass takes milliseconds), turns some of them into numpy scalars (which
must work like Python numbers), and in about a third of the examples replaces one
argument with a hostile value: NaN, inf, 2**40, negative, the wrong type, an array,
a bad string, a file that is not a weights file. Then either the model builds and
runs one forward pass, or ``zoo.get`` raises ValueError or TypeError within a
second, whose message starts with the model's name and names the argument. No
other exception may escape, and valid arguments must never be refused.

A new entry, or a new argument, fails here until VALID knows how to draw it.
"""

from __future__ import annotations

import collections
import decimal
import math
import os
import pathlib
import re
import time
import zipfile

import h5py
import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

import zoo
from zoo.models import bert, convnet, gpt, hybrid, inception, mlp, perceptron, seq2seq, sequence, style_transfer, vgg, vgg16_transfer

# The mutation runs (benchmarks/mutation.py) draw fewer, as each mutant reruns this test.
EXAMPLES = int(os.environ.get("ZOO_ARGUMENT_EXAMPLES", "200"))
ERROR_SECONDS = 1.0
# Of EXAMPLES, at least this many must build from valid arguments and this many be refused:
# a zoo that refused everything, or a test that drew no hostile value, would otherwise pass.
AT_LEAST_EACH = EXAMPLES // 10

names = st.from_regex(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,15}", fullmatch=True)
dropouts = st.one_of(st.just(0.0), st.floats(0.0, 0.9))
# Activations every hidden Dense layer accepts; "glu" and "threshold" are not among them.
ACTIVATIONS = ("relu", "gelu", "tanh", "sigmoid", "elu", "selu", "swish", "silu", "softplus", "softsign",
               "linear", "leaky_relu", "mish", "relu6", "hard_sigmoid", "exponential", "softmax")


def shapes(rank_low, rank_high, low, high):
    return st.lists(st.integers(low, high), min_size=rank_low, max_size=rank_high).flatmap(
        lambda dims: st.sampled_from([tuple(dims), list(dims)]))


@st.composite
def image_shapes(draw, fixed):
    side = st.integers(32, 40)
    if fixed or draw(st.booleans()):
        return (draw(side), draw(side), 3)
    return (None, None, 3)


@st.composite
def perceptron_arguments(draw):
    return dict(input_shape=draw(st.one_of(shapes(1, 1, 1, 8), st.integers(1, 8))),
                activation=draw(st.sampled_from(perceptron.ACTIVATIONS + tuple(perceptron.PERSONALITIES))),
                name=draw(names))


@st.composite
def mlp_arguments(draw):
    hidden = st.one_of(st.none(), st.integers(1, 16), st.lists(st.integers(1, 16), min_size=1, max_size=3))
    return dict(input_shape=draw(shapes(1, 3, 1, 6)), num_classes=draw(st.integers(2, 12)),
                hidden_units=draw(hidden), activation=draw(st.sampled_from(ACTIVATIONS)),
                dropout=draw(dropouts), name=draw(names))


@st.composite
def convnet_arguments(draw):
    filters = draw(st.one_of(st.integers(1, 6), st.lists(st.integers(1, 6), min_size=1, max_size=3)))
    blocks = 1 if isinstance(filters, int) else len(filters)
    pooling = draw(st.sampled_from(convnet.POOLINGS))
    side = st.integers(2**blocks if pooling else 1, 12)
    return dict(input_shape=(draw(side), draw(side), draw(st.integers(1, 3))), num_classes=draw(st.integers(2, 6)),
                filters=filters, kernel_size=draw(st.sampled_from([1, 3, 5])), pooling=pooling,
                dense_units=draw(st.integers(0, 8)), dropout=draw(dropouts),
                activation=draw(st.sampled_from(ACTIVATIONS)), name=draw(names))


@st.composite
def convnet_1d_arguments(draw):
    blocks = draw(st.integers(1, 3))
    channels = draw(st.sampled_from([(), (1,), (2,)]))
    return dict(input_shape=(draw(st.integers(1, 20)), *channels), num_classes=draw(st.integers(2, 6)),
                filters=draw(st.lists(st.integers(1, 6), min_size=blocks, max_size=blocks)),
                kernel_sizes=draw(st.lists(st.integers(1, 9), min_size=blocks, max_size=blocks)),
                batch_norm=draw(st.booleans()), pooling=draw(st.sampled_from(convnet.GLOBAL_POOLINGS)),
                dropout=draw(dropouts), activation=draw(st.sampled_from(ACTIVATIONS)), name=draw(names))


@st.composite
def inception_arguments(draw):
    stages = draw(st.one_of(st.integers(1, 2), st.lists(st.integers(1, 2), min_size=1, max_size=3)))
    count = 1 if isinstance(stages, int) else len(stages)
    side = st.integers(2**count, 12)
    return dict(input_shape=(draw(side), draw(side), draw(st.integers(1, 3))), num_classes=draw(st.integers(2, 6)),
                stem_filters=draw(st.integers(1, 6)), stages=stages, width=draw(st.sampled_from([16, 32])),
                block=draw(st.sampled_from(inception.BLOCKS)), dropout=draw(dropouts),
                activation=draw(st.sampled_from(ACTIVATIONS)), name=draw(names))


@st.composite
def convnet_lstm_arguments(draw):
    filters = draw(st.one_of(st.integers(1, 6), st.lists(st.integers(1, 6), min_size=1, max_size=2)))
    side = st.integers(2 ** (1 if isinstance(filters, int) else len(filters)), 10)
    return dict(input_shape=(draw(st.integers(1, 4)), draw(side), draw(side), draw(st.integers(1, 3))),
                num_classes=draw(st.integers(2, 6)), filters=filters, dense_units=draw(st.integers(1, 8)),
                lstm_units=draw(st.integers(1, 8)), bidirectional=draw(st.booleans()), dropout=draw(dropouts),
                activation=draw(st.sampled_from(ACTIVATIONS)), name=draw(names))


@st.composite
def vgg16_transfer_arguments(draw):
    feature_layer = draw(st.sampled_from(vgg.POOL_LAYERS))
    kept = len(vgg.convs_up_to("vgg16", feature_layer))
    pooling = draw(st.sampled_from(["avg", "max", "flatten"]))
    return dict(input_shape=draw(image_shapes(fixed=pooling == "flatten")), num_classes=draw(st.integers(2, 6)),
                weights=None,  # no network here; weight files are among the hostile values
                fine_tune_layers=draw(st.integers(0, kept)), pooling=pooling,
                normalize_features=draw(st.booleans()), dropout=draw(dropouts), feature_layer=feature_layer,
                name=draw(names))


@st.composite
def style_transfer_arguments(draw):
    backbone = draw(st.sampled_from(vgg.ARCHITECTURES))
    layer = st.sampled_from(vgg.CONV_LAYERS[backbone])
    layers = st.one_of(layer, st.lists(layer, min_size=1, max_size=3))
    return dict(input_shape=draw(image_shapes(fixed=False)), content_layers=draw(layers),
                style_layers=draw(layers), weights=None, backbone=backbone, name=draw(names))


@st.composite
def lstm_sentiment_arguments(draw):
    return dict(vocab_size=draw(st.integers(2, 60)), num_classes=draw(st.integers(2, 5)),
                embedding_dim=draw(st.integers(1, 8)), lstm_units=draw(st.integers(1, 8)),
                num_layers=draw(st.integers(1, 3)), bidirectional=draw(st.booleans()), dropout=draw(dropouts),
                name=draw(names))


@st.composite
def mini_transformer_arguments(draw):
    num_heads = draw(st.integers(1, 4))
    return dict(vocab_size=draw(st.integers(2, 60)), sequence_length=draw(st.integers(1, 12)),
                num_classes=draw(st.integers(2, 5)), embed_dim=num_heads * draw(st.integers(1, 4)),
                num_heads=num_heads, ff_dim=draw(st.integers(1, 16)), num_layers=draw(st.integers(1, 2)),
                dropout=draw(dropouts), name=draw(names))


@st.composite
def mini_gpt_arguments(draw):
    num_heads = draw(st.integers(1, 4))
    # tiny_inputs feeds 5 tokens: the position table must cover them.
    return dict(vocab_size=draw(st.integers(2, 60)), sequence_length=draw(st.integers(5, 12)),
                embed_dim=num_heads * draw(st.integers(1, 4)), num_heads=num_heads, ff_dim=draw(st.integers(1, 16)),
                num_layers=draw(st.integers(1, 2)), dropout=draw(dropouts), name=draw(names))


@st.composite
def mini_bert_arguments(draw):
    num_heads = draw(st.integers(1, 4))
    sequence_length = draw(st.integers(1, 12))
    vocab_size = draw(st.integers(3, 60))
    return dict(vocab_size=vocab_size, sequence_length=sequence_length, embed_dim=num_heads * draw(st.integers(1, 4)),
                num_heads=num_heads, ff_dim=draw(st.integers(1, 16)), num_layers=draw(st.integers(1, 2)),
                dropout=draw(dropouts), max_predictions=draw(st.integers(1, sequence_length)),
                mask_id=draw(st.none() | st.integers(1, vocab_size - 1)),
                predicted_tokens=draw(st.none() | st.integers(2, vocab_size)), name=draw(names))


@st.composite
def attention_seq2seq_arguments(draw):
    # tiny_inputs feeds 5 ones: source_vocab >= 2 covers them.
    return dict(source_vocab=draw(st.integers(2, 60)), target_vocab=draw(st.integers(2, 12)),
                target_length=draw(st.integers(1, 6)), embedding_dim=draw(st.integers(1, 8)),
                encoder_units=draw(st.integers(1, 8)), decoder_units=draw(st.integers(1, 8)),
                attention_units=draw(st.integers(1, 8)), attention=draw(st.booleans()), name=draw(names))


# entry -> strategy of a full set of arguments the zoo must accept
VALID = {
    "perceptron": perceptron_arguments(),
    "mlp": mlp_arguments(),
    "convnet": convnet_arguments(),
    "convnet_1d": convnet_1d_arguments(),
    "inception": inception_arguments(),
    "convnet_lstm": convnet_lstm_arguments(),
    "vgg16_transfer": vgg16_transfer_arguments(),
    "style_transfer": style_transfer_arguments(),
    "lstm_sentiment": lstm_sentiment_arguments(),
    "mini_transformer": mini_transformer_arguments(),
    "mini_gpt": mini_gpt_arguments(),
    "mini_bert": mini_bert_arguments(),
    "attention_seq2seq": attention_seq2seq_arguments(),
}


@st.composite
def like_numpy(draw, value):
    """``value`` with its numbers (and strings) as numpy scalars: what ``y.max() + 1`` gives."""
    if isinstance(value, bool):
        return np.bool_(value)
    if isinstance(value, int):
        return draw(st.sampled_from([np.int64, np.int32, np.int16, np.uint16]))(value)
    if isinstance(value, float):
        return draw(st.sampled_from([np.float64, np.float32, np.float16]))(value)
    if isinstance(value, str):
        return np.str_(value)
    if isinstance(value, (tuple, list)):
        return type(value)(draw(like_numpy(item)) for item in value)
    return value


# Hostile values, by the kind of argument (read from its default value).
NAN, INF = math.nan, math.inf
ANYTHING = [None, "text", b"bytes", object(), {"a": 1}, np.array([1, 2]), np.array([[0.5]]), NAN, INF, 2**40, -1,
            1.5, [], (), np.array(3), True, 1j]
HOSTILE = {
    "int": [0, -1, -(2**40), 2**31, 2**40, 2**64, 10**30, np.int64(2**40), np.int64(-5), np.uint64(2**63), 1.0,
            2.5, np.float64(8.0), "8", np.array([8, 8]), np.array(8), [8], (8,), np.bool_(True), NAN, -INF],
    "float": [NAN, INF, -INF, np.float32(NAN), np.float16(INF), np.float64(-INF), -0.5, 1.0, 1.5, 2.0**40, -1e-12,
              1e308, "0.1", np.bool_(False), np.array([0.1, 0.2]), np.array(0.1), [0.1], 0.1j,
              decimal.Decimal("0.1")],
    "bool": [0, 1, 2, "True", "", np.array([True, False]), np.array(True), np.int64(1), 1.0, [True]],
    "str": ["", " ", "nope", "AVG", "a/b", "\x00", "x" * 10_000, "threshold", "glu", "relux", "block6_pool",
            "vgg11", "avg", "relu", np.array(["avg", "max"]), ["avg"], b"avg", 3],
    "name": ["", " ", "a/b", "a b", "é", "\x00", "_x", "-x", "a:b", "\n", 7, b"x", np.str_("ok"), "x" * 300],
    "shape": [(), [], (0,), (-1,), (2**40,), (2**31, 2**31, 3), (2**20, 2**20, 3), (2**16, 2**16), (1.5,), (NAN,),
              ("a",), (None,), (None, None, 3), (None, 8), ((8,),), (True,), (np.int64(2**40),),
              np.array([32, 32, 3]), "(8,)", 8, 0, -3, {8: 1}, range(3), (32, 32, 1), (16, 16, 3), (32, 32),
              (32, 32, 3, 1), (np.float64(32.0), 32, 3), (1j,)],
    "ints": [[], [0], [-1], [2**40], [1.5], ["8"], [[8]], np.array([8, 8]), [8] * 1000, (8, None), "8", {8},
             np.int64(2**40), 0, [np.int64(2**40)], [8, NAN]],
    "layers": [[], ["nope"], [3], [None], np.array(["block1_conv1"]), "block9_conv1", [["block1_conv1"]], "",
               ("block1_conv1", 3), ["block5_conv4"], "block1_pool", {"block1_conv1"}],
}
# Words some argument accepts: a generated string that happened to be one could switch a valid
# argument set into a combination that another argument's check refuses (backbone="vgg16" with
# vgg19 layers), and the message would rightly name that other argument.
VALID_WORDS = {*perceptron.ACTIVATIONS, *perceptron.PERSONALITIES, *ACTIVATIONS, *vgg.ARCHITECTURES,
               *vgg.POOL_LAYERS, *vgg.CONV_LAYERS["vgg19"], "avg", "max", "flatten"}
GENERATED = {
    "int": st.one_of(st.integers(max_value=0), st.integers(min_value=2**31), st.floats()),
    "float": st.floats(),
    "str": st.text(max_size=20).filter(lambda text: text not in VALID_WORDS),
    "name": st.text(max_size=20),
}


def kind(argument: str, default) -> str:
    if argument == "name":
        return "name"
    if argument == "weights":
        return "weights"
    if argument == "hidden_units":  # default None: one hidden layer of half the inputs
        return "ints"
    if argument in ("mask_id", "predicted_tokens"):  # default None: the last token id; every token id
        return "int"
    if isinstance(default, bool):
        return "bool"
    if isinstance(default, int):
        return "int"
    if isinstance(default, float):
        return "float"
    if isinstance(default, str):
        return "str"
    if isinstance(default, tuple) and all(isinstance(item, str) for item in default):
        return "layers"
    if isinstance(default, tuple):
        return "shape"
    raise AssertionError(f"no hostile values for {argument}={default!r}: add its kind to test_arguments.py")


@pytest.fixture(scope="module")
def not_weights_files(tmp_path_factory) -> list:
    """Paths a user might pass as weights that are not Keras weights files."""
    folder = tmp_path_factory.mktemp("weights")
    (folder / "text.h5").write_text("these are not weights\n")
    (folder / "empty.weights.h5").write_bytes(b"")
    (folder / "folder.h5").mkdir()
    with zipfile.ZipFile(folder / "renamed_model.keras.h5", "w") as archive:  # a .keras model is a zip
        archive.writestr("config.json", "{}")
    with h5py.File(folder / "truncated.h5", "w") as handle:
        handle["x"] = np.zeros(1000)
    data = (folder / "truncated.h5").read_bytes()
    (folder / "truncated.h5").write_bytes(data[: len(data) // 2])
    paths = [folder / name for name in ("text.h5", "empty.weights.h5", "folder.h5", "renamed_model.keras.h5",
                                         "truncated.h5", "missing.h5")]
    return [str(path) for path in paths] + [paths[0], "imagenet21k", "", "weights.txt", "x\x00.h5", 3, 1.5,
                                            b"text.h5", np.array(["a.h5"]), ["imagenet"]]


def hostile(argument: str, default, weights_files) -> st.SearchStrategy:
    argument_kind = kind(argument, default)
    pool = weights_files if argument_kind == "weights" else HOSTILE[argument_kind]
    strategy = st.sampled_from(pool + ANYTHING)
    return st.one_of(strategy, GENERATED[argument_kind]) if argument_kind in GENERATED else strategy


# An accepted model may take inputs the size of this machine's memory (a (65536, 65536) series is 16 GiB as
# float32): the test runs examples up to 2**24 values (64 MiB).
MAX_EXAMPLE_VALUES = 2**24


def example_shape(spec) -> tuple:
    """One example's shape for a model input: unknown image sides 32 (VGG's smallest), unknown lengths 5."""
    unknown = 32 if len(spec.shape) == 4 else 5
    return (1,) + tuple(unknown if dim is None else dim for dim in spec.shape[1:])


def example_values(model) -> int:
    """Values in one example of ``tiny_inputs(model)``."""
    return sum(math.prod(example_shape(spec)) for spec in model.inputs)


def tiny_inputs(model):
    """One example matching each model input; unknown lengths and sizes made small (32x32 for VGG)."""
    inputs = []
    for spec in model.inputs:
        shape = example_shape(spec)
        if len(spec.shape) == 4:
            inputs.append(np.random.default_rng(0).uniform(0, 255, size=shape).astype("float32"))
        elif "int" in str(spec.dtype):
            inputs.append(np.ones(shape, "int32"))
        else:
            inputs.append(np.random.default_rng(0).normal(size=shape).astype("float32"))
    return inputs[0] if len(inputs) == 1 else inputs


def test_every_entry_has_a_valid_arguments_strategy():
    assert sorted(VALID) == zoo.list_models()


# sequence_length=1 is valid: attention over one token, whose softmax Keras warns is always 1.
@pytest.mark.filterwarnings("ignore:You are using a softmax over axis:UserWarning")
@pytest.mark.parametrize("name", zoo.list_models())
def test_any_arguments_build_and_run_or_name_the_bad_one(name, not_weights_files):
    import keras

    spec = zoo.info(name)
    outcomes = collections.Counter()
    error_seconds = []

    @settings(max_examples=EXAMPLES, deadline=None, database=None,
              suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
    @given(data=st.data())
    def check(data):
        arguments = data.draw(VALID[name], label="valid")
        assert sorted(arguments) == sorted(spec.arguments), "VALID must draw every argument of the entry"
        for argument in sorted(arguments):
            if data.draw(st.booleans(), label=f"{argument} as numpy"):
                arguments[argument] = data.draw(like_numpy(arguments[argument]))
        # None (all valid) first: hypothesis draws the first option of sampled_from several times
        # as often as the others, and that spike belongs to no argument in particular.
        bad = data.draw(st.sampled_from((None,) + spec.arguments), label="hostile argument")
        if bad is not None:
            arguments[bad] = data.draw(hostile(bad, spec.defaults[bad], not_weights_files), label=bad)

        start = time.perf_counter()
        try:
            model = zoo.get(name, **arguments)
        except (ValueError, TypeError) as error:
            seconds = time.perf_counter() - start
            message = str(error)
            assert bad is not None, f"valid arguments refused: {message}"
            assert message.startswith(f"{name}:"), message
            assert re.search(rf"\b{bad}\b", message), f"the message does not name {bad!r}: {message}"
            assert seconds < ERROR_SECONDS, f"{seconds:.2f} s to refuse {bad}: {message}"
            error_seconds.append(seconds)
            outcomes["refused"] += 1
            return
        outcomes["hostile built" if bad else "valid built"] += 1
        if example_values(model) > MAX_EXAMPLE_VALUES:   # built within memory, but not one the test can run here
            outcomes["built, too big to run here"] += 1
            return
        outputs = model(tiny_inputs(model))
        for output, spec_output in zip(keras.tree.flatten(outputs), keras.tree.flatten(model.output)):
            expected = (1,) + tuple(spec_output.shape[1:])
            assert len(output.shape) == len(expected), (output.shape, expected)
            assert all(want in (None, got) for got, want in zip(output.shape, expected)), (output.shape, expected)

    check()
    assert outcomes["valid built"] >= AT_LEAST_EACH and outcomes["refused"] >= AT_LEAST_EACH, outcomes
    print(f"{name}: {dict(outcomes)}, slowest refusal {max(error_seconds) * 1000:.1f} ms")


# entry -> (size estimate of the factory, argument sets whose parameter count it must match exactly)
ESTIMATES = {
    "perceptron": (perceptron.perceptron_size, [dict(input_shape=(30,), activation="constant")]),
    "mlp": (mlp.mlp_size, [dict(input_shape=(8, 2), num_classes=3, hidden_units=(16, 4))]),
    "convnet": (convnet.convnet_size, [
        dict(input_shape=(9, 11, 2), num_classes=3, filters=(3, 5, 4), kernel_size=5, pooling="max", dense_units=0),
        dict(input_shape=(5, 6, 1), num_classes=4, filters=(2,), kernel_size=1, pooling=None, dense_units=7)]),
    "convnet_1d": (convnet.convnet_1d_size, [
        dict(input_shape=(20, 3), num_classes=3, filters=(4, 5), kernel_sizes=(3, 2), batch_norm=False),
        dict(input_shape=(9,), num_classes=2, filters=(2, 6, 3), kernel_sizes=(4, 1, 7), batch_norm=True)]),
    "inception": (inception.inception_size, [
        dict(input_shape=(10, 8, 2), num_classes=3, stem_filters=5, stages=(1, 2, 1), width=16, block="inception"),
        dict(input_shape=(10, 8, 2), num_classes=3, stem_filters=5, stages=(1, 2, 1), width=16, block="plain"),
        dict(input_shape=(16, 16, 3), num_classes=4, stem_filters=3, stages=(3,), width=48, block="inception"),
        dict(input_shape=(7, 9, 1), num_classes=2, stem_filters=2, stages=(1, 1), width=16, block="inception")]),
    "convnet_lstm": (hybrid.convnet_lstm_size, [
        dict(input_shape=(2, 9, 11, 2), num_classes=3, filters=(3, 5), dense_units=4, lstm_units=6,
             bidirectional=True),
        dict(input_shape=(5, 4, 4, 1), num_classes=7, filters=(2,), dense_units=3, lstm_units=2,
             bidirectional=False)]),
    "vgg16_transfer": (vgg16_transfer.vgg16_transfer_size, [
        dict(input_shape=(37, 45, 3), num_classes=3, pooling="flatten", normalize_features=False,
             feature_layer="block3_pool"),
        dict(input_shape=(None, None, 3), num_classes=2, pooling="max", normalize_features=True,
             feature_layer="block1_pool")]),
    "style_transfer": (style_transfer.style_transfer_size, [
        dict(input_shape=(32, 32, 3), content_layers=("block4_conv3",), style_layers=("block1_conv1",),
             backbone="vgg19")]),
    "lstm_sentiment": (sequence.lstm_sentiment_size, [
        dict(vocab_size=30, num_classes=5, embedding_dim=6, lstm_units=7, num_layers=2, bidirectional=True)]),
    "mini_transformer": (sequence.mini_transformer_size, [
        dict(vocab_size=30, sequence_length=9, num_classes=3, embed_dim=12, num_heads=3, ff_dim=5,
             num_layers=2)]),
    "mini_gpt": (gpt.mini_gpt_size, [
        dict(vocab_size=30, sequence_length=9, embed_dim=12, num_heads=3, ff_dim=5, num_layers=2),
        dict(vocab_size=5, sequence_length=2, embed_dim=4, num_heads=1, ff_dim=1, num_layers=1)]),
    "mini_bert": (bert.mini_bert_size, [
        dict(vocab_size=30, sequence_length=9, embed_dim=12, num_heads=3, ff_dim=5, num_layers=2, max_predictions=2),
        dict(vocab_size=3, sequence_length=1, embed_dim=1, num_heads=1, ff_dim=1, num_layers=1, max_predictions=1),
        dict(vocab_size=40, sequence_length=6, embed_dim=4, num_heads=2, ff_dim=3, num_layers=1, max_predictions=2,
             predicted_tokens=7)]),
    "attention_seq2seq": (seq2seq.seq2seq_size, [
        dict(source_vocab=30, target_vocab=7, target_length=4, embedding_dim=5, encoder_units=3, decoder_units=6,
             attention_units=4, attention=True),
        dict(source_vocab=3, target_vocab=2, target_length=1, embedding_dim=1, encoder_units=1, decoder_units=1,
             attention_units=9, attention=False)]),
}


def test_every_entry_has_a_size_estimate():
    assert sorted(ESTIMATES) == zoo.list_models()


def test_an_lstm_estimates_no_values_per_example():
    """An LSTM's activations grow with the review's length, unknown when it is built: its estimate counts none."""
    _, argument_sets = ESTIMATES["lstm_sentiment"]
    assert [sequence.lstm_sentiment_size(**arguments)[1] for arguments in argument_sets] == [0]
    assert sequence.lstm_sentiment_size(**zoo.info("lstm_sentiment").defaults)[1] == 0


# Values per example of ESTIMATES' argument sets, worked out by hand from what each estimate says it counts.
VALUES = {
    # The images, then each convolution's maps and each pooling's smaller maps: 9x11 -> 4x5 -> 2x2 -> 1x1.
    "convnet": [9 * 11 * 2 + 9 * 11 * 3 + 4 * 5 * 3 + 4 * 5 * 5 + 2 * 2 * 5 + 2 * 2 * 4 + 1 * 1 * 4,
                5 * 6 * 1 + 5 * 6 * 2],                       # no pooling: the maps keep their size
    # The series, then each convolution's maps before and after its activation.
    "convnet_1d": [20 * 3 + 2 * 20 * (4 + 5),
                   9 * 1 + 2 * 9 * (2 + 6 + 3)],              # a (9,) series has one channel
    # Every step's image and convolution maps (9x11, then 4x5 after the first pooling), then per step the
    # image's features and the LSTM's four gates.
    "convnet_lstm": [2 * (9 * 11 * 2 + 9 * 11 * 3 + 4 * 5 * 5) + 2 * (4 + 4 * 6),
                     5 * (4 * 4 * 1 + 4 * 4 * 2) + 5 * (3 + 4 * 2)],
    "perceptron": [30],                                       # the inputs
    "mlp": [16 + 16 + 4],                                     # the flattened (8, 2) inputs, then each hidden layer
    # The image and the stem's maps, then about 3x each module's output (its branches and their concatenation):
    # 5x4 maps after the stem's pooling, 3x2 in stage 1, 2x1 in stage 2, with 16, 32 and 64 channels.
    "inception": [10 * 8 * (2 + 5) + 3 * (5 * 4 * 16 + 2 * 3 * 2 * 32 + 2 * 1 * 64),
                  10 * 8 * (2 + 5) + sum(area * filters for area, (_, _, filters, _, _) in zip(  # a plain block: its
                      (5 * 4, 3 * 2, 3 * 2, 2 * 1), inception.layout((10, 8, 2), 5, (1, 2, 1), 16, "plain"))),  # output
                  16 * 16 * (3 + 3) + 3 * 3 * 8 * 8 * 48,
                  7 * 9 * (1 + 2) + 3 * (4 * 5 * 16 + 2 * 3 * 32)],   # odd sides round up: 7x9 -> 4x5 -> 2x3
    # The ids' embeddings and the bidirectional features, then per output step its state and gates, one weight
    # per source position and the softmax (for 64 source characters; no attention scores without attention).
    "attention_seq2seq": [64 * (5 + 2 * 3 + 4) + 4 * (5 * 6 + 64 + 7),
                          64 * (1 + 2 * 1) + 1 * (5 * 1 + 64 + 2)],
    # One block's attention scores (heads x length x length) and feed-forward activations.
    "mini_transformer": [3 * 9 * 9 + 9 * (5 + 12)],
    # Per position: each block's four projections, feed-forward layer and attention row, then the logits.
    "mini_gpt": [9 * (2 * (4 * 12 + 5 + 9) + 30), 2 * (1 * (4 * 4 + 1 + 2) + 5)],
    # The encoder's (as mini_transformer's), then the scores over the predicted tokens at each masked position.
    "mini_bert": [3 * 9 * 9 + 9 * (5 + 12) + 2 * 30, 1 * 1 * 1 + 1 * (1 + 1) + 1 * 3, 2 * 6 * 6 + 6 * (3 + 4) + 2 * 7],
    # VGG's largest maps: block 1's two 64-channel ones; unknown (0) for images of any size.
    "vgg16_transfer": [2 * 37 * 45 * 64, 0],
    "style_transfer": [2 * 32 * 32 * 64],
    "lstm_sentiment": [0],                                    # grows with the review's length: unknown
}


def test_values_per_example_count_what_the_estimate_says_for_every_entry():
    assert sorted(VALUES) == sorted(ESTIMATES)


@pytest.mark.parametrize("name", sorted(VALUES))
def test_values_per_example_count_what_the_estimate_says(name):
    estimate, argument_sets = ESTIMATES[name]
    values = [estimate(**arguments)[1] for arguments in argument_sets]
    assert values == VALUES[name] and all(isinstance(value, int) for value in values), values


@pytest.mark.parametrize("name", zoo.list_models())
def test_size_estimate_is_the_parameter_count(name):
    estimate, argument_sets = ESTIMATES[name]
    weights = {"weights": None} if "weights" in zoo.info(name).arguments else {}
    assert estimate(**zoo.info(name).defaults)[0] == zoo.info(name).num_params
    for arguments in argument_sets:
        assert estimate(**arguments)[0] == zoo.get(name, **arguments, **weights).count_params(), arguments


@pytest.mark.parametrize("name, argument, value", [
    ("lstm_sentiment", "vocab_size", 2**40),
    ("mini_transformer", "sequence_length", 2**20),  # few parameters, but 2**40 attention scores per example
    ("mlp", "input_shape", (2**20,)),
    ("convnet", "filters", (2**16, 2**16)),
    ("convnet_1d", "input_shape", (2**40,)),   # few parameters, but 2**40 steps per series
    ("inception", "width", 2**20),
    ("convnet_lstm", "lstm_units", 2**20),
    ("mini_gpt", "sequence_length", 2**20),   # few parameters, but 2**40 attention scores per example
    ("attention_seq2seq", "decoder_units", 2**20),
    ("mini_bert", "vocab_size", 2**36),
    ("vgg16_transfer", "input_shape", (2**16, 2**16, 3)),
    ("perceptron", "input_shape", (2**31,)),
])
def test_too_big_names_the_argument_and_the_limit(name, argument, value):
    weights = {"weights": None} if "weights" in zoo.info(name).arguments else {}
    start = time.perf_counter()
    too_big = rf"^{name}: {argument}=.* makes the model too big: .*Use a smaller {argument}"
    with pytest.raises(ValueError, match=too_big):
        zoo.get(name, **{argument: value}, **weights)
    assert time.perf_counter() - start < ERROR_SECONDS


def test_size_accepts_a_model_exactly_at_each_limit_and_refuses_one_past_it(monkeypatch):
    from zoo import _checks

    limit = _checks.MAX_PARAMETERS
    monkeypatch.setattr(_checks, "machine_memory", lambda: 4 * (limit + 10))   # float32: 4 bytes a value
    _checks.size("mlp", lambda **arguments: (limit, 10), {"hidden_units": (5,)})   # exactly at both: built
    with pytest.raises(ValueError, match=r"^mlp: hidden_units=\(5,\) makes the model too big: .* values per "
                                         r"example, 9 GiB as float32, more than this machine's 8\.0 GiB\."):
        _checks.size("mlp", lambda **arguments: (limit, 11), {"hidden_units": (5,)})
    monkeypatch.setattr(_checks, "machine_memory", lambda: None)   # memory unknown: only the parameter limit
    _checks.size("mlp", lambda **arguments: (limit, 2**40), {"hidden_units": (5,)})
    with pytest.raises(ValueError, match=r"^mlp: hidden_units=\(5,\) makes the model too big: \S+ parameters, "
                                         r"more than the 2,147,483,648 \(2\*\*31\) the zoo builds\."):
        _checks.size("mlp", lambda **arguments: (limit + 1, 0), {"hidden_units": (5,)})   # 0 values: not said


def test_a_value_in_a_message_is_its_repr_on_one_line_cut_to_60_characters():
    from zoo._checks import show

    assert show("a   b") == "'a   b'"                      # a string keeps its spaces
    grid = np.arange(40).reshape(4, 10)
    assert "\n" in repr(grid) and show(grid) == " ".join(repr(grid).split())[:57] + "..."
    assert show(np.arange(3)) == "array([0, 1, 2])"
    assert show("x" * 58) == "'" + "x" * 58 + "'" and len(show("x" * 59)) == 60 and show("x" * 59).endswith("...")
    assert show(10**5000) == "<a int too long to print>"


def test_a_list_of_integers_may_be_as_long_as_its_limit_and_each_item_meets_the_minimum():
    from zoo._checks import integers

    assert integers("m", "filters", [1, 2, 3], max_length=3) == (1, 2, 3)
    with pytest.raises(ValueError, match=r"^m: filters has 4 entries; use at most 3\.$"):
        integers("m", "filters", [1, 2, 3, 4], max_length=3)
    assert integers("m", "stages", [0, 2], minimum=0) == (0, 2)
    with pytest.raises(ValueError, match=r"^m: stages\[1\]=-1 is out of range; use an integer >= 0\.$"):
        integers("m", "stages", [0, -1], minimum=0)


@pytest.mark.parametrize("check, args, error, message", [
    ("activation", (3,), TypeError, "m: x=3 must be the name of a Keras activation, e.g. 'relu'."),
    ("choice", (3, ("a", "b")), TypeError, "m: x=3 must be one of 'a', 'b'."),
    ("fraction", ("0.5",), TypeError, "m: x='0.5' must be a float in [0, 1)."),
    ("fraction", (float("nan"),), ValueError, "m: x=nan is not a number; use a float in [0, 1)."),
    ("shape", ("64",), TypeError, "m: x='64' must be a shape tuple such as (64,)."),
    ("shape", ((4, 0),), ValueError, "m: x=(4, 0) must contain positive integers, e.g. (64,)."),
    ("fixed_shape", ((None, 3),), ValueError, "m: x=(None, 3) needs fixed sizes, e.g. (64,)."),
    ("fixed_shape", ([],), TypeError, "m: x=[] must be a shape tuple such as (64,)."),
])
def test_each_check_names_the_model_the_argument_and_the_value_given(check, args, error, message):
    from zoo import _checks

    with pytest.raises(error) as raised:
        getattr(_checks, check)("m", "x", *args)
    assert str(raised.value) == message


def test_a_fixed_shape_passes_its_example_on_to_every_message():
    from zoo._checks import fixed_shape

    with pytest.raises(TypeError, match=r"such as \(32, 32, 3\)\.$"):
        fixed_shape("m", "input_shape", "32", rank=3, example="(32, 32, 3)")
    with pytest.raises(ValueError, match=r"needs fixed sizes, e.g\. \(32, 32, 3\)\.$"):
        fixed_shape("m", "input_shape", (None, None, 3), rank=3, example="(32, 32, 3)")


@pytest.mark.parametrize("number, shown", [(0, "0"), (1234567, "1,234,567"), (2**50 - 1, "1,125,899,906,842,623"),
                                           (2**50, "more than 2**50"), (2**50 + 1, "more than 2**50"),
                                           (2**51 - 1, "more than 2**50"), (2**60 + 5, "more than 2**60")])
def test_a_size_message_counts_in_thousands_up_to_2_to_the_50_then_in_powers_of_two(number, shown):
    from zoo._checks import _count

    assert _count(number) == shown


@pytest.mark.parametrize("name, arguments", [
    ("lstm_sentiment", dict(vocab_size=np.int64(50), num_classes=np.int64(3), embedding_dim=np.int32(4),
                            lstm_units=np.uint8(4), num_layers=np.int16(2), bidirectional=np.bool_(True),
                            dropout=np.float32(0.25))),
    ("mini_transformer", dict(vocab_size=np.int64(50), sequence_length=np.int64(6), num_classes=np.int64(3),
                              embed_dim=np.int64(8), num_heads=np.int64(2), ff_dim=np.int64(8),
                              num_layers=np.int64(1), dropout=np.float64(0.1))),
    ("mlp", dict(input_shape=np.int64(6), num_classes=np.int64(3), hidden_units=[np.int32(4)],
                 dropout=np.float16(0.5), activation=np.str_("gelu"))),
    ("vgg16_transfer", dict(input_shape=(np.int64(32), np.int64(32), 3), num_classes=np.int64(2), weights=None,
                            fine_tune_layers=np.int64(2), normalize_features=np.bool_(False),
                            pooling=np.str_("max"))),
])
def test_numpy_scalars_work_like_python_numbers(name, arguments):
    python = {key: value.tolist() if isinstance(value, np.generic) else value for key, value in arguments.items()}
    assert zoo.get(name, **arguments).count_params() == zoo.get(name, **python).count_params()


@pytest.mark.parametrize("activation", ["threshold", "glu"])
def test_activations_that_cannot_follow_a_layer_are_refused_before_building(activation):
    with pytest.raises(ValueError, match=rf"^mlp: activation='{activation}' is not a Keras activation that works "
                                         r"after a layer of any width; use a name such as 'relu'"):
        zoo.get("mlp", activation=activation)


@pytest.mark.parametrize("value", ["a/b", "a b", "x:y", "é"])
def test_a_name_keras_or_tensorflow_would_refuse_is_refused_with_the_models_name(value):
    with pytest.raises(ValueError, match=rf"^mlp: name={re.escape(repr(value))} cannot name a Keras model; use "
                                         r"letters, digits, '_', '\.' and '-', starting with a letter or digit, "
                                         r"e\.g\. 'mlp'\.$"):
        zoo.get("mlp", name=value)


@pytest.mark.parametrize("file, found", [
    ("text.h5", "is not an HDF5 file"),
    ("empty.weights.h5", r"is empty \(0 bytes\)"),
    ("renamed_model.keras.h5", "is a zip archive, such as a whole .keras model"),
    ("truncated.h5", "cannot be read by h5py"),
    ("folder.h5", "is a directory, not a weights file"),
])
def test_a_file_that_is_not_weights_names_the_model_the_file_and_what_weights_are(file, found, not_weights_files):
    from zoo.weights import WeightsFileError

    path = next(path for path in not_weights_files if isinstance(path, str) and path.endswith("/" + file))
    for name in ("vgg16_transfer", "style_transfer"):
        with pytest.raises(WeightsFileError, match=rf"^{name}: weights (file|path) {re.escape(path)} {found}.*"
                                                    r"must be an HDF5 \.h5 / \.weights\.h5 file saved by Keras "
                                                    r"save_weights or keras\.applications"):
            zoo.get(name, weights=pathlib.Path(path))
