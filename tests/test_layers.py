"""Every custom layer through Keras's own layer test harness, as keras-hub tests its layers.

``run_layer_test`` builds each layer several ways and checks: the get_config and
serialisation round trips, the weight and seed-generator counts after ``build``,
the output shape and dtype of a symbolic and an eager call, one compiled training
step, and (``run_mixed_precision_check``) that a layer made with
``dtype="mixed_float16"`` returns the dtype its output spec announces, with float32
weights. Numeric checks use relative tolerances so that they also hold on a GPU
whose matmuls run in TF32 (about 1e-3 relative).
"""

import re

import keras
import numpy as np
import pytest
from keras import ops
from keras.src.testing import TestCase

import zoo.layers
from zoo.layers import (AttentionDecoder, ConstantOutput, GramMatrix, ImageCanvas, MaskedPositions,
                        TokenAndPositionEmbedding, TotalVariation, TransformerEncoder, VGGPreprocessing, WordCategories)
from zoo.layers.text import category_table
from zoo.layers.vision import IMAGENET_BGR_MEAN

TF32_RTOL = 1e-3
TOKENS = np.array([[3, 1, 4, 1, 5, 0], [9, 2, 6, 0, 0, 0]], dtype="int32")  # 0 = padding


def layer_norm(x, gamma=1.0, beta=0.0, epsilon=1e-6):
    """Layer normalisation over the last axis, written out in numpy (the zoo's blocks use epsilon 1e-6)."""
    centred = x - x.mean(-1, keepdims=True)
    return centred / np.sqrt(centred.var(-1, keepdims=True) + epsilon) * gamma + beta


def harness_test_name(layer_name: str) -> str:
    return f"test_{layer_name}_passes_keras_layer_tests"


