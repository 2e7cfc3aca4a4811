"""Tests of lib.tradeoff_plots: the perception-distortion figure."""
import matplotlib

matplotlib.use("Agg")
import pytest

from lib import tradeoff_plots


def test_one_panel_per_hole_with_a_point_per_method_and_the_goal_drawn():
    points = {"14x14 centre": {"telea": (0.99, 0.6), "improved": (0.9, 0.88), "global, 0.3": (0.7, 0.88)},
              "16x16 centre": {"telea": (0.99, 0.3), "global, 0.3": (0.8, 0.8)}}
    figure = tradeoff_plots.perception_distortion(points, targets={"14x14 centre": 0.7})
    first, second = figure.axes
    assert len(first.collections) == 3 and len(second.collections) == 2
    assert [text.get_text() for text in first.texts] == ["telea", "improved"]  # arms go in the legend
    assert [text.get_text() for text in figure.legends[0].get_texts()] == ["global, 0.3"]
    assert len(first.lines) == 2 and len(second.lines) == 1  # chance, and the goal where there is one
    assert first.get_title() == "14x14 centre"
    psnr = tradeoff_plots.perception_distortion({"14x14 centre": {"telea": (0.99, 6.5)}}, ylabel="hole PSNR (dB)", y_scale=1)
    assert psnr.axes[0].get_ylabel() == "hole PSNR (dB)"
    assert psnr.axes[0].collections[0].get_offsets()[0][1] == 6.5


@pytest.mark.parametrize("points", [{}, {"14x14 centre": {}}])
def test_the_figure_needs_points(points):
    with pytest.raises(ValueError, match="at least one hole"):
        tradeoff_plots.perception_distortion(points)
