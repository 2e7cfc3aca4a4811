"""Command-line entry point for the runs whose outputs the book commits.

    python -m lib.experiments classifier --seeds 0 1 2
    python -m lib.experiments cross-check-classifier --seeds 0 1 2   # another architecture (chapter 8)
    python -m lib.experiments paper-gan --seeds 0 1 2
    python -m lib.experiments ablation                      # every variant, 2 epochs each
    python -m lib.experiments recommended                   # choose from the ablation, train 40 epochs
    python -m lib.experiments ceiling                       # classifiers trained on corrupted digits
    python -m lib.experiments ceiling --epochs 10 --holes none paper 12   # longer-trained ones, some holes
    python -m lib.experiments speed-study                   # chapter 4's speed options against float32, 2 seeds

Each run writes into ``artifacts/`` atomically and resumes from its last checkpoint if it was
interrupted; a finished run is left as it is.
"""
from __future__ import annotations

import argparse
import json
import shutil
import time

import numpy as np

from lib import artifacts, data, evaluation, training
from lib.inpainting import RECOMMENDED_RECORD, paper_run_folder, recommended_name, recommended_run, variant_folder
from lib.config import (
    ABLATION_EPOCHS, CANDIDATE_BASELINE, CANDIDATE_CHANGES, CLASSIFIER, CROSS_CHECK_CLASSIFIER, PAPER, PROBE_SIZE,
    RECOMMENDED_EPOCHS, SNAPSHOT_MASK_SEED, VARIANTS, budget, combined_name, variant_base, variant_named,
)

SNAPSHOT_DIGITS = 20


def snapshot_indices(y_test):
    """Two test digits of each class: the per-epoch picture grid."""
    return [i for digit in range(10) for i in (y_test == digit).nonzero()[0][:2]]


def snapshot_inputs(x_test, y_test):
    """The snapshot digits corrupted with fixed holes: ``((corrupted, masks), labels)``."""
    indices = snapshot_indices(y_test)
    images = data.to_model_input(x_test[indices])
    masks = data.paper_masks(len(indices), SNAPSHOT_MASK_SEED)
    return (data.apply_mask(images, masks), masks), y_test[indices]


def probe_inputs(x_test, y_test, size=PROBE_SIZE):
    images = data.to_model_input(x_test[:size])
    masks = evaluation.evaluation_masks(size)
    return (data.apply_mask(images, masks), masks), y_test[:size]


def classifier_epochs(epochs, plan=None):
    """A classifier's training budget in the run mode of ``plan`` (default: the current one):
    ``epochs`` in full mode, at most the quick budget's classifier epochs in quick mode."""
    plan = budget() if plan is None else plan
    return int(epochs) if plan.mode == "full" else min(int(epochs), plan.classifier_epochs)


def run_classifiers(seeds, verbose=2, config=CLASSIFIER):
    """Train the shipped classifiers of ``seeds``: the paper's architecture, or with
    ``config=CROSS_CHECK_CLASSIFIER`` the cross-check one, for the epochs of ``config``."""
    folder = evaluation.classifier_folder(config)  # checks the config before any work
    (x_train, y_train), (x_test, y_test) = data.load_mnist()
    epochs = classifier_epochs(config.epochs)
    for seed in seeds:
        path = evaluation.classifier_path(seed, output_root(), config)
        if path.is_file():
            print(f"{folder} seed {seed}: already trained, kept")
            continue
        started = time.perf_counter()
        model = evaluation.train_classifier(x_train, y_train, seed, config, epochs=epochs, verbose=verbose)
        seconds = time.perf_counter() - started
        accuracy = float((evaluation.classify(model, data.to_model_input(x_test)) == y_test).mean())
        artifacts.save_weights(model, path)
        artifacts.save_json(evaluation.classifier_record_path(seed, output_root(), config), {
            "seed": seed, "epochs": epochs, "config": config.to_dict(),
            "clean_test_accuracy": accuracy, "wall_seconds": round(seconds, 1),
            "machine": training.machine_description(),
        })
        print(f"{folder} seed {seed}: clean test accuracy {accuracy:.4f} in {seconds:.0f} s", flush=True)


