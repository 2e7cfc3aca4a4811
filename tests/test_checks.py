"""Tests of lib.checks: the shared input checks and their messages."""
import numpy as np
import pytest

from lib import checks
from lib.config import GANConfig


@pytest.mark.parametrize("value, minimum", [(0, 0), (3, 1), (np.int64(7), 1)])
def test_count_accepts_integers_at_or_above_the_minimum(value, minimum):
    assert checks.count(value, "n", minimum) == int(value) and type(checks.count(value, "n", minimum)) is int


@pytest.mark.parametrize("value, minimum, message", [(-1, 0, "n must be a non-negative integer, got -1"),
                                                     (0, 1, "n must be an integer >= 1, got 0"),
                                                     (True, 0, "got True"), (2.0, 0, "got 2.0"), ("3", 0, "got '3'")])
def test_count_rejects_everything_else(value, minimum, message):
    with pytest.raises(ValueError, match=message):
        checks.count(value, "n", minimum)


def test_instance_names_the_expected_kind():
    config = GANConfig()
    assert checks.instance(config, GANConfig) is config
    with pytest.raises(ValueError, match="config must be a GANConfig, got dict"):
        checks.instance({}, GANConfig)
    with pytest.raises(ValueError, match="x must be a int or str, got float"):
        checks.instance(1.0, (int, str), "x")


@pytest.mark.parametrize("check, value, message", [
    (checks.positive, 0.0, "rate must be a finite number > 0, got 0.0"),
    (checks.positive, float("inf"), "got inf"),
    (checks.positive, True, "got True"),
    (checks.fraction, 1.5, r"rate must be a number in \[0, 1\], got 1.5"),
    (checks.fraction, float("nan"), "got nan"),
])
def test_number_checks_reject_what_is_out_of_range(check, value, message):
    with pytest.raises(ValueError, match=message):
        check(value, "rate")


def test_number_checks_return_floats():
    assert checks.positive(2, "rate") == 2.0 and checks.fraction(1, "share") == 1.0


@pytest.mark.parametrize("value", [0, 7, np.int64(3), [1, 2], (0, 5)])
def test_seeds_are_non_negative_integers_or_lists_of_them(value):
    assert checks.seed(value) is value


@pytest.mark.parametrize("value", [-1, 1.5, True, [], [1, -2], "0", None])
def test_other_seeds_are_refused(value):
    with pytest.raises(ValueError, match="seed must be a non-negative integer or a list of them"):
        checks.seed(value)
