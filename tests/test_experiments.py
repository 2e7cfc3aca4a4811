import os
import re
import types

import numpy as np
import pytest

from lib import artifacts, data, evaluation, experiments, inpainting, models, training
from lib.config import EVALUATION_MASK_SEED, PAPER, PROBE_SIZE, SNAPSHOT_MASK_SEED, VARIANTS, DenseClassifierConfig

SIZE = PAPER.image_size
real_mnist = pytest.mark.skipif(not os.environ.get(data.NPZ_VARIABLE), reason="MNIST_NPZ is not set")


@pytest.fixture(autouse=True)
def private_artifacts(monkeypatch, tmp_path):
    """Nothing here may touch the real artifacts folder."""
    monkeypatch.setenv(artifacts.ARTIFACTS_VARIABLE, str(tmp_path))
    return tmp_path


def synthetic_test_set(per_class=4, seed=0):
    rng = np.random.default_rng(seed)
    labels = rng.permutation(np.tile(np.arange(10, dtype=np.uint8), per_class))
    images = rng.integers(0, 256, size=(len(labels), SIZE, SIZE), dtype=np.uint8)
    return images, labels


def forbid_work(monkeypatch):
    def fail(*args, **kwargs):
        raise AssertionError("work started before the variant name was checked")

    monkeypatch.setattr(data, "load_mnist", fail)
    monkeypatch.setattr(training, "train_gan", fail)
    monkeypatch.setattr(evaluation, "load_classifier", fail)


# ---------------------------------------------------------------- names and folders


def test_variant_slug_examples():
    assert inpainting.variant_slug("paper") == "paper"
    assert inpainting.variant_slug("+ L2 hole loss") == "l2_hole_loss"
    assert inpainting.variant_slug("+ skip connections") == "skip_connections"
    assert inpainting.variant_slug("A/B test: v2!") == "a_b_test__v2"


def test_variant_slugs_of_every_variant_are_file_safe_and_distinct():
    slugs = [inpainting.variant_slug(name) for name in VARIANTS]
    assert len(set(slugs)) == len(slugs)
    for slug in slugs:
        assert re.fullmatch(r"[a-z0-9_]+", slug)
        assert not slug.startswith("_") and not slug.endswith("_")


def test_variant_folder_under_private_artifacts(private_artifacts):
    folder = experiments.variant_folder("+ mask channel", 2, seed=1)
    assert folder == private_artifacts / "variants" / "mask_channel-2ep" / "seed1"
    assert not folder.exists()  # naming a folder creates nothing


def test_paper_run_folder(private_artifacts):
    assert experiments.paper_run_folder(2) == private_artifacts / "paper_gan" / "seed2"


def test_recommended_name_reads_the_record(private_artifacts):
    artifacts.save_json(private_artifacts / "variants" / experiments.RECOMMENDED_RECORD,
                        {"chosen": "+ skip connections"})
    assert inpainting.recommended_name() == "+ skip connections"
    # Records written before the budget was recorded were trained for the paper's 6 epochs.
    assert inpainting.recommended_run() == ("+ skip connections", PAPER.epochs)
    artifacts.save_json(private_artifacts / "variants" / experiments.RECOMMENDED_RECORD,
                        {"chosen": "+ global context", "epochs": 12})
    assert inpainting.recommended_run() == ("+ global context", 12)


# ---------------------------------------------------------------- inputs


def test_snapshot_inputs_two_digits_per_class_with_paper_masks():
    x_test, y_test = synthetic_test_set()
    (corrupted, masks), labels = experiments.snapshot_inputs(x_test, y_test)
    assert list(labels) == [digit for digit in range(10) for _ in range(2)]
    assert experiments.SNAPSHOT_DIGITS == 20
    indices = [i for digit in range(10) for i in np.flatnonzero(y_test == digit)[:2]]
    assert corrupted.shape == (20, SIZE, SIZE, 1) and corrupted.dtype == np.float32
    assert masks.shape == (20, SIZE, SIZE) and masks.dtype == np.bool_
    assert (masks.sum(axis=(1, 2)) == 64).all()
    assert np.array_equal(masks, data.paper_masks(20, SNAPSHOT_MASK_SEED))
    assert np.array_equal(corrupted, data.apply_mask(data.to_model_input(x_test[indices]), masks))
    assert (corrupted[..., 0][masks] == -1).all()


def test_snapshot_inputs_are_deterministic():
    x_test, y_test = synthetic_test_set(seed=1)
    (a, ma), la = experiments.snapshot_inputs(x_test, y_test)
    (b, mb), lb = experiments.snapshot_inputs(x_test, y_test)
    assert np.array_equal(a, b) and np.array_equal(ma, mb) and np.array_equal(la, lb)


