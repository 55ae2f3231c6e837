"""Argument checks shared by the factories.

Each raises a ValueError or TypeError that names the model, the argument, the
bad value and what would be accepted, before anything is built, and returns
the value as the plain Python type Keras expects: numpy scalars
(``num_classes=y.max() + 1``) become ``int``, ``float`` or ``bool`` here,
because several Keras layers refuse them.

Types are checked before values are compared, so a numpy array where a scalar
belongs is a TypeError that names the argument, not numpy's "truth value of an
array is ambiguous" from inside a comparison.
"""

from __future__ import annotations

import functools
import math
import numbers
import os
import re
from typing import Any, Callable, Iterable, Mapping

# The most parameters a factory builds (8 GiB of float32 weights): no model of this zoo is
# meant to be near it (the largest default is VGG-16's 15 million), and a model past it
# costs Keras 10-20 s of allocating before a 50-line ResourceExhaustedError.
MAX_PARAMETERS = 2**31
_BYTES_PER_VALUE = 4  # float32
# Keras refuses '/' in a name; TensorFlow names ops after the model and fails on spaces,
# ':', '\\' or non-ASCII only when the model is first called or traced, not when it is built.
_MODEL_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")
_ACTIVATION_EXAMPLES = "'relu', 'gelu', 'tanh', 'sigmoid', 'elu', 'selu' or 'swish'"


def show(value: Any, limit: int = 60) -> str:
    """``repr(value)`` cut to ``limit`` characters, so a huge list or array keeps the message one line."""
    try:
        text = " ".join(repr(value).split()) if not isinstance(value, str) else repr(value)
    except ValueError:  # an int of more than 4300 digits refuses to become a string
        return f"<a {type(value).__name__} too long to print>"
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _count(number: int) -> str:
    """1,234,567; past 2**50 a power of two, since a 40-digit count reads as noise (and floats overflow)."""
    return f"{number:,}" if number < 2**50 else f"more than 2**{number.bit_length() - 1}"


def _is_int(value: Any) -> bool:
    # numpy registers its integer scalars as numbers.Integral; bool is an int but never a size.
    return isinstance(value, numbers.Integral) and not isinstance(value, bool)


def _is_real(value: Any) -> bool:
    # numbers.Real covers float, int, numpy floats and ints; np.bool_ and arrays are not Real.
    return isinstance(value, numbers.Real) and not isinstance(value, bool)


def integer(model: str, name: str, value: Any, minimum: int = 1, maximum: int | None = None) -> int:
    if not _is_int(value):
        raise TypeError(f"{model}: {name}={show(value)} must be an integer >= {minimum}.")
    if value < minimum or (maximum is not None and value > maximum):
        allowed = f"between {minimum} and {maximum}" if maximum is not None else f">= {minimum}"
        raise ValueError(f"{model}: {name}={show(value)} is out of range; use an integer {allowed}.")
    return int(value)


def number(model: str, name: str, value: Any, minimum: float = 0.0) -> float:
    """A finite real number >= ``minimum`` (a loss weight, a learning rate)."""
    if not _is_real(value):
        raise TypeError(f"{model}: {name}={show(value)} must be a number >= {minimum:g}.")
    if not math.isfinite(value):
        raise ValueError(f"{model}: {name}={show(value)} is not a finite number; use a number >= {minimum:g}.")
    if value < minimum:
        raise ValueError(f"{model}: {name}={show(value)} is out of range; use a number >= {minimum:g}.")
    return float(value)


def fraction(model: str, name: str, value: Any) -> float:
    """A rate in [0, 1), such as a dropout rate."""
    if not _is_real(value):
        raise TypeError(f"{model}: {name}={show(value)} must be a float in [0, 1).")
    if math.isnan(value):
        raise ValueError(f"{model}: {name}={show(value)} is not a number; use a float in [0, 1).")
    if not 0.0 <= value < 1.0:
        raise ValueError(f"{model}: {name}={show(value)} is out of range; use a float in [0, 1).")
    return float(value)


def choice(model: str, name: str, value: Any, allowed: Iterable[Any]) -> Any:
    allowed = tuple(allowed)
    names = ", ".join(map(repr, allowed))
    # Same type first: comparing an array (or anything with a custom __eq__) with `in` can
    # raise or broadcast instead of answering.
    if not any(isinstance(value, type(option)) for option in allowed):
        raise TypeError(f"{model}: {name}={show(value)} must be one of {names}.")
    if value not in allowed:
        raise ValueError(f"{model}: {name}={show(value)} is not supported; use one of {names}.")
    return allowed[allowed.index(value)]  # the option itself: a plain str, not an np.str_


def boolean(model: str, name: str, value: Any) -> bool:
    import numpy as np  # here, not at the top: `import zoo` stays as light as it can

    if not isinstance(value, (bool, np.bool_)):
        raise TypeError(f"{model}: {name}={show(value)} must be True or False.")
    return bool(value)


