"""The run-folder root and the self-describing run folder (each study names its own folders).

A run folder holds what one training produced: the weights, the per-iteration history, the
records of its callbacks and ``run.json``, which says how it was made (the configuration, the
seed, a hash of the training inputs, the machine). ``manifest.json`` is written last and is the
commit marker: a folder with a valid manifest is finished and opens with `open` alone; a folder
without one still holds the last epoch checkpoint (`lib.checkpoints`) and resumes (`lib.fitting.fit_gan`).
"""
from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from lib import artifacts, checkpoints, checks
from lib.config import GANConfig, budget

ROOT_VARIABLE = "GAN_BOOK_ARTIFACTS"
REPO_ROOT = Path(__file__).resolve().parent.parent
QUICK, RETRAINED = artifacts.QUICK, artifacts.RETRAINED

# The files of a run folder.
RECORD = "run.json"
GENERATOR_WEIGHTS = "generator.weights.h5"
DISCRIMINATOR_WEIGHTS = "discriminator.weights.h5"
HISTORY = "history.csv"
SNAPSHOTS = "snapshots.npz"
DIAGNOSTICS = "diagnostics.csv"
FILM = "film.npz"


# ---------------------------------------------------------------- paths

def root() -> Path:
    """The committed artifacts folder (``$GAN_BOOK_ARTIFACTS`` overrides it)."""
    return Path(os.environ.get(ROOT_VARIABLE) or REPO_ROOT / "artifacts")


def path(*parts) -> Path:
    """``artifacts/<parts...>``, e.g. ``path("paper_gan", "seed0")``; parts are plain names."""
    if not parts or not all(isinstance(part, str) and part and "/" not in part and part not in (".", "..")
                            for part in parts):
        raise ValueError(f"artifact paths take one or more plain folder names, got {parts!r}")
    return root().joinpath(*parts)


def mode_root(plan=None) -> tuple:
    """The run-folder root of the run mode, decided once, where a command or a chapter starts:
    ``("quick",)`` in quick mode, so quick runs never overwrite the committed full ones, ``()``
    (the committed artifacts) in full mode. Everything below takes it as ``root``."""
    return (QUICK,) if (plan or budget()).mode == "quick" else ()


def seed_name(seed) -> str:  # "seed0"
    return f"seed{checks.count(seed, 'seed')}"


def slug(name) -> str:
    """A file-safe folder name for a variant, e.g. '+ skip connections' -> 'skip_connections'."""
    if not isinstance(name, str) or not name.strip("+ "):
        raise ValueError(f"a variant name must be a non-empty string, got {name!r}")
    return "".join(c if c.isalnum() else "_" for c in name.lower()).strip("_")


# ---------------------------------------------------------------- run folders

def inputs_digest(images) -> str:
    """sha256 of the training inputs as the model sees them (float32): a checkpoint resumes on them only."""
    images = np.ascontiguousarray(np.asarray(images, dtype=np.float32))
    return hashlib.sha256(images.tobytes()).hexdigest()


def status(folder) -> str:
    """``"finished"`` (a manifest: the run opens), ``"resumable"`` (a checkpoint, no manifest)
    or ``"new"`` (neither: training starts from scratch)."""
    folder = Path(folder)
    if (folder / artifacts.MANIFEST).is_file():
        return "finished"
    return "resumable" if checkpoints.exists(folder) else "new"


