"""Tests of lib.publish.site: serving the built book locally and the release tag the Colab cells clone."""
import os
import subprocess
import urllib.error
import urllib.request
from pathlib import Path

import pytest
import yaml

from lib.publish import site

REPO = Path(__file__).resolve().parents[2]


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
    (clone / "README.md").write_text("the book, reworded\n")  # not part of a release
    (clone / "tests").mkdir()
    (clone / "tests" / "test_x.py").write_text("def test(): pass\n")
    git(clone, "add", "tests")
    git(clone, "commit", "-q", "-am", "README")
    assert site.release_tag("1.2.3", clone) == "exists"
    (clone / "_config.yml").write_text("title: x\n")  # the site's build changed: a release too
    git(clone, "add", "_config.yml")
    git(clone, "commit", "-q", "-m", "configuration")
    with pytest.raises(site.StaleRelease, match=r"_config\.yml"):
        site.release_tag("1.2.3", clone)
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
    assert "python -m lib.publish.site release-tag" in script
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

    chapters = sorted(path.stem for path in (pathlib.Path(__file__).resolve().parents[2] / "book").glob("*.ipynb"))
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


@built
def test_only_the_demo_page_loads_the_demo_and_no_page_loads_a_cdn():
    """Jupyter Book loads every .js and .css under _static into every page: the demo's files and
    MathJax live elsewhere, so a chapter loads neither ONNX Runtime nor the demo."""
    import re

    pages = {path.name: path.read_text() for path in (site.BUILT / "book").glob("*.html")}
    demo = re.compile(r'<script[^>]*src="[^"]*(ort\.wasm\.min\.js|demo\.js)')
    assert sorted(name for name, page in pages.items() if demo.search(page)) == ["try_it.html"]
    assert len(demo.findall(pages["try_it.html"])) == 2  # ONNX Runtime, then the demo, once each
    assert not [name for name, page in pages.items() if "cdn.jsdelivr.net" in page or "unpkg.com/mathjax" in page]
    assert not [name for name, page in pages.items() if '_static/mathjax/' in page]


@pytest.fixture
def served(tmp_path):
    """A built site with an outside file, and a server on it."""
    site_folder, outside = tmp_path / "site", tmp_path / "outside"
    (site_folder / "sub").mkdir(parents=True)
    outside.mkdir()
    (site_folder / "index.html").write_text("<p>the book</p>")
    (outside / "secret.html").write_text("private")
    (site_folder / "sub" / "index.html").symlink_to(outside / "secret.html")  # a real folder, its index a link out
    (site_folder / "loop").symlink_to(site_folder / "loop")  # resolve() raises RuntimeError before Python 3.13
    (site_folder / "away").symlink_to(outside, target_is_directory=True)
    server = site.start_server(site_folder)
    yield server.server_address[1]
    server.shutdown()


def raw_request(port, request, timeout=10):
    import socket

    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as connection:
        connection.sendall(request)
        answer = b""
        while chunk := connection.recv(65536):
            answer += chunk
    return answer


def test_a_folders_index_that_links_outside_the_site_is_not_served(served):
    for method in ("GET", "HEAD"):
        answer = raw_request(served, f"{method} /sub/ HTTP/1.0\r\n\r\n".encode())
        assert answer.startswith(b"HTTP/1.0 404") and b"private" not in answer, (method, answer[:80])
    assert status_of(served, "/sub/index.html")[0] == 404
    assert raw_request(served, b"GET /sub HTTP/1.0\r\n\r\n").startswith(b"HTTP/1.0 301")  # to /sub/, then 404
    assert raw_request(served, b"GET /away HTTP/1.0\r\n\r\n").startswith(b"HTTP/1.0 404")  # no hint it is a folder
    assert raw_request(served, b"GET /index.html/ HTTP/1.0\r\n\r\n").startswith(b"HTTP/1.0 404")  # a file is no folder


