"""What the adversary buys (chapter 7): the recommended model fine-tuned against adversaries of
growing weight and of the literature's kinds, each arm scored on accuracy and on realism.

A reconstruction loss alone fills an ambiguous hole with the average of its possible contents;
an adversary pushes the fill towards one plausible digit, and may push it away from the right
one. Blau and Michaeli (2018) prove the two goals trade off; this study measures where.

Every arm starts from the recommended model's weights (GLCIC's schedule: a completion network
trained on reconstruction first, then adversarially) with a fresh discriminator, and trains for
`STUDY_EPOCHS` epochs. The reconstruction weight is 1 minus the adversarial weight, as in the
recommended recipe (0.999 and 0.001). Every arm with an adversary trains it on the generator's
training-mode fills, the ones the generator learns through (`share_generator_pass`, chapter
7's fix): in the paper's two passes the discriminator judges other images than those it steers.
"""
from __future__ import annotations

import json

from lib import artifacts, data, evaluation, realism, recipes, runs, studies
from lib.config import variant_named
from lib.inpainting import load_inpainter

STUDY_EPOCHS = 1
STUDY_SEEDS = (0, 1)
FEATURE_MATCHING_WEIGHT = 10.0  # pix2pixHD's lambda
SHARED = dict(share_generator_pass=True)
ARMS = {
    # With no adversary the generator's updates do not depend on the loop: the paper's is kept.
    "reconstruction only": dict(adversarial_weight=0.0),
    "global, 0.001": dict(adversarial_weight=0.001, **SHARED),
    "global, 0.01": dict(adversarial_weight=0.01, **SHARED),
    "global, 0.1": dict(adversarial_weight=0.1, **SHARED),
    "global, 0.3": dict(adversarial_weight=0.3, **SHARED),
    "global+local, 0.1": dict(adversary="global+local", adversarial_weight=0.1, **SHARED),
    "SN-PatchGAN, 0.1": dict(adversary="patch", adversarial_weight=0.1, **SHARED),
    "global+local + feature matching, 0.1": dict(adversary="global+local", adversarial_weight=0.1,
                                                 feature_matching_weight=FEATURE_MATCHING_WEIGHT, **SHARED),
}
HOLES = ("paper", 12, 14, 16)


def arm_config(arm, epochs=STUDY_EPOCHS):
    """The recommended recipe with an arm's adversary, warm-started from the recommended run."""
    if arm not in ARMS:
        raise ValueError(f"unknown arm {arm!r}; choose from {list(ARMS)}")
    name, _ = runs.recommended_run()
    changes = dict(ARMS[arm])
    weight = changes["adversarial_weight"]
    reconstruction = changes.pop("reconstruction_weight", 1.0 - weight)
    start = runs.shipped_inpainter("recommended").relative_to(runs.REPO_ROOT).as_posix()
    return variant_named(name).variant(arm, epochs=epochs, reconstruction_weight=reconstruction, warm_start=start,
                                       **changes)


def run_arms(arms, seeds=STUDY_SEEDS, epochs=STUDY_EPOCHS, verbose=0):
    """Train each arm with each seed (seed by seed, so one seed of every arm comes first)."""
    configs = {arm: arm_config(arm, recipes.budget_epochs(epochs)) for arm in arms}  # checks every name first
    for seed in seeds:
        for arm, config in configs.items():
            folder = runs.adversary_run(arm, config.epochs, seed, runs.mode_root())
            run = recipes.train(config, folder, seed, verbose=verbose)
            print(f"{arm}, seed {seed}: {run.record['wall_seconds']} s, probe {run.probe[-1]['accuracy']}",
                  flush=True)


def score_method(method, originals, labels, classifiers, judge, holes=HOLES):
    """One method on every hole of the study: accuracy (mean over ``classifiers``), the
    detector's held-out accuracy and the Fréchet distance, ``{hole label: {...}}``."""
    scores = {}
    for hole in holes:
        masks = studies.hole_masks(len(originals), hole)
        result = evaluation.evaluate({"method": method}, originals, labels, masks, classifiers)["method"]
        scores[studies.hole_label(hole)] = {
            "accuracy_mean": result["accuracy_mean"], "accuracy_sd": result["accuracy_sd"],
            "hole_psnr": result["hole_psnr"], **judge.score(result["inpainted"], originals)}
    return scores


# ---------------------------------------------------------------- the study's record

