"""The pure functions behind the chapters' tables: ablation, hole sizes, targets, the ceiling,
and the summaries of training runs. They read committed runs and score them; they train nothing."""
from __future__ import annotations

import numpy as np

from lib import artifacts, checks, collapse, data, evaluation, runs
from lib.config import ABLATION_EPOCHS, CLASSIFIER, PAPER, VARIANTS, variant_base


def paired_gain(correct_change, correct_baseline):
    """Accuracy gain of a change over a baseline scored on the same digits, and the standard
    error of that paired difference (McNemar: sqrt(b + c) / n, where b and c count the digits
    that only one of the two gets right)."""
    correct_change, correct_baseline = np.asarray(correct_change), np.asarray(correct_baseline)
    if correct_change.dtype != bool or correct_baseline.dtype != bool:
        raise ValueError("paired_gain needs boolean arrays: which digits each model classified correctly")
    if correct_change.shape != correct_baseline.shape or correct_change.ndim != 1 or not len(correct_change):
        raise ValueError("paired_gain needs two non-empty 1-D arrays of the same length")
    only_change = int((correct_change & ~correct_baseline).sum())
    only_baseline = int((correct_baseline & ~correct_change).sum())
    digits = len(correct_change)
    return (only_change - only_baseline) / digits, (only_change + only_baseline) ** 0.5 / digits


def _accuracy_cell(result, decimals=2):
    """``"mean ± sd"`` in percent, from a result with the keys of `evaluation.accuracy_summary`."""
    if not isinstance(result, dict) or not {"accuracy_mean", "accuracy_sd"} <= result.keys():
        raise ValueError(f"expected a result with accuracy_mean and accuracy_sd, got {result!r:.80}")
    return f"{100 * result['accuracy_mean']:.{decimals}f} ± {100 * result['accuracy_sd']:.{decimals}f}"


def ablation_results(originals, labels, masks, classifiers, epochs=ABLATION_EPOCHS, recommended=None, extra_holes=None,
                     longer=()):
    """Every ablation step scored with the evaluation protocol, plus its training record; with
    ``longer=((name, epochs), ...)`` rows for other committed longer runs (an earlier
    recommendation, say), ``recommended=(name, epochs)`` a last row for the recommended model at
    its full budget, and with ``extra_holes={label: masks}`` one more accuracy column per hole."""
    rows_to_score = [(name, name, epochs) for name in VARIANTS]
    rows_to_score += [(f"{name}, {run_epochs} epochs", name, run_epochs) for name, run_epochs in longer]
    if recommended is not None:
        name, final_epochs = recommended
        rows_to_score.append((f"recommended, {final_epochs} epochs", name, final_epochs))
    rows = []
    for label, name, run_epochs in rows_to_score:
        run = runs.open(runs.committed_variant(name, run_epochs))
        method = {name: evaluation.generator_method(run.generator(), run.config)}
        result = evaluation.evaluate(method, originals, labels, masks, classifiers)[name]
        row = {
            "variant": label, "built on": (variant_base(name) or "") if label == name else name,
            "epochs": run.config.epochs, "accuracy %": _accuracy_cell(result),
            "hole L1": round(result["hole_l1"], 4), "hole PSNR dB": round(result["hole_psnr"], 2),
            "SSIM": round(result["ssim"], 4), "training minutes": round(run.record["wall_seconds"] / 60, 1),
        }
        for hole, extra_masks in (extra_holes or {}).items():
            row[f"accuracy % ({hole})"] = _accuracy_cell(
                evaluation.evaluate(method, originals, labels, extra_masks, classifiers)[name])
        rows.append(row)
    return rows


HOLE_SIZES = (8, 10, 12, 14, 16)


