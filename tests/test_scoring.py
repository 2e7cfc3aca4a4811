"""The records chapter 6 and appendix B read: written as the studies score, and agreeing with the runs."""
import os
import types

import numpy as np
import pytest

from lib import artifacts, data, evaluation, realism, runs, scoring, studies
from lib.config import CLASSIFIER, CROSS_CHECK_CLASSIFIER, MODE_VARIABLE, PAPER
from stubs import CentreClassifier, ConstantGenerator, StubJudge

SIZE = PAPER.image_size
real_mnist = pytest.mark.skipif(not os.environ.get(data.NPZ_VARIABLE), reason="MNIST_NPZ is not set")


@pytest.fixture
def private_artifacts(monkeypatch, tmp_path):
    """Nothing here may touch the real artifacts folder."""
    monkeypatch.setenv(runs.ROOT_VARIABLE, str(tmp_path / "artifacts"))
    monkeypatch.delenv(MODE_VARIABLE, raising=False)
    return tmp_path / "artifacts"


def stub_methods(names=None):
    methods = evaluation.standard_methods({"grey": (ConstantGenerator(0.0), PAPER)})
    return methods if names is None else {name: methods[name] for name in names}


@real_mnist
def test_run_hole_size_study_records_numbers_only_for_every_hole_and_method(monkeypatch, private_artifacts):
    monkeypatch.setattr(scoring, "hole_size_methods", stub_methods)
    monkeypatch.setattr(evaluation, "load_classifiers", lambda seeds=(0, 1, 2), config=CLASSIFIER:
                        {seed: CentreClassifier() for seed in seeds})
    record = scoring.run_hole_size_study(digits=40, sizes=(10, 14), judge=StubJudge())
    written = artifacts.load_json(runs.hole_size_record(runs.mode_root()))  # verified against its manifest
    assert written == artifacts.as_json(record)
    assert list(written["by_hole"]) == ["10x10 centre", "14x14 centre", "paper (8x8 jittered)"]
    assert written["digits"] == 40 and written["sizes"] == [10, 14] and written["detector_seeds"] == [0]
    originals, labels = scoring.evaluation_digits(40)
    _, live = studies.hole_size_study(stub_methods(), originals, labels, {0: CentreClassifier(), 1: CentreClassifier(),
                                                                          2: CentreClassifier()}, sizes=(10, 14))
    by_hole = studies.recorded_by_hole(written)
    assert list(by_hole) == list(live) == written["holes"]
    for hole, results in live.items():
        assert list(by_hole[hole]) == ["masked", "telea", "navier-stokes", "grey"]
        for name, result in results.items():
            kept = by_hole[hole][name]
            assert "inpainted" not in kept and "predictions" not in kept
            assert kept["accuracy_mean"] == pytest.approx(result["accuracy_mean"])
            assert kept["hole_l1"] == pytest.approx(result["hole_l1"])
            assert kept["frechet"] == pytest.approx(StubJudge().frechet(result["inpainted"]))
    # what chapter 6 builds from it
    curves = studies.hole_size_curves(by_hole, sizes=(10, 14))
    assert list(curves) == ["masked", "telea", "navier-stokes", "grey"]
    assert curves["grey"][14] == (by_hole["14x14 centre"]["grey"]["accuracy_mean"],
                                  by_hole["14x14 centre"]["grey"]["accuracy_sd"])
    assert list(studies.accuracy_table(studies.recorded_by_hole(written, "cross_check"))) == written["holes"]


def test_recorded_by_hole_rejects_a_record_that_is_not_a_hole_size_study():
    record = {"by_hole": {"12x12 centre": {"telea": {}}}, "holes": ["12x12 centre"], "methods": ["telea", "grey"]}
    with pytest.raises(ValueError, match="no by_hole entry for 'grey'"):
        studies.recorded_by_hole(record)
    with pytest.raises(ValueError, match="'cross_check', 'holes' and 'methods'"):
        studies.recorded_by_hole(record, "cross_check")
    with pytest.raises(ValueError, match="part must be"):
        studies.recorded_by_hole(record, "realism")


