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

from lib import checks, data

DETECTOR_EPOCHS = 3
DETECTOR_BATCH = 128
DETECTOR_SEEDS = (0, 1, 2)
HELD_OUT = 0.25  # the share of each set the detector never trains on


def build_detector(image_size=28):
    """A small CNN that scores an image as inpainted (1) or real (0): two strided convolutions
    and a logistic output, trained for `DETECTOR_EPOCHS` epochs. Deliberately plain: any
    detector that succeeds shows a difference that is there."""
    image = keras.Input((image_size, image_size, 1), name="image")
    x = layers.Conv2D(32, 3, strides=2, padding="same", activation="relu")(image)
    x = layers.Conv2D(64, 3, strides=2, padding="same", activation="relu")(x)
    x = layers.GlobalAveragePooling2D()(x)
    return keras.Model(image, layers.Dense(1, activation="sigmoid")(x), name="detector")


def halves(count, seed):
    """Two disjoint halves of ``count`` digit indices, shuffled by ``seed``: the inpainted digits
    come from one, the real digits from the other, so the detector never sees a real digit next
    to its own inpainted copy."""
    count = checks.count(count, "count", minimum=2)
    order = np.random.default_rng(checks.count(seed, "seed")).permutation(count)
    return order[: count // 2], order[count // 2: 2 * (count // 2)]


def detector_accuracy(inpainted, real, seed=0, epochs=DETECTOR_EPOCHS):
    """Train a fresh detector on (1 - `HELD_OUT`) of each set and return its accuracy on the rest
    (balanced: as many inpainted as real digits)."""
    inpainted = data.with_channel(data.check_images(inpainted, "inpainted"))
    real = data.with_channel(data.check_images(real, "real"))
    count = min(len(inpainted), len(real))
    if count < 8:
        raise ValueError(f"need at least 8 digits of each kind, got {len(inpainted)} and {len(real)}")
    train = int(round(count * (1 - HELD_OUT)))
    keras.utils.set_random_seed(checks.count(seed, "seed"))
    images = np.concatenate([inpainted[:train], real[:train]])
    labels = np.concatenate([np.ones(train), np.zeros(train)]).astype(np.float32)
    detector = build_detector(inpainted.shape[1])
    detector.compile(optimizer=keras.optimizers.Adam(1e-3), loss="binary_crossentropy")
    detector.fit(images, labels, batch_size=DETECTOR_BATCH, epochs=checks.count(epochs, "epochs", 1), shuffle=True,
                 verbose=0)
    tests = np.concatenate([inpainted[train:count], real[train:count]])
    truth = np.concatenate([np.ones(count - train), np.zeros(count - train)])
    scores = detector.predict(tests, batch_size=1000, verbose=0)[:, 0]
    return float(((scores > 0.5) == truth).mean())


def two_sample_test(inpainted, originals, seeds=DETECTOR_SEEDS, epochs=DETECTOR_EPOCHS):
    """The detector's held-out accuracy for inpainted test digits against real ones, once per
    detector seed (each seed also draws its own halves): ``{"mean", "sd", "by_seed"}``."""
    inpainted = data.with_channel(data.check_images(inpainted, "inpainted"))
    originals = data.with_channel(data.check_images(originals, "originals"))
    if inpainted.shape != originals.shape:
        raise ValueError(f"inpainted and originals must be the same digits, got {inpainted.shape} and {originals.shape}")
    if not seeds:
        raise ValueError("seeds must name at least one detector seed")
    by_seed = {}
    for seed in seeds:
        filled_half, real_half = halves(len(inpainted), seed)
        by_seed[seed] = detector_accuracy(inpainted[filled_half], originals[real_half], seed, epochs)
    values = np.array(list(by_seed.values()))
    return {"mean": float(values.mean()), "sd": float(values.std(ddof=1)) if len(values) > 1 else 0.0,
            "by_seed": by_seed}


def penultimate_features(classifier, images, batch_size=1000):
    """What ``classifier`` sees in ``images``: the output of its last hidden layer."""
    images = data.with_channel(data.check_images(images))
    if not hasattr(classifier, "layers") or len(classifier.layers) < 3:
        raise ValueError("classifier must be a Keras model with at least one hidden layer")
    features = keras.Model(classifier.inputs, classifier.layers[-2].output)
    return features.predict(images, batch_size=batch_size, verbose=0).reshape(len(images), -1)


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
