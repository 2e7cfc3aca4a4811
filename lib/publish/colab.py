"""The first code cell of every chapter, which makes the notebook run in Google Colab.

The cell cannot import `lib` (in Colab, `lib` is what it installs), so every chapter carries a
copy of the text built here; `tests/publish/test_colab.py` checks that the copies match this template
and that the cell does the right thing in Colab and nothing anywhere else.

The version Colab fetches is stated once, as ``lib.__version__``: the release tag is
``v<version>``. A release bumps it, runs ``python -m lib.publish.colab`` (which rewrites the setup cell
of every chapter and the branch the book's Colab links open) and tags the commit.
"""
from __future__ import annotations

import json
import re
import uuid
from pathlib import Path

from lib import __version__
from lib.artifacts import atomic_path

REPOSITORY = "https://github.com/gan-inpainting-book/gan-inpainting-book"
# The tag Colab fetches: the code and weights that go with the notebooks of this release.
VERSION = f"v{__version__}"
CONTENT = "/content"  # Colab's working folder


def checkout_name(version: str = VERSION) -> str:
    """The folder Colab keeps the book's code in, under /content: one per version, so a runtime
    that fetched another release never reuses it."""
    return f"gan-inpainting-book-{version}"

# The versions every committed chapter was executed with (minor versions: a patch release does
# not change the outputs). Colab upgrades its packages under its users; the setup cell warns when
# they differ. `tests/publish/test_colab.py` checks these against the environment that executes the book.
EXECUTED_WITH = {"tensorflow": "2.21", "keras": "3.15", "numpy": "2.4"}
HIDDEN_TAG = "remove-cell"  # Jupyter Book leaves the cell out of the HTML; Colab still runs it
SETUP_MARKER = "# Colab only:"
ROOT = Path(__file__).resolve().parents[2]

# What the book's own CI sets to run the Colab branch for real (`.ci/colab`): a local mirror
# in place of GitHub and a scratch folder in place of /content. Colab sets neither.
REPOSITORY_OVERRIDE = "GAN_BOOK_REPOSITORY"
CONTENT_OVERRIDE = "GAN_BOOK_CONTENT"

SETUP_CELL = '''# Colab only: fetch this book's code ({version}) and install `lib`; elsewhere this cell does nothing.
# The book was executed with {executed_words}.
import sys
if "google.colab" in sys.modules:
    import os, subprocess
    # The book's CI points these two at a local mirror and a scratch folder; Colab leaves them unset.
    repository = os.environ.get("{repository_override}", "{repository}")
    checkout = os.environ.get("{content_override}", "{content}") + "/{folder}"
    if not os.path.isdir(checkout):
        subprocess.run(["git", "clone", "-q", "--depth", "1", "--branch", "{version}", repository, checkout], check=True)
    # --no-deps keeps Colab's own TensorFlow, Keras, NumPy and OpenCV.
    subprocess.run([sys.executable, "-m", "pip", "install", "-q", "--no-deps", "-e", checkout], check=True)
    sys.path.insert(0, checkout)
    os.chdir(checkout + "/book")
    from importlib.metadata import version
    drift = [f"{{name}} {{version(name)}} (book: {{minor}})" for name, minor in {executed!r}.items()
             if version(name).split(".")[:2] != minor.split(".")[:2]]
    if drift:
        print("Warning: this Colab has other versions than the book was executed with:", ", ".join(drift),
              "- outputs may differ from the book's, and an error may come from the difference.")'''

# `repository: branch:` in _config.yml: the ref the book's launch buttons open notebooks at.
BRANCH_LINE = re.compile(r"^(  branch: ).*$", re.MULTILINE)


