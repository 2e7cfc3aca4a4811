import shutil

import numpy as np
import pytest

from lib import artifacts, collapse, data, evaluation, fitting, runs, studies
from lib.config import CANDIDATE_BASELINE, MODE_VARIABLE, PAPER, VARIANTS, variant_named
from stubs import CentreClassifier, ConstantGenerator

SIZE = PAPER.image_size


@pytest.fixture(autouse=True)
def private_artifacts(monkeypatch, tmp_path):
    """Nothing here may touch the real artifacts folder."""
    monkeypatch.setenv(runs.ROOT_VARIABLE, str(tmp_path / "artifacts"))
    monkeypatch.delenv(MODE_VARIABLE, raising=False)
    return tmp_path / "artifacts"


class DarkCentreClassifier(CentreClassifier):
    """Predicts the opposite of CentreClassifier."""

    def predict(self, images, batch_size=None, verbose=0):
        return super().predict(images)[:, [1, 0, 2, 3, 4, 5, 6, 7, 8, 9]]


def centre_digits(bright):
    """Black digits whose centre pixel is bright where ``bright`` is True (CentreClassifier reads 1 there)."""
    images = -np.ones((len(bright), SIZE, SIZE, 1), np.float32)
    images[np.asarray(bright), 14, 14, 0] = 1.0
    return images


# ---------------------------------------------------------------- the ablation and the choice


def test_paired_gain_counts_only_the_digits_the_two_disagree_on():
    change = np.array([1, 1, 1, 0, 0, 1], bool)
    baseline = np.array([1, 0, 0, 1, 0, 1], bool)
    gain, standard_error = studies.paired_gain(change, baseline)
    assert gain == pytest.approx((2 - 1) / 6)
    assert standard_error == pytest.approx(3 ** 0.5 / 6)
    assert studies.paired_gain(change, change) == (0.0, 0.0)
    assert studies.paired_gain(baseline, change) == pytest.approx((-1 / 6, 3 ** 0.5 / 6))


@pytest.mark.parametrize("change, baseline", [([1, 0], [1]), ([], []), ([[1]], [[1]])])
def test_paired_gain_rejects_unpaired_inputs(change, baseline):
    with pytest.raises(ValueError, match="same length"):
        studies.paired_gain(np.array(change, bool), np.array(baseline, bool))


def test_paired_gain_rejects_predictions_instead_of_correctness():
    with pytest.raises(ValueError, match="boolean"):
        studies.paired_gain(np.array([3, 7]), np.array([True, False]))


class FakeRun:
    """What `runs.open` gives `ablation_results`: a generator, its configuration and the run record."""

    def __init__(self, value, config, record):
        self.value, self.config, self.record = value, config, record

    def generator(self):
        return ConstantGenerator(self.value)


def test_ablation_results_one_row_per_variant_and_the_recommended_run(monkeypatch, private_artifacts):
    digits = 8
    originals = np.full((digits, SIZE, SIZE, 1), -1.0, np.float32)
    labels = np.ones(digits, np.uint8)
    masks = data.centre_masks(digits, 8)
    committed = {runs.committed_variant(name, 2): (name, 2, 120) for name in VARIANTS}
    committed[runs.variant("+ global context", 12)] = ("+ global context", 12, 600)
    committed[runs.variant("+ centred holes", 6)] = ("+ centred holes", 6, 300)
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
    rows = studies.ablation_results(originals, labels, masks, {0: CentreClassifier(), 1: CentreClassifier()},
                                    recommended=("+ global context", 12), extra_holes={"corner": corner},
                                    longer=[("+ centred holes", 6)])
    assert [row["variant"] for row in rows] == [*VARIANTS, "+ centred holes, 6 epochs", "recommended, 12 epochs"]
    # 'paper' is its committed 6-epoch run, whatever the ablation's budget
    assert opened == [runs.paper_gan(0)] + [runs.variant(name, 2) for name in list(VARIANTS)[1:]] + [
        runs.variant("+ centred holes", 6), runs.variant("+ global context", 12)]
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


# ---------------------------------------------------------------- hole sizes and targets


