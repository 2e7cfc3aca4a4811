"""Choosing the one shipped inpainter: candidate recipes trained from scratch, several seeds each,
on the training digits less the last `lib.data.VALIDATION_DIGITS`, and scored on those held-out
digits by the book's protocol (accuracy as the mean of the three classifiers, realism as a fresh
detector's accuracy). The test set plays no part in the choice; the chosen recipe is scored on
it afterwards, once.

Two seeds of one recipe can differ by more than the gain of a change (chapter 6's ablation saw
1.8 to 3.6 points at 14x14), so a candidate is judged by its mean over seeds with a 95 % interval,
never by one run.

Every candidate trains with the shared generator pass (chapter 5's fix): its discriminator judges
the very fills the generator learns from.
"""
from __future__ import annotations

import math

import numpy as np

from lib import artifacts, checks, data, evaluation, realism, recipes, runs, speed, studies, tradeoff
from lib.config import budget

SEEDS = (0, 1, 2)
HOLES = ("paper", 12, 14, 16)
# Seconds of training a shipped recipe may take from scratch on the two-core machine.
TIME_BUDGET_SECONDS = speed.TIME_BUDGET_SECONDS

# Each candidate's changes to the recommended variant. A warm-up epoch on 55,000 digits costs
# about 48 s here, an adversarial one about 98 s (its discriminator passes), so the longer
# adversarial phase is paid for with warm-up epochs.
CANDIDATES = {
    # Appendix D's fast recipe: 14 warm-up epochs, one adversarial epoch at weight 0.1.
    "fast": dict(speed.RECIPES[speed.FAST]),
    # Chapter 7's realistic arm (weight 0.3 for three epochs) grown from scratch.
    "fast, adversary 0.3 for 3 epochs": {**speed.RECIPES[speed.FAST], "epochs": 13, "warmup_epochs": 10,
                                         "adversarial_weight": 0.3, "reconstruction_weight": 0.7},
}
# Student's t at 97.5 % for 1 to 9 degrees of freedom: a 95 % interval over a few seeds.
T_975 = (12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262)


def candidate_config(name, plan=None):
    """The configuration of candidate ``name`` for ``plan``'s budget (default the current mode's)."""
    return speed.recipe(name, plan, CANDIDATES)


def train_candidate(name, seed=0, plan=None, verbose=0):
    """Train candidate ``name`` with ``seed`` on the training digits less the validation digits
    (or resume or open it); returns the finished run."""
    config = candidate_config(name, plan)
    folder = runs.selection_run(name, seed, runs.mode_root(plan))
    run = recipes.train(config, folder, seed, plan, verbose=verbose, probe_every_steps=0, held_out=True)
    print(f"{name}, seed {seed}: {run.record['wall_seconds']} s, validation probe {run.probe[-1]['accuracy']}",
          flush=True)
    return run


def run_candidates(names=None, seeds=SEEDS, plan=None, verbose=0):
    """Train every candidate of ``names`` (default all) with every seed, seed by seed, so that a
    batch cut short still holds one seed of each."""
    names = list(CANDIDATES) if names is None else list(names)
    for name in names:
        candidate_config(name, plan)  # every name checked before hours are spent
    for seed in seeds:
        for name in names:
            train_candidate(name, seed, plan, verbose)


def mean_interval(values):
    """``(mean, half-width)`` of a 95 % Student's t interval over ``values`` (one per seed);
    a single value has no interval (half-width NaN)."""
    values = np.asarray(values, dtype=float)
    if values.ndim != 1 or values.size == 0 or not np.isfinite(values).all():
        raise ValueError(f"values must be a non-empty 1-D sequence of finite numbers, got {values!r}")
    if values.size == 1:
        return float(values[0]), math.nan
    t = T_975[min(values.size - 2, len(T_975) - 1)] if values.size <= len(T_975) + 1 else 1.96
    return float(values.mean()), float(t * values.std(ddof=1) / math.sqrt(values.size))


def validation_set(plan=None):
    """The held-out digits and their labels, as model inputs ([-1, 1]) and integers."""
    plan = plan or budget()
    (x_train, y_train), _ = data.load_mnist()
    _, (digits, labels) = data.validation_split(x_train, y_train, plan.train_images)
    return data.to_model_input(digits), labels


