import math
import os

import cv2
import keras
import numpy as np
import pytest
from numpy.lib.stride_tricks import sliding_window_view

from lib import artifacts, classifiers, data, datasets, evaluation, holes, runs
from lib.config import CLASSIFIER, CROSS_CHECK_CLASSIFIER, EVALUATION_MASK_SEED, PAPER
from lib.models import build_classifier, build_generator

from stubs import CentreClassifier


SIZE = PAPER.image_size
RESULT_KEYS = {"accuracy", "accuracies", "accuracy_mean", "accuracy_sd", "hole_l1", "hole_psnr", "ssim",
               "predictions", "inpainted"}


def random_images(n, seed=0, channel=True):
    rng = np.random.default_rng(seed)
    shape = (n, SIZE, SIZE, 1) if channel else (n, SIZE, SIZE)
    return rng.uniform(-1.0, 1.0, size=shape).astype(np.float32)


def white_square_digits(n):
    """Black digits with a white 16x16 square in the middle: a hole in its centre has only white around it."""
    images = -np.ones((n, SIZE, SIZE, 1), np.float32)
    images[:, 6:22, 6:22] = 1.0
    return images


class FixedClassifier:
    """Stands in for a keras classifier: predicts fixed digits whatever the images."""

    def __init__(self, digits):
        self.digits = np.asarray(digits)

    def predict(self, images, batch_size=None, verbose=0):
        assert len(images) == len(self.digits)
        return np.eye(10, dtype=np.float32)[self.digits]


def reference_ssim(originals, inpainted):
    """Mean SSIM written out in NumPy: an 11x11 Gaussian window (sigma 1.5) over the valid
    positions, K1 = 0.01, K2 = 0.03, pixels on a 0..1 scale (the settings of `tf.image.ssim`)."""
    a = (np.asarray(originals, np.float64).reshape(len(originals), SIZE, SIZE) + 1) / 2
    b = (np.asarray(inpainted, np.float64).reshape(len(inpainted), SIZE, SIZE) + 1) / 2
    gauss = np.exp(-np.arange(-5, 6) ** 2 / (2 * 1.5**2))
    window = np.outer(gauss, gauss) / np.outer(gauss, gauss).sum()

    def local_mean(x):
        return (sliding_window_view(x, (11, 11), axis=(1, 2)) * window).sum(axis=(-2, -1))

    mu_a, mu_b = local_mean(a), local_mean(b)
    var_a, var_b = local_mean(a * a) - mu_a**2, local_mean(b * b) - mu_b**2
    cov = local_mean(a * b) - mu_a * mu_b
    c1, c2 = 0.01**2, 0.03**2
    ssim = (2 * mu_a * mu_b + c1) * (2 * cov + c2) / ((mu_a**2 + mu_b**2 + c1) * (var_a + var_b + c2))
    return float(ssim.mean(axis=(1, 2)).mean())


def hole_l1_by_hand(originals, inpainted, masks):
    diff = np.abs(np.reshape(inpainted, (-1, SIZE, SIZE)) - np.reshape(originals, (-1, SIZE, SIZE)))
    return float(diff[masks].mean() / 2)


def hole_psnr_by_hand(originals, inpainted, masks):
    diff = (np.reshape(inpainted, (-1, SIZE, SIZE)) - np.reshape(originals, (-1, SIZE, SIZE))) / 2
    mse = float(np.square(diff)[masks].mean())
    return float("inf") if mse == 0 else 10 * math.log10(1 / mse)


def test_identical_images_give_zero_l1_and_infinite_psnr():
    images = random_images(4)
    masks = data.paper_masks(4, seed=0)
    assert evaluation.hole_l1(images, images.copy(), masks) == 0.0
    assert evaluation.hole_psnr(images, images.copy(), masks) == float("inf")


def test_black_hole_in_white_image_gives_l1_one_and_psnr_zero():
    originals = np.ones((3, SIZE, SIZE, 1), np.float32)
    masks = data.paper_masks(3, seed=1)
    inpainted = data.apply_mask(originals, masks)  # hole = -1 where the original is +1
    assert evaluation.hole_l1(originals, inpainted, masks) == 1.0
    assert evaluation.hole_psnr(originals, inpainted, masks) == pytest.approx(0.0, abs=1e-12)


