"""What each model promises beyond "it trains": masking, freezing, personalities."""

import numpy as np
import pytest

import zoo


# On a GPU, float32 matmuls and convolutions run as TF32 (10-bit mantissa): two computations of
# the same values agree to about 1e-3 of their size, not to 1e-5 absolute (issue 13).
RTOL = 1e-3


def numpy(x):
    """Any backend's tensor (a torch tensor that requires grad too) as a numpy array."""
    import keras

    return keras.ops.convert_to_numpy(x)


def assert_close(actual, expected, rtol=RTOL):
    """Equal up to ``rtol`` of each value, or of the largest value for those near zero."""
    actual, expected = numpy(actual), numpy(expected)
    scale = max(float(np.abs(expected).max()), 1e-12)
    np.testing.assert_allclose(actual, expected, rtol=rtol, atol=0.1 * rtol * scale)


def assert_different(first, second, fraction=1e-2):
    """Not equal: the largest difference is at least ``fraction`` of the values' size (far above rounding)."""
    first, second = numpy(first), numpy(second)
    difference, scale = float(np.abs(first - second).max()), float(np.abs(first).max())
    assert difference > fraction * scale, f"largest difference {difference:.3g} for values up to {scale:.3g}"


LSTM_REVIEWS = [[5, 9, 2, 7], [3, 12], [8, 1, 4, 4, 6, 2]]


@pytest.mark.parametrize("arguments", [dict(), dict(num_layers=2, bidirectional=True)],
                         ids=["one_layer", "two_bidirectional_layers"])
def test_lstm_ignores_the_padding_after_each_review(arguments):
    """Token id 0 is padding: a review gets the same summary alone or padded to any length in a batch."""
    import keras

    model = zoo.get("lstm_sentiment", vocab_size=30, embedding_dim=8, lstm_units=8, **arguments)
    # The LSTM's summary of the review, before the softmax squashes differences.
    summary = keras.Model(model.input, model.get_layer("predictions").input)
    alone = [numpy(summary(np.array([review], dtype="int32")))[0] for review in LSTM_REVIEWS]
    for padded_length in (6, 15):
        batch = np.zeros((len(LSTM_REVIEWS), padded_length), dtype="int32")
        for row, review in enumerate(LSTM_REVIEWS):
            batch[row, :len(review)] = review
        padded = numpy(summary(batch))
        for row in range(len(LSTM_REVIEWS)):
            assert_close(padded[row], alone[row])
    # ... while a real token, changed, does change it.
    changed = np.array([[5, 9, 3, 7]], dtype="int32")
    assert_different(summary(changed)[0], alone[0])


def test_transformer_ignores_padding():
    """Token id 0 is padding: padded positions (with their own position vectors) must not leak in."""
    import keras

    model = zoo.get("mini_transformer", vocab_size=30, sequence_length=10, embed_dim=8, num_heads=2, ff_dim=8,
                    num_layers=2)
    tokens = np.array([[5, 9, 2, 7, 0, 0, 0, 0, 0, 0]], dtype="int32")
    changed = tokens.copy()
    changed[0, 2] = 3

    # The model takes exactly sequence_length tokens, so compare its blocks on the real tokens alone.
    def encode(ids):
        mask = ids != 0
        # As a plain array, so only the explicit mask= can hide the padding (no Keras mask rides along).
        x = numpy(model.get_layer("embedding")(ids))
        for index in (1, 2):
            x = model.get_layer(f"encoder_{index}")(x, mask=mask)
        return numpy(x)

    real_positions = encode(tokens)[:, :4]
    assert_close(real_positions, encode(tokens[:, :4]))
    pooling = keras.Model(model.input, model.get_layer("pooling").output)
    assert_close(pooling(tokens), real_positions.mean(axis=1))
    assert_different(pooling(changed), pooling(tokens))


