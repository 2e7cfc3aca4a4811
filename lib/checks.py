"""The input checks every public helper shares: each written once, each failing with a
`ValueError` that says what was expected and what was given. Imports nothing heavy."""
from __future__ import annotations

import numbers


def count(value, name="n", minimum=0, maximum=None) -> int:
    """``value`` as an int, if it is an integer (not a bool) of at least ``minimum`` (and at most
    ``maximum``, if given)."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < minimum \
            or (maximum is not None and value > maximum):
        kind = f"an integer in {minimum}..{maximum}" if maximum is not None else \
            "a non-negative integer" if minimum == 0 else f"an integer >= {minimum}"
        raise ValueError(f"{name} must be {kind}, got {value!r}")
    return int(value)


def text(value, name) -> str:
    """``value``, if it is a non-empty string."""
    if not isinstance(value, str) or not value:
        raise ValueError(f"{name} must be a non-empty string, got {value!r}")
    return value


def mapping(value, name) -> dict:
    """``value``, if it is a JSON object (a dict with string keys)."""
    if not isinstance(value, dict) or not all(isinstance(key, str) for key in value):
        raise ValueError(f"{name} must be an object with string keys, got {type(value).__name__}")
    return value


def sequence(value, name) -> list:
    """``value``, if it is a JSON array."""
    if not isinstance(value, list):
        raise ValueError(f"{name} must be a list, got {type(value).__name__}")
    return value


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


# The scalar types a dataclass field may be declared with, and what satisfies each: a record read
# from JSON must not slip a string into a flag ("no" is truthy) or a float into a size.
_FIELD_TYPES = {"bool": (bool,), "int": (numbers.Integral,), "float": (numbers.Real,), "str": (str,), "tuple": (tuple,)}


def field_types(record):
    """``record`` (a dataclass instance), if every field holds a value of its declared type: a
    flag is a bool, a size an int (never a bool), a rate a real number, a name a string."""
    import dataclasses

    for field in dataclasses.fields(record):
        declared = str(field.type).split("[")[0].strip()
        value = getattr(record, field.name)
        accepted = _FIELD_TYPES.get(declared)
        if accepted and (not isinstance(value, accepted) or (declared != "bool" and isinstance(value, bool))):
            article = "an" if declared == "int" else "a"
            raise ValueError(f"{type(record).__name__}.{field.name} must be {article} {declared}, got {value!r}")
    return record
