"""The holes the book scores on, named once: a centre size in pixels, the paper's jittered 8x8
hole (``"paper"``), free-form brush strokes (``"strokes"``) or no hole (``"none"``). Every table, record key and command-line option
that names a hole goes through this module.
"""
from __future__ import annotations

import cv2
import numpy as np

from lib import checks, data
from lib.config import EVALUATION_MASK_SEED, PAPER

PAPER_HOLE = "paper"
NO_HOLE = "none"  # clean digits: the accuracy a classifier recipe reaches when nothing is missing
STROKES = "strokes"  # free-form holes: brush strokes, as DeepFill v2 trains on (Yu et al. 2019)
NAMED = (PAPER_HOLE, STROKES, NO_HOLE)
# A stroke hole: 1 to 3 strokes, each a polyline of 2 to 4 segments of 4 to 8 pixels, drawn 2 or 3
# pixels thick (OpenCV's thickness), starting in the image's middle: about 15 % of the image on
# average (a seventh), the 14x14 centre square's 25 % at most for all but a few.
STROKE_COUNT, STROKE_SEGMENTS, STROKE_SEGMENT_LENGTH, STROKE_WIDTH = (1, 3), (2, 4), (4, 8), (2, 3)
STROKE_START = (6, 22)
HOLE_SIZES = (8, 10, 12, 14, 16)  # chapter 6's centre holes
STUDY_HOLES = (PAPER_HOLE, 12, 14, 16)  # the holes chapter 7's and appendix D's studies score
TRAINING_MASK_SEED = 7  # the jittered paper holes of training digits (test digits have the evaluation holes)


def check(hole):
    """``hole`` if it names a hole: a centre size in 1..28 pixels, or one of `NAMED`."""
    if isinstance(hole, str) and hole in NAMED:
        return hole
    if isinstance(hole, bool) or not isinstance(hole, (int, np.integer)) or not 1 <= hole <= PAPER.image_size:
        raise ValueError(f"a hole is a centre size in 1..{PAPER.image_size} pixels or one of {list(NAMED)}, "
                         f"got {hole!r}")
    return int(hole)


def parse(text):
    """A hole from the command line: ``"14"``, ``"paper"``, ``"strokes"`` or ``"none"``."""
    return check(int(text) if isinstance(text, str) and text.isdigit() else text)


def label(hole):
    """How the tables name a hole: ``"14x14 centre"`` for a centre size, or a named hole's words."""
    hole = check(hole)
    if hole == NO_HOLE:
        return "no hole"
    if hole == PAPER_HOLE:
        return "paper (8x8 jittered)"
    if hole == STROKES:
        return "free-form strokes"
    return f"{hole}x{hole} centre"


def key(hole):
    """A hole's key in the records: ``"paper"``, ``"strokes"``, ``"c14"``."""
    hole = check(hole)
    if hole == NO_HOLE:
        raise ValueError("records keep no key for the absent hole")
    return hole if isinstance(hole, str) else f"c{hole}"


def from_key(text):
    """The hole a record's key names (`key` read back): ``"c14"`` is 14, ``"paper"`` the paper's."""
    if isinstance(text, str) and text.startswith("c") and text[1:].isdigit():
        return check(int(text[1:]))
    if text == NO_HOLE:
        raise ValueError("records keep no key for the absent hole")
    return check(text)


def evaluation_masks(n, seed=EVALUATION_MASK_SEED):
    """The paper's holes for the first ``n`` test digits, the same for every method."""
    return data.paper_masks(n, seed)


def stroke_masks(n, seed, size=PAPER.image_size):
    """``n`` free-form holes (`STROKES`), drawn with ``seed``: each a few random brush strokes."""
    if isinstance(size, bool) or not isinstance(size, (int, np.integer)) or size < STROKE_START[1] + 1:
        raise ValueError(f"size must be an integer of at least {STROKE_START[1] + 1} pixels (the strokes start "
                         f"in {STROKE_START[0]}..{STROKE_START[1]}), got {size!r}")
    rng = np.random.default_rng(checks.count(seed, "seed"))
    masks = np.zeros((checks.count(n), size, size), np.uint8)
    for mask in masks:
        for _ in range(rng.integers(STROKE_COUNT[0], STROKE_COUNT[1] + 1)):
            point = rng.uniform(*STROKE_START, size=2)
            width = int(rng.integers(STROKE_WIDTH[0], STROKE_WIDTH[1] + 1))
            for _ in range(rng.integers(STROKE_SEGMENTS[0], STROKE_SEGMENTS[1] + 1)):
                angle, length = rng.uniform(0, 2 * np.pi), rng.uniform(*STROKE_SEGMENT_LENGTH)
                end = np.clip(point + length * np.array([np.cos(angle), np.sin(angle)]), 0, size - 1)
                cv2.line(mask, tuple(int(round(v)) for v in point), tuple(int(round(v)) for v in end), 1, width)
                point = end
    return masks.astype(bool)


def masks(n, hole, train=False):
    """The masks of ``hole`` for ``n`` digits: a centre square, the paper's jittered 8x8 hole or
    free-form strokes (evaluation holes for test digits, others for training digits), or nothing
    missing."""
    hole = check(hole)
    if hole == NO_HOLE:
        return np.zeros((checks.count(n), PAPER.image_size, PAPER.image_size), bool)
    if hole == PAPER_HOLE:
        return data.paper_masks(n, TRAINING_MASK_SEED) if train else evaluation_masks(n)
    if hole == STROKES:
        return stroke_masks(n, TRAINING_MASK_SEED if train else EVALUATION_MASK_SEED)
    return data.centre_masks(n, hole)
