"""Stand-ins for trained networks and tiny training data, shared by several of lib's test files."""
import numpy as np

SIZE = 28


class ConstantGenerator:
    """Fills every pixel with one value, whatever it is fed."""

    def __init__(self, value):
        self.value = value

    def predict(self, inputs, verbose=0, batch_size=None):
        return np.full((int(inputs.shape[0]), SIZE, SIZE, 1), self.value, np.float32)


class CentreClassifier:
    """Predicts 1 if the centre pixel is bright, else 0."""

    def predict(self, images, batch_size=None, verbose=0):
        return np.eye(10, dtype=np.float32)[(np.asarray(images)[:, 14, 14, 0] > 0).astype(int)]


def tiny_images(count=128, seed=0):
    """Random [-1, 1] "digits": enough for a GAN to take a few steps on."""
    return np.random.default_rng(seed).uniform(-1, 1, (count, SIZE, SIZE, 1)).astype(np.float32)


def holes(count):
    """An 8x8 hole at the centre of every digit."""
    masks = np.zeros((count, SIZE, SIZE), bool)
    masks[:, 10:18, 10:18] = True
    return masks


def all_weights(run):
    """Both networks' weights of a finished run."""
    return run.generator().get_weights() + run.discriminator().get_weights()


def white_finder():
    """A stand-in for blind correction's mask head: it "finds" exactly the pure white pixels
    (logit 100 x - 99.5 on [-1, 1] digits), with the threshold 0.5."""
    import keras

    finder = keras.Sequential([keras.Input((SIZE, SIZE, 1)), keras.layers.Conv2D(1, 1)])
    finder.set_weights([np.full((1, 1, 1, 1), 100.0, np.float32), np.array([-99.5], np.float32)])
    return finder, 0.5


def untrained_inpainter():
    """An untrained generator with the mask channel and compositing, and its configuration."""
    import keras

    from lib.config import VARIANTS
    from lib.models import build_generator

    keras.utils.set_random_seed(0)
    return build_generator(VARIANTS["+ mask channel"]), VARIANTS["+ mask channel"]


class StubJudge:
    """Realism scores without detectors: the fills' mean grey level as the "detector" score."""
    seeds = (0,)

    def frechet(self, digits):
        return float(np.asarray(digits).std())

    def score(self, inpainted, originals):
        return {"detector": float(np.mean(inpainted) > np.mean(originals)), "detector_sd": 0.0,
                "detector_by_seed": {0: 0.5}, "frechet": self.frechet(inpainted)}


def forbid_work(monkeypatch):
    """Loading MNIST, fitting a GAN and loading or training a classifier all fail: a test calls this
    to show that bad arguments are refused before any work starts."""
    from lib import classifiers, data, fitting

    def fail(*args, **kwargs):
        raise AssertionError("work started before the arguments were checked")

    for module, name in ((data, "load_mnist"), (fitting, "fit_gan"), (classifiers, "load_classifier"),
                         (classifiers, "train_classifier"), (classifiers, "corrupted_digit_accuracy")):
        monkeypatch.setattr(module, name, fail)


# Scores recomputed from committed runs agree with their records to within this (float sums on another machine).
DIGIT_TOLERANCE = 5e-4
PROBE_DIGITS = 20  # the probe digits of `finished_runs` (conftest)


def synthetic_test_set(per_class=4, seed=0):
    """Random uint8 "digits" with labels, ``per_class`` of each class, shuffled."""
    rng = np.random.default_rng(seed)
    labels = rng.permutation(np.tile(np.arange(10, dtype=np.uint8), per_class))
    images = rng.integers(0, 256, size=(len(labels), SIZE, SIZE), dtype=np.uint8)
    return images, labels


def recorder(recorders, kind):
    """The one recorder of ``kind`` among a run's ``recorders``."""
    (found,) = [r for r in recorders if isinstance(r, kind)]
    return found


class OneDigitClassifier:
    """Reads every digit as a 1: a collapsed run, as the probe sees it."""

    def predict(self, images, batch_size=None, verbose=0):
        return np.eye(10, dtype=np.float32)[np.ones(len(images), int)]


class CyclingClassifier:
    """Reads the i-th probe digit as i % 10: every digit right, each class a tenth of the probe."""

    def predict(self, images, batch_size=None, verbose=0):
        return np.eye(10, dtype=np.float32)[np.arange(len(images)) % 10]


def place(source, destination):
    """A copy of the run folder ``source`` at ``destination``."""
    import shutil

    shutil.copytree(source, destination)
    return destination