def test_half_grey_range_error_everywhere_in_the_hole():
    # original +1, inpainted 0: |diff| = 1 on a [-1, 1] scale = 0.5 of the grey range
    originals = np.ones((2, SIZE, SIZE), np.float32)
    masks = data.centre_masks(2, 4)
    inpainted = originals.copy()
    inpainted[masks] = 0.0
    assert evaluation.hole_l1(originals, inpainted, masks) == pytest.approx(0.5)
    # mse on 0..1 scale = 0.25 -> 10 log10(4)
    assert evaluation.hole_psnr(originals, inpainted, masks) == pytest.approx(10 * math.log10(4))


def test_half_of_the_hole_fully_wrong():
    originals = np.ones((1, SIZE, SIZE), np.float32)
    masks = data.centre_masks(1, 4)  # rows/cols 12..15
    inpainted = originals.copy()
    inpainted[0, 12:14, 12:16] = -1.0  # 8 of the 16 hole pixels wrong by the full range
    assert evaluation.hole_l1(originals, inpainted, masks) == pytest.approx(0.5)
    # mse = 0.5 -> 10 log10(2)
    assert evaluation.hole_psnr(originals, inpainted, masks) == pytest.approx(10 * math.log10(2))


def test_metrics_ignore_pixels_outside_the_hole():
    originals = np.ones((2, SIZE, SIZE, 1), np.float32)
    masks = data.centre_masks(2, 6)
    inpainted = -originals  # wrong everywhere ...
    inpainted[masks] = 1.0  # ... except in the hole
    assert evaluation.hole_l1(originals, inpainted, masks) == 0.0
    assert evaluation.hole_psnr(originals, inpainted, masks) == float("inf")


def test_psnr_pools_pixels_over_the_set_rather_than_averaging_per_image():
    originals = np.ones((2, SIZE, SIZE), np.float32)
    masks = data.centre_masks(2, 2)
    inpainted = originals.copy()
    inpainted[0][masks[0]] = -1.0  # first image fully wrong in the hole, second perfect
    # pooled mse = 0.5 -> 3.01 dB (a per-image mean would be infinite)
    assert evaluation.hole_psnr(originals, inpainted, masks) == pytest.approx(10 * math.log10(2))
    assert evaluation.hole_l1(originals, inpainted, masks) == pytest.approx(0.5)


def test_metrics_accept_images_with_or_without_channel():
    originals, inpainted = random_images(3, seed=2), random_images(3, seed=3)
    masks = data.paper_masks(3, seed=2)
    assert evaluation.hole_l1(originals, inpainted, masks) == pytest.approx(
        evaluation.hole_l1(originals[..., 0], inpainted[..., 0], masks))
    assert evaluation.hole_psnr(originals, inpainted, masks) == pytest.approx(
        evaluation.hole_psnr(originals[..., 0], inpainted[..., 0], masks))
    l1 = evaluation.hole_l1(originals, inpainted, masks)
    assert isinstance(l1, float)
    assert l1 == pytest.approx(hole_l1_by_hand(originals, inpainted, masks))
    assert evaluation.hole_psnr(originals, inpainted, masks) == pytest.approx(
        hole_psnr_by_hand(originals, inpainted, masks))


@pytest.mark.parametrize("metric", [evaluation.hole_l1, evaluation.hole_psnr])
def test_metrics_reject_shape_mismatch(metric):
    with pytest.raises(ValueError, match="differ in shape"):
        metric(random_images(3), random_images(2), data.paper_masks(3, seed=0))


@pytest.mark.parametrize("metric", [evaluation.hole_l1, evaluation.hole_psnr])
def test_metrics_reject_masks_of_the_wrong_shape(metric):
    with pytest.raises(ValueError, match=r"masks shape \(2, 28, 28\) does not match images shape \(3, 28, 28, 1\)"):
        metric(random_images(3), random_images(3), data.paper_masks(2, seed=0))


@pytest.mark.parametrize("metric", [evaluation.hole_l1, evaluation.hole_psnr])
def test_metrics_reject_an_empty_mask(metric):
    masks = np.zeros((2, SIZE, SIZE), bool)
    with pytest.raises(ValueError, match="at least one"):
        metric(random_images(2), random_images(2, seed=1), masks)


@pytest.mark.parametrize("metric", [evaluation.hole_l1, evaluation.hole_psnr])
def test_metrics_reject_nan(metric):
    inpainted = random_images(2)
    inpainted[0, 0, 0, 0] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        metric(random_images(2), inpainted, data.paper_masks(2, seed=0))


@pytest.mark.parametrize("metric", [evaluation.hole_l1, evaluation.hole_psnr])
def test_metrics_reject_non_boolean_masks(metric):
    masks = data.paper_masks(2, seed=0).astype(np.uint8)
    with pytest.raises(ValueError, match="boolean"):
        metric(random_images(2), random_images(2), masks)


