"""``zoo generate``: text from a trained text-generation run folder, one character at a time.

    zoo generate runs/mini_gpt --prompt "To be" --length 200 --temperature 0.8
    zoo generate runs/mini_gpt --prompt "HAMLET" --temperature 0     # always the likeliest character
    zoo generate runs/mini_gpt --prompt "To be" --seed 3             # another sample

The model reads the prompt and gives, for the position after it, a probability
for every character of its vocabulary (results.json's data.class_names). One is
drawn, appended, and the model reads again: one prompt in, many characters out.
The temperature reshapes the probabilities before the draw: below 1 the likely
characters get likelier (safer, more repetitive text), above 1 the unlikely ones
(bolder, stranger text); 0 always takes the likeliest. The model sees at most
its sequence_length last characters.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from zoo.errors import FlagError

MAX_LENGTH = 100_000
GENERATOR_TASK = "text_generation"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    from zoo import command

    parser.add_argument("run", type=Path, help="a finished run folder of a text generator (e.g. runs/mini_gpt)")
    parser.add_argument("--prompt", required=True, help="the text to continue, e.g. \"To be\"")
    parser.add_argument("--length", type=command.integer("--length", 1, MAX_LENGTH), default=200,
                        help="characters to add (default: %(default)s)")
    parser.add_argument("--temperature", type=command.number("--temperature", 0), default=0.8,
                        help="below 1 safer, above 1 bolder; 0 always takes the likeliest (default: %(default)s)")
    parser.add_argument("--seed", type=command.integer("--seed", 0, command.SEED_MAX), default=0,
                        help="seed of the draws: the same seed, prompt and run give the same text (default: 0)")


def load(folder) -> tuple:
    """``(model, vocabulary)`` of a finished text-generation run folder, or ``RunLoadError`` saying why not."""
    import zoo
    from zoo.predict import MODEL_FILE, RunLoadError, read_results
    from zoo.runs import load_saved_model

    folder, results = read_results(folder, generating=True)
    recipe = results["recipe"]
    generators = zoo.list_models(task=GENERATOR_TASK)
    if recipe not in generators:
        raise RunLoadError(f"{folder} holds a {recipe} run, whose model does not generate text: use zoo predict "
                           f"{folder} ... instead. zoo generate reads runs of {', '.join(generators)} (e.g. "
                           f"python -m zoo.recipes.{generators[0]} --out runs/{generators[0]}).")
    return load_saved_model(folder / MODEL_FILE, error=RunLoadError), tuple(results["data"]["class_names"])


def generate(model, vocabulary, prompt: str, length: int, temperature: float = 0.8, seed: int = 0) -> str:
    """``prompt`` continued by ``length`` characters drawn from ``model`` (the continuation only).

    ``vocabulary[i]`` is the character of id ``i``; id 0 is padding and is never drawn.
    """
    import keras
    import numpy as np

    if not isinstance(prompt, str) or not prompt:
        raise FlagError("--prompt must hold at least one character: the model continues a text, e.g. --prompt "
                        "\"To be\"")
    if not (isinstance(temperature, (int, float)) and np.isfinite(temperature) and temperature >= 0):
        raise FlagError(f"--temperature {temperature!r} must be a finite number >= 0, e.g. 0.8")
    index = {character: position for position, character in enumerate(vocabulary) if character}
    unknown = sorted({character for character in prompt if character not in index})
    if unknown:
        raise FlagError(f"--prompt holds {len(unknown)} character(s) the model never saw: {''.join(unknown)!r}. "
                        f"It knows these: {''.join(vocabulary)!r}")
    window = model.get_layer("embedding").sequence_length
    ids = [index[character] for character in prompt]
    rng = np.random.default_rng(seed)
    for _ in range(length):
        context = np.asarray([ids[-window:]], dtype="int32")
        probabilities = keras.ops.convert_to_numpy(model(context, training=False))[0, -1].astype("float64")
        probabilities[0] = 0.0   # padding is not a character
        if temperature == 0:
            ids.append(int(probabilities.argmax()))
            continue
        # p ** (1 / T), renormalised: the same as dividing the logits by T.
        scaled = np.exp((np.log(np.maximum(probabilities, 1e-30)) - np.log(probabilities.max())) / temperature)
        scaled[0] = 0.0
        ids.append(int(rng.choice(len(scaled), p=scaled / scaled.sum())))
    return "".join(vocabulary[i] for i in ids[len(prompt):])


def run(args) -> int:
    model, vocabulary = load(args.run)
    text = generate(model, vocabulary, args.prompt, args.length, args.temperature, args.seed)
    sys.stdout.write(args.prompt + text + "\n")
    return 0
