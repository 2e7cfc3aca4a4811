"""The evaluation protocol: the same classifiers and the same holes, every method scored alike.

A *method* is any function ``(corrupted, masks) -> inpainted`` on float [-1, 1] digits of shape
(N, 28, 28, 1) with boolean (N, 28, 28) masks; `standard_methods` lists the book's, and adding a
method is one more entry in that dict.
"""
from __future__ import annotations

from lib import runtime  # noqa: F401  (starts TensorFlow quietly)
import cv2
import tensorflow as tf
import numpy as np

from lib import checks, data, datasets
from lib.classifiers import SHIPPED_CLASSIFIER_SEED
from lib.inpainting import inpaint

SAME_ACCURACY = 1e-9  # means closer than this are equal: float sums must not decide a target or a tie
INPAINT_RADIUS = 3  # pixels; OpenCV's neighbourhood for both classical methods


# ---------------------------------------------------------------- the digits

def test_digits(digits=None, dataset=datasets.DEFAULT):
    """The first ``digits`` test images of ``dataset`` (all 10,000 by default; MNIST's digits
    unless another is named) as model input, with labels."""
    (_, _), (x_test, y_test) = datasets.load(dataset)
    count = len(x_test) if digits is None else checks.count(digits, "digits", minimum=2)
    return data.to_model_input(x_test[:count]), y_test[:count]


# ---------------------------------------------------------------- methods

def no_inpainting(corrupted, masks):
    """The baseline: classify the corrupted digit as it is."""
    return data.with_channel(data.check_images(corrupted, "corrupted"))


def opencv_inpaint(corrupted, masks, method):
    """OpenCV's classical inpainting of each digit, on its 0..255 pixels: ``method`` is
    ``cv2.INPAINT_TELEA`` or ``cv2.INPAINT_NS``, with a neighbourhood of `INPAINT_RADIUS` pixels."""
    corrupted = data.with_channel(data.check_images(corrupted, "corrupted"))
    masks = data.check_masks(masks, corrupted.shape)
    pixels, holes = data.rescale(corrupted[..., 0]), masks.astype(np.uint8)
    filled = np.stack([cv2.inpaint(digit, hole, INPAINT_RADIUS, method) for digit, hole in zip(pixels, holes)])
    return data.with_channel(data.scale(filled))


def telea(corrupted, masks):
    """OpenCV's fast marching method (Telea 2004): the paper's baseline."""
    return opencv_inpaint(corrupted, masks, cv2.INPAINT_TELEA)


def navier_stokes(corrupted, masks):
    """OpenCV's Navier-Stokes method (Bertalmio et al. 2001)."""
    return opencv_inpaint(corrupted, masks, cv2.INPAINT_NS)


def generator_method(generator, config):
    """A trained generator as a method (composited or not, as its configuration says)."""
    return lambda corrupted, masks: inpaint(generator, config, corrupted, masks)


def standard_methods(generators=None):
    """The book's methods in table order; ``generators`` maps a name to ``(generator, config)``."""
    methods = {"masked": no_inpainting, "telea": telea, "navier-stokes": navier_stokes}
    for name, (generator, config) in (generators or {}).items():
        methods[name] = generator_method(generator, config)
    return methods


# ---------------------------------------------------------------- metrics

def hole_l1(originals, inpainted, masks):
    """Mean absolute error over the hole pixels, in units of the full grey range (0..1)."""
    return _pixel_metrics(*_check_triplet(originals, inpainted, masks))["hole_l1"]


def hole_psnr(originals, inpainted, masks):
    """PSNR (dB) of the hole pixels pooled over the set, pixels on a 0..1 scale."""
    return _pixel_metrics(*_check_triplet(originals, inpainted, masks))["hole_psnr"]


def _ssim(originals, inpainted):
    return float(tf.reduce_mean(tf.image.ssim((originals + 1) / 2, (inpainted + 1) / 2, max_val=1.0)))


def _pixel_metrics(originals, inpainted, masks):
    """The hole metrics of checked arrays: (N, H, W) floats and a boolean mask with a hole."""
    error = (inpainted - originals)[masks] / 2
    mse = float(np.square(error).mean())
    return {"hole_l1": float(np.abs(error).mean()),
            "hole_psnr": float("inf") if mse == 0 else float(10 * np.log10(1.0 / mse))}


