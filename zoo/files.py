"""Files a run writes appear whole or not at all: written beside their place, then renamed into it.

A kill during a write leaves the old file (or none) and a stray ``.partial``
file, never a half-written file under the real name. ``os.replace`` is atomic
on POSIX and Windows when both paths are on one filesystem, which they are:
the temporary file lives in the same folder.
"""

from __future__ import annotations

import json
import math
import os
import shutil
from contextlib import contextmanager
from pathlib import Path


@contextmanager
def atomic_path(path):
    """Yield a temporary path beside ``path`` (same suffix); on success it is renamed to ``path``."""
    path = Path(path)
    partial = path.with_name(f".{path.stem}.partial-{os.getpid()}{path.suffix}")
    try:
        yield partial
        os.replace(partial, path)
    finally:
        if partial.exists():  # the writer failed: leave the old file as it was
            partial.unlink()


@contextmanager
def atomic_folder(path):
    """``atomic_path`` for a folder: written beside ``path``, then renamed into it.

    A folder cannot be renamed over a folder that holds files, so the old one steps aside
    first and is deleted after; a kill between the two renames leaves the old folder under
    ``.NAME.old-PID`` and none under the real name, never a half-written one.
    """
    path = Path(path)
    partial = path.with_name(f".{path.name}.partial-{os.getpid()}")
    old = path.with_name(f".{path.name}.old-{os.getpid()}")
    try:
        yield partial
        if path.exists():
            os.replace(path, old)
        os.replace(partial, path)
        shutil.rmtree(old, ignore_errors=True)
    finally:
        if partial.exists():   # the writer failed: leave the old folder as it was
            shutil.rmtree(partial, ignore_errors=True)


@contextmanager
def locked(path):
    """Hold an exclusive lock on ``path`` for the block: to read a file, change it and write it back when
    another process may do the same (two ``benchmarks/choices.py --only`` runs adding rows to one report).

    Without it both read the same old file and the second write drops the first one's change. The
    lock is ``fcntl.flock`` on ``.NAME.lock`` beside ``path``; a second caller waits for it. Hold it
    for the read and the write only, not for minutes of work in between: the kernel releases it when
    the holder exits, a SIGKILL included. The lock file stays (removing it would let a third caller
    lock a new file while the second waits on the old one).
    """
    import fcntl

    path = Path(path)
    with open(path.with_name(f".{path.name}.lock"), "a+") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield path
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def atomic_write_text(path, text: str) -> Path:
    with atomic_path(path) as partial:
        with open(partial, "w", encoding="utf-8") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())  # the bytes are on disk before the name points at them
    return Path(path)


def atomic_write_json(path, value, indent: int | None = 2) -> Path:
    """Standard JSON: NaN and infinity (which strict parsers refuse) are written as null.

    ``indent=None`` writes it on one line, for large grids of numbers (a figure's data).
    """
    text = json.dumps(_finite(value), indent=indent, default=str, allow_nan=False,
                      separators=None if indent is not None else (",", ":"))
    return atomic_write_text(path, text + "\n")


def _finite(value):
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {key: _finite(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [_finite(item) for item in value]
    return value
