"""Execute chapters top to bottom in one fresh kernel each, in full mode, and save them in place
(atomically), as they are committed: `python scripts/execute_chapters.py book/06_beyond.ipynb ...`.

The kernel starts in `book/`, as Jupyter Book and nbval start it, so MNIST_NPZ must be an
absolute path (or unset where Keras can download MNIST)."""
import argparse
import os
import sys
from pathlib import Path

import nbformat
from nbclient import NotebookClient

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from lib import artifacts  # noqa: E402  (the repository's lib, not an installed copy)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("chapters", nargs="+", type=Path)
    parser.add_argument("--timeout", type=int, default=3600, help="seconds per cell (default 3600)")
    args = parser.parse_args(argv)
    npz = os.environ.get("MNIST_NPZ")
    if npz and not os.path.isabs(npz):
        parser.error(f"MNIST_NPZ must be an absolute path (the kernel starts in book/), got {npz!r}")
    missing = [str(path) for path in args.chapters if path.suffix != ".ipynb" or not path.is_file()]
    if missing:
        parser.error(f"not chapters: {missing}")
    os.environ["GAN_BOOK_MODE"] = "full"
    for path in args.chapters:
        notebook = nbformat.read(path, as_version=4)
        NotebookClient(notebook, timeout=args.timeout, kernel_name="python3",
                       resources={"metadata": {"path": str(path.parent)}}).execute()
        with artifacts.atomic_path(path) as temporary:
            nbformat.write(notebook, temporary)
        print(f"{path}: executed in full mode", flush=True)


if __name__ == "__main__":
    main()
