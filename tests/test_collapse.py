import re

import pytest

from lib import collapse, runs
from lib.config import PAPER, GANConfig


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


# ---------------------------------------------------------------- the recipes


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


# ---------------------------------------------------------------- one run's outcome


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


# ---------------------------------------------------------------- rates and intervals


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
