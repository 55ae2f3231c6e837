"""Argument checks shared by the factories.

Each raises a ValueError or TypeError that names the model, the argument, the
bad value and what would be accepted, before anything is built.
"""

from __future__ import annotations

import numbers
from typing import Any, Iterable


def _is_int(value: Any) -> bool:
    return isinstance(value, numbers.Integral) and not isinstance(value, bool)


def integer(model: str, name: str, value: Any, minimum: int = 1, maximum: int | None = None) -> int:
    if not _is_int(value):
        raise TypeError(f"{model}: {name}={value!r} must be an integer >= {minimum}.")
    if value < minimum or (maximum is not None and value > maximum):
        allowed = f"between {minimum} and {maximum}" if maximum is not None else f">= {minimum}"
        raise ValueError(f"{model}: {name}={value!r} is out of range; use an integer {allowed}.")
    return int(value)


def fraction(model: str, name: str, value: Any) -> float:
    """A rate in [0, 1), such as a dropout rate."""
    if not isinstance(value, numbers.Real) or isinstance(value, bool):
        raise TypeError(f"{model}: {name}={value!r} must be a float in [0, 1).")
    if not 0.0 <= value < 1.0:
        raise ValueError(f"{model}: {name}={value!r} is out of range; use a float in [0, 1).")
    return float(value)


def choice(model: str, name: str, value: Any, allowed: Iterable[Any]) -> Any:
    allowed = tuple(allowed)
    if value not in allowed:
        raise ValueError(
            f"{model}: {name}={value!r} is not supported; use one of {', '.join(map(repr, allowed))}."
        )
    return value


def boolean(model: str, name: str, value: Any) -> bool:
    if not isinstance(value, bool):
        raise TypeError(f"{model}: {name}={value!r} must be True or False.")
    return value


def shape(model: str, name: str, value: Any, rank: int | None = None, example: str = "(64,)") -> tuple:
    """A shape tuple of positive ints (None allowed for image height/width)."""
    if isinstance(value, numbers.Integral) and not isinstance(value, bool) and rank in (None, 1):
        value = (int(value),)
    if not isinstance(value, (tuple, list)) or not value:
        raise TypeError(f"{model}: {name}={value!r} must be a shape tuple such as {example}.")
    if rank is not None and len(value) != rank:
        raise ValueError(
            f"{model}: {name}={tuple(value)!r} must have {rank} dimension(s), e.g. {example}."
        )
    for dim in value:
        if dim is not None and not (_is_int(dim) and dim > 0):
            raise ValueError(
                f"{model}: {name}={tuple(value)!r} must contain positive integers, e.g. {example}."
            )
    return tuple(None if dim is None else int(dim) for dim in value)


def integers(model: str, name: str, value: Any, minimum: int = 1) -> tuple[int, ...]:
    """One integer or a non-empty sequence of integers, returned as a tuple."""
    if _is_int(value):
        value = (value,)
    if not isinstance(value, (tuple, list)) or not value:
        raise TypeError(f"{model}: {name}={value!r} must be an integer or a list of integers, e.g. [64, 32].")
    return tuple(integer(model, f"{name}[{i}]", v, minimum) for i, v in enumerate(value))


def activation(model: str, name: str, value: Any) -> str:
    """A Keras activation name (imports Keras to check it)."""
    import keras

    if not isinstance(value, str):
        raise TypeError(f"{model}: {name}={value!r} must be the name of a Keras activation, e.g. 'relu'.")
    try:
        keras.activations.get(value)
    except (ValueError, TypeError):
        raise ValueError(
            f"{model}: {name}={value!r} is not a Keras activation; use a name such as "
            "'relu', 'gelu', 'tanh', 'sigmoid', 'elu', 'selu' or 'swish'."
        ) from None
    return value


def model_name(model: str, value: Any) -> str:
    """A Keras model name: a non-empty string."""
    if not isinstance(value, str) or not value.strip():
        raise TypeError(f"{model}: name={value!r} must be a non-empty string, e.g. {model!r}.")
    return value
