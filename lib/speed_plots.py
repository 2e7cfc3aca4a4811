"""Appendix D's figure: probe accuracy against training time, recipe by recipe (`lib.speed`).

Drawn in the book's style (`lib.plotting`), from plain probe rows.
"""
from __future__ import annotations

import matplotlib.pyplot as plt

from lib import plotting  # noqa: F401  (the book's figure style)


def time_to_quality(curves, budget_seconds=None, title=None):
    """Probe accuracy against training time, one panel per hole, one line per recipe:
    ``curves`` maps a panel title to ``{recipe: probe rows}`` (dicts with ``seconds`` and
    ``accuracy``). The time axis is logarithmic, so a 15-minute run and a 90-minute one both
    read; ``budget_seconds`` draws the time budget as a vertical line."""
    if not curves or any(not recipes for recipes in curves.values()):
        raise ValueError("curves must map at least one panel to at least one recipe's probe rows")
    for recipes in curves.values():
        for rows in recipes.values():
            if not rows or any(not isinstance(row, dict) or not {"seconds", "accuracy"} <= set(row) for row in rows):
                raise ValueError("probe rows must be a non-empty list of dicts with 'seconds' and 'accuracy'")
    # A recipe keeps its colour in every panel, including panels it was not probed in.
    names = list(dict.fromkeys(name for recipes in curves.values() for name in recipes))
    cycle = plt.rcParams["axes.prop_cycle"].by_key()["color"]
    colours = {name: cycle[i % len(cycle)] for i, name in enumerate(names)}
    figure, axes = plt.subplots(1, len(curves), figsize=(4.2 * len(curves), 3.3), squeeze=False)
    for axis, (panel, recipes) in zip(axes[0], curves.items()):
        for label, rows in recipes.items():
            axis.plot([max(row["seconds"], 1.0) for row in rows], [100 * row["accuracy"] for row in rows],
                      marker=".", markersize=3, linewidth=1.5, label=str(label), color=colours[label])
        if budget_seconds is not None:
            axis.axvline(budget_seconds, color="#999999", linestyle="--", linewidth=1, label="the 15-minute budget")
        axis.set_xscale("log")
        axis.set_xlabel("training time (s, log scale)")
        axis.set_ylabel("probe accuracy (%)")
        axis.set_title(panel)
        axis.legend(loc="lower right")
    if title:
        figure.suptitle(title)
    figure.tight_layout()
    return figure
