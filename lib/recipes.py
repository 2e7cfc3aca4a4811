"""How each committed run is trained: the data it sees, what watches it, and where it goes.

`lib.cli` runs these from the command line; chapter 3 calls `demonstration_run`. Every run
resumes from its last epoch checkpoint if it was interrupted, and a finished one is opened as it is.
"""
from __future__ import annotations

import shutil
import time

import numpy as np

from lib import artifacts, checks, collapse, data, evaluation, fitting, runs, studies
from lib.config import (
    ABLATION_EPOCHS, CANDIDATE_BASELINE, CANDIDATE_CHANGES, CLASSIFIER, PAPER, PROBE_SIZE, RECOMMENDED_EPOCHS,
    SNAPSHOT_MASK_SEED, VARIANTS, budget, combined_name, variant_named,
)
from lib.diagnostics import GeneratorDiagnostics, TrainingFilm

DIAGNOSTIC_DIGITS = 128  # one batch of test digits for `lib.diagnostics.GeneratorDiagnostics`
DIAGNOSTIC_STEPS = 1000  # the mechanism is measured over the first ~1,000 iterations
FILM_STEPS, FILM_EVERY = 600, 20  # chapter 5's animation: a frame every 20 iterations up to 600
FILM_SCORED_DIGITS = 256  # real digits (and their fills) the discriminator scores in each frame


def snapshot_indices(y_test):
    """Two test digits of each class: the per-epoch picture grid."""
    return [i for digit in range(10) for i in (y_test == digit).nonzero()[0][:2]]


def snapshot_inputs(x_test, y_test):
    """The snapshot digits corrupted with fixed holes: ``((corrupted, masks), labels)``."""
    indices = snapshot_indices(y_test)
    masks = data.paper_masks(len(indices), SNAPSHOT_MASK_SEED)
    return (data.apply_mask(data.to_model_input(x_test[indices]), masks), masks), y_test[indices]


def probe_inputs(x_test, y_test, size=PROBE_SIZE, hole="paper"):
    """The first ``size`` test digits with the evaluation holes (or a centre hole of ``hole``
    pixels, `lib.studies.hole_masks`): ``((corrupted, masks), labels)``."""
    masks = studies.hole_masks(size, hole)
    return (data.apply_mask(data.to_model_input(x_test[:size]), masks), masks), y_test[:size]


def probe_key(hole):
    """Where a run's record keeps the probe on ``hole``: "probe" for the paper's, "probe_c14" for 14x14."""
    return "probe" if hole == "paper" else f"probe_c{checks.count(hole, 'hole', minimum=1)}"


def watchers(x_test, y_test, probe_every_steps=100, diagnostics=False, film=False, probe_holes=("paper",)):
    """The recorders of a committed run: epoch snapshots and the classifier probe on each of
    ``probe_holes``, plus the generator diagnostics over the first `DIAGNOSTIC_STEPS` iterations
    and the film of the first `FILM_STEPS` if asked."""
    (snapshot_corrupted, snapshot_masks), _ = snapshot_inputs(x_test, y_test)
    classifier = evaluation.load_classifier(0)
    recorders = [fitting.EpochSnapshots(snapshot_corrupted, snapshot_masks)]
    for hole in probe_holes:
        (probe, probe_masks), labels = probe_inputs(x_test, y_test, hole=hole)
        recorders.append(fitting.ClassifierProbe(classifier, probe, probe_masks, labels, probe_every_steps,
                                                 probe_key(hole)))
    if diagnostics:
        originals = data.to_model_input(x_test[-DIAGNOSTIC_DIGITS:])
        masks = data.paper_masks(DIAGNOSTIC_DIGITS, SNAPSHOT_MASK_SEED)
        recorders.append(GeneratorDiagnostics(data.apply_mask(originals, masks), originals, masks,
                                                      every_steps=10, until_step=DIAGNOSTIC_STEPS))
    if film:
        originals = data.to_model_input(x_test[-FILM_SCORED_DIGITS:])
        recorders.append(TrainingFilm(snapshot_corrupted, snapshot_masks, originals,
                                      data.paper_masks(FILM_SCORED_DIGITS, SNAPSHOT_MASK_SEED), every_steps=FILM_EVERY,
                                      until_step=FILM_STEPS))
    return recorders


