"""Beyond digits (chapter 9): the paper's claim that its method "can inpaint in complex images"
tested on Fashion-MNIST, with the pipeline the digits went through. The same classifiers' recipe,
the same holes (plus free-form strokes), the same baselines, the paper's GAN and the book's
recipe trained from scratch on clothing; accuracy, a converged detector and the Fréchet distance;
and the collapse study's verdict on clothing, with and without its fix.

The runs are trained by the commands of their own studies, with ``--dataset fashion_mnist``
(``classifier``, ``cross-check-classifier``, ``paper-gan``, ``collapse``, ``fast``,
``train-default``); ``beyond-digits`` scores them all into one record.
"""
from __future__ import annotations

import os

import numpy as np

from lib import (
    artifacts, checks, classifiers, commands, data, datasets, evaluation, fitting, holes, inpainting, records, realism,
    runs,
)
from lib.config import budget
from lib.studies import collapse, speed

DATASET = "fashion_mnist"
ROOT = datasets.root(DATASET)
HOLES = (*holes.STUDY_HOLES, holes.STROKES)
SIZE_HOLES = holes.STUDY_HOLES  # the holes the targets name ("every hole size")
SHIPPED_MODELS = {"paper gan": "paper", "book": "book"}  # the table's name: the shipped model's
BASELINE = "navier-stokes"  # the classical method the book's recipe must beat
GAP_HOLE = 14  # where the book's recipe must recover `GAP_SHARE` of what the hole costs
GAP_SHARE = 0.5
TRAINING_SECONDS = 15 * 60  # the book's recipe's budget on the 2-core machine
COLLAPSE_RECIPES = ("paper", "training-mode fakes")  # the paper's recipe and chapter 5's fix
COLLAPSE_SEEDS = 5


def record_path(root=ROOT):
    return runs.path(*root, "studies", "beyond_digits.json")


# ---------------------------------------------------------------- scoring

def _book_seeds(dataset, originals, labels, judges):
    """Each finished seed of the book's recipe on ``dataset``: its training seconds and
    iterations and its accuracy (mean of the judges) on every hole."""
    seeds = {}
    for seed in speed.FAST_SEEDS:
        folder = speed.run_folder(speed.FAST, seed, datasets.root(dataset))
        if runs.status(folder) != "finished":
            continue
        run = runs.open(folder)
        method = {"book": evaluation.generator_method(run.generator(), run.config)}
        accuracy = {holes.key(hole): evaluation.evaluate(method, originals, labels, holes.masks(len(originals), hole),
                                                         judges)["book"]["accuracy_mean"] for hole in HOLES}
        seeds[str(seed)] = {"seconds": run.record["wall_seconds"], "iterations": run.record["iterations"],
                            "accuracy": accuracy}
    return seeds


def _collapse_outcomes(dataset):
    """The collapse study's runs of `COLLAPSE_RECIPES` on ``dataset`` (`lib.studies.collapse`)."""
    summary = collapse.outcomes(datasets.root(dataset))
    return {name: summary[name] for name in COLLAPSE_RECIPES if name in summary}