def train_paper_gan(folder, seed=0, plan=None, verbose=2, probe_every_steps=100):
    """The paper's GAN trained (or resumed, or loaded if finished) in ``folder`` with the budget
    ``plan`` (default: the current mode's), watched by the classifier probe."""
    plan = budget() if plan is None else plan
    (x_train, _), (x_test, y_test) = data.load_mnist()
    snapshots, _ = snapshot_inputs(x_test, y_test)
    probe, probe_labels = probe_inputs(x_test, y_test)
    config = PAPER.variant(PAPER.name, epochs=plan.gan_epochs)
    return training.train_gan(
        data.to_model_input(x_train[: plan.train_images]), folder, config, seed=seed, snapshot_inputs=snapshots,
        classifier=evaluation.load_classifier(0), probe_inputs=probe, probe_labels=probe_labels,
        probe_every_steps=probe_every_steps, verbose=verbose,
    )


def run_paper_gan(seeds, verbose=2, probe_every_steps=100):
    for seed in seeds:
        run = train_paper_gan(paper_run_folder(seed, output_root()), seed, verbose=verbose,
                              probe_every_steps=probe_every_steps)
        final = run.probe[-1] if run.probe else {}
        print(f"paper GAN seed {seed}: {len(run.history)} iterations, probe {final}", flush=True)


def output_root():
    """Runs started in quick mode go to artifacts/quick/, never over the committed full runs."""
    return ("quick",) if budget().mode == "quick" else ()


def run_variant(name, epochs, seed=0, verbose=2, probe_every_steps=100, config=None, folder=None):
    """Train one named variant (`lib.config.VARIANTS`, or ``config`` if given) for ``epochs``
    epochs, with the probe, in its standard folder (or ``folder``)."""
    base_config = variant_named(name)  # checks the name before any work
    (x_train, _), (x_test, y_test) = data.load_mnist()
    plan = budget()
    epochs = epochs if plan.mode == "full" else min(epochs, plan.gan_epochs)
    config = (config or base_config).variant(name, epochs=epochs)
    folder = folder or variant_folder(name, epochs, seed, output_root())
    snapshots, _ = snapshot_inputs(x_test, y_test)
    probe, probe_labels = probe_inputs(x_test, y_test)
    run = training.train_gan(
        data.to_model_input(x_train[: plan.train_images]), folder, config, seed=seed,
        snapshot_inputs=snapshots, classifier=evaluation.load_classifier(0), probe_inputs=probe,
        probe_labels=probe_labels, probe_every_steps=probe_every_steps, verbose=verbose,
    )
    print(f"{name} ({epochs} epochs, seed {seed}): {run.record.get('wall_seconds')} s, final probe {run.probe[-1]}",
          flush=True)
    return run


def run_ablation(epochs=ABLATION_EPOCHS, seed=0):
    """Every change of chapter 8 added one at a time (the paper's row is its committed 6-epoch run)."""
    for name in list(VARIANTS)[1:]:
        run_variant(name, epochs, seed)


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


def choose_recommended(epochs=ABLATION_EPOCHS, hole_size=14, digits=2000, final_epochs=RECOMMENDED_EPOCHS):
    """Keep the candidate changes that measurably help, and combine them.

    The baseline run (the last cumulative change) and each candidate change on top of it, all
    trained for ``epochs`` epochs, inpaint ``digits`` *training* digits with centred
    ``hole_size`` holes (the hard case: the paper's hole is too easy to separate them; the test
    set is never used to choose). A candidate is kept if its accuracy is higher than the
    baseline's by more than two standard errors of the paired difference; the recommended model
    is the baseline with every kept change (`lib.config.variant_named`). The decision, with the
    budget the chosen model is then trained for, goes to ``variants/recommended.json``."""
    (x_train, y_train), _ = data.load_mnist()
    originals = data.to_model_input(x_train[-digits:])
    labels = y_train[-digits:]
    masks = data.centre_masks(digits, hole_size)
    classifier = evaluation.load_classifier(0)
    correct = {}
    for name in (CANDIDATE_BASELINE, *CANDIDATE_CHANGES):
        generator = training.load_generator(variant_folder(name, epochs, root=output_root()), VARIANTS[name])
        filled = evaluation.generator_method(generator, VARIANTS[name])(data.apply_mask(originals, masks), masks)
        correct[name] = evaluation.classify(classifier, filled) == labels
    comparisons = {}
    for name in CANDIDATE_CHANGES:
        gain, standard_error = paired_gain(correct[name], correct[CANDIDATE_BASELINE])
        comparisons[name] = {"gain": gain, "standard_error": standard_error, "kept": gain > 2 * standard_error}
    chosen = combined_name(name for name in CANDIDATE_CHANGES if comparisons[name]["kept"])
    decision = {"chosen": chosen, "epochs": final_epochs, "baseline": CANDIDATE_BASELINE,
                "criterion": f"accuracy on the last {digits} training digits, {hole_size}px centre holes; a change "
                "is kept if it gains more than 2 standard errors (paired) over the baseline",
                "scores": {name: float(values.mean()) for name, values in correct.items()},
                "comparisons": comparisons, "ablation_epochs": epochs}
    artifacts.save_json(artifacts.run_dir(*output_root(), "variants") / RECOMMENDED_RECORD, decision)
    print("recommended:", decision, flush=True)
    return chosen


