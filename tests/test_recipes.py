"""Recipes run end to end on their embedded data and leave a complete run folder."""

import json
import subprocess
import sys

import keras
import numpy as np
import pytest


def test_mlp_recipe_quick_run_writes_a_complete_run_folder(tmp_path):
    from recipes import mlp

    accuracy = mlp.main(["--quick", "--out", str(tmp_path), "--seed", "1"])
    results = json.loads((tmp_path / "results.json").read_text())
    assert results["flags"]["quick"] is True and results["flags"]["seed"] == 1
    assert results["metrics"]["test_accuracy"] == pytest.approx(accuracy, abs=1e-4)
    assert results["metrics"]["epochs_run"] == mlp.QUICK_EPOCHS
    assert results["data"]["test"] == 360 and results["environment"]["packages"]["keras"]
    assert accuracy > 0.5  # three epochs on digits already beat chance (0.1) by far
    history = (tmp_path / "history.csv").read_text().splitlines()
    assert len(history) == 1 + mlp.QUICK_EPOCHS and history[0].startswith("epoch")
    assert any((tmp_path / "logs").iterdir())

    # The saved model reads raw scans (0..16) and agrees with the recipe's accuracy.
    reloaded = keras.saving.load_model(tmp_path / "model.keras", safe_mode=True)
    _, _, (x_test, y_test) = mlp.load_digits(1)
    predicted = np.argmax(reloaded.predict(x_test, verbose=0), axis=1)
    assert np.mean(predicted == y_test) == pytest.approx(accuracy, abs=1e-4)


@pytest.mark.parametrize("flag, value", [("--epochs", "0"), ("--batch-size", "-1"), ("--learning-rate", "0")])
def test_mlp_recipe_refuses_bad_flags(flag, value):
    done = subprocess.run([sys.executable, "-m", "recipes.mlp", flag, value], capture_output=True, text=True,
                          timeout=60)
    assert done.returncode == 2 and f"{flag}={value}" in done.stderr


def test_recipes_are_listed():
    done = subprocess.run([sys.executable, "-m", "recipes"], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0 and "mlp" in done.stdout


def test_perceptron_recipe_trains_four_personalities(tmp_path):
    from recipes import perceptron

    results = perceptron.main(["--quick", "--out", str(tmp_path)])
    saved = json.loads((tmp_path / "results.json").read_text())
    assert set(results) == {"rationalist", "pessimist", "optimist", "naive"}
    # The naive neuron ignores its inputs: it can only say the majority class.
    assert results["naive"]["test_accuracy"] == saved["metrics"]["majority_class_baseline"]
    assert results["rationalist"]["test_accuracy"] > saved["metrics"]["majority_class_baseline"]
    model = keras.saving.load_model(tmp_path / "model.keras", safe_mode=True)
    assert model.get_layer("perceptron").get_layer("activation").get_config()["activation"] == "sigmoid"


def test_zoo_run_is_the_recipe_through_the_console_script(tmp_path, capsys):
    from zoo.cli import main

    assert main(["run", "mlp", "--quick", "--out", str(tmp_path)]) == 0
    assert json.loads((tmp_path / "results.json").read_text())["flags"]["quick"] is True
    assert main(["run", "mlpx"]) == 2
    assert "No recipe named 'mlpx'; recipes: mlp, perceptron" in capsys.readouterr().err
