"""Tests of lib.selection: candidates trained on held-out digits, seeds summarised with an
interval, and a choice that no single seed can make."""
import math
import os
import types

import numpy as np
import pytest

from lib import artifacts, classifiers, data, datasets, fitting, realism, runs
from lib.studies import ablation, selection, speed
from lib.config import CLASSIFIER, MODE_VARIABLE

from stubs import CentreClassifier, StubJudge

real_mnist = pytest.mark.skipif(not os.environ.get(data.NPZ_VARIABLE), reason="MNIST_NPZ is not set")


def test_every_candidate_trains_with_the_shared_pass_and_an_adversarial_phase(monkeypatch):
    monkeypatch.setenv(MODE_VARIABLE, "full")
    for name in selection.CANDIDATES:
        config = selection.candidate_config(name)
        assert config.name == name and config.share_generator_pass
        assert 0 < config.warmup_epochs < config.epochs and config.adversarial_weight > 0
    for name in selection.CANDIDATES:  # one definition of each recipe, shared with appendix D's record
        assert selection.candidate_config(name) == speed.recipe(name)
    assert speed.FAST in selection.CANDIDATES
    with pytest.raises(ValueError, match="unknown recipe"):
        selection.candidate_config("fastest")


@pytest.fixture
def private_artifacts(monkeypatch, tmp_path):
    """Runs go to a folder of the test's; the recipes still start from the committed choice."""
    recommended = ablation.recommended_run()
    monkeypatch.setattr(ablation, "recommended_run", lambda root=(): recommended)
    monkeypatch.setenv(runs.ROOT_VARIABLE, str(tmp_path / "artifacts"))
    return tmp_path / "artifacts"


