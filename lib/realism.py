"""Realism of inpainted digits, measured beside accuracy: can a detector trained afresh tell them
from real digits (a two-sample classifier test), and how far are they from real digits in the
features of a classifier no inpainter was trained or selected with (a Fréchet distance)?

A reconstruction loss fills an ambiguous hole with the average of its possible contents, a blur
that a classifier may still read correctly; these measures see the blur. 50 % detector accuracy
means indistinguishable from real digits, 100 % means always spotted.
"""
from __future__ import annotations

from lib import runtime  # noqa: F401  (starts TensorFlow quietly)
import keras
import numpy as np
from keras import layers

from lib import checks, classifiers, data, datasets, evaluation, holes
from lib.config import CROSS_CHECK_CLASSIFIER, run_mode

DETECTOR_EPOCHS = 3  # the detector of chapters 6 and 7 and appendix D: a short fixed budget
CONVERGED = "converged"  # a detector trained until its validation accuracy stops rising (`detector_fit`)
CONVERGED_PATIENCE = 3  # epochs without a better validation accuracy before a converged detector stops
CONVERGED_MAX_EPOCHS = 100  # a bound that no detector here reaches
VALIDATION_SHARE = 0.2  # of a converged detector's training digits: they decide when it stops
DETECTOR_BATCH = 128
DETECTOR_SEEDS = (0, 1, 2)
HELD_OUT = 0.25  # the share of each set the detector never trains on
REFERENCE_DIGITS = 10000  # real training digits the Fréchet distance compares with
FEATURE_CLASSIFIER_SEED = 0  # the cross-check MLP whose hidden features the distance is taken in


QUICK_DETECTOR_DIGITS = 1000  # in quick mode the detector sees the first 1,000 digits of each set


def detector_seeds():
    """Three detector seeds for the committed outputs, one in quick mode (CI)."""
    return DETECTOR_SEEDS if run_mode() == "full" else DETECTOR_SEEDS[:1]


def detector_digits():
    """How many of the digits the detector test uses: all of them in full mode, the first
    `QUICK_DETECTOR_DIGITS` in quick mode (CI runs the code path; the book's numbers are full)."""
    return None if run_mode() == "full" else QUICK_DETECTOR_DIGITS


def in_batches(model, images, batch_size=1000):
    """``model`` applied to ``images`` in inference mode, batch by batch, as a NumPy array.
    (A direct call, not ``predict``: a fresh model per call would retrace ``predict``'s graph.)"""
    return np.concatenate([keras.ops.convert_to_numpy(model(images[start:start + batch_size], training=False))
                           for start in range(0, len(images), batch_size)])


def build_detector(image_size=28):
    """A small CNN that scores an image as inpainted (1) or real (0): two strided convolutions
    and a logistic output over every position of their maps, trained for `DETECTOR_EPOCHS`
    epochs. Deliberately plain: any detector that succeeds shows a difference that is there.
    It keeps *where* each feature is (no global pooling): a blur is suspicious at the centre of a
    digit, where the holes are, and unremarkable at its edge, and an average over positions,
    measured, misses half of what this detector spots."""
    image = keras.Input((image_size, image_size, 1), name="image")
    x = layers.Conv2D(32, 3, strides=2, padding="same", activation="relu")(image)
    x = layers.Conv2D(64, 3, strides=2, padding="same", activation="relu")(x)
    x = layers.Flatten()(x)
    return keras.Model(image, layers.Dense(1, activation="sigmoid")(x), name="detector")