def test_transformer_output_depends_on_token_order():
    """Attention alone is blind to order; the position embedding is what makes "not good" differ from "good not"."""
    import keras

    model = zoo.get("mini_transformer", vocab_size=30, sequence_length=6, embed_dim=8, num_heads=2, ff_dim=8,
                    dropout=0.0)
    tokens = np.array([[5, 9, 2, 7, 11, 4]], dtype="int32")
    reordered = tokens[:, ::-1].copy()
    embedded = numpy(model.get_layer("embedding")(np.full((1, 6), 5, dtype="int32")))[0]
    for position in range(1, 6):  # one token, six places: six different vectors
        assert_different(embedded[position], embedded[0])
    pooling = keras.Model(model.input, model.get_layer("pooling").output)
    assert_different(pooling(reordered), pooling(tokens))


def order_task(rng, examples, length=6):
    """Token ids 3-9 with one 1 and one 2 in each row; the label: does the 1 come first? Counting can't tell."""
    x = rng.integers(3, 10, size=(examples, length))
    for row in x:
        row[rng.choice(length, 2, replace=False)] = [1, 2]
    return x.astype("int32"), (np.argmax(x == 1, axis=1) < np.argmax(x == 2, axis=1)).astype("int32")


def test_transformer_learns_an_order_rule_on_held_out_reviews():
    import keras

    rng = np.random.default_rng(0)
    (x, y), (x_held_out, y_held_out) = order_task(rng, 512), order_task(rng, 256)
    model = zoo.get("mini_transformer", vocab_size=10, sequence_length=6, embed_dim=16, num_heads=2, ff_dim=16,
                    dropout=0.0)
    model.compile(keras.optimizers.Adam(0.01), "sparse_categorical_crossentropy", metrics=["accuracy"])
    model.fit(x, y, epochs=20, batch_size=64, verbose=0)
    accuracy = model.evaluate(x_held_out, y_held_out, verbose=0)[1]
    # Same tokens, either order, half the time each: without positions a model is stuck near 0.5.
    assert accuracy >= 0.9, f"held-out accuracy {accuracy:.3f} on the order rule"


def test_attention_scores_ignore_padding():
    import keras

    model = zoo.get("mini_transformer", vocab_size=30, sequence_length=6, embed_dim=8, num_heads=2, ff_dim=8)
    tokens = np.array([[3, 4, 5, 0, 0, 0]], dtype="int32")
    embedded = model.get_layer("embedding")(tokens)
    # With the Keras mask the embedding attaches, and with the explicit mask= alone on a plain array.
    for inputs in (embedded, keras.ops.convert_to_numpy(embedded)):
        _, scores = model.get_layer("encoder_1")(inputs, mask=tokens != 0, return_attention_scores=True)
        scores = keras.ops.convert_to_numpy(scores)
        assert scores.shape == (1, 2, 6, 6)
        np.testing.assert_allclose(scores[..., 3:], 0.0, atol=1e-6)
        # Each real token's attention is a distribution over the real tokens.
        np.testing.assert_allclose(scores[:, :, :3].sum(axis=-1), 1.0, rtol=RTOL)


def reversal_task(rng, examples, length=7, steps=3):
    """Token ids 1-9, 4 to ``length`` of them then padding; the answer: the first ``steps`` tokens, last first."""
    x = rng.integers(1, 10, size=(examples, length))
    for row, real in zip(x, rng.integers(4, length + 1, size=examples)):
        row[real:] = 0
    return x.astype("int32"), x[:, steps - 1::-1].astype("int32")


