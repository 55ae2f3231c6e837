"""The errors a user can cause or fix, under one base class.

Every entry point (``python -m zoo.recipes.X``, ``zoo run``, ``zoo``) prints a
``ZooError`` as one ``error: <message>`` line and exits with its
``exit_code``: 2 when the command itself is wrong (a flag, a folder that
another run owns), 1 when something outside the command is (no network, a
diverged training run). Anything else is a bug and keeps its traceback.

Pure Python: importing this module imports neither Keras nor TensorFlow.
"""

from __future__ import annotations


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
