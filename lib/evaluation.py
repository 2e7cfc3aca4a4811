"""The evaluation protocol: the classifier, the fixed test holes, classical baselines, metrics."""
from __future__ import annotations

import keras
import numpy as np

from lib import artifacts, data
from lib.config import CLASSIFIER, EVALUATION_MASK_SEED, ClassifierConfig
from lib.models import build_classifier, compile_classifier

CLASSIFIER_FOLDER = "classifier"


def classifier_path(seed):
    return artifacts.run_dir(CLASSIFIER_FOLDER) / f"seed{int(seed)}.weights.h5"


def train_classifier(x_train, y_train, seed=0, config: ClassifierConfig = CLASSIFIER, epochs=None, verbose="auto"):
    """Train the paper's classifier on clean digits (uint8 images, integer labels)."""
    images = data.to_model_input(x_train)
    labels = np.asarray(y_train)
    if labels.shape != (len(images),):
        raise ValueError(f"y_train must have shape ({len(images)},), got {labels.shape}")
    keras.utils.set_random_seed(int(seed))
    model = compile_classifier(build_classifier(config), config)
    model.fit(images, labels, batch_size=config.batch_size, epochs=epochs or config.epochs,
              shuffle=True, verbose=verbose)
    return model


def load_classifier(seed=0, config: ClassifierConfig = CLASSIFIER):
    """A shipped classifier, by seed."""
    return artifacts.load_weights(build_classifier(config), classifier_path(seed))


def evaluation_masks(n, seed=EVALUATION_MASK_SEED):
    """The paper's holes for the first ``n`` test digits, the same for every method."""
    return data.paper_masks(n, seed)


def classify(classifier, images, batch_size=1000):
    """Predicted digits for float [-1, 1] images."""
    images = data.with_channel(data.check_images(images))
    return classifier.predict(images, batch_size=batch_size, verbose=0).argmax(axis=1)
