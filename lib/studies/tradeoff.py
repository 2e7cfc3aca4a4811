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


from lib import artifacts, checks, classifiers, commands, evaluation, holes, inpainting, realism, records, runs, \
    shipped, training
from lib.config import variant_named
from lib.studies import ablation

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


def run_folder(arm, epochs, seed, root=()):
    """One run of the study: an arm of `ARMS`, fine-tuned from the recommended model for
    ``epochs`` epochs with ``seed``."""
    return runs.path(*root, "adversary", f"{runs.slug(arm)}-{checks.count(epochs, 'epochs', 1)}ep",
                     runs.seed_name(seed))


def study_record(root=()):
    return runs.path(*root, "adversary", "study.json")


def realistic_record(root=()):
    """The record of the choice: the arm shipped as the "realistic" inpainter."""
    return runs.path(*root, "adversary", "realistic.json")


def realistic_run(root=()):
    """The realistic inpainter's arm, epochs and seed (`run_folder`'s arguments)."""
    return artifacts.load_fields(realistic_record(root), arm=checks.text, epochs=checks.count, seed=checks.count)


def check_record(root=()):
    return runs.path(*root, "studies", "shipped_models.json")


def arm_config(arm, epochs=STUDY_EPOCHS):
    """The recommended recipe with an arm's adversary, warm-started from the recommended run."""
    if arm not in ARMS:
        raise ValueError(f"unknown arm {arm!r}; choose from {list(ARMS)}")
    name, _ = ablation.recommended_run()
    changes = dict(ARMS[arm])
    weight = changes["adversarial_weight"]
    reconstruction = changes.pop("reconstruction_weight", 1.0 - weight)
    start = shipped.folder("recommended").relative_to(runs.REPO_ROOT).as_posix()
    return variant_named(name).variant(arm, epochs=epochs, reconstruction_weight=reconstruction, warm_start=start,
                                       **changes)


def run_arms(arms=None, seeds=STUDY_SEEDS, epochs=STUDY_EPOCHS, root=(), verbose=0):
    """Train each arm (default all) with each seed (seed by seed, so one seed of every arm comes first)."""
    configs = {arm: arm_config(arm, training.budget_epochs(epochs)) for arm in arms or ARMS}  # every name checked
    for seed in seeds:
        for arm, config in configs.items():
            run = training.train(config, run_folder(arm, config.epochs, seed, root), seed, verbose=verbose)
            print(f"{arm}, seed {seed}: {run.record['wall_seconds']} s, probe {run.probe[-1]['accuracy']}",
                  flush=True)


# ---------------------------------------------------------------- the study's record

# Issue 15's goals: the detector's accuracy at most these, and accuracy at most half a point
# below the recommended model's, on every hole of the study.
REALISM_TARGETS = {"paper": 0.60, 14: 0.70, 16: 0.75}
ACCURACY_SLACK = 0.005


def baseline_methods():
    """The methods every arm is compared with: no inpainting, OpenCV's two, the paper's GAN
    (seed 0, the shipped one) and the recommended model the arms start from."""
    return evaluation.standard_methods({"paper gan": inpainting.load_inpainter("paper"),
                                        "recommended": inpainting.load_inpainter("recommended")})


