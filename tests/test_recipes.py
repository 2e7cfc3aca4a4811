import os
import types

import numpy as np
import pytest

from lib import artifacts, collapse, data, diagnostics, evaluation, fitting, models, recipes, runs, studies
from lib.config import (
    CANDIDATE_BASELINE, CANDIDATE_CHANGES, CLASSIFIER, CROSS_CHECK_CLASSIFIER, EVALUATION_MASK_SEED, MODE_VARIABLE,
    PAPER, PROBE_SIZE, RECOMMENDED_EPOCHS, SNAPSHOT_MASK_SEED, VARIANTS, DenseClassifierConfig, budget,
)
from stubs import CentreClassifier, ConstantGenerator

SIZE = PAPER.image_size
real_mnist = pytest.mark.skipif(not os.environ.get(data.NPZ_VARIABLE), reason="MNIST_NPZ is not set")
CANDIDATES = (CANDIDATE_BASELINE, *CANDIDATE_CHANGES)


@pytest.fixture(autouse=True)
def private_artifacts(monkeypatch, tmp_path):
    """Nothing here may touch the real artifacts folder."""
    monkeypatch.setenv(runs.ROOT_VARIABLE, str(tmp_path / "artifacts"))
    monkeypatch.delenv(MODE_VARIABLE, raising=False)
    return tmp_path / "artifacts"


def synthetic_test_set(per_class=4, seed=0):
    rng = np.random.default_rng(seed)
    labels = rng.permutation(np.tile(np.arange(10, dtype=np.uint8), per_class))
    images = rng.integers(0, 256, size=(len(labels), SIZE, SIZE), dtype=np.uint8)
    return images, labels


def forbid_work(monkeypatch):
    def fail(*args, **kwargs):
        raise AssertionError("work started before the arguments were checked")

    for module, name in ((data, "load_mnist"), (fitting, "fit_gan"), (evaluation, "load_classifier"),
                         (evaluation, "train_classifier"), (evaluation, "corrupted_digit_accuracy")):
        monkeypatch.setattr(module, name, fail)


def recorder(recorders, kind):
    (found,) = [r for r in recorders if isinstance(r, kind)]
    return found


class FakeRun:
    """A finished run as `runs.open` gives it: a generator, its configuration and the record."""

    def __init__(self, value, config, record=None, probe=()):
        self.value, self.config, self.record, self.probe = value, config, record or {}, list(probe)

    def generator(self):
        return ConstantGenerator(self.value)


# ---------------------------------------------------------------- inputs


def test_snapshot_inputs_two_digits_per_class_with_paper_masks():
    x_test, y_test = synthetic_test_set()
    (corrupted, masks), labels = recipes.snapshot_inputs(x_test, y_test)
    assert list(labels) == [digit for digit in range(10) for _ in range(2)]
    indices = [i for digit in range(10) for i in np.flatnonzero(y_test == digit)[:2]]
    assert recipes.snapshot_indices(y_test) == indices
    assert corrupted.shape == (20, SIZE, SIZE, 1) and corrupted.dtype == np.float32
    assert masks.shape == (20, SIZE, SIZE) and masks.dtype == np.bool_
    assert (masks.sum(axis=(1, 2)) == 64).all()
    assert np.array_equal(masks, data.paper_masks(20, SNAPSHOT_MASK_SEED))
    assert np.array_equal(corrupted, data.apply_mask(data.to_model_input(x_test[indices]), masks))
    assert (corrupted[..., 0][masks] == -1).all()


def test_snapshot_inputs_are_deterministic():
    x_test, y_test = synthetic_test_set(seed=1)
    (a, ma), la = recipes.snapshot_inputs(x_test, y_test)
    (b, mb), lb = recipes.snapshot_inputs(x_test, y_test)
    assert np.array_equal(a, b) and np.array_equal(ma, mb) and np.array_equal(la, lb)


def test_probe_inputs_on_a_small_synthetic_set():
    x_test, y_test = synthetic_test_set()
    (corrupted, masks), labels = recipes.probe_inputs(x_test, y_test, size=25)
    assert np.array_equal(labels, y_test[:25])
    assert np.array_equal(masks, evaluation.evaluation_masks(25))
    assert np.array_equal(corrupted, data.apply_mask(data.to_model_input(x_test[:25]), masks))


