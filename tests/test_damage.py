"""The blind-correction training damage: exact labels, every kind drawn, a seed repeats it."""
import numpy as np
import pytest

from lib import damage


@pytest.fixture(scope="module")
def digits():
    rng = np.random.default_rng(0)
    return rng.integers(0, 256, (200, 28, 28), dtype=np.uint8)


def test_the_labels_are_exactly_the_changed_pixels_and_a_seed_repeats_them(digits):
    damaged, labels = damage.damage(digits, seed=[1, 2])
    np.testing.assert_array_equal(labels, damaged != digits)
    again, _ = damage.damage(digits, seed=[1, 2])
    np.testing.assert_array_equal(again, damaged)
    other, _ = damage.damage(digits, seed=[1, 3])
    assert (other != damaged).any()


def test_a_share_of_the_digits_is_left_clean():
    blank = np.zeros((2000, 28, 28), np.uint8)
    kinds = tuple(kind for kind in damage.KINDS if kind != "erasure")  # an erasure changes nothing on black
    _, labels = damage.damage(blank, seed=0, kinds=kinds)
    clean = ~labels.any(axis=(1, 2))
    assert clean.mean() == pytest.approx(damage.CLEAN_SHARE, abs=0.03)
    _, none = damage.damage(blank, seed=0, clean_share=1.0)
    assert not none.any()


@pytest.mark.parametrize("kind", ["stroke", "ruled_line", "sawtooth", "scribble", "blob", "salt_and_pepper"])
def test_each_kind_draws_on_a_black_digit(kind):
    blank = np.zeros((100, 28, 28), np.uint8)
    damaged, labels = damage.damage(blank, seed=0, clean_share=0.0, kinds=(kind,))
    assert labels.any(axis=(1, 2)).mean() > 0.9  # a stroke may run outside the digit
    assert damaged[labels].min() >= 1


def drawn_alone(kind, count=200):
    """The pixels ``kind`` draws on black digits, one drawing each (`damage.damage` may draw two)."""
    rng = np.random.default_rng(0)
    digits = np.zeros((count, 28, 28), np.uint8)
    for digit in digits:
        kind(digit, rng)
    return digits > 0


def test_a_ruled_line_runs_from_one_side_of_the_image_to_another():
    labels = drawn_alone(damage.ruled_line)
    sides = np.stack([labels[:, 0].any(1), labels[:, :, -1].any(1), labels[:, -1].any(1), labels[:, :, 0].any(1)])
    assert (sides.sum(axis=0) >= 2).mean() > 0.95


def spread_across(labels):
    """Each mask's spread (standard deviation, pixels) across its own main axis: how far its
    pixels stray from the straight line that fits them best."""
    spreads = []
    for mask in labels:
        points = np.argwhere(mask).astype(float)
        spreads.append(np.sqrt(np.linalg.eigvalsh(np.cov(points.T))[0]) if len(points) > 2 else 0.0)
    return np.array(spreads)


def test_a_sawtooth_is_long_and_strays_from_a_straight_line_as_a_ruled_line_does_not():
    teeth, ruled = drawn_alone(damage.sawtooth), drawn_alone(damage.ruled_line)
    extent = np.maximum(teeth.any(axis=2).sum(axis=1), teeth.any(axis=1).sum(axis=1))
    assert (extent >= 10).mean() > 0.9
    assert np.median(spread_across(teeth)) > 1.5 and np.median(spread_across(ruled)) < 1.2


def test_a_pen_over_or_added_to_the_ink_never_darkens_it():
    grey = np.full((300, 28, 28), 200, np.uint8)
    damaged, labels = damage.damage(grey, seed=0, clean_share=0.0, kinds=("ruled_line", "sawtooth"))
    assert labels.any() and (damaged >= 200).all()  # no uint8 wrap-around
    assert (damaged[labels] == 255).mean() < 1  # a faint edge added to the grey stays below white


def test_salt_and_pepper_is_pure_black_or_white():
    grey = np.full((100, 28, 28), 128, np.uint8)
    damaged, labels = damage.damage(grey, seed=0, clean_share=0.0, kinds=("salt_and_pepper",))
    assert set(np.unique(damaged[labels])) == {0, 255}
    assert 0.02 <= labels.mean() <= 0.25


def test_an_erasure_blackens_strokes_only():
    white = np.full((100, 28, 28), 255, np.uint8)
    damaged, labels = damage.damage(white, seed=0, clean_share=0.0, kinds=("erasure",))
    assert labels.any() and (damaged[labels] == 0).all()


@pytest.mark.parametrize("arguments, message", [
    (dict(digits=np.zeros((2, 28, 28), np.float32)), "uint8"),
    (dict(kinds=("fog",)), "kinds"),
    (dict(kinds="stroke"), "kinds"),
    (dict(kinds=()), "kinds"),
    (dict(clean_share=1.5), "clean_share"),
    (dict(seed=-1), "seed must be"),
])
def test_bad_arguments_are_refused(arguments, message):
    call = {"digits": np.zeros((2, 28, 28), np.uint8), "seed": 0, **arguments}
    with pytest.raises(ValueError, match=message):
        damage.damage(**call)
