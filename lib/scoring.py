"""Chapters 4 to 7's studies (and appendix B's) scored once, on all 10,000 test digits, into records the chapters
read: the committed runs are fixed, so their scores are too, and scoring them takes minutes that
a reader (and CI) need not spend each time. `lib.cli` runs these; the tests score entries again.
"""
from __future__ import annotations

import time

from lib import artifacts, checks, data, evaluation, fitting, inpainting, realism, runs, studies, tradeoff
from lib.config import CROSS_CHECK_CLASSIFIER


# Chapter 6's longer rows: the kept changes at shorter budgets (constant learning rates), then
# with the decay over 24 epochs, beside the recommended model at its own budget.
ABLATION_LONGER = (("+ global context + centred holes", 12), ("+ global context + centred holes + learning-rate decay", 24))
ABLATION_EXTRA_HOLE = 14  # a second accuracy column: the hard centred hole the recommendation was chosen on


def evaluation_digits(digits=None):
    """The first ``digits`` test digits (all 10,000 by default) as model input, with labels."""
    (_, _), (x_test, y_test) = data.load_mnist()
    count = len(x_test) if digits is None else checks.count(digits, "digits", minimum=2)
    return data.to_model_input(x_test[:count]), y_test[:count]


def _timed_record(path, record, started):
    record.update(wall_seconds=round(time.perf_counter() - started, 1), machine=fitting.machine_description())
    artifacts.save_record(path, record)
    return record


def run_ablation_table(digits=None):
    """Chapter 6's table (`lib.studies.ablation_results`) scored on the first ``digits`` test
    digits (all by default) and recorded in `lib.runs.ablation_record`: every ablation step,
    the longer runs of `ABLATION_LONGER` and the recommended model, each also on 14x14 holes."""
    started = time.perf_counter()
    originals, labels = evaluation_digits(digits)
    decision = artifacts.load_json(runs.recommended_record())
    rows = studies.ablation_results(
        originals, labels, evaluation.evaluation_masks(len(originals)), evaluation.load_classifiers(),
        recommended=(decision["chosen"], decision["epochs"]), longer=ABLATION_LONGER,
        extra_holes={studies.hole_label(ABLATION_EXTRA_HOLE): data.centre_masks(len(originals), ABLATION_EXTRA_HOLE)})
    record = {"rows": rows, "columns": list(rows[0]) if rows else [], "digits": len(originals),
              "classifier_seeds": list(evaluation.CLASSIFIER_SEEDS)}  # JSON sorts keys: the columns keep their order
    return _timed_record(runs.ablation_record(runs.mode_root()), record, started)


HOLE_SIZE_MODELS = ("paper", "recommended", "realistic", "book")  # in the order the book builds them


def hole_size_methods(names=None):
    """Chapter 6's methods: no inpainting, both OpenCV methods and the shipped and earlier models
    (`HOLE_SIZE_MODELS`); ``names`` picks some of them, and only their models are loaded."""
    models = {"paper gan" if name == "paper" else name: name for name in HOLE_SIZE_MODELS}
    known = [*evaluation.standard_methods(), *models]
    if names is not None and (not names or set(names) - set(known)):
        raise ValueError(f"names must be some of {known}, got {names!r}")
    wanted = known if names is None else names
    methods = evaluation.standard_methods({method: inpainting.load_inpainter(model)
                                           for method, model in models.items() if method in wanted})
    return {name: method for name, method in methods.items() if name in wanted}


def run_hole_size_study(digits=None, sizes=studies.HOLE_SIZES, judge=None, only=None):
    """Chapter 6's study on the first ``digits`` test digits (all by default), recorded in
    `lib.runs.hole_size_record`: every method of `hole_size_methods` at every hole
    (`lib.studies.hole_size_study`), the same fills judged by the cross-check classifiers
    (`lib.studies.reclassify`), and their realism (`lib.realism.add_realism`; the book's judge
    unless ``judge`` is given) with the real-digit floor of the Fréchet distance. ``only``: score
    these methods and merge them into the committed record (same digits, holes and detectors),
    leaving the others' scores as they are (each method's detectors are its own)."""
    started = time.perf_counter()
    originals, labels = evaluation_digits(digits)
    methods = hole_size_methods(only)
    _, by_hole = studies.hole_size_study(methods, originals, labels, evaluation.load_classifiers(), sizes=sizes)
    cross_check = studies.reclassify(by_hole, labels, evaluation.load_classifiers(config=CROSS_CHECK_CLASSIFIER))
    judge = judge or realism.default_judge()
    for results in by_hole.values():
        realism.add_realism(results, originals, judge)
    record = {"by_hole": {hole: {name: studies.scores_only(result) for name, result in results.items()}
                          for hole, results in by_hole.items()},
              "cross_check": cross_check, "frechet_floor": judge.frechet(originals), "digits": len(originals),
              "holes": list(by_hole), "methods": list(methods),  # the tables' order
              "sizes": list(sizes), "detector_seeds": list(judge.seeds), "detector_digits": realism.detector_digits()}
    path = runs.hole_size_record(runs.mode_root())
    if only is not None:
        earlier = artifacts.load_json(path)
        record = merged_study(earlier, record)
        started -= earlier["wall_seconds"]  # the record's seconds stay those of all its scoring
    return _timed_record(path, record, started)


