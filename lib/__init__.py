"""Helpers for the book *GAN inpainting, from a paper to a result you can trust*.

Chapters import this package (``import lib``) and call its modules; every piece of logic a
chapter shows lives here, with a test in ``tests/``. Importing ``lib``, `lib.config` or
`lib.analysis` does not start TensorFlow; the modules that need it start it quietly
(`lib.runtime`).
"""
import os

# The book's release. Colab fetches the code and weights of the tag "v<version>" (`lib.colab`).
__version__ = "1.0.0"

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

from lib import config  # noqa: E402
from lib.source import show  # noqa: E402

__all__ = ["config", "show"]