def ssim_of(originals, inpainted):
    """The SSIM `evaluate` reports for a method whose output is ``inpainted``."""
    masks = data.centre_masks(len(originals), 8)
    result = evaluation.evaluate({"method": lambda corrupted, masks: inpainted}, originals, np.zeros(len(originals), int),
                                 masks, {0: FixedClassifier([0] * len(originals))})["method"]
    return result["ssim"]


def test_ssim_of_identical_images_is_one():
    images = random_images(3)
    assert ssim_of(images, images.copy()) == pytest.approx(1.0, abs=1e-5)


def test_ssim_drops_with_a_hole_and_is_symmetric():
    originals = white_square_digits(2)
    corrupted = data.apply_mask(originals, data.centre_masks(2, 8))
    value = ssim_of(originals, corrupted)
    assert value == pytest.approx(reference_ssim(originals, corrupted), abs=1e-5)
    assert value < 0.95  # the hole is seen: well below the 1.0 of identical images
    assert ssim_of(corrupted, originals) == pytest.approx(value, abs=1e-5)


def test_ssim_is_the_mean_over_images():
    originals = white_square_digits(2)
    corrupted = data.apply_mask(originals, data.centre_masks(2, 8))
    mixed = np.concatenate([originals[:1], corrupted[1:]])
    one = ssim_of(originals[1:], corrupted[1:])
    assert ssim_of(originals, mixed) == pytest.approx((1.0 + one) / 2, abs=1e-5)


def test_confusion_matrix_by_hand():
    labels = [0, 1, 2, 2, 2]
    predictions = [0, 2, 2, 1, 2]
    matrix = evaluation.confusion_matrix(labels, predictions)
    expected = np.zeros((10, 10), int)
    expected[0, 0] = 1
    expected[1, 2] = 1
    expected[2, 2] = 2
    expected[2, 1] = 1
    assert np.array_equal(matrix, expected)
    assert matrix.sum() == len(labels)


def test_per_digit_accuracy_by_hand():
    labels = [0, 1, 2, 2, 2]
    predictions = [0, 2, 2, 1, 2]
    accuracy = evaluation.per_digit_accuracy(labels, predictions)
    assert accuracy.shape == (10,)
    np.testing.assert_allclose(accuracy[:3], [1.0, 0.0, 2 / 3])
    assert (accuracy[3:] == 0).all()  # digits without examples count as 0, not NaN


def test_confusion_matrix_with_fewer_classes():
    matrix = evaluation.confusion_matrix([0, 1, 1], [1, 1, 0], classes=2)
    assert np.array_equal(matrix, [[0, 1], [1, 1]])


@pytest.mark.parametrize("labels, predictions", [([0, 1], [0]), ([[0, 1]], [[0, 1]])])
def test_confusion_matrix_rejects_mismatched_or_non_vector_input(labels, predictions):
    with pytest.raises(ValueError, match="labels and predictions must be equal-length vectors"):
        evaluation.confusion_matrix(labels, predictions)


@pytest.mark.parametrize("labels", [[-1], [10]])
def test_confusion_matrix_rejects_labels_outside_the_classes(labels):
    with pytest.raises(ValueError, match=r"labels must be integers in 0\.\.9"):
        evaluation.confusion_matrix(labels, [0])


def test_no_inpainting_returns_the_input():
    corrupted = random_images(3, channel=False)
    masks = data.paper_masks(3, seed=0)
    out = evaluation.no_inpainting(corrupted, masks)
    assert out.shape == (3, SIZE, SIZE, 1)
    assert np.array_equal(out[..., 0], corrupted)
    with_channel = random_images(3)
    assert np.array_equal(evaluation.no_inpainting(with_channel, masks), with_channel)


@pytest.mark.parametrize("method, flag", [(evaluation.telea, cv2.INPAINT_TELEA),
                                          (evaluation.navier_stokes, cv2.INPAINT_NS)], ids=["telea", "navier-stokes"])
