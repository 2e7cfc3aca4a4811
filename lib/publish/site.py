"""Publishing the book: serve the built pages on this machine the way GitHub Pages serves them,
and make sure the release tag that every chapter's Colab cell clones exists.

    python -m lib.publish.site serve [--port 8000]     # _build/html on http://127.0.0.1:8000/
    python -m lib.publish.site release-tag             # create and push v<lib.__version__> if it is missing;
                                               # refuse if it exists with other contents

`.github/workflows/publish.yml` calls these and `scripts/build_book.sh`, nothing else.
"""
from __future__ import annotations

import argparse
import functools
import os
import socket
import subprocess
import sys
import threading
import urllib.parse
from http import HTTPStatus
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from lib import __version__, checks

REPO_ROOT = Path(__file__).resolve().parents[2]
BUILT = REPO_ROOT / "_build" / "html"
IDLE_SECONDS = 15  # a connection that sends nothing for this long is closed, and its thread ends


class QuietHandler(SimpleHTTPRequestHandler):
    """The standard library's file server, narrowed to what GitHub Pages does: no directory
    listings, a folder's own ``index.html`` for its address, and nothing outside the site, however
    a symlink inside it points (the folder's index included). Malformed paths (a null byte, a lone
    surrogate) get 400, idle connections are closed after `IDLE_SECONDS`, nothing is logged."""

    extensions_map = {**SimpleHTTPRequestHandler.extensions_map, ".wasm": "application/wasm",
                      ".mjs": "text/javascript", ".onnx": "application/octet-stream"}
    timeout = IDLE_SECONDS  # socketserver's per-connection socket timeout

    def send_head(self):
        site = Path(self.directory).resolve()
        slash = urllib.parse.urlsplit(self.path).path.endswith("/")
        try:
            requested = Path(self.translate_path(self.path))
            folder = requested.resolve()
            if not (folder == site or site in folder.parents):
                readable = False  # outside the site: not even whether it is a folder is told
            elif folder.is_dir():
                if not slash:
                    return self.redirect_to_folder()
                target = (requested / "index.html").resolve()
                readable = (target == site or site in target.parents) and target.is_file()
            else:
                target, readable = folder, folder.is_file() and not slash  # "/file.html/" is no page
        except (ValueError, UnicodeError, OSError):  # "\0", lone surrogates, names the OS refuses
            self.send_error(HTTPStatus.BAD_REQUEST, "Malformed path")
            return None
        except RuntimeError:  # a symlink loop (Python before 3.13 raises this from resolve())
            readable = False
        if not readable:
            self.send_error(HTTPStatus.NOT_FOUND, "File not found")
            return None
        try:
            file = open(target, "rb")  # the checked path itself, never the unchecked one
        except OSError:
            self.send_error(HTTPStatus.NOT_FOUND, "File not found")
            return None
        size = os.fstat(file.fileno()).st_size
        self.send_response(HTTPStatus.OK)
        self.send_header("Content-type", self.guess_type(str(target)))
        self.send_header("Content-Length", str(size))
        self.end_headers()
        return file

    def redirect_to_folder(self):
        parts = urllib.parse.urlsplit(self.path)
        self.send_response(HTTPStatus.MOVED_PERMANENTLY)
        self.send_header("Location", urllib.parse.urlunsplit((parts[0], parts[1], parts[2] + "/", parts[3], parts[4])))
        self.send_header("Content-Length", "0")
        self.end_headers()
        return None

    def list_directory(self, path):
        self.send_error(HTTPStatus.NOT_FOUND, "File not found")
        return None

    def log_message(self, format, *args):  # noqa: A002  (the standard library's name)
        pass


class QuietServer(ThreadingHTTPServer):
    """One thread a connection, none kept at exit; a visitor who leaves mid-answer is no error."""

    daemon_threads = True

    def handle_error(self, request, client_address):
        if isinstance(sys.exc_info()[1], (ConnectionError, TimeoutError)):
            return  # a closed tab or a dropped connection: nothing for the person serving to do
        super().handle_error(request, client_address)


