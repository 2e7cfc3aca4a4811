"""The ablation (chapter 6): the paper's generator improved one change at a time, each variant
trained for `ABLATION_EPOCHS`; the changes that measurably help, kept and combined into the
recommended model (trained for its own budget); and the table of every variant scored on all
10,000 test digits.
"""
from __future__ import annotations

import numpy as np

from lib import artifacts, checks, classifiers, commands, data, evaluation, holes, records, runs, shipped, training
from lib.config import (
    ABLATION_EPOCHS, CANDIDATE_BASELINE, CANDIDATE_CHANGES, PAPER, RECOMMENDED_EPOCHS, VARIANTS, combined_name,
    variant_base, variant_named,
)
from lib.commands import Option
from lib.studies import paper_gan


def run_folder(name, epochs, seed=0, root=(), suffix=""):
    """A named variant trained for ``epochs`` epochs (``suffix`` tells runs of the same variant
    with other speed settings apart, e.g. ``"-bfloat16"``)."""
    return runs.path(*root, "variants", f"{runs.slug(name)}-{checks.count(epochs, 'epochs', 1)}ep{suffix}",
                     runs.seed_name(seed))


def committed_folder(name, epochs, seed=0):
    """A committed variant's folder; 'paper' is the paper's 6-epoch run, whatever ``epochs``."""
    return paper_gan.run_folder(seed) if name == "paper" else run_folder(name, epochs, seed)


def recommended_record(root=()):
    """The record of the choice: the recommended variant and its training budget."""
    return runs.path(*root, "variants", "recommended.json")


def recommendation(root=()):
    """The committed choice (`choose_recommended`'s record): the candidates' scores, the paired
    comparisons, the chosen variant and its budget."""
    return artifacts.load_json(recommended_record(root))


def recommended_run(root=()):
    """The recommended variant's name and the epochs it was trained for."""
    path = recommended_record(root)
    record = artifacts.load_json(path)
    return artifacts.record_field(record, path, "chosen", checks.text), checks.count(record.get("epochs", PAPER.epochs),
                                                                                    f"{path}: epochs")


def table_record(root=()):
    return runs.path(*root, "studies", "ablation.json")


# ---------------------------------------------------------------- training

def run_variant(name, epochs, seed=0, root=(), verbose=2, config=None, folder=None):
    """Train one named variant (`lib.config.VARIANTS`, or ``config`` if given) for ``epochs``
    epochs, with the probe, in its standard folder (or ``folder``)."""
    base_config = variant_named(name)  # checks the name before any work
    epochs = training.budget_epochs(epochs)
    config = (config or base_config).variant(name, epochs=epochs)
    run = training.train(config, folder or run_folder(name, epochs, seed, root), seed, verbose=verbose)
    print(f"{name} ({epochs} epochs, seed {seed}): {run.record['wall_seconds']} s, final probe {run.probe[-1]}",
          flush=True)
    return run


def run_ablation(seeds=(0,), epochs=ABLATION_EPOCHS, root=()):
    """Every change of chapter 6 added one at a time (the paper's row is its committed 6-epoch run)."""
    for seed in seeds:
        for name in list(VARIANTS)[1:]:
            run_variant(name, epochs, seed, root)


def run_variants(name, seeds=(0,), epochs=ABLATION_EPOCHS, root=()):
    for seed in seeds:
        run_variant(name, epochs, seed, root)


def run_recommended(seeds=(0,), root=()):
    """Choose from the ablation (`choose_recommended`), then train the choice for its own budget;
    seed 0 ships as the "recommended" inpainter."""
    name = choose_recommended(root=root)
    for seed in seeds:
        run = run_variant(name, recommended_run(root)[1], seed, root)
        if seed == 0:
            shipped.register("recommended", run.folder, root)


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