def write_record(names=None, seeds=SEEDS, plan=None):
    """Score every finished candidate run of ``names`` x ``seeds`` on the validation digits into
    `lib.runs.selection_record`, adding to what is there; returns the record."""
    plan = plan or budget()
    path = runs.selection_record(runs.mode_root(plan))
    record = artifacts.load_json(path) if path.is_file() else {}
    digits, labels = validation_set(plan)
    classifiers, judge = evaluation.load_classifiers(), realism.default_judge()
    record["protocol"] = {"validation_digits": len(digits), "classifier_seeds": list(classifiers),
                          "detector_seeds": list(judge.seeds), "holes": [speed.record_key(h) for h in HOLES]}
    scored = record.setdefault("candidates", {})
    for name in CANDIDATES if names is None else names:
        for seed in seeds:
            folder = runs.selection_run(name, seed, runs.mode_root(plan))
            entry = scored.setdefault(name, {"config": candidate_config(name, plan).departures(), "seeds": {}})
            if runs.status(folder) != "finished" or str(seed) in entry["seeds"]:
                continue
            run = runs.open(folder)
            method = evaluation.generator_method(run.generator(), run.config)
            scores = tradeoff.score_method(method, digits, labels, classifiers, judge, HOLES)
            entry["seeds"][str(seed)] = {
                "seconds": run.record["wall_seconds"],
                **{speed.record_key(hole): {"accuracy": scores[studies.hole_label(hole)]["accuracy_mean"],
                                            "detector": scores[studies.hole_label(hole)]["detector"]}
                   for hole in HOLES}}
            artifacts.save_record(path, record)
    record["choice"] = choose(record)
    artifacts.save_record(path, record)
    return record


def summary(record):
    """``{candidate: {hole: {"accuracy": (mean, half-width), "detector": (...)}, "seeds": n,
    "seconds": slowest}}`` over each candidate's scored seeds."""
    result = {}
    for name, entry in record.get("candidates", {}).items():
        seeds = list(entry["seeds"].values())
        if not seeds:
            continue
        holes = [key for key in seeds[0] if key != "seconds"]
        result[name] = {hole: {measure: mean_interval([seed[hole][measure] for seed in seeds])
                               for measure in ("accuracy", "detector")} for hole in holes}
        result[name].update(seeds=len(seeds), seconds=max(seed["seconds"] for seed in seeds))
    return result


def choose(record, seeds=len(SEEDS)):
    """The candidate to ship, or None while none has ``seeds`` scored seeds. Of the candidates
    with that many, those clearly less accurate than another on some hole (their 95 % intervals
    apart) are out; of the rest, the one whose fills the detector spots least, on average over
    the holes, is chosen. Returns ``{"candidate", "less_accurate", "reason"}``."""
    summaries = {name: s for name, s in summary(record).items() if s["seeds"] >= checks.count(seeds, "seeds", 1)}
    if not summaries:
        return None
    holes = [key for key in next(iter(summaries.values())) if key not in ("seeds", "seconds")]

    def clearly_below(a, b, hole):
        (mean_a, half_a), (mean_b, half_b) = summaries[a][hole]["accuracy"], summaries[b][hole]["accuracy"]
        return mean_a + half_a < mean_b - half_b

    accurate = [a for a in summaries if not any(clearly_below(a, b, h) for b in summaries for h in holes)]
    realism_of = {a: float(np.mean([summaries[a][h]["detector"][0] for h in holes])) for a in accurate}
    chosen = min(realism_of, key=realism_of.get)
    dropped = sorted(set(summaries) - set(accurate))
    return {"candidate": chosen, "less_accurate": dropped,
            "reason": f"the lowest mean detector accuracy ({100 * realism_of[chosen]:.1f} %) of the candidates "
                      "that are not clearly less accurate than another on any hole"}


def summary_rows(record):
    """`summary` as table rows: mean ± half-width in percent, per measure and hole."""
    rows = []
    for name, s in summary(record).items():
        row = {"candidate": name, "seeds": s["seeds"], "slowest s": s["seconds"]}
        for hole in (key for key in s if key not in ("seeds", "seconds")):
            for measure, short in (("accuracy", "acc"), ("detector", "det")):
                mean, half = s[hole][measure]
                row[f"{short} {hole} %"] = f"{100 * mean:.2f}" + ("" if math.isnan(half) else f" ± {100 * half:.2f}")
        rows.append(row)
    return rows
