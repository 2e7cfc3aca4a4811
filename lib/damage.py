"""The blind-correction chapter's training damage: strokes, ruled lines, saw-toothed lines,
scribbles, blobs, salt-and-pepper noise and erasures drawn on training digits, each with the
exact mask of the pixels it changed, so the mask head (`lib.mask_head`) learns from exact labels.

None of it is MNIST-C's code (`lib.corruptions` is the test damage). The ruled and saw-toothed
lines were added after the first head missed MNIST-C's lines and zigzags, so those two are
familiar damage; two of MNIST-C's corruptions resemble nothing here and stayed out of every
choice: no dashes (``dotted_line``) and no grey drops (``spatter``).
"""
from __future__ import annotations

import cv2
import numpy as np

from lib import checks
from lib.corruptions import SIZE, check_uint8_digits

CLEAN_SHARE = 0.25  # digits left undamaged: the head must learn to find nothing on a clean digit
MOST_KINDS = 2  # a damaged digit carries one or two kinds of damage


def _point(rng, low=0, high=SIZE):
    return tuple(int(v) for v in np.rint(rng.uniform(low, high, 2)))


def _ink(digit, layer):
    """Ink over ink: a pixel takes the brighter of the digit and the new stroke."""
    np.maximum(digit, layer, out=digit)


def _line_type(rng):
    return cv2.LINE_AA if rng.random() < 0.7 else cv2.LINE_8  # pens leave soft edges more often than not


def stroke(digit, rng):
    """A straight stroke of 1 to 3 pixels at a grey of 160 to 255 through a point near the
    digit's centre, 16 to 40 pixels long, its edges sometimes softened further."""
    centre = np.array(rng.uniform(6, 22, 2))
    angle, half = rng.uniform(0, np.pi), rng.uniform(8, 20)
    offset = half * np.array([np.cos(angle), np.sin(angle)])
    layer = np.zeros_like(digit)
    cv2.line(layer, tuple(int(v) for v in np.rint(centre - offset)), tuple(int(v) for v in np.rint(centre + offset)),
             int(rng.integers(160, 256)), int(rng.integers(1, 4)), _line_type(rng))
    if rng.random() < 0.3:
        peak = layer.max()
        layer = cv2.GaussianBlur(layer, (3, 3), rng.uniform(0.5, 0.8))
        layer = np.clip(layer.astype(np.float64) * peak / max(int(layer.max()), 1), 0, 255).astype(np.uint8)
    _ink(digit, layer)


def scribble(digit, rng):
    """A pen's wandering path: 3 to 7 points from near the centre, each 3 to 9 pixels from the last."""
    points = [np.array(_point(rng, 4, SIZE - 4))]
    for _ in range(int(rng.integers(2, 7))):
        angle, length = rng.uniform(0, 2 * np.pi), rng.uniform(3, 9)
        points.append(points[-1] + np.rint(length * np.array([np.cos(angle), np.sin(angle)])).astype(int))
    layer = np.zeros_like(digit)
    cv2.polylines(layer, [np.array(points, np.int32)], False, int(rng.integers(200, 256)), int(rng.integers(1, 3)),
                  _line_type(rng))
    _ink(digit, layer)


def blob(digit, rng):
    """One to three white ellipses, 1 to 4 pixels across each axis."""
    layer = np.zeros_like(digit)
    for _ in range(int(rng.integers(1, 4))):
        axes = tuple(int(v) for v in rng.integers(1, 5, 2))
        cv2.ellipse(layer, _point(rng), axes, float(rng.uniform(0, 180)), 0, 360, int(rng.integers(200, 256)), -1)
    _ink(digit, layer)


def salt_and_pepper(digit, rng):
    """2 to 25 % of the pixels turned pure white or black."""
    flipped = rng.random(digit.shape) < rng.uniform(0.02, 0.25)
    digit[flipped] = np.where(rng.random(int(flipped.sum())) < 0.5, 255, 0).astype(np.uint8)


SUPERSAMPLE = 4  # pen strokes are drawn 4 times finer and averaged down: widths between whole pixels, soft edges


