"""The datasets the book inpaints, by name, each read the same way: the ``.npz`` an environment
variable names (Keras' layout: uint8 ``x_train``, ``y_train``, ``x_test``, ``y_test``; no pickles),
else Keras' own download. MNIST is the paper's and the default; every other dataset's runs and
records live under a folder of its name (`root`). A reader's own 28x28 grayscale images enter
through `own_images`.
"""
from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass

import numpy as np

from lib import npz

KEYS = ("x_train", "y_train", "x_test", "y_test")
SIZE = 28


@dataclass(frozen=True)
class Dataset:
    """A dataset of 28x28 uint8 images in ten classes, 60,000 for training and 10,000 for testing."""

    name: str
    title: str  # as the text names it
    variable: str  # the environment variable naming its .npz
    classes: tuple  # the ten class names, by label
    sha256: dict  # of each array's bytes (../shared/data/README.md): the real dataset, verified
    shapes: tuple = ((60000, SIZE, SIZE), (60000,), (10000, SIZE, SIZE), (10000,))


DATASETS = {
    "mnist": Dataset("mnist", "MNIST", "MNIST_NPZ", tuple(str(digit) for digit in range(10)), {
        "x_train": "741c988805d008ac6e4c904b69001ba184c24b2c540a4ef403f4c71b676cf757",
        "y_train": "1feba77c54802fa5339a11837ea4b2866434b83314ec45192930f1df69120c13",
        "x_test": "6d87418db22cc8025d05968bec9bd5c3932904b23485740db143a061a2c9d161",
        "y_test": "ddeff807876a9661a1110d45c266c86239a3a1b7d37da0c3716a7a683c852ff5"}),
    "fashion_mnist": Dataset("fashion_mnist", "Fashion-MNIST", "FASHION_MNIST_NPZ", (
        "T-shirt/top", "trouser", "pullover", "dress", "coat", "sandal", "shirt", "sneaker", "bag", "ankle boot"), {
        "x_train": "2e487a6c89124f78f2d7521542223cafe96f7123c3ca13d447772ac6ecbb3012",
        "y_train": "657fbd221bfc9f4198cc14b5619cc33ec57c58dd0e47af4d99d6650759e869a7",
        "x_test": "c867c93ff95360594e8ec3287995350b824dd110b11595c0e13d5423f621867a",
        "y_test": "3d0e6c6ea990b53b6f8f500a41cac93881d981b315f84578b7d915342ade01e9"}),
}
DEFAULT = "mnist"


def named(name=DEFAULT) -> Dataset:
    if name not in DATASETS:
        raise ValueError(f"dataset must be one of {list(DATASETS)}, got {name!r}")
    return DATASETS[name]


def root(name=DEFAULT) -> tuple:
    """The run-folder root of a dataset's runs and records: the artifacts themselves for MNIST
    (every committed number is MNIST's), a folder of its name for any other."""
    return () if named(name).name == DEFAULT else (name,)


def in_root(run_root):
    """The dataset whose runs a run-folder root holds: the one whose folder it names, else MNIST."""
    named_here = [part for part in run_root if part in DATASETS and part != DEFAULT]
    if len(named_here) > 1:
        raise ValueError(f"a run-folder root names one dataset at most, got {run_root!r}")
    return named_here[0] if named_here else DEFAULT


def _sha256(array):
    return hashlib.sha256(np.ascontiguousarray(array).tobytes()).hexdigest()


def load(name=DEFAULT, path=None, verify=True):
    """Dataset ``name`` as ``(x_train, y_train), (x_test, y_test)`` uint8 arrays.

    Reads the ``.npz`` at ``path`` or at the dataset's environment variable (``MNIST_NPZ``,
    ``FASHION_MNIST_NPZ``); without either, Keras downloads it. With ``verify`` the arrays must be
    the real dataset (shapes and sha256 hashes); ``verify=False`` loads a file of your own with the
    same layout."""
    dataset = named(name)
    title = dataset.title
    shapes = dict(zip(KEYS, dataset.shapes))
    if path is None and os.environ.get(dataset.variable) == "":
        raise ValueError(f"{dataset.variable} is set but empty: name the {name}.npz file, or unset it to download "
                         f"{name}")
    path = path if path is not None else os.environ.get(dataset.variable)
    if path:
        def header_check(key):  # before decompressing: a small file may claim a huge array
            def check(dtype, shape):
                if dtype != np.uint8:
                    return f"{title} {key} must be uint8, got {dtype}"
                if verify and tuple(shape) != shapes[key]:
                    return f"{title} {key} has shape {tuple(shape)}, expected {shapes[key]} (verify=False: your own)"
            return check

        arrays = npz.read_npz(path, {key: header_check(key) for key in KEYS}, what=f"{title} ({dataset.variable})")
    else:
        from lib.runtime import keras

        (x_train, y_train), (x_test, y_test) = getattr(keras.datasets, name).load_data()  # downloads
        arrays = dict(x_train=x_train, y_train=y_train, x_test=x_test, y_test=y_test)

    for key, array in arrays.items():
        if array.dtype != np.uint8:
            raise ValueError(f"{title} {key} must be uint8, got {array.dtype}")
    for images, labels in (("x_train", "y_train"), ("x_test", "y_test")):
        x, y = arrays[images], arrays[labels]
        if x.ndim != 3 or y.ndim != 1 or len(x) != len(y):
            raise ValueError(f"{title} {images}/{labels} must be (N, H, W) and (N,), got {x.shape} and {y.shape}")
        if y.size and y.max() > 9:
            raise ValueError(f"{title} {labels} must be classes 0..9, got a maximum of {y.max()}")
    if verify:
        for key, array in arrays.items():
            if array.shape != shapes[key]:
                raise ValueError(f"{title} {key} has shape {array.shape}, expected {shapes[key]} "
                                 "(pass verify=False to load a file of your own)")
            if _sha256(array) != dataset.sha256[key]:
                raise ValueError(f"{title} {key} has the right shape but the wrong content (sha256 mismatch): "
                                 f"the file is corrupted or not {title}")
    return (arrays["x_train"], arrays["y_train"]), (arrays["x_test"], arrays["y_test"])


def own_images(images, labels=None):
    """A reader's own images as the book trains on them: ``(N, 28, 28)`` uint8 grayscale (a
    trailing channel axis of 1 is dropped), with ``labels`` (integers 0..9, one per image) if
    given. Returns ``(images, labels)``; every check is made here, before any work."""
    images = np.asarray(images)
    if images.ndim == 4 and images.shape[-1] == 1:
        images = images[..., 0]
    if images.ndim != 3 or images.shape[1:] != (SIZE, SIZE):
        raise ValueError(f"images must have shape (N, 28, 28) or (N, 28, 28, 1), got {images.shape}")
    if images.dtype != np.uint8:
        raise ValueError(f"images must be uint8 grayscale in [0, 255] (convert floats with np.uint8(np.clip(x * 255, "
                         f"0, 255)) from [0, 1]), got dtype {images.dtype}")
    if not len(images):
        raise ValueError("images must hold at least one image")
    if labels is None:
        return images, None
    labels = np.asarray(labels)
    if labels.shape != (len(images),) or not np.issubdtype(labels.dtype, np.integer) or labels.min() < 0 \
            or labels.max() > 9:
        raise ValueError(f"labels must be {len(images)} integers in 0..9, one per image, got shape {labels.shape}, "
                         f"dtype {labels.dtype}")
    return images, labels
