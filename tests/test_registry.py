"""The registry: names, lookups, errors and metadata. None of these tests needs Keras."""

import dataclasses
import json
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace

import pytest

import zoo
from zoo.registry import (
    DuplicateModelError,
    ModelSpec,
    Paper,
    Registry,
    UnknownModelError,
)

pytestmark = pytest.mark.no_keras

SEED_MODELS = ["lstm_sentiment", "mini_transformer", "mlp", "perceptron", "style_transfer", "vgg16_transfer"]
ENTRIES = sorted(SEED_MODELS + ["convnet", "convnet_1d", "convnet_lstm", "inception", "mini_gpt", "attention_seq2seq", "mini_bert"])   # the seed entries and those added since


def _tiny(units=4, activation="relu"):
    return units


def _spec(name, **fields):
    """A ModelSpec of ``_tiny`` with placeholder words, for tests of the registry's own behaviour."""
    return ModelSpec(name=name, factory=_tiny, **{"summary": "s", "task": "t", "inputs": "i", "outputs": "o", **fields})


def test_import_list_and_info_leave_keras_and_tensorflow_unimported():
    script = (
        "import json, sys, zoo, zoo.cli\n"
        "zoo.list_models(); spec = zoo.info('mlp'); spec.defaults; str(spec)\n"
        "zoo.cli.main(['list']); zoo.cli.main(['info', 'mlp']); zoo.cli.main(['weights'])\n"
        "print(json.dumps(sorted(m for m in ('tensorflow', 'keras', 'jax', 'torch') if m in sys.modules)))\n"
    )
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout.strip().splitlines()[-1]) == []


def test_list_models_is_sorted_and_filters():
    assert zoo.list_models() == ENTRIES
    assert zoo.list_models(task="image_classification") == ["convnet", "inception", "vgg16_transfer"]
    assert zoo.list_models("*transfer*") == ["style_transfer", "vgg16_transfer"]
    assert zoo.list_models(task="text_classification") == ["lstm_sentiment", "mini_transformer"]
    assert zoo.list_models("m*", task="text_classification") == ["mini_transformer"]
    assert zoo.list_models("nothing*") == []


def test_unknown_task_names_the_known_ones():
    with pytest.raises(ValueError, match="Unknown task 'texts'.*text_classification"):
        zoo.list_models(task="texts")
    registry = Registry()
    for name, task in (("a", "vision"), ("b", "text"), ("c", "vision")):
        registry.add(_spec(name, task=task))
    with pytest.raises(ValueError) as unknown:
        registry.names(task="audio")
    assert str(unknown.value) == "Unknown task 'audio'; tasks in the zoo: text, vision."


@pytest.mark.parametrize("typo, suggestion", [("vgg16", "vgg16_transfer"), ("mpl", "mlp"),
                                              ("lstm", "lstm_sentiment"), ("perceptorn", "perceptron")])
def test_unknown_name_suggests_close_matches(typo, suggestion):
    with pytest.raises(zoo.UnknownModelError) as caught:
        zoo.info(typo)
    assert f"Did you mean '{suggestion}'" in str(caught.value)
    assert isinstance(caught.value, KeyError) and isinstance(caught.value, ValueError)
    with pytest.raises(zoo.UnknownModelError, match=suggestion):
        zoo.get(typo)


def test_unknown_override_is_refused_before_building():
    with pytest.raises(TypeError, match=r"'num_class' \(did you mean 'num_classes'\?\)"):
        zoo.get("mlp", num_class=3)
    # A name like no argument gets no suggestion, beside one that does.
    with pytest.raises(TypeError, match=r"^mlp: unknown argument 'num_class' \(did you mean 'num_classes'\?\), "
                                        r"'zzzz'\. Valid arguments: input_shape, num_classes, "):
        zoo.get("mlp", zzzz=1, num_class=3)


def test_duplicate_registration_raises_and_keeps_the_first():
    first = zoo.info("mlp").factory
    with pytest.raises(DuplicateModelError, match="'mlp' is already registered"):
        zoo.register("mlp", summary="x", task="classification", inputs="x", outputs="y")(lambda: None)
    assert zoo.info("mlp").factory is first