def test_hole_size_study_scores_every_method_at_every_hole():
    digits = 6
    originals = np.full((digits, SIZE, SIZE, 1), -1.0, np.float32)
    labels = np.ones(digits, np.uint8)

    def fill(value):
        return lambda corrupted, masks: np.where(masks[..., None], value, corrupted).astype(np.float32)

    methods = {"white": fill(1.0), "black": fill(-1.0)}
    curves, results = studies.hole_size_study(methods, originals, labels,
                                              {0: CentreClassifier(), 1: DarkCentreClassifier()}, sizes=(8, 14))
    assert list(results) == ["8x8 centre", "14x14 centre", "paper (8x8 jittered)"]
    assert list(results["14x14 centre"]) == ["white", "black"]
    # the centre classifier reads a white fill as 1 (right), the dark-centre one as 0 (wrong)
    assert curves == {"white": {8: (0.5, pytest.approx(2 ** -0.5)), 14: (0.5, pytest.approx(2 ** -0.5))},
                      "black": {8: (0.5, pytest.approx(2 ** -0.5)), 14: (0.5, pytest.approx(2 ** -0.5))}}
    assert results["14x14 centre"]["white"]["accuracies"] == {0: 1.0, 1: 0.0}
    assert results["14x14 centre"]["black"]["accuracies"] == {0: 0.0, 1: 1.0}
    assert results["8x8 centre"]["white"]["hole_l1"] == pytest.approx(1.0)  # white where the truth is black
    assert results["paper (8x8 jittered)"]["black"]["hole_l1"] == 0.0


def test_reclassify_scores_the_inpainted_digits_with_every_classifier():
    labels = np.array([1, 1, 0, 0])
    by_hole = {"paper (8x8 jittered)": {"telea": {"inpainted": centre_digits([True, True, False, False]),
                                                  "accuracy": 0.1},
                                        "recommended": {"inpainted": centre_digits([True, False, False, False])}},
               "14x14 centre": {"recommended": {"inpainted": centre_digits([False, False, False, False])}}}
    results = studies.reclassify(by_hole, labels, {0: CentreClassifier(), 1: DarkCentreClassifier()})
    assert list(results) == list(by_hole) and list(results["paper (8x8 jittered)"]) == ["telea", "recommended"]
    telea = results["paper (8x8 jittered)"]["telea"]
    assert telea == {"accuracies": {0: 1.0, 1: 0.0}, "accuracy_mean": 0.5, "accuracy_sd": pytest.approx(2 ** -0.5)}
    assert results["paper (8x8 jittered)"]["recommended"]["accuracies"] == {0: 0.75, 1: 0.25}
    single = studies.reclassify(by_hole, labels, {0: CentreClassifier()})
    assert single["14x14 centre"]["recommended"] == {"accuracies": {0: 0.5}, "accuracy_mean": 0.5, "accuracy_sd": 0.0}


@pytest.mark.parametrize("by_hole, labels, classifiers, message", [
    ({}, [0], {0: CentreClassifier()}, "hole-size results"),
    ({"paper": {}}, [0], {0: CentreClassifier()}, "at least one method at every hole"),
    ({"paper": {"telea": {"inpainted": centre_digits([True])}}}, [0], {}, "at least one classifier"),
    ({"paper": {"telea": {"inpainted": centre_digits([True])}}}, [0, 1], {0: CentreClassifier()}, "one per label"),
    ({"paper": {"telea": {"accuracy": 0.5}}}, [0], {0: CentreClassifier()}, "needs inpainted digits"),
    ({"paper": {"telea": {"inpainted": centre_digits([True])}}}, 0, {0: CentreClassifier()}, "1-D array of digits"),
    ({"paper": {"telea": {"inpainted": centre_digits([True])}}}, [[0]], {0: CentreClassifier()}, "1-D array"),
    ({"paper": {"telea": {"inpainted": centre_digits([True])}}}, [10], {0: CentreClassifier()}, "digits 0..9"),
    ({"paper": {"telea": {"inpainted": centre_digits([True])}}}, [0.5], {0: CentreClassifier()}, "digits 0..9"),
])
def test_reclassify_rejects_bad_input(by_hole, labels, classifiers, message):
    with pytest.raises(ValueError, match=message):
        studies.reclassify(by_hole, labels, classifiers)


def results_by_hole(recommended, others=0.5):
    """Hole-size results with the given mean accuracy of "recommended" at each target hole."""
    return {studies.hole_label(hole): {"recommended": {"accuracy_mean": value}, "telea": {"accuracy_mean": others}}
            for hole, value in recommended.items()}


def test_accuracy_table_gives_mean_and_sd_in_percent_by_hole():
    by_hole = {"12x12 centre": {"recommended": {"accuracy_mean": 0.92875, "accuracy_sd": 0.004},
                                "telea": {"accuracy_mean": 0.5, "accuracy_sd": 0.0}}}
    assert studies.accuracy_table(by_hole) == {"12x12 centre": {"recommended": "92.9 ± 0.4", "telea": "50.0 ± 0.0"}}


