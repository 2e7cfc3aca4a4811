"""Tests of lib.studies.ablation."""
import os

import numpy as np
import pytest

from lib import artifacts, classifiers, data, datasets, diagnostics, evaluation, fitting, holes, runs
from lib.studies import ablation, paper_gan
from lib.config import (
    CANDIDATE_BASELINE, CANDIDATE_CHANGES, MODE_VARIABLE, PAPER, PROBE_SIZE, RECOMMENDED_EPOCHS, SNAPSHOT_MASK_SEED,
    VARIANTS, variant_named,
)

from stubs import CentreClassifier, ConstantGenerator, DIGIT_TOLERANCE, forbid_work, recorder

pytestmark = pytest.mark.usefixtures("private_artifacts")  # nothing here touches the committed artifacts


SIZE = PAPER.image_size
CANDIDATES = (CANDIDATE_BASELINE, *CANDIDATE_CHANGES)


class FakeRun:
    """A finished run as `runs.open` gives it: a generator, its configuration and the record."""

    def __init__(self, value, config, record=None, probe=()):
        self.value, self.config, self.record, self.probe = value, config, record or {}, list(probe)

    def generator(self):
        return ConstantGenerator(self.value)


def test_run_variant_rejects_an_unknown_name_before_any_work(monkeypatch, private_artifacts):
    forbid_work(monkeypatch)
    with pytest.raises(ValueError, match="unknown variant"):
        ablation.run_variant("+ magic", 2, root=runs.mode_root())
    assert not private_artifacts.exists()


def test_run_variant_passes_the_right_plan_to_training(monkeypatch, private_artifacts, captured_training):
    monkeypatch.setenv(MODE_VARIABLE, "quick")
    x_test, y_test = data.load_mnist()[1]
    run = ablation.run_variant("+ composite", 6, seed=3, root=runs.mode_root())
    assert run.probe[-1]["accuracy"] == 0.5
    (call,) = captured_training
    assert call["config"].epochs == 2  # quick mode caps the epochs
    assert call["config"] == VARIANTS["+ composite"].variant("+ composite", epochs=2)
    # quick runs never go over the full ones
    assert call["folder"] == str(private_artifacts / "quick" / "variants" / "composite-2ep" / "seed3")
    assert call["images"].shape == (2048, SIZE, SIZE, 1)  # the quick budget's training digits
    assert np.array_equal(call["images"], data.to_model_input(x_test[:2048]))
    assert call["seed"] == 3
    probe = recorder(call["recorders"], fitting.ClassifierProbe)
    assert probe.classifier == "classifier" and probe.every_steps == 100
    assert np.array_equal(probe.labels, y_test[:PROBE_SIZE])
    assert np.array_equal(probe.masks, holes.evaluation_masks(PROBE_SIZE))
    snapshots = recorder(call["recorders"], fitting.EpochSnapshots)
    assert np.array_equal(snapshots.masks, data.paper_masks(20, SNAPSHOT_MASK_SEED))
    assert not [r for r in call["recorders"] if isinstance(r, diagnostics.GeneratorDiagnostics)]


def test_run_variant_with_its_own_config_and_folder(monkeypatch, private_artifacts, captured_training):
    monkeypatch.setenv(MODE_VARIABLE, "full")
    faster = VARIANTS["+ composite"].variant("+ composite", mixed_precision=True)
    ablation.run_variant("+ composite", 12, seed=1, config=faster, folder=private_artifacts / "elsewhere", root=runs.mode_root())
    (call,) = captured_training
    assert call["config"] == faster.variant("+ composite", epochs=12)  # full mode: the epochs asked for
    assert call["folder"] == str(private_artifacts / "elsewhere") and len(call["images"]) == 3000


def test_run_ablation_trains_every_change_but_the_paper(monkeypatch):
    calls = []
    monkeypatch.setattr(ablation, "run_variant", lambda name, epochs, seed, root: calls.append((name, epochs, seed)))
    ablation.run_ablation(seeds=[2], epochs=3, root=runs.mode_root())
    assert calls == [(name, 3, 2) for name in VARIANTS if name != "paper"]


