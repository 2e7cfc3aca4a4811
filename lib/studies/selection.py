"""Choosing the one shipped inpainter: candidate recipes trained from scratch, several seeds each,
on the training digits less the last `lib.data.VALIDATION_DIGITS`, and scored on those held-out
digits by the book's protocol (accuracy as the mean of the three classifiers, realism as a fresh
detector's accuracy). The test set plays no part in the choice. (The three classifiers were
trained on all 60,000 training digits, these among them: they judge every candidate's fills of
the same digits, so the comparison is fair, but the accuracies run higher than on test digits.)

Two seeds of one recipe can differ by more than the gain of a change (appendix D's speed study
saw 1.8 to 3.6 points at 14x14), so a candidate is judged by its mean over seeds with a 95 %
interval, never by one run.

Every candidate trains with the shared generator pass (chapter 5's fix): its discriminator judges
the very fills the generator learns from.
"""
from __future__ import annotations

import math

import numpy as np

from lib import artifacts, checks, classifiers, commands, data, evaluation, holes, realism, records, runs, training
from lib.config import budget
from lib.studies import speed

SEEDS = (0, 1, 2)

# Each candidate is a recipe of `lib.studies.speed.RECIPES` inside appendix D's budget of 900 s.
CANDIDATES = {name: speed.RECIPES[name] for name in speed.CANDIDATES}
# Student's t at 97.5 % for 1 to 9 degrees of freedom: a 95 % interval over a few seeds.
T_975 = (12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262)
NORMAL_975 = 1.959964
LOSSES = ("d_loss_real", "d_loss_fake", "g_loss")  # `adversary_losses`, in the tables' order


def run_folder(name, seed, root=()):
    """A candidate trained from scratch with ``seed``."""
    return runs.path(*root, "selection", runs.slug(name), runs.seed_name(seed))


def record_path(root=()):  # the candidates scored on the validation digits, and the choice
    return runs.path(*root, "selection", "record.json")


def candidate_config(name, plan=None):
    """The configuration of candidate ``name`` for ``plan``'s budget (default the current mode's)."""
    return speed.recipe(name, plan, CANDIDATES)


def train_candidate(name, seed=0, root=(), plan=None, verbose=0):
    """Train candidate ``name`` with ``seed`` on the training digits less the validation digits
    (or resume or open it); returns the finished run."""
    config = candidate_config(name, plan)
    run = training.train(config, run_folder(name, seed, root), seed, plan, verbose=verbose, probe_every_steps=0,
                         held_out=True)
    print(f"{name}, seed {seed}: {run.record['wall_seconds']} s, validation probe {run.probe[-1]['accuracy']}",
          flush=True)
    return run


def run_candidates(names=None, seeds=SEEDS, root=(), plan=None, verbose=0):
    """Train every candidate of ``names`` (default all) with every seed, seed by seed, so that a
    batch cut short still holds one seed of each."""
    names = list(CANDIDATES) if names is None else list(names)
    for name in names:
        candidate_config(name, plan)  # every name checked before hours are spent
    for seed in seeds:
        for name in names:
            train_candidate(name, seed, root, plan, verbose)


def mean_interval(values):
    """``(mean, half-width)`` of a 95 % Student's t interval over ``values`` (one per seed);
    a single value has no interval (half-width NaN)."""
    values = np.asarray(values, dtype=float)
    if values.ndim != 1 or values.size == 0 or not np.isfinite(values).all():
        raise ValueError(f"values must be a non-empty 1-D sequence of finite numbers, got {values!r}")
    if values.size == 1:
        return float(values[0]), math.nan
    return float(values.mean()), float(t_975(values.size - 1) * values.std(ddof=1) / math.sqrt(values.size))


