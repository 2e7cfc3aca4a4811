import os
import re
import types

import numpy as np
import pytest

from lib import artifacts, checkpoints, classifiers, data, diagnostics, evaluation, fitting, holes, runs, training
from lib.studies import collapse, paper_gan
from lib.config import MODE_VARIABLE, PAPER, GANConfig

from stubs import (
    CentreClassifier, ConstantGenerator, DIGIT_TOLERANCE, OneDigitClassifier, PROBE_DIGITS, forbid_work, place,
)

pytestmark = pytest.mark.usefixtures("private_artifacts")  # nothing here touches the committed artifacts


def probe_row(epoch, share, accuracy, step=None):
    """One row as `lib.fitting.ClassifierProbe` records it."""
    return {"step": step or epoch * 100, "epoch": epoch, "seconds": 1.0, "accuracy": accuracy, "top_class": 1,
            "top_class_share": share}


def run_outcome(seed, collapsed, accuracy=0.5):
    return {"seed": seed, "epochs": 2, "collapsed": collapsed, "top_class_share": 1.0 if collapsed else 0.11,
            "probe_accuracy": accuracy}


def runs_of(collapsed, total, accuracy=0.5):
    """``total`` outcomes of which the first ``collapsed`` collapsed."""
    return [run_outcome(seed, seed < collapsed, accuracy) for seed in range(total)]


def test_paper_recipe_departs_from_the_paper_only_in_its_budget():
    assert collapse.recipe("paper", epochs=PAPER.epochs).departures() == {}
    assert collapse.recipe("paper").departures() == {"epochs": collapse.DECIDING_EPOCHS}
    assert collapse.recipe("paper").name == "paper"


@pytest.mark.parametrize("name", list(collapse.SUSPECTS))
def test_each_suspect_makes_exactly_one_change_to_the_paper(name):
    config = collapse.recipe(name, epochs=PAPER.epochs)
    changes, description = collapse.SUSPECTS[name]
    assert isinstance(config, GANConfig) and config.name == name
    assert len(config.departures()) == 1
    assert config.departures() == changes
    assert description  # every suspect says in words what it changes
    # the study's budget is the only other departure, and the objective stays adversarial-only
    assert collapse.recipe(name).departures() == {**changes, "epochs": collapse.DECIDING_EPOCHS}
    assert config.reconstruction_loss == "none" and config.adversarial_weight == 1.0


def test_every_suspect_changes_something_different():
    changed_fields = [next(iter(collapse.recipe(name, PAPER.epochs).departures())) for name in collapse.SUSPECTS]
    assert len(set(changed_fields)) == len(changed_fields)


def test_recipes_are_the_paper_then_every_suspect_with_distinct_folders():
    assert collapse.RECIPES == ("paper", *collapse.SUSPECTS)
    slugs = [runs.slug(name) for name in collapse.RECIPES]
    assert len(set(slugs)) == len(slugs)
    assert all(re.fullmatch(r"[a-z0-9_]+", slug) for slug in slugs)


def test_recipe_rejects_an_unknown_name():
    with pytest.raises(ValueError, match="unknown recipe 'magic'"):
        collapse.recipe("magic")


@pytest.mark.parametrize("epochs", [0, 1.5, True, "2"])
@pytest.mark.parametrize("name", ["paper", "no label smoothing"])
def test_recipe_rejects_a_budget_that_is_not_a_positive_integer(name, epochs):
    with pytest.raises(ValueError, match="epochs must be an integer >= 1"):
        collapse.recipe(name, epochs)


def test_outcome_reads_the_last_probe_row_of_the_asked_epoch():
    probe = [probe_row(1, 1.0, 0.1), probe_row(2, 1.0, 0.1, step=150), probe_row(2, 0.3, 0.7, step=200),
             probe_row(3, 0.95, 0.12)]
    assert collapse.outcome(probe, seed=4) == {"seed": 4, "epochs": 2, "collapsed": False, "top_class_share": 0.3,
                                               "probe_accuracy": 0.7}
    assert collapse.outcome(probe, seed=4, epochs=1)["collapsed"]
    assert collapse.outcome(probe, seed=4, epochs=3) == {"seed": 4, "epochs": 3, "collapsed": True,
                                                         "top_class_share": 0.95, "probe_accuracy": 0.12}