def test_mini_bert_hands_its_encoder_to_a_mini_transformer_by_name():
    """After copy_encoder the classifier's encoder computes what the pretrained one does; the heads stay apart."""
    from zoo.models.bert import copy_encoder

    sizes = dict(vocab_size=30, sequence_length=6, embed_dim=8, num_heads=2, ff_dim=16, dropout=0.0)
    pretrained = zoo.get("mini_bert", max_predictions=2, num_layers=2, **sizes)
    classifier = zoo.get("mini_transformer", num_classes=2, num_layers=2, **sizes)
    assert copy_encoder(pretrained, classifier) == ["embedding", "encoder_1", "encoder_2"]
    ids = np.array([[3, 7, 1, 4, 0, 0]], dtype="int32")

    def encoded(model):
        embedding = model.get_layer("embedding")
        x, mask = embedding(ids), embedding.compute_mask(ids)
        for name in ("encoder_1", "encoder_2"):
            x = model.get_layer(name)(x, mask=mask)
        return numpy(x)

    np.testing.assert_allclose(encoded(classifier), encoded(pretrained), rtol=RTOL, atol=RTOL)
    assert numpy(classifier.get_layer("predictions").kernel).shape == (8, 2)   # its own head, untouched
    with pytest.raises(ValueError, match=r"layer 'embedding': mini_bert's weights have shapes \[\(30, 8\), \(6, 8\)\], "
                                         r"mini_transformer's \[\(31, 8\), \(6, 8\)\]; .*same vocab_size"):
        copy_encoder(pretrained, zoo.get("mini_transformer", num_layers=2, **{**sizes, "vocab_size": 31}))
    with pytest.raises(ValueError, match="has no layer 'encoder_2'.*num_layers=2"):
        copy_encoder(pretrained, zoo.get("mini_transformer", **sizes))


def test_attention_seq2seq_learns_to_reverse_held_out_sequences_by_looking_at_the_right_token():
    import keras

    from zoo.models.seq2seq import attention_weights

    rng = np.random.default_rng(0)
    (x, y), (x_held_out, y_held_out) = reversal_task(rng, 1024), reversal_task(rng, 256)
    model = zoo.get("attention_seq2seq", source_vocab=10, target_vocab=10, target_length=3, embedding_dim=8,
                    encoder_units=16, decoder_units=32, attention_units=16)
    model.compile(keras.optimizers.Adam(0.01), "sparse_categorical_crossentropy")
    model.fit(x, y, epochs=15, batch_size=64, verbose=0)
    answers = model.predict(x_held_out, verbose=0).argmax(axis=-1)
    exact = float((answers == y_held_out).all(axis=1).mean())
    assert exact >= 0.9, f"held-out exact match {exact:.3f} on reversing the first three tokens"
    # Each output step reads the token it copies: step 0 the third token, step 1 the second, step 2 the first.
    looked_at = attention_weights(model, x_held_out).argmax(axis=-1)
    aligned = float((looked_at == np.array([2, 1, 0])).mean())
    assert aligned >= 0.8, f"only {aligned:.2f} of the output steps attend most to the token they copy"


@pytest.mark.parametrize("attention", [True, False])
def test_attention_weights_give_padding_nothing_and_sum_to_one(attention):
    from zoo.models.seq2seq import attention_weights

    model = zoo.get("attention_seq2seq", source_vocab=10, target_vocab=10, target_length=3, embedding_dim=4,
                    encoder_units=4, decoder_units=8, attention_units=4, attention=attention)
    sources = [[3, 5, 7, 0, 0], [4, 0, 0, 0, 0], [1, 2, 3, 4, 5]]
    weights = attention_weights(model, sources)
    real = np.array(sources) != 0
    assert weights.shape == (3, 3, 5)
    assert np.all(weights[np.broadcast_to(~real[:, None, :], weights.shape)] == 0), "padding was read"
    np.testing.assert_allclose(weights.sum(axis=-1), 1, rtol=1e-4)
    if not attention:  # without attention the decoder reads the average of the real positions
        uniform = real[:, None, :] / real.sum(axis=1)[:, None, None]
        np.testing.assert_allclose(weights, np.broadcast_to(uniform, weights.shape), rtol=1e-4)


@pytest.mark.parametrize("fine_tune_layers, trainable_convs", [(0, 0), (3, 3), (13, 13)])
def test_vgg16_transfer_freezes_all_but_the_last_conv_layers(fine_tune_layers, trainable_convs):
    model = zoo.get("vgg16_transfer", input_shape=(32, 32, 3), weights=None, fine_tune_layers=fine_tune_layers)
    base = model.get_layer("vgg16")
    trainable = [layer.name for layer in base.layers if layer.trainable and layer.weights]
    assert len(trainable) == trainable_convs
    if trainable_convs == 3:
        assert trainable == ["block5_conv1", "block5_conv2", "block5_conv3"]
    head = 2 * 512 + 512 * 2 + 2  # LayerNormalization + Dense(2)
    assert sum(int(np.prod(w.shape)) for w in model.trainable_weights) == head + sum(
        int(np.prod(w.shape)) for name in trainable for w in base.get_layer(name).weights)


