"""Tests of lib.holes: the holes the book scores on, named once."""
import numpy as np
import pytest

from lib import data, holes
from lib.config import PAPER

pytestmark = pytest.mark.usefixtures("private_artifacts")  # nothing here touches the committed artifacts


SIZE = PAPER.image_size


def test_hole_label_names_centre_and_paper_holes():
    assert holes.label(14) == "14x14 centre"
    assert holes.label(np.int64(8)) == "8x8 centre"
    assert holes.label("paper") == "paper (8x8 jittered)"
    assert holes.label(holes.NO_HOLE) == "no hole"


@pytest.mark.parametrize("hole", ["huge", 0, 29, True])
def test_hole_label_rejects_an_unknown_hole(hole):
    with pytest.raises(ValueError, match="hole"):
        holes.label(hole)


def test_no_hole_masks_nothing():
    masks = holes.masks(4, holes.NO_HOLE)
    assert masks.shape == (4, SIZE, SIZE) and masks.dtype == np.bool_ and not masks.any()
    for bad in (-1, 2.5):
        with pytest.raises(ValueError, match="non-negative integer"):
            holes.masks(bad, holes.NO_HOLE)


def test_hole_masks_of_the_paper_hole_differ_for_training_and_test_digits():
    assert np.array_equal(holes.masks(5, "paper"), holes.evaluation_masks(5))
    assert np.array_equal(holes.masks(5, "paper", train=True), data.paper_masks(5, holes.TRAINING_MASK_SEED))
    assert not np.array_equal(holes.masks(50, "paper"), holes.masks(50, "paper", train=True))
    assert np.array_equal(holes.masks(3, 12, train=True), data.centre_masks(3, 12))


def test_hole_masks_rejects_an_unknown_hole():
    with pytest.raises(ValueError, match="a hole is a centre size"):
        holes.masks(3, "huge", train=True)


def test_a_hole_has_one_key_in_the_records_and_one_form_on_the_command_line():
    assert [holes.key(hole) for hole in holes.STUDY_HOLES] == ["paper", "c12", "c14", "c16"]
    assert holes.parse("14") == 14 and holes.parse("paper") == "paper" and holes.parse("none") == holes.NO_HOLE
    with pytest.raises(ValueError, match="no key"):
        holes.key(holes.NO_HOLE)
    for text in ("0", "29", "-3", "big", "14.0"):
        with pytest.raises(ValueError, match="a hole is a centre size"):
            holes.parse(text)


def test_free_form_strokes_are_seeded_brush_strokes_of_about_a_seventh_of_the_image():
    masks = holes.masks(2000, holes.STROKES)
    assert masks.shape == (2000, SIZE, SIZE) and masks.dtype == np.bool_
    assert np.array_equal(masks, holes.masks(2000, holes.STROKES))  # the same holes for every method
    assert not np.array_equal(masks[:50], holes.masks(50, holes.STROKES, train=True))
    coverage = masks.mean(axis=(1, 2))
    assert coverage.min() > 0 and 0.10 < coverage.mean() < 0.20 and coverage.max() < 0.6
    assert not np.array_equal(masks[0], masks[1])  # one shape per image, unlike a square
    assert holes.key(holes.STROKES) == "strokes" and holes.label(holes.STROKES) == "free-form strokes"
    assert holes.parse("strokes") == holes.STROKES


def test_stroke_masks_check_their_count_and_seed():
    for bad in (-1, 2.5):
        with pytest.raises(ValueError, match="non-negative integer"):
            holes.stroke_masks(bad, 0)
    with pytest.raises(ValueError, match="seed"):
        holes.stroke_masks(3, -2)
    with pytest.raises(ValueError, match="size must be"):
        holes.stroke_masks(3, 0, size=16)


def test_a_record_key_reads_back_as_its_hole():
    for hole in (*holes.STUDY_HOLES, holes.STROKES, 8):
        assert holes.from_key(holes.key(hole)) == hole
    for bad in ("c99", "none", "huge", "c"):
        with pytest.raises(ValueError):
            holes.from_key(bad)