def test_register_a_new_entry_then_find_it():
    registry = Registry()
    spec = registry.add(ModelSpec(name="tiny", factory=lambda units=3: units, summary="s", task="t",
                                  inputs="i", outputs="o"))
    assert registry.names() == ["tiny"] and registry.spec("tiny") is spec
    assert spec.defaults == {"units": 3} and spec.build(units=5) == 5
    with pytest.raises(ValueError, match="not valid"):
        registry.add(ModelSpec(name="Bad-Name", factory=lambda: 0, summary="s", task="t", inputs="i",
                               outputs="o"))



def test_register_files_the_factory_itself_and_returns_it_unchanged(monkeypatch):
    monkeypatch.setattr(zoo.registry, "REGISTRY", Registry())

    def tiny(units=3):
        return units

    assert zoo.register("tiny", summary="s", task="t", inputs="i", outputs="o")(tiny) is tiny
    assert zoo.registry.REGISTRY.spec("tiny").factory is tiny


def test_registration_errors_say_what_is_wrong_and_what_to_do():
    registry = Registry()
    registry.add(_spec("tiny"))
    with pytest.raises(DuplicateModelError) as duplicate:
        registry.add(_spec("tiny"))
    assert str(duplicate.value) == (f"A model named 'tiny' is already registered (by {__name__}._tiny). "
                                    "Pick another name or remove the first registration.")
    with pytest.raises(ValueError) as bad:
        registry.add(_spec("Bad-Name"))
    assert str(bad.value) == ("Model name 'Bad-Name' is not valid: use lowercase letters, digits and underscores, "
                              "starting with a letter (it doubles as a recipe module name).")


def test_an_unknown_model_error_reads_as_its_message_without_keyerrors_quotes():
    assert str(UnknownModelError("No model named 'x' in the zoo.")) == "No model named 'x' in the zoo."
    assert str(UnknownModelError()) == ""


def test_info_text_names_every_field_and_shows_a_dash_for_each_missing_one():
    bare = ModelSpec(name="tiny", factory=_tiny, summary="A tiny net.", task="classification",
                     inputs="(batch, 4)", outputs="(batch, 3) softmax")
    assert str(bare) == "\n".join([
        "tiny: A tiny net.",
        "  task:      classification",
        "  inputs:    (batch, 4)",
        "  outputs:   (batch, 3) softmax",
        "  paper:     -",
        "  params:    -",
        "  dataset:   -",
        "  recipe:    -",
        "  weights:   -",
        "  arguments:",
        "    units = 4",
        "    activation = 'relu'",
    ])
    # _weights_names reads a weights record's name, architecture and offline flag only.
    weights = [SimpleNamespace(name="imagenet", architecture="vgg16", offline=False),
               SimpleNamespace(name="imagenet", architecture="vgg19", offline=False),
               SimpleNamespace(name="edges", architecture="vgg16", offline=True)]
    full = dataclasses.replace(bare, paper=Paper("A tiny idea", "Doe, J.", 2001, arxiv="0101.0001"),
                               num_params=12345, default_dataset="iris", recipe="zoo.recipes.tiny",
                               weights=tuple(weights))
    assert str(full).splitlines()[4:9] == [
        "  paper:     Doe, J. (2001). A tiny idea. arXiv:0101.0001",
        "  params:    12,345",
        "  dataset:   iris",
        "  recipe:    zoo.recipes.tiny",
        "  weights:   imagenet (vgg16, vgg19), edges (vgg16, offline)",
    ]

@pytest.mark.parametrize("name", SEED_MODELS)
def test_info_carries_what_users_and_docs_need(name):
    spec = zoo.info(name)
    assert spec.summary and spec.task and spec.inputs and spec.outputs
    assert spec.paper is not None and spec.paper.link.startswith("https://")
    assert spec.num_params > 0 and spec.recipe == f"zoo.recipes.{name}" and spec.default_dataset
    assert "name" in spec.defaults and spec.defaults["name"] == name
    assert callable(spec.search_space)
    assert isinstance(spec.loss_for(), str)
    assert name in str(spec)


