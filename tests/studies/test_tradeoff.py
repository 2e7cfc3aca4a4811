"""Tests of lib.tradeoff: the arms of the perception-distortion study and how they are scored."""
import os

import numpy as np
import pytest

from lib import artifacts, classifiers, data, datasets, evaluation, holes, inpainting, realism, records, runs, shipped
from lib.studies import ablation, tradeoff
from lib.config import variant_named, PAPER

from stubs import CentreClassifier, ConstantGenerator, DIGIT_TOLERANCE, StubJudge


def test_every_arm_is_the_recommended_recipe_warm_started_with_weights_that_sum_to_one():
    name, _ = ablation.recommended_run()
    recommended = variant_named(name)
    for arm in tradeoff.ARMS:
        config = tradeoff.arm_config(arm, epochs=2)
        assert config.adversarial_weight + config.reconstruction_weight == pytest.approx(1.0)
        assert config.epochs == 2 and config.global_context == recommended.global_context
        assert (runs.REPO_ROOT / config.warm_start) == shipped.folder("recommended")
    assert tradeoff.arm_config("global, 0.001").adversarial_weight == recommended.adversarial_weight
    assert {tradeoff.arm_config(arm).adversary for arm in tradeoff.ARMS} == {"global", "global+local", "patch"}
    assert all(tradeoff.arm_config(arm).share_generator_pass for arm in tradeoff.ARMS if arm != "reconstruction only")


def test_an_unknown_arm_is_refused():
    with pytest.raises(ValueError, match="unknown arm"):
        tradeoff.arm_config("global, 7")


class FixedJudge:
    def score(self, inpainted, originals):
        return {"detector": 0.5, "frechet": float(np.abs(inpainted - originals).mean())}


def test_a_method_is_scored_on_every_hole_of_the_study():
    originals = -np.ones((20, 28, 28, 1), np.float32)
    originals[::2, 14, 14] = 1.0
    labels = (originals[:, 14, 14, 0] > 0).astype(int)
    scores = realism.score_on_holes(lambda corrupted, masks: originals, originals, labels, {0: CentreClassifier()},
                                   FixedJudge(), ("paper", 14))
    assert list(scores) == ["paper (8x8 jittered)", "14x14 centre"]
    assert all(hole["accuracy_mean"] == 1.0 and hole["frechet"] == 0 and hole["detector"] == 0.5
               for hole in scores.values())


def scored(accuracy, detector):
    return {"accuracy_mean": accuracy, "detector": detector, "frechet": 1.0, "hole_psnr": 10.0}


def test_arm_means_average_each_measure_over_the_seeds_with_its_spread():
    record = {"holes": ["14x14 centre"], "arms": {
        "a": {"0": {"14x14 centre": scored(0.8, 0.7)}, "1": {"14x14 centre": scored(0.9, 0.6)}}, "b": {}}}
    means = tradeoff.arm_means(record)
    assert list(means) == ["a"]
    hole = means["a"]["14x14 centre"]
    assert hole["seeds"] == 2 and hole["accuracy_mean"] == pytest.approx(0.85)
    assert hole["detector_spread"] == pytest.approx(0.1)
    with pytest.raises(ValueError, match="study's record"):
        tradeoff.arm_means({"arms": {}})


def test_the_target_report_checks_accuracy_against_the_reference_and_realism_against_its_goal():
    reference = {"paper (8x8 jittered)": scored(0.977, 0.5), "14x14 centre": scored(0.887, 0.9),
                 "12x12 centre": scored(0.937, 0.9)}
    report = tradeoff.target_report({"paper (8x8 jittered)": scored(0.972, 0.55), "14x14 centre": scored(0.880, 0.71),
                                     "12x12 centre": scored(0.9, 0.5)}, reference)
    assert report["paper (8x8 jittered)"]["accuracy_met"] and report["paper (8x8 jittered)"]["detector_met"]
    assert not report["14x14 centre"]["accuracy_met"] and not report["14x14 centre"]["detector_met"]
    assert report["14x14 centre"]["points_lost"] == pytest.approx(0.7)
    assert report["12x12 centre"]["detector_target"] is None and report["12x12 centre"]["detector_met"] is None
    assert report["paper (8x8 jittered)"]["met"] and not report["14x14 centre"]["met"]
    assert not report["12x12 centre"]["met"]  # no realism goal there, and 3.7 points of accuracy lost
    with pytest.raises(ValueError, match="no scores for the 16x16"):
        tradeoff.target_report({"16x16 centre": scored(0.8, 0.7)}, reference)


