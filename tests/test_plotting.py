import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402

from lib import data, plotting

SIZE = 28


@pytest.fixture(autouse=True)
def close_figures():
    yield
    plt.close("all")


def float_digits(n, seed=0, channel=True):
    rng = np.random.default_rng(seed)
    shape = (n, SIZE, SIZE, 1) if channel else (n, SIZE, SIZE)
    return rng.uniform(-1.0, 1.0, size=shape).astype(np.float32)


def uint8_digits(n, seed=0):
    return np.random.default_rng(seed).integers(0, 256, size=(n, SIZE, SIZE), dtype=np.uint8)


# ---------------------------------------------------------------- digits


def test_digit_rows_grid_and_images():
    images = uint8_digits(12)
    figure = plotting.digit_rows(images, ncols=5, titles=list(range(12)), title="digits")
    assert isinstance(figure, Figure)
    assert len(figure.axes) == 15  # 3 rows of 5
    shown = [axis for axis in figure.axes if axis.images]
    assert len(shown) == 12  # the 3 spare cells stay empty
    assert np.array_equal(figure.axes[0].images[0].get_array(), images[0])
    assert figure.axes[11].get_title() == "11"
    assert figure._suptitle.get_text() == "digits"


def test_digit_rows_converts_float_digits_to_uint8():
    images = float_digits(3)
    figure = plotting.digit_rows(images, ncols=3)
    assert len(figure.axes) == 3
    assert np.array_equal(figure.axes[2].images[0].get_array(), data.rescale(images[2, ..., 0]))


@pytest.mark.parametrize("images", [np.zeros((SIZE, SIZE), np.uint8), np.zeros((2, SIZE, SIZE, 3), np.uint8),
                                    np.zeros((2,), np.float32)])
def test_digit_rows_rejects_digits_of_the_wrong_rank(images):
    with pytest.raises(ValueError, match="shape"):
        plotting.digit_rows(images)


def test_digit_rows_rejects_wrong_title_count_and_out_of_range_floats():
    with pytest.raises(ValueError, match="2 titles for 3 images"):
        plotting.digit_rows(uint8_digits(3), titles=["a", "b"])
    with pytest.raises(ValueError, match=r"images must lie in \[-1, 1\]"):
        plotting.digit_rows(float_digits(2) * 3)


def test_method_columns_with_uint8_and_float_columns():
    originals = uint8_digits(4)
    generated = float_digits(4, seed=1)
    corrupted = float_digits(4, seed=2, channel=False)
    figure = plotting.method_columns({"corrupted": corrupted, "generated": generated, "original": originals},
                                     row_labels=list("abcd"), title="fig")
    assert isinstance(figure, Figure)
    assert len(figure.axes) == 12  # 4 rows x 3 columns
    axes = np.array(figure.axes).reshape(4, 3)
    assert [axes[0, c].get_title() for c in range(3)] == ["corrupted", "generated", "original"]
    assert np.array_equal(axes[1, 2].images[0].get_array(), originals[1])
    assert np.array_equal(axes[3, 1].images[0].get_array(), data.rescale(generated[3, ..., 0]))
    assert axes[2, 0].get_ylabel() == "c"


def test_method_columns_single_digit():
    figure = plotting.method_columns({"only": uint8_digits(1)})
    assert len(figure.axes) == 1


def test_method_columns_rejects_columns_of_different_lengths():
    with pytest.raises(ValueError, match="same number"):
        plotting.method_columns({"a": uint8_digits(3), "b": uint8_digits(2)})


def test_method_columns_rejects_empty_and_bad_rank():
    with pytest.raises(ValueError, match="columns must map at least one title to images"):
        plotting.method_columns({})
    with pytest.raises(ValueError, match=r"a must have shape \(N, H, W\) or \(N, H, W, 1\), got \(28, 28\)"):
        plotting.method_columns({"a": np.zeros((SIZE, SIZE), np.uint8)})


# ---------------------------------------------------------------- data figures


def test_value_histograms_two_panels_with_ranges_in_titles():
    before = np.array([0, 128, 255], np.uint8)
    after = data.scale(before)
    figure = plotting.value_histograms(before, after)
    assert isinstance(figure, Figure)
    assert len(figure.axes) == 2
    assert figure.axes[0].get_title() == "uint8 pixels: [0, 255]"
    assert figure.axes[1].get_title() == "scaled pixels: [-1, 1]"