@pytest.mark.parametrize("name", SEED_MODELS)
def test_search_space_builds_valid_overrides(name):
    import keras_tuner  # a dependency of the package itself: missing, it must fail, not skip
    hp = keras_tuner.HyperParameters()
    overrides = zoo.info(name).search_space(hp)
    assert overrides and set(overrides) <= set(zoo.info(name).defaults)
    assert hp.space, "the search space declares no hyperparameters"


# Hyperparameters that shape an argument of another name: mlp's depth and width make its hidden_units.
# Every other hyperparameter sets the factory argument it is named after, so a search's best values
# (trials.json, results.json) are arguments a user can pass to zoo.get.
COMPOSITE = {"mlp": {"hidden_layers": "hidden_units", "hidden_width": "hidden_units"},
             "convnet": {"first_filters": "filters"}, "convnet_1d": {"width": "filters"},
             "inception": {"first_stage_modules": "stages"}, "style_transfer": {"content_layer": "content_layers"}}


def _another(hyperparameter):
    """A value of ``hyperparameter`` other than its default."""
    config = hyperparameter.get_config()
    if "values" in config:
        return next(value for value in config["values"] if value != config["default"])
    if "min_value" in config:
        return config["max_value"] if config["default"] != config["max_value"] else config["min_value"]
    return not config["default"]


@pytest.mark.parametrize("name", ENTRIES)
def test_each_hyperparameter_sets_the_argument_it_is_named_after(name):
    import keras_tuner

    spec = zoo.info(name)
    declared = keras_tuner.HyperParameters()
    overrides = spec.search_space(declared)
    composite = COMPOSITE.get(name, {})
    assert set(overrides) == {composite.get(h.name, h.name) for h in declared.space}, (
        f"{name}: arguments set {sorted(overrides)}, hyperparameters {[h.name for h in declared.space]}")
    for hyperparameter in declared.space:
        argument = composite.get(hyperparameter.name, hyperparameter.name)
        assert argument in spec.defaults, f"{name}: hyperparameter {hyperparameter.name!r} names no argument"
        hp = keras_tuner.HyperParameters()
        spec.search_space(hp)
        hp.values[hyperparameter.name] = value = _another(hyperparameter)
        changed = spec.search_space(hp)
        assert changed[argument] != overrides[argument], (name, hyperparameter.name)
        if argument == hyperparameter.name:
            assert changed[argument] == value, (name, hyperparameter.name, changed[argument])
        assert {key: changed[key] for key in changed if key != argument} == {
            key: overrides[key] for key in overrides if key != argument}, (name, hyperparameter.name)


def test_arxiv_ids_of_the_papers_the_docs_cite():
    assert zoo.info("mini_transformer").paper.arxiv == "1706.03762"
    assert zoo.info("style_transfer").paper.arxiv == "1508.06576"
    assert zoo.info("vgg16_transfer").paper.arxiv == "1409.1556"


def test_perceptron_loss_follows_its_personality():
    spec = zoo.info("perceptron")
    assert spec.loss_for() == "binary_crossentropy"
    assert spec.loss_for(activation="pessimist") == "hinge"
    assert spec.loss_for(activation="optimist") == "mean_squared_error"


def test_cli_reports_unknown_names(capsys):
    from zoo.cli import main

    assert main(["info", "mpl"]) == 2
    assert "Did you mean 'mlp'" in capsys.readouterr().err
    assert main(["list", "--task", "text_classification"]) == 0
    assert capsys.readouterr().out.splitlines()[0].startswith("lstm_sentiment")


def test_source_file_finds_a_zoo_module_or_package_without_importing_it_and_nothing_else():
    from zoo.registry import source_file

    package = Path(zoo.__file__).resolve().parent
    assert source_file("zoo.recipes.mlp") == package / "recipes" / "mlp.py"
    assert source_file("zoo.recipes") == package / "recipes" / "__init__.py"
    assert source_file("zoo") == package / "__init__.py"
    assert source_file("zoo.no_such_module") is None
    assert source_file("json") is None
    assert source_file("tests.conftest") is None   # a file beside the package, but not the zoo's