def test_outcome_counts_the_share_itself_as_collapsed():
    probe = [probe_row(2, collapse.COLLAPSE_SHARE, 0.1)]
    assert collapse.outcome(probe, 0)["collapsed"]
    assert not collapse.outcome([probe_row(2, 0.89, 0.1)], 0)["collapsed"]
    assert not collapse.outcome(probe, 0, share=0.95)["collapsed"]


def test_outcome_rejects_an_epoch_the_probe_never_reached():
    with pytest.raises(ValueError, match="no measurement in epoch 2"):
        collapse.outcome([probe_row(1, 0.2, 0.8)], seed=0)
    with pytest.raises(ValueError, match="no measurement in epoch 2"):
        collapse.outcome([], seed=0)


@pytest.mark.parametrize("seed, epochs, message", [(-1, 2, "seed must be a non-negative integer"),
                                                   (1.0, 2, "seed must be a non-negative integer"),
                                                   (0, 0, "epochs must be an integer >= 1"),
                                                   (0, True, "epochs must be an integer >= 1")])
def test_outcome_rejects_a_bad_seed_or_epoch(seed, epochs, message):
    with pytest.raises(ValueError, match=message):
        collapse.outcome([probe_row(1, 0.2, 0.8), probe_row(2, 0.2, 0.8)], seed, epochs)


@pytest.mark.parametrize("successes, trials, low, high", [
    (0, 10, 0.0, 0.2775), (10, 10, 0.7225, 1.0), (5, 10, 0.2366, 0.7634), (1, 10, 0.0179, 0.4042),
])
def test_wilson_interval_known_values(successes, trials, low, high):
    interval = collapse.wilson_interval(successes, trials)
    assert interval == pytest.approx((low, high), abs=1e-4)


def test_wilson_interval_is_symmetric_and_narrows_with_more_trials():
    low, high = collapse.wilson_interval(3, 10)
    mirrored_low, mirrored_high = collapse.wilson_interval(7, 10)
    assert (low, high) == pytest.approx((1 - mirrored_high, 1 - mirrored_low))
    wide, narrow = collapse.wilson_interval(5, 10), collapse.wilson_interval(50, 100)
    assert narrow[1] - narrow[0] < wide[1] - wide[0]
    assert collapse.wilson_interval(5, 10, z=1.0)[1] < collapse.wilson_interval(5, 10)[1]


@pytest.mark.parametrize("successes, trials, message", [
    (11, 10, r"successes \(11\) cannot exceed trials \(10\)"), (0, 0, "trials must be an integer >= 1"),
    (-1, 10, "successes must be a non-negative integer"), (2.0, 10, "successes must be a non-negative integer"),
    (1, True, "trials must be an integer >= 1"),
])
def test_wilson_interval_rejects_impossible_counts(successes, trials, message):
    with pytest.raises(ValueError, match=message):
        collapse.wilson_interval(successes, trials)


def test_collapse_rates_one_row_per_recipe_in_order():
    summary = {"paper": runs_of(7, 10, accuracy=0.6), "instance noise": runs_of(0, 10, accuracy=0.9)}
    paper, noise = collapse.collapse_rates(summary)
    assert paper["recipe"] == "paper" and noise["recipe"] == "instance noise"
    assert (paper["runs"], paper["collapsed"], paper["collapse rate"]) == (10, 7, 0.7)
    assert (paper["95 % low"], paper["95 % high"]) == collapse.wilson_interval(7, 10)
    assert (noise["collapsed"], noise["collapse rate"]) == (0, 0.0)
    assert (noise["95 % low"], noise["95 % high"]) == pytest.approx((0.0, 0.2775), abs=1e-4)
    assert noise["probe accuracy of trained runs"] == pytest.approx(0.9)


def test_collapse_rates_averages_only_the_runs_that_trained():
    outcomes = [run_outcome(0, True, accuracy=0.1), run_outcome(1, False, accuracy=0.8),
                run_outcome(2, False, accuracy=0.9)]
    (row,) = collapse.collapse_rates({"paper": outcomes})
    assert row["probe accuracy of trained runs"] == pytest.approx(0.85)
    (everything_collapsed,) = collapse.collapse_rates({"paper": runs_of(3, 3)})
    assert everything_collapsed["probe accuracy of trained runs"] is None


@pytest.mark.parametrize("summary, message", [({}, "summary must map recipe names"),
                                              ([("paper", runs_of(1, 2))], "summary must map recipe names"),
                                              ({"paper": runs_of(1, 2), "more dropout": []},
                                               "recipe 'more dropout' has no runs")])