def write_study_record(seeds=STUDY_SEEDS, epochs=STUDY_EPOCHS, arms=ARMS, holes_to_score=holes.STUDY_HOLES, root=()):
    """Score the baselines and every finished arm run on the study's holes into `study_record`,
    adding to what is there (a kill loses one entry at most); returns the record. Arms not yet
    trained are left out. A scored run keeps its records only (`lib.runs.drop_weights`): no
    chapter loads its networks."""
    originals, digit_labels = evaluation.test_digits()
    judges, judge = classifiers.load_classifiers(), realism.default_judge()
    epochs = training.budget_epochs(epochs)
    record = records.Record(study_record(root), {
        "test_digits": len(originals), "classifier_seeds": list(judges), "detector_seeds": list(judge.seeds),
        "detector_epochs": realism.DETECTOR_EPOCHS, "reference_digits": realism.REFERENCE_DIGITS, "epochs": epochs})
    labels = [holes.label(hole) for hole in holes_to_score]
    if record.setdefault("holes", labels) != labels:
        raise ValueError(f"{record.path} was scored on other holes ({record['holes']}): delete it to score afresh")
    record.setdefault("frechet_floor", judge.frechet(originals))
    baselines, scored_arms = record.setdefault("baselines", {}), record.setdefault("arms", {})

    def scores(method):
        return realism.score_on_holes(method, originals, digit_labels, judges, judge, holes_to_score)

    for name, method in baseline_methods().items():
        if name not in baselines:
            baselines[name] = scores(method)
            record.save()
    if realistic_record(root).is_file() and "realistic" not in record:
        # The shipped realistic model, an arm trained longer, on the same footing as every arm.
        record["realistic"] = {"arm": realistic_run(root)[0],
                               **scores(evaluation.generator_method(*inpainting.load_inpainter("realistic")))}
        record.save()
    for arm in arms:
        for seed in seeds:
            folder = run_folder(arm, epochs, seed, root)
            if runs.status(folder) != "finished":
                continue
            if str(seed) in scored_arms.get(arm, {}):
                if (folder / runs.GENERATOR_WEIGHTS).is_file():
                    runs.drop_weights(folder)  # scored before its weights were dropped
                continue
            run = runs.open(folder)
            if run.config != arm_config(arm, epochs):
                raise ValueError(f"{folder} was trained with another configuration than the arm {arm!r} has now")
            scored_arms.setdefault(arm, {})[str(seed)] = {
                "wall_seconds": run.record["wall_seconds"], "config": run.config.departures(),
                **scores(evaluation.generator_method(run.generator(), run.config))}
            record.save()
            runs.drop_weights(folder)
    return record.save()


def committed_study():
    """The committed study's record (`study_record`)."""
    return artifacts.load_json(study_record())


def baseline(name):
    """A baseline's scores in the committed study, ``{hole label: {measure: value}}``."""
    baselines = artifacts.load_fields(study_record(), baselines=checks.mapping)[0]
    if name not in baselines:
        raise ValueError(f"the study scored the baselines {list(baselines)}, not {name!r}")
    return baselines[name]


# ---------------------------------------------------------------- reading the record

MEASURES = ("accuracy_mean", "detector", "frechet", "hole_psnr")


def arm_means(record):
    """Each arm's measures averaged over its seeds, hole by hole: ``{arm: {hole: {measure:
    mean, measure + "_spread": max - min, "seeds": n}}}``, for the arms with at least one run."""
    if not isinstance(record, dict) or "arms" not in record or "holes" not in record:
        raise ValueError("record must be the study's record (`study_record`)")
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
        limit = next((value for key, value in targets.items() if holes.label(key) == hole), None)
        accuracy_met = lost <= slack + evaluation.SAME_ACCURACY
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
    missing = [holes.label(hole) for hole in targets if holes.label(hole) not in scores]
    if missing:
        raise ValueError(f"no scores for the goals' holes {missing}")
    return sum(max(0.0, scores[holes.label(hole)]["detector"] - limit) for hole, limit in targets.items())


def choose_realistic(record):
    """The arm to ship as "realistic": the smallest `realism_shortfall` of its seeds' means,
    the higher mean accuracy over the study's holes on a tie (the "reconstruction only" control
    is not a candidate)."""
    means = {arm: scores for arm, scores in arm_means(record).items() if ARMS.get(arm, {}).get("adversarial_weight")}
    if not means:
        raise ValueError("the study's record has no arm with an adversary yet")
    return min(means, key=lambda arm: (round(realism_shortfall(means[arm]), 9),
                                       -sum(hole["accuracy_mean"] for hole in means[arm].values())))


def run_realistic(arm=None, epochs=REALISTIC_EPOCHS, seed=0, root=(), verbose=0):
    """Train ``arm`` (default: `choose_realistic` of the study's record) for ``epochs`` epochs and
    ship it as the "realistic" inpainter (`realistic_record`, `lib.shipped`)."""
    arm = arm or choose_realistic(artifacts.load_json(study_record(root)))
    config = arm_config(arm, training.budget_epochs(epochs))
    folder = run_folder(arm, config.epochs, seed, root)
    run = training.train(config, folder, seed, verbose=verbose)
    if (folder / runs.DISCRIMINATOR_WEIGHTS).is_file():
        runs.drop_weights(folder, keep_generator=True)  # the chapters load its generator only
    artifacts.save_record(realistic_record(root), {"arm": arm, "epochs": config.epochs, "seed": seed})
    shipped.register("realistic", folder, root)
    print(f"realistic: {arm}, {config.epochs} epochs, seed {seed}: {run.record['wall_seconds']} s", flush=True)
    return run