def _pen(points, width, grey):
    """A 28x28 layer with a pen's path through ``points`` (pixel coordinates, floats, placed to a
    quarter pixel): ``width`` pixels wide, its edges soft as a scanned stroke's, at most ``grey``
    (a thin line that crosses pixels obliquely covers none of them whole, and stays fainter)."""
    fine = np.zeros((SIZE * SUPERSAMPLE, SIZE * SUPERSAMPLE), np.float32)
    scaled = np.rint((np.asarray(points) + 0.5) * SUPERSAMPLE - 0.5).astype(np.int32)
    # Hard-edged at the fine scale: the soft edges come from averaging 4x4 fine pixels into one.
    cv2.polylines(fine, [scaled], False, 1.0, max(1, int(round(width * SUPERSAMPLE))), cv2.LINE_8)
    layer = cv2.resize(fine, (SIZE, SIZE), interpolation=cv2.INTER_AREA)
    return np.rint(np.clip(layer, 0, 1) * grey).astype(np.uint8)


def _border_point(rng, side):
    """A point just outside side 0-3 (top, right, bottom, left) of the digit, anywhere along it."""
    along = rng.uniform(0, SIZE - 1)
    return [(along, -1.0), (SIZE, along), (along, SIZE), (-1.0, along)][side]


def _lay(digit, layer, rng):
    """Ink over ink, or ink added to ink (a translucent pen), at random."""
    if rng.random() < 0.5:
        _ink(digit, layer)
    else:
        digit[:] = np.minimum(digit.astype(np.int16) + layer, 255).astype(np.uint8)


def ruled_line(digit, rng):
    """A line ruled from one side of the image to another (the opposite side two times in
    three; an adjacent side's may only clip a corner), 1 to 3 pixels wide, its pen's grey 150 to
    255: a strike-through no wider than a digit's own strokes."""
    first = int(rng.integers(4))
    second = (first + (2 if rng.random() < 2 / 3 else int(rng.choice([1, 3])))) % 4  # across, more often than a corner
    _lay(digit, _pen([_border_point(rng, first), _border_point(rng, second)], rng.uniform(1, 3),
                     int(rng.integers(150, 256))), rng)


def sawtooth(digit, rng):
    """A saw-toothed (zigzag) line ruled across much of the image: a corner every 2 to 5 pixels
    along a straight path at any angle, up to 16 to 30 pixels long (its last corner falls short of
    the end by less than a step), swinging 1.5 to 4 pixels to either side, drawn 1 to 2.5 pixels
    wide, its pen's grey 150 to 255."""
    length, angle = rng.uniform(16, 30), rng.uniform(0, np.pi)
    step, swing = rng.uniform(2, 5), rng.uniform(1.5, 4)
    along = np.arange(0, length, step)
    across = swing * np.where(np.arange(len(along)) % 2, 1.0, -1.0)
    direction = np.array([np.cos(angle), np.sin(angle)])
    start = rng.uniform(6, SIZE - 6, 2) - direction * length / 2
    points = start + along[:, None] * direction + across[:, None] * np.array([-direction[1], direction[0]])
    _lay(digit, _pen(points, rng.uniform(1, 2.5), int(rng.integers(150, 256))), rng)


def erasure(digit, rng):
    """A black stroke of 2 to 4 pixels rubbed across the digit: only its strokes' pixels change."""
    layer = np.zeros_like(digit)
    cv2.line(layer, _point(rng, -4, SIZE + 4), _point(rng, -4, SIZE + 4), 255, int(rng.integers(2, 5)), cv2.LINE_8)
    digit[layer > 0] = 0


KINDS = {"stroke": stroke, "ruled_line": ruled_line, "sawtooth": sawtooth, "scribble": scribble, "blob": blob,
         "salt_and_pepper": salt_and_pepper, "erasure": erasure}


def damage(digits, seed, clean_share=CLEAN_SHARE, kinds=tuple(KINDS)):
    """Damage uint8 (N, 28, 28) ``digits``: each is left clean with probability ``clean_share``,
    else given one or two of ``kinds`` (at random). Returns the damaged uint8 digits and the
    boolean mask of the pixels that changed; the same ``seed`` draws the same damage."""
    digits = check_uint8_digits(digits)
    clean_share = checks.fraction(clean_share, "clean_share")
    unknown = [kind for kind in kinds if kind not in KINDS]
    if not kinds or unknown or isinstance(kinds, str):
        raise ValueError(f"kinds must be a non-empty sequence of {list(KINDS)}, got {kinds!r}")
    rng = np.random.default_rng(checks.seed(seed))
    damaged = digits.copy()
    for digit in damaged:
        if rng.random() < clean_share:
            continue
        for kind in rng.choice(list(kinds), size=int(rng.integers(1, MOST_KINDS + 1))):
            KINDS[kind](digit, rng)
    return damaged, damaged != digits
