"""Tests of lib.tradeoff_plots: the perception-distortion figure."""
import matplotlib

matplotlib.use("Agg")
import pytest

from lib import tradeoff_plots


def test_one_panel_per_hole_with_a_point_per_method_and_the_goal_drawn():
    points = {"14x14 centre": {"telea": (0.99, 0.6), "improved": (0.9, 0.88)}, "16x16 centre": {"telea": (0.99, 0.3)}}
    figure = tradeoff_plots.perception_distortion(points, targets={"14x14 centre": 0.7})
    first, second = figure.axes
    assert len(first.collections) == 2 and len(second.collections) == 1
    assert len(first.lines) == 2 and len(second.lines) == 1  # chance, and the goal where there is one
    assert first.get_title() == "14x14 centre"


@pytest.mark.parametrize("points", [{}, {"14x14 centre": {}}])
def test_the_figure_needs_points(points):
    with pytest.raises(ValueError, match="at least one hole"):
        tradeoff_plots.perception_distortion(points)