def fake_open_variants(monkeypatch, white=None, root=(), epochs=2):
    """`runs.open` of the candidates' folders: each run's generator fills white if it is ``white``."""
    folders = {ablation.run_folder(name, epochs, root=root): name for name in CANDIDATES}
    opened = []

    def fake_open(folder):
        opened.append(folder)
        name = folders[folder]
        return FakeRun(1.0 if name == white else -1.0, VARIANTS[name])

    monkeypatch.setattr(runs, "open", fake_open)
    return opened


@pytest.mark.parametrize("white", CANDIDATES)
def test_choose_recommended_keeps_the_candidate_that_scores_higher(monkeypatch, private_artifacts, white):
    monkeypatch.setenv(MODE_VARIABLE, "full")  # quick mode would read artifacts/quick/
    x_test = np.zeros((30, SIZE, SIZE), np.uint8)
    y_test = np.ones(30, np.uint8)  # "bright centre": only a white fill classifies right
    monkeypatch.setattr(datasets, "load", lambda *a, **k: ((x_test, y_test), (x_test, y_test)))
    monkeypatch.setattr(classifiers, "load_classifier", lambda seed=0, root=(): CentreClassifier())
    opened = fake_open_variants(monkeypatch, white)
    chosen = ablation.choose_recommended(epochs=2, hole_size=14, digits=20, root=runs.mode_root())
    assert chosen == white
    assert opened == [ablation.run_folder(name, 2) for name in CANDIDATES]
    record = artifacts.load_json(private_artifacts / "variants" / "recommended.json")
    assert record["chosen"] == white
    assert record["scores"][white] == 1.0
    assert sum(record["scores"].values()) == 1.0
    assert record["ablation_epochs"] == 2
    assert ablation.recommended_run() == (white, RECOMMENDED_EPOCHS)


def choose_with_right_counts(monkeypatch, counts, digits=20, **kwargs):
    """Run `choose_recommended` where the baseline and each candidate (in that order) get the
    first ``counts[i]`` of ``digits`` digits right."""
    x = np.zeros((digits, SIZE, SIZE), np.uint8)
    y = np.zeros(digits, np.uint8)
    monkeypatch.setattr(datasets, "load", lambda *a, **k: ((x, y), (x, y)))
    monkeypatch.setattr(classifiers, "load_classifier", lambda seed=0, root=(): None)
    right_counts = iter(counts)

    def fake_classify(classifier, images):
        predictions = np.ones(digits, np.uint8)
        predictions[: next(right_counts)] = 0
        return predictions

    monkeypatch.setattr(classifiers, "classify", fake_classify)
    return ablation.choose_recommended(epochs=2, hole_size=14, digits=digits, **kwargs, root=runs.mode_root())


def test_choose_recommended_keeps_the_simpler_model_when_the_gain_is_within_noise(monkeypatch, private_artifacts):
    monkeypatch.setenv(MODE_VARIABLE, "full")
    fake_open_variants(monkeypatch)
    # Each change gets one more digit right: 5 points, one standard error.
    counts = [10] + [11] * len(CANDIDATE_CHANGES)
    assert choose_with_right_counts(monkeypatch, counts) == CANDIDATE_BASELINE
    record = artifacts.load_json(private_artifacts / "variants" / "recommended.json")
    assert set(record["comparisons"]) == set(CANDIDATE_CHANGES)
    for comparison in record["comparisons"].values():
        assert comparison["gain"] == pytest.approx(0.05) and comparison["standard_error"] == pytest.approx(0.05)
        assert not comparison["kept"]


def test_choose_recommended_combines_every_significant_change(monkeypatch, private_artifacts):
    monkeypatch.setenv(MODE_VARIABLE, "full")
    fake_open_variants(monkeypatch)
    skip, context, centred, decay = CANDIDATE_CHANGES
    # gains over the baseline: 75, 100, 10 and 5 points; the last two are within two standard errors.
    chosen = choose_with_right_counts(monkeypatch, [0, 15, 20, 2, 1], final_epochs=12)
    assert chosen == f"{skip} {context}"
    record = artifacts.load_json(private_artifacts / "variants" / "recommended.json")
    assert {name for name, c in record["comparisons"].items() if c["kept"]} == {skip, context}
    assert ablation.recommended_run() == (chosen, 12)


