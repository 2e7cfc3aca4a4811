"""Five local corruptions of MNIST-C (Mu and Gilmer 2019, "MNIST-C: A Robustness Benchmark for
Computer Vision"), written from the definitions the benchmark publishes (google-research/mnist-c,
``corruptions.py``) at the severities its dataset uses: ``line``, ``dotted_line``, ``zigzag``,
``spatter`` (severity 4) and ``impulse_noise`` (severity 4).

They are the blind-correction chapter's test damage: drawn on the test digits, never on the
training ones, and two of them (`HELD_OUT`) resemble none of the training damage of
`lib.damage`. Each corruption works on digits in [0, 1] as MNIST-C does, one random draw per digit;
`corrupt` returns the corrupted uint8 digits and the damaged pixels (those whose grey level changed).
"""
from __future__ import annotations

import cv2
import numpy as np

from lib import checks

SIZE = 28  # MNIST-C's definitions are written for 28x28 digits
STROKE_REACH = 2.3  # a line's falloff: brightness log(1 - d / 2.3) + 1, zero from d = 2.3 (1 - 1/e), about 1.45 pixels
MUD_GREY = 63 / 255  # spatter's "mud": a dark grey drop that covers strokes and background alike
IMPULSE_AMOUNT_SEVERITY_4 = 0.17  # the share of pixels replaced by pure black or white
ZIGZAG_LENGTH = ZIGZAG_WIDTH = 2.0  # each zig runs 2 pixels along the line and swings 2 pixels off it


def _grid():
    rows = np.arange(SIZE, dtype=np.float64)[None, :, None]
    cols = np.arange(SIZE, dtype=np.float64)[None, None, :]
    return rows, cols


def line_from_points(c0, r0, c1, r1):
    """MNIST-C's anti-aliased line (N, 28, 28) in [0, 1] from (column c0, row r0) to (c1, r1),
    one line per entry of the (N,) arrays: brightness ``log(1 - d / 2.3) + 1`` at vertical distance
    ``d`` from the line, nothing left of ``floor(c0)`` or from ``ceil(c1)`` on, and no line at all
    where ``c1 == c0`` (a vertical line is not drawn)."""
    c0, r0, c1, r1 = (np.asarray(value, np.float64).reshape(-1) for value in (c0, r0, c1, r1))
    rows, cols = _grid()
    drawn = c1 != c0
    slope = np.where(drawn, r1 - r0, 0.0) / np.where(drawn, c1 - c0, 1.0)
    centre = slope[:, None, None] * (cols - c0[:, None, None]) + r0[:, None, None]
    distance = np.clip(np.abs(rows - centre), 0, STROKE_REACH - 1e-10)
    stroke = np.clip(np.log(1 - distance / STROKE_REACH) + 1, 0, 1)
    inside = (cols >= np.floor(c0)[:, None, None]) & (cols < np.ceil(c1)[:, None, None])
    return np.where(inside & drawn[:, None, None], stroke, 0.0)


def line(digits, rng):
    """A line from the left edge's first 5 columns to the right side's columns 22-26."""
    n = len(digits)
    c0, c1 = rng.integers(0, 5, n), rng.integers(22, 27, n)
    r0, r1 = rng.integers(0, 27, n), rng.integers(0, 27, n)
    return np.clip(digits + line_from_points(c0, r0, c1, r1), 0, 1)