def train(config, folder, seed=0, plan=None, verbose=2, probe_every_steps=100, diagnostics=False, film=False,
          probe_holes=("paper",), held_out=False):
    """Train ``config`` on the training digits of ``plan`` (default: the current mode's) into
    ``folder`` with the standard watchers; returns the finished `lib.runs.Run`. ``held_out``:
    train on all but the validation digits and watch those (`lib.data.validation_split`), for
    runs that choose between recipes, which must never see the test set."""
    plan = plan or budget()
    (x_train, y_train), (x_test, y_test) = data.load_mnist()
    if held_out:
        (x_train, _), (x_test, y_test) = data.validation_split(x_train, y_train)
    recorders = watchers(x_test, y_test, probe_every_steps, diagnostics, film, probe_holes)
    return fitting.fit_gan(data.to_model_input(x_train[: plan.train_images]), folder, config, seed=seed,
                           recorders=recorders, verbose=verbose)


def budget_epochs(epochs, plan=None):
    """``epochs`` in full mode, at most the quick budget's in quick mode."""
    plan = plan or budget()
    return epochs if plan.mode == "full" else min(epochs, plan.gan_epochs)


def classifier_epochs(epochs, plan=None):
    """A classifier's budget: ``epochs`` in full mode, at most the quick budget's in quick mode."""
    plan = plan or budget()
    return int(epochs) if plan.mode == "full" else min(int(epochs), plan.classifier_epochs)


def train_paper_gan(folder, seed=0, plan=None, verbose=2):
    """The paper's GAN for the budget of ``plan`` (default: the current mode's)."""
    plan = plan or budget()
    return train(PAPER.variant(PAPER.name, epochs=plan.gan_epochs), folder, seed, plan, verbose)


def run_paper_gan(seeds, verbose=2):
    for seed in seeds:
        run = train_paper_gan(runs.paper_gan(seed, runs.mode_root()), seed, verbose=verbose)
        print(f"paper GAN seed {seed}: {run.record['iterations']} iterations, probe {run.probe[-1]}", flush=True)


def run_variant(name, epochs, seed=0, verbose=2, config=None, folder=None):
    """Train one named variant (`lib.config.VARIANTS`, or ``config`` if given) for ``epochs``
    epochs, with the probe, in its standard folder (or ``folder``)."""
    base_config = variant_named(name)  # checks the name before any work
    epochs = budget_epochs(epochs)
    config = (config or base_config).variant(name, epochs=epochs)
    run = train(config, folder or runs.variant(name, epochs, seed, runs.mode_root()), seed, verbose=verbose)
    print(f"{name} ({epochs} epochs, seed {seed}): {run.record['wall_seconds']} s, final probe {run.probe[-1]}",
          flush=True)
    return run


def run_ablation(epochs=ABLATION_EPOCHS, seed=0):
    """Every change of chapter 6 added one at a time (the paper's row is its committed 6-epoch run)."""
    for name in list(VARIANTS)[1:]:
        run_variant(name, epochs, seed)


def run_collapse(recipe_name, seeds, epochs=collapse.DECIDING_EPOCHS, verbose=0):
    """Train a recipe of the collapse study (`lib.collapse.RECIPES`) with each seed, its
    generator diagnostics on, and add the outcomes to the study's summary."""
    config = collapse.recipe(recipe_name, budget_epochs(epochs))  # checks the name before any work
    for seed in seeds:
        run = train(config, runs.collapse_run(recipe_name, seed, runs.mode_root()), seed, verbose=verbose,
                    diagnostics=True)
        result = collapse.outcome(run.probe, seed, config.epochs)
        write_collapse_summary()
        print(f"{recipe_name}, seed {seed}: {result} ({run.record['wall_seconds']} s)", flush=True)