# Issue 15's goals: the detector's accuracy at most these, and accuracy at most half a point
# below the recommended model's, on every hole of the study.
REALISM_TARGETS = {"paper": 0.60, 14: 0.70, 16: 0.75}
ACCURACY_SLACK = 0.005


def baseline_methods():
    """The methods every arm is compared with: no inpainting, OpenCV's two, the paper's GAN
    (seed 0, the shipped one) and the recommended model the arms start from."""
    methods = {"masked": evaluation.no_inpainting, "telea": evaluation.telea,
               "navier-stokes": evaluation.navier_stokes}
    for name in ("paper", "recommended"):
        methods["paper gan" if name == "paper" else name] = evaluation.generator_method(*load_inpainter(name))
    return methods


def write_study_record(arms=ARMS, seeds=STUDY_SEEDS, epochs=STUDY_EPOCHS, holes=HOLES):
    """Score the baselines and every finished arm run on the study's holes into
    `lib.runs.adversary_study`, adding to what is there (a kill loses one entry at most);
    returns the record. Arms not yet trained are left out. A scored run keeps its records only
    (`lib.runs.drop_weights`): no chapter loads its networks."""
    path = runs.adversary_study(runs.mode_root())
    record = artifacts.load_json(path) if path.is_file() else {}
    (_, _), (x_test, y_test) = data.load_mnist()
    originals = data.to_model_input(x_test)
    classifiers, judge = evaluation.load_classifiers(), realism.default_judge()
    epochs = recipes.budget_epochs(epochs)
    labels = [studies.hole_label(hole) for hole in holes]
    protocol = {"test_digits": len(originals), "classifier_seeds": list(classifiers), "detector_seeds": list(judge.seeds),
                "detector_epochs": realism.DETECTOR_EPOCHS, "reference_digits": realism.REFERENCE_DIGITS, "epochs": epochs}
    if record and (record["protocol"] != json.loads(json.dumps(protocol)) or record["holes"] != labels):
        raise ValueError(f"{path} was scored with another protocol or other holes ({record['protocol']}, "
                         f"{record['holes']}): delete it to score afresh")
    record.setdefault("holes", labels)
    record.setdefault("protocol", protocol)
    record.setdefault("frechet_floor", judge.frechet(originals))
    baselines, scored_arms = record.setdefault("baselines", {}), record.setdefault("arms", {})

    def save():
        artifacts.save_record(path, record)

    for name, method in baseline_methods().items():
        if name not in baselines:
            baselines[name] = score_method(method, originals, y_test, classifiers, judge, holes)
            save()
    if runs.realistic_record(runs.mode_root()).is_file() and "realistic" not in record:
        # The shipped realistic model, an arm trained longer, on the same footing as every arm.
        record["realistic"] = {"arm": runs.realistic_run(runs.mode_root())[0], **score_method(
            evaluation.generator_method(*load_inpainter("realistic")), originals, y_test, classifiers, judge, holes)}
        save()
    for arm in arms:
        for seed in seeds:
            folder = runs.adversary_run(arm, epochs, seed, runs.mode_root())
            key = str(seed)
            if runs.status(folder) != "finished":
                continue
            if key in scored_arms.get(arm, {}):
                if (folder / runs.GENERATOR_WEIGHTS).is_file():
                    runs.drop_weights(folder)  # scored before its weights were dropped
                continue
            run = runs.open(folder)
            if run.config != arm_config(arm, epochs):
                raise ValueError(f"{folder} was trained with another configuration than the arm {arm!r} has now")
            method = evaluation.generator_method(run.generator(), run.config)
            scored_arms.setdefault(arm, {})[key] = {
                "wall_seconds": run.record["wall_seconds"], "config": run.config.departures(),
                **score_method(method, originals, y_test, classifiers, judge, holes)}
            save()
            runs.drop_weights(folder)
    return record


# ---------------------------------------------------------------- reading the record

MEASURES = ("accuracy_mean", "detector", "frechet", "hole_psnr")


def arm_means(record):
    """Each arm's measures averaged over its seeds, hole by hole: ``{arm: {hole: {measure:
    mean, measure + "_spread": max - min, "seeds": n}}}``, for the arms with at least one run."""
    if not isinstance(record, dict) or "arms" not in record or "holes" not in record:
        raise ValueError("record must be the study's record (lib.runs.adversary_study)")
    means = {}
    for arm, by_seed in record["arms"].items():
        if not by_seed:
            continue
        means[arm] = {}
        for hole in record["holes"]:
            values = {measure: [run[hole][measure] for run in by_seed.values()] for measure in MEASURES}
            means[arm][hole] = {"seeds": len(by_seed),
                                **{measure: sum(v) / len(v) for measure, v in values.items()},
                                **{f"{measure}_spread": max(v) - min(v) for measure, v in values.items()}}
    return means


