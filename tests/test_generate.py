"""zoo generate: text from a trained text generator's run folder; the sampling itself; refusals in one line."""

import numpy as np
import pytest

from zoo import cli
from zoo.errors import FlagError
from zoo.generate import generate


def run_cli(capsys, *argv):
    status = cli.main([str(arg) for arg in argv])
    out, err = capsys.readouterr()
    return status, out, err


class FixedModel:
    """Stands in for a generator: the same next-character probabilities after any context; records the contexts."""

    def __init__(self, probabilities, window=4):
        self.probabilities = np.asarray(probabilities, "float32")
        self.window, self.contexts = window, []

    def get_layer(self, name):
        assert name == "embedding"
        return self

    @property
    def sequence_length(self):
        return self.window

    def __call__(self, ids, training=False):
        self.contexts.append(np.asarray(ids)[0].tolist())
        return np.broadcast_to(self.probabilities, (1, ids.shape[1], len(self.probabilities)))


VOCABULARY = ("", "a", "b", "c")


def test_temperature_reshapes_the_probabilities_before_each_draw():
    model = FixedModel([0.0, 0.7, 0.2, 0.1])
    assert generate(model, VOCABULARY, "ab", 20, temperature=0) == "a" * 20   # always the likeliest
    counts = {}
    for temperature, expected in ((1.0, [0.7, 0.2, 0.1]), (0.5, np.array([0.49, 0.04, 0.01]) / 0.54)):
        text = generate(model, VOCABULARY, "a", 4000, temperature=temperature, seed=1)
        counts[temperature] = [text.count(character) / len(text) for character in "abc"]
        np.testing.assert_allclose(counts[temperature], expected, atol=0.03)
    # The padding id is never drawn, even where the model gives it weight.
    assert set(generate(FixedModel([0.5, 0.5, 0.0, 0.0]), VOCABULARY, "c", 200, temperature=2.0)) == {"a"}


def test_the_model_reads_at_most_its_window_and_the_same_seed_gives_the_same_text():
    model = FixedModel([0.0, 0.4, 0.3, 0.3], window=4)
    first = generate(model, VOCABULARY, "abcabc", 10, seed=7)
    assert [len(context) for context in model.contexts] == [4] * 10
    assert model.contexts[0] == [3, 1, 2, 3]   # the last 4 characters of the prompt "abcabc"
    assert generate(model, VOCABULARY, "abcabc", 10, seed=7) == first
    assert generate(model, VOCABULARY, "abcabc", 10, seed=8) != first


@pytest.mark.parametrize("prompt, temperature, message", [
    ("", 0.8, "--prompt must hold at least one character"),
    ("abz!", 0.8, r"--prompt holds 2 character\(s\) the model never saw: '!z'"),
    ("ab", -1.0, "--temperature -1.0 must be a finite number >= 0"),
    ("ab", float("nan"), "--temperature nan must be a finite number >= 0"),
])
def test_bad_prompts_and_temperatures_are_refused_naming_the_value(prompt, temperature, message):
    with pytest.raises(FlagError, match=message):
        generate(FixedModel([0.0, 1.0, 0.0, 0.0]), VOCABULARY, prompt, 5, temperature=temperature)


def test_zoo_generate_continues_a_prompt_from_a_trained_run(quick_runs, capsys):
    import json

    folder = quick_runs["mini_gpt"][0]
    vocabulary = json.loads((folder / "results.json").read_text())["data"]["class_names"]
    status, out, err = run_cli(capsys, "generate", folder, "--prompt", "To be", "--length", 40, "--seed", 3)
    assert status == 0, err
    text = out[:-1]   # one line break ends the output
    assert text.startswith("To be") and len(text) == len("To be") + 40
    assert set(text) <= set(vocabulary)
    again = run_cli(capsys, "generate", folder, "--prompt", "To be", "--length", 40, "--seed", 3)[1]
    assert again == out
    # The recipe kept a sample of its own, made the same way.
    sample = json.loads((folder / "results.json").read_text())["sample"]
    assert sample["prompt"] == "To be" and len(sample["text"]) == sample["length"] == 200


def test_zoo_generate_refuses_bad_values_naming_them(quick_runs, capsys):
    folder = quick_runs["mini_gpt"][0]
    status, _, err = run_cli(capsys, "generate", folder, "--prompt", "To be\u2603")
    assert status == 2 and "--prompt holds 1 character(s) the model never saw: '\u2603'" in err
    assert len(err.strip().splitlines()) == 1
    for flags, message in ((["--length", "0"], "--length=0 is out of range"),
                           (["--temperature", "-2"], "--temperature=-2 is out of range")):
        with pytest.raises(SystemExit) as exited:
            cli.main(["generate", str(folder), "--prompt", "To be", *flags])
        assert exited.value.code == 2 and message in capsys.readouterr().err


def test_a_classifier_run_is_sent_to_zoo_predict_and_a_generator_run_to_zoo_generate(quick_runs, capsys):
    status, _, err = run_cli(capsys, "generate", quick_runs["mlp"][0], "--prompt", "To be")
    assert status == 2 and "does not generate text: use zoo predict" in err and "mini_gpt" in err
    status, _, err = run_cli(capsys, "predict", quick_runs["mini_gpt"][0], "--text", "To be")
    assert status == 2 and "writes text rather than classifying" in err and "zoo generate" in err
