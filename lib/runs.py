"""Every artifact's path, and the self-describing run folder.

A run folder holds what one training produced: the weights, the per-iteration history, the
records of its callbacks and ``run.json``, which says how it was made (the configuration, the
seed, a hash of the training inputs, the machine). ``manifest.json`` is written last and is the
commit marker: a folder with a valid manifest is finished and opens with `open` alone; a folder
without one still holds the last epoch checkpoint and resumes (`lib.fitting.fit_gan`).
"""
from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from lib import artifacts, checks
from lib.config import CLASSIFIER, CROSS_CHECK_CLASSIFIER, PAPER, GANConfig, budget

ROOT_VARIABLE = "GAN_BOOK_ARTIFACTS"
REPO_ROOT = Path(__file__).resolve().parent.parent
QUICK, RETRAINED = artifacts.QUICK, artifacts.RETRAINED

# The files of a run folder.
RECORD = "run.json"
CHECKPOINT = "checkpoint.npz"
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
    """``("quick",)`` in quick mode, so quick runs never overwrite the committed full ones."""
    return (QUICK,) if (plan or budget()).mode == "quick" else ()


def seed_name(seed) -> str:  # "seed0"
    return f"seed{checks.count(seed, 'seed')}"


def slug(name) -> str:
    """A file-safe folder name for a variant, e.g. '+ skip connections' -> 'skip_connections'."""
    if not isinstance(name, str) or not name.strip("+ "):
        raise ValueError(f"a variant name must be a non-empty string, got {name!r}")
    return "".join(c if c.isalnum() else "_" for c in name.lower()).strip("_")


def paper_gan(seed, root=()) -> Path:
    """The paper's GAN trained for its 6 epochs with ``seed``."""
    return path(*root, "paper_gan", seed_name(seed))


def fixed_paper_gan(seed, root=()) -> Path:
    """The paper's GAN with the collapse study's smallest fix (chapter 5), trained for the paper's
    6 epochs with ``seed``: the row "paper's GAN, fixed" of chapter 4."""
    return path(*root, "paper_gan_fixed", seed_name(seed))


def variant(name, epochs, seed=0, root=(), suffix="") -> Path:
    """A named variant trained for ``epochs`` epochs (``suffix`` tells runs of the same variant
    with other speed settings apart, e.g. ``"-bfloat16"``)."""
    return path(*root, "variants", f"{slug(name)}-{checks.count(epochs, 'epochs', 1)}ep{suffix}", seed_name(seed))


def shipped_inpainter(name) -> Path:
    """A shipped inpainter's run folder (`lib.inpainting.INPAINTERS`): the paper's GAN of seed 0, the
    fast run the time-to-quality record ships ("book"), and chapters 6 and 7's earlier models."""
    if name == "book":
        return speed_run(*artifacts.load_fields(benchmark_record("time_to_quality"), fast=checks.text,
                                                shipped_seed=checks.count))
    folders = {"paper": lambda: paper_gan(0), "recommended": lambda: variant(*recommended_run()),
               "realistic": lambda: adversary_run(*realistic_run())}
    if name not in folders:
        raise ValueError(f"the shipped inpainters are 'book', 'paper', 'recommended' and 'realistic', got {name!r}")
    return folders[name]()


def committed_variant(name, epochs, seed=0) -> Path:
    """A committed variant's folder; 'paper' is the paper's 6-epoch run, whatever ``epochs``."""
    return paper_gan(seed) if name == "paper" else variant(name, epochs, seed)


def collapse_run(recipe, seed, root=()) -> Path:
    """One run of the collapse study (chapter 5): a recipe (`lib.collapse.RECIPES`) and a seed."""
    return path(*root, "collapse", slug(recipe), seed_name(seed))


def film_run(seed, root=()) -> Path:
    """A re-run of the collapse study's paper recipe that films its first iterations
    (`lib.diagnostics.TrainingFilm`): chapter 5's animation and score histograms."""
    return path(*root, "film", seed_name(seed))


def adversary_run(arm, epochs, seed, root=()) -> Path:
    """One run of the perception-distortion study (chapter 7): an arm of `lib.tradeoff.ARMS`,
    fine-tuned from the recommended model for ``epochs`` epochs with ``seed``."""
    return path(*root, "adversary", f"{slug(arm)}-{checks.count(epochs, 'epochs', 1)}ep", seed_name(seed))


def speed_run(recipe, seed, root=()) -> Path:
    """A recipe of appendix D's time-to-quality study (`lib.speed.RECIPES`) trained from scratch."""
    return path(*root, "speed", slug(recipe), seed_name(seed))


