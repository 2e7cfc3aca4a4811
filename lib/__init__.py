"""Helpers for the book *GAN inpainting, from a paper to a result you can trust*.

Chapters import this package (``import lib``) and call its modules; every piece of logic a
chapter shows lives here, with a test in ``tests/``.
"""
import os

# The book's release. Colab fetches the code and weights of the tag "v<version>" (`lib.colab`).
__version__ = "0.4.0"

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")


def _start_tensorflow_quietly():
    """Import TensorFlow and start its runtime with the C-level stderr silenced.

    TensorFlow 2.2x prints start-up lines (oneDNN, CUDA stubs) through absl before its logging is
    initialised, ignoring TF_CPP_MIN_LOG_LEVEL. In a notebook they become stderr outputs that
    differ on every run and break nbval. Python exceptions are unaffected."""
    saved, devnull = os.dup(2), os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, 2)
    try:
        import keras  # noqa: F401
        import tensorflow as tf

        tf.constant(1) + 1
        list(tf.data.Dataset.range(1))
    finally:
        os.dup2(saved, 2)
        os.close(saved)
        os.close(devnull)


_start_tensorflow_quietly()

from lib import config  # noqa: E402

__all__ = ["config"]