def t_975(degrees):
    """Student's t quantile at 97.5 %: the table up to 9 degrees of freedom, then the
    Cornish-Fisher expansion around the normal quantile (within 0.001 from 10 degrees on)."""
    degrees = checks.count(degrees, "degrees", minimum=1)
    if degrees <= len(T_975):
        return T_975[degrees - 1]
    z = NORMAL_975
    return (z + (z ** 3 + z) / (4 * degrees) + (5 * z ** 5 + 16 * z ** 3 + 3 * z) / (96 * degrees ** 2)
            + (3 * z ** 7 + 19 * z ** 5 + 17 * z ** 3 - 15 * z) / (384 * degrees ** 3))


def validation_set(plan=None):
    """The held-out digits and their labels, as model inputs ([-1, 1]) and integers."""
    plan = plan or budget()
    (x_train, y_train), _ = data.load_mnist()
    _, (digits, labels) = data.validation_split(x_train, y_train, plan.train_images)
    return data.to_model_input(digits), labels


def adversary_losses(run):
    """The last epoch's mean losses, adversarial by construction: D's on real and on generated
    digits, and the generator's adversarial term. A term near 20 with D's losses near 0 would
    say D is disconnected from the fills G learns from (as in the two-pass recipe)."""
    rows = [row for row in run.history if int(row["epoch"]) == run.config.epochs]
    if not rows:
        raise ValueError(f"{run.folder} has no history rows for its last epoch, {run.config.epochs}")
    return {key: float(np.mean([float(row[key]) for row in rows])) for key in LOSSES}


def write_record(names=None, seeds=SEEDS, root=(), plan=None):
    """Score every finished candidate run of ``names`` x ``seeds`` on the validation digits into
    `record_path`, adding to what is there, then choose (`choose`, once every candidate has
    ``seeds`` scored); returns the record. A scored run keeps its records only."""
    plan = plan or budget()
    names = list(CANDIDATES) if names is None else list(names)
    configs = {name: candidate_config(name, plan) for name in names}  # every name checked first
    seeds = [checks.count(seed, "seed") for seed in seeds]
    digits, labels = validation_set(plan)
    judges, judge = classifiers.load_classifiers(), realism.default_judge()
    record = records.Record(record_path(root), {
        "validation_digits": len(digits), "classifier_seeds": list(judges), "detector_seeds": list(judge.seeds),
        "holes": list(map(holes.key, holes.STUDY_HOLES))})
    scored = record.setdefault("candidates", {})
    for seed in seeds:
        for name, config in configs.items():
            folder = run_folder(name, seed, root)
            entry = scored.setdefault(name, {"config": artifacts.as_json(config.departures()), "seeds": {}})
            if runs.status(folder) != "finished":
                continue
            if str(seed) in entry["seeds"]:
                entry["seeds"][str(seed)].setdefault("last_epoch_losses", adversary_losses(runs.open(folder)))
                continue
            run = runs.open(folder)
            if run.config != config or entry["config"] != artifacts.as_json(config.departures()):
                raise ValueError(f"{folder} was trained with another configuration than the candidate {name!r} has now")
            method = evaluation.generator_method(run.generator(), run.config)
            scores = realism.score_on_holes(method, digits, labels, judges, judge, holes.STUDY_HOLES)
            entry["seeds"][str(seed)] = {"seconds": run.record["wall_seconds"], "last_epoch_losses": adversary_losses(run), **{
                holes.key(hole): {measure: scores[holes.label(hole)][key] for measure, key in
                                  (("accuracy", "accuracy_mean"), ("detector", "detector"))}
                for hole in holes.STUDY_HOLES}}
            record.save()
            runs.drop_weights(folder)  # no chapter loads a candidate: the shipped model is trained afresh
    record["choice"] = choose(record, len(seeds), names) if len(seeds) > 1 else None  # one seed: no interval
    return record.save()


def committed_record():
    """The committed record of the choice (`record_path`)."""
    return artifacts.load_json(record_path())