def hole_size_study(methods, originals, labels, classifiers, sizes=HOLE_SIZES):
    """Accuracy (mean, sd over classifiers) of every method for centred holes of each size and
    for the paper's jittered 8x8 hole; returns ``(curves, results)`` where ``curves`` maps a
    method to ``{size: (mean, sd)}`` and ``results`` maps a hole label to `evaluate`'s output."""
    results = {hole_label(hole): evaluation.evaluate(methods, originals, labels, hole_masks(len(originals), hole),
                                                      classifiers) for hole in (*sizes, "paper")}
    return hole_size_curves(results, sizes), results


def hole_size_curves(by_hole, sizes=HOLE_SIZES):
    """``{method: {size: (mean, sd)}}``: each method's accuracy against the centre-hole size, from
    `hole_size_study`'s results or a record of them (`scores_only`)."""
    labels = [hole_label(size) for size in sizes]
    missing = [label for label in labels if label not in by_hole]
    if missing or not sizes:
        raise ValueError(f"by_hole has no results for the holes {missing or 'of no size'}")
    methods = by_hole[labels[0]]
    return {name: {size: (by_hole[label][name]["accuracy_mean"], by_hole[label][name]["accuracy_sd"])
                   for size, label in zip(sizes, labels)} for name in methods}


def recorded_by_hole(record, part="by_hole"):
    """``{hole: {method: scores}}`` of a `lib.scoring` record (`run_hole_size_study`'s or
    `run_shipped_check`'s), in the study's order of holes and methods (JSON keeps keys sorted):
    its ``"by_hole"`` or ``"cross_check"``."""
    if part not in ("by_hole", "cross_check"):
        raise ValueError(f"part must be 'by_hole' or 'cross_check', got {part!r}")
    if not isinstance(record, dict) or not {part, "holes", "methods"} <= record.keys():
        raise ValueError(f"expected a hole-size study record with {part!r}, 'holes' and 'methods'")
    try:
        return {hole: {name: record[part][hole][name] for name in record["methods"]} for hole in record["holes"]}
    except KeyError as missing:
        raise ValueError(f"the hole-size study record has no {part} entry for {missing}") from None


PER_DIGIT = ("inpainted", "predictions")  # the arrays of a result, which a record leaves out


def scores_only(result):
    """An `evaluation.evaluate` result (with realism, if added) without its per-digit arrays: the
    numbers a committed record keeps, readable by `accuracy_table`, `ceiling_table` and
    `lib.realism.realism_by_hole` as the full result is."""
    if not isinstance(result, dict) or "accuracy_mean" not in result:
        raise ValueError(f"expected a result of lib.evaluation.evaluate, got {result!r:.80}")
    return {key: value for key, value in result.items() if key not in PER_DIGIT}


def accuracy_table(by_hole):
    """Chapter 6's accuracy table: ``{hole: {method: "mean ± sd"}}`` in percent, one decimal, from
    `hole_size_study`'s or `reclassify`'s results (a DataFrame of it has a column per hole)."""
    if not by_hole:
        raise ValueError("accuracy_table needs the results of at least one hole")
    return {hole: {name: _accuracy_cell(result, decimals=1) for name, result in results.items()}
            for hole, results in by_hole.items()}


def reclassify(by_hole, labels, classifiers):
    """`hole_size_study`'s inpainted digits classified again, by other ``classifiers`` (a dict by
    seed, e.g. the cross-check ones): ``{hole: {method: {"accuracies", "accuracy_mean",
    "accuracy_sd"}}}`` (`evaluation.accuracy_summary`), which `accuracy_table` and
    `target_report` read as they read `hole_size_study`'s."""
    labels = np.asarray(labels)
    if labels.ndim != 1 or not np.issubdtype(labels.dtype, np.integer) or not ((labels >= 0) & (labels <= 9)).all():
        raise ValueError(f"labels must be a 1-D array of digits 0..9, got shape {labels.shape}, dtype {labels.dtype}")
    if not by_hole or not all(by_hole.values()):
        raise ValueError("reclassify needs hole-size results, with at least one method at every hole")
    if not classifiers:
        raise ValueError("reclassify needs at least one classifier")
    results = {}
    for hole, methods in by_hole.items():
        results[hole] = {}
        for name, result in methods.items():
            if "inpainted" not in result or len(result["inpainted"]) != len(labels):
                raise ValueError(f"the {name!r} result for the {hole} hole needs inpainted digits, one per label "
                                 f"({len(labels)} labels)")
            predictions = {seed: evaluation.classify(model, result["inpainted"]) for seed, model in classifiers.items()}
            results[hole][name] = evaluation.accuracy_summary(predictions, labels)
    return results