def run_study(digits=None, root=ROOT):
    """Score the shipped models of the dataset ``root`` holds and the classical baselines on its
    first ``digits`` test images (all 10,000 by default), on every hole of `HOLES`: accuracy (the
    mean of its three classifiers), per-class accuracy (the shipped classifier), the hole PSNR,
    a converged detector (`lib.realism.CONVERGED`, every detector seed) and the Fréchet distance;
    then every seed of the book's recipe and the collapse study's outcomes. Everything it reads
    is committed (the models, classifiers, seeds and collapse runs); ``root`` decides only where
    the record goes. Returns the record as it reads back from its file (seeds as text)."""
    dataset = datasets.in_root(root)
    if dataset == datasets.DEFAULT:
        raise ValueError("the study measures another dataset than MNIST, whose numbers are chapters 4 to 8's")
    originals, labels = evaluation.test_digits(digits, dataset)
    judges = classifiers.load_classifiers(root=datasets.root(dataset))
    judge = realism.default_judge(epochs=realism.CONVERGED, dataset=dataset)
    methods = evaluation.standard_methods({method: inpainting.load_inpainter(name, dataset)
                                           for method, name in SHIPPED_MODELS.items()})
    # The expensive part (the detectors) resumes hole by hole; the seeds and collapse runs are read afresh.
    scored = {"dataset": dataset, "digits": len(originals), "holes": [holes.key(hole) for hole in HOLES],
              "methods": list(methods), "detector_seeds": list(judge.seeds)}
    record = records.Record(record_path(root), protocol={**scored, "detector": realism.CONVERGED})
    if "clean" not in record:
        predictions = {seed: classifiers.classify(model, originals) for seed, model in judges.items()}
        record["clean"] = {**evaluation.accuracy_summary(predictions, labels), **judge.score(originals, originals),
                           "per_class": evaluation.per_digit_accuracy(
                               labels, predictions[classifiers.SHIPPED_CLASSIFIER_SEED]).tolist()}
        record.update(scored, classes=list(datasets.named(dataset).classes), scores={}, per_class={})
        record.save()
    for hole in HOLES:
        if all(holes.key(hole) in record["scores"].get(name, {}) for name in methods):
            continue
        results = evaluation.evaluate(methods, originals, labels, holes.masks(len(originals), hole), judges)
        for name, result in results.items():
            record["scores"].setdefault(name, {})[holes.key(hole)] = {
                "accuracy_mean": result["accuracy_mean"], "accuracy_sd": result["accuracy_sd"],
                "hole_psnr": result["hole_psnr"], **judge.score(result["inpainted"], originals)}
            record["per_class"].setdefault(name, {})[holes.key(hole)] = \
                evaluation.per_digit_accuracy(labels, result["predictions"]).tolist()
        record.save()
    record.update(book_seeds=_book_seeds(dataset, originals, labels, judges), collapse=_collapse_outcomes(dataset))
    return artifacts.as_json(record.close())


# ---------------------------------------------------------------- the chapter's readers

def committed_record():
    return artifacts.load_json(record_path())


def _check_record(record, method=None, hole=None):
    """``record`` if it is a complete record of `run_study` (and names ``method`` and ``hole``)."""
    if not isinstance(record, dict) or not {"holes", "methods", "clean", "scores"} <= record.keys():
        raise ValueError("expected a record of beyond_digits.run_study, with holes, methods, clean and scores")
    missing = [(name, key) for name in record["methods"] for key in record["holes"]
               if key not in record["scores"].get(name, {})]
    if missing:
        raise ValueError(f"the record has no scores for {missing[:3]}: score them (beyond-digits) first")
    if method is not None and method not in record["methods"]:
        raise ValueError(f"method must be one of {record['methods']}, got {method!r}")
    if hole is not None and holes.key(hole) not in record["holes"]:
        raise ValueError(f"the record has no hole {hole!r}; its holes are {record['holes']}")
    return record


def accuracy_table(record):
    """``{method: {hole label: accuracy %}}``, the clean images first (the same on every hole)."""
    _check_record(record)
    labels = [holes.label(holes.from_key(key)) for key in record["holes"]]
    table = {"clean": {label: round(100 * record["clean"]["accuracy_mean"], 1) for label in labels}}
    for name in record["methods"]:
        table[name] = {holes.label(holes.from_key(key)): round(100 * record["scores"][name][key]["accuracy_mean"], 1)
                       for key in record["holes"]}
    return table


def realism_table(record, measure="detector"):
    """``{method: {hole label: value}}`` of a realism measure: the converged detector's accuracy
    in % (50: it cannot tell), or the Fréchet distance; the clean images' own row first."""
    if measure not in ("detector", "frechet"):
        raise ValueError(f"measure must be 'detector' or 'frechet', got {measure!r}")
    _check_record(record)
    scale, decimals = (100, 1) if measure == "detector" else (1, 2)
    table = {"clean": {holes.label(holes.from_key(key)): round(scale * record["clean"][measure], decimals)
                       for key in record["holes"]}}
    for name in record["methods"]:
        table[name] = {holes.label(holes.from_key(key)): round(scale * record["scores"][name][key][measure], decimals)
                       for key in record["holes"]}
    return table


