"""The shipped models by name, in one list and one registry.

``artifacts/studies/shipped.json`` maps each name to its run folder; the command that ships a
model registers it there (`register`), and everything that loads a model by name
(`lib.inpainting.load_inpainter`, `lib.mask_head.load_mask_head`, the demo's export) finds it
here (`folder`).
"""
from __future__ import annotations

from pathlib import Path

from lib import artifacts, runs

INPAINTERS = ("paper", "book")  # offered to readers: the paper's GAN and the book's own model
EARLIER = ("recommended", "realistic")  # chapters 6 and 7's models, still loadable by their chapters' names
ALL_INPAINTERS = (*INPAINTERS, *EARLIER)
DEFAULT_INPAINTER = "book"
MASK_HEAD = "mask head"  # chapter 8's blind correction
NAMES = (*INPAINTERS, *EARLIER, MASK_HEAD)


def check_name(name, names=NAMES):
    if name not in names:
        raise ValueError(f"name must be one of {names}, got {name!r}")
    return name


def registry(root=()) -> Path:
    return runs.path(*root, "studies", "shipped.json")


def folder(name, root=()) -> Path:
    """The run folder of the shipped model ``name``."""
    check_name(name)
    path = registry(root)
    return runs.path(*root, *artifacts.load_fields(path, **{name: _relative_folder})[0].split("/"))


def register(name, run_folder, root=()):
    """Ship the model in ``run_folder`` (under ``root``) as ``name``."""
    check_name(name)
    base = runs.path(*root) if root else runs.root()
    relative = Path(run_folder).resolve().relative_to(base.resolve()).as_posix()
    path = registry(root)
    models = artifacts.load_json(path) if path.is_file() else {}
    artifacts.save_record(path, {**models, name: relative})


def _relative_folder(value, name):
    if not isinstance(value, str) or not value or value.startswith("/") or ".." in value.split("/"):
        raise ValueError(f"{name} must name a folder inside the artifacts, got {value!r}")
    return value
