"""The tests mirror lib: tests/test_<module>.py, tests/studies/, tests/publish/. Their shared
fixtures live here, and their stand-ins in `stubs`, importable from every folder."""
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import types  # noqa: E402

import numpy as np  # noqa: E402
import pytest  # noqa: E402

from lib import classifiers, data, datasets, fitting, runs  # noqa: E402
from lib.config import MODE_VARIABLE, PAPER  # noqa: E402
from stubs import PROBE_DIGITS, CyclingClassifier, OneDigitClassifier, synthetic_test_set  # noqa: E402

TINY_RUN = PAPER.variant("tiny", batch_size=32, epochs=1)


@pytest.fixture
def private_artifacts(monkeypatch, tmp_path):
    """An artifacts folder of the test's own and the run mode unset: nothing touches the committed
    artifacts (a file uses it throughout with ``pytestmark = pytest.mark.usefixtures(...)``)."""
    monkeypatch.setenv(runs.ROOT_VARIABLE, str(tmp_path / "artifacts"))
    monkeypatch.delenv(MODE_VARIABLE, raising=False)
    return tmp_path / "artifacts"


@pytest.fixture
def committed_artifacts(monkeypatch):
    """The committed artifacts, read in full mode (the tests that score committed records again)."""
    monkeypatch.delenv(runs.ROOT_VARIABLE, raising=False)
    monkeypatch.setenv(MODE_VARIABLE, "full")


@pytest.fixture
def captured_training(monkeypatch):
    """`fitting.fit_gan` replaced by a recorder of its calls; MNIST by a synthetic set of 3,000 digits."""
    calls = []
    x, y = synthetic_test_set(per_class=300)
    monkeypatch.setattr(datasets, "load", lambda *a, **k: ((x, y), (x, y)))
    monkeypatch.setattr(classifiers, "load_classifier", lambda seed=0, root=(): "classifier")

    def record(images, folder, config, seed=0, recorders=(), verbose="auto", **kwargs):
        calls.append({"images": images, "folder": str(folder), "config": config, "seed": seed,
                      "recorders": recorders, "verbose": verbose, **kwargs})
        probe = [{"step": 16, "epoch": config.epochs, "accuracy": 0.5, "top_class_share": 0.25}]
        return types.SimpleNamespace(record={"wall_seconds": 1.0, "iterations": 16}, probe=probe, seed=seed,
                                     folder=folder)

    monkeypatch.setattr(fitting, "fit_gan", record)
    return calls


@pytest.fixture(scope="module")
def finished_runs(tmp_path_factory):
    """Three tiny finished runs, ``{(recipe, seed): folder}``: two of the paper that the probe
    reads as collapsed (seeds 2 and 10) and one healthy run of another recipe (seed 3)."""
    rng = np.random.default_rng(0)
    images = rng.uniform(-1, 1, (TINY_RUN.batch_size, PAPER.image_size, PAPER.image_size, 1)).astype(np.float32)
    masks = data.paper_masks(PROBE_DIGITS, 0)
    corrupted, labels = data.apply_mask(images[:PROBE_DIGITS], masks), np.arange(PROBE_DIGITS) % 10
    folders = {}
    for recipe, seed, classifier in (("paper", 10, OneDigitClassifier()), ("paper", 2, OneDigitClassifier()),
                                     ("no label smoothing", 3, CyclingClassifier())):
        folder = tmp_path_factory.mktemp("runs") / f"{runs.slug(recipe)}-{seed}"
        probe = fitting.ClassifierProbe(classifier, corrupted, masks, labels)
        run = fitting.fit_gan(images, folder, TINY_RUN, seed=seed, recorders=[probe], verbose=0)
        assert run is not None and runs.status(folder) == "finished"
        folders[recipe, seed] = folder
    return folders