def _check_triplet(originals, inpainted, masks):
    originals = data.check_images(originals, "originals")
    inpainted = data.check_images(inpainted, "inpainted")
    if originals.shape != inpainted.shape:
        raise ValueError(f"originals {originals.shape} and inpainted {inpainted.shape} differ in shape")
    masks = data.check_masks(masks, originals.shape)
    if not masks.any():
        raise ValueError("masks must mark at least one missing pixel")
    return originals[..., 0] if originals.ndim == 4 else originals, \
        inpainted[..., 0] if inpainted.ndim == 4 else inpainted, masks


def confusion_matrix(labels, predictions, classes=10):
    """Counts: rows are true digits, columns predicted ones."""
    labels, predictions = np.asarray(labels), np.asarray(predictions)
    if labels.shape != predictions.shape or labels.ndim != 1:
        raise ValueError(f"labels and predictions must be equal-length vectors, got {labels.shape}, {predictions.shape}")
    for name, values in (("labels", labels), ("predictions", predictions)):
        if values.size and (not np.issubdtype(values.dtype, np.integer) or values.min() < 0 or values.max() >= classes):
            raise ValueError(f"{name} must be integers in 0..{classes - 1}, got {values.dtype} {values.min()}..{values.max()}")
    matrix = np.zeros((classes, classes), dtype=int)
    np.add.at(matrix, (labels, predictions), 1)
    return matrix


def per_digit_accuracy(labels, predictions, classes=10):
    matrix = confusion_matrix(labels, predictions, classes)
    return np.diag(matrix) / np.maximum(matrix.sum(axis=1), 1)


# ---------------------------------------------------------------- the protocol

def evaluate(methods, originals, labels, masks, classifiers, shipped=SHIPPED_CLASSIFIER_SEED):
    """Score every method on the same digits and holes.

    Returns ``{method: result}`` where a result holds the inpainted digits, the shipped
    classifier's predictions and accuracy, every classifier's accuracy with their mean and
    standard deviation (ddof=1), and the hole L1, hole PSNR and image SSIM."""
    originals = data.with_channel(data.check_images(originals, "originals"))
    labels = np.asarray(labels)
    if labels.shape != (len(originals),):
        raise ValueError(f"labels must have shape ({len(originals)},), got {labels.shape}")
    masks = data.check_masks(masks, originals.shape)
    if shipped not in classifiers:
        raise ValueError(f"classifiers must include the shipped seed {shipped}, got {sorted(classifiers)}")
    if not masks.any():
        raise ValueError("masks must mark at least one missing pixel")
    corrupted = data.apply_mask(originals, masks)
    results = {}
    for name, method in methods.items():
        # A method's output is checked once, as it enters; the metrics below trust it.
        inpainted = originals if name == "clean" else data.with_channel(data.check_images(method(corrupted, masks),
                                                                                          f"{name}'s output"))
        if inpainted.shape != originals.shape:
            raise ValueError(f"{name} returned shape {inpainted.shape} for inputs of shape {originals.shape}")
        predictions = {seed: model.predict(inpainted, batch_size=1000, verbose=0).argmax(axis=1)
                       for seed, model in classifiers.items()}
        summary = accuracy_summary(predictions, labels)
        results[name] = {
            "inpainted": inpainted, "predictions": predictions[shipped], "accuracy": summary["accuracies"][shipped],
            **summary, **_pixel_metrics(originals[..., 0], inpainted[..., 0], masks), "ssim": _ssim(originals, inpainted),
        }
    return results


def accuracy_summary(predictions, labels):
    """Accuracy of each classifier's ``predictions`` (a dict by seed) against ``labels``, with
    their mean and standard deviation (ddof=1; 0 for a single classifier): the keys
    ``"accuracies"``, ``"accuracy_mean"`` and ``"accuracy_sd"``."""
    labels = np.asarray(labels)
    if not predictions:
        raise ValueError("accuracy_summary needs the predictions of at least one classifier")
    if any(np.shape(p) != labels.shape for p in predictions.values()):
        raise ValueError(f"every classifier's predictions must have the labels' shape {labels.shape}")
    accuracies = {seed: float((np.asarray(p) == labels).mean()) for seed, p in predictions.items()}
    values = np.array(list(accuracies.values()))
    return {"accuracies": accuracies, "accuracy_mean": float(values.mean()),
            "accuracy_sd": float(values.std(ddof=1)) if len(values) > 1 else 0.0}


PER_DIGIT = ("inpainted", "predictions")  # the arrays of a result, which a record leaves out


