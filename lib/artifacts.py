"""Atomic saves and verified loads of weights, tables, arrays and JSON (`lib.runs` says where).

Every writer here writes to a temporary file in the destination folder and renames it into
place, so an interrupted save never leaves a half-written file under the real name and never
destroys the previous good copy.
"""
from __future__ import annotations

import contextlib
import csv
import errno
import hashlib
import json
import os
import re
import shutil
import tempfile
from pathlib import Path

import numpy as np

from lib import npz

MANIFEST = "manifest.json"
# The files the repository ships, each folder with a manifest; below them, two scratch folders
# that git ignores: quick-mode runs, and a reader's own full runs.
SHIPPED_ROOT = Path(__file__).resolve().parent.parent / "artifacts"
QUICK = "quick"  # runs made in quick mode go under artifacts/quick/, never over the committed ones
RETRAINED = "retrained"  # a reader's own full runs (ignored by git)


@contextlib.contextmanager
def atomic_path(path):
    """Yield a temporary path beside ``path``; rename it onto ``path`` only if the block succeeds.

    The temporary name keeps ``path``'s suffixes (Keras insists on ``.weights.h5``)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    suffix = "".join(path.suffixes) or ".tmp"
    handle, temporary = tempfile.mkstemp(prefix=f".{path.name.split('.')[0]}-", suffix=suffix, dir=path.parent)
    os.close(handle)
    os.unlink(temporary)  # writers such as h5py want to create the file themselves
    try:
        yield Path(temporary)
        os.replace(temporary, path)
    except OSError as error:  # a full disk, a read-only folder: say which file could not be written
        if str(path) in str(error):
            raise
        raise OSError(error.errno, f"could not write {path}: {error.strerror or error}") from error
    finally:
        if os.path.exists(temporary):
            os.unlink(temporary)


def as_json(data):
    """``data`` as it reads back from JSON (tuples become lists), to compare with a loaded record."""
    return json.loads(json.dumps(data))


def save_json(path, data):
    with atomic_path(path) as temporary:
        temporary.write_text(json.dumps(data, indent=2, sort_keys=True) + "\n")


def save_record(path, data):
    """`save_json`, then the file's checksum into its folder's manifest: for the records that
    sit beside others in a shared folder (a study's summary, the choice of a shipped model)."""
    save_json(path, data)
    list_in_manifest(path)


def _read_json(path):
    path = Path(path)
    if not path.is_file():
        raise ValueError(f"expected a JSON file at {path}, found none")
    try:
        return json.loads(path.read_bytes().decode("utf-8"))
    except (ValueError, RecursionError) as error:  # bad JSON, bad UTF-8, nesting or integers beyond the limits
        raise ValueError(f"{path} is not valid JSON (corrupted or truncated?): {type(error).__name__}: "
                         f"{str(error)[:200]}") from None


def load_json(path, in_progress=False):
    """A JSON file, verified against its folder's manifest (`verify_listed`; ``in_progress``:
    a run's own checkpoint state, read before its manifest exists)."""
    verify_listed(path, in_progress)
    return _read_json(path)


def record_field(record, path, key, check=None):
    """``record[key]`` of a record read from ``path``, passed through ``check`` (one of
    `lib.checks`' functions, called with the value and the field's name): a missing field or a
    value the check refuses is a `ValueError` naming the file and the field."""
    if not isinstance(record, dict) or key not in record:
        raise ValueError(f"{path} lacks the field {key!r}" + ("" if isinstance(record, dict) else " (not a JSON object)"))
    try:
        return check(record[key], key) if check else record[key]
    except ValueError as error:
        raise ValueError(f"{path}: {error}") from None


def load_fields(path, **fields):
    """The named fields of the JSON record at ``path``, in order, each checked by its function
    (`record_field`), e.g. ``load_fields(path, arm=checks.text, seed=checks.count)``."""
    record = load_json(path)
    return tuple(record_field(record, path, key, check) for key, check in fields.items())


def save_arrays(path, **arrays):
    with atomic_path(path) as temporary:
        with open(temporary, "wb") as handle:
            np.savez_compressed(handle, **arrays)


def load_arrays(path, in_progress=False):
    """The arrays of an ``.npz`` file (no pickles), verified as `load_json` verifies."""
    path = Path(path)
    if not path.is_file():
        raise ValueError(f"expected an .npz file at {path}, found none")
    verify_listed(path, in_progress)
    return npz.read_npz(path)


def save_table(path, rows):
    """Save a list of dicts (same keys) as CSV, a tidy table one row per record."""
    rows = list(rows)
    if not rows or not all(isinstance(row, dict) for row in rows):
        raise ValueError("rows must be a non-empty list of dicts")
    columns = list(rows[0])
    if any(list(row) != columns for row in rows):
        raise ValueError(f"every row must have the columns {columns}")
    with atomic_path(path) as temporary:
        with open(temporary, "w", newline="") as handle:
            writer = csv.DictWriter(handle, fieldnames=columns)
            writer.writeheader()
            writer.writerows(rows)


def load_table(path):
    """Load a CSV written by :func:`save_table` into a dict of numpy columns."""
    path = Path(path)
    if not path.is_file():
        raise ValueError(f"expected a CSV table at {path}, found none")
    verify_listed(path)
    with open(path, newline="") as handle:
        rows = list(csv.DictReader(handle))
    if not rows:
        raise ValueError(f"{path} holds no rows")
    columns = {}
    for key in rows[0]:
        values = [row[key] for row in rows]
        try:
            columns[key] = np.array([float(value) for value in values])
        except (TypeError, ValueError):
            columns[key] = np.array(values)
    return columns


def save_weights(model, path):
    """``model.save_weights`` to a ``.weights.h5`` file, atomically.

    Keras 3 also writes a compiled model's optimizer state into the file (three times the size
    for Adam); the shipped files hold the weights alone, so a compiled model is saved through an
    uncompiled clone."""
    if not str(path).endswith(".weights.h5"):
        raise ValueError(f"Keras weights files must end in .weights.h5, got {path}")
    if getattr(model, "optimizer", None) is not None:
        clone = type(model).from_config(model.get_config())  # from_config does not compile
        clone.set_weights(model.get_weights())
        model = clone
    ensure_space(path, sum(int(np.prod(weight.shape)) * 4 for weight in getattr(model, "weights", ())))
    with atomic_path(path) as temporary:
        model.save_weights(temporary)


# HDF5's own structure beside the arrays, and room for the rename's directory entry.
WEIGHTS_FILE_OVERHEAD = 1 << 20


def ensure_space(path, array_bytes):
    """Raise `OSError` (ENOSPC) naming ``path`` if its disk has no room for a weights file of
    ``array_bytes``: h5py, failing mid-write on a full disk, takes the process down (a segfault)
    instead of raising, so the room is checked before the write starts."""
    folder = Path(path).resolve().parent
    while not folder.is_dir() and folder != folder.parent:  # the folders about to be made are on the same disk
        folder = folder.parent
    needed, free = array_bytes + WEIGHTS_FILE_OVERHEAD, shutil.disk_usage(folder).free
    if free < needed:
        raise OSError(errno.ENOSPC, f"no room to write {path}: about {needed / 2**20:.1f} MiB needed, "
                                    f"{free / 2**20:.1f} MiB free on its disk")


def load_weights(model, path):
    """Load a ``.weights.h5`` file into ``model`` with a clear error if it is missing or damaged."""
    path = Path(path)
    if not path.is_file():
        raise ValueError(f"expected a weights file at {path}, found none (were the artifacts committed/cloned?)")
    verify_listed(path)
    try:
        model.load_weights(path)
    except Exception as error:
        raise ValueError(
            f"could not load weights from {path} into {model.name!r}: the file is corrupted, truncated "
            f"or was saved from another architecture ({type(error).__name__}: {error})"
        ) from error
    return model


def file_sha256(path):
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def is_hidden(name):
    """Hidden files (`atomic_path`'s temporaries among them) are never listed, never shipped."""
    return name.startswith(".")


def is_temporary(name):
    """Whether a file name is one `atomic_path` makes: ``.<stem>-<8 random characters><suffixes>``."""
    return re.fullmatch(r"\.[^./]*-[a-z0-9_]{8}(\.[^/]*)?", name) is not None


def folder_files(folder, exclude=()):
    """The names of the files a manifest of ``folder`` covers: all but itself, hidden files and
    those in ``exclude``."""
    skipped = {MANIFEST, *exclude}
    return sorted(p.name for p in Path(folder).iterdir() if p.is_file() and p.name not in skipped and not is_hidden(p.name))


def write_manifest(folder, exclude=()):
    """Record the sha256 of every file in ``folder`` (but those named in ``exclude``) so
    :func:`verify_manifest` can detect damage."""
    folder = Path(folder)
    save_json(folder / MANIFEST, {name: file_sha256(folder / name) for name in folder_files(folder, exclude)})


def read_manifest(folder):
    """The ``{file name: sha256}`` of ``folder``'s manifest, checked to be one."""
    path = Path(folder) / MANIFEST
    listed = _read_json(path)
    digests_ok = isinstance(listed, dict) and all(
        isinstance(name, str) and name and "/" not in name and isinstance(digest, str) and len(digest) == 64
        and set(digest) <= set("0123456789abcdef") for name, digest in listed.items())
    if not digests_ok:
        raise ValueError(f"{path} must map the folder's file names to sha256 hex digests, got "
                         f"{type(listed).__name__ if not isinstance(listed, dict) else 'other entries'}")
    return listed


def list_in_manifest(*paths):
    """Record each file's sha256 in its folder's manifest, keeping the folder's other entries."""
    for path in map(Path, paths):
        if not path.is_file() or path.name == MANIFEST or is_hidden(path.name):
            raise ValueError(f"only an existing, visible file can be listed in a manifest, got {path}")
        manifest = path.parent / MANIFEST
        listed = read_manifest(path.parent) if manifest.is_file() else {}
        save_json(manifest, {**listed, path.name: file_sha256(path)})


def is_shipped(path):
    """Whether ``path`` lies among the files the repository ships (`SHIPPED_ROOT`, less its
    scratch folders), where every folder has a manifest."""
    path = Path(path).resolve()
    if SHIPPED_ROOT not in path.parents:
        return False
    return path.relative_to(SHIPPED_ROOT).parts[0] not in (QUICK, RETRAINED)


def verify_listed(path, in_progress=False):
    """Raise ``ValueError`` if ``path``'s folder has a manifest that does not list ``path`` or
    records another checksum for it, or if it has none though it is a shipped folder
    (`is_shipped`): a deleted manifest must not turn verification off. Outside the shipped
    files (a reader's scratch, quick-mode runs) a folder without a manifest is not checked, nor
    is a run's checkpoint state (``in_progress``), read before the run writes its manifest."""
    path = Path(path)
    manifest = path.parent / MANIFEST
    if path.name == MANIFEST:
        return True
    if not manifest.is_file():
        if is_shipped(path) and not in_progress:
            raise ValueError(f"{path.parent} holds shipped files but has no {MANIFEST}: its files cannot be verified, "
                             "so none is loaded (restore the folder from the repository, e.g. `git checkout -- "
                             f"{path.parent}`)")
        return True
    listed = read_manifest(path.parent)
    if path.name not in listed:
        raise ValueError(f"{path} is not covered by {manifest}: an unverified file is not loaded")
    if file_sha256(path) != listed[path.name]:
        raise ValueError(f"{path} differs from its checksum in {manifest} (corrupted, truncated or changed by hand)")
    return True


def verify_manifest(folder, unlisted=()):
    """Raise ``ValueError`` naming every file of ``folder`` that is missing, differs from its
    manifest, or is not covered by it (but those named in ``unlisted``): a manifest must cover
    its whole folder, so an empty or partial one verifies nothing and passes nothing."""
    folder = Path(folder)
    expected = read_manifest(folder)
    problems = []
    for name, digest in expected.items():
        if not (folder / name).is_file():
            problems.append(f"{name} is missing")
        elif file_sha256(folder / name) != digest:
            problems.append(f"{name} differs from its recorded checksum (corrupted or truncated)")
    problems += [f"{name} is not covered by the manifest" for name in folder_files(folder, unlisted) if name not in expected]
    if problems:
        raise ValueError(f"artifacts in {folder} failed verification: " + "; ".join(problems))
    return True


def remove_temporaries(folder):
    """Delete the temporaries a kill left in ``folder`` (hidden files `atomic_path` names, such as
    ``.checkpoint-*.npz``); returns their names."""
    folder = Path(folder)
    left = sorted(p.name for p in folder.iterdir() if p.is_file() and is_temporary(p.name)) if folder.is_dir() else []
    for name in left:
        (folder / name).unlink(missing_ok=True)
    return left
