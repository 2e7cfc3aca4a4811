"""Reading a GAN's training history: smoothing, windows, and the losses to expect at equilibrium."""
from __future__ import annotations

import numpy as np

from lib import checks


def _vector(values, name="values"):
    values = np.asarray(values, dtype=float)
    if values.ndim != 1 or values.size == 0:
        raise ValueError(f"{name} must be a non-empty 1-D sequence, got shape {values.shape}")
    if not np.isfinite(values).all():
        raise ValueError(f"{name} contains NaN or infinite values")
    return values


def moving_average(values, window):
    """Trailing mean over ``window`` iterations (shorter at the start), same length as ``values``."""
    values = _vector(values)
    if isinstance(window, bool) or not isinstance(window, (int, np.integer)) or window < 1:
        raise ValueError(f"window must be a positive integer, got {window!r}")
    totals = np.cumsum(np.insert(values, 0, 0.0))
    ends = np.arange(1, len(values) + 1)
    starts = np.maximum(ends - window, 0)
    return (totals[ends] - totals[starts]) / (ends - starts)


def window_statistics(values, start, low, high):
    """From iteration ``start`` (1-based) on: mean, 5th/95th percentiles, and the share of
    iterations whose value lies in ``[low, high]``."""
    values = _vector(values)
    if not 1 <= start <= len(values):
        raise ValueError(f"start must be in 1..{len(values)}, got {start}")
    if not low < high:
        raise ValueError(f"need low < high, got {low}, {high}")
    tail = values[start - 1:]
    return {
        "mean": float(tail.mean()), "p5": float(np.percentile(tail, 5)), "p95": float(np.percentile(tail, 95)),
        "share in range": float(((tail >= low) & (tail <= high)).mean()),
    }


def binary_cross_entropy(target, prediction):
    """BCE of one prediction in (0, 1) against a (possibly smoothed) target in [0, 1]."""
    if not all(isinstance(v, (int, float, np.floating, np.integer)) and not isinstance(v, bool)
               for v in (target, prediction)):
        raise ValueError(f"target and prediction must be numbers, got {target!r}, {prediction!r}")
    if not 0 <= target <= 1 or not 0 < prediction < 1:
        raise ValueError(f"need 0 <= target <= 1 and 0 < prediction < 1, got {target}, {prediction}")
    return float(-(target * np.log(prediction) + (1 - target) * np.log(1 - prediction)))


def equilibrium_losses(real_label=0.9, fake_label=0.0):
    """The losses when the generator's digits are indistinguishable from real ones.

    Then the best discriminator outputs the average target, D = (real_label + fake_label) / 2,
    for every image; the table gives its loss on real and on fake images and the generator's
    adversarial loss (target 1) at that point, plus the 'know-nothing' D = 0.5 for reference."""
    best = (real_label + fake_label) / 2
    return {
        "D output at equilibrium": best,
        "D loss on real": binary_cross_entropy(real_label, best),
        "D loss on fake": binary_cross_entropy(fake_label, best),
        "adversarial loss": binary_cross_entropy(1.0, best),
        "any loss at D = 0.5": binary_cross_entropy(1.0, 0.5),
    }


def time_to_reach(probe_rows, threshold):
    """The first probe measurement whose accuracy exceeds ``threshold``: ``(iteration, seconds)``,
    or ``None`` if training never got there."""
    if not 0 < threshold < 1:
        raise ValueError(f"threshold must be an accuracy in (0, 1), got {threshold}")
    for row in probe_rows:
        if not isinstance(row, dict) or not {"step", "seconds", "accuracy"} <= set(row):
            raise ValueError(f"probe rows must be dicts with step, seconds and accuracy, got {row!r}")
        if row["accuracy"] > threshold:
            return int(row["step"]), float(row["seconds"])
    return None


def smooth_history(history, window=100):
    """`moving_average` of every column of a history table except the iteration counter."""
    return {key: (values if key == "step" else moving_average(values, window)) for key, values in history.items()}


WINNING_FAKE_LOSS = 0.01  # -log(1 - D) < 0.01: D below 0.01, all but certain that every fill is fake


def collapse_indicators(history, probe, window=100):
    """The signs of collapse (a saturated generator whose fills are all read as one digit) and of
    a winning discriminator in one run (appendix A). A discriminator wins when its loss on fakes,
    -log(1 - D), is below `WINNING_FAKE_LOSS` (D below about 0.01 on every fill), not when it
    classifies them right at 0.5: with the paper's 0.9 target the balanced game's D is 0.45, on
    the "right" side of 0.5 for every fill."""
    fake_loss = moving_average(history["d_loss_fake"], window)
    adversarial = moving_average(history["g_loss"], window)
    shares = [row["top_class_share"] for row in probe]
    if not shares:
        raise ValueError("probe must hold at least one measurement")
    return {
        "first probe's top-class share": shares[0], "last probe's top-class share": shares[-1],
        f"iterations with D's {window}-it. loss on fakes < {WINNING_FAKE_LOSS}": int((fake_loss < WINNING_FAKE_LOSS).sum()),
        f"max adversarial loss ({window}-it. mean)": round(float(adversarial.max()), 2),
        "iteration of that maximum": int(np.argmax(adversarial)) + 1,
    }


def epoch_seconds(probe, steps_per_epoch):
    """Each epoch's wall seconds, from a run's probe rows at epoch ends (``steps_per_epoch``
    apart): where an epoch took far longer than its neighbours, something stalled it."""
    steps_per_epoch = checks.count(steps_per_epoch, "steps_per_epoch", minimum=1)
    ends = [row for row in probe if row["step"] % steps_per_epoch == 0]
    if not ends:
        raise ValueError(f"no probe row falls on an epoch's end ({steps_per_epoch} iterations apart)")
    return [round(later["seconds"] - (earlier["seconds"] if earlier else 0.0), 1)
            for earlier, later in zip([None, *ends], ends)]


def seconds_above_pace(probe):
    """The seconds a run spent above its own median pace between probe rows (seconds per
    iteration), summed over the gaps that were slower: stalls, and any other slow stretch."""
    gaps = [(later["seconds"] - earlier["seconds"], later["step"] - earlier["step"])
            for earlier, later in zip(probe, probe[1:]) if later["step"] > earlier["step"]]
    if not gaps:
        raise ValueError("need at least two probe rows at different iterations")
    pace = float(np.median([seconds / steps for seconds, steps in gaps]))
    return sum(max(0.0, seconds - pace * steps) for seconds, steps in gaps)