def test_opencv_methods_preserve_known_pixels_exactly(method, flag):
    originals = random_images(4, seed=5)
    masks = data.paper_masks(4, seed=5)
    corrupted = data.apply_mask(originals, masks)
    out = method(corrupted, masks)
    assert out.shape == (4, SIZE, SIZE, 1) and out.dtype == np.float32
    # the hole holds OpenCV's own fill of the 0..255 digit, radius 3, scaled back to [-1, 1]
    pixels = np.round((corrupted[..., 0] + 1) * 127.5).astype(np.uint8)
    filled = np.stack([cv2.inpaint(p, m.astype(np.uint8), 3, flag) for p, m in zip(pixels, masks)])
    np.testing.assert_allclose(out[..., 0][masks], filled[masks] / 127.5 - 1, atol=1e-6)
    round_trip = data.scale(data.rescale(corrupted))
    known = ~masks
    assert np.array_equal(out[..., 0][known], round_trip[..., 0][known])
    assert np.abs(out[..., 0][known] - corrupted[..., 0][known]).max() <= 0.5 / 127.5 + 1e-6


@pytest.mark.parametrize("method", [evaluation.telea, evaluation.navier_stokes], ids=["telea", "navier-stokes"])
def test_opencv_methods_fill_a_hole_in_a_white_square_with_white(method):
    originals = white_square_digits(2)
    masks = data.centre_masks(2, 8)  # rows/cols 10..17, well inside the 6..21 square
    corrupted = data.apply_mask(originals, masks)
    assert (corrupted[..., 0][masks] == -1).all()
    out = method(corrupted, masks)
    assert out[..., 0][masks].min() > 0.9
    assert evaluation.hole_l1(originals, out, masks) < 0.05


@pytest.mark.parametrize("method", [evaluation.telea, evaluation.navier_stokes], ids=["telea", "navier-stokes"])
def test_opencv_methods_reject_mismatched_masks(method):
    with pytest.raises(ValueError, match=r"masks shape \(2, 28, 28\) does not match images shape \(3, 28, 28, 1\)"):
        method(random_images(3), data.paper_masks(2, seed=0))


def test_generator_method_uses_inpaint(monkeypatch):
    calls = []

    def fake_inpaint(generator, config, corrupted, masks):
        calls.append((generator, config, corrupted, masks))
        return "filled"

    monkeypatch.setattr(evaluation, "inpaint", fake_inpaint)
    generator, config = object(), PAPER
    corrupted, masks = random_images(2), data.paper_masks(2, seed=0)
    assert evaluation.generator_method(generator, config)(corrupted, masks) == "filled"
    assert len(calls) == 1
    assert calls[0][0] is generator and calls[0][1] is config
    assert calls[0][2] is corrupted and calls[0][3] is masks


def test_generator_method_matches_inpaint_with_a_real_generator():
    from lib.inpainting import inpaint

    keras.utils.set_random_seed(0)
    generator = build_generator(PAPER)
    originals, masks = random_images(3, seed=6), data.paper_masks(3, seed=6)
    corrupted = data.apply_mask(originals, masks)
    np.testing.assert_allclose(evaluation.generator_method(generator, PAPER)(corrupted, masks),
                               inpaint(generator, PAPER, corrupted, masks), atol=1e-6)


def test_standard_methods_order_and_generators():
    methods = evaluation.standard_methods()
    assert list(methods) == ["masked", "telea", "navier-stokes"]
    assert methods["masked"] is evaluation.no_inpainting
    assert methods["telea"] is evaluation.telea
    with_gan = evaluation.standard_methods({"paper gan": (object(), PAPER)})
    assert list(with_gan) == ["masked", "telea", "navier-stokes", "paper gan"]
    assert callable(with_gan["paper gan"])


def test_evaluation_masks_are_deterministic_paper_masks():
    masks = holes.evaluation_masks(30)
    assert np.array_equal(masks, holes.evaluation_masks(30))
    assert np.array_equal(masks, data.paper_masks(30, EVALUATION_MASK_SEED))
    assert masks.shape == (30, SIZE, SIZE) and (masks.sum(axis=(1, 2)) == 64).all()
    # a prefix of a longer set: the first n digits get the same holes whatever n is
    assert np.array_equal(holes.evaluation_masks(60)[:30], masks)


@pytest.fixture(scope="module")
def synthetic_set():
    rng = np.random.default_rng(11)
    originals = random_images(20, seed=11)
    labels = rng.integers(0, 10, size=20)
    masks = data.paper_masks(20, seed=11)
    return originals, labels, masks


@pytest.fixture(scope="module")
def keras_classifiers():
    models = {}
    for seed in (0, 1):
        keras.utils.set_random_seed(seed)
        models[seed] = build_classifier()
    return models