def test_collapse_rates_rejects_an_empty_or_malformed_summary(summary, message):
    with pytest.raises(ValueError, match=message):
        collapse.collapse_rates(summary)


def test_budget_decides_compares_the_short_and_the_long_verdict():
    probes = {
        "collapsed early, stays": [probe_row(2, 1.0, 0.1), probe_row(6, 1.0, 0.1)],
        "healthy, stays": [probe_row(2, 0.12, 0.8), probe_row(6, 0.11, 0.95)],
        "collapses late": [probe_row(2, 0.12, 0.8), probe_row(6, 0.97, 0.1)],
        # only the last row of an epoch counts: healthy at the end of epoch 2, collapsed in the middle of it
        "recovers": [probe_row(2, 1.0, 0.1, step=150), probe_row(2, 0.2, 0.7, step=200), probe_row(6, 0.9, 0.1)],
    }
    assert collapse.budget_decides(probes) == {"agree": ["collapsed early, stays", "healthy, stays"],
                                               "change": ["collapses late", "recovers"]}
    assert collapse.budget_decides(probes, short=2, long=2) == {"agree": list(probes), "change": []}


def test_budget_decides_needs_runs_as_long_as_the_long_budget():
    with pytest.raises(ValueError, match="no measurement in epoch 6"):
        collapse.budget_decides({"two epochs only": [probe_row(1, 0.2, 0.8), probe_row(2, 0.2, 0.8)]})


def test_smallest_fix_keeps_suspects_that_train_nine_runs_in_ten_fewest_collapses_first():
    summary = {
        "paper": runs_of(0, 10),  # the paper itself is no fix, however it does
        "instance noise": runs_of(1, 10),
        "more dropout": runs_of(0, 10),
        "adam beta1 0.9": runs_of(2, 10),  # 8 of 10: not enough
        "equal learning rates": runs_of(0, 9),  # too few runs to tell
        "two generator steps": runs_of(2, 20),  # 18 of 20 is nine in ten
        "noise vector": runs_of(1, 10),
    }
    assert collapse.smallest_fix(summary) == ["more dropout", "instance noise", "noise vector",
                                              "two generator steps"]
    assert collapse.smallest_fix(summary, needed=10) == ["more dropout"]
    assert collapse.smallest_fix(summary, needed=8) == ["more dropout", "instance noise", "noise vector",
                                                        "adam beta1 0.9", "two generator steps"]


def test_smallest_fix_is_empty_when_nothing_fixes_it():
    assert collapse.smallest_fix({"paper": runs_of(0, 10), "more dropout": runs_of(5, 10)}) == []


SIZE = PAPER.image_size


def test_run_collapse_rejects_an_unknown_recipe_before_any_work(monkeypatch, private_artifacts):
    forbid_work(monkeypatch)
    with pytest.raises(ValueError, match="unknown recipe"):
        collapse.run_collapse("magic", [0], root=runs.mode_root())
    assert not private_artifacts.exists()


