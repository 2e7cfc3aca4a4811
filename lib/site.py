"""Publishing the book: serve the built pages on this machine the way GitHub Pages serves them,
and make sure the release tag that every chapter's Colab cell clones exists.

    python -m lib.site serve [--port 8000]     # _build/html on http://127.0.0.1:8000/
    python -m lib.site release-tag             # create and push v<lib.__version__> if it is missing;
                                               # refuse if it exists with other contents

`.github/workflows/publish.yml` calls these and `scripts/build_book.sh`, nothing else.
"""
from __future__ import annotations

import argparse
import functools
import subprocess
import threading
from http import HTTPStatus
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from lib import __version__, checks

REPO_ROOT = Path(__file__).resolve().parent.parent
BUILT = REPO_ROOT / "_build" / "html"


class QuietHandler(SimpleHTTPRequestHandler):
    """The standard library's file server, narrowed to what GitHub Pages does: no directory
    listings, and nothing outside the site, however a symlink inside it points."""

    extensions_map = {**SimpleHTTPRequestHandler.extensions_map, ".wasm": "application/wasm",
                      ".mjs": "text/javascript", ".onnx": "application/octet-stream"}

    def send_head(self):
        site = Path(self.directory).resolve()
        target = Path(self.translate_path(self.path)).resolve()
        if target != site and site not in target.parents:
            self.send_error(HTTPStatus.NOT_FOUND, "File not found")
            return None
        return super().send_head()

    def list_directory(self, path):
        self.send_error(HTTPStatus.NOT_FOUND, "File not found")
        return None

    def log_message(self, format, *args):  # noqa: A002  (the standard library's name)
        pass


def start_server(folder=BUILT, port=0, host="127.0.0.1"):
    """Serve ``folder`` over HTTP on ``host`` in a background thread; returns the server (its
    ``server_address`` holds the port when ``port`` is 0; ``shutdown()`` stops it)."""
    folder = Path(folder)
    if not (folder / "index.html").is_file():
        raise ValueError(f"{folder} holds no built book (no index.html): run scripts/build_book.sh first")
    if host not in ("127.0.0.1", "localhost", "::1"):
        raise ValueError(f"the book is served on this machine only (127.0.0.1), not on {host!r}")
    server = ThreadingHTTPServer((host, checks.count(port, "port")),
                                 functools.partial(QuietHandler, directory=str(folder)))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


# What a Colab reader's clone runs: the notebooks, `lib` and the committed weights and records.
RELEASED_PATHS = ("book", "lib", "artifacts", "pyproject.toml")


class StaleRelease(ValueError):
    """The release tag exists, and what readers would clone from it differs from the commit
    being published."""


def release_tag(version=__version__, repository=REPO_ROOT, remote="origin", push=True):
    """Create the annotated tag ``v<version>`` at HEAD of ``repository`` if it is missing, and
    push it to ``remote``; returns ``"created"`` or ``"exists"``. An existing tag whose
    `RELEASED_PATHS` differ from HEAD's raises `StaleRelease`: the Colab cells would clone code
    and weights that do not match the pages, so the version must be bumped first."""
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
                               "`python -m lib.colab` before publishing")
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
        server = start_server(port=args.port)
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
