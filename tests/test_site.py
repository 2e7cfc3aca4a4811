"""Tests of lib.site: serving the built book locally and the release tag the Colab cells clone."""
import os
import subprocess
import urllib.error
import urllib.request
from pathlib import Path

import pytest
import yaml

from lib import site

REPO = Path(__file__).resolve().parent.parent


def git(folder, *arguments):
    return subprocess.run(["git", "-C", str(folder), *arguments], capture_output=True, text=True, check=True).stdout


@pytest.fixture
def repository(tmp_path):
    remote, clone = tmp_path / "remote.git", tmp_path / "clone"
    subprocess.run(["git", "init", "-q", "--bare", str(remote)], check=True)
    subprocess.run(["git", "clone", "-q", str(remote), str(clone)], check=True, capture_output=True)
    git(clone, "config", "user.email", "book@example.org")
    git(clone, "config", "user.name", "The book")
    (clone / "README.md").write_text("the book\n")
    git(clone, "add", "README.md")
    git(clone, "commit", "-q", "-m", "first")
    return clone, remote


def test_release_tag_creates_and_pushes_a_missing_tag_once(repository):
    clone, remote = repository
    assert site.release_tag("1.2.3", clone) == "created"
    assert git(remote, "tag", "--list").split() == ["v1.2.3"]
    assert git(remote, "rev-parse", "v1.2.3^{commit}") == git(clone, "rev-parse", "HEAD")
    assert git(clone, "cat-file", "-t", "v1.2.3").strip() == "tag"  # annotated
    assert site.release_tag("1.2.3", clone) == "exists"
    assert git(remote, "tag", "--list").split() == ["v1.2.3"]


def test_release_tag_refuses_an_existing_tag_whose_released_files_changed(repository):
    clone, remote = repository
    (clone / "book").mkdir()
    (clone / "book" / "01_data.ipynb").write_text("{}")
    git(clone, "add", "book")
    git(clone, "commit", "-q", "-m", "a chapter")
    assert site.release_tag("1.2.3", clone) == "created"
    (clone / "README.md").write_text("the book, reworded\n")  # not what a reader clones to run
    git(clone, "commit", "-q", "-am", "README")
    assert site.release_tag("1.2.3", clone) == "exists"
    (clone / "book" / "01_data.ipynb").write_text('{"cells": []}')
    git(clone, "commit", "-q", "-am", "the chapter changed")
    with pytest.raises(site.StaleRelease, match=r"v1\.2\.3 exists .*book/01_data\.ipynb.*bump __version__"):
        site.release_tag("1.2.3", clone)
    assert git(remote, "rev-parse", "v1.2.3^{commit}") != git(clone, "rev-parse", "HEAD")  # the tag did not move
    assert site.release_tag("1.2.4", clone) == "created"


def test_every_release_has_a_changelog_entry():
    import lib

    assert f"\n## {lib.__version__}\n" in (REPO / "CHANGELOG.md").read_text()


@pytest.mark.parametrize("version", ["", "v1.2", "1.x", None])
def test_release_tag_rejects_a_version_that_is_not_one(repository, version):
    with pytest.raises(ValueError, match="version must look like 1.2.3"):
        site.release_tag(version, repository[0])


def test_the_server_serves_a_built_folder_on_loopback_with_wasm_types(tmp_path):
    (tmp_path / "index.html").write_text("<p>the book</p>")
    (tmp_path / "ort.wasm").write_bytes(b"\0asm")
    server = site.start_server(tmp_path)
    try:
        host, port = server.server_address[:2]
        assert host == "127.0.0.1"
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/index.html", timeout=10) as response:
            assert response.read() == b"<p>the book</p>"
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/ort.wasm", timeout=10) as response:
            assert response.headers["Content-Type"] == "application/wasm"
    finally:
        server.shutdown()


def status_of(port, path):
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=10) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as error:
        return error.code, b""