@real_mnist
def test_run_ablation_table_records_every_row(monkeypatch, private_artifacts):
    rows = [{"variant": "paper", "accuracy %": "90.00 ± 1.00"}]
    seen = {}

    def ablation_results(originals, labels, masks, classifiers, recommended=None, longer=(), extra_holes=None):
        seen.update(digits=len(originals), masks=masks.shape, recommended=recommended, longer=longer,
                    holes=list(extra_holes))
        return rows

    artifacts.save_record(runs.recommended_record(), {"chosen": "+ mask channel", "epochs": 7})
    monkeypatch.setattr(studies, "ablation_results", ablation_results)
    monkeypatch.setattr(evaluation, "load_classifiers", lambda: {0: CentreClassifier()})
    scoring.run_ablation_table(digits=30)
    written = artifacts.load_json(runs.ablation_record(runs.mode_root()))
    assert written["rows"] == rows and written["columns"] == ["variant", "accuracy %"] and written["digits"] == 30 and written["wall_seconds"] >= 0
    assert seen == {"digits": 30, "masks": (30, SIZE, SIZE), "recommended": ("+ mask channel", 7),
                    "longer": scoring.ABLATION_LONGER, "holes": ["14x14 centre"]}


@pytest.mark.parametrize("digits", [0, 1, -5, 2.5, "all"])
def test_evaluation_digits_rejects_a_count_that_is_not_at_least_two(digits):
    with pytest.raises(ValueError, match="digits"):
        scoring.evaluation_digits(digits)


# The committed records against the committed runs: one entry of each scored again, in full.

@pytest.fixture
def committed_artifacts(monkeypatch):
    monkeypatch.delenv(runs.ROOT_VARIABLE, raising=False)
    monkeypatch.setenv(MODE_VARIABLE, "full")


def percent_pair(cell):
    """ "95.31 ± 1.56" -> (0.9531, 0.0156)."""
    mean, sd = cell.split(" ± ")
    return float(mean) / 100, float(sd) / 100


# Inference on another CPU may round a few digits' scores the other way: a few digits of 10,000.
DIGIT_TOLERANCE = 5e-4


@real_mnist
@pytest.mark.slow  # the committed records against the committed runs: the main lane's check
def test_the_committed_ablation_table_agrees_with_its_recommended_row_scored_again(committed_artifacts):
    record = artifacts.load_json(runs.ablation_record())
    originals, labels = scoring.evaluation_digits(record["digits"])
    name, epochs = runs.recommended_run()
    row = next(row for row in record["rows"] if row["variant"] == f"recommended, {epochs} epochs")
    run = runs.open(runs.committed_variant(name, epochs))
    result = evaluation.evaluate({name: evaluation.generator_method(run.generator(), run.config)}, originals, labels,
                                 evaluation.evaluation_masks(len(originals)), evaluation.load_classifiers())[name]
    mean, sd = percent_pair(row["accuracy %"])
    assert result["accuracy_mean"] == pytest.approx(mean, abs=DIGIT_TOLERANCE + 5e-5)
    assert result["accuracy_sd"] == pytest.approx(sd, abs=DIGIT_TOLERANCE + 5e-5)
    assert result["hole_l1"] == pytest.approx(row["hole L1"], abs=2e-4)
    assert result["ssim"] == pytest.approx(row["SSIM"], abs=2e-4)