def test_the_study_record_scores_baselines_and_finished_arms_once_each(tmp_path, monkeypatch):
    from lib import artifacts, evaluation, fitting, realism
    from lib.config import PAPER
    from stubs import tiny_images

    monkeypatch.setenv(runs.ROOT_VARIABLE, str(tmp_path))
    monkeypatch.setenv("GAN_BOOK_MODE", "full")
    digits = np.random.default_rng(0).integers(0, 256, (20, 28, 28), dtype=np.uint8)
    monkeypatch.setattr(datasets, "load", lambda *a, **k: ((digits, digits[:, 0, 0] % 10), (digits, digits[:, 0, 0] % 10)))
    monkeypatch.setattr(classifiers, "load_classifiers", lambda: {0: CentreClassifier()})
    monkeypatch.setattr(realism, "default_judge", lambda: type("J", (FixedJudge,), {"seeds": (0,), "frechet": lambda self, x: 0.1})())
    monkeypatch.setattr(tradeoff, "baseline_methods", lambda: {"masked": evaluation.no_inpainting})
    tiny = PAPER.variant("tiny", batch_size=32, epochs=1)
    fitting.fit_gan(tiny_images(32), tradeoff.run_folder("global, 0.1", 1, 0), tiny, verbose=0)
    monkeypatch.setattr(tradeoff, "arm_config", lambda arm, epochs: tiny)
    record = tradeoff.write_study_record(arms=["global, 0.1", "global, 0.3"], seeds=(0, 1), epochs=1, holes_to_score=("paper", 14), root=runs.mode_root())
    assert list(record["baselines"]) == ["masked"] and list(record["arms"]) == ["global, 0.1"]
    assert list(record["arms"]["global, 0.1"]) == ["0"]  # seed 1 and the other arm are not trained
    assert record["arms"]["global, 0.1"]["0"]["14x14 centre"]["detector"] == 0.5
    assert artifacts.load_json(tradeoff.study_record()) == json_round_trip(record)
    assert not (tradeoff.run_folder("global, 0.1", 1, 0) / runs.GENERATOR_WEIGHTS).exists()  # scored: records only
    calls = []
    monkeypatch.setattr(realism, "score_on_holes", lambda *args, **kwargs: calls.append(args))
    tradeoff.write_study_record(arms=["global, 0.1"], seeds=(0,), epochs=1, holes_to_score=("paper", 14), root=runs.mode_root())
    assert calls == []  # everything was scored already
    with pytest.raises(ValueError, match="scored on other holes"):
        tradeoff.write_study_record(arms=["global, 0.1"], seeds=(0,), epochs=1, holes_to_score=("paper", 12), root=runs.mode_root())
    artifacts.save_record(tradeoff.study_record(), {**record, "arms": {}})
    monkeypatch.setattr(tradeoff, "arm_config", lambda arm, epochs: tiny.variant("other", epochs=1))
    with pytest.raises(ValueError, match="another configuration"):
        tradeoff.write_study_record(arms=["global, 0.1"], seeds=(0,), epochs=1, holes_to_score=("paper", 14), root=runs.mode_root())


def json_round_trip(value):
    import json

    return json.loads(json.dumps(value))