def halves(count, seed):
    """Two disjoint halves of ``count`` digit indices, shuffled by ``seed``: the inpainted digits
    come from one, the real digits from the other, so the detector never sees a real digit next
    to its own inpainted copy."""
    count = checks.count(count, "count", minimum=2)
    order = np.random.default_rng(checks.count(seed, "seed")).permutation(count)
    return order[: count // 2], order[count // 2: 2 * (count // 2)]


def detector_fit(inpainted, real, seed=0, epochs=DETECTOR_EPOCHS):
    """Train a fresh detector on (1 - `HELD_OUT`) of each set and measure it on the rest
    (balanced: as many inpainted as real digits): ``{"accuracy", "epochs"}``.

    ``epochs`` is a number of epochs, or `CONVERGED`: then `VALIDATION_SHARE` of the training
    digits decide when to stop (`CONVERGED_PATIENCE` epochs without a better validation accuracy)
    and the detector keeps its best epoch's weights. A detector stopped early flatters the
    inpainter it judges; a converged one does not."""
    inpainted = data.with_channel(data.check_images(inpainted, "inpainted"))
    real = data.with_channel(data.check_images(real, "real"))
    converged = epochs == CONVERGED
    epochs = CONVERGED_MAX_EPOCHS if converged else checks.count(epochs, "epochs", 1)
    count = min(len(inpainted), len(real))
    if count < 8:
        raise ValueError(f"need at least 8 digits of each kind, got {len(inpainted)} and {len(real)}")
    train = int(round(count * (1 - HELD_OUT)))
    fit = int(round(train * (1 - VALIDATION_SHARE))) if converged else train
    keras.utils.set_random_seed(checks.count(seed, "seed"))

    def balanced(start, stop):
        images = np.concatenate([inpainted[start:stop], real[start:stop]])
        return images, np.concatenate([np.ones(stop - start), np.zeros(stop - start)]).astype(np.float32)

    detector = build_detector(inpainted.shape[1])
    detector.compile(optimizer=keras.optimizers.Adam(1e-3), loss="binary_crossentropy",
                     metrics=["accuracy"] if converged else None)
    settings = dict(validation_data=balanced(fit, train), callbacks=[keras.callbacks.EarlyStopping(
        monitor="val_accuracy", mode="max", patience=CONVERGED_PATIENCE, restore_best_weights=True)]) if converged else {}
    history = detector.fit(*balanced(0, fit), batch_size=DETECTOR_BATCH, epochs=epochs, shuffle=True, verbose=0,
                           **settings)
    tests, truth = balanced(train, count)
    scores = in_batches(detector, tests)[:, 0]
    return {"accuracy": float(((scores > 0.5) == truth).mean()), "epochs": len(history.history["loss"])}


def detector_accuracy(inpainted, real, seed=0, epochs=DETECTOR_EPOCHS):
    """A fresh detector's held-out accuracy (`detector_fit`)."""
    return detector_fit(inpainted, real, seed, epochs)["accuracy"]


def two_sample_test(inpainted, originals, seeds=DETECTOR_SEEDS, epochs=DETECTOR_EPOCHS):
    """The detector's held-out accuracy for inpainted test digits against real ones, once per
    detector seed (each seed also draws its own halves): ``{"mean", "sd", "by_seed",
    "epochs_by_seed"}`` (``epochs``: a number, or `CONVERGED`)."""
    inpainted = data.with_channel(data.check_images(inpainted, "inpainted"))
    originals = data.with_channel(data.check_images(originals, "originals"))
    if inpainted.shape != originals.shape:
        raise ValueError(f"inpainted and originals must be the same digits, got {inpainted.shape} and {originals.shape}")
    if not seeds:
        raise ValueError("seeds must name at least one detector seed")
    fits = {}
    for seed in seeds:
        filled_half, real_half = halves(len(inpainted), seed)
        fits[seed] = detector_fit(inpainted[filled_half], originals[real_half], seed, epochs)
    values = np.array([fit["accuracy"] for fit in fits.values()])
    return {"mean": float(values.mean()), "sd": float(values.std(ddof=1)) if len(values) > 1 else 0.0,
            "by_seed": {seed: fit["accuracy"] for seed, fit in fits.items()},
            "epochs_by_seed": {seed: fit["epochs"] for seed, fit in fits.items()}}


def penultimate_features(classifier, images, batch_size=1000):
    """What ``classifier`` sees in ``images``: the output of its last hidden layer."""
    images = data.with_channel(data.check_images(images))
    if not hasattr(classifier, "layers") or len(classifier.layers) < 3:
        raise ValueError("classifier must be a Keras model with at least one hidden layer")
    features = keras.Model(classifier.input, classifier.layers[-2].output)
    return in_batches(features, images, batch_size).reshape(len(images), -1)


def frechet_distance(features_a, features_b):
    """The Fréchet distance between Gaussians fitted to two sets of feature vectors (the FID's
    formula): |mu_a - mu_b|^2 + tr(S_a + S_b - 2 (S_a S_b)^(1/2)). The matrix square root is
    taken through the symmetric S_a^(1/2) S_b S_a^(1/2), whose eigenvalues are non-negative."""
    a, b = (np.asarray(features, np.float64) for features in (features_a, features_b))
    if a.ndim != 2 or b.ndim != 2 or a.shape[1] != b.shape[1] or min(len(a), len(b)) < 2:
        raise ValueError(f"features must be two (N, D) arrays with the same D and N >= 2, got {a.shape} and {b.shape}")
    mean_a, mean_b = a.mean(axis=0), b.mean(axis=0)
    cov_a, cov_b = np.cov(a, rowvar=False), np.cov(b, rowvar=False)
    values, vectors = np.linalg.eigh(cov_a)
    root_a = (vectors * np.sqrt(np.clip(values, 0, None))) @ vectors.T
    cross = np.linalg.eigvalsh(root_a @ cov_b @ root_a)
    return float(np.sum((mean_a - mean_b) ** 2) + np.trace(cov_a) + np.trace(cov_b) - 2 * np.sqrt(np.clip(cross, 0, None)).sum())


class RealismJudge:
    """Both realism measures with their fixed parts prepared once: the feature classifier (by
    default the cross-check MLP, which no inpainter was trained or selected with), the features
    of `REFERENCE_DIGITS` real training digits, the detector seeds and how long each detector
    trains (a number of epochs, or `CONVERGED`)."""

    def __init__(self, feature_classifier, reference_digits, seeds=None, epochs=DETECTOR_EPOCHS):
        if epochs != CONVERGED:
            checks.count(epochs, "epochs", 1)
        self.epochs = epochs
        self.feature_classifier = feature_classifier
        self.reference = penultimate_features(feature_classifier, reference_digits)
        seeds = detector_seeds() if seeds is None else seeds
        if not isinstance(seeds, (tuple, list)) or not seeds:
            raise ValueError(f"a judge needs at least one detector seed, as a tuple or list, got {seeds!r}")
        self.seeds = tuple(checks.count(seed, "seed") for seed in seeds)

    def frechet(self, digits):
        """The Fréchet distance from ``digits`` to the real training digits, in the features."""
        return frechet_distance(penultimate_features(self.feature_classifier, digits), self.reference)

    def score(self, inpainted, originals):
        """``{"detector", "detector_sd", "detector_by_seed", "frechet"}`` for inpainted test
        digits against the real ``originals`` they were made from (with ``"detector_epochs"``,
        the epochs each seed trained, for a converged detector)."""
        count = detector_digits()
        test = two_sample_test(inpainted[:count], originals[:count], self.seeds, self.epochs)
        scores = {"detector": test["mean"], "detector_sd": test["sd"], "detector_by_seed": test["by_seed"],
                  "frechet": self.frechet(inpainted)}
        if self.epochs == CONVERGED:
            scores["detector_epochs"] = test["epochs_by_seed"]
        return scores


def default_judge(seeds=None, epochs=DETECTOR_EPOCHS, dataset=datasets.DEFAULT):
    """The book's judge for ``dataset``: its shipped cross-check MLP's features, its last
    `REFERENCE_DIGITS` training images as the real reference."""
    (x_train, _), _ = datasets.load(dataset)
    classifier = classifiers.load_classifier(FEATURE_CLASSIFIER_SEED, CROSS_CHECK_CLASSIFIER, datasets.root(dataset))
    return RealismJudge(classifier, data.to_model_input(x_train[-REFERENCE_DIGITS:]), seeds, epochs)


def add_realism(results, originals, judge):
    """`lib.evaluation.evaluate`'s ``results`` with each method's realism (`RealismJudge.score`)
    added to its entry; the "clean" row, real digits themselves, is scored like any other."""
    for name, result in results.items():
        if "inpainted" not in result:
            raise ValueError(f"{name!r} has no inpainted digits to score (lib.evaluation.evaluate keeps them)")
        result.update(judge.score(result["inpainted"], originals))
    return results


def score_on_holes(method, originals, labels, judges, judge, holes_to_score):
    """One method on each of ``holes_to_score`` (`lib.holes`): accuracy (mean over ``judges``, the
    classifiers), the hole PSNR, and ``judge``'s detector accuracy on held-out digits and Fréchet
    distance, ``{hole label: {...}}``."""
    scores = {}
    for hole in holes_to_score:
        masks = holes.masks(len(originals), hole)
        result = evaluation.evaluate({"method": method}, originals, labels, masks, judges)["method"]
        scores[holes.label(hole)] = {
            "accuracy_mean": result["accuracy_mean"], "accuracy_sd": result["accuracy_sd"],
            "hole_psnr": result["hole_psnr"], **judge.score(result["inpainted"], originals)}
    return scores


def realism_by_hole(by_hole, measure="detector"):
    """``{hole: {method: value}}`` of one realism measure in `add_realism`'s results per hole
    (the detector in %, one decimal; the Fréchet distance, two decimals): a DataFrame of it has
    a column per hole."""
    if measure not in ("detector", "frechet"):
        raise ValueError(f"measure must be 'detector' or 'frechet', got {measure!r}")
    scale, decimals = (100, 1) if measure == "detector" else (1, 2)
    return {hole: {name: round(scale * result[measure], decimals) for name, result in results.items()}
            for hole, results in by_hole.items()}