@pytest.mark.parametrize("mode, epochs, trained_epochs", [("full", 6, 6), ("quick", 6, 2), ("full", None, 2)])
def test_run_collapse_trains_each_seed_with_diagnostics_and_updates_the_summary(
        monkeypatch, private_artifacts, captured_training, mode, epochs, trained_epochs):
    monkeypatch.setenv(MODE_VARIABLE, mode)
    summaries = []
    monkeypatch.setattr(collapse, "write_summary", lambda root=(): summaries.append(len(captured_training)))
    kwargs = {} if epochs is None else {"epochs": epochs}
    collapse.run_collapse("instance noise", [4, 7], **kwargs, root=runs.mode_root())
    root = (runs.QUICK,) if mode == "quick" else ()
    assert [call["folder"] for call in captured_training] == [str(collapse.run_folder("instance noise", seed, root))
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

    monkeypatch.setattr(collapse, "outcomes", outcomes)
    monkeypatch.setenv(MODE_VARIABLE, "quick")
    assert collapse.write_summary(root=runs.mode_root()) == {"paper": [{"seed": 0, "collapsed": True}]}
    assert artifacts.load_json(private_artifacts / "quick" / "collapse" / "summary.json") == \
        {"paper": [{"seed": 0, "collapsed": True}]}
    monkeypatch.setenv(MODE_VARIABLE, "full")
    collapse.write_summary(root=runs.mode_root())
    assert roots == [(runs.QUICK,), ()]
    assert artifacts.load_json(collapse.summary_record()) == {"paper": [{"seed": 0, "collapsed": True}]}


def test_write_collapse_summary_of_no_finished_run_is_empty(private_artifacts):
    collapse.run_folder("paper", 0).mkdir(parents=True)  # a run that never started
    assert collapse.write_summary(root=runs.mode_root()) == {}
    assert artifacts.load_json(private_artifacts / "collapse" / "summary.json") == {}


def test_run_film_reruns_the_study_recipe_with_its_recorders_and_the_film(monkeypatch, private_artifacts,
                                                                          captured_training):
    monkeypatch.setenv(MODE_VARIABLE, "full")
    collapse.run_film([0, 3], root=runs.mode_root())
    assert [call["folder"] for call in captured_training] == [str(collapse.film_folder(seed)) for seed in (0, 3)]
    assert {call["config"] for call in captured_training} == {collapse.recipe("paper")}
    for call in captured_training:
        assert [type(r) for r in call["recorders"]] == [fitting.EpochSnapshots, fitting.ClassifierProbe,
                                                        diagnostics.GeneratorDiagnostics, diagnostics.TrainingFilm]
        film = call["recorders"][-1]
        assert (film.every_steps, film.until_step) == (training.FILM_EVERY, training.FILM_STEPS)


def test_run_fixed_paper_gan_trains_the_smallest_fix_for_the_papers_budget(monkeypatch, private_artifacts,
                                                                           captured_training):
    monkeypatch.setenv(MODE_VARIABLE, "full")
    rows = [{"seed": seed, "collapsed": seed == 9} for seed in range(10)]
    artifacts.save_json(collapse.summary_record(), {"paper": [{"seed": 0, "collapsed": True}], "more dropout": rows})
    slimmed = []
    monkeypatch.setattr(runs, "drop_weights", lambda folder, **kwargs: slimmed.append((str(folder), kwargs)))
    collapse.run_fixed_paper_gan([0, 1, 2], root=runs.mode_root())
    assert slimmed == [(str(collapse.fixed_folder(seed)), {"keep_generator": True}) for seed in (0, 1, 2)]
    assert [call["folder"] for call in captured_training] == [str(collapse.fixed_folder(seed)) for seed in (0, 1, 2)]
    assert {call["config"] for call in captured_training} == {collapse.recipe("more dropout", PAPER.epochs)}


def test_run_fixed_paper_gan_refuses_when_no_suspect_is_a_fix(monkeypatch, private_artifacts, captured_training):
    artifacts.save_json(collapse.summary_record(), {"more dropout": [{"seed": s, "collapsed": s < 5} for s in range(10)]})
    with pytest.raises(ValueError, match="no suspect"):
        collapse.run_fixed_paper_gan([0], root=runs.mode_root())
    assert captured_training == []


real_mnist = pytest.mark.skipif(not os.environ.get(data.NPZ_VARIABLE), reason="MNIST_NPZ is not set")


@real_mnist
def test_run_seed_scores_records_every_seed_of_both_runs_with_each_classifier(monkeypatch, private_artifacts):
    # A white fill reads as a 1 to the stub classifier, a black one as a 0: each run and seed its own.
    fills = {("paper_gan", "seed0"): 1.0, ("paper_gan", "seed1"): 0.0, ("paper_gan", "seed2"): 1.0,
             ("paper_gan_fixed", "seed0"): 0.0, ("paper_gan_fixed", "seed1"): 1.0, ("paper_gan_fixed", "seed2"): 0.0}
    monkeypatch.setattr(runs, "open", lambda folder: types.SimpleNamespace(
        generator=lambda: ConstantGenerator(fills[folder.parent.name, folder.name]), config=PAPER))
    monkeypatch.setattr(classifiers, "load_classifiers", lambda: {seed: CentreClassifier() for seed in (0, 1, 2)})
    collapse.run_seed_scores(digits=30, root=runs.mode_root())
    record = artifacts.load_json(collapse.seed_scores_record(runs.mode_root()))
    assert record["digits"] == 30 and record["classifier_seeds"] == [0, 1, 2]
    labels = evaluation.test_digits(30)[1]
    for name, folder in (("paper gan", "paper_gan"), ("paper gan, fixed", "paper_gan_fixed")):
        assert list(record["scores"][name]) == ["0", "1", "2"]
        for seed, summary in record["scores"][name].items():
            expected = np.mean(labels == fills[folder, f"seed{seed}"])
            assert summary["accuracy_mean"] == pytest.approx(expected)
            assert summary["accuracies"] == {str(judge): pytest.approx(expected) for judge in (0, 1, 2)}


@real_mnist
@pytest.mark.slow  # the committed records against the committed runs: the main lane's check
def test_the_committed_seed_scores_agree_with_one_seed_scored_again(committed_artifacts):
    record = artifacts.load_json(collapse.seed_scores_record())
    originals, labels = evaluation.test_digits(record["digits"])
    masks = holes.evaluation_masks(len(originals))
    run = runs.open(collapse.fixed_folder(1))
    filled = evaluation.generator_method(run.generator(), run.config)(data.apply_mask(originals, masks), masks)
    kept = record["scores"]["paper gan, fixed"]["1"]["accuracies"]
    for seed, classifier in classifiers.load_classifiers().items():
        assert np.mean(classifiers.classify(classifier, filled) == labels) == pytest.approx(kept[str(seed)],
                                                                                          abs=DIGIT_TOLERANCE)


TINY = PAPER.variant("tiny", batch_size=32, epochs=1)


def test_collapse_outcomes_reads_every_finished_run_of_each_recipe(finished_runs):
    for (recipe, seed), folder in finished_runs.items():
        place(folder, collapse.run_folder(recipe, seed))
    # neither a run still training nor a folder without a run counts, nor a recipe the study does not have
    resumable = collapse.run_folder("paper", 4)
    resumable.mkdir(parents=True)
    (resumable / checkpoints.FILE).write_bytes(b"")
    collapse.run_folder("equal learning rates", 0).mkdir(parents=True)
    place(finished_runs["paper", 2], collapse.run_folder("not a recipe", 2))
    collapsed = {"epochs": 1, "collapsed": True, "top_class_share": 1.0, "probe_accuracy": 0.1,
                 "source": "collapse study"}
    assert collapse.outcomes(root=runs.mode_root()) == {
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
    fitting.fit_gan(images, paper_gan.run_folder(1), TINY.variant("tiny", epochs=3), seed=1, recorders=[probe], verbose=0)
    place(finished_runs["paper", 2], collapse.run_folder("paper", 2))
    place(finished_runs["paper", 2], paper_gan.run_folder(2))  # the study trained seed 2 again: its own run counts
    outcomes = collapse.outcomes(root=runs.mode_root())["paper"]
    assert [(row["seed"], row["epochs"], row["source"]) for row in outcomes] == [
        (1, collapse.DECIDING_EPOCHS, "the committed 3-epoch run"), (2, 1, "collapse study")]
    assert collapse.outcomes(committed_paper_seeds=(), root=runs.mode_root())["paper"] == outcomes[1:]


def test_collapse_outcomes_reads_only_the_runs_under_its_root(finished_runs):
    place(finished_runs["paper", 2], collapse.run_folder("paper", 0, (runs.QUICK,)))
    assert collapse.outcomes(root=runs.mode_root()) == {}
    assert collapse.outcomes((runs.QUICK,)) == {
        "paper": [{"seed": 2, "epochs": 1, "collapsed": True, "top_class_share": 1.0, "probe_accuracy": 0.1,
                   "source": "collapse study"}]}
    assert collapse.collapse_rates(collapse.outcomes((runs.QUICK,)))[0]["collapsed"] == 1


def test_collapse_outcomes_give_the_fix_at_the_papers_budget_its_own_row(finished_runs):
    place(finished_runs["no label smoothing", 3], collapse.run_folder("no label smoothing", 3))
    place(finished_runs["no label smoothing", 3], collapse.fixed_folder(3))
    run = runs.open(collapse.fixed_folder(3))
    key = f"{run.config.name}, {run.config.epochs} epochs"
    summary = collapse.outcomes(root=runs.mode_root())
    assert summary[key] == [{"seed": 3, "epochs": run.config.epochs, "collapsed": False, "top_class_share": 0.1,
                             "probe_accuracy": 1.0, "source": "the fix at the paper's budget"}]
    assert len(summary["no label smoothing"]) == 1  # the study's own run, not counted twice
    assert collapse.smallest_fix(summary) == []  # three runs or one: never a fix by themselves