def test_vgg16_transfer_cut_and_split_head_share_the_models_weights():
    import keras

    from zoo.models.vgg16_transfer import split_head

    model = zoo.get("vgg16_transfer", input_shape=(32, 32, 3), num_classes=3, weights=None,
                    feature_layer="block3_pool", pooling="flatten", fine_tune_layers=2)
    assert model.get_layer("vgg16").output.shape[1:] == (4, 4, 256)
    assert [layer.name for layer in model.get_layer("vgg16").layers if layer.trainable and layer.weights] == [
        "block3_conv2", "block3_conv3"]
    features, head = split_head(model)
    images = np.random.default_rng(0).uniform(0, 255, (4, 32, 32, 3)).astype("float32")
    vectors = features.predict(images, verbose=0)
    assert vectors.shape == (4, 4 * 4 * 256)
    assert_close(head.predict(vectors, verbose=0), model.predict(images, verbose=0))
    assert (features.name, head.name, head.input.name) == ("vgg16_transfer_features", "vgg16_transfer_head",
                                                           "features")
    # The head is the model's own feature_norm + predictions layers, and it is trainable.
    features_size = 4 * 4 * 256
    assert [layer.name for layer in head.layers[1:]] == ["feature_norm", "predictions"]
    assert all(head.get_layer(layer.name) is model.get_layer(layer.name) for layer in head.layers[1:])
    assert sum(int(np.prod(w.shape)) for w in head.trainable_weights) == 2 * features_size + (features_size + 1) * 3
    before = [keras.ops.convert_to_numpy(w).copy() for w in model.get_layer("predictions").weights]
    # Training the head on stored features trains the model itself.
    head.compile(keras.optimizers.SGD(0.5), "sparse_categorical_crossentropy")
    head.fit(vectors, np.array([0, 1, 2, 0]), epochs=2, verbose=0)
    after = [keras.ops.convert_to_numpy(w) for w in model.get_layer("predictions").weights]
    moved = [float(np.abs(a - b).max()) for a, b in zip(after, before)]
    assert min(moved) > 1e-4, f"fit left the model's predictions layer unchanged (largest steps {moved})"
    assert_close(head.predict(vectors, verbose=0), model.predict(images, verbose=0))


def test_convnet_first_layer_maps_are_its_first_filters_and_what_they_see():
    from zoo.models.convnet import first_layer_maps

    model = zoo.get("convnet", input_shape=(9, 9, 2), num_classes=3, filters=(4,), kernel_size=3, dense_units=0)
    rng = np.random.default_rng(0)
    images = rng.normal(size=(2, 9, 9, 2)).astype("float32")
    kernel, bias = (numpy(w) for w in model.get_layer("conv_1").weights)
    kernels, maps = first_layer_maps(model, images)
    # The filters of the first input channel, one (height, width) grid per filter.
    np.testing.assert_array_equal(kernels, np.moveaxis(kernel[:, :, 0, :], -1, 0))
    # The maps, computed here without Keras: a "same" 3x3 convolution over both channels, then relu.
    padded = np.pad(images, ((0, 0), (1, 1), (1, 1), (0, 0)))
    windows = np.stack([padded[:, i:i + 9, j:j + 9, :] for i in range(3) for j in range(3)], axis=3)
    expected = np.maximum(np.einsum("bhwkc,kcf->bfhw", windows, kernel.reshape(9, 2, 4)) + bias[:, None, None], 0)
    assert maps.shape == (2, 4, 9, 9)
    assert_close(maps, expected)


