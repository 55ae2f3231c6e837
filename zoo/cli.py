"""The ``zoo`` command: list and describe the zoo's models.

    zoo list                 # every model, with its task and summary
    zoo list "*transfer*"    # fnmatch pattern; --task text_classification filters by task
    zoo info mlp             # defaults, paper, inputs/outputs, parameter count

Listing and describing import neither Keras nor TensorFlow, so they answer at once.
"""

from __future__ import annotations

import argparse
import sys

import zoo


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="zoo", description="keras-zoo: models you can build with one call.")
    commands = parser.add_subparsers(dest="command", required=True)
    listing = commands.add_parser("list", help="list the registered models")
    listing.add_argument("pattern", nargs="?", default=None, help="fnmatch pattern, e.g. '*transformer*'")
    listing.add_argument("--task", default=None, help="only models of this task, e.g. text_classification")
    describe = commands.add_parser("info", help="describe one model")
    describe.add_argument("name", help="a model name from 'zoo list'")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        if args.command == "list":
            names = zoo.list_models(args.pattern, task=args.task)
            width = max((len(name) for name in names), default=0)
            for name in names:
                spec = zoo.info(name)
                print(f"{name:<{width}}  {spec.task:<22}  {spec.summary}")
        else:
            print(zoo.info(args.name))
    except ValueError as error:  # includes UnknownModelError
        print(f"zoo: {error}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