def test_mask_statistics_two_panels_plus_colorbars():
    corners = data.paper_corners(200, seed=0)
    masks = data.paper_masks(200, seed=0)
    figure = plotting.mask_statistics(masks, corners)
    assert isinstance(figure, Figure)
    assert len(figure.axes) == 4  # two images and their colour bars
    shares = figure.axes[0].images[0].get_array()
    np.testing.assert_allclose(shares, masks.mean(axis=0))
    counts = np.asarray(figure.axes[1].images[0].get_array())
    assert counts.shape == (4, 4)  # corners 8..11
    expected = [[np.mean((corners[:, 0] == row) & (corners[:, 1] == column)) for column in range(8, 12)]
                for row in range(8, 12)]
    np.testing.assert_allclose(counts, expected)


def test_mask_statistics_rejects_bad_input():
    masks = data.paper_masks(5, seed=0)
    corners = data.paper_corners(5, seed=0)
    with pytest.raises(ValueError, match="boolean"):
        plotting.mask_statistics(masks.astype(np.uint8), corners)
    with pytest.raises(ValueError, match="boolean"):
        plotting.mask_statistics(masks[0], corners)
    with pytest.raises(ValueError, match="corners"):
        plotting.mask_statistics(masks, corners[:4])
    with pytest.raises(ValueError, match="corners"):
        plotting.mask_statistics(masks, corners[:, 0])


# ---------------------------------------------------------------- networks


def test_feature_maps_one_row_per_layer():
    rng = np.random.default_rng(0)
    activations = {"encoder1": rng.normal(size=(28, 28, 4)), "encoder2": rng.normal(size=(14, 14, 16))}
    figure = plotting.feature_maps(activations, channels=6, title="maps")
    assert isinstance(figure, Figure)
    assert len(figure.axes) == 12
    axes = np.array(figure.axes).reshape(2, 6)
    assert sum(bool(axis.images) for axis in axes[0]) == 4  # only 4 channels to show
    assert sum(bool(axis.images) for axis in axes[1]) == 6
    assert "28x28x4" in axes[0, 0].get_ylabel() and "encoder2" in axes[1, 0].get_ylabel()


def test_feature_maps_rejects_bad_input():
    with pytest.raises(ValueError, match="activations must map layer names to arrays"):
        plotting.feature_maps({})
    with pytest.raises(ValueError, match="H, W, C"):
        plotting.feature_maps({"batch": np.zeros((2, 7, 7, 4))})


# ---------------------------------------------------------------- training and results


def test_probe_curves_one_line_per_run_in_percent():
    runs = {"seed 0": [{"step": 100, "accuracy": 0.5}, {"step": 200, "accuracy": 0.8}],
            "seed 1": [{"step": 100, "accuracy": 0.6}, {"step": 200, "accuracy": 0.9}]}
    figure = plotting.probe_curves(runs, target=0.95, target_label="clean", title="probe")
    assert isinstance(figure, Figure)
    assert len(figure.axes) == 1
    axis = figure.axes[0]
    assert len(axis.lines) == 3  # two runs and the target line
    np.testing.assert_allclose(axis.lines[0].get_ydata(), [50.0, 80.0])
    np.testing.assert_allclose(axis.lines[1].get_xdata(), [100, 200])
    assert axis.get_ylim() == (0, 100)
    assert axis.get_xlabel() == "iteration"


def test_probe_curves_that_overlap_stay_distinguishable():
    same = [{"step": 100, "accuracy": 0.1135}, {"step": 200, "accuracy": 0.1135}]
    axis = plotting.probe_curves({"seed 1": same, "seed 2": same}).axes[0]
    (first, second) = axis.lines
    assert (first.get_linestyle(), first.get_linewidth()) != (second.get_linestyle(), second.get_linewidth())
    assert first.get_linewidth() > second.get_linewidth()  # the later, thinner line is drawn over the wider one


def test_probe_curves_against_seconds():
    figure = plotting.probe_curves({"a": [{"seconds": 1.5, "accuracy": 0.1}]}, x="seconds")
    assert figure.axes[0].get_xlabel() == "training time (s)"
    assert len(figure.axes[0].lines) == 1


