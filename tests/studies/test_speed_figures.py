"""Tests of lib.studies.speed_figures: appendix D's time-to-quality figure."""
import matplotlib

matplotlib.use("Agg")

import numpy as np  # noqa: E402
import pytest  # noqa: E402

from lib.studies import speed_figures  # noqa: E402


def test_time_to_quality_draws_a_panel_per_hole_on_a_log_time_axis():
    fast = [{"seconds": 0.5, "accuracy": 0.5}, {"seconds": 800, "accuracy": 0.97}]
    slow = [{"seconds": 30, "accuracy": 0.8}, {"seconds": 5000, "accuracy": 0.975}]
    figure = speed_figures.time_to_quality({"paper's hole": {"fast": fast, "reference": slow},
                                       "14x14": {"fast": fast, "reference": slow}}, budget_seconds=900)
    assert len(figure.axes) == 2
    axis = figure.axes[0]
    assert axis.get_xscale() == "log" and axis.get_title() == "paper's hole"
    np.testing.assert_allclose(axis.lines[0].get_xdata(), [1.0, 800])  # the first probe at 1 s, not below
    np.testing.assert_allclose(axis.lines[1].get_ydata(), [80.0, 97.5])
    assert axis.lines[2].get_xdata()[0] == 900


@pytest.mark.parametrize("curves", [{}, {"panel": {}}, {"panel": {"a": []}}, {"panel": {"a": [{"step": 1}]}}])
def test_time_to_quality_rejects_missing_rows(curves):
    with pytest.raises(ValueError, match="curves must|probe rows"):
        speed_figures.time_to_quality(curves)


def test_a_recipe_keeps_its_colour_in_a_panel_it_shares_with_fewer_recipes():
    rows = [{"seconds": 10, "accuracy": 0.9}, {"seconds": 100, "accuracy": 0.95}]
    figure = speed_figures.time_to_quality({"paper's hole": {"reference": rows, "fast": rows}, "14x14": {"fast": rows}})
    assert figure.axes[0].lines[1].get_color() == figure.axes[1].lines[0].get_color()
    assert figure.axes[0].lines[0].get_color() != figure.axes[0].lines[1].get_color()
