"""The Colab setup cell: the same in every chapter, right in Colab, inert elsewhere."""
import json
import subprocess
import sys
import types
from pathlib import Path

import pytest

from lib import colab

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOKS = sorted((ROOT / "book").glob("*.ipynb"))


def run_cell(source, in_colab, monkeypatch, existing_checkout=False):
    calls = []
    monkeypatch.setattr(subprocess, "run", lambda command, **kwargs: calls.append((command, kwargs)))
    monkeypatch.setattr("os.path.isdir", lambda path: existing_checkout)
    monkeypatch.setattr("os.chdir", lambda path: calls.append((["chdir", path], {})))
    monkeypatch.setattr(sys, "path", list(sys.path))
    if in_colab:
        monkeypatch.setitem(sys.modules, "google.colab", types.ModuleType("google.colab"))
    else:
        monkeypatch.delitem(sys.modules, "google.colab", raising=False)
    exec(compile(source, "<setup cell>", "exec"), {})
    return calls


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_every_chapter_starts_with_the_setup_cell(path):
    cells = [c for c in json.loads(path.read_text())["cells"] if c["cell_type"] == "code"]
    assert "".join(cells[0]["source"]) == colab.setup_cell()


def test_setup_cell_does_nothing_outside_colab(monkeypatch):
    assert run_cell(colab.setup_cell(), in_colab=False, monkeypatch=monkeypatch) == []


def test_setup_cell_clones_the_pinned_version_and_installs_without_dependencies(monkeypatch):
    calls = run_cell(colab.setup_cell("v1.2.3"), in_colab=True, monkeypatch=monkeypatch)
    clone, install, chdir = (command for command, _ in calls)
    assert clone == ["git", "clone", "-q", "--depth", "1", "--branch", "v1.2.3", colab.REPOSITORY, colab.CHECKOUT]
    assert install[1:] == ["-m", "pip", "install", "-q", "--no-deps", "-e", colab.CHECKOUT]
    assert chdir == ["chdir", f"{colab.CHECKOUT}/book"]
    assert all(kwargs.get("check") for command, kwargs in calls if command[0] != "chdir")


def test_setup_cell_reuses_an_existing_checkout(monkeypatch):
    calls = run_cell(colab.setup_cell(), in_colab=True, monkeypatch=monkeypatch, existing_checkout=True)
    assert [command[0] for command, _ in calls] == [sys.executable, "chdir"]


def test_book_configuration_points_colab_at_the_same_repository():
    config = (ROOT / "_config.yml").read_text()
    assert f"url: {colab.REPOSITORY}" in config
    assert "branch: main" in config and 'colab_url: "https://colab.research.google.com"' in config


@pytest.mark.parametrize("bad", ["", "main branch", 'x"y', None])
def test_setup_cell_rejects_unsafe_versions(bad):
    with pytest.raises(ValueError, match="version"):
        colab.setup_cell(bad)