def test_accuracy_table_rejects_results_without_accuracies():
    with pytest.raises(ValueError, match="at least one hole"):
        studies.accuracy_table({})
    with pytest.raises(ValueError, match="accuracy_mean and accuracy_sd"):
        studies.accuracy_table({"12x12 centre": {"telea": {"accuracy": 0.5}}})


def test_target_report_compares_every_target_with_its_goal():
    rows = studies.target_report(results_by_hole({"paper": 0.985, 12: 0.9299, 14: 0.9}))
    assert rows == [
        {"target": "paper (8x8 jittered) >= 98.5 %", "accuracy %": "98.50", "met": True},
        {"target": "12x12 centre >= 93 %", "accuracy %": "92.99", "met": False},
        {"target": "14x14 centre >= 85 %", "accuracy %": "90.00", "met": True},
        {"target": "best method at every hole", "accuracy %": "", "met": True},
    ]
    assert [row["target"].split(" >=")[0] for row in rows[:-1]] == [studies.hole_label(h) for h in studies.TARGETS]
    beaten = studies.target_report(results_by_hole({"paper": 0.99, 12: 0.95, 14: 0.4}, others=0.45))
    assert beaten[-1] == {"target": "best method at every hole", "accuracy %": "", "met": False}
    assert [row["met"] for row in beaten[:3]] == [True, True, False]


def test_target_report_is_not_decided_by_float_sums():
    """Three classifiers at 98.33, 98.23 and 98.94 % average to 0.9849999999999999: the goal is met."""
    mean = float(np.mean([0.9833, 0.9823, 0.9894]))
    assert mean < 0.985
    assert studies.target_report(results_by_hole({"paper": mean}), targets={"paper": 0.985})[0]["met"]


def test_target_report_counts_a_tie_as_best():
    rows = studies.target_report(results_by_hole({"paper": 0.5, 12: 0.5, 14: 0.5}, others=0.5))
    assert rows[-1]["met"]
    rows = studies.target_report(results_by_hole({"paper": 0.5, 12: 0.5, 14: 0.5}, others=0.5 + 1e-6))
    assert not rows[-1]["met"]


@pytest.mark.parametrize("targets", [{"paper": 98.5}, {}, {"paper": 0.0}, [("paper", 0.9)]])
def test_target_report_rejects_bad_targets(targets):
    with pytest.raises(ValueError, match="fractions, not percent"):
        studies.target_report(results_by_hole({"paper": 0.99}), targets=targets)


def test_target_report_needs_every_target_hole_and_the_method():
    with pytest.raises(ValueError, match="12x12 centre"):
        studies.target_report(results_by_hole({"paper": 0.99, 14: 0.9}))
    with pytest.raises(ValueError, match="'paper gan'"):
        studies.target_report(results_by_hole({"paper": 0.99, 12: 0.95, 14: 0.9}), method="paper gan")
    assert studies.target_report(results_by_hole({8: 0.2}), targets={8: 0.1})[0]["met"]


# ---------------------------------------------------------------- holes and the ceiling


def test_hole_label_names_centre_and_paper_holes():
    assert studies.hole_label(14) == "14x14 centre"
    assert studies.hole_label(np.int64(8)) == "8x8 centre"
    assert studies.hole_label("paper") == "paper (8x8 jittered)"
    assert studies.hole_label(studies.NO_HOLE) == "no hole"


@pytest.mark.parametrize("hole", ["huge", 0, 29, True])
def test_hole_label_rejects_an_unknown_hole(hole):
    with pytest.raises(ValueError, match="hole"):
        studies.hole_label(hole)


def test_no_hole_masks_nothing():
    masks = studies.hole_masks(4, studies.NO_HOLE)
    assert masks.shape == (4, SIZE, SIZE) and masks.dtype == np.bool_ and not masks.any()
    for bad in (-1, 2.5):
        with pytest.raises(ValueError, match="non-negative integer"):
            studies.hole_masks(bad, studies.NO_HOLE)


def test_hole_masks_of_the_paper_hole_differ_for_training_and_test_digits():
    assert np.array_equal(studies.hole_masks(5, "paper"), evaluation.evaluation_masks(5))
    assert np.array_equal(studies.hole_masks(5, "paper", train=True), data.paper_masks(5, studies.CEILING_MASK_SEED))
    assert not np.array_equal(studies.hole_masks(50, "paper"), studies.hole_masks(50, "paper", train=True))
    assert np.array_equal(studies.hole_masks(3, 12, train=True), data.centre_masks(3, 12))


