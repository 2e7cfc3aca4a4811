"""Reading ``.npz`` archives safely: no pickles, each array's header (dtype and shape) checked
before the array is decompressed, and every failure a `ValueError` naming the file.

``np.load`` decompresses an array before anyone can look at its shape (a small archive can claim
gigabytes) and, on a file that is not an archive, answers with advice to enable pickles. Here
the archive is opened as the zip file it is, each member's ``.npy`` header read first.
"""
from __future__ import annotations

import zipfile
from pathlib import Path

import numpy as np


def _header(member):
    version = np.lib.format.read_magic(member)
    if version == (1, 0):
        return np.lib.format.read_array_header_1_0(member)
    if version == (2, 0):
        return np.lib.format.read_array_header_2_0(member)
    raise ValueError(f"unsupported .npy format version {version}")


def read_npz(path, expected=None, what="an .npz archive"):
    """The arrays of the ``.npz`` file at ``path``, as ``{name: array}``. ``expected`` maps each
    name that must be there to a check of ``(dtype, shape)`` run on the header, before the array
    is read: a function returning an error message, or None when the array is acceptable. Without
    ``expected`` every array is read (object arrays, which need pickles, are refused)."""
    path = Path(path)
    if not path.is_file():
        raise ValueError(f"{what} not found: expected a file at {path}")
    try:
        archive = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError) as error:
        raise ValueError(f"{path} is not a readable .npz file of arrays ({what}; an .npz is a zip archive of .npy "
                         f"arrays): {error}") from None
    with archive:
        members = {name[:-len(".npy")]: name for name in archive.namelist() if name.endswith(".npy")}
        wanted = list(expected) if expected is not None else list(members)
        missing = [name for name in wanted if name not in members]
        if missing:
            raise ValueError(f"{path} lacks the arrays {missing}; expected {wanted}, found {sorted(members)}")
        arrays = {}
        for name in wanted:
            try:
                with archive.open(members[name]) as member:
                    shape, _, dtype = _header(member)
                claimed = int(np.prod(shape, dtype=object)) * dtype.itemsize
                holds = archive.getinfo(members[name]).file_size
                if claimed > holds:  # numpy would allocate the claim before reading a byte
                    raise ValueError(f"its header claims {claimed:,} bytes ({dtype}, {tuple(shape)}); the archive "
                                     f"holds {holds:,}")
                if dtype.hasobject:
                    raise ValueError("it holds Python objects, which only pickles can load, and pickles are not loaded")
                problem = expected[name](dtype, shape) if expected is not None else None
                if problem:
                    raise ValueError(problem)
                with archive.open(members[name]) as member:
                    arrays[name] = np.lib.format.read_array(member, allow_pickle=False)
            except ValueError as error:
                raise ValueError(f"{path}: array {name!r}: {error}") from None
            except (zipfile.BadZipFile, OSError, EOFError, RuntimeError, MemoryError) as error:  # damaged or truncated
                raise ValueError(f"{path} is not a readable .npz file: its array {name!r} cannot be read (corrupted or "
                                 f"truncated?): {error}") from None
    return arrays
