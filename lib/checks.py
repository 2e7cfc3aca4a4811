"""The input checks every public helper shares: each written once, each failing with a
`ValueError` that says what was expected and what was given. Imports nothing heavy."""
from __future__ import annotations

import numbers


def count(value, name="n", minimum=0) -> int:
    """``value`` as an int, if it is an integer (not a bool) of at least ``minimum``."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < minimum:
        kind = "a non-negative integer" if minimum == 0 else f"an integer >= {minimum}"
        raise ValueError(f"{name} must be {kind}, got {value!r}")
    return int(value)


def instance(value, kind, name="config"):
    """``value``, if it is an instance of ``kind`` (a class or a tuple of classes)."""
    if not isinstance(value, kind):
        names = " or ".join(k.__name__ if k.__module__.startswith(("lib", "builtins")) else f"{k.__module__.split('.')[0]}.{k.__name__}"
                            for k in (kind if isinstance(kind, tuple) else (kind,)))
        raise ValueError(f"{name} must be a {names}, got {type(value).__name__}")
    return value


def positive(value, name) -> float:
    """``value`` as a float, if it is a finite number > 0."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or not 0 < value < float("inf"):
        raise ValueError(f"{name} must be a finite number > 0, got {value!r}")
    return float(value)


def fraction(value, name, low=0.0, high=1.0) -> float:
    """``value`` as a float, if it is a number in [low, high]."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or not low <= value <= high:
        raise ValueError(f"{name} must be a number in [{low:g}, {high:g}], got {value!r}")
    return float(value)


def seed(value, name="seed"):
    """``value``, if it seeds NumPy's generator: a non-negative integer or a non-empty list or
    tuple of them (e.g. ``[seed, epoch]``)."""
    values = value if isinstance(value, (list, tuple)) else [value]
    if not values or any(isinstance(v, bool) or not isinstance(v, numbers.Integral) or v < 0 for v in values):
        raise ValueError(f"{name} must be a non-negative integer or a list of them, got {value!r}")
    return value