def test_choose_recommended_in_quick_mode_reads_and_writes_only_quick_runs(monkeypatch, private_artifacts):
    monkeypatch.setenv(MODE_VARIABLE, "quick")
    opened = fake_open_variants(monkeypatch, root=(runs.QUICK,))
    choose_with_right_counts(monkeypatch, [10] * len(CANDIDATES))
    assert opened == [ablation.run_folder(name, 2, root=(runs.QUICK,)) for name in CANDIDATES]
    assert ablation.recommended_run((runs.QUICK,)) == (CANDIDATE_BASELINE, RECOMMENDED_EPOCHS)
    assert not ablation.recommended_record().exists()


real_mnist = pytest.mark.skipif(not os.environ.get(data.NPZ_VARIABLE), reason="MNIST_NPZ is not set")


@real_mnist
def test_run_ablation_table_records_every_row(monkeypatch, private_artifacts):
    rows = [{"variant": "paper", "accuracy %": "90.00 ± 1.00"}]
    seen = {}

    def ablation_results(originals, labels, masks, classifiers, recommended=None, longer=(), extra_holes=None):
        seen.update(digits=len(originals), masks=masks.shape, recommended=recommended, longer=longer,
                    holes=list(extra_holes))
        return rows

    artifacts.save_record(ablation.recommended_record(), {"chosen": "+ mask channel", "epochs": 7})
    monkeypatch.setattr(ablation, "ablation_results", ablation_results)
    monkeypatch.setattr(classifiers, "load_classifiers", lambda: {0: CentreClassifier()})
    ablation.run_ablation_table(digits=30, root=runs.mode_root())
    written = artifacts.load_json(ablation.table_record(runs.mode_root()))
    assert written["rows"] == rows and written["columns"] == ["variant", "accuracy %"] and written["digits"] == 30 and written["wall_seconds"] >= 0
    assert seen == {"digits": 30, "masks": (30, SIZE, SIZE), "recommended": ("+ mask channel", 7),
                    "longer": ablation.ABLATION_LONGER, "holes": ["14x14 centre"]}


def percent_pair(cell):
    """ "95.31 ± 1.56" -> (0.9531, 0.0156)."""
    mean, sd = cell.split(" ± ")
    return float(mean) / 100, float(sd) / 100


@real_mnist
@pytest.mark.slow  # the committed records against the committed runs: the main lane's check
def test_the_committed_ablation_table_agrees_with_its_recommended_row_scored_again(committed_artifacts):
    record = artifacts.load_json(ablation.table_record())
    originals, labels = evaluation.test_digits(record["digits"])
    name, epochs = ablation.recommended_run()
    row = next(row for row in record["rows"] if row["variant"] == f"recommended, {epochs} epochs")
    run = runs.open(ablation.committed_folder(name, epochs))
    result = evaluation.evaluate({name: evaluation.generator_method(run.generator(), run.config)}, originals, labels,
                                 holes.evaluation_masks(len(originals)), classifiers.load_classifiers())[name]
    mean, sd = percent_pair(row["accuracy %"])
    assert result["accuracy_mean"] == pytest.approx(mean, abs=DIGIT_TOLERANCE + 5e-5)
    assert result["accuracy_sd"] == pytest.approx(sd, abs=DIGIT_TOLERANCE + 5e-5)
    assert result["hole_l1"] == pytest.approx(row["hole L1"], abs=2e-4)
    assert result["ssim"] == pytest.approx(row["SSIM"], abs=2e-4)


def test_paired_gain_counts_only_the_digits_the_two_disagree_on():
    change = np.array([1, 1, 1, 0, 0, 1], bool)
    baseline = np.array([1, 0, 0, 1, 0, 1], bool)
    gain, standard_error = ablation.paired_gain(change, baseline)
    assert gain == pytest.approx((2 - 1) / 6)
    assert standard_error == pytest.approx(3 ** 0.5 / 6)
    assert ablation.paired_gain(change, change) == (0.0, 0.0)
    assert ablation.paired_gain(baseline, change) == pytest.approx((-1 / 6, 3 ** 0.5 / 6))