def test_probe_inputs_on_a_small_synthetic_set():
    x_test, y_test = synthetic_test_set()
    (corrupted, masks), labels = experiments.probe_inputs(x_test, y_test, size=25)
    assert np.array_equal(labels, y_test[:25])
    assert np.array_equal(masks, evaluation.evaluation_masks(25))
    assert np.array_equal(corrupted, data.apply_mask(data.to_model_input(x_test[:25]), masks))


@real_mnist
def test_inputs_on_real_mnist():
    _, (x_test, y_test) = data.load_mnist()
    (corrupted, masks), labels = experiments.probe_inputs(x_test, y_test)
    assert len(labels) == PROBE_SIZE and corrupted.shape == (PROBE_SIZE, SIZE, SIZE, 1)
    assert np.array_equal(labels, y_test[:PROBE_SIZE])
    assert np.array_equal(masks, data.paper_masks(PROBE_SIZE, EVALUATION_MASK_SEED))
    assert np.array_equal(corrupted, data.apply_mask(data.to_model_input(x_test[:PROBE_SIZE]), masks))

    (corrupted, masks), labels = experiments.snapshot_inputs(x_test, y_test)
    assert list(labels) == [digit for digit in range(10) for _ in range(2)]
    assert (masks.sum(axis=(1, 2)) == 64).all()
    indices = [i for digit in range(10) for i in np.flatnonzero(y_test == digit)[:2]]
    assert np.array_equal(corrupted, data.apply_mask(data.to_model_input(x_test[indices]), masks))


# ---------------------------------------------------------------- runs (no training)


def test_run_variant_rejects_an_unknown_name_before_any_work(monkeypatch, private_artifacts):
    forbid_work(monkeypatch)
    with pytest.raises(ValueError, match="unknown variant"):
        experiments.run_variant("+ magic", 2)
    assert list(private_artifacts.iterdir()) == []


def test_main_variant_with_an_unknown_or_missing_name(monkeypatch):
    forbid_work(monkeypatch)
    with pytest.raises(ValueError, match="unknown variant"):
        experiments.main(["variant", "--name", "nonsense"])
    with pytest.raises(ValueError, match="unknown variant"):
        experiments.main(["variant"])


def test_main_rejects_an_unknown_run(monkeypatch):
    forbid_work(monkeypatch)
    with pytest.raises(SystemExit):
        experiments.main(["everything"])


def test_main_ceiling_passes_holes_and_epochs(monkeypatch):
    calls = []
    monkeypatch.setattr(experiments, "run_ceiling", lambda **kwargs: calls.append(kwargs))
    experiments.main(["ceiling", "--epochs", "10", "--holes", "none", "paper", "12"])
    experiments.main(["ceiling"])
    assert calls == [dict(holes=("none", "paper", 12), seed=0, epochs=10),
                     dict(holes=("paper", *experiments.HOLE_SIZES), seed=0, epochs=None)]


@pytest.mark.parametrize("argv", [["ceiling", "--holes", "huge"], ["variant", "--name", "+ composite", "--holes", "8"],
                                  ["ceiling", "--epochs", "0"], ["ceiling", "--holes", "0", "99"]])
def test_main_rejects_bad_ceiling_arguments(monkeypatch, argv):
    forbid_work(monkeypatch)
    with pytest.raises(SystemExit):
        experiments.main(argv)