def gap_share(record, method="book", hole=GAP_HOLE):
    """The share of what ``hole`` costs in accuracy (clean minus masked) that ``method`` wins back."""
    _check_record(record, method, hole)
    masked = record["scores"]["masked"][holes.key(hole)]["accuracy_mean"]
    gap = record["clean"]["accuracy_mean"] - masked
    if gap <= 0:
        raise ValueError(f"the {holes.label(hole)} hole costs no accuracy here: there is no gap to recover")
    return (record["scores"][method][holes.key(hole)]["accuracy_mean"] - masked) / gap


def collapse_rates(record):
    """`lib.studies.collapse.collapse_rates` of the record's collapse outcomes."""
    return collapse.collapse_rates(record["collapse"])


def training_time(record, benchmark=None):
    """The book's recipe's training seconds on this dataset, by seed (wall seconds: these seeds
    trained beside other work); MNIST's seeds, timed alone (appendix D); the per-iteration ratio
    of this dataset to MNIST measured by ``benchmarks/dataset_speed.py`` (``benchmark``: its
    record, by default the committed one); and ``"alone_estimate"``, the slowest MNIST seed's
    seconds times the larger ratio: what a seed here takes alone."""
    if not record.get("book_seeds"):
        raise ValueError("the record has no finished seed of the book's recipe")
    benchmark = artifacts.load_json(speed.benchmark_record("dataset_speed")) if benchmark is None else benchmark
    mnist = speed.committed_record()
    alone = {seed: entry["seconds"] for seed, entry in mnist["recipes"][mnist["fast"]]["seeds"].items()}
    ratio = {step: result["ratio"] for step, result in benchmark["results"].items()}
    return {"seeds": {seed: entry["seconds"] for seed, entry in record["book_seeds"].items()}, "mnist_alone": alone,
            "ratio": ratio, "alone_estimate": max(alone.values()) * max(ratio.values())}


def target_report(record, time=None):
    """The issue's targets, each ``{"measured", "target", "met", "by"}`` ("by": how far inside the
    target, negative when missed): the book's recipe beats `BASELINE` on accuracy (points) and on
    the detector (points lower) at every hole size; it recovers `GAP_SHARE` of the gap at
    `GAP_HOLE`; every seed trains within `TRAINING_SECONDS`, as measured beside other work and
    as estimated alone (``time``: `training_time`, left out if not given); the collapse study
    has at least `COLLAPSE_SEEDS` seeds of each recipe."""
    _check_record(record, "book")
    _check_record(record, BASELINE)
    if not record.get("book_seeds"):
        raise ValueError("the record has no finished seed of the book's recipe")
    book, baseline = record["scores"]["book"], record["scores"][BASELINE]
    report = {}
    for hole in SIZE_HOLES:
        key = holes.key(hole)
        for measure, sign in (("accuracy_mean", 1), ("detector", -1)):
            by = sign * (book[key][measure] - baseline[key][measure])
            report[f"{measure.split('_')[0]} vs {BASELINE}, {holes.label(hole)}"] = {
                "measured": book[key][measure], "target": baseline[key][measure], "met": by > 0, "by": by}
    share = gap_share(record)
    report[f"gap recovered, {holes.label(GAP_HOLE)}"] = {"measured": share, "target": GAP_SHARE,
                                                          "met": share >= GAP_SHARE, "by": share - GAP_SHARE}
    slowest = max(entry["seconds"] for entry in record["book_seeds"].values())
    report["slowest seed's training seconds, beside other work"] = {
        "measured": slowest, "target": TRAINING_SECONDS, "met": slowest <= TRAINING_SECONDS,
        "by": TRAINING_SECONDS - slowest}
    if time is not None:
        estimate = time["alone_estimate"]
        report["training seconds alone, estimated"] = {"measured": estimate, "target": TRAINING_SECONDS,
                                                       "met": estimate <= TRAINING_SECONDS,
                                                       "by": TRAINING_SECONDS - estimate}
    for name in COLLAPSE_RECIPES:
        runs_done = len(record["collapse"].get(name, []))
        report[f"collapse seeds, {name}"] = {"measured": runs_done, "target": COLLAPSE_SEEDS,
                                             "met": runs_done >= COLLAPSE_SEEDS, "by": runs_done - COLLAPSE_SEEDS}
    return report


