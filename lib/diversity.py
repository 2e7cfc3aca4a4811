"""Measures of several fills of one hole (a sampler draws ``n`` fills of every image): how much
the draws differ, how often one of them or each of them is read right, and whether they disagree
more where the hole really is ambiguous.

Every function takes the draws stacked on a first axis: ``(draws, images, ...)``.
"""
from __future__ import annotations

import numpy as np


def _draws(values, name, ndim):
    values = np.asarray(values)
    if values.ndim != ndim or values.shape[0] < 1 or values.shape[1] < 1:
        raise ValueError(f"{name} must have shape (draws, images{', ...' * (ndim > 2)}) with at least one of each, "
                         f"got {values.shape}")
    return values


def _class_indices(values, name, classes):
    if not np.issubdtype(values.dtype, np.integer) or values.min() < 0 or values.max() >= classes:
        raise ValueError(f"{name} must be class indices in 0..{classes - 1}")
    return values


def _labels(predictions, labels=None, classes=10):
    if isinstance(classes, bool) or not isinstance(classes, (int, np.integer)) or classes < 2:
        raise ValueError(f"classes must be an integer of at least 2, got {classes!r}")
    predictions = _class_indices(_draws(predictions, "predictions", 2), "predictions", classes)
    if labels is not None:
        labels = np.asarray(labels)
        if labels.shape != predictions.shape[1:]:
            raise ValueError(f"labels must have one entry per image, shape {predictions.shape[1:]}, got {labels.shape}")
        _class_indices(labels, "labels", classes)
    return predictions, labels


def mean_pairwise_distance(features):
    """For each image, the mean Euclidean distance between its draws' feature vectors (``(draws,
    images, dims)``, e.g. a classifier's penultimate features), over every pair of draws. Zero
    where the draws agree; needs at least two draws."""
    features = _draws(features, "features", 3).astype(np.float64)
    draws = len(features)
    if draws < 2:
        raise ValueError("the distance between draws needs at least two draws")
    total = np.zeros(features.shape[1])
    for first in range(draws):
        for second in range(first + 1, draws):
            total += np.linalg.norm(features[first] - features[second], axis=-1)
    return total / (draws * (draws - 1) / 2)


def label_entropy(predictions, classes=10):
    """For each image, the entropy (in bits) of the labels a classifier gives its draws: 0 when
    every draw is read as one class, log2(draws) at most."""
    predictions, _ = _labels(predictions, classes=classes)
    counts = np.stack([(predictions == label).sum(axis=0) for label in range(classes)], axis=-1)
    shares = counts / len(predictions)
    with np.errstate(divide="ignore", invalid="ignore"):
        return -np.where(shares > 0, shares * np.log2(shares), 0.0).sum(axis=-1)


def per_draw_accuracy(predictions, labels, classes=10):
    """The share of (draw, image) pairs read as the true class: the accuracy of a single draw."""
    predictions, labels = _labels(predictions, labels, classes)
    return float((predictions == labels).mean())


def best_of_accuracy(predictions, labels, k=None, classes=10):
    """The share of images for which at least one of the first ``k`` draws (all by default) is read
    as the true class: what a reader who may pick among ``k`` fills could reach."""
    predictions, labels = _labels(predictions, labels, classes)
    k = len(predictions) if k is None else k
    if isinstance(k, bool) or not isinstance(k, (int, np.integer)) or not 1 <= k <= len(predictions):
        raise ValueError(f"k must be an integer in 1..{len(predictions)} (the draws), got {k!r}")
    return float((predictions[:k] == labels).any(axis=0).mean())


def miss_rate(predictions, labels, classes=10):
    """For each image, the share of its draws read as another class than the true one."""
    predictions, labels = _labels(predictions, labels, classes)
    return (predictions != labels).mean(axis=0)


def _ranks(values):
    """Ranks from 1, ties sharing their average rank."""
    order = np.argsort(values, kind="stable")
    ranks = np.empty(len(values))
    ranks[order] = np.arange(1, len(values) + 1)
    for value in np.unique(values):
        tied = values == value
        ranks[tied] = ranks[tied].mean()
    return ranks


def spearman(a, b):
    """Spearman's rank correlation of two equally long samples (ties at their average rank): 1
    when one orders the items as the other does, 0 when their orders are unrelated."""
    a, b = np.asarray(a, np.float64), np.asarray(b, np.float64)
    if a.ndim != 1 or a.shape != b.shape or len(a) < 3:
        raise ValueError(f"spearman needs two 1-D samples of the same length, at least 3, got {a.shape} and {b.shape}")
    ranks_a, ranks_b = _ranks(a), _ranks(b)
    if ranks_a.std() == 0 or ranks_b.std() == 0:
        raise ValueError("spearman is undefined when one sample is constant")
    return float(np.corrcoef(ranks_a, ranks_b)[0, 1])


def calibration(predictions, labels, classes=10):
    """Do the draws disagree more where they are more often wrong? Spearman's correlation, over
    the images, of the label entropy of their draws with their draws' miss rate. Undefined (a
    `ValueError`) where every image's draws agree, or every image's miss rate is the same."""
    return spearman(label_entropy(predictions, classes), miss_rate(predictions, labels, classes))