def run_film(seeds, verbose=0):
    """Re-run the collapse study's paper recipe with each seed, with the same recorders and the
    film of its first iterations (`lib.diagnostics.TrainingFilm`); keeps the records only."""
    config = collapse.recipe("paper", budget_epochs(collapse.DECIDING_EPOCHS))
    for seed in seeds:
        folder = runs.film_run(seed, runs.mode_root())
        run = train(config, folder, seed, verbose=verbose, diagnostics=True, film=True)
        if (folder / runs.GENERATOR_WEIGHTS).is_file():
            runs.drop_weights(folder)
        print(f"film, seed {seed}: probe at the end {run.probe[-1]}", flush=True)


FILM_GIF = runs.REPO_ROOT / "_static" / "training_film.gif"  # the intro opens with it


def write_film_gif(path=FILM_GIF, seeds=(0, 3)):
    """Chapter 5's animation of the filmed runs (one digit of each class per run, labelled by how
    its study run ends) as a GIF at ``path``, for the intro, which cannot run code."""
    from lib import collapse_plots, plotting

    films = {}
    for seed in seeds:
        film = runs.open(runs.film_run(seed)).film()
        if not film:
            raise ValueError(f"no film for seed {seed}: run `python -m lib.cli film --seeds {seed}` first")
        ending = collapse.outcome(runs.open(runs.collapse_run("paper", seed)).probe, seed)
        every_other = {key: np.asarray(value)[::2] for key, value in film.items()}  # every 40 iterations: a lighter file
        films[f"seed {seed}: {'collapses' if ending['collapsed'] else 'trains'}"] = {
            **every_other, "frames": every_other["frames"][:, ::2]}  # one digit of each class
    return plotting.save_gif(collapse_plots.film_animation(films), path, fps=3)


def run_fixed_paper_gan(seeds, verbose=0):
    """The collapse study's smallest fix (`lib.collapse.smallest_fix` of the committed summary)
    trained for the paper's whole budget with each seed; chapter 4 evaluates these runs."""
    fixes = collapse.smallest_fix(artifacts.load_json(runs.collapse_summary()))
    if not fixes:
        raise ValueError("no suspect of the collapse study trains in 9 of 10 seeds: there is no fix to train")
    config = collapse.recipe(fixes[0], budget_epochs(PAPER.epochs))
    for seed in seeds:
        folder = runs.fixed_paper_gan(seed, runs.mode_root())
        run = train(config, folder, seed, verbose=verbose)
        runs.drop_weights(folder, keep_generator=True)  # chapter 4 evaluates the generator only
        print(f"{config.name}, {config.epochs} epochs, seed {seed}: probe {run.probe[-1]} "
              f"({run.record['wall_seconds']} s)", flush=True)


def write_collapse_summary():
    """`lib.runs.collapse_summary` rebuilt from every finished run of the study. The runs keep
    their records only: no chapter loads their networks (`lib.runs.drop_weights`)."""
    for name in collapse.RECIPES:
        for folder in runs.collapse_run(name, 0, runs.mode_root()).parent.glob("seed*"):
            if runs.status(folder) == "finished" and (folder / runs.GENERATOR_WEIGHTS).is_file():
                runs.drop_weights(folder)
    summary = studies.collapse_outcomes(runs.mode_root())
    artifacts.save_record(runs.collapse_summary(runs.mode_root()), summary)
    return summary


def demonstration_run(seed=0, train_full=False, verbose=2):
    """Chapter 3's live run. By default it follows the run mode: in full mode it opens the
    committed run of ``seed`` (instantly), in quick mode it trains two short epochs afresh in
    ``artifacts/quick/demonstration``. ``train_full=True`` trains the paper's complete budget from
    scratch whatever the mode (minutes on a GPU, about 20 on two CPU cores), into
    ``artifacts/retrained/paper_gan/seed<seed>``, where an interrupted run resumes."""
    if not isinstance(train_full, bool):
        raise ValueError(f"train_full must be True or False, got {train_full!r}")
    if train_full:
        return train_paper_gan(runs.paper_gan(seed, (runs.RETRAINED,)), seed, budget("full"), verbose)
    plan = budget()
    if plan.mode == "full":
        return train_paper_gan(runs.paper_gan(seed), seed, plan, verbose)
    folder = runs.path(runs.QUICK, "demonstration", runs.seed_name(seed))
    shutil.rmtree(folder, ignore_errors=True)  # a fresh run every time, in one reused folder
    return train_paper_gan(folder, seed, plan, verbose)


