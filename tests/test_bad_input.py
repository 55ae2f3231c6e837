"""Bad arguments: a clear error naming the argument and the fix, fast, before building."""

import socket
import time

import numpy as np
import pytest

import zoo
from zoo.weights import WeightsUnavailableError

# (model, overrides, exception, words the message must contain)
BAD_ARGUMENTS = [
    ("perceptron", dict(activation="softmax"), ValueError, "activation='softmax'.*'sigmoid'.*'naive'"),
    ("perceptron", dict(input_shape=(0,)), ValueError, "input_shape"),
    ("perceptron", dict(input_shape=(4, 4)), ValueError, "input_shape.*1 dimension"),
    ("perceptron", dict(input_shape="thirty"), TypeError, "input_shape='thirty'"),
    ("perceptron", dict(activation=["tanh"]), TypeError, r"activation=\['tanh'\] must be a name"),
    ("mlp", dict(name=""), TypeError, "name='' must be a non-empty string"),
    ("lstm_sentiment", dict(name=7), TypeError, "name=7 must be a non-empty string"),
    ("mlp", dict(num_classes=1), ValueError, "num_classes=1.*>= 2"),
    ("mlp", dict(hidden_units=[32, 0]), ValueError, r"hidden_units\[1\]=0"),
    ("mlp", dict(dropout=1.0), ValueError, r"dropout=1.0.*\[0, 1\)"),
    ("mlp", dict(activation="relux"), ValueError, "activation='relux' is not a Keras activation"),
    ("mlp", dict(num_classes=2.5), TypeError, "num_classes=2.5"),
    ("convnet", dict(input_shape=(28, 28)), ValueError, r"input_shape=\(28, 28\) must have 3 dimension"),
    ("convnet", dict(input_shape=(6, 6, 1), filters=(4, 8, 16)), ValueError,
     r"too small for 3 pooling layers.*at least 8"),
    ("convnet", dict(kernel_size=4), ValueError, "kernel_size=4 must be odd"),
    ("convnet", dict(pooling="min"), ValueError, "pooling='min' is not supported; use one of 'max', 'average', None"),
    ("convnet", dict(dense_units=-1), ValueError, "dense_units=-1 is out of range"),
    ("convnet", dict(filters=[]), TypeError, r"filters=\[\] must be an integer or a list"),
    ("convnet_1d", dict(input_shape=(28, 28, 1)), ValueError, r"must be \(length,\) or \(length, channels\).*convnet"),
    ("convnet_1d", dict(filters=(8, 8)), ValueError,
     r"kernel_sizes=\(8, 5, 3\) must give one length per block of filters=\(8, 8\), 2 in all"),
    ("convnet_1d", dict(pooling="flatten"), ValueError, "pooling='flatten' is not supported; use one of 'average', 'max'"),
    ("convnet_1d", dict(batch_norm=1), TypeError, "batch_norm=1 must be True or False"),
    ("inception", dict(width=40), ValueError, "width=40 must be a multiple of 16.*e.g. width=32"),
    ("inception", dict(width=8), ValueError, "width=8 is out of range"),
    ("inception", dict(stages=(2, 9)), ValueError, r"stages=\(2, 9\) asks for 9 modules in one stage; at most 8"),
    ("inception", dict(stages=(1, 1, 1, 1, 1, 1, 1)), ValueError, "stages has 7 entries; use at most 6"),
    ("inception", dict(input_shape=(6, 6, 1), stages=(1, 1, 1)), ValueError,
     r"too small for 3 stages.*at least 8"),
    ("convnet_lstm", dict(input_shape=(28, 28, 1)), ValueError, r"input_shape=\(28, 28, 1\) must have 4 dimension"),
    ("convnet_lstm", dict(input_shape=(3, 6, 6, 1), filters=(4, 8, 16)), ValueError,
     r"images too small for 3 pooling layers.*at least 8"),
    ("convnet_lstm", dict(input_shape=(2000, 28, 28, 1)), ValueError, "2000 images per sequence; at most 1024"),
    ("convnet_lstm", dict(lstm_units=0), ValueError, "lstm_units=0 is out of range"),
    ("convnet_lstm", dict(bidirectional="yes"), TypeError, "bidirectional='yes' must be True or False"),
    ("mini_gpt", dict(embed_dim=10, num_heads=4), ValueError, "embed_dim=10 must be a multiple of num_heads=4"),
    ("mini_gpt", dict(num_layers=49), ValueError, "num_layers=49 is out of range"),
    ("mini_gpt", dict(vocab_size=1), ValueError, "vocab_size=1 is out of range"),
    # Id 0 is padding: a vocabulary needs it and at least one word.
    ("lstm_sentiment", dict(vocab_size=1), ValueError, r"vocab_size=1 is out of range; use an integer >= 2"),
    ("mini_transformer", dict(vocab_size=1), ValueError, r"vocab_size=1 is out of range; use an integer >= 2"),
    ("mini_bert", dict(vocab_size=10, mask_id=10), ValueError, r"mask_id=10 is not a token id.*\[1, 9\]"),
    ("mini_bert", dict(sequence_length=10, max_predictions=11), ValueError,
     "max_predictions=11 is more than the sequence_length=10 tokens.*use at most 10"),
    ("mini_bert", dict(embed_dim=10, num_heads=4), ValueError, "embed_dim=10 is not divisible by num_heads=4"),
    ("mini_bert", dict(vocab_size=2), ValueError, "vocab_size=2 is out of range"),
    ("mini_bert", dict(vocab_size=10, predicted_tokens=11), ValueError,
     "predicted_tokens=11 is more than the vocab_size=10 token ids there are; use at most 10"),
    ("attention_seq2seq", dict(target_length=0), ValueError, "target_length=0 is out of range"),
    ("attention_seq2seq", dict(attention="no"), TypeError, "attention='no' must be True or False"),
    ("attention_seq2seq", dict(source_vocab=1), ValueError, "source_vocab=1 is out of range"),
    ("inception", dict(block="residual"), ValueError, "block='residual' is not supported; use one of 'inception', 'plain'"),
    ("vgg16_transfer", dict(input_shape=(16, 16, 3), weights=None), ValueError, "at least 32x32"),
    ("vgg16_transfer", dict(input_shape=(64, 64, 1), weights=None), ValueError, "3 RGB channels"),
    ("vgg16_transfer", dict(fine_tune_layers=14, weights=None), ValueError, "fine_tune_layers=14.*between 0 and 13"),
    ("vgg16_transfer", dict(pooling="mean", weights=None), ValueError, "pooling='mean'.*'avg'"),
    ("vgg16_transfer", dict(weights="imagenet21k"), ValueError, "weights='imagenet21k'.*'imagenet', 'hed_bsds500'.*None"),
    ("vgg16_transfer", dict(weights=None, feature_layer="block6_pool"), ValueError, "feature_layer='block6_pool'"),
    ("vgg16_transfer", dict(weights=3), TypeError, "weights=3"),
    ("vgg16_transfer", dict(weights="/no/such/vgg16.h5"), FileNotFoundError, "/no/such/vgg16.h5 does not exist"),
    ("style_transfer", dict(content_layers=("block6_conv1",), weights=None), ValueError, "content_layers='block6_conv1'"),
    ("style_transfer", dict(style_layers=(), weights=None), TypeError, "style_layers=()"),
    ("style_transfer", dict(style_layers=("block3_conv4",), weights=None), ValueError, "block3_conv4"),
    ("style_transfer", dict(backbone="resnet50", weights=None), ValueError, "backbone='resnet50'.*'vgg19'"),
    ("style_transfer", dict(backbone="vgg19", weights="hed_bsds500"), ValueError, "holds VGG16 layers only"),
    ("lstm_sentiment", dict(num_classes=1), ValueError, "num_classes=1"),
    ("lstm_sentiment", dict(lstm_units=0), ValueError, "lstm_units=0"),
    ("lstm_sentiment", dict(bidirectional="yes"), TypeError, "bidirectional='yes'.*True or False"),
    ("lstm_sentiment", dict(vocab_size=None), TypeError, "vocab_size=None"),
    ("mini_transformer", dict(embed_dim=30, num_heads=4), ValueError, "embed_dim=30 is not divisible by num_heads=4"),
    ("mini_transformer", dict(num_heads=0), ValueError, "num_heads=0"),
    ("mini_transformer", dict(dropout=-0.1), ValueError, "dropout=-0.1"),
    ("mini_transformer", dict(sequence_length=0), ValueError, "sequence_length=0"),
]


