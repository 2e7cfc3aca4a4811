"""Helpers for the book *GAN inpainting, from a paper to a result you can trust*.

Chapters import this package (``import lib``) and call its modules; every piece of logic a
chapter shows lives here, with a test in ``tests/``. Its floors, from the top: the command line
(`lib.cli`), the studies (`lib.studies`, one module each), publishing (`lib.publish`), using the
models (`lib.inpainting`), measuring, training, the models, and the ground (`lib.config`,
`lib.data`, `lib.holes`...); ``lib/README.md`` draws them and says where new work goes.
Importing ``lib``, `lib.config` or `lib.holes` does not start TensorFlow; the modules that need
it start it quietly (`lib.runtime`).
"""
import os

# The book's release. Colab fetches the code and weights of the tag "v<version>" (`lib.publish.colab`).
__version__ = "1.2.0"

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

from lib import config  # noqa: E402
from lib.publish.source import show  # noqa: E402

__all__ = ["config", "show"]