def run_classifiers(seeds, verbose=2, config=CLASSIFIER):
    """Train the shipped classifiers of ``seeds``: the paper's architecture, or with
    ``config=CROSS_CHECK_CLASSIFIER`` the cross-check one, for the epochs of ``config``."""
    folder = runs.classifier_folder(config)  # checks the config before any work
    (x_train, y_train), (x_test, y_test) = data.load_mnist()
    epochs = classifier_epochs(config.epochs)
    for seed in seeds:
        path = runs.classifier_weights(seed, config, runs.mode_root())
        if path.is_file():
            print(f"{folder.name} seed {seed}: already trained, kept")
            continue
        started = time.perf_counter()
        model = evaluation.train_classifier(x_train, y_train, seed, config, epochs=epochs, verbose=verbose)
        seconds = time.perf_counter() - started
        accuracy = float((evaluation.classify(model, data.to_model_input(x_test)) == y_test).mean())
        artifacts.save_weights(model, path)
        artifacts.list_in_manifest(path)  # the evaluation, the probes and the demo load it: verified
        artifacts.save_record(runs.classifier_record(seed, config, runs.mode_root()), {
            "seed": seed, "epochs": epochs, "config": config.to_dict(), "clean_test_accuracy": accuracy,
            "wall_seconds": round(seconds, 1), "machine": fitting.machine_description(),
        })
        print(f"{folder.name} seed {seed}: clean test accuracy {accuracy:.4f} in {seconds:.0f} s", flush=True)


def choose_recommended(epochs=ABLATION_EPOCHS, hole_size=14, digits=2000, final_epochs=None):
    """Keep the candidate changes that measurably help, and combine them.

    The baseline run (the last cumulative change) and each candidate change on top of it, all
    trained for ``epochs`` epochs, inpaint ``digits`` *training* digits with centred
    ``hole_size`` holes (the hard case; the test set is never used to choose). A candidate is
    kept if it beats the baseline by more than two standard errors of the paired difference
    (`lib.studies.paired_gain`); the decision goes to ``variants/recommended.json``."""
    (x_train, y_train), _ = data.load_mnist()
    originals, labels = data.to_model_input(x_train[-digits:]), y_train[-digits:]
    masks = data.centre_masks(digits, hole_size)
    classifier = evaluation.load_classifier(0)
    correct = {}
    for name in (CANDIDATE_BASELINE, *CANDIDATE_CHANGES):
        run = runs.open(runs.variant(name, epochs, root=runs.mode_root()))
        filled = evaluation.generator_method(run.generator(), run.config)(data.apply_mask(originals, masks), masks)
        correct[name] = evaluation.classify(classifier, filled) == labels
    comparisons = {}
    for name in CANDIDATE_CHANGES:
        gain, standard_error = studies.paired_gain(correct[name], correct[CANDIDATE_BASELINE])
        comparisons[name] = {"gain": gain, "standard_error": standard_error, "kept": gain > 2 * standard_error}
    chosen = combined_name(name for name in CANDIDATE_CHANGES if comparisons[name]["kept"])
    decision = {"chosen": chosen, "epochs": final_epochs or RECOMMENDED_EPOCHS, "baseline": CANDIDATE_BASELINE,
                "criterion": f"accuracy on the last {digits} training digits, {hole_size}px centre holes; a change "
                "is kept if it gains more than 2 standard errors (paired) over the baseline",
                "scores": {name: float(values.mean()) for name, values in correct.items()},
                "comparisons": comparisons, "ablation_epochs": epochs}
    artifacts.save_record(runs.recommended_record(runs.mode_root()), decision)
    print("recommended:", decision, flush=True)
    return chosen


