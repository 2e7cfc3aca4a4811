"""The holes the book scores on, named once: a centre size in pixels, the paper's jittered 8x8
hole (``"paper"``) or no hole (``"none"``). Every table, record key and command-line option
that names a hole goes through this module.
"""
from __future__ import annotations

import numpy as np

from lib import checks, data
from lib.config import EVALUATION_MASK_SEED, PAPER

PAPER_HOLE = "paper"
NO_HOLE = "none"  # clean digits: the accuracy a classifier recipe reaches when nothing is missing
HOLE_SIZES = (8, 10, 12, 14, 16)  # chapter 6's centre holes
STUDY_HOLES = (PAPER_HOLE, 12, 14, 16)  # the holes chapter 7's and appendix D's studies score
TRAINING_MASK_SEED = 7  # the jittered paper holes of training digits (test digits have the evaluation holes)


def check(hole):
    """``hole`` if it names a hole: a centre size in 1..28 pixels, ``"paper"`` or ``"none"``."""
    if hole in (PAPER_HOLE, NO_HOLE):
        return hole
    if isinstance(hole, bool) or not isinstance(hole, (int, np.integer)) or not 1 <= hole <= PAPER.image_size:
        raise ValueError(f"a hole is a centre size in 1..{PAPER.image_size} pixels, {PAPER_HOLE!r} or {NO_HOLE!r}, "
                         f"got {hole!r}")
    return int(hole)


def parse(text):
    """A hole from the command line: ``"14"``, ``"paper"`` or ``"none"``."""
    return check(int(text) if isinstance(text, str) and text.isdigit() else text)


def label(hole):
    """How the tables name a hole: ``"14x14 centre"`` for a centre size, or the paper's hole."""
    hole = check(hole)
    if hole == NO_HOLE:
        return "no hole"
    if hole == PAPER_HOLE:
        return "paper (8x8 jittered)"
    return f"{hole}x{hole} centre"


def key(hole):
    """A hole's key in the records: ``"paper"``, ``"c14"``."""
    hole = check(hole)
    if hole == NO_HOLE:
        raise ValueError("records keep no key for the absent hole")
    return PAPER_HOLE if hole == PAPER_HOLE else f"c{hole}"


def evaluation_masks(n, seed=EVALUATION_MASK_SEED):
    """The paper's holes for the first ``n`` test digits, the same for every method."""
    return data.paper_masks(n, seed)


def masks(n, hole, train=False):
    """The masks of ``hole`` for ``n`` digits: a centre square, the paper's jittered 8x8 hole
    (evaluation holes for test digits, others for training digits) or nothing missing."""
    hole = check(hole)
    if hole == NO_HOLE:
        return np.zeros((checks.count(n), PAPER.image_size, PAPER.image_size), bool)
    if hole == PAPER_HOLE:
        return data.paper_masks(n, TRAINING_MASK_SEED) if train else evaluation_masks(n)
    return data.centre_masks(n, hole)