def test_the_realistic_arm_is_the_one_nearest_the_realism_goals_then_the_most_accurate():
    def run(paper, c14, c16, accuracy=0.9):
        return {"paper (8x8 jittered)": scored(accuracy, paper), "14x14 centre": scored(accuracy, c14),
                "16x16 centre": scored(accuracy, c16)}
    record = {"holes": ["paper (8x8 jittered)", "14x14 centre", "16x16 centre"], "arms": {
        "reconstruction only": {"0": run(0.5, 0.5, 0.5)},  # the control is never chosen
        "global, 0.1": {"0": run(0.55, 0.8, 0.9)},
        "global, 0.3": {"0": run(0.55, 0.72, 0.8), "1": run(0.55, 0.7, 0.78)},
        "global+local, 0.1": {"0": run(0.55, 0.71, 0.79, accuracy=0.95)}}}
    assert tradeoff.realism_shortfall(tradeoff.arm_means(record)["global, 0.3"]) == pytest.approx(0.01 + 0.04)
    assert tradeoff.choose_realistic(record) == "global+local, 0.1"  # the same shortfall, more accurate
    with pytest.raises(ValueError, match="no scores for the goals' holes"):
        tradeoff.realism_shortfall({"14x14 centre": scored(0.9, 0.7)})
    with pytest.raises(ValueError, match="no arm with an adversary"):
        tradeoff.choose_realistic({"holes": record["holes"], "arms": {"reconstruction only": record["arms"]["reconstruction only"]}})


def test_the_study_table_has_a_row_per_method_and_three_columns_per_hole():
    table = tradeoff.study_table({"telea": {"14x14 centre": scored(0.5071, 0.9987)}}, ["14x14 centre"])
    assert table == {"telea": {("14x14 centre", "accuracy %"): 50.7, ("14x14 centre", "detector %"): 99.9,
                               ("14x14 centre", "Fréchet"): 1.0}}
    with pytest.raises(ValueError, match="at least one method"):
        tradeoff.study_table({}, ["14x14 centre"])


real_mnist = pytest.mark.skipif(not os.environ.get(data.NPZ_VARIABLE), reason="MNIST_NPZ is not set")


@real_mnist
def test_run_shipped_check_records_every_model_at_every_hole_of_the_study(monkeypatch, private_artifacts):
    fills = {"book": 0.5, "recommended": 0.0, "realistic": 1.0}
    monkeypatch.setattr(inpainting, "load_inpainter", lambda name: (ConstantGenerator(fills[name]), PAPER))
    monkeypatch.setattr(classifiers, "load_classifiers", lambda: {seed: CentreClassifier() for seed in (0, 1, 2)})
    tradeoff.run_shipped_check(digits=24, judge=StubJudge(), root=runs.mode_root())
    record = artifacts.load_json(tradeoff.check_record(runs.mode_root()))
    live = records.by_hole(record)
    assert list(live) == [holes.label(hole) for hole in holes.STUDY_HOLES]
    assert record["methods"] == list(tradeoff.SHIPPED_CHECKED) and record["digits"] == 24
    for results in live.values():
        # a white fill lights the centre pixel, so the stub classifier reads a 1; a black one, a 0
        assert results["realistic"]["hole_l1"] != results["recommended"]["hole_l1"]
        assert {"accuracy_mean", "detector", "frechet"} <= results["realistic"].keys()
    report = tradeoff.target_report({hole: results["realistic"] for hole, results in live.items()},
                                            {hole: results["recommended"] for hole, results in live.items()})
    assert set(report) == set(live)


def test_the_fresh_judge_uses_detector_seeds_the_study_never_used(monkeypatch):
    monkeypatch.setattr(realism, "default_judge", lambda seeds=None: seeds)
    assert not set(tradeoff.fresh_judge()) & set(realism.DETECTOR_SEEDS)


@real_mnist
@pytest.mark.slow  # the committed records against the committed runs: the main lane's check
def test_the_committed_shipped_check_agrees_with_the_realistic_model_scored_again(committed_artifacts):
    record = artifacts.load_json(tradeoff.check_record())
    hole, name = holes.label(14), "realistic"
    originals, labels = evaluation.test_digits(record["digits"])
    method = {name: evaluation.generator_method(*inpainting.load_inpainter(name))}
    result = evaluation.evaluate(method, originals, labels, holes.masks(len(originals), 14),
                                 classifiers.load_classifiers())[name]
    kept = records.by_hole(record)[hole][name]
    assert result["accuracy_mean"] == pytest.approx(kept["accuracy_mean"], abs=DIGIT_TOLERANCE)
    assert result["hole_psnr"] == pytest.approx(kept["hole_psnr"], abs=1e-2)
    assert record["detector_seeds"] == list(tradeoff.fresh_judge().seeds)
