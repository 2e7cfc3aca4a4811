"""Tests of lib.studies.collapse_figures: the collapse study's figures draw what they are given, and the intro's GIF."""
import matplotlib

matplotlib.use("Agg")


import numpy as np  # noqa: E402
import pytest  # noqa: E402

from lib import runs
from lib.studies import collapse, collapse_figures

pytestmark = pytest.mark.usefixtures("private_artifacts")  # nothing here touches the committed artifacts


def diagnostics_rows(count=5, saturated=0.5):
    rows = []
    for step in range(10, 10 * count + 1, 10):
        row = {"step": step, "grad_norm": 1.0 / step, "saturated_train": saturated, "saturated_inference": 0.0}
        for block in collapse_figures.BLOCK_COLOURS:
            row[f"grad_norm_{block}"] = 0.1 / step
        for name in collapse_figures.SCORE_COLOURS:
            row.update({f"d_{name}_mean": 0.5, f"d_{name}_p10": 0.4, f"d_{name}_p50": 0.5, f"d_{name}_p90": 0.6})
        rows.append(row)
    return rows


PROBE = [{"step": 100, "epoch": 1, "accuracy": 0.2, "top_class_share": 0.9},
         {"step": 2000, "epoch": 2, "accuracy": 0.8, "top_class_share": 0.2}]


def test_mechanism_draws_one_column_per_run_and_stops_at_the_asked_iteration():
    figure = collapse_figures.mechanism({"collapsed": (diagnostics_rows(), PROBE),
                                       "healthy": (diagnostics_rows(count=20, saturated=0.0), PROBE)}, until_step=150)
    assert len(figure.axes) == 8
    gradient = figure.axes[0]
    assert gradient.get_yscale() == "log" and gradient.get_title() == "collapsed"
    assert len(gradient.lines) == len(collapse_figures.BLOCK_COLOURS)
    np.testing.assert_array_equal(gradient.lines[0].get_xdata(), [10, 20, 30, 40, 50])
    np.testing.assert_array_equal(figure.axes[1].lines[0].get_xdata(), np.arange(10, 151, 10))  # cut at 150
    saturation = figure.axes[2]
    np.testing.assert_allclose(saturation.lines[0].get_ydata(), [50] * 5)
    probe = figure.axes[6]
    np.testing.assert_array_equal(probe.lines[0].get_xdata(), [100])  # the probe at 2,000 is left out


@pytest.mark.parametrize("runs, message", [({}, "at least one label"), ({"x": ([], PROBE)}, "needs diagnostics"),
                                           ({"x": ([{"step": 1}], PROBE)}, "lack")])
def test_mechanism_rejects_runs_without_diagnostics(runs, message):
    with pytest.raises(ValueError, match=message):
        collapse_figures.mechanism(runs)


def test_collapse_rates_plots_each_recipe_with_its_interval():
    summary = {"paper": [{"collapsed": c, "probe_accuracy": 0.9} for c in (True, True, False, True)],
               "no label smoothing": [{"collapsed": False, "probe_accuracy": 0.9}] * 5}
    rows = collapse.collapse_rates(summary)
    figure = collapse_figures.collapse_rates(rows)
    axis = figure.axes[0]
    assert [label.get_text() for label in axis.get_yticklabels()] == ["paper", "no label smoothing"]
    points = axis.collections[-1].get_offsets()
    np.testing.assert_allclose(points[:, 0], [75.0, 0.0])
    assert {text.get_text() for text in axis.texts} == {"3/4", "0/5"}
    with pytest.raises(ValueError, match="collapse_rates rows"):
        collapse_figures.collapse_rates([{"recipe": "paper"}])


def film(steps=(20, 40, 60), digits=10, collapsed=False):
    rng = np.random.default_rng(0)
    frames = np.zeros((len(steps), digits, 28, 28), np.uint8) if collapsed else \
        rng.integers(0, 256, (len(steps), digits, 28, 28), dtype=np.uint8)
    return {"step": np.array(steps), "frames": frames, "d_real": rng.random((len(steps), 32)),
            "d_fake": rng.random((len(steps), 32)) * (0.1 if collapsed else 1.0)}


def test_film_animation_has_one_frame_per_recorded_step_and_shows_each_one():
    movie = collapse_figures.film_animation({"escapes": film(), "stays collapsed": film(collapsed=True)})
    assert len(list(movie.new_frame_seq())) == 3
    page = movie.to_jshtml()
    assert page.count("data:image/png;base64") == 3  # one embedded image per recorded step
    movie._func(2)
    shown = [image.get_array() for image in movie._fig.axes[0].images]
    np.testing.assert_array_equal(shown[0], film()["frames"][2][0])
    assert movie._fig._suptitle.get_text() == "iteration 60"


def test_film_animation_refuses_films_of_other_steps():
    with pytest.raises(ValueError, match="same steps"):
        collapse_figures.film_animation({"a": film(), "b": film(steps=(20, 40, 80))})


def test_score_histograms_draw_one_panel_per_run_and_step():
    figure = collapse_figures.score_histograms({"a": film(), "b": film(collapsed=True)}, steps=[20, 60])
    assert len(figure.axes) == 4
    with pytest.raises(ValueError, match="no frame at iteration 100"):
        collapse_figures.score_histograms({"a": film()}, steps=[100])


def test_films_without_frames_are_refused():
    with pytest.raises(ValueError, match="lacks"):
        collapse_figures.score_histograms({"a": {"step": [20]}}, steps=[20])


def test_the_intro_gif_is_the_committed_films_every_other_frame(monkeypatch):
    from PIL import Image

    monkeypatch.delenv(runs.ROOT_VARIABLE)  # the committed films, not this file's private artifacts
    gif = Image.open(runs.REPO_ROOT / collapse_figures.FILM_GIF)  # `python -m lib.cli film-gif` writes it
    steps = [len(runs.open(collapse.film_folder(seed)).film()["step"]) for seed in (0, 3)]
    assert steps[0] == steps[1] and gif.n_frames == -(-steps[0] // 2)