@real_mnist
def test_one_method_scored_again_is_merged_into_the_record_in_the_tables_order(monkeypatch, private_artifacts):
    methods = evaluation.standard_methods({"grey": (ConstantGenerator(0.0), PAPER), "white": (ConstantGenerator(1.0), PAPER)})
    monkeypatch.setattr(scoring, "hole_size_methods", lambda names=None: methods if names is None else
                        {name: methods[name] for name in names})
    monkeypatch.setattr(evaluation, "load_classifiers", lambda seeds=(0, 1, 2), config=CLASSIFIER:
                        {seed: CentreClassifier() for seed in seeds})
    whole = scoring.run_hole_size_study(digits=40, sizes=(10,), judge=StubJudge())
    earlier = artifacts.load_json(runs.hole_size_record())
    earlier["by_hole"]["10x10 centre"]["white"]["accuracy_mean"] = -1.0  # stale: scored again below
    earlier["methods"].remove("white")
    artifacts.save_record(runs.hole_size_record(), earlier)
    merged = scoring.run_hole_size_study(digits=40, sizes=(10,), judge=StubJudge(), only=["white"])
    assert merged["methods"] == whole["methods"] == ["masked", "telea", "navier-stokes", "grey", "white"]
    for part in ("by_hole", "cross_check"):
        assert artifacts.as_json(merged[part]) == artifacts.as_json(whole[part])
        assert all(list(scores) == merged["methods"] for scores in merged[part].values())
    assert merged["wall_seconds"] >= earlier["wall_seconds"]
    with pytest.raises(ValueError, match="another protocol"):
        scoring.run_hole_size_study(digits=30, sizes=(10,), judge=StubJudge(), only=["white"])


def test_hole_size_methods_picks_known_names_only(monkeypatch):
    monkeypatch.setattr(scoring.inpainting, "load_inpainter", lambda name: (ConstantGenerator(0.0), PAPER))
    assert list(scoring.hole_size_methods(["book", "telea"])) == ["telea", "book"]
    assert list(scoring.hole_size_methods())[-4:] == ["paper gan", "recommended", "realistic", "book"]
    for bad in (["best"], []):
        with pytest.raises(ValueError, match="names must be some of"):
            scoring.hole_size_methods(bad)


@real_mnist
@pytest.mark.slow  # the committed records against the committed runs: the main lane's check
def test_the_committed_hole_size_study_agrees_with_one_method_scored_again(committed_artifacts):
    record = artifacts.load_json(runs.hole_size_record())
    assert studies.recorded_by_hole(record)  # every hole has every method
    hole, name = studies.hole_label(12), "recommended"
    originals, labels = scoring.evaluation_digits(record["digits"])
    method = {name: scoring.hole_size_methods()[name]}
    result = evaluation.evaluate(method, originals, labels, studies.hole_masks(len(originals), 12),
                                 evaluation.load_classifiers())[name]
    kept = record["by_hole"][hole][name]
    for seed, accuracy in result["accuracies"].items():
        assert accuracy == pytest.approx(kept["accuracies"][str(seed)], abs=DIGIT_TOLERANCE)
    for key in ("hole_l1", "ssim"):
        assert result[key] == pytest.approx(kept[key], abs=1e-4)
    cross_check = studies.reclassify({hole: {name: result}}, labels,
                                     evaluation.load_classifiers(config=CROSS_CHECK_CLASSIFIER))[hole][name]
    assert cross_check["accuracy_mean"] == pytest.approx(record["cross_check"][hole][name]["accuracy_mean"],
                                                         abs=DIGIT_TOLERANCE)
    assert realism.default_judge(seeds=(0,)).frechet(result["inpainted"]) == pytest.approx(kept["frechet"], rel=1e-3)


@real_mnist
def test_run_shipped_check_records_every_model_at_every_hole_of_the_study(monkeypatch, private_artifacts):
    fills = {"book": 0.5, "recommended": 0.0, "realistic": 1.0}
    monkeypatch.setattr(scoring.inpainting, "load_inpainter", lambda name: (ConstantGenerator(fills[name]), PAPER))
    monkeypatch.setattr(evaluation, "load_classifiers", lambda: {seed: CentreClassifier() for seed in (0, 1, 2)})
    scoring.run_shipped_check(digits=24, judge=StubJudge())
    record = artifacts.load_json(runs.shipped_check_record(runs.mode_root()))
    live = studies.recorded_by_hole(record)
    assert list(live) == [studies.hole_label(hole) for hole in scoring.tradeoff.HOLES]
    assert record["methods"] == list(scoring.SHIPPED_CHECKED) and record["digits"] == 24
    for results in live.values():
        # a white fill lights the centre pixel, so the stub classifier reads a 1; a black one, a 0
        assert results["realistic"]["hole_l1"] != results["recommended"]["hole_l1"]
        assert {"accuracy_mean", "detector", "frechet"} <= results["realistic"].keys()
    report = scoring.tradeoff.target_report({hole: results["realistic"] for hole, results in live.items()},
                                            {hole: results["recommended"] for hole, results in live.items()})
    assert set(report) == set(live)


