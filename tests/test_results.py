"""The committed results: one full default run per recipe, meeting its goal, and the README shows exactly them."""

import json
import math
import re
import sys
from pathlib import Path

import pytest

from zoo import results as results_lib
from zoo.recipes import summaries

RECIPES = summaries()   # {name: summary} of every recipe the registry names

pytestmark = pytest.mark.no_keras
ROOT = Path(__file__).resolve().parent.parent


def _committed(recipe):
    results = results_lib.load(recipe)
    assert results is not None, f"no results/{recipe}/results.json: run python -m zoo.recipes.{recipe} --out results/{recipe}"
    assert results["recipe"] == recipe and results["flags"]["quick"] is False
    assert re.match(rf"python -m zoo\.recipes\.{recipe}( |$)", results["command"]), results["command"]
    return results


@pytest.mark.parametrize("recipe", list(RECIPES))
def test_every_recipe_has_a_committed_full_run_with_its_files(recipe):
    results = _committed(recipe)
    # The run's own headline, and the baseline trained in the same run on the same split.
    assert results["headline"] and results["baseline"]["name"] and results["baseline"]["headline"]
    folder = ROOT / "results" / recipe
    assert results["environment"]["packages"]["keras"] and results["wall_time_s"] > 0
    assert list(folder.glob("history*.csv")) and list(folder.glob("curves*.png"))
    for name in results.get("images", {}).values():
        assert (folder / name).exists()


@pytest.mark.parametrize("recipe", list(RECIPES))
def test_every_committed_result_was_made_by_the_code_in_the_repository(recipe):
    """results.json keeps the fingerprint of the code that made it (zoo.fingerprint); a change since is stale."""
    from zoo import fingerprint

    changed = fingerprint.stale(_committed(recipe))
    assert changed == [], (
        f"results/{recipe}/results.json is older than its code ({', '.join(changed)}): refresh it with "
        f"python -m zoo.recipes.{recipe} --out results/{recipe} --overwrite, then python -m zoo.results for "
        "the README table")


# The most each full default run may take on a 2-core CPU: 10 minutes, 15 for the two image recipes that train
# twice or optimise pixels (benchmarks/choices.py chooses only among variants within it). Committed numbers
# checked, not timed here.
TIME_BUDGET_S = {"vgg16_transfer": 900, "style_transfer": 900}


@pytest.mark.parametrize("recipe", RECIPES)
def test_each_committed_default_run_took_no_longer_than_its_budget(recipe):
    results = _committed(recipe)
    budget = TIME_BUDGET_S.get(recipe, 600)
    assert results["environment"]["machine"]["cpu_count"] <= 2, "measure the budget on a 2-core machine"
    assert results["wall_time_s"] <= budget, f"{recipe}: {results['wall_time_s']:.0f} s, over its {budget} s"