def selection_run(candidate, seed, root=()) -> Path:
    """A candidate for the shipped inpainter (`lib.selection.CANDIDATES`) trained from scratch."""
    return path(*root, "selection", slug(candidate), seed_name(seed))


def selection_record(root=()) -> Path:  # the candidates scored on the validation digits, and the choice
    return path(*root, "selection", "record.json")


def adversary_study(root=()) -> Path:
    return path(*root, "adversary", "study.json")


def realistic_record(root=()) -> Path:
    """The record of chapter 7's choice: the arm shipped as the "realistic" inpainter."""
    return path(*root, "adversary", "realistic.json")


def realistic_run(root=()):
    """The realistic inpainter's arm, epochs and seed (`adversary_run`'s arguments)."""
    return artifacts.load_fields(realistic_record(root), arm=checks.text, epochs=checks.count, seed=checks.count)


def collapse_summary(root=()) -> Path:  # chapter 5's study, summarised
    return path(*root, "collapse", "summary.json")


def recommended_record(root=()) -> Path:
    """The record of chapter 6's choice: the recommended variant and its training budget."""
    return path(*root, "variants", "recommended.json")


def recommended_run(root=()):
    """The recommended variant's name and the epochs it was trained for."""
    path = recommended_record(root)
    record = artifacts.load_json(path)
    return artifacts.record_field(record, path, "chosen", checks.text), checks.count(record.get("epochs", PAPER.epochs),
                                                                                    f"{path}: epochs")


def speed_study_record(root=()) -> Path:
    return path(*root, "variants", "speed_settings_study.json")


def ceiling_record(epochs=CLASSIFIER.epochs, root=()) -> Path:
    """Classifiers trained on corrupted digits: the evaluation classifiers' budget has the plain
    name, longer-trained classifiers one that says their epochs."""
    epochs = checks.count(epochs, "epochs", minimum=1)
    name = "corrupted_digit_accuracy" + ("" if epochs == CLASSIFIER.epochs else f"-{epochs}ep")
    return path(*root, "ceiling", name + ".json")


def hole_size_record(root=()) -> Path:
    """Chapter 6's study: every method at every hole (`lib.scoring.run_hole_size_study`)."""
    return path(*root, "studies", "hole_sizes.json")


def ablation_record(root=()) -> Path:
    """Chapter 6's ablation table: every variant scored (`lib.scoring.run_ablation_table`)."""
    return path(*root, "studies", "ablation.json")


def shipped_check_record(root=()) -> Path:
    """Chapter 7's check of the book's and the earlier models with fresh detectors (`lib.scoring.run_shipped_check`)."""
    return path(*root, "studies", "shipped_models.json")


def seed_scores_record(root=()) -> Path:  # chapters 4 and 5: the paper's GAN's seeds (`lib.scoring.run_seed_scores`)
    return path(*root, "studies", "paper_gan_seeds.json")


def benchmark_record(name) -> Path:
    return path("benchmarks", f"{name}.json")


def classifier_folder(config=CLASSIFIER, root=()) -> Path:
    """The shipped classifiers of a configuration: the paper's (`CLASSIFIER`) in ``classifier/``,
    the cross-check ones in ``classifier-dense/``; no others, so weights never load into another."""
    for shipped, folder in ((CLASSIFIER, "classifier"), (CROSS_CHECK_CLASSIFIER, "classifier-dense")):
        if config == shipped:  # dataclass equality: same class, same fields
            return path(*root, folder)
    raise ValueError("only the shipped classifier configurations, CLASSIFIER (a ClassifierConfig) and "
                     f"CROSS_CHECK_CLASSIFIER (a DenseClassifierConfig), have a folder; got {config!r}")


def classifier_weights(seed, config=CLASSIFIER, root=()) -> Path:
    return classifier_folder(config, root) / f"{seed_name(seed)}.weights.h5"


def classifier_record(seed, config=CLASSIFIER, root=()) -> Path:
    """The JSON beside a classifier's weights: its clean test accuracy, budget and machine."""
    return classifier_folder(config, root) / f"{seed_name(seed)}.json"


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
    return "resumable" if (folder / CHECKPOINT).is_file() else "new"


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
    artifacts.verify_manifest(folder, unlisted=(CHECKPOINT,))
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


def commit(folder):
    """Mark a run finished: the manifest last, then the checkpoint goes. A kill before the
    manifest leaves the checkpoint to resume from; a kill after it, a run that opens."""
    folder = Path(folder)
    artifacts.write_manifest(folder, exclude=(CHECKPOINT,))
    (folder / CHECKPOINT).unlink(missing_ok=True)


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