def setup_cell(version: str = VERSION, repository: str = REPOSITORY) -> str:
    """The source of the setup cell for ``version`` of the book, cloned from ``repository``."""
    for name, value in (("version", version), ("repository", repository)):
        if not isinstance(value, str) or not value or any(c in value for c in "\"'\n "):
            raise ValueError(f"{name} must be a non-empty string without quotes, spaces or newlines, got {value!r}")
    names = {"tensorflow": "TensorFlow", "keras": "Keras", "numpy": "NumPy"}
    words = [f"{names.get(name, name)} {minor}" for name, minor in EXECUTED_WITH.items()]
    return SETUP_CELL.format(version=version, repository=repository, folder=checkout_name(version), content=CONTENT,
                             repository_override=REPOSITORY_OVERRIDE, content_override=CONTENT_OVERRIDE,
                             executed=EXECUTED_WITH,
                             executed_words=", ".join(words[:-1]) + " and " + words[-1])


def colab_link(notebook: str, version: str = VERSION, repository: str = REPOSITORY) -> str:
    """The Colab address of a chapter notebook (e.g. ``"01_data.ipynb"``) at ``version``."""
    if not isinstance(notebook, str) or not notebook.endswith(".ipynb") or "/" in notebook:
        raise ValueError(f"notebook must be a file name ending in .ipynb, got {notebook!r}")
    setup_cell(version, repository)  # validates both
    github = repository.replace("https://github.com/", "https://colab.research.google.com/github/")
    return f"{github}/blob/{version}/book/{notebook}"


def write_setup_cells(book: Path = ROOT / "book", version: str = VERSION) -> list[Path]:
    """Make the first code cell of every chapter the setup cell for ``version``, hidden in the
    HTML (`HIDDEN_TAG`); returns the notebooks that changed. A first code cell that is not a setup cell is kept, and a new setup
    cell goes before it (re-execute that chapter then). Each notebook is rewritten atomically;
    outputs and counts are untouched (the cell has no output outside Colab)."""
    source = setup_cell(version)
    changed = []
    for path in sorted(Path(book).glob("*.ipynb")):
        notebook = json.loads(path.read_text())
        code = [cell for cell in notebook["cells"] if cell["cell_type"] == "code"]
        if not code:
            raise ValueError(f"{path} has no code cell to hold the Colab setup")
        if "".join(code[0]["source"]) == source and HIDDEN_TAG in code[0]["metadata"].get("tags", []):
            continue
        if "".join(code[0]["source"]).startswith(SETUP_MARKER):
            code[0]["source"] = source.splitlines(keepends=True)
            tags = code[0]["metadata"].setdefault("tags", [])
            if HIDDEN_TAG not in tags:
                tags.append(HIDDEN_TAG)
        else:
            cell = {"cell_type": "code", "execution_count": None, "id": uuid.uuid4().hex[:8],
                    "metadata": {"tags": [HIDDEN_TAG]}, "outputs": [], "source": source.splitlines(keepends=True)}
            notebook["cells"].insert(notebook["cells"].index(code[0]), cell)
        with atomic_path(path) as temporary:
            temporary.write_text(json.dumps(notebook, indent=1, sort_keys=True, ensure_ascii=False) + "\n")
        changed.append(path)
    return changed


def write_book_branch(config: Path = ROOT / "_config.yml", version: str = VERSION) -> bool:
    """Point the book's Colab links at ``version``; returns whether ``_config.yml`` changed."""
    setup_cell(version)  # validates it
    text = Path(config).read_text()
    if len(BRANCH_LINE.findall(text)) != 1:
        raise ValueError(f"{config} must have exactly one 'repository: branch:' line")
    updated = BRANCH_LINE.sub(lambda match: match.group(1) + version, text)
    if updated != text:
        with atomic_path(config) as temporary:
            temporary.write_text(updated)
    return updated != text


if __name__ == "__main__":
    for changed in write_setup_cells():
        print("setup cell updated:", changed.name)
    if write_book_branch():
        print("_config.yml: Colab links now open", VERSION)
    print("Colab fetches", VERSION, "- tag the release commit with it")