def test_the_committed_runs_reach_their_goals():
    from zoo import fingerprint

    perceptron = _committed("perceptron")["metrics"]
    assert perceptron["test_accuracy"] >= 0.95
    assert perceptron["personalities"]["naive"]["test_accuracy"] == perceptron["majority_class_baseline"]
    assert _committed("mlp")["metrics"]["test_accuracy"] >= 0.99
    for recipe in ("lstm_sentiment", "mini_transformer"):
        assert _committed(recipe)["metrics"]["test_accuracy"] >= 0.75
    arms = _committed("vgg16_transfer")["metrics"]["arms"]
    assert arms["pretrained"]["test_accuracy"] >= arms["scratch"]["test_accuracy"]
    assert arms["pretrained"]["train_seconds"] <= arms["scratch"]["train_seconds"] / 3
    assert _committed("style_transfer")["metrics"]["total_loss_fall"] >= 0.8
    # With every training label of mnist_5k's split (3,800: --labels 4000 is more than it holds), the
    # pretrained arm alone.
    many = json.loads((ROOT / "benchmarks" / "results" / "vgg16_transfer_labels_3800" / "results.json").read_text())
    assert many["flags"]["labels"] == 3800 and many["flags"]["quick"] is False
    assert many["metrics"]["arms"]["pretrained"]["test_accuracy"] >= 0.97
    assert fingerprint.stale(many) == [], "rerun it with the command in its results.json"
    attention = json.loads((ROOT / "results" / "mini_transformer" / "attention.json").read_text())
    assert len(attention["tokens"]) == len(attention["weights"])
    inception = _committed("inception")["metrics"]
    assert inception["params_ratio"] == pytest.approx(1, abs=0.01)   # the comparison is fair in size
    assert inception["arms"]["inception"]["test_accuracy"] >= _committed("inception")["baseline"]["test_accuracy"]
    sums = _committed("convnet_lstm")["metrics"]
    assert sums["test_accuracy"] >= 10 * sums["majority_class_baseline"]
    # Dates: nearly every held-out date right, and attention learns them in fewer epochs than the same network
    # without it (the first epoch whose validation characters are right 999 times in 1,000).
    dates = _committed("attention_seq2seq")["metrics"]
    assert dates["test_exact_match"] >= 0.99 and set(dates["arms"]) == {"attention", "no_attention"}
    epochs = {arm: row["epochs_to_validation_character_accuracy_0999"] for arm, row in dates["arms"].items()}
    assert epochs["attention"] is not None and epochs["attention"] < (epochs["no_attention"] or math.inf)
    alignment = json.loads((ROOT / "results" / "attention_seq2seq" / "attention.json").read_text())["examples"]
    assert all(len(example["weights"]) == len(example["answer"]) == 10 for example in alignment)
    # BERT-style pretraining: the encoder learned to name hidden words from their context, better than always
    # answering the commonest one, and was copied into the classifier that the same run also trained from scratch.
    bert = _committed("mini_bert")["metrics"]
    pretraining = bert["pretraining"]
    assert pretraining["validation_hidden_word_accuracy"] > 1.5 * pretraining["validation_commonest_word_accuracy"]
    assert set(bert["arms"]) == {"pretrained", "scratch"} and bert["test_accuracy"] == bert["arms"]["pretrained"][
        "test_accuracy"] >= 0.75
    assert bert["arms"]["pretrained"]["copied_layers"] == ["embedding", "encoder_1"]
    # Each arm averaged with the one wide model both share: the arms differ by the pretraining alone.
    assert len({arm["wide_model_alone_validation_accuracy"] for arm in bert["arms"].values()}) == 1
    # Averaged with the n-gram, the GPT beats the n-gram alone on test (the weight was chosen on validation).
    gpt = _committed("mini_gpt")
    assert gpt["metrics"]["mixed_with_ngram_test_bits_per_character"] < gpt["baseline"]["test_bits_per_character"]
    # Its softmax temperature, chosen on validation, made it no worse there than the network as trained.
    assert gpt["metrics"]["validation_bits_per_character"] <= gpt["metrics"][
        "uncalibrated_validation_bits_per_character"]


@pytest.mark.parametrize("recipe", RECIPES)
def test_the_zoo_model_is_at_least_as_good_as_its_baseline(recipe):
    results = _committed(recipe)
    compared = results_lib.versus(results)
    assert compared is not None, f"{recipe}: results.json has no baseline number to compare with"
    zoo_value, baseline_value, higher_is_better, measure = compared
    assert zoo_value >= baseline_value if higher_is_better else zoo_value <= baseline_value, (
        f"{recipe}: the zoo's {measure} {zoo_value} loses to the baseline's {baseline_value}")
    assert not results_lib.verdict(results).startswith("baseline")


def test_the_recipe_defaults_are_the_settings_chosen_on_validation():
    sys.path.insert(0, str(ROOT / "benchmarks"))
    try:
        import choices
    finally:
        sys.path.remove(str(ROOT / "benchmarks"))
    reports = sorted((ROOT / "benchmarks" / "results").glob("choices_*.json"))
    assert reports, "no benchmarks/results/choices_*.json: run python benchmarks/choices.py RECIPE"
    for path in reports:
        report = json.loads(path.read_text())
        recipe = report["recipe"]
        assert not report["quick"] and report["chosen_on"] == choices.described(recipe), path.name
        # Every variant the script lists was run, with the settings it lists (--only adds the ones listed later).
        assert [(name, row["settings"]) for name, row in report["variants"].items()] == list(choices.VARIANTS[
            report["recipe"]].items()), f"{path.name}: not the variants benchmarks/choices.py lists; rerun it"
        # The validation score, then (where the recipe names one) the measure that decides between equals.
        score = lambda row: tuple(row[key] if better == "higher" else -row[key]  # noqa: E731
                                  for key, better in choices.compared_on(recipe))
        # Among the variants within a default run's time budget: the others could not be the default.
        within = {name: row for name, row in report["variants"].items() if row["seconds"] <= choices.TIME_BUDGET_S}
        best = max(score(row) for row in within.values())
        # Variants are listed simplest first: the first of the best is the choice.
        assert report["chosen"] == next(name for name, row in within.items() if score(row) == best), path.name
        assert choices.is_default(report["recipe"], report["variants"][report["chosen"]]["settings"]), (
            f"{path.name}: the recipe's defaults are not the variant chosen on validation ({report['chosen']!r})")


def test_the_readme_table_is_generated_from_the_committed_results():
    table = results_lib.markdown_table(RECIPES)
    assert len(table.splitlines()) == 2 + len(RECIPES)
    assert table in (ROOT / "README.md").read_text(), "README's results table is stale: paste `python -m zoo.results`"