def test_every_entry_has_at_least_three_bad_argument_cases():
    counts = {name: sum(row[0] == name for row in BAD_ARGUMENTS) for name in zoo.list_models()}
    assert min(counts.values()) >= 3, counts


@pytest.mark.parametrize("name, overrides, error, message", BAD_ARGUMENTS,
                         ids=[f"{row[0]}-{next(iter(row[1]))}" for row in BAD_ARGUMENTS])
def test_bad_argument_is_a_clear_fast_error(name, overrides, error, message):
    start = time.monotonic()
    with pytest.raises(error, match=message) as caught:
        zoo.get(name, **overrides)
    assert time.monotonic() - start < 5
    assert str(caught.value).startswith(name + ":")


@pytest.fixture
def no_network(monkeypatch, tmp_path):
    """No cached weights and every outbound connection refused, as on an offline machine."""
    monkeypatch.setenv("KERAS_HOME", str(tmp_path / "keras_home"))

    def refuse(address, *args, **kwargs):
        raise OSError(f"network unreachable (test): {address}")

    monkeypatch.setattr(socket, "create_connection", refuse)


@pytest.mark.parametrize("name", ["vgg16_transfer", "style_transfer"])
def test_imagenet_weights_offline_fail_fast_and_say_how_to_fix(name, no_network, tmp_path):
    start = time.monotonic()
    with pytest.raises(WeightsUnavailableError) as caught:
        zoo.get(name)
    assert time.monotonic() - start < 5
    message = str(caught.value)
    assert "vgg16_weights_tf_dim_ordering_tf_kernels_notop.h5" in message
    assert str(tmp_path / "keras_home" / "models") in message
    assert "weights=None" in message and "KERAS_HOME" in message
    # The entries that fit the model and need no network, read from the weights records.
    assert "use weights that need no network: weights='hed_bsds500' (vgg16)" in message


