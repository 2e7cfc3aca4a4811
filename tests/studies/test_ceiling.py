"""Tests of lib.studies.ceiling."""
import numpy as np
import pytest

from lib import artifacts, classifiers, data, datasets, holes, runs
from lib.studies import ceiling
from lib.config import CLASSIFIER, MODE_VARIABLE, PAPER

from stubs import forbid_work, synthetic_test_set

pytestmark = pytest.mark.usefixtures("private_artifacts")  # nothing here touches the committed artifacts


SIZE = PAPER.image_size


def test_run_ceiling_scores_every_hole_and_records_them(monkeypatch, private_artifacts):
    monkeypatch.setenv(MODE_VARIABLE, "quick")
    x, y = synthetic_test_set(per_class=300)
    monkeypatch.setattr(datasets, "load", lambda *a, **k: ((x, y), (x[:40], y[:40])))
    seen = []

    def fake_accuracy(x_train, y_train, train_masks, x_test, y_test, test_masks, seed, epochs):
        seen.append((len(x_train), train_masks, test_masks, epochs))
        return float(train_masks.mean())

    monkeypatch.setattr(classifiers, "corrupted_digit_accuracy", fake_accuracy)
    results = ceiling.run_ceiling(holes_to_score=("paper", 12), root=runs.mode_root())
    (paper_train, paper_masks, paper_test, epochs), (_, centre_train, centre_test, _) = seen
    assert paper_train == 2048 and epochs == 1  # the quick budget
    assert np.array_equal(paper_masks, data.paper_masks(2048, holes.TRAINING_MASK_SEED))
    assert np.array_equal(paper_test, holes.evaluation_masks(40))
    assert np.array_equal(centre_train, data.centre_masks(2048, 12))
    assert np.array_equal(centre_test, data.centre_masks(40, 12))
    record = artifacts.load_json(private_artifacts / "quick" / "ceiling" / "corrupted_digit_accuracy.json")
    assert set(record["results"]) == {"paper", "12"} == set(results)
    assert record["results"]["12"]["accuracy"] == pytest.approx(144 / 784)
    assert record["epochs"] == 1 and record["seed"] == 0 and record["config"] == artifacts.as_json(CLASSIFIER.to_dict())


def test_run_ceiling_with_a_longer_budget_writes_its_own_record(monkeypatch, private_artifacts):
    monkeypatch.setenv(MODE_VARIABLE, "quick")
    x, y = synthetic_test_set(per_class=30)
    monkeypatch.setattr(datasets, "load", lambda *a, **k: ((x, y), (x[:40], y[:40])))
    seen = []
    monkeypatch.setattr(classifiers, "corrupted_digit_accuracy",
                        lambda *args, seed, epochs: seen.append((args[2].any(), epochs)) or 0.5)
    ceiling.run_ceiling(holes_to_score=(holes.NO_HOLE,), epochs=10, root=runs.mode_root())
    assert seen == [(False, 1)]  # nothing missing; quick mode caps the budget
    folder = private_artifacts / "quick" / "ceiling"
    record = artifacts.load_json(folder / "corrupted_digit_accuracy-10ep.json")
    assert record["epochs"] == 1 and set(record["results"]) == {"none"}
    assert not (folder / "corrupted_digit_accuracy.json").exists()
    with pytest.raises(ValueError, match="epochs"):
        ceiling.run_ceiling(holes_to_score=("paper",), epochs=0, root=runs.mode_root())
    with pytest.raises(ValueError, match="a hole is a centre size"):
        ceiling.run_ceiling(holes_to_score=("paper", 99), root=runs.mode_root())  # refused before the good hole is trained
    with pytest.raises(ValueError, match="at least one hole"):
        ceiling.run_ceiling(holes_to_score=(), root=runs.mode_root())
    assert seen == [(False, 1)]


@pytest.mark.parametrize("epochs", [0, 2.5, True, "10"])
def test_run_ceiling_rejects_a_budget_that_is_not_a_positive_integer_before_any_work(monkeypatch, private_artifacts,
                                                                                     epochs):
    forbid_work(monkeypatch)
    with pytest.raises(ValueError, match="epochs must be an integer >= 1"):
        ceiling.run_ceiling(holes_to_score=("paper",), epochs=epochs, root=runs.mode_root())
    assert not private_artifacts.exists()


def test_run_ceiling_adds_holes_to_a_record_of_the_same_recipe(monkeypatch, private_artifacts):
    monkeypatch.setenv(MODE_VARIABLE, "quick")
    x, y = synthetic_test_set(per_class=30)
    monkeypatch.setattr(datasets, "load", lambda *a, **k: ((x, y), (x[:40], y[:40])))
    monkeypatch.setattr(classifiers, "corrupted_digit_accuracy", lambda *args, seed, epochs: 0.25 + seed / 10)
    ceiling.run_ceiling(holes_to_score=("paper", 12), root=runs.mode_root())
    ceiling.run_ceiling(holes_to_score=(12, holes.NO_HOLE), root=runs.mode_root())
    path = private_artifacts / "quick" / "ceiling" / "corrupted_digit_accuracy.json"
    assert set(artifacts.load_json(path)["results"]) == {"paper", "12", "none"}
    ceiling.run_ceiling(holes_to_score=(8,), seed=1, root=runs.mode_root())  # another recipe: a fresh record
    assert artifacts.load_json(path)["results"] == {"8": {"accuracy": 0.35, "wall_seconds": pytest.approx(0, abs=1)}}


def test_ceiling_table_puts_the_model_beside_every_budget(private_artifacts):
    every_hole = ("none", "paper", *holes.HOLE_SIZES)
    for epochs, share in ((3, 0.5), (10, 0.75)):
        results = {str(hole): {"accuracy": share} for hole in every_hole if not (epochs == 3 and hole == "none")}
        artifacts.save_json(ceiling.record_path(epochs), {"results": results})
    assert ceiling.record_path(3).parent == private_artifacts / "ceiling"
    artifacts.save_json(classifiers.classifier_record(0), {"clean_test_accuracy": 0.99})
    by_hole = {holes.label(hole): {"recommended": {"accuracy": 0.9}} for hole in every_hole[1:]}
    rows = ceiling.ceiling_table(by_hole, budgets=(3, 10))
    assert list(rows) == [holes.label(hole) for hole in every_hole]
    assert rows["no hole"] == {"recommended, shipped classifier %": 99.0, "trained on corrupted digits, 3 epochs %": None,
                               "trained on corrupted digits, 10 epochs %": 75.0}
    assert rows["12x12 centre"]["recommended, shipped classifier %"] == 90.0
    assert rows["12x12 centre"]["trained on corrupted digits, 3 epochs %"] == 50.0
    with pytest.raises(ValueError, match="paper gan"):
        ceiling.ceiling_table(by_hole, method="paper gan", budgets=(3, 10))
    del by_hole["16x16 centre"]
    with pytest.raises(ValueError, match="16x16 centre"):
        ceiling.ceiling_table(by_hole, budgets=(3, 10))