def test_each_recipe_trains_the_entries_that_name_it():
    from zoo.registry import REGISTRY, trained_by

    for name, module in REGISTRY.recipes().items():
        expected = [entry for entry in zoo.list_models() if zoo.info(entry).recipe == module]
        assert expected and trained_by(name) == expected and trained_by(module) == expected
    assert trained_by("zoo.recipes.no_such_recipe") == []


def test_an_entry_without_a_recipe_is_trained_by_no_recipe(monkeypatch):
    from zoo.registry import trained_by

    registry = Registry()
    registry.add(_spec("untrained"))
    registry.add(_spec("trained", recipe="zoo.recipes.trained"))
    monkeypatch.setattr(zoo.registry, "REGISTRY", registry)
    assert zoo.info("untrained").recipe is None
    assert trained_by("") == [] and trained_by("zoo.recipes.") == []
    assert trained_by("trained") == ["trained"] == trained_by("zoo.recipes.trained")


def test_recipe_summaries_are_each_recipes_first_docstring_line_read_as_utf8_whatever_the_locale(ascii_locale_env):
    from zoo.registry import REGISTRY, recipe_summaries

    summaries = recipe_summaries()
    assert list(summaries) == list(REGISTRY.recipes())
    assert summaries["mlp"] == "a multilayer perceptron learns to read handwritten digits"
    assert summaries["vgg16_transfer"] == ("transfer learning \u2014 reuse a pretrained VGG-16, train a new head "
                                           "on 200 labels")
    assert all(summary and not summary.startswith("Recipe") and not summary.endswith(".")
               for summary in summaries.values())
    code = "import json, sys; from zoo.registry import recipe_summaries; print(json.dumps(recipe_summaries()))"
    result = subprocess.run([sys.executable, "-c", code], env=ascii_locale_env, capture_output=True, text=True,
                            timeout=60)
    assert result.returncode == 0, result.stderr[-2000:]
    assert json.loads(result.stdout) == summaries


def test_a_paper_without_an_arxiv_id_reads_as_its_reference_alone():
    assert str(Paper("A tiny idea", "Doe, J.", 2001)) == "Doe, J. (2001). A tiny idea."
    assert str(Paper("A tiny idea", "Doe, J.", 2001, arxiv="0101.0001")) == "Doe, J. (2001). A tiny idea. arXiv:0101.0001"


def test_a_recipe_without_a_source_file_or_a_docstring_has_an_empty_summary(monkeypatch, tmp_path):
    registry = Registry()
    for name in ("latex", "bare", "missing"):
        registry.add(_spec(name, recipe=f"zoo.recipes.{name}"))
    (tmp_path / "latex.py").write_text('"""Recipe: typesets LaTeX.\n\nMore words."""\n')
    (tmp_path / "bare.py").write_text("x = 1\n")
    files = {"zoo.recipes.latex": tmp_path / "latex.py", "zoo.recipes.bare": tmp_path / "bare.py"}
    monkeypatch.setattr(zoo.registry, "REGISTRY", registry)
    monkeypatch.setattr(zoo.registry, "source_file", files.get)
    assert zoo.registry.recipe_summaries() == {"latex": "typesets LaTeX", "bare": "", "missing": ""}


def test_an_unknown_name_gets_at_most_three_suggestions_fragments_first_then_near_spellings():
    registry = Registry()
    for name in ("convnet", "convnet_1d", "convnet_lstm", "mini_bert", "vgg16_transfer", "mlp"):
        registry.add(_spec(name))
    known = "Known models: convnet, convnet_1d, convnet_lstm, mini_bert, mlp, vgg16_transfer."
    with pytest.raises(zoo.UnknownModelError) as fragment:   # four candidates: three fragments, one spelling
        registry.spec("net")
    assert str(fragment.value) == ("No model named 'net' in the zoo. Did you mean 'convnet', 'convnet_1d', "
                                   f"'convnet_lstm'? {known}")
    with pytest.raises(zoo.UnknownModelError) as spelling:   # no fragment; half its letters in common
        registry.spec("vgg_16")
    assert str(spelling.value) == f"No model named 'vgg_16' in the zoo. Did you mean 'vgg16_transfer'? {known}"
    with pytest.raises(zoo.UnknownModelError) as nothing:
        registry.spec("zzz")
    assert str(nothing.value) == f"No model named 'zzz' in the zoo. {known}"
