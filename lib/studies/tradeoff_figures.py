"""Chapter 7's figure: accuracy against realism, one panel per hole, every method a point."""
from __future__ import annotations

import textwrap

import matplotlib.pyplot as plt

from lib import plotting

CHANCE = 50.0  # a detector at 50 % cannot tell the fills from real digits
ARM_MARKERS = "o^sDvP*X"
# The arms' colours, none of them a colour `lib.plotting.METHOD_COLOURS` gives a method.
ARM_COLOURS = ("#ff7f0e", "#8c564b", "#e377c2", "#bcbd22", "#393b79", "#843c39", "#7b4173", "#000000")
ZOOM_MARGIN = 0.15  # of the arms' span, above and below, when a panel is zoomed on them


def zoom_limits(values, smallest_span):
    """The y-limits of a panel zoomed on ``values``: their range with a margin, widened about its
    centre to at least ``smallest_span`` (so that a difference of noise does not fill the panel)."""
    if not values or smallest_span <= 0:
        raise ValueError(f"zoom needs at least one value and a positive span, got {values!r} and {smallest_span!r}")
    low, high = min(values), max(values)
    margin = ZOOM_MARGIN * (high - low)
    low, high = low - margin, high + margin
    if high - low < smallest_span:
        centre = (low + high) / 2
        low, high = centre - smallest_span / 2, centre + smallest_span / 2
    return low, high


def perception_distortion(points, title=None, targets=None, ylabel="classifier accuracy (%)", y_scale=100,
                          zoom=None, path=()):
    """``points``: ``{hole label: {method: (detector accuracy, y)}}``, the detector's accuracy
    in [0, 1]. One panel per hole: realism on x (the detector's accuracy, falling towards the
    chance line at 50 %: further left is more realistic) against ``y`` times ``y_scale``: the
    classifier's accuracy by default, or a distortion measure such as the hole's PSNR (then
    ``y_scale=1`` and its ``ylabel``). ``targets`` (``{hole label: detector limit}``) draws each
    hole's realism goal as a dashed line.

    The book's methods (the names `lib.plotting.METHOD_COLOURS` knows) are labelled beside their
    points; every other name is an arm of the study, with a colour and a marker of its own and
    one legend below the panels. ``zoom`` (a number of y units) zooms each panel's y-axis on the
    arms, at least ``zoom`` tall: the arms differ little in y and a shared axis with the
    baselines piles them on one line; a method outside the zoomed axis is left out of that panel
    and named under it. ``path`` names methods joined by a thin line in that order (a sweep)."""
    if not points or not all(points.values()):
        raise ValueError("points must map at least one hole to at least one method's (detector, accuracy)")
    arms = list(dict.fromkeys(name for methods in points.values() for name in methods
                              if name not in plotting.METHOD_COLOURS))
    if zoom is not None and not arms:
        raise ValueError("zoom needs at least one arm (a method lib.plotting.METHOD_COLOURS does not name)")
    figure, axes = plt.subplots(1, len(points), figsize=(3.1 * len(points), 3.8 if zoom else 3.6), squeeze=False,
                                layout="constrained")
    arm_styles = {name: (ARM_COLOURS[index % len(ARM_COLOURS)], ARM_MARKERS[index % len(ARM_MARKERS)])
                  for index, name in enumerate(arms)}
    for axis, (hole, methods) in zip(axes[0], points.items()):
        scaled = {name: (100 * detector, y_scale * y) for name, (detector, y) in methods.items()}
        limits, outside = None, []
        if zoom is not None:
            limits = zoom_limits([y for name, (_, y) in scaled.items() if name in arm_styles], zoom)
            outside = [name for name, (_, y) in scaled.items() if not limits[0] <= y <= limits[1]]
        swept = [scaled[name] for name in path if name in scaled and name not in outside]
        if len(swept) > 1:
            axis.plot(*zip(*swept), color="#bbbbbb", lw=0.8, zorder=2)
        for name, (x, y) in scaled.items():
            if name in outside:
                continue
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
        if limits:
            axis.set_ylim(*limits)
        axis.set_title(hole)
        label = "detector accuracy (%)\n← more realistic"
        if outside:
            label += "\n" + textwrap.fill("off the axis: " + ", ".join(outside), 36)
        axis.set_xlabel(label)
    if arms:
        handles = {label: handle for axis in axes[0] for handle, label in zip(*axis.get_legend_handles_labels())}
        figure.legend(handles.values(), handles.keys(), loc="outside lower center", ncol=min(4, len(handles)), fontsize=7)
    axes[0][0].set_ylabel(ylabel)
    if title:
        figure.suptitle(title)
    return figure
