"""MNIST-C's five local corruptions: each one's footprint (the share of pixels it changes, and
where), as its published definition fixes it."""
import numpy as np
import pytest

from lib import corruptions

DIGITS = 3000
# A pixel changes where the line's brightness log(1 - d / 2.3) + 1 rounds to at least one grey
# level: within d = 2.3 (1 - e^(-1 + 1/510)) = 1.452 rows of its centre, 2.904 rows a column.
ROWS_A_COLUMN = 2 * corruptions.STROKE_REACH * (1 - np.exp(-1 + 1 / 510))


@pytest.fixture(scope="module")
def blank():
    return np.zeros((DIGITS, 28, 28), np.uint8)


@pytest.fixture(scope="module")
def grey():
    return np.full((DIGITS, 28, 28), 128, np.uint8)


def changed_columns(mask):
    return set(np.flatnonzero(mask.any(axis=(0, 1))))


def test_line_runs_from_the_left_edge_to_columns_22_to_26(blank):
    corrupted, damaged = corruptions.corrupt(blank, "line", seed=1)
    assert changed_columns(damaged) <= set(range(26))  # ceil(c1) <= 26: columns 26 and 27 are never drawn
    # From column c0 (0-4) to c1 - 1 (21-25): 22 columns on average, clipped at the top and bottom.
    expected = 22 * ROWS_A_COLUMN / 784
    assert expected - 0.004 < damaged.mean() < expected + 0.001
    assert (damaged.mean(axis=(1, 2)) > 17 * 2 / 784).all()  # at least 18 columns of at least 2 rows


def test_dotted_line_draws_every_other_pair_of_columns(blank):
    _, damaged = corruptions.corrupt(blank, "dotted_line", seed=1)
    assert changed_columns(damaged) <= {column for column in range(27) if (column // 2) % 2 == 1}
    expected = 13 * ROWS_A_COLUMN / 784  # 13 drawn columns (2-3, 6-7, ..., 26) of a full-width line
    assert expected - 0.002 < damaged.mean() < expected + 0.002


def test_zigzag_stays_between_columns_2_and_25(blank):
    _, damaged = corruptions.corrupt(blank, "zigzag", seed=1)
    assert changed_columns(damaged) == set(range(2, 26))
    # About 23.5 columns of a line's rows, plus its corners' overlaps; less where it leaves the digit.
    assert 0.080 < damaged.mean() < 0.095


def test_zigzag_corners_swing_two_pixels_either_side_of_its_line():
    corners = corruptions.zigzag_corners(np.array([10.0]), np.array([10.0]))[0]
    columns, rows = corners
    assert columns[0] == 2 and columns[-1] == pytest.approx(25.0)
    np.testing.assert_allclose(rows[1:-1], 10 + 2.0 * (-1.0) ** np.arange(len(rows) - 2))


def test_spatter_covers_about_an_eighth_in_dark_grey_mud(blank, grey):
    corrupted, damaged = corruptions.corrupt(blank, "spatter", seed=1)
    # Mud is drawn where its density is at least 0.8, in grey 63: 50 to 63 over a black background.
    assert corrupted[damaged].min() >= 50 and corrupted[damaged].max() <= 63
    assert 0.11 < damaged.mean() < 0.16
    over_grey, _ = corruptions.corrupt(grey, "spatter", seed=1)
    assert ((over_grey == 128) | ((over_grey >= 63) & (over_grey <= 76))).all()


def test_impulse_noise_replaces_17_percent_of_pixels_by_black_or_white(blank, grey):
    corrupted, damaged = corruptions.corrupt(grey, "impulse_noise", seed=1)
    assert set(np.unique(corrupted[damaged])) == {0, 255}
    assert damaged.mean() == pytest.approx(0.17, abs=0.002)
    _, on_black = corruptions.corrupt(blank, "impulse_noise", seed=1)
    assert on_black.mean() == pytest.approx(0.085, abs=0.002)  # pepper on black changes nothing


@pytest.mark.parametrize("name", list(corruptions.CORRUPTIONS))
def test_the_damage_is_the_changed_pixels_and_a_seed_repeats_it(name):
    rng = np.random.default_rng(0)
    digits = rng.integers(0, 256, (50, 28, 28), dtype=np.uint8)
    corrupted, damaged = corruptions.corrupt(digits, name, seed=3)
    assert corrupted.dtype == np.uint8 and damaged.dtype == bool
    np.testing.assert_array_equal(damaged, corrupted != digits)
    again, _ = corruptions.corrupt(digits, name, seed=3)
    other, _ = corruptions.corrupt(digits, name, seed=4)
    np.testing.assert_array_equal(again, corrupted)
    assert (other != corrupted).any()


@pytest.mark.parametrize("name", list(corruptions.CORRUPTIONS))
def test_an_empty_batch_comes_back_empty(name):
    corrupted, damaged = corruptions.corrupt(np.zeros((0, 28, 28), np.uint8), name)
    assert corrupted.shape == damaged.shape == (0, 28, 28) and damaged.dtype == bool


def test_each_corruption_keeps_its_own_random_stream_whatever_the_order(monkeypatch):
    digits = np.random.default_rng(0).integers(0, 256, (20, 28, 28), dtype=np.uint8)
    before = corruptions.corrupt(digits, "zigzag", seed=1)[0]
    monkeypatch.setattr(corruptions, "CORRUPTIONS", dict(reversed(corruptions.CORRUPTIONS.items())))
    np.testing.assert_array_equal(corruptions.corrupt(digits, "zigzag", seed=1)[0], before)
    assert set(corruptions.STREAMS) == set(corruptions.CORRUPTIONS)
    assert len(set(corruptions.STREAMS.values())) == len(corruptions.STREAMS)


def test_the_held_out_corruptions_are_corruptions():
    assert set(corruptions.HELD_OUT) < set(corruptions.CORRUPTIONS)


@pytest.mark.parametrize("digits, message", [
    (np.zeros((2, 28, 28), np.float32), "uint8"),
    (np.zeros((28, 28), np.uint8), r"shape \(N, 28, 28\)"),
    (np.zeros((2, 32, 32), np.uint8), r"shape \(N, 28, 28\)"),
])
def test_bad_digits_are_refused(digits, message):
    with pytest.raises(ValueError, match=message):
        corruptions.corrupt(digits, "line")


def test_unknown_corruptions_and_bad_seeds_are_refused():
    digits = np.zeros((2, 28, 28), np.uint8)
    with pytest.raises(ValueError, match="one of"):
        corruptions.corrupt(digits, "fog")
    with pytest.raises(ValueError, match="seed"):
        corruptions.corrupt(digits, "line", seed=-1)