@pytest.mark.parametrize("change, baseline", [([1, 0], [1]), ([], []), ([[1]], [[1]])])
def test_paired_gain_rejects_unpaired_inputs(change, baseline):
    with pytest.raises(ValueError, match="same length"):
        ablation.paired_gain(np.array(change, bool), np.array(baseline, bool))


def test_paired_gain_rejects_predictions_instead_of_correctness():
    with pytest.raises(ValueError, match="boolean"):
        ablation.paired_gain(np.array([3, 7]), np.array([True, False]))


def test_ablation_results_one_row_per_variant_and_the_recommended_run(monkeypatch, private_artifacts):
    digits = 8
    originals = np.full((digits, SIZE, SIZE, 1), -1.0, np.float32)
    labels = np.ones(digits, np.uint8)
    masks = data.centre_masks(digits, 8)
    committed = {ablation.committed_folder(name, 2): (name, 2, 120) for name in VARIANTS}
    committed[ablation.run_folder("+ global context", 12)] = ("+ global context", 12, 600)
    committed[ablation.run_folder("+ centred holes", 6)] = ("+ centred holes", 6, 300)
    opened = []

    def fake_open(folder):
        opened.append(folder)
        name, epochs, seconds = committed[folder]
        white = name == "+ composite" or epochs == 12  # these fill the centre: CentreClassifier says 1
        config = variant_named(name).variant(name, epochs=6 if name == "paper" else epochs)
        return FakeRun(1.0 if white else -1.0, config, {"config": config.to_dict(), "wall_seconds": seconds})

    monkeypatch.setattr(runs, "open", fake_open)
    corner = np.zeros((digits, SIZE, SIZE), bool)
    corner[:, :2, :2] = True  # leaves the dark centre visible: every fill classifies as 0
    rows = ablation.ablation_results(originals, labels, masks, {0: CentreClassifier(), 1: CentreClassifier()},
                                    recommended=("+ global context", 12), extra_holes={"corner": corner},
                                    longer=[("+ centred holes", 6)])
    assert [row["variant"] for row in rows] == [*VARIANTS, "+ centred holes, 6 epochs", "recommended, 12 epochs"]
    # 'paper' is its committed 6-epoch run, whatever the ablation's budget
    assert opened == [paper_gan.run_folder(0)] + [ablation.run_folder(name, 2) for name in list(VARIANTS)[1:]] + [
        ablation.run_folder("+ centred holes", 6), ablation.run_folder("+ global context", 12)]
    assert rows[-2]["built on"] == "+ centred holes" and rows[-2]["training minutes"] == 5.0
    by_name = {row["variant"]: row for row in rows}
    assert by_name["paper"]["built on"] == "" and by_name["+ composite"]["built on"] == "+ L2 hole loss"
    assert by_name["+ global context"]["built on"] == CANDIDATE_BASELINE
    assert by_name["recommended, 12 epochs"]["built on"] == "+ global context"
    assert by_name["+ composite"]["accuracy %"] == "100.00 ± 0.00"
    assert by_name["+ mask channel"]["accuracy %"] == "0.00 ± 0.00"
    assert rows[-1]["accuracy %"] == "100.00 ± 0.00" and rows[-1]["epochs"] == 12
    assert rows[-1]["training minutes"] == 10.0 and by_name["paper"]["epochs"] == 6
    assert by_name["+ mask channel"]["training minutes"] == 2.0
    assert {row["accuracy % (corner)"] for row in rows} == {"0.00 ± 0.00"}


@pytest.fixture
def artifacts_root(tmp_path, monkeypatch):
    monkeypatch.setenv(runs.ROOT_VARIABLE, str(tmp_path))
    return tmp_path


def test_recommended_run_reads_the_record(artifacts_root):
    artifacts.save_json(ablation.recommended_record(), {"chosen": "+ global context", "epochs": 12})
    assert ablation.recommended_run() == ("+ global context", 12)
    artifacts.save_json(ablation.recommended_record(), {"chosen": "+ global context"})
    assert ablation.recommended_run() == ("+ global context", PAPER.epochs)  # records from before budgets were kept