def summary(record):
    """``{candidate: {hole: {"accuracy": (mean, half-width), "detector": (...)}, "seeds": n,
    "seconds": slowest, "losses": means of `adversary_losses`}}`` over each candidate's scored
    seeds, on the record's holes."""
    holes = record["protocol"]["holes"] if record.get("candidates") else []
    result = {}
    for name, entry in record.get("candidates", {}).items():
        seeds = list(entry["seeds"].values())
        if seeds:
            result[name] = {hole: {measure: mean_interval([seed[hole][measure] for seed in seeds])
                                   for measure in ("accuracy", "detector")} for hole in holes}
            result[name].update(seeds=len(seeds), seconds=max(seed["seconds"] for seed in seeds))
            losses = [seed["last_epoch_losses"] for seed in seeds if "last_epoch_losses" in seed]
            if losses:
                result[name]["losses"] = {key: float(np.mean([loss[key] for loss in losses])) for key in LOSSES}
    return result


def choose(record, seeds=len(SEEDS), names=None):
    """The candidate to ship once every candidate of ``names`` (default all scored) has at least
    ``seeds`` scored seeds, else None. Candidates clearly less accurate than another on some hole
    (their 95 % intervals apart) are out; of the rest, the one whose fills the detector spots
    least, on average over the holes, is chosen. If every candidate is clearly below another
    somewhere, none is. Returns ``{"candidate", "less_accurate", "reason"}`` or None."""
    seeds = checks.count(seeds, "seeds", minimum=2)  # one seed has no interval to compare
    summaries = summary(record)
    names = list(summaries) if names is None else list(names)
    if not names or any(summaries.get(name, {}).get("seeds", 0) < seeds for name in names):
        return None
    summaries = {name: summaries[name] for name in names}
    holes = record["protocol"]["holes"]

    def clearly_below(a, b, hole):
        (mean_a, half_a), (mean_b, half_b) = summaries[a][hole]["accuracy"], summaries[b][hole]["accuracy"]
        return mean_a + half_a < mean_b - half_b

    accurate = [a for a in summaries if not any(clearly_below(a, b, h) for b in summaries for h in holes)]
    dropped = sorted(set(summaries) - set(accurate))
    if not accurate:
        return {"candidate": None, "less_accurate": dropped,
                "reason": "each candidate is clearly less accurate than another on some hole: none is best"}
    realism_of = {a: float(np.mean([summaries[a][h]["detector"][0] for h in holes])) for a in accurate}
    chosen = min(realism_of, key=realism_of.get)
    return {"candidate": chosen, "less_accurate": dropped,
            "reason": f"the lowest mean detector accuracy ({100 * realism_of[chosen]:.1f} %) of the candidates "
                      "that are not clearly less accurate than another on any hole"}


def summary_rows(record):
    """`summary` as table rows: mean ± half-width in percent, per measure and hole."""
    rows = []
    for name, s in summary(record).items():
        row = {"candidate": name, "seeds": s["seeds"], "slowest run, wall s": s["seconds"]}
        if "losses" in s:
            row["last epoch: D real / D fake / adversarial"] = " / ".join(f"{value:.2f}" for value in s["losses"].values())
        for hole in (key for key in s if key not in ("seeds", "seconds", "losses")):
            for measure, short in (("accuracy", "acc"), ("detector", "det")):
                mean, half = s[hole][measure]
                row[f"{short} {hole} %"] = f"{100 * mean:.2f}" + ("" if math.isnan(half) else f" ± {100 * half:.2f}")
        rows.append(row)
    return rows


COMMANDS = (
    commands.Command("candidates", run_candidates, "the shipped inpainter's candidates, on held-out digits", (
        commands.choice("--recipes", CANDIDATES, many=True, dest="names", what="the candidates (default: all)"),
        commands.seeds(SEEDS))),
    commands.Command("selection", write_record, "score the candidates on the validation digits, choose", (
        commands.seeds(SEEDS, choices=SEEDS, what="the seeds the candidates were trained with"),),
        report=lambda record: record["choice"]),
)
