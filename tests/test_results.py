"""The committed results: one full default run per recipe, meeting its goal, and the README shows exactly them."""

import json
from pathlib import Path

import pytest

from recipes import RECIPES
from zoo import results as results_lib

pytestmark = pytest.mark.no_keras
ROOT = Path(__file__).resolve().parent.parent


def _committed(recipe):
    results = results_lib.load(recipe)
    assert results is not None, f"no results/{recipe}/results.json: run python -m recipes.{recipe} --out results/{recipe}"
    assert results["recipe"] == recipe and results["flags"]["quick"] is False
    assert results["command"].startswith(f"python -m recipes.{recipe}")
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


def test_the_committed_runs_reach_their_goals():
    perceptron = _committed("perceptron")["metrics"]
    assert perceptron["test_accuracy"] >= 0.95
    assert perceptron["personalities"]["naive"]["test_accuracy"] == perceptron["majority_class_baseline"]
    # Two digits of 360 apart from the run before the data order became a function of (seed, epoch): this
    # guards "an MLP reads digits", not a win; the SVC baseline beside it (0.9889) still beats it.
    assert _committed("mlp")["metrics"]["test_accuracy"] >= 0.96
    for recipe in ("lstm_sentiment", "mini_transformer"):
        assert _committed(recipe)["metrics"]["test_accuracy"] >= 0.75
    arms = _committed("vgg16_transfer")["metrics"]["arms"]
    assert arms["pretrained"]["test_accuracy"] >= arms["scratch"]["test_accuracy"] - 0.01
    assert arms["pretrained"]["train_seconds"] <= arms["scratch"]["train_seconds"] / 3
    assert _committed("style_transfer")["metrics"]["total_loss_fall"] >= 0.8
    attention = json.loads((ROOT / "results" / "mini_transformer" / "attention.json").read_text())
    assert len(attention["tokens"]) == len(attention["weights"])


def test_the_readme_table_is_generated_from_the_committed_results():
    table = results_lib.markdown_table(RECIPES)
    assert len(table.splitlines()) == 2 + len(RECIPES)
    assert table in (ROOT / "README.md").read_text(), "README's results table is stale: paste `python -m zoo.results`"