class QuietServer6(QuietServer):
    address_family = socket.AF_INET6


LOOPBACK = ("127.0.0.1", "localhost", "::1")


def start_server(folder=BUILT, port=0, host="127.0.0.1"):
    """Serve ``folder`` over HTTP on ``host`` (this machine only: 127.0.0.1, localhost or ::1) in
    a background thread; returns the server (its ``server_address`` holds the port when ``port``
    is 0; ``shutdown()`` stops it). A port in use raises `OSError` naming it."""
    folder = Path(folder)
    if not (folder / "index.html").is_file():
        raise ValueError(f"{folder} holds no built book (no index.html): run scripts/build_book.sh first")
    if host not in LOOPBACK:
        raise ValueError(f"the book is served on this machine only ({', '.join(LOOPBACK)}), not on {host!r}")
    checks.count(port, "port (0: any free port)", maximum=65535)
    kind = QuietServer6 if host == "::1" else QuietServer
    try:
        server = kind((host, port), functools.partial(QuietHandler, directory=str(folder)))
    except OSError as error:
        raise OSError(error.errno, f"cannot serve on {host} port {port}: {error.strerror or error}"
                                   + (" (choose another with --port)" if port else "")) from None
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


# What a release is: everything readers clone and the site is built from, less what only the
# project's own checks read (git pathspecs; the publish workflow builds the site from the tag).
RELEASED_PATHS = (".", ":!tests", ":!.ci", ":!.github", ":!README.md", ":!CHANGELOG.md", ":!benchmarks")


class StaleRelease(ValueError):
    """The release tag exists, and what readers would clone from it differs from the commit
    being published."""


def release_tag(version=__version__, repository=REPO_ROOT, remote="origin", push=True):
    """Create the annotated tag ``v<version>`` at HEAD of ``repository`` if it is missing, and
    push it to ``remote``; returns ``"created"`` or ``"exists"``. An existing tag whose
    `RELEASED_PATHS` differ from HEAD's raises `StaleRelease`: the Colab cells would clone code
    and weights that do not match the pages, and the site would be built from the old tag, so
    the version must be bumped first."""
    if not isinstance(version, str) or not version or not all(part.isdigit() for part in version.split(".")):
        raise ValueError(f"version must look like 1.2.3, got {version!r}")
    tag = f"v{version}"

    def git(*arguments, check=True):
        return subprocess.run(["git", "-C", str(repository), *arguments], capture_output=True, text=True, check=check)

    if git("rev-parse", "-q", "--verify", f"refs/tags/{tag}", check=False).returncode == 0:
        changed = git("diff", "--name-only", f"{tag}^{{commit}}", "HEAD", "--", *RELEASED_PATHS).stdout.split()
        if changed:
            shown = ", ".join(changed[:5]) + (f" and {len(changed) - 5} more" if len(changed) > 5 else "")
            raise StaleRelease(f"the tag {tag} exists and what readers clone has changed since ({shown}): bump "
                               "__version__ in lib/__init__.py, add its CHANGELOG.md entry and run "
                               "`python -m lib.publish.colab` before publishing")
        outcome = "exists"
    else:
        git("tag", "-a", tag, "-m", f"Release {tag}")
        outcome = "created"
    if push:
        git("push", remote, f"refs/tags/{tag}")
    return outcome


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("command", choices=["serve", "release-tag"])
    parser.add_argument("--port", type=int, default=8000)
    args = parser.parse_args(argv)
    if args.command == "serve":
        try:
            server = start_server(port=args.port)
        except (ValueError, OSError) as error:
            parser.error(str(error))
        print(f"serving {BUILT} on http://127.0.0.1:{server.server_address[1]}/ (Ctrl-C stops)", flush=True)
        try:
            threading.Event().wait()
        except KeyboardInterrupt:
            server.shutdown()
    else:
        try:
            print(f"v{__version__}: {release_tag()}")
        except StaleRelease as error:
            parser.exit(1, f"release-tag: {error}\n")


if __name__ == "__main__":
    main()