@pytest.mark.parametrize("path", ["/%00", "/index.html%00.png", "/%ed%a0%80", "/sub/%00/", "/loop", "/loop/x"])
def test_malformed_paths_get_an_answer_not_a_traceback(served, path, capsys):
    answer = raw_request(served, f"GET {path} HTTP/1.0\r\n\r\n".encode())
    assert answer.startswith((b"HTTP/1.0 400", b"HTTP/1.0 404")), answer[:80]
    assert "Traceback" not in capsys.readouterr().err


def test_idle_connections_are_closed(served, monkeypatch):
    import socket
    import time

    assert site.QuietHandler.timeout == site.IDLE_SECONDS and 0 < site.IDLE_SECONDS <= 60  # the standard library's: None
    monkeypatch.setattr(site.QuietHandler, "timeout", 0.5)  # the same mechanism, quicker
    with socket.create_connection(("127.0.0.1", served), timeout=10) as idle:
        started = time.monotonic()
        assert idle.recv(1) == b""  # the server hangs up on a connection that says nothing
        assert time.monotonic() - started < 5


def test_a_visitor_who_leaves_mid_answer_prints_no_traceback(tmp_path, capsys):
    import socket
    import struct

    (tmp_path / "index.html").write_text("x")
    (tmp_path / "big.bin").write_bytes(b"\0" * 20_000_000)
    server = site.start_server(tmp_path)
    try:
        for _ in range(3):
            with socket.create_connection(("127.0.0.1", server.server_address[1]), timeout=10) as leaving:
                leaving.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))  # reset on close
                leaving.sendall(b"GET /big.bin HTTP/1.0\r\n\r\n")
                leaving.recv(100)
        assert status_of(server.server_address[1], "/index.html") == (200, b"x")
    finally:
        server.shutdown()
    assert "Traceback" not in capsys.readouterr().err


@pytest.mark.parametrize("port", [70000, -1, 8000.0, "8000", True])
def test_a_port_out_of_range_is_refused(tmp_path, port):
    (tmp_path / "index.html").write_text("x")
    with pytest.raises(ValueError, match=r"port \(0: any free port\) must be an integer in 0..65535"):
        site.start_server(tmp_path, port=port)


def test_a_port_in_use_is_named(tmp_path):
    (tmp_path / "index.html").write_text("x")
    first = site.start_server(tmp_path)
    try:
        with pytest.raises(OSError, match=f"cannot serve on 127.0.0.1 port {first.server_address[1]}"):
            site.start_server(tmp_path, port=first.server_address[1])
    finally:
        first.shutdown()


def test_the_command_line_reports_a_bad_or_busy_port_without_a_traceback(tmp_path, monkeypatch, capsys):
    (tmp_path / "index.html").write_text("x")
    monkeypatch.setattr(site, "BUILT", tmp_path)
    monkeypatch.setattr(site.start_server, "__defaults__", (tmp_path, 0, "127.0.0.1"))
    with pytest.raises(SystemExit) as exit_info:
        site.main(["serve", "--port", "70000"])
    assert exit_info.value.code == 2 and "must be an integer in 0..65535" in capsys.readouterr().err
    first, real = site.start_server(tmp_path), site.start_server

    def must_refuse(*args, **kwargs):  # were a busy port accepted, serve would wait forever: fail instead
        real(*args, **kwargs).shutdown()
        raise AssertionError("a port in use was accepted")

    monkeypatch.setattr(site, "start_server", must_refuse)
    try:
        with pytest.raises(SystemExit):
            site.main(["serve", "--port", str(first.server_address[1])])
        assert "cannot serve on 127.0.0.1" in capsys.readouterr().err
    finally:
        first.shutdown()


def test_the_ipv6_loopback_is_served_where_the_machine_has_it(tmp_path):
    import socket

    if not socket.has_ipv6:
        pytest.skip("no IPv6 on this machine")
    (tmp_path / "index.html").write_text("six")
    try:
        server = site.start_server(tmp_path, host="::1")
    except OSError as error:
        pytest.skip(f"::1 is not configured here: {error}")
    try:
        with urllib.request.urlopen(f"http://[::1]:{server.server_address[1]}/index.html", timeout=10) as response:
            assert response.read() == b"six"
    finally:
        server.shutdown()
