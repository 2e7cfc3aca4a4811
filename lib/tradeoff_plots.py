"""Chapter 11's figure: accuracy against realism, one panel per hole, every method a point."""
from __future__ import annotations

import matplotlib.pyplot as plt

from lib import plotting

CHANCE = 50.0  # a detector at 50 % cannot tell the fills from real digits


def perception_distortion(points, title=None, targets=None):
    """``points``: ``{hole label: {method: (detector accuracy, classifier accuracy)}}`` in
    [0, 1]. One panel per hole: realism on x (the detector's accuracy, falling towards the
    chance line at 50 %: further left is more realistic) against accuracy on y. ``targets``
    (``{hole label: detector limit}``) draws each hole's realism goal as a dashed line."""
    if not points or not all(points.values()):
        raise ValueError("points must map at least one hole to at least one method's (detector, accuracy)")
    figure, axes = plt.subplots(1, len(points), figsize=(3.1 * len(points), 3.4), squeeze=False,
                                layout="constrained")
    for axis, (hole, methods) in zip(axes[0], points.items()):
        for name, (detector, accuracy) in methods.items():
            colour = plotting.METHOD_COLOURS.get(name)
            axis.scatter(100 * detector, 100 * accuracy, s=22, color=colour, zorder=3)
            axis.annotate(name, (100 * detector, 100 * accuracy), fontsize=6.5, xytext=(3, 2),
                          textcoords="offset points")
        axis.axvline(CHANCE, color="#999999", lw=0.8, ls=":")
        if targets and hole in targets:
            axis.axvline(100 * targets[hole], color="#2ca02c", lw=0.8, ls="--")
        axis.set_xlim(45, 101)
        axis.set_title(hole)
        axis.set_xlabel("detector accuracy (%)\n← more realistic")
    axes[0][0].set_ylabel("classifier accuracy (%)")
    if title:
        figure.suptitle(title)
    return figure
