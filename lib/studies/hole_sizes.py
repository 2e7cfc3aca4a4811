"""The hole-size study (chapter 6, appendix B): every method (no inpainting, OpenCV's two, the
paper's GAN and the book's models) at centred holes of 8 to 16 pixels and at the paper's hole,
judged by the three classifiers, by the cross-check ones and by the realism detector, on all
10,000 test digits; the targets for the recommended model.
"""
from __future__ import annotations

import numpy as np

from lib import artifacts, classifiers, commands, evaluation, holes, inpainting, realism, records, runs
from lib.config import CROSS_CHECK_CLASSIFIER


def record_path(root=()):
    return runs.path(*root, "studies", "hole_sizes.json")


def hole_size_study(methods, originals, labels, judges, sizes=holes.HOLE_SIZES):
    """Accuracy (mean, sd over classifiers) of every method for centred holes of each size and
    for the paper's jittered 8x8 hole; returns ``(curves, results)`` where ``curves`` maps a
    method to ``{size: (mean, sd)}`` and ``results`` maps a hole label to `lib.evaluation.evaluate`'s output."""
    results = {holes.label(hole): evaluation.evaluate(methods, originals, labels, holes.masks(len(originals), hole),
                                                       judges) for hole in (*sizes, holes.PAPER_HOLE)}
    return hole_size_curves(results, sizes), results


def hole_size_curves(by_hole, sizes=holes.HOLE_SIZES):
    """``{method: {size: (mean, sd)}}``: each method's accuracy against the centre-hole size, from
    `hole_size_study`'s results or a record of them (`lib.evaluation.scores_only`)."""
    labels = [holes.label(size) for size in sizes]
    missing = [label for label in labels if label not in by_hole]
    if missing or not sizes:
        raise ValueError(f"by_hole has no results for the holes {missing or 'of no size'}")
    methods = by_hole[labels[0]]
    return {name: {size: (by_hole[label][name]["accuracy_mean"], by_hole[label][name]["accuracy_sd"])
                   for size, label in zip(sizes, labels)} for name in methods}


def accuracy_table(by_hole):
    """Chapter 6's accuracy table: ``{hole: {method: "mean ± sd"}}`` in percent, one decimal, from
    `hole_size_study`'s or `reclassify`'s results (a DataFrame of it has a column per hole)."""
    if not by_hole:
        raise ValueError("accuracy_table needs the results of at least one hole")
    return {hole: {name: evaluation.accuracy_cell(result, decimals=1) for name, result in results.items()}
            for hole, results in by_hole.items()}


def reclassify(by_hole, labels, judges):
    """`hole_size_study`'s inpainted digits classified again, by other ``judges`` (classifiers by
    seed, e.g. the cross-check ones): ``{hole: {method: {"accuracies", "accuracy_mean",
    "accuracy_sd"}}}`` (`evaluation.accuracy_summary`), which `accuracy_table` and
    `target_report` read as they read `hole_size_study`'s."""
    labels = np.asarray(labels)
    if labels.ndim != 1 or not np.issubdtype(labels.dtype, np.integer) or not ((labels >= 0) & (labels <= 9)).all():
        raise ValueError(f"labels must be a 1-D array of digits 0..9, got shape {labels.shape}, dtype {labels.dtype}")
    if not by_hole or not all(by_hole.values()):
        raise ValueError("reclassify needs hole-size results, with at least one method at every hole")
    if not judges:
        raise ValueError("reclassify needs at least one classifier")
    results = {}
    for hole, methods in by_hole.items():
        results[hole] = {}
        for name, result in methods.items():
            if "inpainted" not in result or len(result["inpainted"]) != len(labels):
                raise ValueError(f"the {name!r} result for the {hole} hole needs inpainted digits, one per label "
                                 f"({len(labels)} labels)")
            predictions = {seed: classifiers.classify(model, result["inpainted"]) for seed, model in judges.items()}
            results[hole][name] = evaluation.accuracy_summary(predictions, labels)
    return results


# The book's goals for the recommended model (issue 5): mean accuracy over the classifiers, by hole.
TARGETS = {"paper": 0.985, 12: 0.93, 14: 0.85}


