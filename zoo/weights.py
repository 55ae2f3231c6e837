"""Where pretrained weights come from, and failing fast when they can't be had.

``weights`` arguments accept ``"imagenet"`` (keras.applications' download,
cached under the Keras home), ``None`` (random initialisation) or the path
to a weights file. Without network, Keras's own download would retry for a
long time and end in a bare exception; we check the cache and the host first
and raise ``WeightsUnavailableError`` within seconds, saying how to fix it.

Pure Python: imports no Keras.
"""

from __future__ import annotations

import os
import socket
import urllib.parse

# keras.applications file names and download addresses (see keras/src/applications/).
_APPLICATIONS = "https://storage.googleapis.com/tensorflow/keras-applications/"
IMAGENET_NO_TOP = {
    "vgg16": _APPLICATIONS + "vgg16/vgg16_weights_tf_dim_ordering_tf_kernels_notop.h5",
    "vgg19": _APPLICATIONS + "vgg19/vgg19_weights_tf_dim_ordering_tf_kernels_notop.h5",
}
# Long enough for a slow link to answer, short enough to fail fast offline.
PROBE_TIMEOUT_S = 3.0


class WeightsUnavailableError(RuntimeError):
    """Pretrained weights are neither cached locally nor downloadable."""


def keras_cache_dir() -> str:
    """The folder keras.utils.get_file caches application weights in."""
    home = os.environ.get("KERAS_HOME")
    if not home:
        base = os.path.expanduser("~")
        home = os.path.join(base if os.access(base, os.W_OK) else "/tmp", ".keras")
    return os.path.join(os.path.expanduser(home), "models")


def host_reachable(url: str, timeout: float = PROBE_TIMEOUT_S) -> bool:
    """True if a TCP connection to the URL's host opens within ``timeout`` seconds."""
    parts = urllib.parse.urlsplit(url)
    port = parts.port or (443 if parts.scheme == "https" else 80)
    try:
        with socket.create_connection((parts.hostname, port), timeout=timeout):
            return True
    except OSError:
        return False


def resolve(model: str, weights, architecture: str = "vgg16"):
    """Check a ``weights`` argument up front; returns what keras.applications accepts.

    Returns ``None``, ``"imagenet"`` (cached, or downloadable now) or an
    absolute file path. Raises TypeError/ValueError for a bad argument,
    FileNotFoundError for a missing file and WeightsUnavailableError offline.
    """
    if weights is None:
        return None
    if not isinstance(weights, (str, os.PathLike)):
        raise TypeError(
            f"{model}: weights={weights!r} must be 'imagenet', None or the path to a weights file."
        )
    weights = os.fspath(weights)
    if weights == "imagenet":
        url = IMAGENET_NO_TOP[architecture]
        cached = os.path.join(keras_cache_dir(), os.path.basename(url))
        if os.path.exists(cached) or host_reachable(url):
            return "imagenet"
        raise WeightsUnavailableError(
            f"{model}: weights='imagenet' needs {os.path.basename(url)}, which is not in the "
            f"Keras cache ({cached}) and cannot be downloaded: {urllib.parse.urlsplit(url).hostname} "
            f"is unreachable within {PROBE_TIMEOUT_S:.0f} s. Fix it by one of: copy the file from "
            f"a machine with network ({url}) into {os.path.dirname(cached)} (or set KERAS_HOME to a "
            f"folder whose models/ holds it); pass weights='/path/to/{os.path.basename(url)}'; "
            "or pass weights=None to start from random weights."
        )
    if not weights.endswith(".h5"):
        raise ValueError(
            f"{model}: weights={weights!r} is not supported; use 'imagenet', None, or the path to "
            "an .h5 weights file (e.g. one saved by keras.applications)."
        )
    path = os.path.abspath(os.path.expanduser(weights))
    if not os.path.isfile(path):
        raise FileNotFoundError(
            f"{model}: weights file {path} does not exist. Pass the path to an existing .h5 file, "
            "'imagenet' to use the Keras download, or None for random weights."
        )
    return path