@dataclass
class Run:
    """A finished run, opened from its folder alone (checksums verified)."""

    folder: Path
    record: dict

    @property
    def config(self) -> GANConfig:
        return GANConfig.from_dict(self.record["config"])

    @property
    def seed(self) -> int:
        return int(self.record["seed"])

    @property
    def probe(self) -> list:
        return list(self.record.get("probe", []))

    @property
    def history(self) -> list:
        """One dict per iteration: step, epoch and the step's metrics (`lib.gan.METRICS`)."""
        return _rows(self.folder / HISTORY)

    def history_arrays(self) -> dict:
        """The per-iteration history as one NumPy array per column."""
        history = self.history
        return {key: np.array([row[key] for row in history]) for key in history[0]}

    @property
    def diagnostics(self) -> list:
        """The generator diagnostics (`lib.diagnostics.GeneratorDiagnostics`), if the run kept them."""
        return _rows(self.folder / DIAGNOSTICS) if (self.folder / DIAGNOSTICS).is_file() else []

    @property
    def snapshots(self) -> list:
        """The snapshot digits after every epoch (uint8 images), if the run kept them."""
        if not (self.folder / SNAPSHOTS).is_file():
            return []
        return list(artifacts.load_arrays(self.folder / SNAPSHOTS)["frames"])

    def film(self) -> dict:
        """The first iterations filmed (`lib.diagnostics.TrainingFilm`): ``step``, ``frames``,
        ``d_real``, ``d_fake``; empty if the run has no film."""
        if not (self.folder / FILM).is_file():
            return {}
        return dict(artifacts.load_arrays(self.folder / FILM))

    def generator(self):
        from lib.models import inference_generator  # here, so that naming paths never starts TensorFlow

        return artifacts.load_weights(inference_generator(self.config), self.folder / GENERATOR_WEIGHTS)

    def discriminator(self):
        from lib.models import build_discriminator

        return artifacts.load_weights(build_discriminator(self.config), self.folder / DISCRIMINATOR_WEIGHTS)

    def gan(self):
        """The compiled GAN with the run's weights (optimizer state is not kept)."""
        from lib.gan import build_gan

        gan = build_gan(self.config)
        artifacts.load_weights(gan.generator, self.folder / GENERATOR_WEIGHTS)
        artifacts.load_weights(gan.discriminator, self.folder / DISCRIMINATOR_WEIGHTS)
        return gan


def _rows(table_path):
    table = artifacts.load_table(table_path)
    return [dict(zip(table, values)) for values in zip(*(column.tolist() for column in table.values()))]


def open(folder) -> Run:  # noqa: A001  (runs.open(folder), like io.open)
    """The finished run in ``folder``, its files verified against the manifest."""
    folder = Path(folder)
    if status(folder) != "finished":
        raise ValueError(f"{folder} holds no finished run (no {artifacts.MANIFEST}; status: {status(folder)})")
    # A kill between the manifest and the checkpoint's removal leaves the checkpoint unlisted.
    artifacts.verify_manifest(folder, unlisted=(checkpoints.FILE,))
    missing = [name for name in (RECORD, HISTORY) if name not in artifacts.read_manifest(folder)]
    if missing:
        raise ValueError(f"{folder / artifacts.MANIFEST} does not list {missing}: not a finished run's manifest")
    return Run(folder, check_record(artifacts.load_json(folder / RECORD), folder / RECORD))


def check_record(record, path):
    """A run's ``run.json`` as `Run` reads it: a configuration that parses and a seed."""
    if not isinstance(record, dict) or not isinstance(record.get("config"), dict) or "seed" not in record:
        raise ValueError(f"{path} is not a run record: it needs a 'config' object and a 'seed'")
    try:
        GANConfig.from_dict(record["config"])
        checks.count(record["seed"], "seed")
    except (TypeError, ValueError) as error:
        raise ValueError(f"{path} holds a record that does not describe a run: {error}") from None
    return record


def drop_weights(folder, keep_generator=False):
    """Keep a finished run's records only (history, probe, snapshots...): for runs whose networks
    no chapter loads; ``keep_generator`` keeps the generator too, for runs whose fills a chapter
    shows. The new manifest comes first, so a kill in between leaves a run that opens."""
    folder = Path(folder)
    if status(folder) != "finished":
        raise ValueError(f"{folder} holds no finished run to slim")
    if not isinstance(keep_generator, bool):
        raise ValueError(f"keep_generator must be True or False, got {keep_generator!r}")
    artifacts.verify_manifest(folder)  # a damaged record must not get a fresh checksum
    weights = (DISCRIMINATOR_WEIGHTS,) if keep_generator else (GENERATOR_WEIGHTS, DISCRIMINATOR_WEIGHTS)
    kept = {name: digest for name, digest in artifacts.load_json(folder / artifacts.MANIFEST).items() if name not in weights}
    artifacts.save_json(folder / artifacts.MANIFEST, kept)
    for name in weights:
        (folder / name).unlink(missing_ok=True)
