"""Tests of lib.studies.beyond_digits: another dataset scored as the digits were, and training on
a reader's own images."""
import os

import numpy as np
import pytest

from lib import artifacts, classifiers, data, datasets, evaluation, holes, inpainting, realism, runs, shipped
from lib.config import PAPER
from lib.studies import beyond_digits, collapse, speed

from stubs import CentreClassifier, ConstantGenerator, StubJudge, forbid_work, synthetic_test_set, tiny_images

ROOT = ("fashion_mnist",)


def stub_scoring(monkeypatch, count=40):
    images, labels = synthetic_test_set(per_class=count // 10)
    monkeypatch.setattr(evaluation, "test_digits", lambda digits=None, dataset="mnist":
                        (data.to_model_input(images), labels))
    monkeypatch.setattr(classifiers, "load_classifiers", lambda seeds=(0, 1, 2), config=None, root=():
                        {seed: CentreClassifier() for seed in seeds})
    judged = []
    monkeypatch.setattr(realism, "default_judge", lambda seeds=None, epochs=3, dataset="mnist":
                        judged.append((epochs, dataset)) or StubJudge())
    monkeypatch.setattr(inpainting, "load_inpainter", lambda name, dataset="mnist":
                        (ConstantGenerator(1.0 if name == "book" else -1.0), PAPER))
    monkeypatch.setattr(collapse, "outcomes", lambda root=(): {
        "paper": [{"seed": 0, "collapsed": True, "top_class_share": 0.95, "probe_accuracy": 0.1}],
        "instance noise": [{"seed": 0, "collapsed": False, "top_class_share": 0.2, "probe_accuracy": 0.8}]})
    return labels, judged


def test_the_study_scores_every_method_on_every_hole_with_a_converged_detector(monkeypatch, private_artifacts):
    labels, judged = stub_scoring(monkeypatch)
    record = beyond_digits.run_study(root=ROOT)
    assert judged == [(realism.CONVERGED, "fashion_mnist")]
    written = artifacts.load_json(beyond_digits.record_path(ROOT))  # verified against its manifest
    assert written == artifacts.as_json(record)
    assert written["holes"] == ["paper", "c12", "c14", "c16", "strokes"] and written["digits"] == len(labels)
    assert written["methods"] == ["masked", "telea", "navier-stokes", "paper gan", "book"]
    assert written["classes"][6] == "shirt" and len(written["clean"]["per_class"]) == 10
    for name in written["methods"]:
        assert set(written["scores"][name]) == set(written["holes"])
        assert {"accuracy_mean", "detector", "frechet", "hole_psnr"} <= set(written["scores"][name]["c14"])
        assert all(len(values) == 10 for values in written["per_class"][name].values())
    # A white fill makes the centre classifier read every image as a 1, a black one as a 0.
    assert written["scores"]["book"]["c14"]["accuracy_mean"] == pytest.approx(np.mean(labels == 1))
    assert written["scores"]["paper gan"]["c14"]["accuracy_mean"] == pytest.approx(np.mean(labels == 0))
    assert list(written["collapse"]) == ["paper"]  # the fix's runs only; other suspects are chapter 5's
    assert written["book_seeds"] == {}  # no seed of the book's recipe is trained here


def test_the_study_scores_each_finished_seed_of_the_books_recipe(monkeypatch, private_artifacts):
    stub_scoring(monkeypatch)

    class FinishedRun:
        record = {"wall_seconds": 812.5, "iterations": 12181}
        config = PAPER

        def generator(self):
            return ConstantGenerator(1.0)

    finished = {speed.run_folder(speed.FAST, seed, ROOT) for seed in (0, 2)}
    monkeypatch.setattr(runs, "status", lambda folder: "finished" if folder in finished else "missing")
    monkeypatch.setattr(runs, "open", lambda folder: FinishedRun())
    record = beyond_digits.run_study(root=ROOT)
    assert list(record["book_seeds"]) == ["0", "2"]
    assert record["book_seeds"]["2"]["seconds"] == 812.5
    assert record["book_seeds"]["2"]["accuracy"] == {key: record["scores"]["book"][key]["accuracy_mean"]
                                                     for key in record["holes"]}


def test_the_study_refuses_mnist_whose_numbers_are_the_earlier_chapters(monkeypatch, private_artifacts):
    forbid_work(monkeypatch)
    for root in ((), ("quick",)):
        with pytest.raises(ValueError, match="another dataset than MNIST"):
            beyond_digits.run_study(root=root)


def made_record(book_c14=0.80, book_detector=0.70, seconds=(850.0, 880.0), collapse_runs=5):
    keys = ["paper", "c12", "c14", "c16", "strokes"]

    def scores(accuracy, detector):
        return {key: {"accuracy_mean": accuracy, "detector": detector, "frechet": 2 * detector} for key in keys}

    book = scores(0.85, book_detector)
    book["c14"]["accuracy_mean"] = book_c14
    return {"holes": keys, "methods": ["masked", "navier-stokes", "book"],
            "classes": list(datasets.named("fashion_mnist").classes),
            "clean": {"accuracy_mean": 0.90, "detector": 0.5, "frechet": 0.1,
                      "per_class": [0.85, 0.98, 0.84, 0.9, 0.83, 0.97, 0.70, 0.96, 0.98, 0.96]},
            "scores": {"masked": scores(0.60, 0.99), "navier-stokes": scores(0.70, 0.90), "book": book},
            "book_seeds": {str(seed): {"seconds": value} for seed, value in enumerate(seconds)},
            "collapse": {"paper": [{"collapsed": True, "probe_accuracy": 0.1}] * collapse_runs,
                         "training-mode fakes": [{"collapsed": False, "probe_accuracy": 0.8}] * collapse_runs}}


def test_the_tables_read_the_record_in_percent_with_the_clean_row_first():
    record = made_record()
    accuracy = beyond_digits.accuracy_table(record)
    assert list(accuracy) == ["clean", "masked", "navier-stokes", "book"]
    assert accuracy["book"]["14x14 centre"] == 80.0 and accuracy["clean"]["free-form strokes"] == 90.0
    detector = beyond_digits.realism_table(record)
    assert detector["book"]["paper (8x8 jittered)"] == 70.0 and detector["clean"]["16x16 centre"] == 50.0
    assert beyond_digits.realism_table(record, "frechet")["navier-stokes"]["12x12 centre"] == 1.8
    with pytest.raises(ValueError, match="measure must be"):
        beyond_digits.realism_table(record, "psnr")


def test_the_gap_share_is_what_a_method_wins_back_of_what_the_hole_costs():
    record = made_record(book_c14=0.80)
    assert beyond_digits.gap_share(record) == pytest.approx((0.80 - 0.60) / (0.90 - 0.60))
    assert beyond_digits.gap_share(record, "masked") == pytest.approx(0.0)
    record["scores"]["masked"]["c14"]["accuracy_mean"] = 0.95
    with pytest.raises(ValueError, match="costs no accuracy"):
        beyond_digits.gap_share(record)


def test_the_target_report_says_what_is_met_and_by_how_much():
    report = beyond_digits.target_report(made_record())
    assert all(entry["met"] for entry in report.values()), report
    assert report["accuracy vs navier-stokes, 14x14 centre"]["by"] == pytest.approx(0.10)
    assert report["detector vs navier-stokes, 16x16 centre"]["by"] == pytest.approx(0.20)
    missed = beyond_digits.target_report(made_record(book_c14=0.65, book_detector=0.95, seconds=(850.0, 990.0),
                                                     collapse_runs=3))
    assert missed["accuracy vs navier-stokes, 14x14 centre"]["by"] == pytest.approx(-0.05)
    assert not missed["detector vs navier-stokes, paper (8x8 jittered)"]["met"]
    assert missed["gap recovered, 14x14 centre"]["by"] == pytest.approx(1 / 6 - 0.5)
    assert missed["slowest seed's training seconds, beside other work"]["by"] == pytest.approx(-90.0)
    assert "training seconds alone, estimated" not in missed
    assert missed["collapse seeds, paper"] == {"measured": 3, "target": 5, "met": False, "by": -2}
    assert beyond_digits.collapse_rates(made_record())[0]["collapse rate"] == 1.0


def test_the_training_time_carries_mnists_alone_timing_over_by_the_measured_ratio(committed_artifacts):
    benchmark = {"results": {"warm-up step": {"ratio": 1.02}, "adversarial step": {"ratio": 0.99}}}
    time = beyond_digits.training_time(made_record(), benchmark)
    assert time["seeds"] == {"0": 850.0, "1": 880.0} and time["ratio"]["warm-up step"] == 1.02
    assert time["alone_estimate"] == pytest.approx(max(time["mnist_alone"].values()) * 1.02)
    report = beyond_digits.target_report(made_record(), time)
    assert report["training seconds alone, estimated"]["measured"] == time["alone_estimate"]


def test_the_hardest_classes_come_from_the_clean_accuracy_and_their_examples_from_the_labels():
    record = made_record()
    assert beyond_digits.hardest_classes(record) == ["shirt", "coat", "pullover"]
    labels = np.array([6, 0, 6, 4, 6, 4])
    assert beyond_digits.hardest_examples(labels, ["shirt", "coat"], per_class=2) == [0, 2, 3, 5]
    with pytest.raises(ValueError, match="has no class"):
        beyond_digits.hardest_examples(labels, ["hat"])
    with pytest.raises(ValueError, match="per_class"):
        beyond_digits.hardest_examples(labels, ["shirt"], per_class=0)
    with pytest.raises(ValueError, match="a list of class names"):
        beyond_digits.hardest_examples(labels, "shirt")


def test_the_readers_refuse_an_incomplete_record_and_unknown_names():
    record = made_record()
    with pytest.raises(ValueError, match="method must be"):
        beyond_digits.gap_share(record, "telea")
    with pytest.raises(ValueError, match="no hole"):
        beyond_digits.gap_share(record, hole=10)
    del record["scores"]["book"]["c12"]
    with pytest.raises(ValueError, match="no scores for"):
        beyond_digits.accuracy_table(record)
    with pytest.raises(ValueError, match="expected a record"):
        beyond_digits.realism_table({"holes": []})
    without_seeds = {**made_record(), "book_seeds": {}}
    with pytest.raises(ValueError, match="no finished seed"):
        beyond_digits.target_report(without_seeds)
    with pytest.raises(ValueError, match="no finished seed"):
        beyond_digits.training_time(without_seeds, {"results": {}})


@pytest.mark.parametrize("images, message", [
    (np.zeros((300, 28, 28), np.float32), "uint8"),
    (np.zeros((300, 32, 32), np.uint8), "shape"),
    (np.zeros((0, 28, 28), np.uint8), "at least one image"),
    (np.zeros((10, 28, 28), np.uint8), "at least one batch"),
])
def test_training_on_a_readers_images_refuses_bad_images_before_any_work(monkeypatch, committed_artifacts, tmp_path,
                                                                         images, message):
    forbid_work(monkeypatch)
    with pytest.raises(ValueError, match=message):
        beyond_digits.train_on_images(images, tmp_path / "mine")


def test_training_on_a_readers_images_refuses_bad_settings_before_any_work(monkeypatch, committed_artifacts, tmp_path):
    forbid_work(monkeypatch)
    images = np.zeros((300, 28, 28), np.uint8)
    with pytest.raises(ValueError, match="quick must be"):
        beyond_digits.train_on_images(images, tmp_path / "mine", quick="yes")
    for folder in (None, "", 3):
        with pytest.raises(ValueError, match="folder must"):
            beyond_digits.train_on_images(images, folder)


def test_a_readers_own_images_train_the_books_recipe_and_fill_their_holes(committed_artifacts, tmp_path):
    own = np.clip(np.rint((tiny_images(256, seed=4)[..., 0] + 1) * 127.5), 0, 255).astype(np.uint8)
    run = beyond_digits.train_on_images(own, tmp_path / "mine", quick=True, verbose=0)
    assert run.config.name == speed.FAST and run.record["train_images"] == 256
    assert beyond_digits.train_on_images(own, tmp_path / "mine", quick=True, verbose=0).record == run.record  # opened
    masks = holes.masks(4, 14)
    filled = inpainting.inpaint_images(own[:4], masks, inpainter=(run.generator(), run.config), dataset="fashion_mnist")
    assert filled.shape == (4, 28, 28) and filled.dtype == np.uint8
    assert np.array_equal(filled[~masks], own[:4][~masks])  # known pixels are kept


def test_train_default_ships_another_datasets_model_and_reports_its_seconds(monkeypatch, private_artifacts):
    class Trained:
        def __init__(self, seed):
            self.folder = speed.run_folder(speed.FAST, seed, ROOT)
            self.folder.mkdir(parents=True)
            self.record = {"wall_seconds": 800.0 + seed}

    monkeypatch.setattr(speed, "train_recipe", lambda name, seed, root: Trained(seed))
    monkeypatch.setattr(speed, "write_record", lambda **kwargs: pytest.fail("MNIST's record is not another dataset's"))
    assert speed.train_default(seeds=(0, 1), root=ROOT) == {0: 800.0, 1: 801.0}
    assert shipped.folder("book", ROOT) == speed.run_folder(speed.FAST, speed.SHIPPED_SEED, ROOT)


def test_the_study_resumes_hole_by_hole_and_reads_the_seeds_afresh(monkeypatch, private_artifacts):
    stub_scoring(monkeypatch)
    first = beyond_digits.run_study(root=ROOT)
    scored = []
    real_evaluate = evaluation.evaluate
    monkeypatch.setattr(evaluation, "evaluate", lambda methods, *args, **kwargs:
                        scored.append(list(methods)) or real_evaluate(methods, *args, **kwargs))
    again = beyond_digits.run_study(root=ROOT)
    assert scored == [] and again["scores"] == first["scores"]
    monkeypatch.setattr(collapse, "outcomes", lambda root=(): {})
    assert beyond_digits.run_study(root=ROOT)["collapse"] == {}


def test_the_target_table_gives_each_target_in_its_unit():
    table = beyond_digits.target_table(beyond_digits.target_report(made_record()))
    assert table["accuracy vs navier-stokes, 14x14 centre"] == {"measured": "80.00 %", "target": "70.00 %", "met": "yes",
                                                                 "by": "10.00 points"}
    assert table["gap recovered, 14x14 centre"]["measured"] == "67 %"
    assert table["slowest seed's training seconds, beside other work"]["by"] == "20 s"
    assert table["collapse seeds, paper"] == {"measured": "5", "target": "5", "met": "yes", "by": "0"}


@pytest.mark.skipif(not os.environ.get("FASHION_MNIST_NPZ"), reason="FASHION_MNIST_NPZ is not set")
def test_the_fill_columns_show_each_shipped_model_beside_navier_stokes(committed_artifacts):
    (_, _), (x_test, _) = datasets.load("fashion_mnist")
    columns = beyond_digits.fill_columns(x_test[:3], 14)
    assert list(columns) == ["original", "with the hole", "Navier-Stokes", "paper's GAN", "book's model"]
    assert all(images.shape == (3, 28, 28) and images.dtype == np.uint8 for images in columns.values())
    hole = holes.masks(1, 14)[0]
    assert (columns["with the hole"][:, hole] == 0).all()
    assert np.array_equal(columns["book's model"][:, ~hole], x_test[:3][:, ~hole])