def test_run_variant_passes_the_right_plan_to_training(monkeypatch, private_artifacts):
    x_test, y_test = synthetic_test_set(per_class=PROBE_SIZE // 10)  # the probe takes PROBE_SIZE digits
    x_train = np.zeros((8, SIZE, SIZE), np.uint8)
    monkeypatch.setenv("GAN_BOOK_MODE", "quick")
    monkeypatch.setattr(data, "load_mnist", lambda *a, **k: ((x_train, np.zeros(8, np.uint8)), (x_test, y_test)))
    classifier = object()
    monkeypatch.setattr(evaluation, "load_classifier", lambda seed=0: classifier)
    calls = []

    def fake_train_gan(images, folder, config, **kwargs):
        calls.append((images, folder, config, kwargs))
        return types.SimpleNamespace(record={"wall_seconds": 1.0}, probe=[{"step": 1, "accuracy": 0.5}])

    monkeypatch.setattr(training, "train_gan", fake_train_gan)
    run = experiments.run_variant("+ composite", 6, seed=3)
    assert run.probe[-1]["accuracy"] == 0.5
    (images, folder, config, kwargs), = calls
    assert config.epochs == 2  # quick mode caps the epochs
    assert config == VARIANTS["+ composite"].variant("+ composite", epochs=2)
    assert folder == private_artifacts / "quick" / "variants" / "composite-2ep" / "seed3"  # never over full runs
    assert images.shape == (8, SIZE, SIZE, 1)
    assert kwargs["seed"] == 3 and kwargs["classifier"] is classifier
    assert np.array_equal(kwargs["probe_labels"], y_test[:PROBE_SIZE])
    assert np.array_equal(kwargs["probe_inputs"][1], evaluation.evaluation_masks(PROBE_SIZE))
    assert np.array_equal(kwargs["snapshot_inputs"][1], data.paper_masks(20, SNAPSHOT_MASK_SEED))


class ConstantGenerator:
    """Fills every pixel with one value, whatever it is fed."""

    def __init__(self, value):
        self.value = value

    def predict(self, inputs, verbose=0, batch_size=None):
        return np.full((int(inputs.shape[0]), SIZE, SIZE, 1), self.value, np.float32)


class CentreClassifier:
    """Predicts 1 if the centre pixel is bright, else 0."""

    def predict(self, images, batch_size=None, verbose=0):
        return np.eye(10, dtype=np.float32)[(np.asarray(images)[:, 14, 14, 0] > 0).astype(int)]


CANDIDATES = (experiments.CANDIDATE_BASELINE, *experiments.CANDIDATE_CHANGES)


@pytest.mark.parametrize("white", CANDIDATES)
def test_choose_recommended_keeps_the_candidate_that_scores_higher(monkeypatch, private_artifacts, white):
    monkeypatch.setenv("GAN_BOOK_MODE", "full")  # quick mode would read artifacts/quick/
    x_test = np.zeros((30, SIZE, SIZE), np.uint8)
    y_test = np.ones(30, np.uint8)  # "bright centre": only a white fill classifies right
    monkeypatch.setattr(data, "load_mnist", lambda *a, **k: ((x_test, y_test), (x_test, y_test)))
    monkeypatch.setattr(evaluation, "load_classifier", lambda seed=0: CentreClassifier())
    folders = []

    def fake_load_generator(folder, config):
        folders.append(folder)
        return ConstantGenerator(1.0 if config.name == white else -1.0)

    monkeypatch.setattr(training, "load_generator", fake_load_generator)
    chosen = experiments.choose_recommended(epochs=2, hole_size=14, digits=20)
    assert chosen == white
    assert folders == [experiments.variant_folder(name, 2) for name in CANDIDATES]
    record = artifacts.load_json(private_artifacts / "variants" / experiments.RECOMMENDED_RECORD)
    assert record["chosen"] == white
    assert record["scores"][white] == 1.0
    assert sum(record["scores"].values()) == 1.0
    assert record["ablation_epochs"] == 2
    assert inpainting.recommended_run() == (white, experiments.RECOMMENDED_EPOCHS)


def choose_with_right_counts(monkeypatch, counts, digits=20):
    """Run `choose_recommended` where the baseline and each candidate (in that order) get the
    first ``counts[i]`` of ``digits`` digits right."""
    monkeypatch.setenv("GAN_BOOK_MODE", "full")  # quick mode would read artifacts/quick/
    x = np.zeros((digits, SIZE, SIZE), np.uint8)
    y = np.zeros(digits, np.uint8)
    monkeypatch.setattr(data, "load_mnist", lambda *a, **k: ((x, y), (x, y)))
    monkeypatch.setattr(evaluation, "load_classifier", lambda seed=0: None)
    monkeypatch.setattr(training, "load_generator", lambda folder, config: ConstantGenerator(-1.0))
    right_counts = iter(counts)

    def fake_classify(classifier, images):
        predictions = np.ones(digits, np.uint8)
        predictions[: next(right_counts)] = 0
        return predictions

    monkeypatch.setattr(evaluation, "classify", fake_classify)
    return experiments.choose_recommended(epochs=2, hole_size=14, digits=digits)


def test_choose_recommended_keeps_the_simpler_model_when_the_gain_is_within_noise(monkeypatch, private_artifacts):
    # Each change gets one more digit right: 5 points, one standard error.
    counts = [10] + [11] * len(experiments.CANDIDATE_CHANGES)
    assert choose_with_right_counts(monkeypatch, counts) == experiments.CANDIDATE_BASELINE
    record = artifacts.load_json(private_artifacts / "variants" / experiments.RECOMMENDED_RECORD)
    for comparison in record["comparisons"].values():
        assert comparison["gain"] == pytest.approx(0.05) and comparison["standard_error"] == pytest.approx(0.05)
        assert not comparison["kept"]


def test_choose_recommended_combines_every_significant_change(monkeypatch, private_artifacts):
    skip, context, centred, decay = experiments.CANDIDATE_CHANGES
    # gains over the baseline: 75, 100, 10 and 5 points; the last two are within two standard errors.
    chosen = choose_with_right_counts(monkeypatch, [0, 15, 20, 2, 1])
    assert chosen == f"{skip} {context}"
    record = artifacts.load_json(private_artifacts / "variants" / experiments.RECOMMENDED_RECORD)
    assert {name for name, c in record["comparisons"].items() if c["kept"]} == {skip, context}
    assert inpainting.recommended_name() == chosen


def test_paired_gain_counts_only_the_digits_the_two_disagree_on():
    change = np.array([1, 1, 1, 0, 0, 1], bool)
    baseline = np.array([1, 0, 0, 1, 0, 1], bool)
    gain, standard_error = experiments.paired_gain(change, baseline)
    assert gain == pytest.approx((2 - 1) / 6)
    assert standard_error == pytest.approx(3 ** 0.5 / 6)
    assert experiments.paired_gain(change, change) == (0.0, 0.0)


@pytest.mark.parametrize("change, baseline", [([1, 0], [1]), ([], []), ([[1]], [[1]])])
def test_paired_gain_rejects_unpaired_inputs(change, baseline):
    with pytest.raises(ValueError, match="same length"):
        experiments.paired_gain(np.array(change, bool), np.array(baseline, bool))


def test_paired_gain_rejects_predictions_instead_of_correctness():
    with pytest.raises(ValueError, match="boolean"):
        experiments.paired_gain(np.array([3, 7]), np.array([True, False]))


def test_speed_study_checks_the_variant_before_any_work(monkeypatch):
    forbid_work(monkeypatch)
    with pytest.raises(ValueError, match="unknown variant"):
        experiments.run_speed_study(name="+ magic")


def test_ablation_results_one_row_per_variant_and_the_recommended_run(monkeypatch, private_artifacts):
    digits = 8
    originals = np.full((digits, SIZE, SIZE, 1), -1.0, np.float32)
    labels = np.ones(digits, np.uint8)
    masks = data.centre_masks(digits, 8)
    loaded = []

    def fake_load(name, epochs, seed=0):
        loaded.append((name, epochs))
        white = name == "+ composite" or epochs == 12  # these fill the centre: CentreClassifier says 1
        return ConstantGenerator(1.0 if white else -1.0), VARIANTS[name]

    monkeypatch.setattr(experiments, "load_variant_generator", fake_load)
    for name in VARIANTS:
        folder = experiments.paper_run_folder(0) if name == "paper" else experiments.variant_folder(name, 2)
        artifacts.save_json(folder / training.RUN_RECORD, {"config": {"epochs": 6 if name == "paper" else 2},
                                                            "wall_seconds": 120})
    artifacts.save_json(experiments.variant_folder("+ global context", 12) / training.RUN_RECORD,
                        {"config": {"epochs": 12}, "wall_seconds": 600})
    corner = np.zeros((digits, SIZE, SIZE), bool)
    corner[:, :2, :2] = True  # leaves the dark centre visible: every fill classifies as 0
    artifacts.save_json(experiments.variant_folder("+ centred holes", 6) / training.RUN_RECORD,
                        {"config": {"epochs": 6}, "wall_seconds": 300})
    rows = experiments.ablation_results(originals, labels, masks, {0: CentreClassifier(), 1: CentreClassifier()},
                                        recommended=("+ global context", 12), extra_holes={"corner": corner},
                                        longer=[("+ centred holes", 6)])
    assert [row["variant"] for row in rows] == [*VARIANTS, "+ centred holes, 6 epochs", "recommended, 12 epochs"]
    assert loaded == [(name, 2) for name in VARIANTS] + [("+ centred holes", 6), ("+ global context", 12)]
    assert rows[-2]["built on"] == "+ centred holes" and rows[-2]["training minutes"] == 5.0
    by_name = {row["variant"]: row for row in rows}
    assert by_name["paper"]["built on"] == "" and by_name["+ composite"]["built on"] == "+ L2 hole loss"
    assert by_name["+ global context"]["built on"] == experiments.CANDIDATE_BASELINE
    assert by_name["recommended, 12 epochs"]["built on"] == "+ global context"
    assert by_name["+ composite"]["accuracy %"] == "100.00 ± 0.00"
    assert by_name["+ mask channel"]["accuracy %"] == "0.00 ± 0.00"
    assert rows[-1]["accuracy %"] == "100.00 ± 0.00" and rows[-1]["epochs"] == 12
    assert rows[-1]["training minutes"] == 10.0 and by_name["paper"]["epochs"] == 6
    assert {row["accuracy % (corner)"] for row in rows} == {"0.00 ± 0.00"}


@pytest.fixture
def captured_training(monkeypatch):
    """`train_gan` replaced by a recorder; MNIST by a synthetic set of 3,000 digits."""
    calls = []
    x, y = synthetic_test_set(per_class=300)
    monkeypatch.setattr(data, "load_mnist", lambda *a, **k: ((x, y), (x, y)))
    monkeypatch.setattr(evaluation, "load_classifier", lambda seed=0: "classifier")

    def record(images, folder, config, **kwargs):
        calls.append({"images": len(images), "folder": str(folder), "config": config, **kwargs})
        return "run"

    monkeypatch.setattr(training, "train_gan", record)
    return calls


@pytest.mark.parametrize("mode", ["full", "quick"])
def test_demonstration_run_can_train_the_full_budget_from_scratch_in_any_mode(monkeypatch, private_artifacts,
                                                                             captured_training, mode):
    monkeypatch.setenv("GAN_BOOK_MODE", mode)
    assert experiments.demonstration_run(seed=1, train_full=True) == "run"
    (call,) = captured_training
    assert call["folder"] == str(private_artifacts / experiments.RETRAINED_FOLDER / "paper_gan" / "seed1")
    assert call["config"] == PAPER and call["images"] == 3000 and call["seed"] == 1
    assert call["classifier"] == "classifier" and call["probe_every_steps"] == 100


def test_demonstration_run_follows_the_mode_by_default(monkeypatch, private_artifacts, captured_training):
    monkeypatch.setenv("GAN_BOOK_MODE", "full")
    experiments.demonstration_run()
    monkeypatch.setenv("GAN_BOOK_MODE", "quick")
    experiments.demonstration_run()
    full, quick = captured_training
    assert full["folder"] == str(experiments.paper_run_folder(0)) and full["config"] == PAPER
    assert quick["folder"] == str(private_artifacts / "quick" / "demonstration" / "seed0")  # never the committed run
    assert quick["config"].epochs == 2 and quick["images"] == 2048


def test_demonstration_run_rejects_a_non_boolean_switch(captured_training):
    with pytest.raises(ValueError, match="train_full"):
        experiments.demonstration_run(train_full="yes")
    assert captured_training == []


def test_run_ceiling_scores_every_hole_and_records_them(monkeypatch, private_artifacts):
    monkeypatch.setenv("GAN_BOOK_MODE", "quick")
    x, y = synthetic_test_set(per_class=300)
    monkeypatch.setattr(data, "load_mnist", lambda *a, **k: ((x, y), (x[:40], y[:40])))
    seen = []

    def fake_accuracy(x_train, y_train, train_masks, x_test, y_test, test_masks, seed, epochs):
        seen.append((len(x_train), train_masks, test_masks, epochs))
        return train_masks.mean()

    monkeypatch.setattr(evaluation, "corrupted_digit_accuracy", fake_accuracy)
    results = experiments.run_ceiling(holes=("paper", 12))
    (paper_train, paper_masks, paper_test, epochs), (_, centre_train, centre_test, _) = seen
    assert paper_train == 2048 and epochs == 1  # the quick budget
    assert np.array_equal(paper_masks, data.paper_masks(2048, experiments.CEILING_MASK_SEED))
    assert np.array_equal(paper_test, evaluation.evaluation_masks(40))
    assert np.array_equal(centre_train, data.centre_masks(2048, 12)) and np.array_equal(centre_test, data.centre_masks(40, 12))
    record = artifacts.load_json(private_artifacts / "quick" / "ceiling" / experiments.CEILING_RECORD)
    assert set(record["results"]) == {"paper", "12"} == set(results)
    assert record["results"]["12"]["accuracy"] == pytest.approx(144 / 784)


def test_run_ceiling_with_a_longer_budget_writes_its_own_record(monkeypatch, private_artifacts):
    monkeypatch.setenv("GAN_BOOK_MODE", "quick")
    x, y = synthetic_test_set(per_class=30)
    monkeypatch.setattr(data, "load_mnist", lambda *a, **k: ((x, y), (x[:40], y[:40])))
    seen = []
    monkeypatch.setattr(evaluation, "corrupted_digit_accuracy",
                        lambda *args, seed, epochs: seen.append((args[2].any(), epochs)) or 0.5)
    experiments.run_ceiling(holes=(experiments.NO_HOLE,), epochs=10)
    assert seen == [(False, 1)]  # nothing missing; quick mode caps the budget
    folder = private_artifacts / "quick" / "ceiling"
    assert experiments.ceiling_record(10) == "corrupted_digit_accuracy-10ep.json"
    assert experiments.ceiling_record(experiments.CLASSIFIER.epochs) == experiments.CEILING_RECORD
    record = artifacts.load_json(folder / experiments.ceiling_record(10))
    assert record["epochs"] == 1 and set(record["results"]) == {"none"}
    assert not (folder / experiments.CEILING_RECORD).exists()
    with pytest.raises(ValueError, match="epochs"):
        experiments.run_ceiling(epochs=0)
    with pytest.raises(ValueError, match="hole"):
        experiments.run_ceiling(holes=("paper", 99))  # refused before the good hole is trained
    with pytest.raises(ValueError, match="at least one hole"):
        experiments.run_ceiling(holes=())
    assert seen == [(False, 1)]


@pytest.mark.parametrize("epochs", [0, 2.5, True, "10"])
def test_ceiling_record_rejects_a_budget_that_is_not_a_positive_integer(epochs):
    with pytest.raises(ValueError, match="epochs"):
        experiments.ceiling_record(epochs)


@pytest.mark.parametrize("hole", ["huge", 0, 29, True])
def test_hole_label_rejects_an_unknown_hole(hole):
    with pytest.raises(ValueError, match="hole"):
        experiments.hole_label(hole)


def test_run_ceiling_adds_holes_to_a_record_of_the_same_recipe(monkeypatch, private_artifacts):
    monkeypatch.setenv("GAN_BOOK_MODE", "quick")
    x, y = synthetic_test_set(per_class=30)
    monkeypatch.setattr(data, "load_mnist", lambda *a, **k: ((x, y), (x[:40], y[:40])))
    monkeypatch.setattr(evaluation, "corrupted_digit_accuracy", lambda *args, seed, epochs: 0.25 + seed / 10)
    experiments.run_ceiling(holes=("paper", 12))
    experiments.run_ceiling(holes=(12, experiments.NO_HOLE))
    path = private_artifacts / "quick" / "ceiling" / experiments.CEILING_RECORD
    assert set(artifacts.load_json(path)["results"]) == {"paper", "12", "none"}
    experiments.run_ceiling(holes=(8,), seed=1)  # another recipe: a fresh record
    assert artifacts.load_json(path)["results"] == {"8": {"accuracy": 0.35, "wall_seconds": pytest.approx(0, abs=1)}}


def test_ceiling_table_puts_the_model_beside_every_budget(monkeypatch, private_artifacts):
    holes = ("none", "paper", *experiments.HOLE_SIZES)
    for epochs, share in ((3, 0.5), (10, 0.75)):
        results = {str(hole): {"accuracy": share} for hole in holes if not (epochs == 3 and hole == "none")}
        artifacts.save_json(private_artifacts / "ceiling" / experiments.ceiling_record(epochs), {"results": results})
    artifacts.save_json(private_artifacts / "classifier" / "seed0.json", {"clean_test_accuracy": 0.99})
    by_hole = {experiments.hole_label(hole): {"improved": {"accuracy": 0.9}} for hole in holes[1:]}
    rows = experiments.ceiling_table(by_hole, budgets=(3, 10))
    assert list(rows) == [experiments.hole_label(hole) for hole in holes]
    assert rows["no hole"] == {"improved, shipped classifier %": 99.0, "trained on corrupted digits, 3 epochs %": None,
                               "trained on corrupted digits, 10 epochs %": 75.0}
    assert rows["12x12 centre"]["improved, shipped classifier %"] == 90.0
    assert rows["12x12 centre"]["trained on corrupted digits, 3 epochs %"] == 50.0
    with pytest.raises(ValueError, match="paper gan"):
        experiments.ceiling_table(by_hole, method="paper gan", budgets=(3, 10))


def test_no_hole_masks_nothing_and_has_a_label():
    assert not experiments.hole_masks(4, experiments.NO_HOLE).any()
    assert experiments.hole_masks(4, experiments.NO_HOLE).shape == (4, 28, 28)
    assert experiments.hole_label(experiments.NO_HOLE) == "no hole"
    for bad in (-1, 2.5):
        with pytest.raises(ValueError, match="non-negative integer"):
            experiments.hole_masks(bad, experiments.NO_HOLE)


def test_hole_masks_rejects_an_unknown_hole():
    with pytest.raises(ValueError, match="hole_size"):
        experiments.hole_masks(3, "huge", train=True)


def test_speed_study_trains_each_seed_in_every_setting(monkeypatch, private_artifacts):
    monkeypatch.setenv("GAN_BOOK_MODE", "full")  # quick mode would write under artifacts/quick/
    x, _ = synthetic_test_set(per_class=4)
    y = np.zeros(len(x), np.uint8)
    y[:10] = 1  # a quarter are 1s: a black fill scores 0.75, a white one 0.25
    monkeypatch.setattr(data, "load_mnist", lambda *a, **k: ((x, y), (x, y)))
    monkeypatch.setattr(evaluation, "load_classifier", lambda seed=0: CentreClassifier())
    calls = []

    def fake_run_variant(name, epochs, seed, config, folder):
        calls.append((seed, config.mixed_precision, config.share_generator_pass, folder))
        white = 1.0 if config.mixed_precision else -1.0
        return types.SimpleNamespace(gan=types.SimpleNamespace(generator=ConstantGenerator(white)),
                                     record={"wall_seconds": 30.0 if config.mixed_precision else 40.0, "iterations": 10})

    monkeypatch.setattr(experiments, "run_variant", fake_run_variant)
    rows = experiments.run_speed_study(seeds=(0, 1), epochs=2, name="+ composite")
    assert [c[:3] for c in calls] == [(0, False, False), (1, False, False), (0, True, False), (1, True, False),
                                      (0, True, True), (1, True, True)]
    assert calls[0][3] == experiments.variant_folder("+ composite", 2, 0)  # float32: the ablation's own run
    assert calls[2][3] == private_artifacts / "variants" / "composite-2ep-bfloat16" / "seed0"
    assert calls[5][3] == private_artifacts / "variants" / "composite-2ep-bfloat16-shared" / "seed1"
    assert [row["seconds per iteration"] for row in rows] == [4.0, 4.0, 3.0, 3.0, 3.0, 3.0]
    # CentreClassifier calls a black centre 0 and a white one 1.
    assert rows[0]["14x14 centre"] == pytest.approx(0.75) and rows[2]["14x14 centre"] == pytest.approx(0.25)
    record = artifacts.load_json(private_artifacts / "variants" / experiments.SPEED_STUDY_RECORD)
    assert record["variant"] == "+ composite" and len(record["rows"]) == 6


def test_speed_setting_folder_rejects_an_unknown_setting():
    with pytest.raises(ValueError, match="speed setting"):
        experiments.speed_setting_folder("+ composite", 2, 0, "float16")


def test_hole_label_names_centre_and_paper_holes():
    assert experiments.hole_label(14) == "14x14 centre"
    assert experiments.hole_label("paper") == "paper (8x8 jittered)"


# ---------------------------------------------------------------- the cross-check classifier and the targets


def test_run_classifiers_trains_the_cross_check_architecture_into_its_folder(monkeypatch, private_artifacts):
    monkeypatch.setenv("GAN_BOOK_MODE", "quick")
    x, y = synthetic_test_set(per_class=2)
    monkeypatch.setattr(data, "load_mnist", lambda *a, **k: ((x, y), (x, y)))
    experiments.run_classifiers([0], verbose=0, config=experiments.CROSS_CHECK_CLASSIFIER)
    folder = private_artifacts / "quick" / "classifier-dense"
    assert sorted(path.name for path in folder.iterdir()) == ["seed0.json", "seed0.weights.h5"]
    record = artifacts.load_json(folder / "seed0.json")
    assert record["epochs"] == 1  # quick mode's budget, not the full 10
    assert record["config"] == {**experiments.CROSS_CHECK_CLASSIFIER.to_dict(), "hidden_units": [512, 512]}
    assert 0.0 <= record["clean_test_accuracy"] <= 1.0
    # the weights load only into the cross-check architecture
    artifacts.load_weights(models.build_classifier(experiments.CROSS_CHECK_CLASSIFIER), folder / "seed0.weights.h5")
    assert not (private_artifacts / "quick" / "classifier").exists()


@pytest.mark.parametrize("config, epochs", [(experiments.CLASSIFIER, 3), (experiments.CROSS_CHECK_CLASSIFIER, 10)])
def test_run_classifiers_trains_each_architecture_for_its_own_epochs_in_full_mode(monkeypatch, private_artifacts,
                                                                                 config, epochs):
    monkeypatch.setenv("GAN_BOOK_MODE", "full")
    x, y = synthetic_test_set(per_class=1)
    monkeypatch.setattr(data, "load_mnist", lambda *a, **k: ((x, y), (x, y)))
    calls = []

    def fake_train(x_train, y_train, seed, used_config, epochs, verbose):
        calls.append((seed, used_config, epochs))
        return models.build_classifier(used_config)

    monkeypatch.setattr(evaluation, "train_classifier", fake_train)
    experiments.run_classifiers([4], verbose=0, config=config)
    assert calls == [(4, config, epochs)]
    assert artifacts.load_json(evaluation.classifier_record_path(4, config=config))["epochs"] == epochs


def test_classifier_epochs_caps_only_quick_runs():
    assert experiments.classifier_epochs(10, experiments.budget("full")) == 10
    assert experiments.classifier_epochs(10, experiments.budget("quick")) == experiments.budget("quick").classifier_epochs


@pytest.mark.parametrize("config", [PAPER, DenseClassifierConfig(hidden_units=(64,))])
def test_run_classifiers_checks_the_config_before_any_work(monkeypatch, private_artifacts, config):
    forbid_work(monkeypatch)
    with pytest.raises(ValueError, match="shipped classifier configurations"):
        experiments.run_classifiers([0], config=config)
    assert list(private_artifacts.iterdir()) == []


def test_main_cross_check_classifier_passes_its_config(monkeypatch):
    calls = []
    monkeypatch.setattr(experiments, "run_classifiers", lambda seeds, **kwargs: calls.append((seeds, kwargs)))
    experiments.main(["cross-check-classifier", "--seeds", "0", "1"])
    experiments.main(["classifier"])
    assert calls == [([0, 1], {"config": experiments.CROSS_CHECK_CLASSIFIER}), ([0], {})]


def centre_digits(bright):
    """Black digits whose centre pixel is bright where ``bright`` is True (CentreClassifier reads 1 there)."""
    images = -np.ones((len(bright), SIZE, SIZE, 1), np.float32)
    images[np.asarray(bright), 14, 14, 0] = 1.0
    return images


class DarkCentreClassifier(CentreClassifier):
    """Predicts the opposite of CentreClassifier."""

    def predict(self, images, batch_size=None, verbose=0):
        return super().predict(images)[:, [1, 0, 2, 3, 4, 5, 6, 7, 8, 9]]


def test_reclassify_scores_the_inpainted_digits_with_every_classifier():
    labels = np.array([1, 1, 0, 0])
    by_hole = {"paper (8x8 jittered)": {"telea": {"inpainted": centre_digits([True, True, False, False]), "accuracy": 0.1},
                                        "improved": {"inpainted": centre_digits([True, False, False, False])}},
               "14x14 centre": {"improved": {"inpainted": centre_digits([False, False, False, False])}}}
    results = experiments.reclassify(by_hole, labels, {0: CentreClassifier(), 1: DarkCentreClassifier()})
    assert list(results) == list(by_hole) and list(results["paper (8x8 jittered)"]) == ["telea", "improved"]
    telea = results["paper (8x8 jittered)"]["telea"]
    assert telea == {"accuracies": {0: 1.0, 1: 0.0}, "accuracy_mean": 0.5, "accuracy_sd": pytest.approx(2 ** -0.5)}
    assert results["paper (8x8 jittered)"]["improved"]["accuracies"] == {0: 0.75, 1: 0.25}
    single = experiments.reclassify(by_hole, labels, {0: CentreClassifier()})
    assert single["14x14 centre"]["improved"] == {"accuracies": {0: 0.5}, "accuracy_mean": 0.5, "accuracy_sd": 0.0}


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
        experiments.reclassify(by_hole, labels, classifiers)


def results_by_hole(improved, others=0.5):
    """Hole-size results with the given mean accuracy of "improved" at each target hole."""
    return {experiments.hole_label(hole): {"improved": {"accuracy_mean": value}, "telea": {"accuracy_mean": others}}
            for hole, value in improved.items()}


def test_accuracy_table_gives_mean_and_sd_in_percent_by_hole():
    by_hole = {"12x12 centre": {"improved": {"accuracy_mean": 0.92875, "accuracy_sd": 0.004},
                                "telea": {"accuracy_mean": 0.5, "accuracy_sd": 0.0}}}
    assert experiments.accuracy_table(by_hole) == {"12x12 centre": {"improved": "92.9 ± 0.4", "telea": "50.0 ± 0.0"}}


def test_target_report_compares_every_target_with_its_goal():
    rows = experiments.target_report(results_by_hole({"paper": 0.985, 12: 0.9299, 14: 0.9}))
    assert rows == [
        {"target": "paper (8x8 jittered) >= 98.5 %", "accuracy %": "98.50", "met": True},
        {"target": "12x12 centre >= 93 %", "accuracy %": "92.99", "met": False},
        {"target": "14x14 centre >= 85 %", "accuracy %": "90.00", "met": True},
        {"target": "best method at every hole", "accuracy %": "", "met": True},
    ]
    beaten = experiments.target_report(results_by_hole({"paper": 0.99, 12: 0.95, 14: 0.4}, others=0.45))
    assert beaten[-1] == {"target": "best method at every hole", "accuracy %": "", "met": False}
    assert [row["met"] for row in beaten[:3]] == [True, True, False]


def test_target_report_is_not_decided_by_float_sums():
    """Three classifiers at 98.33, 98.23 and 98.94 % average to 0.9849999999999999: the goal is met."""
    mean = float(np.mean([0.9833, 0.9823, 0.9894]))
    assert mean < 0.985
    assert experiments.target_report(results_by_hole({"paper": mean}), targets={"paper": 0.985})[0]["met"]


def test_target_report_counts_a_tie_as_best():
    rows = experiments.target_report(results_by_hole({"paper": 0.5, 12: 0.5, 14: 0.5}, others=0.5))
    assert rows[-1]["met"]


@pytest.mark.parametrize("targets", [{"paper": 98.5}, {}, {"paper": 0.0}, [("paper", 0.9)]])
def test_target_report_rejects_bad_targets(targets):
    with pytest.raises(ValueError, match="fractions, not percent"):
        experiments.target_report(results_by_hole({"paper": 0.99}), targets=targets)


def test_accuracy_table_rejects_results_without_accuracies():
    with pytest.raises(ValueError, match="at least one hole"):
        experiments.accuracy_table({})
    with pytest.raises(ValueError, match="accuracy_mean and accuracy_sd"):
        experiments.accuracy_table({"12x12 centre": {"telea": {"accuracy": 0.5}}})


def test_target_report_needs_every_target_hole_and_the_method():
    with pytest.raises(ValueError, match="12x12 centre"):
        experiments.target_report(results_by_hole({"paper": 0.99, 14: 0.9}))
    with pytest.raises(ValueError, match="'paper gan'"):
        experiments.target_report(results_by_hole({"paper": 0.99, 12: 0.95, 14: 0.9}), method="paper gan")
    assert experiments.target_report(results_by_hole({8: 0.2}), targets={8: 0.1})[0]["met"]