def merged_study(earlier, added):
    """``added``'s methods merged into ``earlier`` (a hole-size record of the same protocol): a
    method in both takes ``added``'s scores and keeps its place, a new one comes last."""
    protocol = ("digits", "holes", "sizes", "detector_seeds", "detector_digits")
    if any(earlier[key] != added[key] for key in protocol):
        raise ValueError(f"the committed record was scored with another protocol ({ {k: earlier[k] for k in protocol} })")
    methods = [*earlier["methods"], *(name for name in added["methods"] if name not in earlier["methods"])]
    merged = {**earlier, "methods": methods}
    for part in ("by_hole", "cross_check"):
        merged[part] = {}
        for hole, scores in earlier[part].items():
            scores = {**scores, **added[part].get(hole, {})}
            merged[part][hole] = {name: scores[name] for name in methods if name in scores}
    return merged


SHIPPED_CHECKED = ("book", "recommended", "realistic")
FRESH_SEED_OFFSET = 3  # detector seeds the realism study did not use: the realistic arm was chosen with its own


def fresh_judge():
    """The book's judge (`lib.realism.default_judge`) with detector seeds the study never used."""
    return realism.default_judge(seeds=tuple(seed + FRESH_SEED_OFFSET for seed in realism.detector_seeds()))


def run_shipped_check(digits=None, judge=None):
    """Chapter 7's check of the book's model and the two earlier ones on the study's holes
    (`lib.tradeoff.HOLES`), on the first ``digits`` test digits (all by default): accuracy with the three classifiers and
    realism with fresh detectors (`fresh_judge`, unless ``judge`` is given), recorded in
    `lib.runs.shipped_check_record` in the form `lib.studies.recorded_by_hole` reads."""
    started = time.perf_counter()
    originals, labels = evaluation_digits(digits)
    shipped = {name: evaluation.generator_method(*inpainting.load_inpainter(name)) for name in SHIPPED_CHECKED}
    classifiers, judge = evaluation.load_classifiers(), judge or fresh_judge()
    by_hole = {}
    for hole in tradeoff.HOLES:
        results = evaluation.evaluate(shipped, originals, labels, studies.hole_masks(len(originals), hole), classifiers)
        realism.add_realism(results, originals, judge)
        by_hole[studies.hole_label(hole)] = {name: studies.scores_only(result) for name, result in results.items()}
    record = {"by_hole": by_hole, "holes": list(by_hole), "methods": list(shipped), "digits": len(originals),
              "detector_seeds": list(judge.seeds), "detector_digits": realism.detector_digits()}
    return _timed_record(runs.shipped_check_record(runs.mode_root()), record, started)


# Chapters 4 and 5 compare the paper's GAN, as published and with the collapse study's fix, over
# its three training seeds.
PAPER_GAN_RUNS = {"paper gan": runs.paper_gan, "paper gan, fixed": runs.fixed_paper_gan}
PAPER_GAN_SEEDS = (0, 1, 2)


def run_seed_scores(digits=None):
    """Every training seed of `PAPER_GAN_RUNS` on the first ``digits`` test digits (all by
    default) with the evaluation holes, judged by the three classifiers (`lib.evaluation.accuracy_summary`),
    recorded in `lib.runs.seed_scores_record` as ``{"scores": {run: {seed: summary}}}``."""
    started = time.perf_counter()
    originals, labels = evaluation_digits(digits)
    masks = evaluation.evaluation_masks(len(originals))
    corrupted, classifiers = data.apply_mask(originals, masks), evaluation.load_classifiers()
    scores = {}
    for name, folder in PAPER_GAN_RUNS.items():
        for seed in PAPER_GAN_SEEDS:
            run = runs.open(folder(seed))
            filled = evaluation.generator_method(run.generator(), run.config)(corrupted, masks)
            predictions = {judge: evaluation.classify(model, filled) for judge, model in classifiers.items()}
            scores.setdefault(name, {})[str(seed)] = evaluation.accuracy_summary(predictions, labels)
    record = {"scores": scores, "digits": len(originals), "classifier_seeds": list(classifiers)}
    return _timed_record(runs.seed_scores_record(runs.mode_root()), record, started)