def test_evaluate_with_keras_classifiers_returns_every_key(synthetic_set, keras_classifiers):
    originals, labels, masks = synthetic_set
    methods = {"clean": None, "masked": evaluation.no_inpainting, "telea": evaluation.telea}
    results = evaluation.evaluate(methods, originals, labels, masks, keras_classifiers)
    assert list(results) == ["clean", "masked", "telea"]
    corrupted = data.apply_mask(originals, masks)
    for name, result in results.items():
        assert set(result) == RESULT_KEYS
        assert result["inpainted"].shape == (20, SIZE, SIZE, 1)
        assert result["predictions"].shape == (20,)
        assert set(result["accuracies"]) == {0, 1}
        assert result["accuracy"] == result["accuracies"][0]
        assert result["accuracy"] == pytest.approx(float((result["predictions"] == labels).mean()))
        expected = classifiers.classify(keras_classifiers[0], result["inpainted"])
        assert np.array_equal(result["predictions"], expected)
        values = list(result["accuracies"].values())
        assert result["accuracy_mean"] == pytest.approx(np.mean(values))
        assert result["accuracy_sd"] == pytest.approx(np.std(values, ddof=1))
        assert result["ssim"] == pytest.approx(reference_ssim(originals, result["inpainted"]), abs=1e-5)
        assert result["hole_l1"] == pytest.approx(hole_l1_by_hand(originals, result["inpainted"], masks))
        assert result["hole_psnr"] == pytest.approx(hole_psnr_by_hand(originals, result["inpainted"], masks))
    assert results["clean"]["hole_l1"] == 0.0
    assert results["clean"]["hole_psnr"] == float("inf")
    assert results["clean"]["ssim"] == pytest.approx(1.0, abs=1e-5)
    assert np.array_equal(results["clean"]["inpainted"], originals)
    assert np.array_equal(results["masked"]["inpainted"], corrupted)
    assert results["masked"]["hole_l1"] == pytest.approx(evaluation.hole_l1(originals, corrupted, masks))
    assert np.array_equal(results["telea"]["inpainted"], evaluation.telea(corrupted, masks))
    assert results["telea"]["hole_l1"] > 0


def test_evaluate_accuracy_mean_and_sd_over_classifiers_by_hand(synthetic_set):
    originals, labels, masks = synthetic_set
    wrong = (labels + 1) % 10
    classifiers = {
        0: FixedClassifier(np.where(np.arange(20) < 10, labels, wrong)),  # 0.5
        1: FixedClassifier(np.where(np.arange(20) < 15, labels, wrong)),  # 0.75
        2: FixedClassifier(labels),  # 1.0
    }
    results = evaluation.evaluate({"masked": evaluation.no_inpainting}, originals, labels, masks, classifiers)
    result = results["masked"]
    assert result["accuracy"] == pytest.approx(0.5)  # the shipped seed 0
    assert result["accuracies"] == pytest.approx({0: 0.5, 1: 0.75, 2: 1.0})
    assert result["accuracy_mean"] == pytest.approx(0.75)
    assert result["accuracy_sd"] == pytest.approx(0.25)  # ddof=1; ddof=0 would be 0.204
    assert np.array_equal(result["predictions"], classifiers[0].digits)


def test_evaluate_with_one_classifier_has_zero_sd(synthetic_set):
    originals, labels, masks = synthetic_set
    results = evaluation.evaluate({"masked": evaluation.no_inpainting}, originals, labels, masks,
                                  {0: FixedClassifier(labels)})
    assert results["masked"]["accuracy"] == 1.0
    assert results["masked"]["accuracy_sd"] == 0.0


def test_evaluate_classifies_what_each_method_filled_in():
    originals = white_square_digits(6)
    labels = np.ones(6, int)  # the centre is white: "digit 1" for CentreClassifier
    masks = data.centre_masks(6, 8)
    methods = {"clean": None, "masked": evaluation.no_inpainting, "telea": evaluation.telea,
               "navier-stokes": evaluation.navier_stokes}
    results = evaluation.evaluate(methods, originals, labels, masks, {0: CentreClassifier()})
    assert results["clean"]["accuracy"] == 1.0
    assert results["masked"]["accuracy"] == 0.0  # a black hole over the centre
    assert results["masked"]["hole_l1"] == 1.0 and results["masked"]["hole_psnr"] == pytest.approx(0.0)
    assert results["telea"]["accuracy"] == 1.0
    assert results["navier-stokes"]["accuracy"] == 1.0


def test_evaluate_honours_a_different_shipped_seed(synthetic_set):
    originals, labels, masks = synthetic_set
    classifiers = {3: FixedClassifier(labels), 4: FixedClassifier((labels + 1) % 10)}
    result = evaluation.evaluate({"masked": evaluation.no_inpainting}, originals, labels, masks, classifiers,
                                 shipped=4)["masked"]
    assert result["accuracy"] == 0.0
    assert result["accuracy_mean"] == pytest.approx(0.5)