def _in_units(target, value):
    if target.startswith(("accuracy", "detector")):
        return f"{100 * value:.2f} %"
    if target.startswith("gap"):
        return f"{100 * value:.0f} %"
    return f"{value:.0f} s" if "seconds" in target else f"{value}"


def target_table(report):
    """`target_report` as a table's rows, each number in its unit (%, points, seconds, runs)."""
    return {target: {"measured": _in_units(target, entry["measured"]), "target": _in_units(target, entry["target"]),
                     "met": "yes" if entry["met"] else "no",
                     "by": _in_units(target, entry["by"]).replace(" %", " points")
                     if target.startswith(("accuracy", "detector")) else _in_units(target, entry["by"])}
            for target, entry in report.items()}


def fill_columns(originals, hole, dataset=DATASET):
    """``originals`` (uint8) with ``hole`` (`lib.holes`), and the fills of Navier-Stokes and of
    ``dataset``'s shipped models, as `lib.plotting.method_columns` takes them."""
    masks = holes.masks(len(originals), hole)
    corrupted = data.apply_mask(data.to_model_input(originals), masks)
    columns = {"original": originals, "with the hole": data.rescale(corrupted[..., 0]),
               "Navier-Stokes": data.rescale(evaluation.navier_stokes(corrupted, masks)[..., 0])}
    for label, name in (("paper's GAN", "paper"), ("book's model", "book")):
        columns[label] = inpainting.inpaint_images(originals, masks, inpainter=name, dataset=dataset)
    return columns


def hardest_classes(record, count=3):
    """The names of the ``count`` classes the shipped classifier reads worst on clean images."""
    order = np.argsort(record["clean"]["per_class"], kind="stable")[:checks.count(count, "count", 1)]
    return [record["classes"][index] for index in order]


def hardest_examples(labels, classes, per_class=2, dataset=DATASET):
    """The indices of the first ``per_class`` test images of each of ``classes`` (a list of names)."""
    if isinstance(classes, str) or not isinstance(classes, (list, tuple)) or not classes:
        raise ValueError(f"classes must be a list of class names, got {classes!r}")
    names = datasets.named(dataset).classes
    unknown = [name for name in classes if name not in names]
    if unknown:
        raise ValueError(f"{dataset} has no class {unknown}; its classes are {list(names)}")
    labels = np.asarray(labels)
    return [int(index) for name in classes
            for index in np.flatnonzero(labels == names.index(name))[:checks.count(per_class, "per_class", 1)]]


# ---------------------------------------------------------------- a reader's own images

def train_on_images(images, folder, seed=0, quick=False, verbose=2):
    """Train the book's recipe (`lib.studies.speed.FAST`) from scratch on a reader's own 28x28
    grayscale images (uint8, `lib.datasets.own_images` checks them) into ``folder``, or resume or
    open it there; ``quick=True`` trains the quick mode's short budget (minutes). Returns the
    finished `lib.runs.Run`: fill holes with ``inpaint_images(images, masks, inpainter=(run.generator(),
    run.config))``. No classifier watches the run (your images have no judge): its history holds
    the losses."""
    if not isinstance(quick, bool):
        raise ValueError(f"quick must be True or False, got {quick!r}")
    if not isinstance(folder, (str, os.PathLike)) or not str(folder):
        raise ValueError(f"folder must name the run's folder (a str or Path), got {folder!r}")
    own, _ = datasets.own_images(images)
    config = speed.recipe(speed.FAST, budget("quick" if quick else "full"))
    if len(own) < config.batch_size:
        raise ValueError(f"train on at least one batch of images ({config.batch_size}), got {len(own)}")
    return fitting.fit_gan(data.to_model_input(own), folder, config, seed=checks.count(seed, "seed"), verbose=verbose)


COMMANDS = (
    commands.Command("beyond-digits", run_study, "chapter 9: every method on another dataset's test images, scored",
                     report=records.seconds, datasets=(DATASET,)),
)