def dotted_line(digits, rng):
    """A line across the whole digit, drawn only in every other pair of columns (2-3, 6-7, ...)."""
    n = len(digits)
    r0, r1 = rng.integers(0, 27, n), rng.integers(0, 27, n)
    dashes = line_from_points(np.zeros(n), r0, np.full(n, 27), r1)
    gaps = (np.arange(SIZE) // 2) % 2 == 0
    dashes[:, :, gaps] = 0
    return np.clip(digits + dashes, 0, 1)


def zigzag_corners(r0, r1, c0=2.0, c1=25.0):
    """The corners (N, 2, K) of MNIST-C's zigzag along the line from (c0, r0) to (c1, r1): zigs
    of `ZIGZAG_LENGTH` swinging `ZIGZAG_WIDTH` to either side, ending where the line ends, rotated
    onto the line. Rows are (column, row)."""
    r0, r1 = np.asarray(r0, np.float64), np.asarray(r1, np.float64)
    along, width = ZIGZAG_LENGTH, ZIGZAG_WIDTH
    theta = np.arctan((r1 - r0) / (c1 - c0))
    length = (c1 - c0) / np.cos(theta)
    # For these lengths (23 to 23.6 pixels) every zigzag has the same number of zigs.
    zigs = {int((value - along) // (2 * along)) + 1 for value in np.atleast_1d(length)}
    if len(zigs) != 1:
        raise ValueError(f"zigzags of different zig counts in one batch: {sorted(zigs)}")
    zigs = zigs.pop()
    steps = np.arange(zigs)
    cs = np.concatenate([np.zeros((len(r0), 1)), np.broadcast_to((2 * steps + 1) * along, (len(r0), zigs))], axis=1)
    rs = np.concatenate([np.zeros((len(r0), 1)), np.broadcast_to((-1.0) ** steps * width, (len(r0), zigs))], axis=1)
    last_swing = (-1.0) ** (zigs - 1) * width
    full = (2 * along) * (length // (2 * along))
    ends = length != full
    # The published definition closes the zigzag with a point at the line's end whose offset is
    # the last swing divided by twice the leftover length; kept as published.
    end_c = length
    end_r = last_swing / (2 * np.where(ends, length - full, 1.0))
    if not ends.all():
        raise ValueError("a zigzag whose length is a whole number of zigs (not drawn by MNIST-C's test set)")
    cs = np.concatenate([cs, end_c[:, None]], axis=1)
    rs = np.concatenate([rs, end_r[:, None]], axis=1)
    cos, sin = np.cos(theta)[:, None], np.sin(theta)[:, None]
    return np.stack([cos * cs - sin * rs + c0, sin * cs + cos * rs + r0[:, None]], axis=1)


def zigzag(digits, rng):
    """A zigzag along a line from column 2 to 25, starting at a random row and sloping at most 5
    rows up or down."""
    n = len(digits)
    r0 = rng.integers(0, 27, n)
    r1 = r0 + rng.integers(-5, 5, n)
    corners = zigzag_corners(r0, r1)
    result = digits.copy()
    for k in range(1, corners.shape[2]):
        segment = line_from_points(corners[:, 0, k - 1], corners[:, 1, k - 1], corners[:, 0, k], corners[:, 1, k])
        result = np.clip(result + segment, 0, 1)
    return result


def gaussian_blur(images, sigma):
    """scikit-image's ``gaussian`` as MNIST-C calls it: a kernel to 4 sigma, edges repeated."""
    radius = int(4.0 * sigma + 0.5)
    return np.stack([cv2.GaussianBlur(image, (2 * radius + 1, 2 * radius + 1), sigma, sigmaY=sigma,
                                      borderType=cv2.BORDER_REPLICATE) for image in images])


def spatter(digits, rng, mean=0.65, spread=0.3, liquid_blur=1.0, threshold=0.65, mud_blur=1.5, mud_floor=0.8):
    """Severity 4's mud: blurred noise above a threshold, blurred again, kept where it is dense
    (at least `mud_floor`), and drawn over the digit in `MUD_GREY`."""
    liquid = gaussian_blur(rng.normal(mean, spread, digits.shape), liquid_blur)
    liquid[liquid < threshold] = 0
    mud = gaussian_blur((liquid > threshold).astype(np.float64), mud_blur)
    mud[mud < mud_floor] = 0
    return np.clip(digits * (1 - mud) + MUD_GREY * mud, 0, 1)


def impulse_noise(digits, rng, amount=IMPULSE_AMOUNT_SEVERITY_4):
    """Salt and pepper: each pixel, with probability ``amount``, becomes white or black (evenly)."""
    flipped = rng.random(digits.shape) < amount
    salted = rng.random(digits.shape) < 0.5
    result = digits.copy()
    result[flipped & salted] = 1.0
    result[flipped & ~salted] = 0.0
    return result


CORRUPTIONS = {"line": line, "dotted_line": dotted_line, "zigzag": zigzag, "spatter": spatter,
               "impulse_noise": impulse_noise}
# Each corruption's own random stream, fixed by name: adding or reordering corruptions changes no
# committed test set.
STREAMS = {"line": 0, "dotted_line": 1, "zigzag": 2, "spatter": 3, "impulse_noise": 4}
# Nothing in `lib.damage` draws dashes or grey drops: these two measure damage of a kind never seen.
HELD_OUT = ("dotted_line", "spatter")


def check_uint8_digits(digits, name="digits"):
    """uint8 (N, 28, 28) digits, MNIST's own format."""
    digits = np.asarray(digits)
    if digits.dtype != np.uint8:
        raise ValueError(f"{name} must be uint8 in [0, 255] (MNIST's format), got dtype {digits.dtype}")
    if digits.ndim != 3 or digits.shape[1:] != (SIZE, SIZE):
        raise ValueError(f"{name} must have shape (N, {SIZE}, {SIZE}), got {digits.shape}")
    return digits


def corrupt(digits, name, seed=0):
    """MNIST-C corruption ``name`` drawn on uint8 (N, 28, 28) ``digits`` with ``seed``; returns
    the corrupted uint8 digits and the boolean (N, 28, 28) mask of the pixels it changed."""
    digits = check_uint8_digits(digits)
    if name not in CORRUPTIONS:
        raise ValueError(f"corruption must be one of {list(CORRUPTIONS)}, got {name!r}")
    seed = checks.count(seed, "seed")
    if not len(digits):
        return digits.copy(), np.zeros(digits.shape, bool)
    rng = np.random.default_rng([seed, STREAMS[name]])
    corrupted = CORRUPTIONS[name](digits.astype(np.float64) / 255, rng)
    corrupted = np.rint(corrupted * 255).astype(np.uint8)
    return corrupted, corrupted != digits