def test_evaluate_rejects_labels_of_the_wrong_length(synthetic_set):
    originals, labels, masks = synthetic_set
    with pytest.raises(ValueError, match="labels"):
        evaluation.evaluate({"masked": evaluation.no_inpainting}, originals, labels[:-1], masks,
                            {0: FixedClassifier(labels)})


def test_evaluate_rejects_mismatched_masks(synthetic_set):
    originals, labels, masks = synthetic_set
    with pytest.raises(ValueError, match=r"masks shape \(19, 28, 28\) does not match images shape \(20, 28, 28, 1\)"):
        evaluation.evaluate({"masked": evaluation.no_inpainting}, originals, labels, masks[:-1],
                            {0: FixedClassifier(labels)})


def test_evaluate_requires_the_shipped_classifier(synthetic_set):
    originals, labels, masks = synthetic_set
    with pytest.raises(ValueError, match="shipped seed 0"):
        evaluation.evaluate({"masked": evaluation.no_inpainting}, originals, labels, masks,
                            {1: FixedClassifier(labels), 2: FixedClassifier(labels)})


def test_results_table_rounds_and_has_one_row_per_method():
    results = {
        "masked": {"accuracy": 0.123456, "accuracy_mean": 0.5, "accuracy_sd": 0.0123456, "hole_l1": 0.123456,
                   "hole_psnr": 12.3456, "ssim": 0.987654},
        "clean": {"accuracy": 0.99, "accuracy_mean": 0.98765, "accuracy_sd": 0.0, "hole_l1": 0.0,
                  "hole_psnr": float("inf"), "ssim": 1.0},
    }
    rows = evaluation.results_table(results)
    assert [row["method"] for row in rows] == ["masked", "clean"]
    assert rows[0] == {
        "method": "masked", "accuracy (shipped classifier) %": 12.35, "accuracy mean %": 50.0,
        "accuracy sd %": 1.23, "hole L1": 0.1235, "hole PSNR dB": 12.35, "SSIM": 0.9877,
    }
    assert rows[1]["accuracy (shipped classifier) %"] == 99.0
    assert rows[1]["hole PSNR dB"] == float("inf")


def test_results_table_of_evaluate_output(synthetic_set):
    originals, labels, masks = synthetic_set
    results = evaluation.evaluate({"clean": None, "masked": evaluation.no_inpainting}, originals, labels, masks,
                                  {0: FixedClassifier(labels)})
    rows = evaluation.results_table(results)
    assert len(rows) == 2
    assert rows[0]["method"] == "clean" and rows[0]["accuracy (shipped classifier) %"] == 100.0
    assert rows[0]["hole L1"] == 0.0


@pytest.mark.filterwarnings("ignore:Skipping nested container")  # Keras, on its way to the mismatch error
def test_load_classifier_builds_the_architecture_of_its_config(monkeypatch, tmp_path):
    monkeypatch.setenv("GAN_BOOK_ARTIFACTS", str(tmp_path))
    saved = build_classifier(CROSS_CHECK_CLASSIFIER)
    artifacts.save_weights(saved, classifiers.classifier_weights(0, CROSS_CHECK_CLASSIFIER))
    loaded = classifiers.load_classifiers([0], CROSS_CHECK_CLASSIFIER)[0]
    images = random_images(4)
    assert not any(isinstance(layer, keras.layers.Conv2D) for layer in loaded.layers)
    np.testing.assert_allclose(np.asarray(loaded(images)), np.asarray(saved(images)), atol=1e-6)
    with pytest.raises(ValueError, match="expected a weights file"):
        classifiers.load_classifier(0)  # the paper's architecture has no weights there
    with pytest.raises(ValueError, match="another architecture"):
        artifacts.load_weights(build_classifier(CLASSIFIER), classifiers.classifier_weights(0, CROSS_CHECK_CLASSIFIER))


def test_accuracy_summary_by_hand():
    labels = np.array([1, 2, 3, 4])
    summary = evaluation.accuracy_summary({0: [1, 2, 3, 4], 5: np.array([1, 2, 0, 0])}, labels)
    assert summary == {"accuracies": {0: 1.0, 5: 0.5}, "accuracy_mean": 0.75, "accuracy_sd": pytest.approx(0.5 / 2 ** 0.5)}
    assert evaluation.accuracy_summary({2: [0, 2, 3, 4]}, labels) == {"accuracies": {2: 0.75}, "accuracy_mean": 0.75,
                                                                      "accuracy_sd": 0.0}