# The book's goals for the recommended model (issue 5): mean accuracy over the classifiers, by hole.
TARGETS = {"paper": 0.985, 12: 0.93, 14: 0.85}
SAME_ACCURACY = 1e-9  # means closer than this are equal: float sums must not decide a target or a tie


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
        label = hole_label(hole)
        if label not in by_hole:
            raise ValueError(f"by_hole has no {method!r} result for the {label} hole")
        value = by_hole[label][method]["accuracy_mean"]
        rows.append({"target": f"{label} >= {100 * goal:g} %", "accuracy %": f"{100 * value:.2f}",
                     "met": bool(value >= goal - SAME_ACCURACY)})
    best = all(results[method]["accuracy_mean"] >= max(r["accuracy_mean"] for r in results.values()) - SAME_ACCURACY
               for results in by_hole.values())
    rows.append({"target": "best method at every hole", "accuracy %": "", "met": best})
    return rows


CEILING_MASK_SEED = 7  # the jittered paper holes of the training digits (the test digits use the evaluation holes)
NO_HOLE = "none"  # clean digits: the accuracy a classifier recipe reaches when nothing is missing
LONG_CEILING_EPOCHS = 10  # a longer-trained classifier for a tighter estimate than the paper's 3 epochs


def hole_label(hole):
    """How the tables name a hole: ``"14x14 centre"`` for a centre size, or the paper's hole."""
    if hole == NO_HOLE:
        return "no hole"
    if hole == "paper":
        return "paper (8x8 jittered)"
    data.centre_masks(0, hole)  # checks the centre size
    return f"{hole}x{hole} centre"


def hole_masks(n, hole, train=False):
    """The masks of one hole of the hole-size study: ``hole`` is a centre size in pixels,
    ``"paper"`` (the jittered 8x8 hole; evaluation holes for test digits, others for training)
    or ``"none"`` (nothing missing)."""
    if hole == NO_HOLE:
        return np.zeros((checks.count(n), PAPER.image_size, PAPER.image_size), bool)
    if hole == "paper":
        return data.paper_masks(n, CEILING_MASK_SEED) if train else evaluation.evaluation_masks(n)
    return data.centre_masks(n, hole)


def ceiling_table(by_hole, method="recommended", budgets=(CLASSIFIER.epochs, LONG_CEILING_EPOCHS)):
    """Appendix B's "what limits it" table, as rows by hole (`hole_label`): ``method``'s accuracy
    (percent, shipped classifier) in ``by_hole`` (`hole_size_study`'s results) next to the
    committed ceiling records, one column per classifier budget in ``budgets``. The first row,
    no hole, holds the shipped classifier's clean accuracy (a composited inpainting of nothing
    is the digit itself) and each budget's classifier on clean digits."""
    records = {epochs: artifacts.load_json(runs.ceiling_record(epochs))["results"] for epochs in budgets}
    shipped = artifacts.load_json(runs.classifier_record(evaluation.SHIPPED_CLASSIFIER_SEED))["clean_test_accuracy"]
    rows = {}
    for hole in (NO_HOLE, "paper", *HOLE_SIZES):
        label = hole_label(hole)
        if hole != NO_HOLE and (label not in by_hole or method not in by_hole[label]):
            raise ValueError(f"by_hole has no {method!r} result for the {label} hole")
        accuracy = shipped if hole == NO_HOLE else by_hole[label][method]["accuracy"]
        row = {f"{method}, shipped classifier %": round(100 * accuracy, 1)}
        for epochs, results in records.items():
            value = results.get(str(hole), {}).get("accuracy")
            row[f"trained on corrupted digits, {epochs} epochs %"] = None if value is None else round(100 * value, 1)
        rows[label] = row
    return rows


