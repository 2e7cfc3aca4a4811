"""Tests of lib.commands: the options a study's command table is built from."""
import argparse

import pytest

from lib import commands, holes


def parse(option, argv):
    parser = argparse.ArgumentParser(exit_on_error=False)
    parser.add_argument(option.flag, **option.settings)
    return vars(parser.parse_args(argv))


def test_seeds_default_choices_and_range():
    assert parse(commands.seeds((0, 1)), []) == {"seeds": [0, 1]}
    assert parse(commands.seeds(), ["--seeds", "3", "4"]) == {"seeds": [3, 4]}
    with pytest.raises(argparse.ArgumentError, match="invalid choice"):
        parse(commands.seeds(choices=(0, 1)), ["--seeds", "2"])
    for bad in ("-1", "4294967296", "x"):
        with pytest.raises(argparse.ArgumentError, match="seed"):
            parse(commands.seeds(), ["--seeds", bad])
    assert parse(commands.seed(5), []) == {"seed": 5}


def test_epochs_are_positive_and_choices_name_their_keyword():
    assert parse(commands.epochs(2), []) == {"epochs": 2}
    with pytest.raises(argparse.ArgumentError, match="must be >= 1"):
        parse(commands.epochs(2), ["--epochs", "0"])
    assert parse(commands.choice("--recipe", ("a", "b"), dest="recipe_name"), ["--recipe", "b"]) == {"recipe_name": "b"}
    assert parse(commands.choice("--arms", ("a", "b"), many=True), ["--arms", "a", "b"]) == {"arms": ["a", "b"]}
    with pytest.raises(argparse.ArgumentError, match="invalid choice"):
        parse(commands.choice("--arms", ("a", "b"), many=True), ["--arms", "c"])


def test_an_argument_type_reports_the_parsers_own_words():
    option = commands.Option("--holes", dict(type=commands.argument(holes.parse), nargs="+"))
    assert parse(option, ["--holes", "paper", "14"]) == {"holes": ["paper", 14]}
    with pytest.raises(argparse.ArgumentError, match="a hole is a centre size in 1..28 pixels"):
        parse(option, ["--holes", "99"])