@pytest.mark.parametrize("predictions, message", [({}, "at least one classifier"), ({0: [1, 2, 3]}, "labels' shape")])
def test_accuracy_summary_rejects_bad_predictions(predictions, message):
    with pytest.raises(ValueError, match=message):
        evaluation.accuracy_summary(predictions, np.array([1, 2, 3, 4]))


def test_classify_returns_argmax_digits():
    digits = np.array([3, 1, 4])
    predictions = classifiers.classify(FixedClassifier(digits), random_images(3))
    assert np.array_equal(predictions, digits)


def test_train_classifier_rejects_labels_of_the_wrong_shape():
    x_train = np.zeros((4, SIZE, SIZE), np.uint8)
    with pytest.raises(ValueError, match="y_train"):
        classifiers.train_classifier(x_train, np.zeros(3, int), epochs=1, verbose=0)


needs = lambda name: pytest.mark.skipif(not hasattr(evaluation, name), reason=f"{name} not in this version of lib")


class ProbabilityClassifier:
    def __init__(self, probabilities):
        self.probabilities = np.asarray(probabilities, np.float32)

    def predict(self, images, batch_size=None, verbose=0):
        return self.probabilities


@needs("true_class_confidence")
def test_true_class_confidence_picks_the_true_digit_probability():
    probabilities = np.full((3, 10), 0.05, np.float32)
    probabilities[0, 2], probabilities[1, 7], probabilities[2, 0] = 0.55, 0.55, 0.55
    confidence, predictions = evaluation.true_class_confidence(
        ProbabilityClassifier(probabilities), random_images(3), [2, 3, 0])
    np.testing.assert_allclose(confidence, [0.55, 0.05, 0.55])
    assert np.array_equal(predictions, [2, 7, 0])


@needs("true_class_confidence")
def test_true_class_confidence_rejects_labels_of_the_wrong_length():
    with pytest.raises(ValueError, match="labels"):
        evaluation.true_class_confidence(ProbabilityClassifier(np.eye(10)[:3]), random_images(3), [1, 2])


@needs("worst_cases")
def test_worst_cases_lists_misclassified_least_confident_first():
    confidence = np.array([0.9, 0.1, 0.3, 0.05, 0.2])
    labels = np.array([1, 1, 1, 1, 1])
    predictions = np.array([1, 2, 3, 1, 4])  # wrong: 1, 2, 4
    assert list(evaluation.worst_cases(confidence, predictions, labels)) == [1, 4, 2]
    assert list(evaluation.worst_cases(confidence, predictions, labels, count=2)) == [1, 4]
    assert len(evaluation.worst_cases(confidence, labels, labels)) == 0
    with pytest.raises(ValueError, match="confidence, predictions and labels must have the same shape"):
        evaluation.worst_cases(confidence[:-1], predictions, labels)


@needs("error_maps")
def test_error_maps_by_hand():
    originals = np.ones((2, SIZE, SIZE, 1), np.float32)
    inpainted = originals.copy()
    inpainted[0, 5, 5] = -1.0  # full-range error at one pixel of image 0
    inpainted[1, 5, 5] = 0.0  # half-range error at the same pixel of image 1
    maps = evaluation.error_maps(originals, inpainted, {"first": [True, False], "both": [True, True]})
    assert maps["first"].shape == (SIZE, SIZE)
    assert maps["first"][5, 5] == pytest.approx(1.0) and maps["first"].sum() == pytest.approx(1.0)
    assert maps["both"][5, 5] == pytest.approx(0.75)
    with pytest.raises(ValueError, match="selection"):
        evaluation.error_maps(originals, inpainted, {"none": [False, False]})
    with pytest.raises(ValueError, match="selection"):
        evaluation.error_maps(originals, inpainted, {"short": [True]})
    with pytest.raises(ValueError, match="differ in shape"):
        evaluation.error_maps(originals, inpainted[:1], {"first": [True, False]})


def test_error_inside_and_outside_splits_the_error_by_the_mask():
    originals = np.full((1, 28, 28), -1.0, np.float32)
    inpainted = originals.copy()
    masks = np.zeros((1, 28, 28), bool)
    masks[0, :2, :2] = True
    inpainted[0, 0, 0] = 1.0  # inside: error 1.0 on one of 4 pixels
    inpainted[0, 27, 27] = 0.0  # outside: error 0.5 on one of 780 pixels
    split = evaluation.error_inside_and_outside(originals, inpainted, masks)
    assert split["inside"] == pytest.approx(0.25)
    assert split["outside"] == pytest.approx(0.5 / 780)
    assert split["share outside"] == pytest.approx(0.5 / 1.5)


