"""Tests of lib.training."""
import os

import numpy as np
import pytest

from lib import classifiers, data, datasets, diagnostics, fitting, holes, training
from lib.config import EVALUATION_MASK_SEED, PAPER, PROBE_SIZE, SNAPSHOT_MASK_SEED, budget

from stubs import recorder, synthetic_test_set

pytestmark = pytest.mark.usefixtures("private_artifacts")  # nothing here touches the committed artifacts

SIZE = PAPER.image_size
real_mnist = pytest.mark.skipif(not os.environ.get(data.NPZ_VARIABLE), reason="MNIST_NPZ is not set")


def test_snapshot_inputs_two_digits_per_class_with_paper_masks():
    x_test, y_test = synthetic_test_set()
    (corrupted, masks), labels = training.snapshot_inputs(x_test, y_test)
    assert list(labels) == [digit for digit in range(10) for _ in range(2)]
    indices = [i for digit in range(10) for i in np.flatnonzero(y_test == digit)[:2]]
    assert training.snapshot_indices(y_test) == indices
    assert corrupted.shape == (20, SIZE, SIZE, 1) and corrupted.dtype == np.float32
    assert masks.shape == (20, SIZE, SIZE) and masks.dtype == np.bool_
    assert (masks.sum(axis=(1, 2)) == 64).all()
    assert np.array_equal(masks, data.paper_masks(20, SNAPSHOT_MASK_SEED))
    assert np.array_equal(corrupted, data.apply_mask(data.to_model_input(x_test[indices]), masks))
    assert (corrupted[..., 0][masks] == -1).all()


def test_snapshot_inputs_are_deterministic():
    x_test, y_test = synthetic_test_set(seed=1)
    (a, ma), la = training.snapshot_inputs(x_test, y_test)
    (b, mb), lb = training.snapshot_inputs(x_test, y_test)
    assert np.array_equal(a, b) and np.array_equal(ma, mb) and np.array_equal(la, lb)


def test_probe_inputs_on_a_small_synthetic_set():
    x_test, y_test = synthetic_test_set()
    (corrupted, masks), labels = training.probe_inputs(x_test, y_test, size=25)
    assert np.array_equal(labels, y_test[:25])
    assert np.array_equal(masks, holes.evaluation_masks(25))
    assert np.array_equal(corrupted, data.apply_mask(data.to_model_input(x_test[:25]), masks))


@real_mnist
def test_inputs_on_real_mnist():
    _, (x_test, y_test) = data.load_mnist()
    (corrupted, masks), labels = training.probe_inputs(x_test, y_test)
    assert len(labels) == PROBE_SIZE and corrupted.shape == (PROBE_SIZE, SIZE, SIZE, 1)
    assert np.array_equal(labels, y_test[:PROBE_SIZE])
    assert np.array_equal(masks, data.paper_masks(PROBE_SIZE, EVALUATION_MASK_SEED))
    assert np.array_equal(corrupted, data.apply_mask(data.to_model_input(x_test[:PROBE_SIZE]), masks))

    (corrupted, masks), labels = training.snapshot_inputs(x_test, y_test)
    assert list(labels) == [digit for digit in range(10) for _ in range(2)]
    assert (masks.sum(axis=(1, 2)) == 64).all()
    indices = [i for digit in range(10) for i in np.flatnonzero(y_test == digit)[:2]]
    assert np.array_equal(corrupted, data.apply_mask(data.to_model_input(x_test[indices]), masks))


def test_watchers_are_the_snapshots_and_the_probe_and_the_diagnostics_if_asked(monkeypatch):
    x_test, y_test = synthetic_test_set(per_class=PROBE_SIZE // 10)
    classifier = object()
    seeds = []
    monkeypatch.setattr(classifiers, "load_classifier", lambda seed=0, root=(): seeds.append(seed) or classifier)
    standard = training.watchers(x_test, y_test, probe_every_steps=50)
    assert [type(r) for r in standard] == [fitting.EpochSnapshots, fitting.ClassifierProbe]
    snapshots, probe = standard
    (snapshot_corrupted, snapshot_masks), _ = training.snapshot_inputs(x_test, y_test)
    assert np.array_equal(snapshots.corrupted, snapshot_corrupted) and np.array_equal(snapshots.masks, snapshot_masks)
    (probe_corrupted, probe_masks), probe_labels = training.probe_inputs(x_test, y_test)
    assert probe.classifier is classifier and seeds == [0] and probe.every_steps == 50
    assert np.array_equal(probe.corrupted, probe_corrupted) and np.array_equal(probe.labels, probe_labels)
    assert np.array_equal(probe.masks, probe_masks)

    watched = training.watchers(x_test, y_test, diagnostics=True)
    measured = recorder(watched, diagnostics.GeneratorDiagnostics)
    assert len(watched) == 3 and recorder(watched, fitting.ClassifierProbe).every_steps == 100
    originals = data.to_model_input(x_test[-training.DIAGNOSTIC_DIGITS:])  # test digits the probe does not use
    masks = data.paper_masks(training.DIAGNOSTIC_DIGITS, SNAPSHOT_MASK_SEED)
    assert np.array_equal(measured.originals, originals)
    assert np.array_equal(measured.masks[..., 0], masks.astype(np.float32))
    assert np.array_equal(measured.corrupted, data.apply_mask(originals, masks))
    assert measured.until_step == training.DIAGNOSTIC_STEPS and measured.every_steps == 10


def test_budget_epochs_caps_only_quick_runs():
    assert training.budget_epochs(40, budget("full")) == 40
    assert training.budget_epochs(40, budget("quick")) == budget("quick").gan_epochs
    assert training.budget_epochs(1, budget("quick")) == 1


def test_a_run_trains_on_the_dataset_it_is_given_and_probes_with_that_datasets_classifier(monkeypatch, tmp_path):
    x, y = synthetic_test_set(per_class=100)  # the probe's 1,000 test images
    loaded, probes = [], []
    monkeypatch.setattr(datasets, "load", lambda name="mnist", *a, **k: loaded.append(name) or ((x, y), (x, y)))
    monkeypatch.setattr(classifiers, "load_classifier", lambda seed=0, root=(): probes.append(root) or "classifier")
    monkeypatch.setattr(fitting, "fit_gan", lambda images, folder, config, **kwargs: (images, folder))
    images, folder = training.train(PAPER, tmp_path / "run", dataset="fashion_mnist")
    assert loaded == ["fashion_mnist"] and probes == [("fashion_mnist",)] and folder == tmp_path / "run"
    assert images.shape[1:] == (28, 28, 1) and images.dtype == np.float32  # the training images, as the model sees them

