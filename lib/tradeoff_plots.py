"""Chapter 11's figure: accuracy against realism, one panel per hole, every method a point."""
from __future__ import annotations

import matplotlib.pyplot as plt

from lib import plotting

CHANCE = 50.0  # a detector at 50 % cannot tell the fills from real digits
ARM_MARKERS = "o^sDvP*X"


def perception_distortion(points, title=None, targets=None, ylabel="classifier accuracy (%)", y_scale=100):
    """``points``: ``{hole label: {method: (detector accuracy, y)}}``, the detector's accuracy
    in [0, 1]. One panel per hole: realism on x (the detector's accuracy, falling towards the
    chance line at 50 %: further left is more realistic) against ``y`` times ``y_scale``: the
    classifier's accuracy by default, or a distortion measure such as the hole's PSNR (then
    ``y_scale=1`` and its ``ylabel``). ``targets`` (``{hole label: detector limit}``) draws each
    hole's realism goal as a dashed line."""
    if not points or not all(points.values()):
        raise ValueError("points must map at least one hole to at least one method's (detector, accuracy)")
    figure, axes = plt.subplots(1, len(points), figsize=(3.1 * len(points), 3.6), squeeze=False,
                                layout="constrained")
    # The book's methods are labelled beside their points; the arms, which crowd together, get a
    # colour and a marker each and one legend below the panels.
    arms = list(dict.fromkeys(name for methods in points.values() for name in methods
                              if name not in plotting.METHOD_COLOURS))
    arm_styles = {name: (plt.cm.tab10(index % 10), ARM_MARKERS[index % len(ARM_MARKERS)])
                  for index, name in enumerate(arms)}
    for axis, (hole, methods) in zip(axes[0], points.items()):
        for name, (detector, accuracy) in methods.items():
            x, y = 100 * detector, y_scale * accuracy
            if name in arm_styles:
                colour, marker = arm_styles[name]
                axis.scatter(x, y, s=26, color=colour, marker=marker, zorder=3, label=name)
            else:
                axis.scatter(x, y, s=22, color=plotting.METHOD_COLOURS[name], zorder=3)
                axis.annotate(name, (x, y), fontsize=6.5, xytext=(3, 2), textcoords="offset points")
        axis.axvline(CHANCE, color="#999999", lw=0.8, ls=":")
        if targets and hole in targets:
            axis.axvline(100 * targets[hole], color="#2ca02c", lw=0.8, ls="--")
        axis.set_xlim(45, 104)
        axis.set_title(hole)
        axis.set_xlabel("detector accuracy (%)\n← more realistic")
    if arms:
        handles = {label: handle for axis in axes[0] for handle, label in zip(*axis.get_legend_handles_labels())}
        figure.legend(handles.values(), handles.keys(), loc="outside lower center", ncol=min(4, len(handles)), fontsize=7)
    axes[0][0].set_ylabel(ylabel)
    if title:
        figure.suptitle(title)
    return figure
