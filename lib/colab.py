"""The first code cell of every chapter, which makes the notebook run in Google Colab.

The cell cannot import `lib` (in Colab, `lib` is what it installs), so every chapter carries a
copy of the text built here; `tests/test_colab.py` checks that the copies match this template
and that the cell does the right thing in Colab and nothing anywhere else.
"""
from __future__ import annotations

REPOSITORY = "https://github.com/gan-inpainting-book/gan-inpainting-book"
# The branch, tag or commit that Colab fetches: the code and weights that go with the notebooks.
VERSION = "main"
CHECKOUT = "/content/gan-inpainting-book"

SETUP_CELL = '''# Colab only: fetch this book's code ({version}) and install `lib`; elsewhere this cell does nothing.
import sys
if "google.colab" in sys.modules:
    import os, subprocess
    if not os.path.isdir("{checkout}"):
        subprocess.run(["git", "clone", "-q", "--depth", "1", "--branch", "{version}", "{repository}", "{checkout}"], check=True)
    # --no-deps keeps Colab's own TensorFlow, Keras, NumPy and OpenCV.
    subprocess.run([sys.executable, "-m", "pip", "install", "-q", "--no-deps", "-e", "{checkout}"], check=True)
    sys.path.insert(0, "{checkout}")
    os.chdir("{checkout}/book")'''


def setup_cell(version: str = VERSION, repository: str = REPOSITORY, checkout: str = CHECKOUT) -> str:
    """The source of the setup cell for ``version`` of the book."""
    for name, value in (("version", version), ("repository", repository), ("checkout", checkout)):
        if not isinstance(value, str) or not value or any(c in value for c in "\"'\n "):
            raise ValueError(f"{name} must be a non-empty string without quotes, spaces or newlines, got {value!r}")
    return SETUP_CELL.format(version=version, repository=repository, checkout=checkout)