def test_probe_curves_rejects_empty_runs():
    with pytest.raises(ValueError, match="runs must map at least one label to probe rows"):
        plotting.probe_curves({})


def test_confusion_row_normalised():
    matrix = np.zeros((10, 10), int)
    matrix[0, 0], matrix[0, 1], matrix[3, 3] = 3, 1, 5
    figure = plotting.confusion(matrix, title="confusion")
    assert isinstance(figure, Figure)
    assert len(figure.axes) == 2  # matrix and colour bar
    shares = np.asarray(figure.axes[0].images[0].get_array())
    assert shares[0, 0] == pytest.approx(0.75) and shares[0, 1] == pytest.approx(0.25)
    assert shares[3, 3] == pytest.approx(1.0) and shares[5].sum() == 0
    texts = sorted(text.get_text() for text in figure.axes[0].texts)
    assert texts == ["100", "25", "75"]


@pytest.mark.parametrize("matrix", [np.zeros((10, 9)), np.zeros(10), np.zeros((2, 2, 2))])
def test_confusion_rejects_non_square_matrix(matrix):
    with pytest.raises(ValueError, match="square"):
        plotting.confusion(matrix)


def test_grouped_bars_one_bar_per_series_and_category():
    table = {"telea": {0: 0.9, 1: 0.8, 2: 0.7}, "masked": {0: 0.5, 1: 0.4, 2: 0.3}}
    figure = plotting.grouped_bars(table, "accuracy", title="bars")
    assert isinstance(figure, Figure)
    assert len(figure.axes) == 1
    axis = figure.axes[0]
    assert len(axis.patches) == 6
    heights = sorted(patch.get_height() for patch in axis.patches)
    np.testing.assert_allclose(heights, sorted([0.9, 0.8, 0.7, 0.5, 0.4, 0.3]))
    assert [label.get_text() for label in axis.get_xticklabels()] == ["0", "1", "2"]
    assert axis.get_ylabel() == "accuracy"


def test_grouped_bars_rejects_empty_table():
    with pytest.raises(ValueError, match="table must map at least one series to values"):
        plotting.grouped_bars({}, "accuracy")


def loss_tables():
    steps = np.arange(1, 11)
    history = {"step": steps, "d_loss": np.linspace(1, 0.5, 10), "g_loss": np.linspace(2, 1, 10)}
    smoothed = {"d_loss": history["d_loss"] + 0.01, "g_loss": history["g_loss"] + 0.01}
    return history, smoothed


def test_loss_curves_raw_and_smoothed_line_per_series():
    history, smoothed = loss_tables()
    figure = plotting.loss_curves(history, smoothed, ["d_loss", "g_loss"], band=(0.5, 0.7), mark_iteration=5,
                                  title="losses")
    assert isinstance(figure, Figure)
    assert len(figure.axes) == 1
    axis = figure.axes[0]
    assert len(axis.lines) == 5  # raw + smoothed for each series, plus the vertical marker
    np.testing.assert_allclose(axis.lines[1].get_ydata(), smoothed["d_loss"])
    assert len(axis.patches) == 1  # the band


def test_loss_curves_draw_each_reference_as_a_labelled_horizontal_line():
    history, smoothed = loss_tables()
    axis = plotting.loss_curves(history, smoothed, ["g_loss"], references={"equilibrium": 0.45, "target": 0.9}).axes[0]
    flat = [line for line in axis.lines if len(set(line.get_ydata())) == 1]
    assert sorted(line.get_ydata()[0] for line in flat) == [0.45, 0.9]
    assert {"equilibrium", "target"} <= {text.get_text() for text in axis.get_legend().get_texts()}


def test_loss_curves_without_band_or_marker():
    history, smoothed = loss_tables()
    figure = plotting.loss_curves(history, smoothed, ["g_loss"])
    assert len(figure.axes[0].lines) == 2


@pytest.mark.parametrize("series", [[], ["missing"], ["d_loss", "missing"]])
def test_loss_curves_rejects_unknown_series(series):
    history, smoothed = loss_tables()
    with pytest.raises(ValueError, match="series"):
        plotting.loss_curves(history, smoothed, series)


