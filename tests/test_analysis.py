import math

import numpy as np
import pytest

from lib import analysis

# ---------------------------------------------------------------- moving average


def test_moving_average_matches_a_hand_computed_trailing_mean():
    values = [1.0, 2.0, 3.0, 4.0, 5.0]
    # window 3: [1], [1,2], [1,2,3], [2,3,4], [3,4,5]
    expected = [1.0, 1.5, 2.0, 3.0, 4.0]
    np.testing.assert_allclose(analysis.moving_average(values, 3), expected)


def test_moving_average_window_2_by_hand():
    np.testing.assert_allclose(analysis.moving_average([4, 0, 2, 6], 2), [4.0, 2.0, 1.0, 4.0])


def test_moving_average_window_1_is_the_identity():
    values = np.random.default_rng(0).normal(size=50)
    result = analysis.moving_average(values, 1)
    assert result.shape == values.shape
    np.testing.assert_allclose(result, values, rtol=0, atol=1e-12)


def test_moving_average_keeps_length_and_a_window_longer_than_the_series_is_the_running_mean():
    values = np.array([3.0, 1.0, 2.0, 6.0])
    result = analysis.moving_average(values, 100)
    assert len(result) == len(values)
    np.testing.assert_allclose(result, np.cumsum(values) / np.arange(1, 5))


def test_moving_average_accepts_numpy_integer_window():
    np.testing.assert_allclose(analysis.moving_average([2.0, 4.0], np.int64(2)), [2.0, 3.0])


@pytest.mark.parametrize("window", [0, -3, 2.0, True, "2", None])
def test_moving_average_rejects_bad_windows(window):
    with pytest.raises(ValueError, match="window"):
        analysis.moving_average([1.0, 2.0, 3.0], window)


@pytest.mark.parametrize("values, message", [
    ([], r"values must be a non-empty 1-D sequence, got shape \(0,\)"),
    ([1.0, float("nan")], "values contains NaN or infinite values"),
    ([1.0, float("inf")], "values contains NaN or infinite values"),
    ([[1.0, 2.0], [3.0, 4.0]], r"values must be a non-empty 1-D sequence, got shape \(2, 2\)"),
])
def test_moving_average_rejects_bad_values(values, message):
    with pytest.raises(ValueError, match=message):
        analysis.moving_average(values, 2)


# ---------------------------------------------------------------- window statistics


def test_window_statistics_by_hand():
    values = np.arange(1, 11, dtype=float)  # iterations 1..10 hold values 1..10
    stats = analysis.window_statistics(values, start=6, low=7, high=9)
    # tail = [6, 7, 8, 9, 10]
    assert stats["mean"] == pytest.approx(8.0)
    assert stats["p5"] == pytest.approx(6.2)  # linear interpolation: 6 + 0.05 * 4
    assert stats["p95"] == pytest.approx(9.8)
    assert stats["share in range"] == pytest.approx(3 / 5)  # 7, 8, 9: bounds are inclusive


def test_window_statistics_from_iteration_one_uses_every_value():
    values = [0.5, 1.5, 2.5, 3.5]
    stats = analysis.window_statistics(values, start=1, low=1.0, high=3.0)
    assert stats["mean"] == pytest.approx(2.0)
    assert stats["share in range"] == pytest.approx(0.5)


def test_window_statistics_last_iteration_only():
    stats = analysis.window_statistics([9.0, 9.0, 1.0], start=3, low=0.0, high=2.0)
    assert stats == pytest.approx({"mean": 1.0, "p5": 1.0, "p95": 1.0, "share in range": 1.0})


def test_window_statistics_of_a_normal_sample_match_numpy_on_the_tail():
    values = np.random.default_rng(1).normal(size=500)
    stats = analysis.window_statistics(values, start=100, low=-0.5, high=0.5)
    tail = values[99:]  # iteration 100 is index 99
    assert len(tail) == 401
    in_range = np.count_nonzero((tail >= -0.5) & (tail <= 0.5))
    assert 0 < in_range < len(tail)  # the sample straddles the bounds, so the share is not trivially 0 or 1
    assert stats["share in range"] == pytest.approx(in_range / len(tail))
    assert stats["mean"] == pytest.approx(np.mean(tail))
    assert stats["p5"] == pytest.approx(np.percentile(tail, 5))
    assert stats["p95"] == pytest.approx(np.percentile(tail, 95))
    assert all(isinstance(value, float) for value in stats.values())


def test_window_statistics_share_zero_when_nothing_in_range():
    stats = analysis.window_statistics([5.0, 6.0, 7.0], start=1, low=0.0, high=1.0)
    assert stats["share in range"] == 0.0


@pytest.mark.parametrize("start", [0, -1, 4, 100])
def test_window_statistics_rejects_start_out_of_range(start):
    with pytest.raises(ValueError, match="start"):
        analysis.window_statistics([1.0, 2.0, 3.0], start=start, low=0.0, high=1.0)


@pytest.mark.parametrize("low, high", [(1.0, 1.0), (2.0, 1.0)])
def test_window_statistics_rejects_low_not_below_high(low, high):
    with pytest.raises(ValueError, match="low < high"):
        analysis.window_statistics([1.0, 2.0, 3.0], start=1, low=low, high=high)


