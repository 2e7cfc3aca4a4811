"""The judges: the classifiers that read inpainted digits (the paper's architecture, three seeds)
and the cross-check ones (another architecture, appendix B), trained on clean digits, shipped in
``artifacts/classifier/`` and ``artifacts/classifier-dense/``, and loaded verified.
"""
from __future__ import annotations

import time

from lib.runtime import keras
import numpy as np

from lib import artifacts, checks, commands, data, datasets, runs
from lib.config import budget
from lib.config import CLASSIFIER, CROSS_CHECK_CLASSIFIER, ClassifierConfig, DenseClassifierConfig
from lib.models import build_classifier, compile_classifier
from lib.records import machine_description

CLASSIFIER_SEEDS = (0, 1, 2)
SHIPPED_CLASSIFIER_SEED = 0


def classifier_folder(config=CLASSIFIER, root=()):
    """The shipped classifiers of a configuration: the paper's (`CLASSIFIER`) in ``classifier/``,
    the cross-check ones in ``classifier-dense/``; no others, so weights never load into another."""
    for shipped, folder in ((CLASSIFIER, "classifier"), (CROSS_CHECK_CLASSIFIER, "classifier-dense")):
        if config == shipped:  # dataclass equality: same class, same fields
            return runs.path(*root, folder)
    raise ValueError("only the shipped classifier configurations, CLASSIFIER (a ClassifierConfig) and "
                     f"CROSS_CHECK_CLASSIFIER (a DenseClassifierConfig), have a folder; got {config!r}")


def classifier_weights(seed, config=CLASSIFIER, root=()):
    return classifier_folder(config, root) / f"{runs.seed_name(seed)}.weights.h5"


def classifier_record(seed, config=CLASSIFIER, root=()):
    """The JSON beside a classifier's weights: its clean test accuracy, budget and machine."""
    return classifier_folder(config, root) / f"{runs.seed_name(seed)}.json"


def train_classifier(x_train, y_train, seed=0, config: ClassifierConfig | DenseClassifierConfig = CLASSIFIER,
                     epochs=None, verbose="auto"):
    """Train a classifier (the paper's by default, or the cross-check one) on clean digits
    (uint8 images, integer labels)."""
    return _fit_classifier(data.to_model_input(x_train), y_train, seed, config, epochs, verbose)


def _fit_classifier(images, y_train, seed, config, epochs, verbose):
    labels = np.asarray(y_train)
    if labels.shape != (len(images),):
        raise ValueError(f"y_train must have shape ({len(images)},), got {labels.shape}")
    keras.utils.set_random_seed(int(seed))
    model = compile_classifier(build_classifier(config), config)
    model.fit(images, labels, batch_size=config.batch_size, epochs=epochs or config.epochs,
              shuffle=True, verbose=verbose)
    return model


def corrupted_digit_accuracy(x_train, y_train, train_masks, x_test, y_test, test_masks, seed=0,
                             config: ClassifierConfig = CLASSIFIER, epochs=None, verbose=0):
    """How much of a digit's identity survives the hole: the accuracy of the paper's classifier
    trained on corrupted training digits and tested on corrupted test digits, no inpainting.

    Inpainting and then classifying is itself a way of classifying the corrupted digit, so this
    estimates the accuracy an inpainter can hope to reach with these holes: an estimate, not a
    bound, since neither classifier is perfect. ``x_*``: uint8 digits; masks: boolean, True = missing."""
    train = data.apply_mask(data.to_model_input(x_train), train_masks)
    test = data.apply_mask(data.to_model_input(x_test), test_masks)
    labels = np.asarray(y_test)
    if labels.shape != (len(test),):
        raise ValueError(f"y_test must have shape ({len(test)},), got {labels.shape}")
    model = _fit_classifier(train, y_train, seed, config, epochs, verbose)
    return float((classify(model, test) == labels).mean())


def load_classifier(seed=SHIPPED_CLASSIFIER_SEED, config: ClassifierConfig | DenseClassifierConfig = CLASSIFIER,
                    root=()):
    """A shipped classifier, by seed (and architecture: `lib.config.CROSS_CHECK_CLASSIFIER` for the
    cross-check ones), of the dataset ``root`` holds (`lib.datasets.root`; MNIST's by default)."""
    return artifacts.load_weights(build_classifier(config), classifier_weights(seed, config, root))


def load_classifiers(seeds=CLASSIFIER_SEEDS, config=CLASSIFIER, root=()):
    return {seed: load_classifier(seed, config, root) for seed in seeds}


def classify(classifier, images, batch_size=1000):
    """Predicted digits for float [-1, 1] images."""
    images = data.with_channel(data.check_images(images))
    return classifier.predict(images, batch_size=batch_size, verbose=0).argmax(axis=1)


def classifier_epochs(epochs, plan=None):
    """A classifier's budget: ``epochs`` in full mode, at most the quick budget's in quick mode."""
    plan = plan or budget()
    return int(epochs) if plan.mode == "full" else min(int(epochs), plan.classifier_epochs)


def run_classifiers(seeds, config=CLASSIFIER, root=(), verbose=2):
    """Train the shipped classifiers of ``seeds``: the paper's architecture, or with
    ``config=CROSS_CHECK_CLASSIFIER`` the cross-check one, for the epochs of ``config``, on the
    dataset ``root`` holds (`lib.datasets.in_root`)."""
    folder = classifier_folder(config)  # checks the config before any work
    (x_train, y_train), (x_test, y_test) = datasets.load(datasets.in_root(root))
    epochs = classifier_epochs(config.epochs)
    for seed in seeds:
        path = classifier_weights(seed, config, root)
        if path.is_file():
            print(f"{folder.name} seed {seed}: already trained, kept")
            continue
        started = time.perf_counter()
        model = train_classifier(x_train, y_train, seed, config, epochs=epochs, verbose=verbose)
        seconds = time.perf_counter() - started
        accuracy = float((classify(model, data.to_model_input(x_test)) == y_test).mean())
        artifacts.save_weights(model, path)
        artifacts.list_in_manifest(path)  # the evaluation, the probes and the demo load it: verified
        artifacts.save_record(classifier_record(seed, config, root), {
            "seed": seed, "epochs": epochs, "config": config.to_dict(), "clean_test_accuracy": accuracy,
            "wall_seconds": round(seconds, 1), "machine": machine_description(),
        })
        print(f"{folder.name} seed {seed}: clean test accuracy {accuracy:.4f} in {seconds:.0f} s", flush=True)


def clean_accuracy(seed=SHIPPED_CLASSIFIER_SEED, config=CLASSIFIER):
    """A shipped classifier's accuracy on the clean test digits, from its record."""
    return artifacts.load_fields(classifier_record(seed, config), clean_test_accuracy=checks.fraction)[0]


def run_cross_check_classifiers(seeds, root=()):
    run_classifiers(seeds, CROSS_CHECK_CLASSIFIER, root)


COMMANDS = (
    commands.Command("classifier", run_classifiers, "the evaluation classifiers (the paper's architecture)",
                     (commands.seeds(CLASSIFIER_SEEDS),), datasets=tuple(datasets.DATASETS)),
    commands.Command("cross-check-classifier", run_cross_check_classifiers,
                     "the cross-check classifiers, another architecture (appendix B)", (commands.seeds(CLASSIFIER_SEEDS),),
                     datasets=tuple(datasets.DATASETS)),
)