def test_the_server_lists_no_folder_and_follows_no_link_out_of_the_site(tmp_path):
    site_folder, outside = tmp_path / "site", tmp_path / "outside"
    (site_folder / "book" / "empty").mkdir(parents=True)
    outside.mkdir()
    (site_folder / "index.html").write_text("<p>the book</p>")
    (site_folder / "book" / "index.html").write_text("<p>a chapter</p>")
    (outside / "secret.txt").write_text("private")
    (site_folder / "leak.txt").symlink_to(outside / "secret.txt")
    (site_folder / "leak").symlink_to(outside, target_is_directory=True)
    (site_folder / "alias.html").symlink_to(site_folder / "index.html")  # a link that stays inside is served
    server = site.start_server(site_folder)
    try:
        port = server.server_address[1]
        assert status_of(port, "/book/") == (200, b"<p>a chapter</p>")  # a folder's index.html, as Pages does
        assert status_of(port, "/alias.html") == (200, b"<p>the book</p>")
        for path in ("/book/empty/", "/leak.txt", "/leak/secret.txt", "/leak/", "/../outside/secret.txt",
                     "/%2e%2e/outside/secret.txt"):
            code, body = status_of(port, path)
            assert code == 404 and b"private" not in body, path
    finally:
        server.shutdown()


def test_the_server_refuses_an_unbuilt_folder_and_other_hosts(tmp_path):
    with pytest.raises(ValueError, match="no built book"):
        site.start_server(tmp_path)
    (tmp_path / "index.html").write_text("x")
    with pytest.raises(ValueError, match="on this machine only"):
        site.start_server(tmp_path, host="0.0.0.0")


def test_the_publishing_workflow_is_a_thin_call_of_the_tested_scripts():
    workflow = yaml.safe_load((REPO / ".github" / "workflows" / "publish.yml").read_text())
    steps = [step.get("run", "") for step in workflow["jobs"]["build"]["steps"]]
    script = "\n".join(steps)
    assert "python -m lib.site release-tag" in script
    assert "bash scripts/build_book.sh" in script
    assert "pip install -r requirements.txt" in script
    assert any(step.get("uses", "").startswith("actions/upload-pages-artifact") and step["with"]["path"] == "_build/html"
               for step in workflow["jobs"]["build"]["steps"])
    # CI builds with the same script, through the README's set-up command (tests/test_layout.py)
    assert "bash scripts/build_book.sh" in (REPO / "README.md").read_text().split("<!-- ci: set-up -->")[1].split("```")[1]


BUILT_CHAPTERS = sorted([*(site.BUILT / "book").glob("[0-9][0-9]_*.html"), *(site.BUILT / "book").glob("appendix_*.html")])
built = pytest.mark.skipif(not BUILT_CHAPTERS and not os.environ.get("CI"), reason="the book is not built here")


@built
def test_the_built_book_has_every_chapter():
    import pathlib

    chapters = sorted(path.stem for path in (pathlib.Path(__file__).resolve().parent.parent / "book").glob("*.ipynb"))
    assert [path.stem for path in BUILT_CHAPTERS] == chapters


@built
@pytest.mark.parametrize("name", ["NBVAL", "google.colab", "run mode: "])
def test_the_built_pages_show_the_book_not_its_tooling(name):
    showing = [path.name for path in BUILT_CHAPTERS if name in path.read_text()]
    assert showing == [], f"{name!r} is visible in {showing}"


@built
def test_the_built_pages_have_the_figures_a_reader_expects():
    pages = {path.stem: path.read_text() for path in BUILT_CHAPTERS}
    assert "fig-generator-diagram" in pages["02_networks"] and "fig-discriminator-diagram" in pages["02_networks"]
    assert "fig-gan-data-flow" in pages["03_training"]
    assert "animation" in pages["05_collapse"].lower() and "fig-score-histograms" in pages["05_collapse"]
    assert "losses over its 40 epochs" in pages["06_beyond"]  # the loss figure's caption
    assert "fig-recommended-epochs" in pages["06_beyond"]