def test_window_statistics_rejects_nan_values():
    with pytest.raises(ValueError, match="NaN"):
        analysis.window_statistics([1.0, float("nan"), 3.0], start=1, low=0.0, high=1.0)


# ---------------------------------------------------------------- binary cross-entropy and equilibrium


def test_binary_cross_entropy_by_hand():
    assert analysis.binary_cross_entropy(1.0, 0.5) == pytest.approx(math.log(2))
    assert analysis.binary_cross_entropy(0.0, 0.25) == pytest.approx(-math.log(0.75))
    assert analysis.binary_cross_entropy(0.9, 0.9) == pytest.approx(-(0.9 * math.log(0.9) + 0.1 * math.log(0.1)))


@pytest.mark.parametrize("target, prediction", [(1.0, 0.0), (1.0, 1.0), (0.0, 0.0), (-0.1, 0.5), (1.1, 0.5),
                                                (float("nan"), 0.5), (0.5, float("nan"))])
def test_binary_cross_entropy_rejects_out_of_range(target, prediction):
    with pytest.raises(ValueError, match=r"need 0 <= target <= 1 and 0 < prediction < 1, got "):
        analysis.binary_cross_entropy(target, prediction)


def test_equilibrium_losses_for_the_paper_labels():
    losses = analysis.equilibrium_losses(real_label=0.9, fake_label=0.0)
    assert losses["D output at equilibrium"] == pytest.approx(0.45)
    assert losses["D loss on real"] == pytest.approx(-(0.9 * math.log(0.45) + 0.1 * math.log(0.55)))
    assert losses["D loss on fake"] == pytest.approx(-math.log(0.55))
    assert losses["adversarial loss"] == pytest.approx(-math.log(0.45))
    assert losses["any loss at D = 0.5"] == pytest.approx(math.log(2))


def test_equilibrium_losses_defaults_are_the_paper_labels():
    assert analysis.equilibrium_losses() == analysis.equilibrium_losses(0.9, 0.0)


def test_equilibrium_losses_without_label_smoothing_are_all_ln2():
    losses = analysis.equilibrium_losses(real_label=1.0, fake_label=0.0)
    assert losses["D output at equilibrium"] == pytest.approx(0.5)
    for key in ("D loss on real", "D loss on fake", "adversarial loss", "any loss at D = 0.5"):
        assert losses[key] == pytest.approx(math.log(2))


@pytest.mark.parametrize("real, fake", [(0.0, 0.0), (1.0, 1.0)])
def test_equilibrium_losses_reject_a_degenerate_discriminator_output(real, fake):
    # D = 0 or D = 1 has an infinite cross-entropy
    with pytest.raises(ValueError, match=rf"0 < prediction < 1, got {real}, {(real + fake) / 2}"):
        analysis.equilibrium_losses(real_label=real, fake_label=fake)


# ---------------------------------------------------------------- time to reach


def probe_rows():
    return [{"step": 100, "seconds": 10.0, "accuracy": 0.5},
            {"step": 200, "seconds": 20.5, "accuracy": 0.9},
            {"step": 300, "seconds": 31.0, "accuracy": 0.95}]


@pytest.mark.skipif(not hasattr(analysis, "time_to_reach"), reason="time_to_reach not in this version of lib")
def test_time_to_reach_returns_the_first_row_strictly_above_the_threshold():
    assert analysis.time_to_reach(probe_rows(), 0.8) == (200, 20.5)
    assert analysis.time_to_reach(probe_rows(), 0.9) == (300, 31.0)  # strictly above
    assert analysis.time_to_reach(probe_rows(), 0.99) is None


@pytest.mark.skipif(not hasattr(analysis, "time_to_reach"), reason="time_to_reach not in this version of lib")
@pytest.mark.parametrize("threshold", [0, 1, -0.5, 1.5])
def test_time_to_reach_rejects_thresholds_outside_the_unit_interval(threshold):
    with pytest.raises(ValueError, match="threshold"):
        analysis.time_to_reach(probe_rows(), threshold)


def test_smooth_history_keeps_the_step_column_and_smooths_the_rest():
    history = {"step": np.arange(1, 5), "g_loss": np.array([4.0, 0.0, 4.0, 0.0])}
    smoothed = analysis.smooth_history(history, window=2)
    np.testing.assert_array_equal(smoothed["step"], history["step"])
    np.testing.assert_allclose(smoothed["g_loss"], [4.0, 2.0, 2.0, 2.0])


def test_collapse_indicators_flag_a_winning_discriminator():
    history = {"d_loss_fake": -np.log(1 - np.r_[np.full(150, 0.001), np.full(150, 0.45)]), "g_loss": np.r_[np.zeros(100), np.full(100, 9.0), np.zeros(100)]}
    probe = [{"top_class_share": 1.0}, {"top_class_share": 0.95}]
    result = analysis.collapse_indicators(history, probe, window=100)
    assert result["first probe's top-class share"] == 1.0 and result["last probe's top-class share"] == 0.95
    # 150 certain iterations, then the moving average crosses 0.01 within a few more; 0.45 is no win
    assert 150 <= result["iterations with D's 100-it. loss on fakes < 0.01"] < 160
    assert result["max adversarial loss (100-it. mean)"] == 9.0 and result["iteration of that maximum"] == 200
    with pytest.raises(ValueError, match="probe"):
        analysis.collapse_indicators(history, [], window=100)
