"""The Colab setup cell: the same in every chapter, right in Colab, inert elsewhere."""
import json
import os
import subprocess
import sys
import types
from pathlib import Path

import pytest

from lib.publish import colab

ROOT = Path(__file__).resolve().parents[2]
NOTEBOOKS = sorted((ROOT / "book").glob("*.ipynb"))


def run_cell(source, in_colab, monkeypatch, existing_checkout=False, versions=None):
    calls = []
    installed = dict(colab.EXECUTED_WITH, **(versions or {}))
    monkeypatch.setattr("importlib.metadata.version", lambda name: installed[name] + ".1")
    monkeypatch.setattr(subprocess, "run", lambda command, **kwargs: calls.append((command, kwargs)))
    monkeypatch.setattr("os.path.isdir", lambda path: existing_checkout)
    monkeypatch.setattr("os.chdir", lambda path: calls.append((["chdir", path], {})))
    monkeypatch.setattr(sys, "path", list(sys.path))
    monkeypatch.delenv(colab.REPOSITORY_OVERRIDE, raising=False)
    monkeypatch.delenv(colab.CONTENT_OVERRIDE, raising=False)
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


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_the_setup_cell_is_hidden_in_the_html(path):
    cells = [c for c in json.loads(path.read_text())["cells"] if c["cell_type"] == "code"]
    assert colab.HIDDEN_TAG in cells[0]["metadata"].get("tags", [])


@pytest.mark.skipif(os.environ.get("GAN_BOOK_LANE") == "colab", reason="the Colab lane installs the newest versions on purpose")
def test_the_stated_versions_are_those_that_execute_the_book():
    from importlib.metadata import version

    for name, minor in colab.EXECUTED_WITH.items():
        assert version(name).split(".")[:2] == minor.split("."), name


def test_setup_cell_states_the_versions_in_words():
    minor = colab.EXECUTED_WITH
    assert colab.setup_cell().splitlines()[1] == (f"# The book was executed with TensorFlow {minor['tensorflow']}, "
                                                  f"Keras {minor['keras']} and NumPy {minor['numpy']}.")


def test_setup_cell_warns_in_one_line_when_colab_has_another_minor_version(monkeypatch, capsys):
    run_cell(colab.setup_cell(), in_colab=True, monkeypatch=monkeypatch, versions={"keras": "3.99"})
    printed = capsys.readouterr().out.strip().splitlines()
    assert len(printed) == 1 and printed[0].startswith("Warning:") and "keras 3.99.1 (book: 3.15)" in printed[0]
    assert "tensorflow" not in printed[0]


def test_setup_cell_is_silent_when_only_patch_versions_differ(monkeypatch, capsys):
    run_cell(colab.setup_cell(), in_colab=True, monkeypatch=monkeypatch)
    assert capsys.readouterr().out == ""


def test_setup_cell_does_nothing_outside_colab(monkeypatch):
    assert run_cell(colab.setup_cell(), in_colab=False, monkeypatch=monkeypatch) == []


def test_setup_cell_clones_the_pinned_version_and_installs_without_dependencies(monkeypatch):
    calls = run_cell(colab.setup_cell("v1.2.3"), in_colab=True, monkeypatch=monkeypatch)
    clone, install, chdir = (command for command, _ in calls)
    checkout = f"{colab.CONTENT}/{colab.checkout_name('v1.2.3')}"
    assert checkout == "/content/gan-inpainting-book-v1.2.3"  # another release never reuses this folder
    assert clone == ["git", "clone", "-q", "--depth", "1", "--branch", "v1.2.3", colab.REPOSITORY, checkout]
    assert install[1:] == ["-m", "pip", "install", "-q", "--no-deps", "-e", checkout]
    assert chdir == ["chdir", f"{checkout}/book"]
    assert "os.environ.get" in colab.setup_cell() and colab.REPOSITORY_OVERRIDE in colab.setup_cell()
    assert all(kwargs.get("check") for command, kwargs in calls if command[0] != "chdir")


def test_setup_cell_reuses_an_existing_checkout(monkeypatch):
    calls = run_cell(colab.setup_cell(), in_colab=True, monkeypatch=monkeypatch, existing_checkout=True)
    assert [command[0] for command, _ in calls] == [sys.executable, "chdir"]