class ZooLayersTest(TestCase):
    """One ``test_<Layer>_passes_keras_layer_tests`` per exported layer, plus what the harness cannot see."""

    def test_TransformerEncoder_passes_keras_layer_tests(self):
        self.run_layer_test(
            TransformerEncoder,
            init_kwargs=dict(embed_dim=8, num_heads=2, ff_dim=16, dropout=0.1),
            input_shape=(2, 5, 8),
            expected_output_shape=(2, 5, 8),
            # attention: query, key, value, output (kernel + bias each); two dense layers; two norms
            expected_num_trainable_weights=16,
            expected_num_non_trainable_weights=0,
            expected_num_seed_generators=2,  # the two dropouts; attention's own has rate 0
            supports_masking=True,
        )
        # The causal block (GPT's) is the same layer with one more setting, saved in its config.
        self.run_layer_test(
            TransformerEncoder,
            init_kwargs=dict(embed_dim=8, num_heads=2, ff_dim=16, dropout=0.1, causal=True),
            input_shape=(2, 5, 8),
            expected_output_shape=(2, 5, 8),
            expected_num_trainable_weights=16,
            expected_num_non_trainable_weights=0,
            expected_num_seed_generators=2,
            supports_masking=True,
        )

    def test_TokenAndPositionEmbedding_passes_keras_layer_tests(self):
        self.run_layer_test(
            TokenAndPositionEmbedding,
            init_kwargs=dict(vocab_size=10, sequence_length=6, embed_dim=4),
            input_data=TOKENS,
            expected_output_shape=(2, 6, 4),
            expected_num_trainable_weights=2,
            expected_num_non_trainable_weights=0,
            supports_masking=True,
            expected_mask_shape=(2, 6),
        )

    def test_AttentionDecoder_passes_keras_layer_tests(self):
        for attention, weights in ((True, 2 + 3 + 1 + 2 + 1), (False, 2 + 3)):
            # start: kernel + bias; LSTM cell: kernel, recurrent kernel, bias; keys; query: kernel + bias; score
            self.run_layer_test(
                AttentionDecoder,
                init_kwargs=dict(steps=3, units=6, attention_units=4, attention=attention),
                input_shape=(2, 5, 8),
                expected_output_shape=(2, 3, 6),
                expected_num_trainable_weights=weights,
                expected_num_non_trainable_weights=0,
                expected_num_seed_generators=1,   # Keras's LSTMCell keeps one for its (unused) dropout
                supports_masking=True,   # it reads the encoder's mask; its own output has none
            )

    def test_ConstantOutput_passes_keras_layer_tests(self):
        self.run_layer_test(
            ConstantOutput,
            init_kwargs=dict(initial_value=0.25),
            input_data=np.random.default_rng(0).normal(size=(3, 4)).astype("float32"),
            expected_output=ops.full((3, 1), 0.25, dtype="float32"),
            expected_num_trainable_weights=1,
            expected_num_non_trainable_weights=0,
        )

    def run_weightless_layer_test(self, layer_cls, init_kwargs=None, **arguments):
        self.run_layer_test(layer_cls, init_kwargs=init_kwargs or {}, expected_num_trainable_weights=0,
                            expected_num_non_trainable_weights=0,
                            run_training_check=False,  # nothing to train: Keras refuses to fit no weights
                            **arguments)

    def test_VGGPreprocessing_passes_keras_layer_tests(self):
        pixels = np.random.default_rng(0).uniform(0, 255, size=(2, 4, 4, 3)).astype("float32")
        # RGB -> BGR, minus the ImageNet means: element-wise, so exact in float32.
        expected = pixels[..., ::-1] - np.array(IMAGENET_BGR_MEAN, dtype="float32")
        self.run_weightless_layer_test(VGGPreprocessing, input_data=pixels,
                                       expected_output=ops.convert_to_tensor(expected))

    def test_GramMatrix_passes_keras_layer_tests(self):
        self.run_weightless_layer_test(GramMatrix, input_shape=(2, 3, 4, 5), expected_output_shape=(2, 5, 5),
                                       expected_output_dtype="float32")

    def test_TotalVariation_passes_keras_layer_tests(self):
        self.run_weightless_layer_test(TotalVariation, input_shape=(2, 4, 5, 3), expected_output_shape=(2,))

    def test_MaskedPositions_passes_keras_layer_tests(self):
        vectors = np.arange(2 * 6 * 3, dtype="float32").reshape(2, 6, 3)
        hidden = np.array([[3, 7, 4, 7, 5, 0], [7, 2, 6, 0, 0, 0]], dtype="int32")   # mask id 7
        self.run_weightless_layer_test(MaskedPositions, input_data=[hidden, vectors],
                                       init_kwargs=dict(max_predictions=2, mask_id=7),
                                       expected_output_shape=(2, 2, 3), expected_output_dtype="float32")

    def test_WordCategories_passes_keras_layer_tests(self):
        self.run_layer_test(
            WordCategories,
            init_kwargs=dict(vocabulary_size=10, num_categories=4, categories_per_word=3),
            input_data=TOKENS,
            expected_output_shape=(2, 4),
            expected_num_trainable_weights=0,
            expected_num_non_trainable_weights=1,   # the table, int32
            run_training_check=False,   # nothing to train: Keras refuses to fit no weights
        )

    def test_ImageCanvas_passes_keras_layer_tests(self):
        self.run_layer_test(
            ImageCanvas,
            init_kwargs=dict(shape=(4, 5, 3)),
            input_shape=(1, 1),  # ignored: the canvas is the output
            expected_output_shape=(1, 4, 5, 3),
            expected_num_trainable_weights=1,
            expected_num_non_trainable_weights=0,
        )

    # What the harness does not check: values, masks, and float32 where it is deliberate.

    def assert_mixed_float16_computes_what_float32_does(self, make, seed):
        """``make(dtype=..., name=...)`` twice, same weights: float16 out, float32 weights, the same values.

        Both layers' outputs are O(1) (layer-normalised, or LSTM states in (-1, 1)); float16 keeps
        about 3 significant digits, hence the tolerance.
        """
        inputs = np.random.default_rng(seed).normal(size=(2, 6, 8)).astype("float32")
        mask = TOKENS != 0
        full, mixed = make(name="full"), make(dtype="mixed_float16", name="mixed")
        expected = full(inputs, mask=mask)
        mixed(inputs, mask=mask)
        mixed.set_weights(full.get_weights())
        got = mixed(inputs, mask=mask)
        self.assertEqual(keras.backend.standardize_dtype(got.dtype), "float16")
        self.assertTrue(all(weight.dtype == "float32" for weight in mixed.weights))
        # Each sublayer computes in the policy it was handed, as keras-hub's layers pass theirs on.
        self.assertEqual({sublayer.name: sublayer.dtype_policy.name
                          for sublayer in mixed._flatten_layers(include_self=False, recursive=True)
                          if sublayer.dtype_policy.name != "mixed_float16"}, {})
        np.testing.assert_allclose(ops.convert_to_numpy(got).astype("float32"), ops.convert_to_numpy(expected),
                                   rtol=2e-2, atol=2e-2)

    def test_transformer_encoder_in_mixed_float16_computes_what_float32_does(self):
        self.assert_mixed_float16_computes_what_float32_does(lambda **kwargs: TransformerEncoder(8, 2, 16, **kwargs),
                                                             seed=0)

    def test_token_and_position_embedding_adds_the_two_tables_and_masks_padding(self):
        layer = TokenAndPositionEmbedding(vocab_size=10, sequence_length=6, embed_dim=4, dtype="mixed_float16")
        got = layer(TOKENS)
        self.assertEqual(keras.backend.standardize_dtype(got.dtype), "float16")
        tokens = ops.convert_to_numpy(layer.token_embedding.embeddings)
        positions = ops.convert_to_numpy(layer.position_embedding.embeddings)
        # Each table is read in the compute dtype and added there, as Keras's Embedding does.
        expected = tokens[TOKENS].astype("float16") + positions[np.arange(6)].astype("float16")
        np.testing.assert_array_equal(ops.convert_to_numpy(got), expected)
        np.testing.assert_array_equal(ops.convert_to_numpy(layer.compute_mask(TOKENS)), TOKENS != 0)

    def test_gram_matrix_stays_float32_under_mixed_precision_where_float16_overflows(self):
        # 300 on a 32x32 map: every Gram entry is 300**2 = 90000, past float16's 65504.
        features = np.full((1, 32, 32, 2), 300.0, dtype="float16")
        layer = GramMatrix(dtype="mixed_float16")
        got = layer(features)
        self.assertEqual(keras.backend.standardize_dtype(got.dtype), "float32")
        self.assertEqual(layer.compute_output_spec(keras.KerasTensor((1, 32, 32, 2), "float16")).dtype, "float32")
        np.testing.assert_allclose(ops.convert_to_numpy(got), np.full((1, 2, 2), 90000.0), rtol=TF32_RTOL)
        self.assertGreater(90000.0, float(np.finfo("float16").max))  # a float16 result would have been inf

    def test_gram_matrix_values_are_channel_co_activations(self):
        features = np.random.default_rng(0).normal(size=(2, 3, 4, 5)).astype("float32")
        expected = np.einsum("bijc,bijd->bcd", features, features) / 12
        np.testing.assert_allclose(ops.convert_to_numpy(GramMatrix()(features)), expected, rtol=TF32_RTOL,
                                   atol=TF32_RTOL * np.abs(expected).max())

    def test_total_variation_is_the_mean_neighbour_difference(self):
        images = np.random.default_rng(0).uniform(0, 255, size=(2, 4, 5, 3)).astype("float32")
        expected = (np.abs(np.diff(images, axis=1)).mean(axis=(1, 2, 3))
                    + np.abs(np.diff(images, axis=2)).mean(axis=(1, 2, 3)))
        np.testing.assert_allclose(ops.convert_to_numpy(TotalVariation()(images)), expected, rtol=1e-5)

    def test_image_canvas_returns_its_pixels_in_the_compute_dtype(self):
        canvas = ImageCanvas((2, 2, 3), dtype="mixed_float16")
        got = canvas(np.zeros((1, 1), "float32"))
        self.assertEqual(keras.backend.standardize_dtype(got.dtype), "float16")
        self.assertEqual(canvas.image.dtype, "float32")
        np.testing.assert_array_equal(ops.convert_to_numpy(got), np.full((1, 2, 2, 3), 127.5, dtype="float16"))

    def test_transformer_encoder_is_post_norm_attention_then_feed_forward(self):
        """Against the block written out in numpy: x = norm(in + attention), out = norm(x + W2 relu(W1 x))."""
        rng = np.random.default_rng(0)
        inputs = rng.normal(size=(2, 6, 8)).astype("float32")
        mask = TOKENS != 0
        layer = TransformerEncoder(8, 2, 16, dropout=0.3)
        got = ops.convert_to_numpy(layer(inputs, mask=mask))
        for weight in layer.weights:  # non-trivial norms and biases, so each one shows in the output
            weight.assign(ops.convert_to_numpy(weight) + rng.normal(scale=0.1, size=weight.shape))
        got = ops.convert_to_numpy(layer(inputs, mask=mask))

        def norm(x, sublayer):
            return layer_norm(x, *(ops.convert_to_numpy(w) for w in sublayer.weights))

        def dense(x, sublayer):
            kernel, bias = (ops.convert_to_numpy(w) for w in sublayer.weights)
            return x @ kernel + bias

        attended = ops.convert_to_numpy(layer.attention(inputs, inputs, attention_mask=mask[:, None, :]))
        x = norm(inputs + attended, layer.attention_norm)
        hidden = dense(np.maximum(dense(x, layer.feed_forward_hidden), 0), layer.feed_forward_output)
        expected = norm(x + hidden, layer.feed_forward_norm)
        np.testing.assert_allclose(got, expected, rtol=TF32_RTOL, atol=TF32_RTOL)
        # Dropout acts in training only, and by default not at all.
        self.assertGreater(np.abs(ops.convert_to_numpy(layer(inputs, mask=mask, training=True)) - got).max(), 0.1)
        plain = TransformerEncoder(8, 2, 16)
        np.testing.assert_array_equal(ops.convert_to_numpy(plain(inputs, training=True)),
                                      ops.convert_to_numpy(plain(inputs, training=False)))

    def test_transformer_encoder_norms_use_epsilon_1e_6_where_it_shows(self):
        """Activations whose variance is near epsilon: Keras's default 1e-3 would shrink them to almost nothing,
        and None (the backend's 1e-7) would scale them up by a third more."""
        layer = TransformerEncoder(8, 2, 16)
        layer.build((None, 6, 8))
        rng = np.random.default_rng(0)
        for scale in (3e-2, 1e-3):
            small = rng.normal(scale=scale, size=(2, 6, 8)).astype("float32")
            for norm in (layer.attention_norm, layer.feed_forward_norm):
                np.testing.assert_allclose(ops.convert_to_numpy(norm(small)), layer_norm(small), rtol=1e-3, atol=1e-4,
                                           err_msg=f"{norm.name} at scale {scale}")

    def test_a_causal_block_never_looks_ahead_and_a_plain_one_does(self):
        rng = np.random.default_rng(0)
        inputs = rng.normal(size=(2, 6, 8)).astype("float32")
        changed = inputs.copy()
        changed[:, 3:] = rng.normal(size=(2, 3, 8))   # new tokens from position 3 on
        for causal in (True, False):
            layer = TransformerEncoder(8, 2, 16, causal=causal)
            before, after = (ops.convert_to_numpy(layer(x)) for x in (inputs, changed))
            early = np.abs(after[:, :3] - before[:, :3]).max()
            if causal:   # positions 0-2 read only positions 0-2: unchanged
                np.testing.assert_allclose(after[:, :3], before[:, :3], rtol=TF32_RTOL, atol=TF32_RTOL)
            else:        # every position reads the whole sequence
                self.assertGreater(early, 0.01)
            self.assertGreater(np.abs(after[:, 3:] - before[:, 3:]).max(), 0.01)

    def test_every_weight_and_sublayer_has_its_documented_name(self):
        # Saved checkpoints, split_head and the docs' diagrams refer to these names.
        embedding = TokenAndPositionEmbedding(10, 6, 4, name="embed")
        embedding.build((None, 6))
        self.assertEqual([w.path for w in embedding.weights],
                         ["embed/token_embedding/embeddings", "embed/position_embedding/embeddings"])
        encoder = TransformerEncoder(8, 2, 16, name="block")
        encoder.build((None, 5, 8))
        self.assertEqual(sorted({w.path.split("/")[1] for w in encoder.weights}),
                         ["attention", "attention_norm", "ff_hidden", "ff_norm", "ff_output"])
        decoder = AttentionDecoder(3, 6, 4, name="decoder")
        decoder.build((None, 5, 8))
        self.assertEqual(sorted({w.path.split("/")[1] for w in decoder.weights}),
                         ["cell", "keys", "query", "score", "start"])
        constant, canvas = ConstantOutput(name="naive"), ImageCanvas((2, 2, 3), name="canvas")
        constant.build((None, 3))
        canvas.build((None, 1))
        self.assertEqual([w.path for w in constant.weights + canvas.weights], ["naive/value", "canvas/image"])

    def test_attention_decoder_reads_real_positions_only_and_without_attention_only_the_final_states(self):
        rng = np.random.default_rng(0)
        encoded = rng.normal(size=(2, 6, 8)).astype("float32")
        mask = TOKENS != 0   # 5 and 3 real positions
        changed = encoded.copy()
        changed[0, 5], changed[1, 3:] = 9.0, 9.0           # padding only
        middle = encoded.copy()
        middle[:, 1] += 1.0                                # a real position that is neither end
        for attention in (True, False):
            layer = AttentionDecoder(steps=4, units=6, attention_units=5, attention=attention)
            outputs, weights = (ops.convert_to_numpy(value) for value in
                                layer(encoded, mask=mask, return_attention_scores=True))
            self.assertEqual(outputs.shape, (2, 4, 6))
            self.assertEqual(weights.shape, (2, 4, 6))
            np.testing.assert_allclose(weights.sum(axis=-1), 1.0, rtol=TF32_RTOL)
            np.testing.assert_array_equal(weights[0, :, 5], 0.0)
            np.testing.assert_array_equal(weights[1, :, 3:], 0.0)
            np.testing.assert_allclose(ops.convert_to_numpy(layer(changed, mask=mask)), outputs,
                                       rtol=TF32_RTOL, atol=TF32_RTOL)
            moved = np.abs(ops.convert_to_numpy(layer(middle, mask=mask)) - outputs).max()
            if attention:   # every step may read position 1, and reads it with its own weights
                self.assertGreater(moved, 1e-3)
                self.assertGreater(np.abs(weights[:, 0] - weights[:, -1]).max(), 1e-4)
            else:           # the final states alone: forward at the last real position, backward at the first
                self.assertLess(moved, TF32_RTOL)
                np.testing.assert_allclose(weights[0, :, :5], 0.2, rtol=TF32_RTOL)

    def test_attention_decoder_scores_as_bahdanau_et_al_write_them(self):
        """Steps 0 and 1 recomputed in numpy: score_j = v . tanh(W_k h_j + W_q s + b_q), softmax over real j.

        The state starts as tanh(W_s summary + b_s), the summary being the forward half at the last real
        position and the backward half at the first; Keras's LSTMCell then reads each step's context.
        """
        rng = np.random.default_rng(2)
        encoded = rng.normal(size=(2, 6, 8)).astype("float32")
        mask = np.arange(6) < np.array([[5], [1]])   # 5 real positions, and 1
        layer = AttentionDecoder(steps=2, units=6, attention_units=5)
        outputs, weights = (ops.convert_to_numpy(value)
                            for value in layer(encoded, mask=mask, return_attention_scores=True))
        numpy = ops.convert_to_numpy
        keys, v = encoded @ numpy(layer.keys.kernel), numpy(layer.score.kernel)[:, 0]
        last = mask.sum(axis=1) - 1
        summary = np.concatenate([encoded[[0, 1], last, :4], encoded[:, 0, 4:]], axis=-1)
        state = [np.tanh(summary @ numpy(layer.start.kernel) + numpy(layer.start.bias)), np.zeros((2, 6), "float32")]
        for step in range(2):
            query = state[0] @ numpy(layer.query.kernel) + numpy(layer.query.bias)
            scores = np.where(mask, np.tanh(keys + query[:, None]) @ v, -np.inf)
            expected = np.exp(scores - scores.max(axis=1, keepdims=True))
            expected /= expected.sum(axis=1, keepdims=True)
            # Looser than TF32_RTOL: on a GPU each TF32 matmul of the chain rounds to about 1e-3.
            np.testing.assert_allclose(weights[:, step], expected, rtol=5 * TF32_RTOL, atol=1e-4)
            context = (expected[..., None] * encoded).sum(axis=1)
            state = [ops.convert_to_numpy(part) for part in layer.cell(context, state)[1]]
            np.testing.assert_allclose(outputs[:, step], state[0], rtol=5 * TF32_RTOL, atol=1e-4)

    def test_attention_decoder_needs_an_even_feature_axis_and_scores_in_32_units_by_default(self):
        with self.assertRaisesRegex(ValueError, r"^AttentionDecoder reads a bidirectional encoder's outputs "
                                                r"\(forward and backward halves\), so their last axis must be even; "
                                                r"got \(None, 5, 7\)\.$"):
            AttentionDecoder(2, 3).build((None, 5, 7))
        self.assertEqual(AttentionDecoder(2, 3).get_config()["attention_units"], 32)

    def test_attention_decoder_in_mixed_float16_computes_what_float32_does(self):
        self.assert_mixed_float16_computes_what_float32_does(lambda **kwargs: AttentionDecoder(4, 6, 5, **kwargs),
                                                             seed=1)

    def test_masked_positions_reads_the_hidden_tokens_in_reading_order(self):
        vectors = np.arange(2 * 6 * 3, dtype="float32").reshape(2, 6, 3)
        hidden = np.array([[7, 3, 4, 7, 7, 0], [2, 7, 6, 1, 0, 0]], dtype="int32")   # mask id 7
        got = ops.convert_to_numpy(MaskedPositions(3, 7)([hidden, vectors]))
        # Row 0 hides positions 0, 3 and 4; row 1 hides position 1 only, and its other two slots hold
        # other positions (whose targets a recipe weighs 0).
        np.testing.assert_array_equal(got[0], vectors[0, [0, 3, 4]])
        np.testing.assert_array_equal(got[1, 0], vectors[1, 1])
        assert MaskedPositions(3, 7).compute_output_shape(((2, 6), (2, 6, 3))) == (2, 3, 3)

    def test_constant_output_keeps_every_leading_axis_and_the_compute_dtype(self):
        inputs = np.zeros((2, 3, 4), "float32")
        layer = ConstantOutput(initial_value=0.75, dtype="mixed_float16")
        got = layer(inputs)
        self.assertEqual(tuple(got.shape), (2, 3, 1))
        self.assertEqual(layer.compute_output_shape(inputs.shape), (2, 3, 1))
        self.assertEqual(keras.backend.standardize_dtype(got.dtype), "float16")
        np.testing.assert_array_equal(ops.convert_to_numpy(got), np.full((2, 3, 1), 0.75, "float16"))
        # Integer features (counts, ids) too: the output is the layer's float, not the input's dtype.
        got = ConstantOutput(initial_value=0.75)(np.zeros((2, 3), "int32"))
        self.assertEqual(keras.backend.standardize_dtype(got.dtype), "float32")
        np.testing.assert_array_equal(ops.convert_to_numpy(got), np.full((2, 1), 0.75, "float32"))

    def test_word_categories_count_each_words_categories_and_nothing_for_padding(self):
        vocabulary = ["", "[UNK]", "superb", "dull", "film", "tedious", "set"]
        thesaurus = {"superb": ("GOODNESS", "GREATNESS"), "dull": ("TEDIUM", "DARKNESS"), "tedious": ("TEDIUM",),
                     "set": ("ORDER", "FIRMNESS", "GROUP"), "unused": ("ABSENCE",)}
        table, categories = category_table(vocabulary, thesaurus, categories_per_word=2)
        # Ids in order of first appearance; only the vocabulary's words count; "set" keeps its first two.
        self.assertEqual(categories, ["GOODNESS", "GREATNESS", "TEDIUM", "DARKNESS", "ORDER", "FIRMNESS"])
        np.testing.assert_array_equal(table, [[0, 0], [0, 0], [1, 2], [3, 4], [0, 0], [3, 0], [5, 6]])
        counts = WordCategories(7, 6, 2, sublinear=False)
        counts.set_table(table)
        # "dull tedious superb dull" then padding; "[UNK] film" has no category at all.
        ids = np.array([[3, 5, 2, 3, 0, 0], [1, 4, 0, 0, 0, 0]], dtype="int32")
        expected = np.array([[1, 1, 3, 2, 0, 0], [0, 0, 0, 0, 0, 0]], dtype="float32")
        np.testing.assert_array_equal(ops.convert_to_numpy(counts(ids)), expected)
        damped = WordCategories(7, 6, 2, dtype="mixed_float16")   # sublinear by default
        damped.set_table(table)
        got = damped(ids)
        self.assertEqual(keras.backend.standardize_dtype(got.dtype), "float16")
        np.testing.assert_allclose(ops.convert_to_numpy(got).astype("float32"), np.log1p(expected), rtol=1e-3)
        self.assertEqual(damped.compute_output_shape((2, 6)), (2, 6))

    def test_word_categories_keep_their_table_through_saving_and_refuse_a_wrong_one(self):
        layer = WordCategories(4, 3, 2, name="categories")
        table = np.array([[0, 0], [1, 0], [2, 3], [3, 1]], dtype="int32")
        layer.set_table(table)
        inputs = keras.Input((5,), dtype="int32")
        model = keras.Model(inputs, keras.layers.Dense(2)(layer(inputs)))
        path = f"{self.get_temp_dir()}/categories.keras"
        model.save(path)
        loaded = keras.saving.load_model(path, safe_mode=True).get_layer("categories")
        np.testing.assert_array_equal(ops.convert_to_numpy(loaded.table), table)
        self.assertEqual(loaded.get_config()["num_categories"], 3)
        with pytest.raises(ValueError, match=r"integers of shape \(4, 2\), not int32 of shape \(4, 3\)"):
            layer.set_table(np.zeros((4, 3), "int32"))
        with pytest.raises(ValueError, match=r"integers of shape \(4, 2\), not float32"):
            layer.set_table(np.zeros((4, 2), "float32"))
        with pytest.raises(ValueError, match=r"category ids must lie in \[0, 3\], not \[0, 4\]"):
            layer.set_table(np.array([[0, 0], [1, 0], [2, 4], [3, 1]]))
        with pytest.raises(ValueError, match=r"category ids must lie in \[0, 3\], not \[-1, 3\]"):
            layer.set_table(np.array([[0, 0], [1, -1], [2, 3], [3, 1]]))
        # The table is the layer's one weight, named and typed as documented; each size may be as small as 1.
        self.assertEqual([(weight.name, weight.dtype, weight.trainable) for weight in layer.weights],
                         [("table", "int32", False)])
        smallest = WordCategories(1, 1, 1)
        smallest.set_table(np.array([[1]]))
        np.testing.assert_allclose(ops.convert_to_numpy(smallest(np.zeros((2, 3), "int32"))), np.log1p([[3], [3]]),
                                   rtol=1e-6)
        # Sixteen categories per word by default: 99% of the packaged thesaurus's words have at most as many.
        self.assertEqual(WordCategories(4, 3).categories_per_word, 16)
        many = {"word": tuple(f"C{n}" for n in range(20))}
        self.assertEqual(category_table(["", "word"], many)[0].shape, (2, 16))
        for argument in ("vocabulary_size", "num_categories", "categories_per_word"):
            for bad in (0, 2.0, True):
                with pytest.raises(ValueError, match=re.escape(f"WordCategories({argument}={bad!r}): {argument} "
                                                               "must be a whole number >= 1")):
                    WordCategories(**{"vocabulary_size": 4, "num_categories": 3, argument: bad})

    def test_constraints_keep_probabilities_and_pixels_in_range(self):
        from zoo.layers.core import _UnitInterval
        from zoo.layers.vision import _PixelRange

        values = np.array([-3.0, 0.0, 0.4, 1.0, 1.7, 254.0, 300.0], "float32")
        np.testing.assert_array_equal(ops.convert_to_numpy(_UnitInterval()(values)), np.clip(values, 0, 1))
        np.testing.assert_array_equal(ops.convert_to_numpy(_PixelRange()(values)), np.clip(values, 0, 255))
        # Trained towards an impossible target, the naive neuron's opinion stops at 1.
        model = keras.Sequential([keras.Input((2,)), ConstantOutput(initial_value=0.9)])
        model.compile(keras.optimizers.SGD(5.0), "mse")
        model.fit(np.zeros((8, 2)), np.full((8, 1), 3.0), epochs=3, verbose=0)
        self.assertEqual(float(ops.convert_to_numpy(model.layers[0].value)), 1.0)


@pytest.mark.parametrize("layer_name", zoo.layers.__all__)
def test_every_exported_layer_has_a_harness_test(layer_name):
    assert issubclass(getattr(zoo.layers, layer_name), keras.layers.Layer)
    assert hasattr(ZooLayersTest, harness_test_name(layer_name)), (
        f"add {harness_test_name(layer_name)} (a run_layer_test call) to ZooLayersTest"
    )


def test_every_classifier_head_names_its_layers_dropout_and_predictions():
    from zoo.layers.core import classifier_head

    # Two heads in one session: Keras would name a second unnamed Dropout "dropout_1".
    for _ in range(2):
        inputs = keras.Input((4,))
        model = keras.Model(inputs, classifier_head(inputs, 3, dropout=0.2))
        assert [layer.name for layer in model.layers[1:]] == ["dropout", "predictions"]
    inputs = keras.Input((4,))
    assert [layer.name for layer in keras.Model(inputs, classifier_head(inputs, 3)).layers[1:]] == ["predictions"]
