"""The ``zoo`` command: list and describe the zoo's models.

    zoo list                 # every model, with its task and summary
    zoo list "*transfer*"    # fnmatch pattern; --task text_classification filters by task
    zoo info mlp             # defaults, paper, inputs/outputs, parameter count
    zoo weights              # every named pretrained weights entry: source, licence, training data, results
    zoo weights style_transfer   # only those that fit one model
    zoo run mlp --quick      # the same as: python -m zoo.recipes.mlp --quick
    zoo launch --workers 2 -- zoo.recipes.mlp --distribute multi_worker   # a local cluster (zoo.launch)
    zoo predict runs/mlp digit.png           # a trained run folder on your inputs (zoo.predict)
    zoo export runs/mlp --format onnx        # its model through Keras's Model.export (zoo.export)
    zoo generate runs/mini_gpt --prompt "To be" --length 200 --temperature 0.8   # text (zoo.generate)

Listing and describing (models and weights) import neither Keras nor TensorFlow, so they answer at once.
Commands that load TensorFlow keep its native start-up logs out of the terminal (zoo.console).
"""

from __future__ import annotations

import argparse
import sys

import zoo
from zoo.errors import ZooError


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="zoo", description="keras-zoo: models you can build with one call.")
    commands = parser.add_subparsers(dest="command", required=True)
    listing = commands.add_parser("list", help="list the registered models")
    listing.add_argument("pattern", nargs="?", default=None, help="fnmatch pattern, e.g. '*transformer*'")
    listing.add_argument("--task", default=None, help="only models of this task, e.g. text_classification")
    describe = commands.add_parser("info", help="describe one model")
    describe.add_argument("name", help="a model name from 'zoo list'")
    weights = commands.add_parser("weights", help="list the named pretrained weights: source, licence, results")
    weights.add_argument("model", nargs="?", default=None, help="only the weights that fit this model")
    run = commands.add_parser("run", help="run a recipe: zoo run NAME [recipe flags]", add_help=False)
    run.add_argument("name", help="a recipe name from 'python -m recipes'")
    run.add_argument("flags", nargs=argparse.REMAINDER, help="the recipe's flags (see zoo run NAME --help)")
    from zoo import export, generate, launch, predict

    launch.add_arguments(commands.add_parser("launch", help="run a recipe as a cluster of processes on 127.0.0.1: "
                                                            "zoo launch --workers 2 -- zoo.recipes.mlp ..."))
    predict.add_arguments(commands.add_parser(
        "predict", help="run a trained run folder on your inputs: images, CSV rows, text",
        description=predict.__doc__, formatter_class=argparse.RawDescriptionHelpFormatter))
    export.add_arguments(commands.add_parser(
        "export", help="export a trained run folder's model (Model.export): SavedModel, ONNX, LiteRT",
        description=export.__doc__, formatter_class=argparse.RawDescriptionHelpFormatter))
    generate.add_arguments(commands.add_parser(
        "generate", help="continue a prompt with a trained text generator's run folder (mini_gpt)",
        description=generate.__doc__, formatter_class=argparse.RawDescriptionHelpFormatter))
    return parser


def _run_recipe(name: str, flags: list[str]) -> int:
    """Exactly ``python -m zoo.recipes.NAME FLAGS``: the same checks, messages and exit status.

    The recipe module is the one the registry names for NAME (``zoo.registry.recipes()``).
    """
    import importlib

    from zoo.command import run_main
    from zoo.errors import FlagError
    from zoo.registry import recipes

    modules = recipes()
    if name not in modules:
        raise FlagError(f"No recipe named {name!r}; recipes: {', '.join(sorted(modules))}.")
    return run_main(importlib.import_module(modules[name]).main, flags)


def _weights_listing(model: str | None) -> str:
    """Every named weights entry (or those that fit ``model``), one block each, with source and licence."""
    from zoo import weights

    entries = weights.ENTRIES if model is None else zoo.info(model).weights
    if not entries:
        return f"{model} takes no pretrained weights."
    return "\n\n".join(map(str, entries))


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        if args.command == "list":
            names = zoo.list_models(args.pattern, task=args.task)
            width = max((len(name) for name in names), default=0)
            task_width = max((len(zoo.info(name).task) for name in names), default=0)
            for name in names:
                spec = zoo.info(name)
                print(f"{name:<{width}}  {spec.task:<{task_width}}  {spec.summary}")
        elif args.command == "weights":
            print(_weights_listing(args.model))
        elif args.command == "run":
            return _run_recipe(args.name, args.flags)
        elif args.command == "launch":
            from zoo import launch

            return launch.run(args)
        elif args.command in ("predict", "export", "generate"):
            import importlib

            from zoo.console import native_logs_filtered

            with native_logs_filtered():
                return importlib.import_module(f"zoo.{args.command}").run(args)
        else:
            print(zoo.info(args.name))
    except ZooError as error:
        print(f"error: {error}", file=sys.stderr)
        return error.exit_code
    except ValueError as error:  # includes UnknownModelError
        print(f"zoo: {error}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
