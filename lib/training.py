"""How a committed GAN run is trained: the digits it sees, the recorders that watch it, and the
budget of the run mode. Every study trains through `train`; `lib.fitting.fit_gan` does the work
(and resumes a killed run from its last epoch checkpoint).
"""
from __future__ import annotations

from lib import classifiers, data, datasets, fitting, holes
from lib.config import PROBE_SIZE, SNAPSHOT_MASK_SEED, budget
from lib.diagnostics import GeneratorDiagnostics, TrainingFilm

DIAGNOSTIC_DIGITS = 128  # one batch of test digits for `lib.diagnostics.GeneratorDiagnostics`
DIAGNOSTIC_STEPS = 1000  # the mechanism is measured over the first ~1,000 iterations
FILM_STEPS, FILM_EVERY = 600, 20  # chapter 5's animation: a frame every 20 iterations up to 600
FILM_SCORED_DIGITS = 256  # real digits (and their fills) the discriminator scores in each frame


def snapshot_indices(y_test):
    """Two test digits of each class: the per-epoch picture grid."""
    return [i for digit in range(10) for i in (y_test == digit).nonzero()[0][:2]]


def snapshot_inputs(x_test, y_test):
    """The snapshot digits corrupted with fixed holes: ``((corrupted, masks), labels)``."""
    indices = snapshot_indices(y_test)
    masks = data.paper_masks(len(indices), SNAPSHOT_MASK_SEED)
    return (data.apply_mask(data.to_model_input(x_test[indices]), masks), masks), y_test[indices]


def probe_inputs(x_test, y_test, size=PROBE_SIZE, hole="paper"):
    """The first ``size`` test digits with the evaluation holes (or a centre hole of ``hole``
    pixels, `lib.holes.masks`): ``((corrupted, masks), labels)``."""
    masks = holes.masks(size, hole)
    return (data.apply_mask(data.to_model_input(x_test[:size]), masks), masks), y_test[:size]


def probe_key(hole):
    """Where a run's record keeps the probe on ``hole``: "probe" for the paper's, "probe_c14" for 14x14."""
    key = holes.key(hole)
    return "probe" if key == holes.PAPER_HOLE else f"probe_{key}"


def watchers(x_test, y_test, probe_every_steps=100, diagnostics=False, film=False, probe_holes=("paper",),
             dataset=datasets.DEFAULT):
    """The recorders of a committed run: epoch snapshots and the classifier probe (the
    ``dataset``'s shipped classifier) on each of ``probe_holes``, plus the generator diagnostics
    over the first `DIAGNOSTIC_STEPS` iterations and the film of the first `FILM_STEPS` if asked."""
    (snapshot_corrupted, snapshot_masks), _ = snapshot_inputs(x_test, y_test)
    classifier = classifiers.load_classifier(0, root=datasets.root(dataset))
    recorders = [fitting.EpochSnapshots(snapshot_corrupted, snapshot_masks)]
    for hole in probe_holes:
        (probe, probe_masks), labels = probe_inputs(x_test, y_test, hole=hole)
        recorders.append(fitting.ClassifierProbe(classifier, probe, probe_masks, labels, probe_every_steps,
                                                 probe_key(hole)))
    if diagnostics:
        originals = data.to_model_input(x_test[-DIAGNOSTIC_DIGITS:])
        masks = data.paper_masks(DIAGNOSTIC_DIGITS, SNAPSHOT_MASK_SEED)
        recorders.append(GeneratorDiagnostics(data.apply_mask(originals, masks), originals, masks,
                                                      every_steps=10, until_step=DIAGNOSTIC_STEPS))
    if film:
        originals = data.to_model_input(x_test[-FILM_SCORED_DIGITS:])
        recorders.append(TrainingFilm(snapshot_corrupted, snapshot_masks, originals,
                                      data.paper_masks(FILM_SCORED_DIGITS, SNAPSHOT_MASK_SEED), every_steps=FILM_EVERY,
                                      until_step=FILM_STEPS))
    return recorders


def train(config, folder, seed=0, plan=None, verbose=2, probe_every_steps=100, diagnostics=False, film=False,
          probe_holes=("paper",), held_out=False, dataset=datasets.DEFAULT):
    """Train ``config`` on the training images of ``dataset`` (`lib.datasets`; MNIST's digits by
    default) that ``plan`` takes (default: the current mode's) into ``folder`` with the standard
    watchers; returns the finished `lib.runs.Run`. ``held_out``: train on all but the validation
    images and watch those (`lib.data.validation_split`), for runs that choose between recipes,
    which must never see the test set."""
    plan = plan or budget()
    (x_train, y_train), (x_test, y_test) = datasets.load(dataset)
    if held_out:
        (x_train, _), (x_test, y_test) = data.validation_split(x_train, y_train)
    recorders = watchers(x_test, y_test, probe_every_steps, diagnostics, film, probe_holes, dataset)
    return fitting.fit_gan(data.to_model_input(x_train[: plan.train_images]), folder, config, seed=seed,
                           recorders=recorders, verbose=verbose)


def budget_epochs(epochs, plan=None):
    """``epochs`` in full mode, at most the quick budget's in quick mode."""
    plan = plan or budget()
    return epochs if plan.mode == "full" else min(epochs, plan.gan_epochs)
