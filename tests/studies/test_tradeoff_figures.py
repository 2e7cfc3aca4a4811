"""Tests of lib.tradeoff_plots: the perception-distortion figure."""
import matplotlib

matplotlib.use("Agg")
import pytest

from lib import plotting
from lib.studies import tradeoff_figures


def test_one_panel_per_hole_with_a_point_per_method_and_the_goal_drawn():
    points = {"14x14 centre": {"telea": (0.99, 0.6), "recommended": (0.9, 0.88), "global, 0.3": (0.7, 0.88)},
              "16x16 centre": {"telea": (0.99, 0.3), "global, 0.3": (0.8, 0.8)}}
    figure = tradeoff_figures.perception_distortion(points, targets={"14x14 centre": 0.7})
    first, second = figure.axes
    assert len(first.collections) == 3 and len(second.collections) == 2
    assert [text.get_text() for text in first.texts] == ["telea", "recommended"]  # arms go in the legend
    assert [text.get_text() for text in figure.legends[0].get_texts()] == ["global, 0.3"]
    assert len(first.lines) == 2 and len(second.lines) == 1  # chance, and the goal where there is one
    assert first.get_title() == "14x14 centre"
    psnr = tradeoff_figures.perception_distortion({"14x14 centre": {"telea": (0.99, 6.5)}}, ylabel="hole PSNR (dB)", y_scale=1)
    assert psnr.axes[0].get_ylabel() == "hole PSNR (dB)"
    assert psnr.axes[0].collections[0].get_offsets()[0][1] == 6.5


@pytest.mark.parametrize("points", [{}, {"14x14 centre": {}}])
def test_the_figure_needs_points(points):
    with pytest.raises(ValueError, match="at least one hole"):
        tradeoff_figures.perception_distortion(points)


def test_a_zoomed_panel_shows_the_arms_and_names_what_it_leaves_out():
    points = {"16x16 centre": {"telea": (0.99, 0.33), "recommended": (0.987, 0.803), "realistic": (0.73, 0.7965),
                               "reconstruction only": (0.998, 0.793), "global, 0.3": (0.778, 0.801)}}
    figure = tradeoff_figures.perception_distortion(points, zoom=2, path=("reconstruction only", "global, 0.3"))
    axis = figure.axes[0]
    low, high = axis.get_ylim()
    assert high - low == pytest.approx(2) and low < 79.3 and high > 80.1  # at least 2 points tall, around the arms
    assert [text.get_text() for text in axis.texts] == ["recommended", "realistic"]  # inside the zoom: drawn
    assert len(axis.collections) == 4 and "off the axis: telea" in axis.get_xlabel()
    method_colours = {matplotlib.colors.to_hex(colour) for colour in plotting.METHOD_COLOURS.values()}
    assert not method_colours & {matplotlib.colors.to_hex(colour) for colour in tradeoff_figures.ARM_COLOURS}
    sweep = [line for line in axis.lines if line.get_linestyle() == "-"]  # the rest are the chance line and goals
    assert len(sweep) == 1 and list(sweep[0].get_ydata()) == pytest.approx([79.3, 80.1])


def test_the_zoom_keeps_a_wide_range_and_widens_a_narrow_one():
    assert tradeoff_figures.zoom_limits([10.0, 20.0], 2) == pytest.approx((8.5, 21.5))
    assert tradeoff_figures.zoom_limits([97.5, 97.7], 2) == pytest.approx((96.6, 98.6))
    with pytest.raises(ValueError, match="positive span"):
        tradeoff_figures.zoom_limits([1.0], 0)
    with pytest.raises(ValueError, match="at least one arm"):
        tradeoff_figures.perception_distortion({"14x14 centre": {"telea": (0.99, 0.6)}}, zoom=2)