def test_convnet_lstm_image_reader_is_the_convnet_every_step_shares():
    import keras

    from zoo.models.hybrid import image_reader

    model = zoo.get("convnet_lstm", input_shape=(3, 8, 8, 1), num_classes=2, filters=(4,), dense_units=5,
                    lstm_units=3)
    sequences = np.random.default_rng(0).uniform(size=(2, 3, 8, 8, 1)).astype("float32")
    reader = image_reader(model)
    assert reader.name == "image_reader" and reader.output.shape[1:] == (5,)
    read = keras.Model(model.input, model.get_layer("read_each_image").output).predict(sequences, verbose=0)
    for step in range(3):
        assert_close(reader.predict(sequences[:, step], verbose=0), read[:, step])


def test_inception_plain_width_keeps_a_blocks_parameters_closest_to_the_modules():
    from zoo.models.inception import plain_width

    for channels in (1, 3, 16, 64):
        per_filter = 9 * channels + 1   # a 3x3 kernel over the channels, and a bias
        for params in (1, per_filter // 2, per_filter + 3, 2 * per_filter - 1, 12_345, 300_000):
            width = plain_width(channels, params)
            candidates = range(1, width + 2)
            best = min(candidates, key=lambda filters: (abs(filters * per_filter - params), filters))
            assert width == best, f"plain_width({channels}, {params}) = {width}, closest is {best}"


def test_vgg16_transfer_preprocesses_raw_rgb_inside():
    model = zoo.get("vgg16_transfer", input_shape=(32, 32, 3), weights=None)
    pixel = np.array([[[[255.0, 0.0, 10.0]]]], dtype="float32")  # R, G, B
    bgr_centred = numpy(model.get_layer("preprocessing")(pixel))[0, 0, 0]
    np.testing.assert_allclose(bgr_centred, [10 - 103.939, 0 - 116.779, 255 - 123.68], rtol=1e-6)


@pytest.mark.parametrize("personality, activation, low, high", [
    ("rationalist", "sigmoid", 0.0, 1.0), ("pessimist", "tanh", -1.0, 1.0), ("optimist", "relu", 0.0, np.inf),
])
def test_perceptron_personalities_have_their_output_range(personality, activation, low, high):
    by_name = zoo.get("perceptron", input_shape=(3,), activation=personality)
    assert by_name.get_layer("activation").get_config()["activation"] == activation
    outputs = numpy(by_name(np.random.default_rng(0).normal(scale=50, size=(256, 3)).astype("float32")))
    assert outputs.min() >= low and outputs.max() <= high
    assert outputs.min() < low + 0.01 or activation == "relu"  # the range is reached, not just bounded
    if activation == "relu":
        assert (outputs == 0).any() and outputs.max() > 1


# The lesson itself: the weights get no gradient through a constant activation.
@pytest.mark.filterwarnings("ignore:Gradients do not exist:UserWarning")
def test_naive_perceptron_learns_only_the_majority_class():
    import keras

    rng = np.random.default_rng(0)
    x = rng.normal(size=(200, 5)).astype("float32")
    y = (np.arange(200) < 140).astype("float32").reshape(-1, 1)  # 70% positives
    model = zoo.get("perceptron", input_shape=(5,), activation="naive")
    model.compile(optimizer=keras.optimizers.Adam(0.05), loss=zoo.info("perceptron").loss_for(activation="naive"),
                  metrics=["accuracy"])
    model.fit(x, y, epochs=60, batch_size=200, verbose=0)
    predictions = numpy(model(x))
    assert np.ptp(predictions) == 0  # the same answer for everyone
    np.testing.assert_allclose(predictions[0, 0], 0.7, atol=0.02)  # ... the positive rate
    assert model.evaluate(x, y, verbose=0)[1] == pytest.approx(0.7)  # majority-class accuracy


def test_style_transfer_gram_matrix_is_channel_co_activation():
    from zoo.layers import GramMatrix

    features = np.zeros((1, 2, 2, 2), dtype="float32")
    features[0, :, :, 0] = 1.0          # channel 0 on everywhere
    features[0, 0, 0, 1] = 2.0          # channel 1 on in one corner
    gram = numpy(GramMatrix()(features))[0]
    np.testing.assert_allclose(gram, [[1.0, 0.5], [0.5, 1.0]])


def test_style_transfer_can_use_vgg19_and_custom_layers():
    model = zoo.get("style_transfer", input_shape=(None, None, 3), weights=None, backbone="vgg19",
                    content_layers=["block4_conv4"], style_layers=["block1_conv1", "block3_conv4"])
    outputs = model(np.zeros((1, 48, 40, 3), "float32"))
    assert sorted(outputs) == ["content_block4_conv4", "style_block1_conv1", "style_block3_conv4"]
    assert outputs["content_block4_conv4"].shape == (1, 6, 5, 512)
    assert outputs["style_block3_conv4"].shape == (1, 256, 256)
    assert not model.trainable_weights


def test_the_model_name_is_an_ordinary_override():
    assert zoo.get("mlp", name="digits_reader").name == "digits_reader"


def test_the_mlp_default_is_one_hidden_layer_of_half_the_inputs_and_never_empty():
    from zoo.models.mlp import default_hidden_units

    assert default_hidden_units((64,)) == default_hidden_units((8, 8)) == (32,)
    assert default_hidden_units((3,)) == default_hidden_units((1,)) == (1,)
    assert zoo.get("mlp", input_shape=(3,), num_classes=2).get_layer("hidden_1").units == 1


def test_style_transfer_losses_weigh_as_stylize_does_by_default():
    """The losses a recipe reports use stylize's weights unless told otherwise: content 1, style 1e-4, TV 1."""
    import inspect

    from zoo.models.style_transfer import style_transfer_losses, stylize

    reported, minimised = inspect.signature(style_transfer_losses), inspect.signature(stylize)
    for weight in ("content_weight", "style_weight", "total_variation_weight"):
        assert reported.parameters[weight].default == minimised.parameters[weight].default
    network = zoo.get("style_transfer", input_shape=(32, 32, 3), weights=None, content_layers=("block1_conv2",),
                      style_layers=("block1_conv1", "block2_conv1"))
    rng = np.random.default_rng(0)
    photo, image = (rng.uniform(0, 255, (1, 32, 32, 3)).astype("float32") for _ in range(2))
    targets = network(photo)
    unweighted = style_transfer_losses(network, image, targets, 1.0, 1.0, 1.0)
    weighted = style_transfer_losses(network, image, targets)
    assert weighted["content"] == pytest.approx(unweighted["content"], rel=1e-5)
    assert weighted["style"] == pytest.approx(1e-4 * unweighted["style"], rel=1e-5)
    assert weighted["total_variation"] == pytest.approx(unweighted["total_variation"], rel=1e-5)
    assert weighted["total"] == pytest.approx(weighted["content"] + weighted["style"] + weighted["total_variation"])


def test_style_transfer_losses_are_weighted_means_over_their_layers():
    """content = content_weight * the mean of the content layers' losses; style likewise; TV weighed once."""
    from keras import ops

    from zoo.models.style_transfer import content_loss, style_loss, style_transfer_losses, total_variation_loss

    network = zoo.get("style_transfer", input_shape=(32, 32, 3), weights=None,
                      content_layers=("block1_conv2", "block2_conv2"),
                      style_layers=("block1_conv1", "block2_conv1", "block3_conv1"))
    rng = np.random.default_rng(1)
    photo, image = (rng.uniform(0, 255, (1, 32, 32, 3)).astype("float32") for _ in range(2))
    targets, outputs = network(photo), network(image)
    value = lambda tensor: float(ops.convert_to_numpy(tensor))  # noqa: E731
    per_layer = {kind: [value(loss(outputs[key], targets[key])) for key in outputs if key.startswith(kind)]
                 for kind, loss in (("content_", content_loss), ("style_", style_loss))}
    assert [len(per_layer["content_"]), len(per_layer["style_"])] == [2, 3]
    assert len(set(per_layer["content_"])) == 2 and len(set(per_layer["style_"])) == 3  # the mean is not a copy
    losses = style_transfer_losses(network, image, targets, 2.0, 3e-4, 0.5)
    assert losses["content"] == pytest.approx(2.0 * np.mean(per_layer["content_"]), rel=1e-4)
    assert losses["style"] == pytest.approx(3e-4 * np.mean(per_layer["style_"]), rel=1e-4)
    assert losses["total_variation"] == pytest.approx(0.5 * value(total_variation_loss(image)), rel=1e-4)
    assert losses["total"] == pytest.approx(losses["content"] + losses["style"] + losses["total_variation"])


def test_wrong_layer_and_activation_names_are_answered_with_the_right_ones():
    from zoo.models.perceptron import resolve_activation
    from zoo.models.vgg import conv_index

    with pytest.raises(ValueError, match=r"'block3_pool' is a pooling layer, not a convolution; conv layers are "
                                         r"named like 'block3_conv2'\."):
        conv_index("block3_pool")
    with pytest.raises(TypeError, match=r"one of 'sigmoid', 'tanh', 'relu', 'constant', 'rationalist', "
                                        r"'pessimist', 'optimist', 'naive'\.$"):
        resolve_activation(3)


def test_style_transfer_layers_must_be_a_non_empty_list_and_the_error_shows_what_was_given():
    for value, shown in (([], r"\[\]"), (3, "3"), ({"block1_conv1"}, r"\{'block1_conv1'\}")):
        with pytest.raises(TypeError, match=rf"^style_transfer: style_layers={shown} must be a non-empty list of "
                                            r"layer names\.$"):
            zoo.get("style_transfer", weights=None, style_layers=value)


def test_stylize_names_each_bad_argument():
    from zoo.models.style_transfer import stylize

    image, network = np.full((32, 32, 3), 128.0, "float32"), object()  # refused before the network is used
    for arguments, message in [
        (dict(style_image=np.zeros((32, 32))), r"^stylize: style_image has shape \(32, 32\); pass one RGB image"),
        (dict(content_image=np.zeros((2, 32, 32, 3))), r"^stylize: content_image has shape \(2, 32, 32, 3\)"),
        (dict(steps=0), r"^stylize: steps=0 is out of range"),
        (dict(learning_rate=float("nan")), r"^stylize: learning_rate=nan is not a finite number"),
        (dict(content_weight="1"), r"^stylize: content_weight='1' must be a number"),
        (dict(style_weight=-1e-4), r"^stylize: style_weight=-0.0001 is out of range"),
        (dict(total_variation_weight=float("inf")), r"^stylize: total_variation_weight=inf is not a finite"),
        (dict(jit_compile="yes"), r"^stylize: jit_compile='yes' must be True, False or 'auto'\.$"),
        (dict(jit_compile=1), r"^stylize: jit_compile=1 must be True"),
    ]:
        arguments = {"content_image": image, "style_image": image, "loss_network": network, **arguments}
        with pytest.raises((ValueError, TypeError), match=message):
            stylize(**arguments)


def test_stylize_compiles_the_painter_as_asked_and_by_default_as_documented():
    import keras

    from zoo.models.style_transfer import stylize

    network = zoo.get("style_transfer", input_shape=(None, None, 3), weights=None,
                      content_layers=("block1_conv1",), style_layers=("block1_conv2",))
    image = np.full((8, 8, 3), 128.0, "float32")

    class Seen(Exception):
        pass

    class Look(keras.callbacks.Callback):  # stops fit before its first step: only the set-up is looked at
        def on_train_begin(self, logs=None):
            raise Seen(self.model.name, self.model.jit_compile, self.params["epochs"], self.params["verbose"],
                       self.model.get_compile_config()["loss_weights"])

    with pytest.raises(Seen) as defaults:
        stylize(image, image, network, callbacks=[Look()])
    name, _, steps, verbose, loss_weights = defaults.value.args   # jit_compile="auto": Keras's choice per backend
    assert (name, steps, verbose) == ("style_transfer_painter", 200, 0)
    assert loss_weights == {"content_block1_conv1": 1.0, "style_block1_conv2": 1e-4, "total_variation": 1.0}
    with pytest.raises(Seen) as asked:
        stylize(image, image, network, steps=7, jit_compile=True, verbose=2, callbacks=[Look()])
    assert asked.value.args[1:4] == (True, 7, 2)


def test_stylize_paints_the_pixels_and_leaves_the_network_alone(capsys, monkeypatch, tmp_path):
    import keras

    from zoo.models.style_transfer import style_transfer_losses, stylize
    from zoo.weights import WeightsUnavailableError

    # Two content layers, and weights that give each term a fair share of the loss once the canvas has moved
    # (unweighted: content ~0.3, style ~40, TV ~170): stylize must average and weigh each as it reports.
    network = zoo.get("style_transfer", input_shape=(None, None, 3), weights=None,
                      content_layers=("block1_conv2", "block2_conv2"), style_layers=("block1_conv1", "block2_conv1"))
    weights = dict(content_weight=100.0, style_weight=1.0, total_variation_weight=0.2)
    before = [keras.ops.convert_to_numpy(w).copy() for w in network.weights]
    rng = np.random.default_rng(0)
    content = rng.integers(0, 256, (32, 32, 3)).astype("uint8")  # a photo as read from disk
    style = rng.uniform(0, 255, (40, 40, 3))
    # The weighting stylize minimises is style_transfer_losses' with the same weights.
    targets = {key: value for key, value in network.predict(content[None].astype("float32"), verbose=0).items()
               if key.startswith("content_")}
    targets.update({key: value for key, value in network.predict(style[None], verbose=0).items()
                    if key.startswith("style_")})
    expected = style_transfer_losses(network, content[None].astype("float32"), targets, **weights)

    class Canvases(keras.callbacks.Callback):  # callbacks find the image as the "canvas" layer
        images = []

        def on_epoch_end(self, epoch, logs=None):
            self.images.append(keras.ops.convert_to_numpy(self.model.get_layer("canvas").image).copy())

    network.trainable = True  # stylize freezes the network it is given
    for jit_compile in (False, True):
        Canvases.images = []
        result = stylize(content, style, network, steps=3, jit_compile=jit_compile, callbacks=[Canvases()],
                         **weights)
        assert len(result.history["loss"]) == 3 and result.image.shape == (32, 32, 3)
        assert result.image.dtype == np.float32 and 0 <= result.image.min() and result.image.max() <= 255
        assert result.final_losses["total"] < result.initial_losses["total"]
        for key, value in expected.items():
            assert result.initial_losses[key] == pytest.approx(value, rel=1e-4), key
        final = style_transfer_losses(network, result.image[None], targets, **weights)
        assert result.final_losses == pytest.approx(final, rel=1e-4) and final["content"] > 0
        # Keras's loss at the first step, before any update, is that same weighted total (its content term is 0:
        # the canvas starts as the photo) ...
        assert result.history["loss"][0] == pytest.approx(expected["total"], rel=1e-3)
        # ... and at each later step it is the weighted total of the canvas the step before left.
        for step in (1, 2):
            moved = style_transfer_losses(network, Canvases.images[step - 1], targets, **weights)
            assert min(moved[key] for key in ("content", "style", "total_variation")) > 0.1 * moved["total"], moved
            assert result.history["loss"][step] == pytest.approx(moved["total"], rel=1e-3), step
        assert len(Canvases.images) == 3
        np.testing.assert_allclose(Canvases.images[-1][0], result.image, rtol=1e-6)
    assert capsys.readouterr().out == ""  # quiet unless verbose
    for weight, old in zip(network.weights, before):
        np.testing.assert_array_equal(keras.ops.convert_to_numpy(weight), old)
    # With no network given it builds the ImageNet-weighted one: offline, that fails at once, saying so.
    monkeypatch.setenv("ZOO_OFFLINE", "1")
    monkeypatch.setenv("KERAS_HOME", str(tmp_path))  # no cached copy either
    with pytest.raises(WeightsUnavailableError):
        stylize(content, style, steps=1)