def test_hole_masks_rejects_an_unknown_hole():
    with pytest.raises(ValueError, match="hole_size"):
        studies.hole_masks(3, "huge", train=True)


def test_ceiling_table_puts_the_model_beside_every_budget(private_artifacts):
    holes = ("none", "paper", *studies.HOLE_SIZES)
    for epochs, share in ((3, 0.5), (10, 0.75)):
        results = {str(hole): {"accuracy": share} for hole in holes if not (epochs == 3 and hole == "none")}
        artifacts.save_json(runs.ceiling_record(epochs), {"results": results})
    assert runs.ceiling_record(3).parent == private_artifacts / "ceiling"
    artifacts.save_json(runs.classifier_record(0), {"clean_test_accuracy": 0.99})
    by_hole = {studies.hole_label(hole): {"recommended": {"accuracy": 0.9}} for hole in holes[1:]}
    rows = studies.ceiling_table(by_hole, budgets=(3, 10))
    assert list(rows) == [studies.hole_label(hole) for hole in holes]
    assert rows["no hole"] == {"recommended, shipped classifier %": 99.0, "trained on corrupted digits, 3 epochs %": None,
                               "trained on corrupted digits, 10 epochs %": 75.0}
    assert rows["12x12 centre"]["recommended, shipped classifier %"] == 90.0
    assert rows["12x12 centre"]["trained on corrupted digits, 3 epochs %"] == 50.0
    with pytest.raises(ValueError, match="paper gan"):
        studies.ceiling_table(by_hole, method="paper gan", budgets=(3, 10))
    del by_hole["16x16 centre"]
    with pytest.raises(ValueError, match="16x16 centre"):
        studies.ceiling_table(by_hole, budgets=(3, 10))


# ---------------------------------------------------------------- training runs

TINY = PAPER.variant("tiny", batch_size=32, epochs=1)
PROBE_DIGITS = 20


class OneDigitClassifier:
    """Reads every digit as a 1: a collapsed run, as the probe sees it."""

    def predict(self, images, batch_size=None, verbose=0):
        return np.eye(10, dtype=np.float32)[np.ones(len(images), int)]


class CyclingClassifier:
    """Reads the i-th probe digit as i % 10: every digit right, each class a tenth of the probe."""

    def predict(self, images, batch_size=None, verbose=0):
        return np.eye(10, dtype=np.float32)[np.arange(len(images)) % 10]


@pytest.fixture(scope="module")
def finished_runs(tmp_path_factory):
    """Three tiny finished runs, ``{(recipe, seed): folder}``: two of the paper that the probe
    reads as collapsed (seeds 2 and 10) and one healthy run of another recipe (seed 3)."""
    rng = np.random.default_rng(0)
    images = rng.uniform(-1, 1, (TINY.batch_size, SIZE, SIZE, 1)).astype(np.float32)
    masks = data.paper_masks(PROBE_DIGITS, 0)
    corrupted, labels = data.apply_mask(images[:PROBE_DIGITS], masks), np.arange(PROBE_DIGITS) % 10
    folders = {}
    for recipe, seed, classifier in (("paper", 10, OneDigitClassifier()), ("paper", 2, OneDigitClassifier()),
                                     ("no label smoothing", 3, CyclingClassifier())):
        folder = tmp_path_factory.mktemp("runs") / f"{runs.slug(recipe)}-{seed}"
        probe = fitting.ClassifierProbe(classifier, corrupted, masks, labels)
        run = fitting.fit_gan(images, folder, TINY, seed=seed, recorders=[probe], verbose=0)
        assert run is not None and runs.status(folder) == "finished"
        folders[recipe, seed] = folder
    return folders


def place(source, destination):
    shutil.copytree(source, destination)
    return destination


def test_collapse_outcomes_reads_every_finished_run_of_each_recipe(finished_runs):
    for (recipe, seed), folder in finished_runs.items():
        place(folder, runs.collapse_run(recipe, seed))
    # neither a run still training nor a folder without a run counts, nor a recipe the study does not have
    resumable = runs.collapse_run("paper", 4)
    resumable.mkdir(parents=True)
    (resumable / runs.CHECKPOINT).write_bytes(b"")
    runs.collapse_run("equal learning rates", 0).mkdir(parents=True)
    place(finished_runs["paper", 2], runs.collapse_run("not a recipe", 2))
    collapsed = {"epochs": 1, "collapsed": True, "top_class_share": 1.0, "probe_accuracy": 0.1,
                 "source": "collapse study"}
    assert studies.collapse_outcomes() == {
        "paper": [{"seed": 2, **collapsed}, {"seed": 10, **collapsed}],  # by seed, not by folder name
        "no label smoothing": [{"seed": 3, "epochs": 1, "collapsed": False, "top_class_share": 0.1,
                                "probe_accuracy": 1.0, "source": "collapse study"}],
    }


