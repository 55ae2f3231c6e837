"""The zoo's internals: one VGG module for every VGG user."""

import pytest

from zoo.models import vgg


@pytest.mark.parametrize("layer, block, index", [("block1_conv1", 1, 1), ("block3_conv2", 3, 2),
                                                 ("block5_conv4", 5, 4)])
def test_vgg_layer_names_read_as_block_and_conv_index(layer, block, index):
    assert vgg.block_of(layer) == block and vgg.conv_index(layer) == index
    assert vgg.block_of(f"block{block}_pool") == block


@pytest.mark.parametrize("layer", ["block3_pool", "conv3_block2", "block3_conv", "", None, "block3_conv2 "])
def test_a_name_that_is_not_a_vgg_conv_layer_names_itself(layer):
    with pytest.raises(ValueError, match=repr(layer).replace("(", r"\(")):
        vgg.conv_index(layer)


def test_a_blocks_pooling_comes_after_its_convolutions():
    layers = ["block4_pool", "block4_conv3", "block2_conv1", "block4_conv1", "block1_pool"]
    assert sorted(layers, key=vgg.depth) == ["block1_pool", "block2_conv1", "block4_conv1", "block4_conv3",
                                             "block4_pool"]


def test_convs_up_to_a_cut_point_or_a_convolution():
    assert vgg.convs_up_to("vgg16", "block1_pool") == ("block1_conv1", "block1_conv2")
    assert len(vgg.convs_up_to("vgg16", "block4_pool")) == 10
    assert vgg.convs_up_to("vgg16", "block5_pool") == vgg.CONV_LAYERS["vgg16"]
    assert vgg.convs_up_to("vgg19", "block3_conv2")[-3:] == ("block2_conv2", "block3_conv1", "block3_conv2")
    assert len(vgg.CONV_LAYERS["vgg16"]) == 13 and len(vgg.CONV_LAYERS["vgg19"]) == 16


@pytest.mark.parametrize("architecture", vgg.ARCHITECTURES)
def test_the_layer_tables_and_parameter_counts_are_keras_applications_own(architecture):
    import keras

    application = {"vgg16": keras.applications.VGG16, "vgg19": keras.applications.VGG19}[architecture]
    base = application(include_top=False, weights=None, input_shape=(vgg.MIN_SIDE, vgg.MIN_SIDE, 3))
    convs = tuple(layer.name for layer in base.layers if "_conv" in layer.name)
    assert convs == vgg.CONV_LAYERS[architecture]
    assert tuple(layer.name for layer in base.layers if layer.name.endswith("_pool")) == vgg.POOL_LAYERS
    for cut in ("block2_pool", "block3_conv2", "block5_pool"):
        cut_model = keras.Model(base.input, base.get_layer(cut).output)
        assert vgg.conv_parameters(architecture, cut) == cut_model.count_params()
