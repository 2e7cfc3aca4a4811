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