def choose_recommended(epochs=ABLATION_EPOCHS, hole_size=14, digits=2000, final_epochs=None, root=()):
    """Keep the candidate changes that measurably help, and combine them.

    The baseline run (the last cumulative change) and each candidate change on top of it, all
    trained for ``epochs`` epochs, inpaint ``digits`` *training* digits with centred
    ``hole_size`` holes (the hard case; the test set is never used to choose). A candidate is
    kept if it beats the baseline by more than two standard errors of the paired difference
    (`paired_gain`); the decision goes to `recommended_record`."""
    (x_train, y_train), _ = data.load_mnist()
    originals, labels = data.to_model_input(x_train[-digits:]), y_train[-digits:]
    masks = data.centre_masks(digits, hole_size)
    classifier = classifiers.load_classifier(0)
    correct = {}
    for name in (CANDIDATE_BASELINE, *CANDIDATE_CHANGES):
        run = runs.open(run_folder(name, epochs, root=root))
        filled = evaluation.generator_method(run.generator(), run.config)(data.apply_mask(originals, masks), masks)
        correct[name] = classifiers.classify(classifier, filled) == labels
    comparisons = {}
    for name in CANDIDATE_CHANGES:
        gain, standard_error = paired_gain(correct[name], correct[CANDIDATE_BASELINE])
        comparisons[name] = {"gain": gain, "standard_error": standard_error, "kept": gain > 2 * standard_error}
    chosen = combined_name(name for name in CANDIDATE_CHANGES if comparisons[name]["kept"])
    decision = {"chosen": chosen, "epochs": final_epochs or RECOMMENDED_EPOCHS, "baseline": CANDIDATE_BASELINE,
                "criterion": f"accuracy on the last {digits} training digits, {hole_size}px centre holes; a change "
                "is kept if it gains more than 2 standard errors (paired) over the baseline",
                "scores": {name: float(values.mean()) for name, values in correct.items()},
                "comparisons": comparisons, "ablation_epochs": epochs}
    artifacts.save_record(recommended_record(root), decision)
    print("recommended:", decision, flush=True)
    return chosen


# ---------------------------------------------------------------- chapter 6's table

# Chapter 6's longer rows: the kept changes at shorter budgets (constant learning rates), then
# with the decay over 24 epochs, beside the recommended model at its own budget.
ABLATION_LONGER = (("+ global context + centred holes", 12), ("+ global context + centred holes + learning-rate decay", 24))
ABLATION_EXTRA_HOLE = 14  # a second accuracy column: the hard centred hole the recommendation was chosen on


def ablation_results(originals, labels, masks, judges, epochs=ABLATION_EPOCHS, recommended=None, extra_holes=None,
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
        run = runs.open(committed_folder(name, run_epochs))
        method = {name: evaluation.generator_method(run.generator(), run.config)}
        result = evaluation.evaluate(method, originals, labels, masks, judges)[name]
        row = {
            "variant": label, "built on": (variant_base(name) or "") if label == name else name,
            "epochs": run.config.epochs, "accuracy %": evaluation.accuracy_cell(result),
            "hole L1": round(result["hole_l1"], 4), "hole PSNR dB": round(result["hole_psnr"], 2),
            "SSIM": round(result["ssim"], 4), "training minutes": round(run.record["wall_seconds"] / 60, 1),
        }
        for hole, extra_masks in (extra_holes or {}).items():
            row[f"accuracy % ({hole})"] = evaluation.accuracy_cell(
                evaluation.evaluate(method, originals, labels, extra_masks, judges)[name])
        rows.append(row)
    return rows


def run_ablation_table(digits=None, root=()):
    """Chapter 6's table (`ablation_results`) scored on the first ``digits`` test digits (all by
    default) and recorded in `table_record`: every ablation step, the longer runs of
    `ABLATION_LONGER` and the recommended model, each also on 14x14 holes."""
    record = records.Record(table_record(root))
    originals, labels = evaluation.test_digits(digits)
    rows = ablation_results(
        originals, labels, holes.evaluation_masks(len(originals)), classifiers.load_classifiers(),
        recommended=recommended_run(), longer=ABLATION_LONGER,
        extra_holes={holes.label(ABLATION_EXTRA_HOLE): holes.masks(len(originals), ABLATION_EXTRA_HOLE)})
    record.update(rows=rows, columns=list(rows[0]) if rows else [], digits=len(originals),  # JSON sorts keys:
                  classifier_seeds=list(classifiers.CLASSIFIER_SEEDS))  # the columns keep their order
    return record.close()


def committed_table():
    """Chapter 6's table as committed (`run_ablation_table`'s record)."""
    return artifacts.load_json(table_record())


def table_rows():
    """Chapter 6's table as committed: one row per variant, its columns in the study's order."""
    rows, columns = artifacts.load_fields(table_record(), rows=checks.sequence, columns=checks.sequence)
    return [{column: row[column] for column in columns} for row in rows]


COMMANDS = (
    commands.Command("ablation", run_ablation, "chapter 6: every variant, 2 epochs each",
                     (commands.seeds(), commands.epochs(ABLATION_EPOCHS))),
    commands.Command("variant", run_variants, "one variant of chapter 6", (
        Option("--name", dict(type=commands.argument(commands.variant_name), required=True, help=(
            "the variant: a name of lib.config.VARIANTS or a combination of their changes"))), commands.seeds(),
        commands.epochs(ABLATION_EPOCHS))),
    commands.Command("recommended", run_recommended, "choose from the ablation, train the choice for its budget",
                     (commands.seeds(),)),
    commands.Command("ablation-table", run_ablation_table, "chapter 6's table: every variant scored",
                     report=records.seconds),
)
