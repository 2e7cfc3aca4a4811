"""The command table every study fills: `lib.cli` builds one subcommand per `Command`, with the
options its `Option`\\ s describe, and calls its function with them and the run-folder root.
Adding a command is one entry in its study's ``COMMANDS``.
"""
from __future__ import annotations

import argparse
from dataclasses import dataclass, field
from typing import Callable

SEED_LIMIT = 2 ** 32  # NumPy's and Keras's seeds


@dataclass(frozen=True)
class Option:
    """One option of a command: its flag and `argparse.ArgumentParser.add_argument`'s keywords."""

    flag: str
    settings: dict = field(default_factory=dict)


@dataclass(frozen=True)
class Command:
    """``python -m lib.cli [--dataset NAME] <name> [options]``: calls ``run(root=<run-folder root>,
    **options)`` and prints ``report`` of what it returns, if the command has one. Another dataset
    than MNIST is one argument away for the commands that list it in ``datasets``: its runs and
    records go under a folder of its name (`lib.datasets.root`)."""

    name: str
    run: Callable
    help: str
    options: tuple = ()
    report: Callable | None = None
    datasets: tuple = ("mnist",)  # what it can run on (`lib.datasets`): its root then names the dataset


def seed_argument(text):
    """A seed from the command line: an integer in [0, 2**32)."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"a seed is an integer, got {text!r}") from None
    if not 0 <= value < SEED_LIMIT:
        raise argparse.ArgumentTypeError(f"a seed must be in [0, 2**32), got {value}")
    return value


def positive_argument(text):
    """A count from the command line: an integer of at least 1."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected an integer, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be >= 1, got {value}")
    return value


def argument(parse):
    """``parse`` as an argparse type: its `ValueError` becomes the usage error, in its own words."""
    def converted(text):
        try:
            return parse(text)
        except ValueError as error:
            raise argparse.ArgumentTypeError(str(error)) from None

    converted.__name__ = parse.__name__
    return converted


def variant_name(text):
    """A variant of `lib.config` by name: one of ``VARIANTS`` or a combination of their changes."""
    from lib.config import variant_named

    return variant_named(text).name


def seeds(default=(0,), choices=None, what="the seeds to train"):
    """``--seeds 0 1 2``; ``choices``: the only seeds the command accepts."""
    return Option("--seeds", dict(type=seed_argument, nargs="+", default=list(default), choices=choices,
                                  metavar="SEED", help=f"{what} (default: {' '.join(map(str, default))})"))


def seed(default=0, what="the seed"):
    """``--seed 0``: for commands that make one thing (one record, one shipped model)."""
    return Option("--seed", dict(type=seed_argument, default=default, help=f"{what} (default: {default})"))


def epochs(default, what="epochs"):
    return Option("--epochs", dict(type=positive_argument, default=default,
                                   help=f"{what} (default: {default}; quick mode trains fewer)"))


def choice(flag, choices, default=None, many=False, required=False, what="", dest=None):
    """An option whose values are names of ``choices`` (one, or several with ``many``), passed as
    the keyword ``dest`` (default: the flag's name)."""
    return Option(flag, dict(choices=list(choices), default=default, required=required, nargs="+" if many else None,
                             dest=dest or flag.lstrip("-").replace("-", "_"),
                             metavar="NAME", help=f"{what}: {', '.join(map(repr, choices))}"
                             + ("" if default is None else f" (default: {default!r})")))