def scores_only(result):
    """An `evaluate` result (with realism, if added) without its per-digit arrays: the numbers a
    committed record keeps, readable as the full result is."""
    if not isinstance(result, dict) or "accuracy_mean" not in result:
        raise ValueError(f"expected a result of lib.evaluation.evaluate, got {result!r:.80}")
    return {key: value for key, value in result.items() if key not in PER_DIGIT}


def accuracy_cell(result, decimals=2):
    """``"mean ± sd"`` in percent, from a result with the keys of `accuracy_summary`."""
    if not isinstance(result, dict) or not {"accuracy_mean", "accuracy_sd"} <= result.keys():
        raise ValueError(f"expected a result with accuracy_mean and accuracy_sd, got {result!r:.80}")
    return f"{100 * result['accuracy_mean']:.{decimals}f} ± {100 * result['accuracy_sd']:.{decimals}f}"


def results_table(results):
    """One row per method: the numbers of `evaluate`, rounded for reading (accuracies in %)."""
    rows = []
    for name, result in results.items():
        rows.append({
            "method": name,
            "accuracy (shipped classifier) %": round(100 * result["accuracy"], 2),
            "accuracy mean %": round(100 * result["accuracy_mean"], 2),
            "accuracy sd %": round(100 * result["accuracy_sd"], 2),
            "hole L1": round(result["hole_l1"], 4),
            "hole PSNR dB": round(result["hole_psnr"], 2),
            "SSIM": round(result["ssim"], 4),
        })
    return rows


def true_class_confidence(classifier, images, labels, batch_size=1000):
    """The classifier's probability for the true digit of each image, and its predicted digit."""
    images = data.with_channel(data.check_images(images))
    labels = np.asarray(labels)
    if labels.shape != (len(images),):
        raise ValueError(f"labels must have shape ({len(images)},), got {labels.shape}")
    if labels.size and (not np.issubdtype(labels.dtype, np.integer) or labels.min() < 0 or labels.max() > 9):
        raise ValueError(f"labels must be digits 0..9, got {labels.dtype} values {labels.min()}..{labels.max()}")
    probabilities = classifier.predict(images, batch_size=batch_size, verbose=0)
    return probabilities[np.arange(len(labels)), labels], probabilities.argmax(axis=1)


def worst_cases(confidence, predictions, labels, count=12):
    """Indices of the misclassified images, least confident in the true digit first."""
    confidence, predictions, labels = np.asarray(confidence), np.asarray(predictions), np.asarray(labels)
    if not confidence.shape == predictions.shape == labels.shape:
        raise ValueError("confidence, predictions and labels must have the same shape")
    count = checks.count(count, "count")
    wrong = np.flatnonzero(predictions != labels)
    return wrong[np.argsort(confidence[wrong], kind="stable")][:count]


def error_maps(originals, inpainted, selections):
    """Mean absolute pixel error (0..1 grey scale) per pixel position, for each named selection
    (a boolean vector over the images)."""
    originals = data.check_images(originals, "originals")
    inpainted = data.check_images(inpainted, "inpainted")
    if originals.shape != inpainted.shape:
        raise ValueError(f"originals {originals.shape} and inpainted {inpainted.shape} differ in shape")
    errors = np.abs(inpainted - originals).reshape(len(originals), originals.shape[1], originals.shape[2]) / 2
    maps = {}
    for name, selection in selections.items():
        selection = np.asarray(selection, dtype=bool)
        if selection.shape != (len(originals),) or not selection.any():
            raise ValueError(f"selection {name!r} must be a non-empty boolean vector over the {len(originals)} images")
        maps[name] = errors[selection].mean(axis=0)
    return maps


def error_inside_and_outside(originals, inpainted, masks):
    """Mean absolute error (0..1 grey scale) inside and outside the holes, and the share of the
    total error that lies outside, on pixels the method was given."""
    originals, inpainted, masks = _check_triplet(originals, inpainted, masks)
    error = np.abs(inpainted - originals) / 2
    return {"inside": float(error[masks].mean()), "outside": float(error[~masks].mean()),
            "share outside": float(error[~masks].sum() / max(error.sum(), 1e-12))}


def top_confusions(labels, predictions, count=5):
    """The most frequent (true, predicted, count) pairs among the mistakes."""
    matrix = confusion_matrix(labels, predictions)
    np.fill_diagonal(matrix, 0)
    order = np.argsort(matrix, axis=None, kind="stable")[::-1][:count]
    return [(int(i // 10), int(i % 10), int(matrix.flat[i])) for i in order if matrix.flat[i] > 0]