def shape(model: str, name: str, value: Any, rank: int | None = None, example: str = "(64,)") -> tuple:
    """A shape tuple of positive ints (None allowed for image height/width)."""
    if _is_int(value) and rank in (None, 1):
        value = (value,)
    if not isinstance(value, (tuple, list)) or not value:
        raise TypeError(f"{model}: {name}={show(value)} must be a shape tuple such as {example}.")
    if rank is not None and len(value) != rank:
        raise ValueError(
            f"{model}: {name}={show(tuple(value))} must have {rank} dimension(s), e.g. {example}."
        )
    for dim in value:
        if dim is not None and not (_is_int(dim) and dim > 0):
            raise ValueError(
                f"{model}: {name}={show(tuple(value))} must contain positive integers, e.g. {example}."
            )
    return tuple(None if dim is None else int(dim) for dim in value)


def fixed_shape(model: str, name: str, value: Any, rank: int | None = None, example: str = "(64,)") -> tuple:
    """A shape of positive ints, with no None: a model whose weights depend on every dimension."""
    value = shape(model, name, value, rank=rank, example=example)
    if None in value:
        raise ValueError(f"{model}: {name}={value!r} needs fixed sizes, e.g. {example}.")
    return value


def integers(model: str, name: str, value: Any, minimum: int = 1, max_length: int | None = None) -> tuple[int, ...]:
    """One integer or a non-empty sequence of integers, returned as a tuple."""
    if _is_int(value):
        value = (value,)
    if not isinstance(value, (tuple, list)) or not value:
        raise TypeError(f"{model}: {name}={show(value)} must be an integer or a list of integers, e.g. [64, 32].")
    if max_length is not None and len(value) > max_length:
        raise ValueError(f"{model}: {name} has {len(value)} entries; use at most {max_length}.")
    return tuple(integer(model, f"{name}[{i}]", v, minimum) for i, v in enumerate(value))


@functools.lru_cache(maxsize=None)
def _works_as_activation(value: str, rank: int) -> bool:
    """True if Keras's activation ``value`` maps a float tensor of ``rank`` to one of the same shape.

    ``keras.activations.get`` knows names that cannot stand after a layer on their own:
    "threshold" needs two more arguments, "glu" halves the last axis (and fails on an
    odd width). Applying the function once is the check that always agrees with Keras.
    A width of 3 is odd on purpose, so anything that splits the last axis fails here.
    """
    import keras

    try:
        function = keras.activations.get(value)
        probe = keras.ops.reshape(keras.ops.linspace(-2.0, 2.0, 3**rank), (3,) * rank)
        output = function(probe)
        return tuple(output.shape) == (3,) * rank and "float" in str(output.dtype)
    except Exception:  # anything Keras raises means "not usable here"
        return False


def activation(model: str, name: str, value: Any, rank: int = 2) -> str:
    """A Keras activation name that works element-wise on a tensor of ``rank`` (imports Keras)."""
    if not isinstance(value, str):
        raise TypeError(f"{model}: {name}={show(value)} must be the name of a Keras activation, e.g. 'relu'.")
    if not _works_as_activation(str(value), rank):
        raise ValueError(
            f"{model}: {name}={show(value)} is not a Keras activation that works after a layer "
            f"of any width; use a name such as {_ACTIVATION_EXAMPLES}."
        )
    return str(value)


def model_name(model: str, value: Any) -> str:
    """A Keras model name: letters, digits, '_', '.' and '-', starting with a letter or digit."""
    if not isinstance(value, str) or not value.strip():
        raise TypeError(f"{model}: name={show(value)} must be a non-empty string, e.g. {model!r}.")
    if not _MODEL_NAME.match(value):
        raise ValueError(
            f"{model}: name={show(value)} cannot name a Keras model; use letters, digits, '_', '.' "
            f"and '-', starting with a letter or digit, e.g. {model!r}."
        )
    return str(value)


def machine_memory() -> int | None:
    """Bytes of physical memory, or None where the OS does not say (sysconf is POSIX only)."""
    try:
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (AttributeError, ValueError, OSError):
        return None


def size(model: str, estimate: Callable[..., tuple[int, int]], arguments: Mapping[str, Any]) -> None:
    """Refuse arguments that make the model too big to build here, naming the argument to blame.

    ``estimate(**arguments)`` returns ``(parameters, values)``: the parameter count and
    the most float32 values one example holds at once (0 when unknown). The model is
    refused past ``MAX_PARAMETERS`` parameters, or when parameters and values need more
    memory than the machine has; without this, Keras spends seconds allocating and
    ends in a long ResourceExhaustedError. The argument blamed is the one whose
    default value would shrink the estimate most.
    """
    parameters, values = estimate(**arguments)
    memory = machine_memory()
    needed = _BYTES_PER_VALUE * (parameters + values)
    if parameters <= MAX_PARAMETERS and (memory is None or needed <= memory):
        return
    from zoo.registry import info

    defaults = info(model).defaults
    culprit = min(
        (argument for argument in arguments if argument in defaults),
        key=lambda argument: sum(estimate(**{**arguments, argument: defaults[argument]})),
    )
    if parameters > MAX_PARAMETERS:
        reason = f"more than the {MAX_PARAMETERS:,} (2**31) the zoo builds"
    else:
        reason = (f"{_count(-(-needed // 2**30))} GiB as float32, more than this machine's "
                  f"{memory / 2**30:,.1f} GiB")
    per_example = f" and {_count(values)} values per example" if values else ""
    raise ValueError(
        f"{model}: {culprit}={show(arguments[culprit])} makes the model too big: "
        f"{_count(parameters)} parameters{per_example}, {reason}. "
        f"Use a smaller {culprit} (the default is {defaults[culprit]!r})."
    )
