"""zoo.fingerprint: which code made a committed result, and what changed since."""

import pytest

from zoo import fingerprint

pytestmark = pytest.mark.no_keras

CODE = '''"""Module docstring."""

import math  # a comment


def area(radius):
    """Docstring."""
    # a whole-line comment
    return math.pi * radius ** 2   # trailing
'''


def test_comments_docstrings_and_blank_lines_do_not_count():
    reworded = (CODE.replace("Docstring.", "Another explanation,\n    on two lines.")
                .replace("# a comment", "# reworded").replace("\n\n\n", "\n\n"))
    assert fingerprint.normalised(reworded) == fingerprint.normalised(CODE)
    assert fingerprint.normalised(CODE) == "import math\ndef area(radius):\n    return math.pi * radius ** 2\n"


def test_rewrapping_a_call_does_not_count():
    one_line = "total = area(1) + area(2)\n"
    wrapped = "total = (area(1)\n         + area(2))\n"
    assert fingerprint._code_only("total = area(1)+area(2)\n") == fingerprint._code_only(one_line)
    assert fingerprint._code_only(wrapped) == fingerprint._code_only("total = (area(1) + area(2))\n")


def test_a_changed_line_of_code_counts():
    assert fingerprint.normalised(CODE.replace("** 2", "** 3")) != fingerprint.normalised(CODE)
    assert fingerprint._code_only(CODE.replace("** 2", "** 3")) != fingerprint._code_only(CODE)
    # A "#" inside a string is code, not a comment.
    assert "'#'" in fingerprint.normalised("x = '#'  # comment\n")


def test_a_recipe_depends_on_itself_its_entries_and_what_they_import():
    modules = fingerprint.modules_of("mini_transformer")
    assert {"zoo.recipes.mini_transformer", "zoo.recipes.sentiment", "zoo.models.sequence",
            "zoo.layers.attention"} <= set(modules)
    vgg = fingerprint.modules_of("vgg16_transfer")
    assert {"zoo.recipes.vgg16_transfer", "zoo.models.vgg16_transfer", "zoo.models.vgg"} <= set(vgg)
    # Only what it names: another entry's model, and the run layer, are not part of it.
    assert "zoo.models.mlp" not in vgg and "zoo.runs" not in vgg and "zoo.models" not in vgg
    # convnet's run also trains an MLP through the mlp recipe's build (zoo.get("mlp")): that model counts too.
    assert {"zoo.recipes.convnet", "zoo.models.convnet", "zoo.recipes.mlp", "zoo.models.mlp"} <= set(
        fingerprint.modules_of("convnet"))
    # The baseline in the same run is part of the result: its module counts, for the recipes that train one.
    assert "zoo.baselines" in fingerprint.modules_of("mlp") and "zoo.baselines" in fingerprint.modules_of("mini_gpt")
    assert "zoo.baselines" not in fingerprint.modules_of("style_transfer")   # its baseline is the recipe's own loop
    # inception's recipe reads digits through the convnet recipe's input layers: a change there counts.
    assert {"zoo.recipes.inception", "zoo.models.inception", "zoo.recipes.convnet"} <= set(
        fingerprint.modules_of("inception"))


def test_a_name_imported_from_a_package_counts_as_the_submodule_that_defines_it():
    # perceptron's factory: from zoo.layers import ConstantOutput, which zoo/layers/__init__.py takes from core.
    modules = set(fingerprint.modules_of("perceptron"))
    assert "zoo.layers.core" in modules
    assert not modules & {"zoo.layers", "zoo.layers.vision", "zoo.layers.attention", "zoo.layers.seq2seq"}
    assert {"zoo.layers.vision"} <= set(fingerprint.modules_of("style_transfer"))   # GramMatrix, TotalVariation
    assert "zoo.layers.seq2seq" in fingerprint.modules_of("attention_seq2seq")


def test_stale_names_what_changed_and_appeared_not_what_it_no_longer_reads():
    now = fingerprint.of_recipe("mlp")
    assert fingerprint.stale({"recipe": "mlp", "fingerprint": now}) == []
    modules = dict(now["modules"])
    modules["zoo.recipes.mlp"] = "0" * 16
    del modules["zoo.models.mlp"]
    modules["zoo.models.retired"] = "1" * 16
    assert fingerprint.stale({"recipe": "mlp", "fingerprint": {"modules": modules}}) == [
        "zoo.recipes.mlp (changed)", "zoo.models.mlp (new)"]
    assert fingerprint.stale({"recipe": "mlp"}) == [
        "no code fingerprint recorded (written before results.json kept one)"]
