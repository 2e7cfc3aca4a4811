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