def test_a_candidate_trains_without_the_validation_digits_and_watches_only_them(monkeypatch, private_artifacts):
    monkeypatch.setenv(MODE_VARIABLE, "full")
    x = np.arange(6000 * 784, dtype=np.int64).reshape(6000, 28, 28) % 251
    y = (np.arange(6000) // 7) % 10  # the validation digits' labels differ from the first digits'

    test = (np.full((100, 28, 28), 255, np.uint8), np.zeros(100, int))
    monkeypatch.setattr(datasets, "load", lambda *a, **k: ((x.astype(np.uint8), y), test))
    monkeypatch.setattr(classifiers, "load_classifier", lambda seed=0, root=(): "classifier")
    calls = []

    def fit_gan(images, folder, config, seed=0, recorders=(), **kwargs):
        calls.append({"images": images, "folder": folder, "recorders": recorders})
        return types.SimpleNamespace(record={"wall_seconds": 1.0}, probe=[{"accuracy": 0.5}])

    monkeypatch.setattr(fitting, "fit_gan", fit_gan)
    selection.train_candidate(speed.ONE_ADVERSARIAL_EPOCH, seed=2, root=runs.mode_root())
    (call,) = calls
    assert call["folder"] == private_artifacts / "selection" / "fast__adversary_0_1_for_1_epoch" / "seed2"
    assert np.array_equal(call["images"], data.to_model_input(x[:1000].astype(np.uint8)))
    probe = next(r for r in call["recorders"] if isinstance(r, fitting.ClassifierProbe))
    assert len(probe.labels) == 1000 and np.array_equal(probe.labels, y[1000:2000])  # validation digits
    assert not np.array_equal(probe.labels, y[:1000]) and not np.array_equal(probe.labels, test[1][:1000])
    assert probe.every_steps == 0  # at each epoch's end


def test_the_validation_split_holds_out_the_last_digits():
    images, labels = np.zeros((5010, 28, 28), np.uint8), np.arange(5010)
    (train, train_labels), (validation, validation_labels) = data.validation_split(images, labels)
    assert len(train) == 10 and len(validation) == data.VALIDATION_DIGITS
    assert list(train_labels) == list(range(10)) and validation_labels[0] == 10
    (train, _), (_, quick_labels) = data.validation_split(images, labels, train_digits=8)
    assert len(train) == 8 and list(quick_labels) == [10, 11]
    with pytest.raises(ValueError, match="more than 5000 training digits"):
        data.validation_split(images[:5000], labels[:5000])
    with pytest.raises(ValueError, match="one label each"):
        data.validation_split(images, labels[:-1])


def test_mean_interval_is_students_t_over_the_seeds():
    mean, half = selection.mean_interval([1.0, 2.0, 3.0])
    assert mean == 2.0 and half == pytest.approx(4.303 / math.sqrt(3))
    assert math.isnan(selection.mean_interval([0.5])[1])
    # beyond the table, the expansion: t(10) = 2.228, t(30) = 2.042, t(120) = 1.980
    for degrees, t in ((10, 2.228), (30, 2.042), (120, 1.980)):
        assert selection.t_975(degrees) == pytest.approx(t, abs=1e-3)
    assert selection.mean_interval(np.arange(11.0))[1] == pytest.approx(2.228 * np.arange(11.0).std(ddof=1) / math.sqrt(11),
                                                                        rel=1e-3)
    for bad in ([], [[1.0, 2.0]], [1.0, math.nan]):
        with pytest.raises(ValueError, match="finite numbers"):
            selection.mean_interval(bad)


def seed_scores(accuracy, detector, seconds=800.0):
    # JSON sorts the keys: the table must not take their order from the record
    return {"seconds": seconds, "last_epoch_losses": {"d_loss_fake": 0.6, "d_loss_real": 0.7, "g_loss": 1.0}, **{hole: {"accuracy": accuracy + jitter, "detector": detector + jitter}
                                   for hole, jitter in (("paper", 0.0), ("c16", -0.001))}}


def record_of(candidates):
    return {"protocol": {"holes": ["paper", "c16"]},
            "candidates": {name: {"config": {}, "seeds": {str(seed): seed_scores(a + 0.002 * seed, d)
                                                          for seed in range(seeds)}}
                           for name, (a, d, seeds) in candidates.items()}}


def test_the_least_detected_candidate_is_chosen_among_the_equally_accurate():
    record = record_of({"sharp": (0.970, 0.60, 3), "blurry": (0.972, 0.80, 3)})
    choice = selection.choose(record)
    assert choice["candidate"] == "sharp" and choice["less_accurate"] == []


def test_when_each_candidate_is_clearly_below_another_somewhere_none_is_chosen():
    record = record_of({"left": (0.97, 0.55, 3), "right": (0.97, 0.80, 3)})
    for seed in record["candidates"]["right"]["seeds"].values():
        seed["paper"]["accuracy"] -= 0.05  # right is worse on the paper's hole, better at 16x16
        seed["c16"]["accuracy"] += 0.05
    choice = selection.choose(record)
    assert choice["candidate"] is None and choice["less_accurate"] == ["left", "right"]


def test_a_candidate_clearly_less_accurate_is_out_however_realistic():
    record = record_of({"sharp": (0.90, 0.55, 3), "blurry": (0.97, 0.80, 3)})
    choice = selection.choose(record)
    assert choice["candidate"] == "blurry" and choice["less_accurate"] == ["sharp"]


def test_no_choice_is_made_while_a_candidate_lacks_seeds():
    record = record_of({"sharp": (0.97, 0.55, 2), "blurry": (0.97, 0.80, 3)})
    assert selection.choose(record) is None  # sharp has two seeds only
    assert selection.choose(record, names=["blurry"])["candidate"] == "blurry"
    assert selection.choose(record, seeds=2)["candidate"] == "sharp"
    assert selection.choose(record, names=["blurry", "unknown"]) is None
    for seeds in (0, 1, "3"):
        with pytest.raises(ValueError, match="seeds"):
            selection.choose(record, seeds=seeds)
    rows = selection.summary_rows(record)
    assert [row["candidate"] for row in rows] == ["sharp", "blurry"]
    assert rows[0]["last epoch: D real / D fake / adversarial"] == "0.70 / 0.60 / 1.00"
    assert rows[1]["acc paper %"] == f"{100 * 0.972:.2f} ± {100 * selection.mean_interval([0.97, 0.972, 0.974])[1]:.2f}"


@real_mnist
@pytest.mark.slow
def test_a_quick_candidate_is_trained_scored_on_validation_digits_and_recorded(monkeypatch, private_artifacts):
    monkeypatch.setenv(MODE_VARIABLE, "quick")
    monkeypatch.setattr(classifiers, "load_classifiers", lambda seeds=(0, 1, 2), config=CLASSIFIER:
                        {seed: CentreClassifier() for seed in seeds})
    monkeypatch.setattr(classifiers, "load_classifier", lambda seed=0, config=CLASSIFIER, root=(): CentreClassifier())
    monkeypatch.setattr(realism, "default_judge", StubJudge)
    selection.train_candidate(speed.ONE_ADVERSARIAL_EPOCH, seed=0, root=runs.mode_root())
    record = selection.write_record(names=[speed.ONE_ADVERSARIAL_EPOCH], seeds=(0,), root=runs.mode_root())
    written = artifacts.load_json(selection.record_path(runs.mode_root()))
    assert written == artifacts.as_json(record)
    assert written["protocol"]["validation_digits"] == 2048 // 4
    scores = written["candidates"][speed.ONE_ADVERSARIAL_EPOCH]["seeds"]["0"]
    assert set(scores) == {"seconds", "last_epoch_losses", "paper", "c12", "c14", "c16"}
    assert set(scores["last_epoch_losses"]) == {"d_loss_real", "d_loss_fake", "g_loss"}
    assert all(0 < value < 20 for value in scores["last_epoch_losses"].values())  # D is connected: no near-20 term
    assert all(0 <= scores[hole]["accuracy"] <= 1 for hole in ("paper", "c16"))
    assert written["choice"] is None  # one seed: nothing is chosen
    folder = selection.run_folder(speed.ONE_ADVERSARIAL_EPOCH, 0, runs.mode_root())
    assert runs.open(folder).probe and not (folder / runs.GENERATOR_WEIGHTS).exists()  # its records only
    assert selection.write_record(names=[speed.ONE_ADVERSARIAL_EPOCH], seeds=(0,), root=runs.mode_root()) == record  # scored once, not again