def test_loss_curves_rejects_series_missing_from_the_smoothed_table():
    history, smoothed = loss_tables()
    del smoothed["g_loss"]
    with pytest.raises(ValueError, match=r"series must name columns present in both tables, got \['g_loss'\]"):
        plotting.loss_curves(history, smoothed, ["g_loss"])


def test_heatmaps_share_one_colour_scale():
    maps = {"a": np.full((4, 4), 0.2), "b": np.arange(16.0).reshape(4, 4) / 10}
    figure = plotting.heatmaps(maps, title="errors")
    assert isinstance(figure, Figure)
    assert len(figure.axes) == 3  # two maps and one colour bar
    limits = {figure.axes[i].images[0].get_clim() for i in range(2)}
    assert limits == {(0, 1.5)}
    assert [figure.axes[i].get_title() for i in range(2)] == ["a", "b"]


def test_heatmaps_outline_the_given_region_on_every_map():
    region = np.zeros((4, 4), bool)
    region[1:3, 1:3] = True
    figure = plotting.heatmaps({"a": np.ones((4, 4)), "b": np.ones((4, 4))}, outline=region)
    assert all(len(figure.axes[i].collections) == 1 for i in range(2))  # one contour each
    with pytest.raises(ValueError, match="outline must have the maps' shape"):
        plotting.heatmaps({"a": np.ones((4, 4))}, outline=np.zeros((3, 3), bool))


def test_heatmaps_rejects_bad_input():
    with pytest.raises(ValueError, match="maps must map at least one title to a 2-D array"):
        plotting.heatmaps({})
    with pytest.raises(ValueError, match="2-D"):
        plotting.heatmaps({"a": np.zeros((2, 2)), "b": np.zeros((2, 2, 2))})


@pytest.mark.skipif(not hasattr(plotting, "accuracy_against_hole_size"), reason="not in this version of lib")
def test_accuracy_against_hole_size_one_line_per_method():
    curves = {"telea": {8: (0.9, 0.01), 4: (0.95, 0.02)}, "masked": {4: (0.8, 0.0), 8: (0.6, 0.03)}}
    figure = plotting.accuracy_against_hole_size(curves, title="holes")
    assert isinstance(figure, Figure)
    assert len(figure.axes) == 1
    axis = figure.axes[0]
    assert len(axis.containers) == 2  # one error-bar line per method
    line = axis.containers[0].lines[0]
    np.testing.assert_allclose(np.asarray(line.get_xdata(), float), [4, 8])  # sorted by size
    np.testing.assert_allclose(np.asarray(line.get_ydata(), float), [95.0, 90.0])
    with pytest.raises(ValueError, match="curves must map at least one method"):
        plotting.accuracy_against_hole_size({})


def test_render_digit_gives_an_mnist_like_image():
    image = plotting.render_digit("7")
    assert image.shape == (28, 28) and image.dtype == np.uint8
    assert image.max() > 200 and image[0].max() < 50  # a bright stroke, dark border
    assert 0.05 < (image > 128).mean() < 0.4
    with pytest.raises(ValueError, match="single character"):
        plotting.render_digit("77")


def test_method_columns_wraps_titles_wider_than_their_column():
    digits = np.zeros((2, 28, 28), np.uint8)
    figure = plotting.method_columns({"epoch 1": digits, "generated (epoch 6)": digits}, size=0.9)
    titles = [figure.axes[i].get_title() for i in (0, 1)]
    assert titles == ["epoch 1", "generated\n(epoch\n6)"]


def test_save_gif_writes_every_frame_and_refuses_what_is_not_a_gif(tmp_path):
    from matplotlib import animation
    from PIL import Image

    figure, axis = plt.subplots()
    image = axis.imshow(np.zeros((4, 4)), vmin=0, vmax=3)
    movie = animation.FuncAnimation(figure, lambda frame: image.set_data(np.full((4, 4), frame)), frames=4)
    path = plotting.save_gif(movie, tmp_path / "film.gif", fps=2, dpi=20)
    assert Image.open(path).n_frames == 4 and [p.name for p in tmp_path.iterdir()] == ["film.gif"]
    with pytest.raises(ValueError, match="end in .gif"):
        plotting.save_gif(movie, tmp_path / "film.mp4")
    with pytest.raises(ValueError, match="matplotlib animation"):
        plotting.save_gif(figure, tmp_path / "still.gif")