def test_top_confusions_lists_the_most_frequent_mistakes():
    labels = np.array([9, 9, 9, 4, 4, 1, 3])
    predictions = np.array([7, 7, 7, 9, 9, 1, 8])
    assert evaluation.top_confusions(labels, predictions, count=2) == [(9, 7, 3), (4, 9, 2)]
    assert evaluation.top_confusions(labels, predictions, count=10) == [(9, 7, 3), (4, 9, 2), (3, 8, 1)]


def centre_or_nothing_digits(n=512, seed=0):
    """Class 1 digits are a bright centre square, class 0 digits are blank: only the centre tells."""
    labels = np.random.default_rng(seed).integers(0, 2, n).astype(np.uint8)
    images = np.zeros((n, 28, 28), np.uint8)
    images[labels == 1, 10:18, 10:18] = 255
    return images, labels


def test_corrupted_digit_accuracy_is_chance_when_the_hole_hides_what_tells_digits_apart():
    images, labels = centre_or_nothing_digits()
    hidden = data.centre_masks(len(images), 14)
    corrupted = data.apply_mask(data.to_model_input(images), hidden)
    assert (corrupted == corrupted[0]).all()  # every corrupted digit is the same image ...
    accuracy = classifiers.corrupted_digit_accuracy(images, labels, hidden, images, labels, hidden, epochs=2)
    # ... so the classifier gives every test digit the same answer: its accuracy is one class's share
    share_of_ones = float((labels == 1).mean())
    assert 0.4 < share_of_ones < 0.6
    assert accuracy in (pytest.approx(share_of_ones), pytest.approx(1 - share_of_ones))


def test_corrupted_digit_accuracy_is_perfect_when_the_hole_hides_nothing_useful():
    images, labels = centre_or_nothing_digits()
    corner = np.zeros((len(images), 28, 28), bool)
    corner[:, :4, :4] = True
    assert classifiers.corrupted_digit_accuracy(images, labels, corner, images, labels, corner, epochs=2) == 1.0


def test_corrupted_digit_accuracy_checks_its_inputs():
    images, labels = centre_or_nothing_digits(n=8)
    masks = data.centre_masks(8, 8)
    with pytest.raises(ValueError, match="y_test"):
        classifiers.corrupted_digit_accuracy(images, labels, masks, images, labels[:3], masks, epochs=1)
    with pytest.raises(ValueError, match="mask"):
        classifiers.corrupted_digit_accuracy(images, labels, masks[:3], images, labels, masks, epochs=1)


@pytest.mark.parametrize("config", [CLASSIFIER, CROSS_CHECK_CLASSIFIER], ids=["classifier", "cross-check"])
def test_a_shipped_classifier_with_flipped_bytes_is_refused(tmp_path, monkeypatch, config):
    import shutil

    # 4,096 flipped bytes once loaded silently and took the probe's accuracy from 98.4 to 15.9 %.
    shutil.copytree(classifiers.classifier_folder(config), tmp_path / classifiers.classifier_folder(config).name)
    monkeypatch.setenv(runs.ROOT_VARIABLE, str(tmp_path))
    path = classifiers.classifier_weights(1, config)
    content = bytearray(path.read_bytes())
    middle = len(content) // 2
    content[middle:middle + 4096] = bytes(byte ^ 0xFF for byte in content[middle:middle + 4096])
    path.write_bytes(bytes(content))
    assert classifiers.load_classifier(0, config) is not None
    with pytest.raises(ValueError, match="seed1.weights.h5 differs from its checksum"):
        classifiers.load_classifier(1, config)


@pytest.mark.skipif(not os.environ.get("FASHION_MNIST_NPZ"), reason="FASHION_MNIST_NPZ is not set")
def test_the_test_images_of_another_dataset_are_read_by_name():
    images, labels = evaluation.test_digits(20, "fashion_mnist")
    assert images.shape == (20, 28, 28, 1) and labels.tolist() == datasets.load("fashion_mnist")[1][1][:20].tolist()


@pytest.mark.parametrize("digits", [0, 1, -5, 2.5, "all"])
def test_evaluation_digits_rejects_a_count_that_is_not_at_least_two(digits):
    with pytest.raises(ValueError, match="digits"):
        evaluation.test_digits(digits)
