"""Chapter 8's study of blind correction: its pieces, its record and the targets against it."""
import os

import numpy as np
import pytest

from lib import artifacts, classifiers, corruptions, data, inpainting, mask_head, runs
from lib.studies import correction

from stubs import untrained_inpainter, white_finder

real_mnist = pytest.mark.skipif(not os.environ.get(data.NPZ_VARIABLE), reason="MNIST_NPZ is not set")


@pytest.fixture(scope="module")
def inpainter():
    return untrained_inpainter()


def test_the_median_filter_removes_a_lone_speck_and_the_oracle_fills_only_the_damage(inpainter):
    digits = np.zeros((2, 28, 28), np.uint8)
    digits[:, 5, 5] = 255
    assert not correction.median_filtered(digits).any()
    true = digits == 255
    filled = correction.oracle_filled(digits, true, inpainter)
    np.testing.assert_array_equal(filled[~true], digits[~true])


def study_row(condition, corrupted, blind, oracle):
    return {"condition": condition, "as corrupted": corrupted, "blind": blind, "oracle": oracle}


def test_the_target_report_checks_each_target_from_the_record():
    record = {"rows": [study_row("clean", 0.988, 0.987, 0.988), study_row("line", 0.80, 0.975, 0.988),
                       study_row("spatter", 0.96, 0.95, 0.98), study_row("impulse_noise", 0.86, 0.979, 0.985)]}
    report = {(row["condition"], row["target"]): row["met"] for row in correction.target_report(record)}
    assert report[("clean", "loses at most 0.2 point")]
    assert report[("line", "blind at least 97 %")] and not report[("line", "within 1 point of the oracle")]
    assert not report[("spatter", "blind not below as corrupted")] and not report[("spatter", "within 1 point of the oracle")]
    assert not report[("impulse_noise", "blind at least 98 %")] and report[("impulse_noise", "within 1 point of the oracle")]

    gained = {"rows": [study_row("clean", 0.988, 0.9881, 0.988)]}
    assert correction.target_report(gained)[0]["measured"] == "loses -0.01"
    level = {"rows": [study_row("clean", 0.988, 0.98801, 0.988)]}
    assert correction.target_report(level)[0]["measured"] == "loses 0.00"  # never "-0.00"


def test_blind_correction_is_ranked_between_the_remedies_and_the_oracle_on_corruptions_only():
    def row(condition, corrupted, median, blind, oracle):
        return {**study_row(condition, corrupted, blind, oracle), "median 3x3": median,
                **{f"{method}, cross-check": value for method, value in
                   zip(correction.METHODS, (corrupted, median, blind, oracle))}}

    record = {"rows": [row("clean", 0.99, 0.98, 0.995, 0.99), row("line", 0.8, 0.85, 0.97, 0.98)]}
    assert correction.blind_ranked_between(record)  # clean digits are not a corruption
    record["rows"].append(row("dotted_line", 0.95, 0.976, 0.975, 0.98))  # below the median filter
    assert not correction.blind_ranked_between(record)
    record["rows"][-1]["median 3x3, cross-check"] = 0.96
    assert correction.blind_ranked_between(record, ", cross-check")


def test_the_head_comparison_pairs_each_condition_of_the_two_records():
    first = {"rows": [{**study_row("spatter", 0.96, 0.965, 0.987), "held_out": True, "iou": 0.8},
                      {**study_row("line", 0.8, 0.87, 0.988), "held_out": False, "iou": 0.46}]}
    second = {"rows": [{**study_row("line", 0.8, 0.97, 0.988), "held_out": False, "iou": 0.82},
                       {**study_row("spatter", 0.96, 0.97, 0.987), "held_out": True, "iou": 0.83}]}
    assert correction.head_comparison(first, second) == [
        {"damage": "line", "first head": 87.0, "this head": 97.0, "oracle": 98.8, "first head's IoU": 0.46,
         "this head's IoU": 0.82},
        {"damage": "spatter (held out)", "first head": 96.5, "this head": 97.0, "oracle": 98.7,
         "first head's IoU": 0.8, "this head's IoU": 0.83}]


def test_the_study_scores_every_condition_and_records_it(tmp_path, monkeypatch, inpainter):
    monkeypatch.setattr(correction, "study_record", lambda root=(): tmp_path / "studies" / "correction.json")
    (tmp_path / "studies").mkdir()
    record = correction.run_correction_study(digits=40, inpainter=inpainter, mask_head=white_finder(), root=runs.mode_root())
    assert [row["condition"] for row in record["rows"]] == list(correction.CONDITIONS)
    rows = {row["condition"]: row for row in record["rows"]}
    # MNIST's strokes have pure white pixels, which the stand-in finds: false alarms, an IoU of 0.
    assert rows["clean"]["true_share"] == 0.0 and rows["clean"]["found_share"] > 0 and rows["clean"]["iou"] == 0.0
    assert rows["clean"]["as corrupted"] == rows["clean"]["oracle"]  # nothing to fill on a clean digit
    assert rows["dotted_line"]["held_out"] and not rows["line"]["held_out"]
    for row in record["rows"]:
        assert set(correction.METHODS) <= set(row) and len(row["blind, each classifier"]) == 3
    assert (tmp_path / "studies" / "correction.json").is_file() and record["inpainter"] == "given"
    table = correction.study_table(record)
    assert [entry["damage"] for entry in table][1:3] == ["line", "dotted_line (held out)"]
    assert table[0]["blind - oracle"] == round(100 * (rows["clean"]["blind"] - rows["clean"]["oracle"]), 2)
    assert "IoU" not in correction.study_table(record, ", cross-check")[0]


@real_mnist
@pytest.mark.slow  # the committed records against the committed runs: the main lane's check
def test_the_committed_study_agrees_with_correcting_its_impulse_noise_again():
    """The chapter reads the record; CI corrects one corruption of it again, on all 10,000 digits
    (5 digits in 10,000 allowed for CPU rounding near a threshold)."""
    record = artifacts.load_json(correction.study_record())
    row = {entry["condition"]: entry for entry in record["rows"]}["impulse_noise"]
    (_, _), (x_test, y_test) = data.load_mnist()
    corrupted, true = corruptions.corrupt(x_test[:record["digits"]], "impulse_noise", seed=record["seed"])
    corrected, found = inpainting.correct_digits(corrupted, record["inpainter"])
    assert mask_head.mask_iou(found, true) == pytest.approx(row["iou"], abs=1e-3)
    blind, _ = correction.mean_accuracy(classifiers.load_classifiers(), corrected, y_test[:record["digits"]])
    assert blind == pytest.approx(row["blind"], abs=5e-4)