@real_mnist
def test_inputs_on_real_mnist():
    _, (x_test, y_test) = data.load_mnist()
    (corrupted, masks), labels = recipes.probe_inputs(x_test, y_test)
    assert len(labels) == PROBE_SIZE and corrupted.shape == (PROBE_SIZE, SIZE, SIZE, 1)
    assert np.array_equal(labels, y_test[:PROBE_SIZE])
    assert np.array_equal(masks, data.paper_masks(PROBE_SIZE, EVALUATION_MASK_SEED))
    assert np.array_equal(corrupted, data.apply_mask(data.to_model_input(x_test[:PROBE_SIZE]), masks))

    (corrupted, masks), labels = recipes.snapshot_inputs(x_test, y_test)
    assert list(labels) == [digit for digit in range(10) for _ in range(2)]
    assert (masks.sum(axis=(1, 2)) == 64).all()
    indices = [i for digit in range(10) for i in np.flatnonzero(y_test == digit)[:2]]
    assert np.array_equal(corrupted, data.apply_mask(data.to_model_input(x_test[indices]), masks))


def test_watchers_are_the_snapshots_and_the_probe_and_the_diagnostics_if_asked(monkeypatch):
    x_test, y_test = synthetic_test_set(per_class=PROBE_SIZE // 10)
    classifier = object()
    seeds = []
    monkeypatch.setattr(evaluation, "load_classifier", lambda seed=0: seeds.append(seed) or classifier)
    standard = recipes.watchers(x_test, y_test, probe_every_steps=50)
    assert [type(r) for r in standard] == [fitting.EpochSnapshots, fitting.ClassifierProbe]
    snapshots, probe = standard
    (snapshot_corrupted, snapshot_masks), _ = recipes.snapshot_inputs(x_test, y_test)
    assert np.array_equal(snapshots.corrupted, snapshot_corrupted) and np.array_equal(snapshots.masks, snapshot_masks)
    (probe_corrupted, probe_masks), probe_labels = recipes.probe_inputs(x_test, y_test)
    assert probe.classifier is classifier and seeds == [0] and probe.every_steps == 50
    assert np.array_equal(probe.corrupted, probe_corrupted) and np.array_equal(probe.labels, probe_labels)
    assert np.array_equal(probe.masks, probe_masks)

    watched = recipes.watchers(x_test, y_test, diagnostics=True)
    measured = recorder(watched, diagnostics.GeneratorDiagnostics)
    assert len(watched) == 3 and recorder(watched, fitting.ClassifierProbe).every_steps == 100
    originals = data.to_model_input(x_test[-recipes.DIAGNOSTIC_DIGITS:])  # test digits the probe does not use
    masks = data.paper_masks(recipes.DIAGNOSTIC_DIGITS, SNAPSHOT_MASK_SEED)
    assert np.array_equal(measured.originals, originals)
    assert np.array_equal(measured.masks[..., 0], masks.astype(np.float32))
    assert np.array_equal(measured.corrupted, data.apply_mask(originals, masks))
    assert measured.until_step == recipes.DIAGNOSTIC_STEPS and measured.every_steps == 10


# ---------------------------------------------------------------- budgets


def test_budget_epochs_caps_only_quick_runs():
    assert recipes.budget_epochs(40, budget("full")) == 40
    assert recipes.budget_epochs(40, budget("quick")) == budget("quick").gan_epochs
    assert recipes.budget_epochs(1, budget("quick")) == 1


def test_classifier_epochs_caps_only_quick_runs():
    assert recipes.classifier_epochs(10, budget("full")) == 10
    assert recipes.classifier_epochs(10, budget("quick")) == budget("quick").classifier_epochs


# ---------------------------------------------------------------- GAN runs (training replaced)


@pytest.fixture
def captured_training(monkeypatch):
    """`fitting.fit_gan` replaced by a recorder; MNIST by a synthetic set of 3,000 digits."""
    calls = []
    x, y = synthetic_test_set(per_class=300)
    monkeypatch.setattr(data, "load_mnist", lambda *a, **k: ((x, y), (x, y)))
    monkeypatch.setattr(evaluation, "load_classifier", lambda seed=0: "classifier")

    def record(images, folder, config, seed=0, recorders=(), verbose="auto", **kwargs):
        calls.append({"images": images, "folder": str(folder), "config": config, "seed": seed,
                      "recorders": recorders, "verbose": verbose, **kwargs})
        probe = [{"step": 16, "epoch": config.epochs, "accuracy": 0.5, "top_class_share": 0.25}]
        return types.SimpleNamespace(record={"wall_seconds": 1.0, "iterations": 16}, probe=probe, seed=seed)

    monkeypatch.setattr(fitting, "fit_gan", record)
    return calls


def test_run_variant_rejects_an_unknown_name_before_any_work(monkeypatch, private_artifacts):
    forbid_work(monkeypatch)
    with pytest.raises(ValueError, match="unknown variant"):
        recipes.run_variant("+ magic", 2)
    assert not private_artifacts.exists()


def test_run_variant_passes_the_right_plan_to_training(monkeypatch, private_artifacts, captured_training):
    monkeypatch.setenv(MODE_VARIABLE, "quick")
    x_test, y_test = data.load_mnist()[1]
    run = recipes.run_variant("+ composite", 6, seed=3)
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
    assert np.array_equal(probe.masks, evaluation.evaluation_masks(PROBE_SIZE))
    snapshots = recorder(call["recorders"], fitting.EpochSnapshots)
    assert np.array_equal(snapshots.masks, data.paper_masks(20, SNAPSHOT_MASK_SEED))
    assert not [r for r in call["recorders"] if isinstance(r, diagnostics.GeneratorDiagnostics)]


def test_run_variant_with_its_own_config_and_folder(monkeypatch, private_artifacts, captured_training):
    monkeypatch.setenv(MODE_VARIABLE, "full")
    faster = VARIANTS["+ composite"].variant("+ composite", mixed_precision=True)
    recipes.run_variant("+ composite", 12, seed=1, config=faster, folder=private_artifacts / "elsewhere")
    (call,) = captured_training
    assert call["config"] == faster.variant("+ composite", epochs=12)  # full mode: the epochs asked for
    assert call["folder"] == str(private_artifacts / "elsewhere") and len(call["images"]) == 3000


def test_run_ablation_trains_every_change_but_the_paper(monkeypatch):
    calls = []
    monkeypatch.setattr(recipes, "run_variant", lambda name, epochs, seed: calls.append((name, epochs, seed)))
    recipes.run_ablation(epochs=3, seed=2)
    assert calls == [(name, 3, 2) for name in VARIANTS if name != "paper"]


@pytest.mark.parametrize("mode, folder, epochs", [("full", "paper_gan", 6), ("quick", "quick/paper_gan", 2)])
def test_run_paper_gan_trains_each_seed_into_its_folder(monkeypatch, private_artifacts, captured_training, mode,
                                                        folder, epochs):
    monkeypatch.setenv(MODE_VARIABLE, mode)
    recipes.run_paper_gan([0, 2], verbose=0)
    assert [call["folder"] for call in captured_training] == [str(private_artifacts / folder / f"seed{seed}")
                                                              for seed in (0, 2)]
    assert [call["seed"] for call in captured_training] == [0, 2]
    assert {call["config"] for call in captured_training} == {PAPER.variant("paper", epochs=epochs)}
    assert {call["verbose"] for call in captured_training} == {0}


@pytest.mark.parametrize("mode", ["full", "quick"])
def test_demonstration_run_can_train_the_full_budget_from_scratch_in_any_mode(monkeypatch, private_artifacts,
                                                                             captured_training, mode):
    monkeypatch.setenv(MODE_VARIABLE, mode)
    run = recipes.demonstration_run(seed=1, train_full=True)
    (call,) = captured_training
    assert run.seed == 1
    assert call["folder"] == str(private_artifacts / runs.RETRAINED / "paper_gan" / "seed1")
    assert call["config"] == PAPER and len(call["images"]) == 3000 and call["seed"] == 1
    probe = recorder(call["recorders"], fitting.ClassifierProbe)
    assert probe.classifier == "classifier" and probe.every_steps == 100


def test_demonstration_run_follows_the_mode_by_default(monkeypatch, private_artifacts, captured_training):
    monkeypatch.setenv(MODE_VARIABLE, "full")
    recipes.demonstration_run()
    monkeypatch.setenv(MODE_VARIABLE, "quick")
    stale = private_artifacts / "quick" / "demonstration" / "seed0"
    stale.mkdir(parents=True)
    (stale / runs.CHECKPOINT).write_bytes(b"an earlier demonstration")
    recipes.demonstration_run()
    full, quick = captured_training
    assert full["folder"] == str(runs.paper_gan(0)) and full["config"] == PAPER
    assert quick["folder"] == str(stale)  # never the committed run
    assert quick["config"].epochs == 2 and len(quick["images"]) == 2048
    assert not stale.exists()  # a fresh run every time: the earlier one was removed, not resumed


def test_demonstration_run_rejects_a_non_boolean_switch(captured_training):
    with pytest.raises(ValueError, match="train_full"):
        recipes.demonstration_run(train_full="yes")
    assert captured_training == []


# ---------------------------------------------------------------- the collapse study


def test_run_collapse_rejects_an_unknown_recipe_before_any_work(monkeypatch, private_artifacts):
    forbid_work(monkeypatch)
    with pytest.raises(ValueError, match="unknown recipe"):
        recipes.run_collapse("magic", [0])
    assert not private_artifacts.exists()


@pytest.mark.parametrize("mode, epochs, trained_epochs", [("full", 6, 6), ("quick", 6, 2), ("full", None, 2)])
def test_run_collapse_trains_each_seed_with_diagnostics_and_updates_the_summary(
        monkeypatch, private_artifacts, captured_training, mode, epochs, trained_epochs):
    monkeypatch.setenv(MODE_VARIABLE, mode)
    summaries = []
    monkeypatch.setattr(recipes, "write_collapse_summary", lambda: summaries.append(len(captured_training)))
    kwargs = {} if epochs is None else {"epochs": epochs}
    recipes.run_collapse("instance noise", [4, 7], **kwargs)
    root = (runs.QUICK,) if mode == "quick" else ()
    assert [call["folder"] for call in captured_training] == [str(runs.collapse_run("instance noise", seed, root))
                                                              for seed in (4, 7)]
    assert {call["config"] for call in captured_training} == {collapse.recipe("instance noise", trained_epochs)}
    assert [call["seed"] for call in captured_training] == [4, 7]
    for call in captured_training:
        assert [type(r) for r in call["recorders"]] == [fitting.EpochSnapshots, fitting.ClassifierProbe,
                                                        diagnostics.GeneratorDiagnostics]
    assert summaries == [1, 2]  # the summary is rewritten after every run


def test_write_collapse_summary_writes_the_outcomes_under_the_mode_root(monkeypatch, private_artifacts):
    roots = []

    def outcomes(root=()):
        roots.append(root)
        return {"paper": [{"seed": 0, "collapsed": True}]}

    monkeypatch.setattr(studies, "collapse_outcomes", outcomes)
    monkeypatch.setenv(MODE_VARIABLE, "quick")
    assert recipes.write_collapse_summary() == {"paper": [{"seed": 0, "collapsed": True}]}
    assert artifacts.load_json(private_artifacts / "quick" / "collapse" / "summary.json") == \
        {"paper": [{"seed": 0, "collapsed": True}]}
    monkeypatch.setenv(MODE_VARIABLE, "full")
    recipes.write_collapse_summary()
    assert roots == [(runs.QUICK,), ()]
    assert artifacts.load_json(runs.collapse_summary()) == {"paper": [{"seed": 0, "collapsed": True}]}


def test_write_collapse_summary_of_no_finished_run_is_empty(private_artifacts):
    runs.collapse_run("paper", 0).mkdir(parents=True)  # a run that never started
    assert recipes.write_collapse_summary() == {}
    assert artifacts.load_json(private_artifacts / "collapse" / "summary.json") == {}


# ---------------------------------------------------------------- choosing the recommended model


def fake_open_variants(monkeypatch, white=None, root=(), epochs=2):
    """`runs.open` of the candidates' folders: each run's generator fills white if it is ``white``."""
    folders = {runs.variant(name, epochs, root=root): name for name in CANDIDATES}
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
    monkeypatch.setattr(data, "load_mnist", lambda *a, **k: ((x_test, y_test), (x_test, y_test)))
    monkeypatch.setattr(evaluation, "load_classifier", lambda seed=0: CentreClassifier())
    opened = fake_open_variants(monkeypatch, white)
    chosen = recipes.choose_recommended(epochs=2, hole_size=14, digits=20)
    assert chosen == white
    assert opened == [runs.variant(name, 2) for name in CANDIDATES]
    record = artifacts.load_json(private_artifacts / "variants" / "recommended.json")
    assert record["chosen"] == white
    assert record["scores"][white] == 1.0
    assert sum(record["scores"].values()) == 1.0
    assert record["ablation_epochs"] == 2
    assert runs.recommended_run() == (white, RECOMMENDED_EPOCHS)


def choose_with_right_counts(monkeypatch, counts, digits=20, **kwargs):
    """Run `choose_recommended` where the baseline and each candidate (in that order) get the
    first ``counts[i]`` of ``digits`` digits right."""
    x = np.zeros((digits, SIZE, SIZE), np.uint8)
    y = np.zeros(digits, np.uint8)
    monkeypatch.setattr(data, "load_mnist", lambda *a, **k: ((x, y), (x, y)))
    monkeypatch.setattr(evaluation, "load_classifier", lambda seed=0: None)
    right_counts = iter(counts)

    def fake_classify(classifier, images):
        predictions = np.ones(digits, np.uint8)
        predictions[: next(right_counts)] = 0
        return predictions

    monkeypatch.setattr(evaluation, "classify", fake_classify)
    return recipes.choose_recommended(epochs=2, hole_size=14, digits=digits, **kwargs)


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
    assert runs.recommended_run() == (chosen, 12)


def test_choose_recommended_in_quick_mode_reads_and_writes_only_quick_runs(monkeypatch, private_artifacts):
    monkeypatch.setenv(MODE_VARIABLE, "quick")
    opened = fake_open_variants(monkeypatch, root=(runs.QUICK,))
    choose_with_right_counts(monkeypatch, [10] * len(CANDIDATES))
    assert opened == [runs.variant(name, 2, root=(runs.QUICK,)) for name in CANDIDATES]
    assert runs.recommended_run((runs.QUICK,)) == (CANDIDATE_BASELINE, RECOMMENDED_EPOCHS)
    assert not runs.recommended_record().exists()


# ---------------------------------------------------------------- the speed study


def test_speed_study_checks_the_variant_before_any_work(monkeypatch):
    forbid_work(monkeypatch)
    with pytest.raises(ValueError, match="unknown variant"):
        recipes.run_speed_study(name="+ magic")


def test_speed_study_trains_each_seed_in_every_setting(monkeypatch, private_artifacts):
    monkeypatch.setenv(MODE_VARIABLE, "full")  # quick mode would write under artifacts/quick/
    x, _ = synthetic_test_set(per_class=4)
    y = np.zeros(len(x), np.uint8)
    y[:10] = 1  # a quarter are 1s: a black fill scores 0.75, a white one 0.25
    monkeypatch.setattr(data, "load_mnist", lambda *a, **k: ((x, y), (x, y)))
    monkeypatch.setattr(evaluation, "load_classifier", lambda seed=0: CentreClassifier())
    calls = []

    def fake_run_variant(name, epochs, seed, config, folder):
        calls.append((name, epochs, seed, config.mixed_precision, config.share_generator_pass, folder))
        return FakeRun(1.0 if config.mixed_precision else -1.0, config,
                       {"wall_seconds": 30.0 if config.mixed_precision else 40.0, "iterations": 10})

    monkeypatch.setattr(recipes, "run_variant", fake_run_variant)
    rows = recipes.run_speed_study(seeds=(0, 1), epochs=2, name="+ composite")
    assert [c[2:5] for c in calls] == [(0, False, False), (1, False, False), (0, True, False), (1, True, False),
                                       (0, True, True), (1, True, True)]
    assert {c[:2] for c in calls} == {("+ composite", 2)}
    assert calls[0][5] == runs.variant("+ composite", 2, 0)  # float32: the ablation's own run
    assert calls[2][5] == private_artifacts / "variants" / "composite-2ep-bfloat16" / "seed0"
    assert calls[5][5] == private_artifacts / "variants" / "composite-2ep-bfloat16-shared" / "seed1"
    assert [row["setting"] for row in rows] == [setting for setting in recipes.SPEED_SETTINGS for _ in (0, 1)]
    assert [row["seconds per iteration"] for row in rows] == [4.0, 4.0, 3.0, 3.0, 3.0, 3.0]
    # CentreClassifier calls a black centre 0 and a white one 1.
    assert rows[0]["14x14 centre"] == pytest.approx(0.75) and rows[2]["14x14 centre"] == pytest.approx(0.25)
    assert rows[0]["paper hole"] == pytest.approx(0.75)  # the paper's hole covers the centre pixel too
    record = artifacts.load_json(private_artifacts / "variants" / "speed_settings_study.json")
    assert record["variant"] == "+ composite" and record["epochs"] == 2 and len(record["rows"]) == 6


def test_speed_study_settings_have_distinct_folders_and_float32_is_the_plain_run():
    suffixes = [suffix for _, suffix in recipes.SPEED_SETTINGS.values()]
    assert suffixes[0] == "" and len(set(suffixes)) == len(suffixes)
    for changes, _ in recipes.SPEED_SETTINGS.values():
        PAPER.variant("check", **changes)  # every change is a configuration field


def test_speed_study_defaults_to_the_recommended_variant(monkeypatch, private_artifacts):
    monkeypatch.setenv(MODE_VARIABLE, "quick")
    artifacts.save_json(runs.recommended_record(), {"chosen": "+ skip connections", "epochs": 40})
    x, y = synthetic_test_set(per_class=4)
    monkeypatch.setattr(data, "load_mnist", lambda *a, **k: ((x, y), (x, y)))
    monkeypatch.setattr(evaluation, "load_classifier", lambda seed=0: CentreClassifier())
    calls = []

    def fake_run_variant(name, epochs, seed, config, folder):
        calls.append((name, epochs, folder))
        raise KeyboardInterrupt  # enough: the first run says which variant and budget

    monkeypatch.setattr(recipes, "run_variant", fake_run_variant)
    with pytest.raises(KeyboardInterrupt):
        recipes.run_speed_study(epochs=12)
    assert calls == [("+ skip connections", 2, runs.variant("+ skip connections", 2, 0, (runs.QUICK,)))]


# ---------------------------------------------------------------- the ceiling


def test_run_ceiling_scores_every_hole_and_records_them(monkeypatch, private_artifacts):
    monkeypatch.setenv(MODE_VARIABLE, "quick")
    x, y = synthetic_test_set(per_class=300)
    monkeypatch.setattr(data, "load_mnist", lambda *a, **k: ((x, y), (x[:40], y[:40])))
    seen = []

    def fake_accuracy(x_train, y_train, train_masks, x_test, y_test, test_masks, seed, epochs):
        seen.append((len(x_train), train_masks, test_masks, epochs))
        return float(train_masks.mean())

    monkeypatch.setattr(evaluation, "corrupted_digit_accuracy", fake_accuracy)
    results = recipes.run_ceiling(holes=("paper", 12))
    (paper_train, paper_masks, paper_test, epochs), (_, centre_train, centre_test, _) = seen
    assert paper_train == 2048 and epochs == 1  # the quick budget
    assert np.array_equal(paper_masks, data.paper_masks(2048, studies.CEILING_MASK_SEED))
    assert np.array_equal(paper_test, evaluation.evaluation_masks(40))
    assert np.array_equal(centre_train, data.centre_masks(2048, 12))
    assert np.array_equal(centre_test, data.centre_masks(40, 12))
    record = artifacts.load_json(private_artifacts / "quick" / "ceiling" / "corrupted_digit_accuracy.json")
    assert set(record["results"]) == {"paper", "12"} == set(results)
    assert record["results"]["12"]["accuracy"] == pytest.approx(144 / 784)
    assert record["epochs"] == 1 and record["seed"] == 0 and record["config"] == artifacts.as_json(CLASSIFIER.to_dict())


def test_run_ceiling_with_a_longer_budget_writes_its_own_record(monkeypatch, private_artifacts):
    monkeypatch.setenv(MODE_VARIABLE, "quick")
    x, y = synthetic_test_set(per_class=30)
    monkeypatch.setattr(data, "load_mnist", lambda *a, **k: ((x, y), (x[:40], y[:40])))
    seen = []
    monkeypatch.setattr(evaluation, "corrupted_digit_accuracy",
                        lambda *args, seed, epochs: seen.append((args[2].any(), epochs)) or 0.5)
    recipes.run_ceiling(holes=(studies.NO_HOLE,), epochs=10)
    assert seen == [(False, 1)]  # nothing missing; quick mode caps the budget
    folder = private_artifacts / "quick" / "ceiling"
    record = artifacts.load_json(folder / "corrupted_digit_accuracy-10ep.json")
    assert record["epochs"] == 1 and set(record["results"]) == {"none"}
    assert not (folder / "corrupted_digit_accuracy.json").exists()
    with pytest.raises(ValueError, match="epochs"):
        recipes.run_ceiling(holes=("paper",), epochs=0)
    with pytest.raises(ValueError, match="hole_size"):
        recipes.run_ceiling(holes=("paper", 99))  # refused before the good hole is trained
    with pytest.raises(ValueError, match="at least one hole"):
        recipes.run_ceiling(holes=())
    assert seen == [(False, 1)]


@pytest.mark.parametrize("epochs", [0, 2.5, True, "10"])
def test_run_ceiling_rejects_a_budget_that_is_not_a_positive_integer_before_any_work(monkeypatch, private_artifacts,
                                                                                     epochs):
    forbid_work(monkeypatch)
    with pytest.raises(ValueError, match="epochs must be an integer >= 1"):
        recipes.run_ceiling(holes=("paper",), epochs=epochs)
    assert not private_artifacts.exists()


def test_run_ceiling_adds_holes_to_a_record_of_the_same_recipe(monkeypatch, private_artifacts):
    monkeypatch.setenv(MODE_VARIABLE, "quick")
    x, y = synthetic_test_set(per_class=30)
    monkeypatch.setattr(data, "load_mnist", lambda *a, **k: ((x, y), (x[:40], y[:40])))
    monkeypatch.setattr(evaluation, "corrupted_digit_accuracy", lambda *args, seed, epochs: 0.25 + seed / 10)
    recipes.run_ceiling(holes=("paper", 12))
    recipes.run_ceiling(holes=(12, studies.NO_HOLE))
    path = private_artifacts / "quick" / "ceiling" / "corrupted_digit_accuracy.json"
    assert set(artifacts.load_json(path)["results"]) == {"paper", "12", "none"}
    recipes.run_ceiling(holes=(8,), seed=1)  # another recipe: a fresh record
    assert artifacts.load_json(path)["results"] == {"8": {"accuracy": 0.35, "wall_seconds": pytest.approx(0, abs=1)}}


# ---------------------------------------------------------------- the classifiers


def test_run_classifiers_trains_the_cross_check_architecture_into_its_folder(monkeypatch, private_artifacts):
    monkeypatch.setenv(MODE_VARIABLE, "quick")
    x, y = synthetic_test_set(per_class=2)
    monkeypatch.setattr(data, "load_mnist", lambda *a, **k: ((x, y), (x, y)))
    recipes.run_classifiers([0], verbose=0, config=CROSS_CHECK_CLASSIFIER)
    folder = private_artifacts / "quick" / "classifier-dense"
    assert sorted(path.name for path in folder.iterdir()) == ["manifest.json", "seed0.json", "seed0.weights.h5"]
    assert artifacts.verify_manifest(folder)  # the weights and their record are listed: verified when loaded
    record = artifacts.load_json(folder / "seed0.json")
    assert record["epochs"] == 1  # quick mode's budget, not the full 10
    assert record["config"] == {**CROSS_CHECK_CLASSIFIER.to_dict(), "hidden_units": [512, 512]}
    # the weights load only into the cross-check architecture, and score what the record says
    model = artifacts.load_weights(models.build_classifier(CROSS_CHECK_CLASSIFIER), folder / "seed0.weights.h5")
    assert record["clean_test_accuracy"] == float((evaluation.classify(model, data.to_model_input(x)) == y).mean())
    assert not (private_artifacts / "quick" / "classifier").exists()


@pytest.mark.parametrize("config, epochs", [(CLASSIFIER, 3), (CROSS_CHECK_CLASSIFIER, 10)])
def test_run_classifiers_trains_each_architecture_for_its_own_epochs_in_full_mode(monkeypatch, private_artifacts,
                                                                                 config, epochs):
    monkeypatch.setenv(MODE_VARIABLE, "full")
    x, y = synthetic_test_set(per_class=1)
    monkeypatch.setattr(data, "load_mnist", lambda *a, **k: ((x, y), (x, y)))
    calls = []

    def fake_train(x_train, y_train, seed, used_config, epochs, verbose):
        calls.append((seed, used_config, epochs))
        return models.build_classifier(used_config)

    monkeypatch.setattr(evaluation, "train_classifier", fake_train)
    recipes.run_classifiers([4], verbose=0, config=config)
    assert calls == [(4, config, epochs)]
    assert artifacts.load_json(runs.classifier_record(4, config=config))["epochs"] == epochs
    assert runs.classifier_weights(4, config).is_file()


def test_run_classifiers_keeps_a_classifier_already_trained(monkeypatch, private_artifacts):
    monkeypatch.setenv(MODE_VARIABLE, "full")
    x, y = synthetic_test_set(per_class=1)
    monkeypatch.setattr(data, "load_mnist", lambda *a, **k: ((x, y), (x, y)))
    trained = []
    monkeypatch.setattr(evaluation, "train_classifier",
                        lambda x_train, y_train, seed, config, epochs, verbose: trained.append(seed)
                        or models.build_classifier(config))
    kept = runs.classifier_weights(0)
    kept.parent.mkdir(parents=True)
    kept.write_bytes(b"weights trained before")
    recipes.run_classifiers([0, 1], verbose=0)
    assert trained == [1]
    assert kept.read_bytes() == b"weights trained before" and not runs.classifier_record(0).exists()


@pytest.mark.parametrize("config", [PAPER, DenseClassifierConfig(hidden_units=(64,))])
def test_run_classifiers_checks_the_config_before_any_work(monkeypatch, private_artifacts, config):
    forbid_work(monkeypatch)
    with pytest.raises(ValueError, match="shipped classifier configurations"):
        recipes.run_classifiers([0], config=config)
    assert not private_artifacts.exists()


def test_run_film_reruns_the_study_recipe_with_its_recorders_and_the_film(monkeypatch, private_artifacts,
                                                                          captured_training):
    monkeypatch.setenv(MODE_VARIABLE, "full")
    recipes.run_film([0, 3])
    assert [call["folder"] for call in captured_training] == [str(runs.film_run(seed)) for seed in (0, 3)]
    assert {call["config"] for call in captured_training} == {collapse.recipe("paper")}
    for call in captured_training:
        assert [type(r) for r in call["recorders"]] == [fitting.EpochSnapshots, fitting.ClassifierProbe,
                                                        diagnostics.GeneratorDiagnostics, diagnostics.TrainingFilm]
        film = call["recorders"][-1]
        assert (film.every_steps, film.until_step) == (recipes.FILM_EVERY, recipes.FILM_STEPS)


def test_run_fixed_paper_gan_trains_the_smallest_fix_for_the_papers_budget(monkeypatch, private_artifacts,
                                                                           captured_training):
    monkeypatch.setenv(MODE_VARIABLE, "full")
    rows = [{"seed": seed, "collapsed": seed == 9} for seed in range(10)]
    artifacts.save_json(runs.collapse_summary(), {"paper": [{"seed": 0, "collapsed": True}], "more dropout": rows})
    slimmed = []
    monkeypatch.setattr(runs, "drop_weights", lambda folder, **kwargs: slimmed.append((str(folder), kwargs)))
    recipes.run_fixed_paper_gan([0, 1, 2])
    assert slimmed == [(str(runs.fixed_paper_gan(seed)), {"keep_generator": True}) for seed in (0, 1, 2)]
    assert [call["folder"] for call in captured_training] == [str(runs.fixed_paper_gan(seed)) for seed in (0, 1, 2)]
    assert {call["config"] for call in captured_training} == {collapse.recipe("more dropout", PAPER.epochs)}


def test_run_fixed_paper_gan_refuses_when_no_suspect_is_a_fix(monkeypatch, private_artifacts, captured_training):
    artifacts.save_json(runs.collapse_summary(), {"more dropout": [{"seed": s, "collapsed": s < 5} for s in range(10)]})
    with pytest.raises(ValueError, match="no suspect"):
        recipes.run_fixed_paper_gan([0])
    assert captured_training == []


def test_the_intro_gif_is_the_committed_films_every_other_frame(monkeypatch):
    from PIL import Image

    monkeypatch.delenv(runs.ROOT_VARIABLE)  # the committed films, not this file's private artifacts
    gif = Image.open(runs.REPO_ROOT / recipes.FILM_GIF)  # `python -m lib.cli film-gif` writes it
    steps = [len(runs.open(runs.film_run(seed)).film()["step"]) for seed in (0, 3)]
    assert steps[0] == steps[1] and gif.n_frames == -(-steps[0] // 2)
