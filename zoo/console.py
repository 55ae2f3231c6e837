"""What a recipe or the ``zoo`` command shows in a terminal: TensorFlow's native start-up logs left out.

Importing TensorFlow 2.21 prints about nine lines from its C++ side on standard
error (oneDNN notes, "Could not find cuda drivers", the CPU-instructions note,
"failed call to cuInit ... (303)" on a machine without a GPU), and
``TF_CPP_MIN_LOG_LEVEL`` no longer silences them (tensorflow/tensorflow#100442):
they are written before absl's logging is initialised. They come from C++, so
Python's ``sys.stderr`` never sees them; the only place to hold them back is file
descriptor 2. ``native_logs_filtered()`` points it at a pipe, and a thread copies
every line through to the terminal except TensorFlow's informational and warning
lines (and two error-level lines that only describe the machine: the cuInit failure,
which says there is no GPU, and oneDNN's note that a kernel falls back to Eigen
without AVX-512). Python's own
warnings and errors, and TensorFlow's real errors, pass unchanged.

Set ``ZOO_VERBOSE=1`` to see everything.
"""

from __future__ import annotations

import contextlib
import os
import re
import sys
import threading

VERBOSE_ENV = "ZOO_VERBOSE"

# absl's log prefix: level, MMDD, time (before absl is initialised, seconds since 1970 stand in the seconds'
# place), thread id, file:line]. For example "I0000 00:00:1795792451.599378   16944 port.cc:153] ".
_NATIVE = re.compile(rb"^[IWE]\d{4} \d\d:\d\d:\d+\.\d+\s+\d+ [\w./-]+:\d+\] ")
_KEPT_ERRORS = re.compile(rb"^E\d{4} ")
# Error-level lines that only describe the machine: no GPU; no AVX-512 for one oneDNN kernel (Eigen runs it).
_HARMLESS_ERRORS = (b"failed call to cuInit", b"oneDNN supports DT_BOOL only on platforms with AVX-512")
_NATIVE_FOLLOWERS = (b"WARNING: All log messages before absl::InitializeLog() is called are written to STDERR",
                     b"To enable the following instructions:")
_active = False


def is_native_noise(line: bytes) -> bool:
    """True for a line of TensorFlow's native start-up logging that says nothing a user must act on."""
    if line.startswith(_NATIVE_FOLLOWERS):
        return True
    if not _NATIVE.match(line):
        return False
    return not _KEPT_ERRORS.match(line) or any(harmless in line for harmless in _HARMLESS_ERRORS)


def _copy(source: int, target: int) -> None:
    with os.fdopen(source, "rb", buffering=0) as lines:
        pending = b""
        while chunk := lines.read(65536):
            pending += chunk
            *complete, pending = pending.split(b"\n")
            kept = b"".join(line + b"\n" for line in complete if not is_native_noise(line))
            if kept:
                os.write(target, kept)
        if pending and not is_native_noise(pending):
            os.write(target, pending)


@contextlib.contextmanager
def native_logs_filtered():
    """Within this block, TensorFlow's native log lines on file descriptor 2 are dropped (not with ZOO_VERBOSE=1).

    Re-entering is a no-op, so ``zoo run`` (which calls a recipe's entry point) filters once.
    """
    global _active
    if _active or os.environ.get(VERBOSE_ENV, "") not in ("", "0"):
        yield
        return
    sys.stderr.flush()
    terminal = os.dup(2)
    read_end, write_end = os.pipe()
    os.dup2(write_end, 2)
    os.close(write_end)
    copier = threading.Thread(target=_copy, args=(read_end, terminal), name="zoo-stderr", daemon=True)
    copier.start()
    _active = True
    try:
        yield
    finally:
        _active = False
        sys.stderr.flush()
        os.dup2(terminal, 2)       # the pipe's last write end closes: the copier reads to the end and stops
        copier.join(timeout=5)     # a child process still holding the pipe must not hang the exit
        os.close(terminal)