def test_book_configuration_points_colab_at_the_same_repository_and_version():
    config = (ROOT / "_config.yml").read_text()
    assert f"url: {colab.REPOSITORY}" in config
    assert f"  branch: {colab.VERSION}\n" in config and 'colab_url: "https://colab.research.google.com"' in config


def test_version_is_stated_once_as_the_package_version():
    import lib

    assert colab.VERSION == f"v{lib.__version__}"
    pyproject = (ROOT / "pyproject.toml").read_text()
    assert 'dynamic = ["version"]' in pyproject and 'version = {attr = "lib.__version__"}' in pyproject
    assert "main" not in colab.VERSION  # a tag, not a moving branch


def test_colab_link_names_the_notebook_at_the_version():
    link = colab.colab_link("03_training.ipynb", "v9.9.9")
    assert link == ("https://colab.research.google.com/github/gan-inpainting-book/gan-inpainting-book"
                    "/blob/v9.9.9/book/03_training.ipynb")


@pytest.mark.parametrize("bad", ["book/03_training.ipynb", "04_training.md", None])
def test_colab_link_rejects_what_is_not_a_notebook_name(bad):
    with pytest.raises(ValueError, match="notebook"):
        colab.colab_link(bad)


def copy_book(tmp_path, count=2):
    book = tmp_path / "book"
    book.mkdir()
    for path in NOTEBOOKS[:count]:
        (book / path.name).write_text(path.read_text())
    return book


def test_write_setup_cells_changes_only_the_first_code_cell(tmp_path):
    book = copy_book(tmp_path)
    before = {path.name: json.loads(path.read_text()) for path in book.glob("*.ipynb")}
    changed = colab.write_setup_cells(book, "v9.9.9")
    assert sorted(path.name for path in changed) == sorted(before)
    for path in book.glob("*.ipynb"):
        after, original = json.loads(path.read_text()), before[path.name]
        code = [i for i, cell in enumerate(after["cells"]) if cell["cell_type"] == "code"]
        assert "".join(after["cells"][code[0]]["source"]) == colab.setup_cell("v9.9.9")
        after["cells"][code[0]]["source"] = original["cells"][code[0]]["source"]
        assert after == original
    assert colab.write_setup_cells(book, "v9.9.9") == []  # already up to date: nothing rewritten


def test_write_setup_cells_keeps_the_committed_format(tmp_path):
    book = copy_book(tmp_path, count=1)
    colab.write_setup_cells(book, colab.VERSION)
    assert [p.read_text() for p in book.glob("*.ipynb")] == [NOTEBOOKS[0].read_text()]


def test_write_setup_cells_inserts_a_setup_cell_before_other_code(tmp_path):
    first = {"cell_type": "code", "execution_count": 1, "id": "a1", "metadata": {}, "outputs": [], "source": ["x = 1"]}
    (tmp_path / "new.ipynb").write_text(json.dumps({"cells": [first]}))
    colab.write_setup_cells(tmp_path, "v1")
    cells = json.loads((tmp_path / "new.ipynb").read_text())["cells"]
    assert "".join(cells[0]["source"]) == colab.setup_cell("v1") and cells[0]["id"] != "a1"
    assert cells[1] == first  # the chapter's own first cell is kept


@pytest.mark.parametrize("version, repository", [("", colab.REPOSITORY), ("v1", ""), ("v 1", colab.REPOSITORY)])
def test_colab_link_rejects_an_unusable_version_or_repository(version, repository):
    with pytest.raises(ValueError, match="version|repository"):
        colab.colab_link("01_data.ipynb", version, repository)


def test_write_setup_cells_rejects_a_notebook_without_code(tmp_path):
    (tmp_path / "empty.ipynb").write_text(json.dumps({"cells": [{"cell_type": "markdown", "source": []}]}))
    with pytest.raises(ValueError, match="no code cell"):
        colab.write_setup_cells(tmp_path, "v1")


def test_write_book_branch_updates_the_repository_branch(tmp_path):
    config = tmp_path / "_config.yml"
    config.write_text((ROOT / "_config.yml").read_text())
    assert colab.write_book_branch(config, "v9.9.9")
    assert "  branch: v9.9.9\n" in config.read_text()
    assert not colab.write_book_branch(config, "v9.9.9")


