"""Helpers for the book *GAN inpainting, from a paper to a result you can trust*.

Chapters import this package (``import lib``) and call its modules; every piece of logic a
chapter shows lives here, with a test in ``tests/``.
"""
import os

# TensorFlow's C++ start-up lines would otherwise land in notebooks as stderr outputs.
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

from lib import config  # noqa: E402  (the environment must be set before TensorFlow loads)

__all__ = ["config"]