def target_report(by_hole, method="recommended", targets=None):
    """Which targets ``method`` meets in ``by_hole`` (`hole_size_study`'s or `reclassify`'s
    results), as rows for a table: one per target (``{hole: goal}``, goals as fractions; default
    `TARGETS`) with the mean accuracy in percent (text, two decimals), then whether it is the
    best method (no other has a higher mean) at every hole."""
    targets = TARGETS if targets is None else targets
    if not isinstance(targets, dict) or not targets or not all(0 < goal <= 1 for goal in targets.values()):
        raise ValueError(f"targets must map holes to goals in (0, 1] (fractions, not percent), got {targets!r}")
    if not by_hole or not all(method in results for results in by_hole.values()):
        raise ValueError(f"by_hole must hold a {method!r} result at every hole")
    rows = []
    for hole, goal in targets.items():
        label = holes.label(hole)
        if label not in by_hole:
            raise ValueError(f"by_hole has no {method!r} result for the {label} hole")
        value = by_hole[label][method]["accuracy_mean"]
        rows.append({"target": f"{label} >= {100 * goal:g} %", "accuracy %": f"{100 * value:.2f}",
                     "met": bool(value >= goal - evaluation.SAME_ACCURACY)})
    best = all(results[method]["accuracy_mean"] >= max(r["accuracy_mean"] for r in results.values()) - evaluation.SAME_ACCURACY
               for results in by_hole.values())
    rows.append({"target": "best method at every hole", "accuracy %": "", "met": best})
    return rows


# ---------------------------------------------------------------- the record

# The models by their method names, in the order the book builds them.
MODELS = {"paper gan": "paper", "recommended": "recommended", "realistic": "realistic", "book": "book"}
METHODS = (*evaluation.standard_methods(), *MODELS)


def hole_size_methods(names=None):
    """Chapter 6's methods: no inpainting, both OpenCV methods and the shipped and earlier models
    (`MODELS`); ``names`` picks some of them, and only their models are loaded."""
    models, known = MODELS, list(METHODS)
    if names is not None and (not names or set(names) - set(known)):
        raise ValueError(f"names must be some of {known}, got {names!r}")
    wanted = known if names is None else names
    methods = evaluation.standard_methods({method: inpainting.load_inpainter(model)
                                           for method, model in models.items() if method in wanted})
    return {name: method for name, method in methods.items() if name in wanted}


def run_hole_size_study(digits=None, sizes=holes.HOLE_SIZES, judge=None, methods=None, root=()):
    """Chapter 6's study on the first ``digits`` test digits (all by default), recorded in
    `record_path`: every method of `hole_size_methods` at every hole (`hole_size_study`), the same
    fills judged by the cross-check classifiers (`reclassify`), and their realism
    (`lib.realism.add_realism`; the book's judge unless ``judge`` is given) with the real-digit
    floor of the Fréchet distance. ``methods``: score only these and merge them into the committed
    record (same digits, holes and detectors), leaving the others' scores as they are (each
    method's detectors are its own)."""
    record = records.Record(record_path(root))
    originals, labels = evaluation.test_digits(digits)
    scored = hole_size_methods(methods)
    _, results_by_hole = hole_size_study(scored, originals, labels, classifiers.load_classifiers(), sizes=sizes)
    cross_check = reclassify(results_by_hole, labels, classifiers.load_classifiers(config=CROSS_CHECK_CLASSIFIER))
    judge = judge or realism.default_judge()
    for results in results_by_hole.values():
        realism.add_realism(results, originals, judge)
    record.update(by_hole={hole: {name: evaluation.scores_only(result) for name, result in results.items()}
                           for hole, results in results_by_hole.items()},
                  cross_check=cross_check, frechet_floor=judge.frechet(originals), digits=len(originals),
                  holes=list(results_by_hole), methods=list(scored),  # the tables' order
                  sizes=list(sizes), detector_seeds=list(judge.seeds), detector_digits=realism.detector_digits())
    if methods is not None:
        earlier = artifacts.load_json(record.path)
        record.update(merged_study(earlier, record))
        record.started -= earlier["wall_seconds"]  # the record's seconds stay those of all its scoring
    return record.close()


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


def committed_record():
    """The committed study's record (`run_hole_size_study`'s)."""
    return artifacts.load_json(record_path())


def committed(part="by_hole"):
    """The committed study, ``{hole: {method: scores}}`` (`lib.records.by_hole`): the classifiers'
    scores, or with ``part="cross_check"`` the cross-check classifiers'."""
    return records.by_hole(committed_record(), part)


COMMANDS = (
    commands.Command("hole-size-study", run_hole_size_study, "chapter 6: every method at every hole", (
        commands.choice("--methods", METHODS, many=True,
                        what="score only these methods and merge them into the committed record"),),
        report=records.seconds),
)