def run_ceiling(holes, seed=0, epochs=None):
    """`evaluation.corrupted_digit_accuracy` for each hole (`lib.studies.hole_masks`), recorded
    in `lib.runs.ceiling_record` of the budget asked for. Holes measured before with the same
    recipe stay in the record."""
    if not holes:
        raise ValueError("run_ceiling needs at least one hole")
    for hole in holes:  # every hole checked before any work
        studies.hole_label(hole)
    path = runs.ceiling_record(CLASSIFIER.epochs if epochs is None else epochs, runs.mode_root())
    (x_train, y_train), (x_test, y_test) = data.load_mnist()
    plan = budget()
    epochs = classifier_epochs(plan.classifier_epochs if epochs is None else epochs, plan)
    x_train, y_train = x_train[: plan.train_images], y_train[: plan.train_images]
    results = {}
    for hole in holes:
        started = time.perf_counter()
        accuracy = evaluation.corrupted_digit_accuracy(
            x_train, y_train, studies.hole_masks(len(x_train), hole, train=True),
            x_test, y_test, studies.hole_masks(len(x_test), hole), seed=seed, epochs=epochs)
        results[str(hole)] = {"accuracy": accuracy, "wall_seconds": round(time.perf_counter() - started, 1)}
        print(f"classifier trained {epochs} epochs on corrupted digits, {studies.hole_label(hole)}: {accuracy:.4f}",
              flush=True)
    record = {"results": results, "seed": seed, "epochs": epochs, "config": CLASSIFIER.to_dict(),
              "machine": fitting.machine_description()}
    if path.is_file():
        earlier = artifacts.load_json(path)
        recipe = artifacts.as_json({key: record[key] for key in ("seed", "epochs", "config")})
        if all(earlier.get(key) == value for key, value in recipe.items()):
            record["results"] = {**earlier["results"], **results}
    artifacts.save_record(path, record)
    return results


# The speed options of appendix D, as changes of a configuration, and the folder suffix of their runs.
SPEED_SETTINGS = {
    "float32": ({}, ""),
    "mixed bfloat16": (dict(mixed_precision=True), "-bfloat16"),
    "bfloat16, shared pass": (dict(mixed_precision=True, share_generator_pass=True), "-bfloat16-shared"),
}


def run_speed_study(seeds=(0, 1), epochs=ABLATION_EPOCHS, name=None):
    """Do the speed options change what training produces? A variant (the recommended one by
    default) is trained with each seed in every setting of `SPEED_SETTINGS` and scored on all
    test digits (shipped classifier) with the paper's hole and 14x14 centre holes. The time per
    iteration comes from the runs' records (probes and checkpoints included: indicative only;
    `benchmarks/train_speed.py` measures speed)."""
    name = name or runs.recommended_run()[0]
    variant_named(name)  # checks the name before any work
    epochs = budget_epochs(epochs)
    (_, _), (x_test, y_test) = data.load_mnist()
    originals = data.to_model_input(x_test)
    holes = {"paper hole": studies.hole_masks(len(x_test), "paper"), "14x14 centre": studies.hole_masks(len(x_test), 14)}
    classifier = {0: evaluation.load_classifier(0)}
    rows = []
    for setting, (changes, suffix) in SPEED_SETTINGS.items():
        for seed in seeds:
            config = variant_named(name).variant(name, **changes)
            run = run_variant(name, epochs, seed, config=config,
                              folder=runs.variant(name, epochs, seed, runs.mode_root(), suffix=suffix))
            method = {name: evaluation.generator_method(run.generator(), run.config)}
            row = {"setting": setting, "seed": seed,
                   "seconds per iteration": run.record["wall_seconds"] / run.record["iterations"]}
            for label, masks in holes.items():
                row[label] = evaluation.evaluate(method, originals, y_test, masks, classifier)[name]["accuracy"]
            rows.append(row)
            print(row, flush=True)
    artifacts.save_record(runs.speed_study_record(runs.mode_root()), {"variant": name, "epochs": epochs, "rows": rows})
    return rows