@pytest.mark.parametrize("text", ["title: x\n", "repository:\n  branch: a\nother:\n  branch: b\n"])
def test_write_book_branch_needs_exactly_one_branch_line(tmp_path, text):
    config = tmp_path / "_config.yml"
    config.write_text(text)
    with pytest.raises(ValueError, match="exactly one"):
        colab.write_book_branch(config, "v1")
    assert config.read_text() == text


@pytest.mark.parametrize("bad", ["", "main branch", 'x"y', None])
def test_setup_cell_rejects_unsafe_versions(bad):
    with pytest.raises(ValueError, match="version"):
        colab.setup_cell(bad)


def test_setup_cell_clone_fetches_the_tagged_release(tmp_path, monkeypatch):
    """The cell's git command, run for real against a local repository with a release tag."""
    origin = tmp_path / "origin"
    origin.mkdir()
    git = ["git", "-c", "user.name=t", "-c", "user.email=t@t", "-C", str(origin)]
    (origin / "marker.txt").write_text("release\n")
    for command in (["init", "-q"], ["add", "marker.txt"], ["commit", "-qm", "r"], ["tag", "v9.9.9"]):
        subprocess.run(git + command, check=True)
    (origin / "marker.txt").write_text("after the release\n")
    subprocess.run(git + ["commit", "-qam", "later"], check=True)
    content = tmp_path / "content"
    checkout = content / colab.checkout_name("v9.9.9")
    real_run, installs = subprocess.run, []

    def run_git_only(command, **kwargs):
        if command[0] == "git":
            return real_run(command, **kwargs)
        installs.append(command)

    monkeypatch.setattr(subprocess, "run", run_git_only)
    monkeypatch.setattr("os.chdir", lambda path: None)
    monkeypatch.setattr(sys, "path", list(sys.path))
    monkeypatch.setitem(sys.modules, "google.colab", types.ModuleType("google.colab"))
    monkeypatch.setenv(colab.REPOSITORY_OVERRIDE, origin.as_uri())
    monkeypatch.setenv(colab.CONTENT_OVERRIDE, str(content))
    exec(compile(colab.setup_cell("v9.9.9"), "<setup cell>", "exec"), {})
    assert (checkout / "marker.txt").read_text() == "release\n"  # the tag, not the newer commit
    assert len(installs) == 1 and installs[0][-1] == str(checkout)


# Modules whose distribution has another name than the module.
DISTRIBUTIONS = {"cv2": "opencv-python-headless", "PIL": "pillow", "yaml": "pyyaml", "sklearn": "scikit-learn",
                 "IPython": "ipython"}


def colab_packages():
    lines = (ROOT / ".ci" / "colab-packages.txt").read_text().splitlines()
    return {line.split("#")[0].strip() for line in lines if line.split("#")[0].strip()}


def imported_modules(source):
    import ast

    tree = ast.parse("\n".join(line for line in source.splitlines() if not line.lstrip().startswith(("%", "!"))))
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            yield from (alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0:
            yield node.module.split(".")[0]


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_chapters_import_only_what_colab_ships_and_lib(path):
    """The static half of the Colab lane (.ci/colab), which runs every chapter with only these."""
    shipped = colab_packages()
    missing = set()
    for cell in json.loads(path.read_text())["cells"]:
        if cell["cell_type"] == "code":
            for module in imported_modules("".join(cell["source"])):
                if module not in sys.stdlib_module_names and module not in ("lib", "google") \
                        and DISTRIBUTIONS.get(module, module) not in shipped:
                    missing.add(module)
    assert not missing, f"{path.name} imports {sorted(missing)}, which Colab does not ship"


def test_every_setup_cell_and_launch_link_names_the_package_version():
    import re

    import lib

    for path in NOTEBOOKS:
        cells = [c for c in json.loads(path.read_text())["cells"] if c["cell_type"] == "code"]
        named = set(re.findall(r"v\d+\.\d+\.\d+", "".join(cells[0]["source"])))
        assert named == {f"v{lib.__version__}"}, path.name
    branch = re.search(r"^  branch: (\S+)$", (ROOT / "_config.yml").read_text(), re.MULTILINE)[1]
    assert branch == f"v{lib.__version__}"
    assert colab.colab_link("01_data.ipynb").split("/blob/")[1].startswith(f"v{lib.__version__}/")
