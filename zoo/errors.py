"""The errors a user can cause or fix, under one base class.

Every entry point (``python -m zoo.recipes.X``, ``zoo run``, ``zoo``) prints a
``ZooError`` as one ``error: <message>`` line and exits with its
``exit_code``: 2 when the command itself is wrong (a flag, a folder that
another run owns), 1 when something outside the command is (no network, a
diverged training run). Anything else is a bug and keeps its traceback.

Pure Python: importing this module imports neither Keras nor TensorFlow.
"""

from __future__ import annotations

import contextlib
import contextvars
import sys

# Inside a recipe run, messages spell arguments as the flags the user typed (--weights hed_bsds500),
# not as the Python keyword arguments the recipe passed on (weights='hed_bsds500').
_AS_FLAGS = contextvars.ContextVar("zoo_arguments_as_flags", default=False)


@contextlib.contextmanager
def arguments_as_flags():
    """Within this block, ``setting()`` spells arguments as recipe flags (``zoo.runs.Run`` enters it)."""
    token = _AS_FLAGS.set(True)
    try:
        yield
    finally:
        _AS_FLAGS.reset(token)


def spelled_as_flags() -> bool:
    """True inside ``arguments_as_flags()``: the user sets arguments with a recipe's flags."""
    return _AS_FLAGS.get()


def setting(argument: str, value) -> str:
    """How the user sets ``argument`` to ``value`` where the message reaches them.

    ``weights='imagenet'`` from Python; ``--weights imagenet`` inside a recipe run.
    """
    if spelled_as_flags():
        return f"--{argument.replace('_', '-')} {value}"
    return f"{argument}={value!r}"


class ZooError(Exception):
    """An error the user can fix; the message says how."""

    exit_code = 1


class FlagError(ZooError, ValueError):
    """A command-line flag has a value the recipe cannot use."""

    exit_code = 2


class RunFolderError(ZooError):
    """The run folder (``--out``) cannot be used by this run: busy, finished, or started with other flags."""

    exit_code = 2


class TrainingDivergedError(ZooError, FloatingPointError):
    """The training loss became NaN or infinite; nothing was saved as if it were a result."""


def exit_status(call) -> int:
    """Call ``call()`` and return its exit status; a ZooError becomes one ``error:`` line and its ``exit_code``.

    What every entry point does (``zoo``, ``python -m zoo.predict``, ``python -m zoo.export``, the recipes).
    """
    try:
        return call() or 0
    except ZooError as error:
        print(f"error: {error}", file=sys.stderr)
        return error.exit_code