def load_paper_runs(seeds=(0, 1, 2)):
    """The committed full runs of the paper's GAN, by seed (checksums verified)."""
    return {seed: training.load_run(paper_run_folder(seed)) for seed in seeds}


RETRAINED_FOLDER = "retrained"  # under artifacts/, ignored by git: a reader's own full runs


def demonstration_run(seed=0, train_full=False, verbose=2):
    """Chapter 4's live run. By default it follows the run mode: in full mode it loads the
    committed run of ``seed`` (instantly), in quick mode it trains two short epochs afresh in
    ``artifacts/quick/demonstration``. ``train_full=True`` trains the paper's complete budget from scratch
    whatever the mode (minutes on a GPU, about 20 on two CPU cores), into
    ``artifacts/retrained/paper_gan/seed<seed>``, where an interrupted run resumes. (In full mode
    a seed without a committed run is trained into its committed-run folder.)"""
    if not isinstance(train_full, bool):
        raise ValueError(f"train_full must be True or False, got {train_full!r}")
    if train_full:
        folder = artifacts.run_dir(RETRAINED_FOLDER, "paper_gan", f"seed{int(seed)}")
        return train_paper_gan(folder, seed, budget("full"), verbose)
    plan = budget()
    if plan.mode == "full":
        return train_paper_gan(paper_run_folder(seed), seed, plan, verbose)
    folder = artifacts.run_dir("quick", "demonstration", f"seed{int(seed)}")
    shutil.rmtree(folder, ignore_errors=True)  # a fresh run every time, in one reused folder
    return train_paper_gan(folder, seed, plan, verbose)


def variant_run_folder(name, epochs, seed=0):
    """A committed variant's folder ('paper' is the 6-epoch paper run, whatever ``epochs``)."""
    return paper_run_folder(seed) if name == "paper" else variant_folder(name, epochs, seed)


