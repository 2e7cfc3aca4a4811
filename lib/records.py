"""A study's record: the JSON a chapter reads its numbers from.

One protocol for every study: a record is opened against the protocol it is scored by (the
digits, classifiers, detectors and holes), refused if it was scored by another, filled entry by
entry and saved after each (`Record.save`: a kill loses one entry at most), and closes with the
seconds it took and the machine it ran on.
"""
from __future__ import annotations

import contextlib
import os
import platform
import time

from lib import artifacts


def machine_description():
    """The machine a run or a record was made on: CPU, cores, GPUs and the library versions."""
    from lib.runtime import keras, tf  # here, so that reading records never starts TensorFlow

    model = platform.processor() or platform.machine()
    with contextlib.suppress(OSError):
        with open("/proc/cpuinfo") as handle:
            names = [line.split(":", 1)[1].strip() for line in handle if line.startswith("model name")]
        model = names[0] if names else model
    return {
        "cpu": model, "cpu_count": os.cpu_count(), "gpus": len(tf.config.list_physical_devices("GPU")),
        "python": platform.python_version(), "tensorflow": tf.__version__, "keras": keras.__version__,
        "platform": platform.platform(),
    }


class Record(dict):
    """A study's record at ``path``, scored by ``protocol``: what is already there (if it was
    scored by the same protocol) plus what is added, saved as it grows. Without a protocol, a
    record scored in one go, afresh."""

    def __init__(self, path, protocol=None):
        super().__init__()
        self.path, self.started = path, time.perf_counter()
        if protocol is None:  # scored whole, in one go: nothing to resume
            return
        protocol = artifacts.as_json(protocol)
        if path.is_file():
            earlier = artifacts.load_json(path)
            if earlier.get("protocol") != protocol:
                raise ValueError(f"{path} was scored with another protocol ({earlier.get('protocol')}): delete it "
                                 "to score afresh")
            self.update(earlier)
            self.started -= earlier.get("wall_seconds", 0.0)  # its seconds stay those of all its scoring
        self["protocol"] = protocol

    def save(self):
        artifacts.save_record(self.path, dict(self))
        return self

    def close(self):
        """Saved with the seconds all its scoring took and the machine: the record is complete."""
        self.update(wall_seconds=round(time.perf_counter() - self.started, 1), machine=machine_description())
        return self.save()


def seconds(record):
    """What a scoring command reports of its record: the seconds its scoring took."""
    return f"{record['wall_seconds']} s"


def by_hole(record, part="by_hole"):
    """``{hole: {method: scores}}`` of a record scored hole by hole (chapter 6's hole-size study,
    chapter 7's check of the shipped models), in the study's order of holes and methods (JSON
    keeps keys sorted): its ``"by_hole"`` or ``"cross_check"``."""
    if part not in ("by_hole", "cross_check"):
        raise ValueError(f"part must be 'by_hole' or 'cross_check', got {part!r}")
    if not isinstance(record, dict) or not {part, "holes", "methods"} <= record.keys():
        raise ValueError(f"expected a record scored hole by hole, with {part!r}, 'holes' and 'methods'")
    try:
        return {hole: {name: record[part][hole][name] for name in record["methods"]} for hole in record["holes"]}
    except KeyError as missing:
        raise ValueError(f"the record has no {part} entry for {missing}") from None
