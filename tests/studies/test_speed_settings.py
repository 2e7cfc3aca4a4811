"""Tests of lib.studies.speed_settings."""
import numpy as np
import pytest

from lib import artifacts, classifiers, datasets, runs
from lib.studies import ablation, speed_settings
from lib.config import MODE_VARIABLE, PAPER

from stubs import CentreClassifier, ConstantGenerator, forbid_work, synthetic_test_set

pytestmark = pytest.mark.usefixtures("private_artifacts")  # nothing here touches the committed artifacts

SIZE = PAPER.image_size


class FakeRun:
    """A finished run as `runs.open` gives it: a generator, its configuration and the record."""

    def __init__(self, value, config, record=None, probe=()):
        self.value, self.config, self.record, self.probe = value, config, record or {}, list(probe)

    def generator(self):
        return ConstantGenerator(self.value)


def test_speed_study_checks_the_variant_before_any_work(monkeypatch):
    forbid_work(monkeypatch)
    with pytest.raises(ValueError, match="unknown variant"):
        speed_settings.run_speed_study(name="+ magic", root=runs.mode_root())


def test_speed_study_trains_each_seed_in_every_setting(monkeypatch, private_artifacts):
    monkeypatch.setenv(MODE_VARIABLE, "full")  # quick mode would write under artifacts/quick/
    x, _ = synthetic_test_set(per_class=4)
    y = np.zeros(len(x), np.uint8)
    y[:10] = 1  # a quarter are 1s: a black fill scores 0.75, a white one 0.25
    monkeypatch.setattr(datasets, "load", lambda *a, **k: ((x, y), (x, y)))
    monkeypatch.setattr(classifiers, "load_classifier", lambda seed=0, root=(): CentreClassifier())
    calls = []

    def fake_run_variant(name, epochs, seed, config, folder):
        calls.append((name, epochs, seed, config.mixed_precision, config.share_generator_pass, folder))
        return FakeRun(1.0 if config.mixed_precision else -1.0, config,
                       {"wall_seconds": 30.0 if config.mixed_precision else 40.0, "iterations": 10})

    monkeypatch.setattr(ablation, "run_variant", fake_run_variant)
    rows = speed_settings.run_speed_study(seeds=(0, 1), epochs=2, name="+ composite", root=runs.mode_root())
    assert [c[2:5] for c in calls] == [(0, False, False), (1, False, False), (0, True, False), (1, True, False),
                                       (0, True, True), (1, True, True)]
    assert {c[:2] for c in calls} == {("+ composite", 2)}
    assert calls[0][5] == ablation.run_folder("+ composite", 2, 0)  # float32: the ablation's own run
    assert calls[2][5] == private_artifacts / "variants" / "composite-2ep-bfloat16" / "seed0"
    assert calls[5][5] == private_artifacts / "variants" / "composite-2ep-bfloat16-shared" / "seed1"
    assert [row["setting"] for row in rows] == [setting for setting in speed_settings.SPEED_SETTINGS for _ in (0, 1)]
    assert [row["seconds per iteration"] for row in rows] == [4.0, 4.0, 3.0, 3.0, 3.0, 3.0]
    # CentreClassifier calls a black centre 0 and a white one 1.
    assert rows[0]["14x14 centre"] == pytest.approx(0.75) and rows[2]["14x14 centre"] == pytest.approx(0.25)
    assert rows[0]["paper hole"] == pytest.approx(0.75)  # the paper's hole covers the centre pixel too
    record = artifacts.load_json(private_artifacts / "variants" / "speed_settings_study.json")
    assert record["variant"] == "+ composite" and record["epochs"] == 2 and len(record["rows"]) == 6


def test_speed_study_settings_have_distinct_folders_and_float32_is_the_plain_run():
    suffixes = [suffix for _, suffix in speed_settings.SPEED_SETTINGS.values()]
    assert suffixes[0] == "" and len(set(suffixes)) == len(suffixes)
    for changes, _ in speed_settings.SPEED_SETTINGS.values():
        PAPER.variant("check", **changes)  # every change is a configuration field


def test_speed_study_defaults_to_the_recommended_variant(monkeypatch, private_artifacts):
    monkeypatch.setenv(MODE_VARIABLE, "quick")
    artifacts.save_json(ablation.recommended_record(), {"chosen": "+ skip connections", "epochs": 40})
    x, y = synthetic_test_set(per_class=4)
    monkeypatch.setattr(datasets, "load", lambda *a, **k: ((x, y), (x, y)))
    monkeypatch.setattr(classifiers, "load_classifier", lambda seed=0, root=(): CentreClassifier())
    calls = []

    def fake_run_variant(name, epochs, seed, config, folder):
        calls.append((name, epochs, folder))
        raise KeyboardInterrupt  # enough: the first run says which variant and budget

    monkeypatch.setattr(ablation, "run_variant", fake_run_variant)
    with pytest.raises(KeyboardInterrupt):
        speed_settings.run_speed_study(epochs=12, root=runs.mode_root())
    assert calls == [("+ skip connections", 2, ablation.run_folder("+ skip connections", 2, 0, (runs.QUICK,)))]
