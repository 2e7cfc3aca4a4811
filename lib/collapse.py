"""The collapse study (chapter 5): the paper's recipe and its one-change suspects, what counts as
a collapsed run, and the rates with their intervals. Pure functions; no TensorFlow.

A run is *collapsed* when, at the end of its budget, the shipped classifier reads at least
`COLLAPSE_SHARE` of the probe's 1,000 inpainted digits as one and the same digit (the paper's
collapsed runs draw an empty black square, read as a 1, for every input; a healthy run's most
frequent digit is near 12.6 % of the probe, the share of 1s, the commonest digit among the probe's
digits themselves).
"""
from __future__ import annotations

import math

from lib import checks
from lib.config import PAPER, GANConfig

COLLAPSE_SHARE = 0.9
DECIDING_EPOCHS = 2  # the study's budget; `budget_decides` checks it against 6-epoch runs

# Each suspect changes one thing of the paper's recipe (and keeps its adversarial-only objective).
SUSPECTS = {
    "training-mode fakes": (dict(share_generator_pass=True),
                            "D is trained on the generator's training-mode output (batch statistics), the output G "
                            "is trained through, instead of `generator.predict`'s inference-mode output"),
    "equal learning rates": (dict(discriminator_learning_rate=PAPER.generator_learning_rate),
                             "D learns at 2e-4 like G, not at twice G's rate"),
    "no label smoothing": (dict(real_label=1.0), "real digits' target 1, not 0.9"),
    "noise vector": (dict(noise_size=64),
                     "the generator also gets a 64-number noise vector at its bottleneck, as the paper says"),
    "instance noise": (dict(instance_noise=0.1),
                       "Gaussian noise (sd 0.1) on every image D sees in training (Sønderby et al. 2017)"),
    "two generator steps": (dict(generator_steps=2), "two generator updates per discriminator update"),
    "adam beta1 0.9": (dict(adam_beta_1=0.9), "Adam's default momentum, not DCGAN's 0.5"),
    "more dropout": (dict(dropout_rate=0.5), "D's dropout 0.5, not 0.2"),
    "smaller discriminator": (dict(discriminator_filters=(16, 32, 64)), "D with a quarter of the filters"),
}
RECIPES = ("paper", *SUSPECTS)


def recipe(name, epochs=DECIDING_EPOCHS) -> GANConfig:
    """The configuration of a recipe of the study, trained for ``epochs`` epochs."""
    if name == "paper":
        return PAPER.variant("paper", epochs=checks.count(epochs, "epochs", 1))
    if name not in SUSPECTS:
        raise ValueError(f"unknown recipe {name!r}; choose from {list(RECIPES)}")
    return PAPER.variant(name, epochs=checks.count(epochs, "epochs", 1), **SUSPECTS[name][0])


def _epoch_end(probe, epoch):
    ends = [row for row in probe if row["epoch"] == epoch]
    if not ends:
        raise ValueError(f"the probe has no measurement in epoch {epoch}")
    return ends[-1]


def outcome(probe, seed, epochs=DECIDING_EPOCHS, share=COLLAPSE_SHARE) -> dict:
    """One run's outcome at the end of epoch ``epochs`` from its probe rows (as
    `lib.fitting.ClassifierProbe` records them): collapsed or not, top-class share, accuracy."""
    end = _epoch_end(probe, checks.count(epochs, "epochs", 1))
    return {"seed": checks.count(seed, "seed"), "epochs": epochs, "collapsed": bool(end["top_class_share"] >= share),
            "top_class_share": float(end["top_class_share"]), "probe_accuracy": float(end["accuracy"])}


def wilson_interval(successes, trials, z=1.96):
    """The Wilson score interval of a binomial rate (95 % for z = 1.96): unlike the normal
    approximation it stays inside [0, 1] and is sensible at 0 or n successes out of n."""
    trials = checks.count(trials, "trials", minimum=1)
    successes = checks.count(successes, "successes")
    if successes > trials:
        raise ValueError(f"successes ({successes}) cannot exceed trials ({trials})")
    rate = successes / trials
    centre = (rate + z * z / (2 * trials)) / (1 + z * z / trials)
    half = z * math.sqrt(rate * (1 - rate) / trials + z * z / (4 * trials * trials)) / (1 + z * z / trials)
    return max(0.0, centre - half), min(1.0, centre + half)


def collapse_rates(summary) -> list:
    """One row per recipe of a summary (``{recipe: [outcome, ...]}``): runs, collapsed runs, the
    rate and its 95 % Wilson interval, and the mean probe accuracy of the runs that trained."""
    if not isinstance(summary, dict) or not summary:
        raise ValueError("summary must map recipe names to lists of run outcomes")
    rows = []
    for name, outcomes in summary.items():
        if not outcomes:
            raise ValueError(f"recipe {name!r} has no runs")
        collapsed = sum(run["collapsed"] for run in outcomes)
        low, high = wilson_interval(collapsed, len(outcomes))
        healthy = [run["probe_accuracy"] for run in outcomes if not run["collapsed"]]
        rows.append({"recipe": name, "runs": len(outcomes), "collapsed": collapsed,
                     "collapse rate": collapsed / len(outcomes), "95 % low": low, "95 % high": high,
                     "probe accuracy of trained runs": sum(healthy) / len(healthy) if healthy else None})
    return rows


def budget_decides(probes, short=DECIDING_EPOCHS, long=PAPER.epochs, share=COLLAPSE_SHARE) -> dict:
    """Does a run's state at the end of epoch ``short`` tell its state at the end of epoch
    ``long``? ``probes`` maps a run's name to its probe rows (runs of at least ``long`` epochs).
    Returns the runs whose verdicts agree and those whose verdicts change."""
    agree, change = [], []
    for name, probe in probes.items():
        early = _epoch_end(probe, short)["top_class_share"] >= share
        late = _epoch_end(probe, long)["top_class_share"] >= share
        (agree if early == late else change).append(name)
    return {"agree": agree, "change": change}


def smallest_fix(summary, needed=9, of=10):
    """The suspects that train (do not collapse) in at least ``needed`` of ``of`` or more runs,
    fewest collapses first; an empty list if none does."""
    fixes = []
    for name, outcomes in summary.items():
        trained = sum(not run["collapsed"] for run in outcomes)
        if name != "paper" and len(outcomes) >= of and trained >= needed * len(outcomes) / of:
            fixes.append((len(outcomes) - trained, name))
    return [name for _, name in sorted(fixes)]