def test_the_papers_recipe_also_counts_committed_longer_runs_at_the_studys_budget(finished_runs, tmp_path):
    """A committed 3-epoch paper run of a seed the study did not train is read at the end of epoch 2."""
    images = np.random.default_rng(1).uniform(-1, 1, (TINY.batch_size, SIZE, SIZE, 1)).astype(np.float32)
    masks = data.paper_masks(PROBE_DIGITS, 0)
    probe = fitting.ClassifierProbe(OneDigitClassifier(), data.apply_mask(images[:PROBE_DIGITS], masks), masks,
                                    np.arange(PROBE_DIGITS) % 10)
    fitting.fit_gan(images, runs.paper_gan(1), TINY.variant("tiny", epochs=3), seed=1, recorders=[probe], verbose=0)
    place(finished_runs["paper", 2], runs.collapse_run("paper", 2))
    place(finished_runs["paper", 2], runs.paper_gan(2))  # the study trained seed 2 again: its own run counts
    outcomes = studies.collapse_outcomes()["paper"]
    assert [(row["seed"], row["epochs"], row["source"]) for row in outcomes] == [
        (1, collapse.DECIDING_EPOCHS, "the committed 3-epoch run"), (2, 1, "collapse study")]
    assert studies.collapse_outcomes(committed_paper_seeds=())["paper"] == outcomes[1:]


def test_collapse_outcomes_reads_only_the_runs_under_its_root(finished_runs):
    place(finished_runs["paper", 2], runs.collapse_run("paper", 0, (runs.QUICK,)))
    assert studies.collapse_outcomes() == {}
    assert studies.collapse_outcomes((runs.QUICK,)) == {
        "paper": [{"seed": 2, "epochs": 1, "collapsed": True, "top_class_share": 1.0, "probe_accuracy": 0.1,
                   "source": "collapse study"}]}
    assert collapse.collapse_rates(studies.collapse_outcomes((runs.QUICK,)))[0]["collapsed"] == 1


def test_summarise_run_reports_the_last_iterations_and_the_collapsed_epochs(finished_runs):
    collapsed = runs.open(finished_runs["paper", 2])
    healthy = runs.open(finished_runs["no label smoothing", 3])
    history = studies.history_arrays(collapsed)
    assert list(history["step"]) == [1] and list(history["epoch"]) == [1]  # one batch, one epoch
    summary = studies.summarise_run(collapsed)
    assert summary["seed"] == 2 and summary["iterations"] == 1
    assert summary["g_loss (last 100)"] == round(float(history["g_loss"][0]), 3)
    assert summary["probe accuracy at the end"] == 0.1 and summary["best probe accuracy"] == 0.1
    assert summary["collapsed at end of epochs"] == [1]
    assert studies.summarise_run(healthy)["collapsed at end of epochs"] == []
    assert studies.summarise_run(healthy, collapse_share=0.1)["collapsed at end of epochs"] == [1]
    with pytest.raises(ValueError, match="last must be an integer >= 1"):
        studies.summarise_run(collapsed, last=0)


def test_paper_runs_opens_the_committed_runs_by_seed(finished_runs):
    place(finished_runs["paper", 2], runs.paper_gan(2))
    opened = studies.paper_runs(seeds=(2,))
    assert list(opened) == [2] and opened[2].folder == runs.paper_gan(2) and opened[2].seed == 2
    with pytest.raises(ValueError, match="holds no finished run"):
        studies.paper_runs(seeds=(2, 0))


def test_collapse_outcomes_give_the_fix_at_the_papers_budget_its_own_row(finished_runs):
    place(finished_runs["no label smoothing", 3], runs.collapse_run("no label smoothing", 3))
    place(finished_runs["no label smoothing", 3], runs.fixed_paper_gan(3))
    run = runs.open(runs.fixed_paper_gan(3))
    key = f"{run.config.name}, {run.config.epochs} epochs"
    summary = studies.collapse_outcomes()
    assert summary[key] == [{"seed": 3, "epochs": run.config.epochs, "collapsed": False, "top_class_share": 0.1,
                             "probe_accuracy": 1.0, "source": "the fix at the paper's budget"}]
    assert len(summary["no label smoothing"]) == 1  # the study's own run, not counted twice
    assert collapse.smallest_fix(summary) == []  # three runs or one: never a fix by themselves