def target_report(scores, reference, targets=REALISM_TARGETS, slack=ACCURACY_SLACK):
    """Issue 15's goals for one model's ``scores`` (``{hole label: {"accuracy_mean",
    "detector"}}``) against the ``reference`` model's: ``{hole: {...}}`` with the accuracy lost
    (in points), whether it is within ``slack``, and the detector's target and whether it is met."""
    report = {}
    for hole, scored in scores.items():
        if hole not in reference:
            raise ValueError(f"the reference has no scores for the {hole} hole")
        lost = reference[hole]["accuracy_mean"] - scored["accuracy_mean"]
        limit = next((value for key, value in targets.items() if studies.hole_label(key) == hole), None)
        accuracy_met = lost <= slack + studies.SAME_ACCURACY
        detector_met = None if limit is None else scored["detector"] <= limit
        report[hole] = {"accuracy": scored["accuracy_mean"], "reference": reference[hole]["accuracy_mean"],
                        "points_lost": 100 * lost, "accuracy_met": accuracy_met, "detector": scored["detector"],
                        "detector_target": limit, "detector_met": detector_met,
                        "met": accuracy_met and detector_met is not False}  # a hole without a realism goal: accuracy
    return report


REALISTIC_EPOCHS = 3


def realism_shortfall(scores, targets=REALISM_TARGETS):
    """How far ``scores`` (``{hole label: {"detector"}}``) are from the realism goals: the sum,
    over the goals' holes, of the detector's accuracy above each goal (0: every goal met)."""
    missing = [studies.hole_label(hole) for hole in targets if studies.hole_label(hole) not in scores]
    if missing:
        raise ValueError(f"no scores for the goals' holes {missing}")
    return sum(max(0.0, scores[studies.hole_label(hole)]["detector"] - limit) for hole, limit in targets.items())


def choose_realistic(record):
    """The arm to ship as "realistic": the smallest `realism_shortfall` of its seeds' means,
    the higher mean accuracy over the study's holes on a tie (the "reconstruction only" control
    is not a candidate)."""
    means = {arm: scores for arm, scores in arm_means(record).items() if ARMS.get(arm, {}).get("adversarial_weight")}
    if not means:
        raise ValueError("the study's record has no arm with an adversary yet")
    return min(means, key=lambda arm: (round(realism_shortfall(means[arm]), 9),
                                       -sum(hole["accuracy_mean"] for hole in means[arm].values())))


def run_realistic(arm=None, epochs=REALISTIC_EPOCHS, seed=0, verbose=0):
    """Train ``arm`` (default: `choose_realistic` of the study's record) for ``epochs`` epochs and
    ship it as the "realistic" inpainter (`lib.runs.realistic_record`)."""
    arm = arm or choose_realistic(artifacts.load_json(runs.adversary_study(runs.mode_root())))
    config = arm_config(arm, recipes.budget_epochs(epochs))
    folder = runs.adversary_run(arm, config.epochs, seed, runs.mode_root())
    run = recipes.train(config, folder, seed, verbose=verbose)
    if (folder / runs.DISCRIMINATOR_WEIGHTS).is_file():
        runs.drop_weights(folder, keep_generator=True)  # the chapters load its generator only
    artifacts.save_record(runs.realistic_record(runs.mode_root()), {"arm": arm, "epochs": config.epochs, "seed": seed})
    print(f"realistic: {arm}, {config.epochs} epochs, seed {seed}: {run.record['wall_seconds']} s", flush=True)
    return run


TABLE_COLUMNS = (("accuracy %", "accuracy_mean", 100, 1), ("detector %", "detector", 100, 1), ("Fréchet", "frechet", 1, 2))


def study_table(scores_by_method, holes):
    """Chapter 7's tables: ``{method: {(hole, column): value}}`` with accuracy and detector in %
    and the Fréchet distance, from `score_method`'s or `arm_means`' scores (a DataFrame of it,
    transposed, has a row per method and two levels of columns)."""
    if not scores_by_method:
        raise ValueError("study_table needs the scores of at least one method")
    return {name: {(hole, label): round(scale * scores[hole][measure], decimals)
                   for hole in holes for label, measure, scale, decimals in TABLE_COLUMNS}
            for name, scores in scores_by_method.items()}