# ---------------------------------------------------------------- training runs

def history_arrays(run):
    """A run's per-iteration history as one NumPy array per column."""
    history = run.history
    return {key: np.array([row[key] for row in history]) for key in history[0]}


def summarise_run(run, last=100, collapse_share=0.9):
    """The facts chapter 3 reports for one run: speed, the final losses and accuracies over the
    last ``last`` iterations, the probe accuracy, and the epochs at whose end at least
    ``collapse_share`` of the probe digits were classified as one and the same digit."""
    history = history_arrays(run)
    checks.count(last, "last", minimum=1)
    epoch_ends = list({row["epoch"]: row for row in run.probe}.values())  # the last probe of each epoch
    return {
        "seed": run.seed, "iterations": len(history["step"]),
        "wall_minutes": round(run.record.get("wall_seconds", float("nan")) / 60, 1),
        **{f"{key} (last {last})": round(float(history[key][-last:].mean()), 3)
           for key in ("d_loss_real", "d_loss_fake", "g_loss", "d_acc_real", "d_acc_fake")},
        "probe accuracy at the end": run.probe[-1]["accuracy"] if run.probe else None,
        "best probe accuracy": max(row["accuracy"] for row in run.probe) if run.probe else None,
        "collapsed at end of epochs": [row["epoch"] for row in epoch_ends if row["top_class_share"] >= collapse_share],
    }


def paper_runs(seeds=(0, 1, 2)):
    """The committed full runs of the paper's GAN, by seed (checksums verified)."""
    return {seed: runs.open(runs.paper_gan(seed)) for seed in seeds}


def collapse_outcomes(root=(), committed_paper_seeds=(0, 1, 2)):
    """Every finished run of the collapse study, ``{recipe: [outcome, ...]}`` by seed
    (`lib.collapse.outcome` at the end of each run's budget).

    The paper's recipe also counts the committed 6-epoch runs (``committed_paper_seeds``) of
    seeds the study did not train again, read at the end of the study's budget: with constant
    learning rates and batches that depend on (seed, epoch) alone, the first epochs of a longer
    run follow the shorter run's recipe, though not bit for bit (multithreaded sums vary from run
    to run; appendix A compares seed 0 trained both ways). Each outcome says where it comes from
    (``"source"``)."""
    summary = {}
    for name in collapse.RECIPES:
        recipe_folder = runs.collapse_run(name, 0, root).parent
        finished = [runs.open(folder) for folder in recipe_folder.glob("seed*") if runs.status(folder) == "finished"]
        outcomes = [{**collapse.outcome(run.probe, run.seed, run.config.epochs), "source": "collapse study"}
                    for run in finished]
        if name == "paper" and not root:
            studied = {row["seed"] for row in outcomes}
            for seed in committed_paper_seeds:
                if seed not in studied and runs.status(runs.paper_gan(seed)) == "finished":
                    run = runs.open(runs.paper_gan(seed))
                    outcomes.append({**collapse.outcome(run.probe, seed, collapse.DECIDING_EPOCHS),
                                     "source": f"the committed {run.config.epochs}-epoch run"})
        if outcomes:
            summary[name] = sorted(outcomes, key=lambda row: row["seed"])
    # The smallest fix trained for the paper's budget (`lib.recipes.run_fixed_paper_gan`): its own
    # row, under its budget, so that its seeds are not counted twice with the study's.
    fixed = [runs.open(folder) for folder in runs.fixed_paper_gan(0, root).parent.glob("seed*")
             if runs.status(folder) == "finished"]
    for run in sorted(fixed, key=lambda run: run.seed):
        key = f"{run.config.name}, {run.config.epochs} epochs"
        summary.setdefault(key, []).append({**collapse.outcome(run.probe, run.seed, run.config.epochs),
                                            "source": "the fix at the paper's budget"})
    return summary