TABLE_COLUMNS = (("accuracy %", "accuracy_mean", 100, 1), ("detector %", "detector", 100, 1), ("Fréchet", "frechet", 1, 2))


def study_table(scores_by_method, holes):
    """Chapter 7's tables: ``{method: {(hole, column): value}}`` with accuracy and detector in %
    and the Fréchet distance, from `lib.realism.score_on_holes`' or `arm_means`' scores (a DataFrame of it,
    transposed, has a row per method and two levels of columns)."""
    if not scores_by_method:
        raise ValueError("study_table needs the scores of at least one method")
    return {name: {(hole, label): round(scale * scores[hole][measure], decimals)
                   for hole in holes for label, measure, scale, decimals in TABLE_COLUMNS}
            for name, scores in scores_by_method.items()}


# ---------------------------------------------------------------- the shipped models checked again

SHIPPED_CHECKED = ("book", "recommended", "realistic")
FRESH_SEED_OFFSET = 3  # detector seeds the realism study did not use: the realistic arm was chosen with its own


def fresh_judge():
    """The book's judge (`lib.realism.default_judge`) with detector seeds the study never used."""
    return realism.default_judge(seeds=tuple(seed + FRESH_SEED_OFFSET for seed in realism.detector_seeds()))


def run_shipped_check(digits=None, judge=None, root=()):
    """Chapter 7's check of the book's model and the two earlier ones on the study's holes, on the
    first ``digits`` test digits (all by default): accuracy with the three classifiers and realism
    with fresh detectors (`fresh_judge`, unless ``judge`` is given), recorded in `check_record` in
    the form `lib.records.by_hole` reads."""
    record = records.Record(check_record(root))
    originals, labels = evaluation.test_digits(digits)
    models = {name: evaluation.generator_method(*inpainting.load_inpainter(name)) for name in SHIPPED_CHECKED}
    judges, judge = classifiers.load_classifiers(), judge or fresh_judge()
    by_hole = {}
    for hole in holes.STUDY_HOLES:
        results = evaluation.evaluate(models, originals, labels, holes.masks(len(originals), hole), judges)
        realism.add_realism(results, originals, judge)
        by_hole[holes.label(hole)] = {name: evaluation.scores_only(result) for name, result in results.items()}
    record.update(by_hole=by_hole, holes=list(by_hole), methods=list(models), digits=len(originals),
                  detector_seeds=list(judge.seeds), detector_digits=realism.detector_digits())
    return record.close()


def committed_check_record():
    """The committed check's record (`run_shipped_check`'s)."""
    return artifacts.load_json(check_record())


def committed_check():
    """The committed check, ``{hole: {model: scores}}`` (`lib.records.by_hole`)."""
    return records.by_hole(committed_check_record())


COMMANDS = (
    commands.Command("adversary", run_arms, "chapter 7's arms, fine-tuned from the recommended model", (
        commands.choice("--arms", ARMS, many=True, what="the arms (default: all)"),
        commands.seeds(STUDY_SEEDS), commands.epochs(STUDY_EPOCHS))),
    commands.Command("adversary-study", write_study_record, "score the baselines and every finished arm", (
        commands.seeds(STUDY_SEEDS, choices=STUDY_SEEDS, what="the seeds the arms were trained with"),
        commands.epochs(STUDY_EPOCHS))),
    commands.Command("realistic", run_realistic, "the study's most realistic arm, 3 epochs: the \"realistic\" model", (
        commands.choice("--arm", ARMS, what="the arm (default: the study's choice)"), commands.seed(),
        commands.epochs(REALISTIC_EPOCHS))),
    commands.Command("shipped-check", run_shipped_check, "chapter 7: the book's model and the earlier two, fresh detectors",
                     report=records.seconds),
)