def load_variant_generator(name, epochs, seed=0):
    """A committed variant's generator and configuration ('paper' is the 6-epoch paper run)."""
    config = PAPER if name == "paper" else variant_named(name)
    return training.load_generator(variant_run_folder(name, epochs, seed), config), config


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
    runs = [(name, name, epochs) for name in VARIANTS]
    runs += [(f"{name}, {run_epochs} epochs", name, run_epochs) for name, run_epochs in longer]
    if recommended is not None:
        name, final_epochs = recommended
        runs.append((f"recommended, {final_epochs} epochs", name, final_epochs))
    rows = []
    for label, name, run_epochs in runs:
        generator, config = load_variant_generator(name, run_epochs)
        method = {name: evaluation.generator_method(generator, config)}
        result = evaluation.evaluate(method, originals, labels, masks, classifiers)[name]
        record = artifacts.load_json(variant_run_folder(name, run_epochs) / training.RUN_RECORD)
        row = {
            "variant": label, "built on": (variant_base(name) or "") if label == name else name,
            "epochs": record["config"]["epochs"], "accuracy %": _accuracy_cell(result),
            "hole L1": round(result["hole_l1"], 4), "hole PSNR dB": round(result["hole_psnr"], 2),
            "SSIM": round(result["ssim"], 4), "training minutes": round(record["wall_seconds"] / 60, 1),
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
    curves = {name: {size: (results[hole_label(size)][name]["accuracy_mean"],
                            results[hole_label(size)][name]["accuracy_sd"]) for size in sizes}
              for name in methods}
    return curves, results


def accuracy_table(by_hole):
    """Chapter 8's accuracy table: ``{hole: {method: "mean ± sd"}}`` in percent, one decimal, from
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


def target_report(by_hole, method="improved", targets=None):
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


CEILING_RECORD = "corrupted_digit_accuracy.json"
CEILING_MASK_SEED = 7  # the jittered paper holes of the training digits (the test digits use the evaluation holes)
NO_HOLE = "none"  # clean digits: the accuracy a classifier recipe reaches when nothing is missing
LONG_CEILING_EPOCHS = 10  # a longer-trained classifier for a tighter estimate than the paper's 3 epochs


def ceiling_record(epochs=CLASSIFIER.epochs):
    """The ceiling record's file name: the evaluation classifiers' budget has the plain name,
    longer-trained classifiers one that says their epochs."""
    if isinstance(epochs, bool) or not isinstance(epochs, (int, np.integer)) or epochs < 1:
        raise ValueError(f"epochs must be an integer >= 1, got {epochs!r}")
    return CEILING_RECORD if int(epochs) == CLASSIFIER.epochs else CEILING_RECORD.replace(".json", f"-{int(epochs)}ep.json")


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
        return np.zeros((data.check_count(n), PAPER.image_size, PAPER.image_size), bool)
    if hole == "paper":
        return data.paper_masks(n, CEILING_MASK_SEED) if train else evaluation.evaluation_masks(n)
    return data.centre_masks(n, hole)


def run_ceiling(holes=("paper", *HOLE_SIZES), seed=0, epochs=None):
    """`evaluation.corrupted_digit_accuracy` for every hole of the hole-size study, written to
    ``artifacts/ceiling/`` under `ceiling_record` (``artifacts/quick/ceiling/...`` in quick
    mode). ``epochs``: the classifiers' budget, by default the evaluation classifiers' (quick
    mode caps it); a longer-trained classifier gives a tighter estimate."""
    if not holes:
        raise ValueError("run_ceiling needs at least one hole")
    for hole in holes:  # every hole checked before any work
        hole_label(hole)
    record_name = ceiling_record(CLASSIFIER.epochs if epochs is None else epochs)  # named by the budget asked for
    (x_train, y_train), (x_test, y_test) = data.load_mnist()
    plan = budget()
    epochs = classifier_epochs(plan.classifier_epochs if epochs is None else epochs, plan)
    x_train, y_train = x_train[: plan.train_images], y_train[: plan.train_images]
    results = {}
    for hole in holes:
        started = time.perf_counter()
        accuracy = evaluation.corrupted_digit_accuracy(
            x_train, y_train, hole_masks(len(x_train), hole, train=True),
            x_test, y_test, hole_masks(len(x_test), hole, train=False), seed=seed, epochs=epochs)
        results[str(hole)] = {"accuracy": accuracy, "wall_seconds": round(time.perf_counter() - started, 1)}
        print(f"classifier trained for {epochs} epochs on corrupted digits, {hole_label(hole)}: {accuracy:.4f}",
              flush=True)
    path = artifacts.run_dir(*output_root(), "ceiling") / record_name
    record = {"results": results, "seed": seed, "epochs": epochs, "config": CLASSIFIER.to_dict(),
              "machine": training.machine_description()}
    if path.is_file():  # holes measured before with the same recipe stay in the record
        earlier = artifacts.load_json(path)
        recipe = json.loads(json.dumps({key: record[key] for key in ("seed", "epochs", "config")}))  # tuples as lists
        if all(earlier.get(key) == value for key, value in recipe.items()):
            record["results"] = {**earlier["results"], **results}
    artifacts.save_json(path, record)
    return results


def ceiling_table(by_hole, method="improved", budgets=(CLASSIFIER.epochs, LONG_CEILING_EPOCHS)):
    """Chapter 8's "what limits it" table, as rows by hole (`hole_label`): ``method``'s accuracy
    (percent, shipped classifier) in ``by_hole`` (`hole_size_study`'s results) next to the
    committed ceiling records, one column per classifier budget in ``budgets``. The first row,
    no hole, holds the shipped classifier's clean accuracy (a composited inpainting of nothing
    is the digit itself) and each budget's classifier on clean digits."""
    records = {epochs: artifacts.load_json(artifacts.run_dir("ceiling") / ceiling_record(epochs))["results"]
               for epochs in budgets}
    shipped = artifacts.load_json(evaluation.classifier_record_path(evaluation.SHIPPED_CLASSIFIER_SEED))[
        "clean_test_accuracy"]
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


SPEED_STUDY_RECORD = "speed_settings_study.json"
# The speed options of chapter 4, as changes of a configuration, and the folder suffix of their runs.
SPEED_SETTINGS = {
    "float32": ({}, ""),
    "mixed bfloat16": (dict(mixed_precision=True), "-bfloat16"),
    "bfloat16, shared pass": (dict(mixed_precision=True, share_generator_pass=True), "-bfloat16-shared"),
}


def speed_setting_folder(name, epochs, seed, setting, root=()):
    """float32 runs are the ablation's own runs; the others sit beside them."""
    if setting not in SPEED_SETTINGS:
        raise ValueError(f"unknown speed setting {setting!r}; choose from {list(SPEED_SETTINGS)}")
    return variant_folder(name, epochs, seed, root, suffix=SPEED_SETTINGS[setting][1])


def run_speed_study(seeds=(0, 1), epochs=ABLATION_EPOCHS, name=None):
    """Do the speed options change what training produces? The recommended variant is trained
    for ``epochs`` epochs with each seed in every setting of `SPEED_SETTINGS`, and every run is
    scored on all test digits (shipped classifier) with the paper's hole and 14x14 centre holes;
    the training wall time per iteration (probes and checkpoints included, and measured whenever
    each run happened, so indicative only: `benchmarks/train_speed.py` measures speed) comes from
    the runs' records."""
    name = name or recommended_name()
    variant_named(name)  # checks the name before any work
    epochs = epochs if budget().mode == "full" else min(epochs, budget().gan_epochs)
    (_, _), (x_test, y_test) = data.load_mnist()
    originals = data.to_model_input(x_test)
    holes = {"paper hole": hole_masks(len(x_test), "paper"), "14x14 centre": hole_masks(len(x_test), 14)}
    classifier = {0: evaluation.load_classifier(0)}
    rows = []
    for setting, (changes, _) in SPEED_SETTINGS.items():
        for seed in seeds:
            config = variant_named(name).variant(name, **changes)
            folder = speed_setting_folder(name, epochs, seed, setting, output_root())
            run = run_variant(name, epochs, seed, config=config, folder=folder)
            method = {name: evaluation.generator_method(run.gan.generator, config)}
            row = {"setting": setting, "seed": seed,
                   "seconds per iteration": run.record["wall_seconds"] / run.record["iterations"]}
            for label, masks in holes.items():
                row[label] = evaluation.evaluate(method, originals, y_test, masks, classifier)[name]["accuracy"]
            rows.append(row)
            print(row, flush=True)
    artifacts.save_json(artifacts.run_dir(*output_root(), "variants") / SPEED_STUDY_RECORD,
                        {"variant": name, "epochs": epochs, "rows": rows})
    return rows


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("run", choices=["classifier", "cross-check-classifier", "paper-gan", "ablation", "variant",
                                        "recommended", "ceiling", "speed-study"])
    parser.add_argument("--seeds", type=int, nargs="+", help="default: 0 (0 and 1 for speed-study)")
    parser.add_argument("--name", help="variant name (with 'variant'), e.g. '+ skip connections'")
    parser.add_argument("--epochs", type=int, help=f"with ablation, variant and speed-study (default "
                        f"{ABLATION_EPOCHS}), and ceiling (the classifiers' epochs, default {CLASSIFIER.epochs})")
    parser.add_argument("--holes", nargs="+", help="with ceiling: centre sizes, 'paper' and/or 'none' (default: "
                        "the paper's hole and every size of the hole-size study)")
    args = parser.parse_args(argv)
    if args.epochs is not None and args.epochs < 1:
        parser.error("--epochs must be >= 1")
    if args.holes and args.run != "ceiling":
        parser.error("--holes goes with ceiling")
    epochs = args.epochs or ABLATION_EPOCHS
    seeds = args.seeds or ([0, 1] if args.run == "speed-study" else [0])
    if args.run == "classifier":
        run_classifiers(seeds)
    elif args.run == "cross-check-classifier":
        run_classifiers(seeds, config=CROSS_CHECK_CLASSIFIER)
    elif args.run == "paper-gan":
        run_paper_gan(seeds)
    elif args.run == "ablation":
        for seed in seeds:
            run_ablation(epochs, seed)
    elif args.run == "speed-study":
        run_speed_study(seeds=seeds, epochs=epochs, name=args.name)
    elif args.run == "ceiling":
        if len(seeds) > 1:
            parser.error("ceiling writes one record: give one seed")
        try:
            holes = tuple(hole if hole in ("paper", NO_HOLE) else int(hole) for hole in args.holes or ())
            for hole in holes:
                hole_label(hole)
        except ValueError:
            parser.error(f"--holes takes centre sizes in 1..{PAPER.image_size} pixels, 'paper' or '{NO_HOLE}', "
                         f"got {args.holes}")
        run_ceiling(holes=holes or ("paper", *HOLE_SIZES), seed=seeds[0], epochs=args.epochs)
    elif args.run == "variant":
        for seed in seeds:
            run_variant(args.name, epochs, seed)
    else:  # the recommended model: chosen from the ablation, then trained for its own budget
        name = choose_recommended()
        for seed in seeds:
            run_variant(name, recommended_run()[1], seed)


if __name__ == "__main__":
    main()