def test_weights_from_a_file_are_loaded(tmp_path):
    import keras

    source = keras.applications.VGG16(include_top=False, weights=None, input_shape=(32, 32, 3))
    path = str(tmp_path / "vgg16_notop.weights.h5")
    source.save_weights(path)
    model = zoo.get("vgg16_transfer", input_shape=(32, 32, 3), weights=path)
    loaded = model.get_layer("vgg16").get_layer("block5_conv3").get_weights()[0]
    np.testing.assert_array_equal(loaded, source.get_layer("block5_conv3").get_weights()[0])


# Keras warns about every layer it cannot match before it gives up: expected here.
@pytest.mark.filterwarnings("ignore:Skipping nested container:UserWarning")
def test_weights_file_of_another_model_is_a_clear_error(tmp_path):
    path = str(tmp_path / "mlp.weights.h5")
    zoo.get("mlp").save_weights(path)
    with pytest.raises(ValueError, match=r"(?s)could not load weights from .*mlp.weights.h5.*does not match vgg16.*"
                                         r"Pass a weights file saved from keras\.applications\.VGG16\(include_top=False\)\.$"):
        zoo.get("vgg16_transfer", input_shape=(32, 32, 3), weights=path)


def test_stylize_refuses_a_batch_instead_of_one_image():
    from zoo.models.style_transfer import stylize

    with pytest.raises(ValueError, match=r"content_image has shape \(2, 32, 32, 3\); pass one RGB image"):
        stylize(np.zeros((2, 32, 32, 3)), np.zeros((32, 32, 3)), loss_network=None)