def test_the_fresh_judge_uses_detector_seeds_the_study_never_used(monkeypatch):
    monkeypatch.setattr(realism, "default_judge", lambda seeds=None: seeds)
    assert not set(scoring.fresh_judge()) & set(realism.DETECTOR_SEEDS)


@real_mnist
@pytest.mark.slow  # the committed records against the committed runs: the main lane's check
def test_the_committed_shipped_check_agrees_with_the_realistic_model_scored_again(committed_artifacts):
    record = artifacts.load_json(runs.shipped_check_record())
    hole, name = studies.hole_label(14), "realistic"
    originals, labels = scoring.evaluation_digits(record["digits"])
    method = {name: evaluation.generator_method(*scoring.inpainting.load_inpainter(name))}
    result = evaluation.evaluate(method, originals, labels, studies.hole_masks(len(originals), 14),
                                 evaluation.load_classifiers())[name]
    kept = studies.recorded_by_hole(record)[hole][name]
    assert result["accuracy_mean"] == pytest.approx(kept["accuracy_mean"], abs=DIGIT_TOLERANCE)
    assert result["hole_psnr"] == pytest.approx(kept["hole_psnr"], abs=1e-2)
    assert record["detector_seeds"] == list(scoring.fresh_judge().seeds)


@real_mnist
def test_run_seed_scores_records_every_seed_of_both_runs_with_each_classifier(monkeypatch, private_artifacts):
    # A white fill reads as a 1 to the stub classifier, a black one as a 0: each run and seed its own.
    fills = {("paper_gan", "seed0"): 1.0, ("paper_gan", "seed1"): 0.0, ("paper_gan", "seed2"): 1.0,
             ("paper_gan_fixed", "seed0"): 0.0, ("paper_gan_fixed", "seed1"): 1.0, ("paper_gan_fixed", "seed2"): 0.0}
    monkeypatch.setattr(runs, "open", lambda folder: types.SimpleNamespace(
        generator=lambda: ConstantGenerator(fills[folder.parent.name, folder.name]), config=PAPER))
    monkeypatch.setattr(evaluation, "load_classifiers", lambda: {seed: CentreClassifier() for seed in (0, 1, 2)})
    scoring.run_seed_scores(digits=30)
    record = artifacts.load_json(runs.seed_scores_record(runs.mode_root()))
    assert record["digits"] == 30 and record["classifier_seeds"] == [0, 1, 2]
    labels = scoring.evaluation_digits(30)[1]
    for name, folder in (("paper gan", "paper_gan"), ("paper gan, fixed", "paper_gan_fixed")):
        assert list(record["scores"][name]) == ["0", "1", "2"]
        for seed, summary in record["scores"][name].items():
            expected = np.mean(labels == fills[folder, f"seed{seed}"])
            assert summary["accuracy_mean"] == pytest.approx(expected)
            assert summary["accuracies"] == {str(judge): pytest.approx(expected) for judge in (0, 1, 2)}


@real_mnist
@pytest.mark.slow  # the committed records against the committed runs: the main lane's check
def test_the_committed_seed_scores_agree_with_one_seed_scored_again(committed_artifacts):
    record = artifacts.load_json(runs.seed_scores_record())
    originals, labels = scoring.evaluation_digits(record["digits"])
    masks = evaluation.evaluation_masks(len(originals))
    run = runs.open(runs.fixed_paper_gan(1))
    filled = evaluation.generator_method(run.generator(), run.config)(data.apply_mask(originals, masks), masks)
    kept = record["scores"]["paper gan, fixed"]["1"]["accuracies"]
    for seed, classifier in evaluation.load_classifiers().items():
        assert np.mean(evaluation.classify(classifier, filled) == labels) == pytest.approx(kept[str(seed)],
                                                                                          abs=DIGIT_TOLERANCE)
