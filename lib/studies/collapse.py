"""The collapse study (chapter 5, appendix A): the paper's recipe and its one-change suspects,
each trained for `DECIDING_EPOCHS` with ten seeds; what counts as a collapsed run; the rates with
their intervals; the smallest fix trained for the paper's whole budget; and the paper's GAN's
seeds, as published and fixed, scored on every test digit (chapters 4 and 5).

A run is *collapsed* when, at the end of its budget, the shipped classifier reads at least
`COLLAPSE_SHARE` of the probe's 1,000 inpainted digits as one and the same digit (the paper's
collapsed runs draw an empty black square, read as a 1, for every input; a healthy run's most
frequent digit is near 12.6 % of the probe, the share of 1s, the commonest digit among the probe's
digits themselves).
"""
from __future__ import annotations

import math

from lib import artifacts, checks, classifiers, commands, data, datasets, evaluation, holes, records, runs, training
from lib.config import PAPER, GANConfig
from lib.studies import paper_gan

COLLAPSE_SHARE = 0.9
DECIDING_EPOCHS = 2  # the study's budget; `budget_decides` checks it against 6-epoch runs
# Each suspect changes one thing of the paper's recipe (and keeps its adversarial-only objective).
SUSPECTS = {
    "training-mode fakes": (dict(share_generator_pass=True),
                            "D is trained on the generator's training-mode output (batch statistics), the output G "
                            "is trained through, instead of `generator.predict`'s inference-mode output"),
    "equal learning rates": (dict(discriminator_learning_rate=PAPER.generator_learning_rate),
                             "D learns at 2e-4 like G, not at twice G's rate"),
    "no label smoothing": (dict(real_label=1.0), "real digits' target 1, not 0.9"),
    "noise vector": (dict(noise_size=64),
                     "the generator also gets a 64-number noise vector at its bottleneck, as the paper says"),
    "instance noise": (dict(instance_noise=0.1),
                       "Gaussian noise (sd 0.1) on every image D sees in training (Sønderby et al. 2017)"),
    "two generator steps": (dict(generator_steps=2), "two generator updates per discriminator update"),
    "adam beta1 0.9": (dict(adam_beta_1=0.9), "Adam's default momentum, not DCGAN's 0.5"),
    "more dropout": (dict(dropout_rate=0.5), "D's dropout 0.5, not 0.2"),
    "smaller discriminator": (dict(discriminator_filters=(16, 32, 64)), "D with a quarter of the filters"),
}
RECIPES = ("paper", *SUSPECTS)


# ---------------------------------------------------------------- the study's folders and records

def run_folder(recipe_name, seed, root=()):
    """One run of the study: a recipe of `RECIPES` and a seed."""
    return runs.path(*root, "collapse", runs.slug(recipe_name), runs.seed_name(seed))


def film_folder(seed, root=()):
    """A re-run of the paper's recipe that films its first iterations (`lib.diagnostics.TrainingFilm`):
    chapter 5's animation and score histograms."""
    return runs.path(*root, "film", runs.seed_name(seed))


def fixed_folder(seed, root=()):
    """The smallest fix trained for the paper's 6 epochs with ``seed``: chapter 4's "paper's GAN, fixed"."""
    return runs.path(*root, "paper_gan_fixed", runs.seed_name(seed))


def summary_record(root=()):
    return runs.path(*root, "collapse", "summary.json")


def seed_scores_record(root=()):
    return runs.path(*root, "studies", "paper_gan_seeds.json")


# ---------------------------------------------------------------- outcomes and rates

def recipe(name, epochs=DECIDING_EPOCHS) -> GANConfig:
    """The configuration of a recipe of the study, trained for ``epochs`` epochs."""
    if name == "paper":
        return PAPER.variant("paper", epochs=checks.count(epochs, "epochs", 1))
    if name not in SUSPECTS:
        raise ValueError(f"unknown recipe {name!r}; choose from {list(RECIPES)}")
    return PAPER.variant(name, epochs=checks.count(epochs, "epochs", 1), **SUSPECTS[name][0])


def _epoch_end(probe, epoch):
    ends = [row for row in probe if row["epoch"] == epoch]
    if not ends:
        raise ValueError(f"the probe has no measurement in epoch {epoch}")
    return ends[-1]


def outcome(probe, seed, epochs=DECIDING_EPOCHS, share=COLLAPSE_SHARE) -> dict:
    """One run's outcome at the end of epoch ``epochs`` from its probe rows (as
    `lib.fitting.ClassifierProbe` records them): collapsed or not, top-class share, accuracy."""
    end = _epoch_end(probe, checks.count(epochs, "epochs", 1))
    return {"seed": checks.count(seed, "seed"), "epochs": epochs, "collapsed": bool(end["top_class_share"] >= share),
            "top_class_share": float(end["top_class_share"]), "probe_accuracy": float(end["accuracy"])}


def wilson_interval(successes, trials, z=1.96):
    """The Wilson score interval of a binomial rate (95 % for z = 1.96): unlike the normal
    approximation it stays inside [0, 1] and is sensible at 0 or n successes out of n."""
    trials = checks.count(trials, "trials", minimum=1)
    successes = checks.count(successes, "successes")
    if successes > trials:
        raise ValueError(f"successes ({successes}) cannot exceed trials ({trials})")
    rate = successes / trials
    centre = (rate + z * z / (2 * trials)) / (1 + z * z / trials)
    half = z * math.sqrt(rate * (1 - rate) / trials + z * z / (4 * trials * trials)) / (1 + z * z / trials)
    return max(0.0, centre - half), min(1.0, centre + half)


def collapse_rates(summary) -> list:
    """One row per recipe of a summary (``{recipe: [outcome, ...]}``): runs, collapsed runs, the
    rate and its 95 % Wilson interval, and the mean probe accuracy of the runs that trained."""
    if not isinstance(summary, dict) or not summary:
        raise ValueError("summary must map recipe names to lists of run outcomes")
    rows = []
    for name, outcomes in summary.items():
        if not outcomes:
            raise ValueError(f"recipe {name!r} has no runs")
        collapsed = sum(run["collapsed"] for run in outcomes)
        low, high = wilson_interval(collapsed, len(outcomes))
        healthy = [run["probe_accuracy"] for run in outcomes if not run["collapsed"]]
        rows.append({"recipe": name, "runs": len(outcomes), "collapsed": collapsed,
                     "collapse rate": collapsed / len(outcomes), "95 % low": low, "95 % high": high,
                     "probe accuracy of trained runs": sum(healthy) / len(healthy) if healthy else None})
    return rows


def budget_decides(probes, short=DECIDING_EPOCHS, long=PAPER.epochs, share=COLLAPSE_SHARE) -> dict:
    """Does a run's state at the end of epoch ``short`` tell its state at the end of epoch
    ``long``? ``probes`` maps a run's name to its probe rows (runs of at least ``long`` epochs).
    Returns the runs whose verdicts agree and those whose verdicts change."""
    agree, change = [], []
    for name, probe in probes.items():
        early = _epoch_end(probe, short)["top_class_share"] >= share
        late = _epoch_end(probe, long)["top_class_share"] >= share
        (agree if early == late else change).append(name)
    return {"agree": agree, "change": change}


def smallest_fix(summary, needed=9, of=10):
    """The suspects that train (do not collapse) in at least ``needed`` of ``of`` or more runs,
    fewest collapses first; an empty list if none does."""
    fixes = []
    for name, outcomes in summary.items():
        trained = sum(not run["collapsed"] for run in outcomes)
        if name != "paper" and len(outcomes) >= of and trained >= needed * len(outcomes) / of:
            fixes.append((len(outcomes) - trained, name))
    return [name for _, name in sorted(fixes)]


# ---------------------------------------------------------------- training

def run_collapse(recipe_name, seeds, epochs=DECIDING_EPOCHS, root=(), verbose=0):
    """Train a recipe of `RECIPES` with each seed, its generator diagnostics on, and add the
    outcomes to the study's summary."""
    config = recipe(recipe_name, training.budget_epochs(epochs))  # checks the name before any work
    for seed in seeds:
        run = training.train(config, run_folder(recipe_name, seed, root), seed, verbose=verbose, diagnostics=True,
                             dataset=datasets.in_root(root))
        result = outcome(run.probe, seed, config.epochs)
        write_summary(root)
        print(f"{recipe_name}, seed {seed}: {result} ({run.record['wall_seconds']} s)", flush=True)


def run_film(seeds, root=(), verbose=0):
    """Re-run the paper's recipe with each seed, with the same recorders and the film of its
    first iterations (`lib.diagnostics.TrainingFilm`); keeps the records only."""
    config = recipe("paper", training.budget_epochs(DECIDING_EPOCHS))
    for seed in seeds:
        folder = film_folder(seed, root)
        run = training.train(config, folder, seed, verbose=verbose, diagnostics=True, film=True)
        if (folder / runs.GENERATOR_WEIGHTS).is_file():
            runs.drop_weights(folder)
        print(f"film, seed {seed}: probe at the end {run.probe[-1]}", flush=True)


def run_fixed_paper_gan(seeds, root=(), verbose=0):
    """The smallest fix (`smallest_fix` of the committed summary) trained for the paper's whole
    budget with each seed; chapter 4 evaluates these runs."""
    fixes = smallest_fix(artifacts.load_json(summary_record()))
    if not fixes:
        raise ValueError("no suspect of the collapse study trains in 9 of 10 seeds: there is no fix to train")
    config = recipe(fixes[0], training.budget_epochs(PAPER.epochs))
    for seed in seeds:
        folder = fixed_folder(seed, root)
        run = training.train(config, folder, seed, verbose=verbose)
        runs.drop_weights(folder, keep_generator=True)  # chapter 4 evaluates the generator only
        print(f"{config.name}, {config.epochs} epochs, seed {seed}: probe {run.probe[-1]} "
              f"({run.record['wall_seconds']} s)", flush=True)


def write_summary(root=()):
    """`summary_record` rebuilt from every finished run of the study. The runs keep their records
    only: no chapter loads their networks (`lib.runs.drop_weights`)."""
    for name in RECIPES:
        for folder in run_folder(name, 0, root).parent.glob("seed*"):
            if runs.status(folder) == "finished" and (folder / runs.GENERATOR_WEIGHTS).is_file():
                runs.drop_weights(folder)
    summary = outcomes(root)
    artifacts.save_record(summary_record(root), summary)
    return summary


def film(seed, root=()):
    """The first iterations of the paper's recipe filmed with ``seed`` (`run_film`): ``step``,
    ``frames``, ``d_real``, ``d_fake``; empty if the run has no film."""
    return runs.open(film_folder(seed, root)).film()


def run_outcome(recipe_name, seed, root=()):
    """How the study's run of ``recipe_name`` with ``seed`` ends (`outcome`)."""
    return outcome(runs.open(run_folder(recipe_name, seed, root)).probe, seed)


def outcomes(root=(), committed_paper_seeds=paper_gan.SEEDS):
    """Every finished run of the study, ``{recipe: [outcome, ...]}`` by seed (`outcome` at the end
    of each run's budget).

    The paper's recipe also counts the committed 6-epoch runs (``committed_paper_seeds``) of
    seeds the study did not train again, read at the end of the study's budget: with constant
    learning rates and batches that depend on (seed, epoch) alone, the first epochs of a longer
    run follow the shorter run's recipe, though not bit for bit (multithreaded sums vary from run
    to run; appendix A compares seed 0 trained both ways). Each outcome says where it comes from
    (``"source"``)."""
    summary = {}
    for name in RECIPES:
        finished = [runs.open(folder) for folder in run_folder(name, 0, root).parent.glob("seed*")
                    if runs.status(folder) == "finished"]
        found = [{**outcome(run.probe, run.seed, run.config.epochs), "source": "collapse study"} for run in finished]
        if name == "paper" and not root:
            studied = {row["seed"] for row in found}
            for seed in committed_paper_seeds:
                if seed not in studied and runs.status(paper_gan.run_folder(seed)) == "finished":
                    run = runs.open(paper_gan.run_folder(seed))
                    found.append({**outcome(run.probe, seed, DECIDING_EPOCHS),
                                  "source": f"the committed {run.config.epochs}-epoch run"})
        if found:
            summary[name] = sorted(found, key=lambda row: row["seed"])
    # The smallest fix trained for the paper's budget (`run_fixed_paper_gan`): its own row, under
    # its budget, so that its seeds are not counted twice with the study's.
    fixed = [runs.open(folder) for folder in fixed_folder(0, root).parent.glob("seed*")
             if runs.status(folder) == "finished"]
    for run in sorted(fixed, key=lambda run: run.seed):
        key = f"{run.config.name}, {run.config.epochs} epochs"
        summary.setdefault(key, []).append({**outcome(run.probe, run.seed, run.config.epochs),
                                            "source": "the fix at the paper's budget"})
    return summary


# ---------------------------------------------------------------- the paper's GAN's seeds, scored

# Chapters 4 and 5 compare the paper's GAN, as published and with the fix, over its training seeds.
SCORED_RUNS = {"paper gan": paper_gan.run_folder, "paper gan, fixed": fixed_folder}


def run_seed_scores(digits=None, root=()):
    """Every training seed of `SCORED_RUNS` on the first ``digits`` test digits (all by default)
    with the evaluation holes, judged by the three classifiers (`lib.evaluation.accuracy_summary`),
    recorded in `seed_scores_record` as ``{"scores": {run: {seed: summary}}}``."""
    record = records.Record(seed_scores_record(root))
    originals, labels = evaluation.test_digits(digits)
    masks = holes.evaluation_masks(len(originals))
    corrupted, judges = data.apply_mask(originals, masks), classifiers.load_classifiers()
    scores = {}
    for name, folder in SCORED_RUNS.items():
        for seed in paper_gan.SEEDS:
            run = runs.open(folder(seed))
            filled = evaluation.generator_method(run.generator(), run.config)(corrupted, masks)
            predictions = {judge: classifiers.classify(model, filled) for judge, model in judges.items()}
            scores.setdefault(name, {})[str(seed)] = evaluation.accuracy_summary(predictions, labels)
    record.update(scores=scores, digits=len(originals), classifier_seeds=list(judges))
    return record.close()


def seed_scores(name):
    """``{seed: accuracy summary}`` (`lib.evaluation.accuracy_summary`) of ``name``, a key of
    `SCORED_RUNS`, in the committed seed scores."""
    if name not in SCORED_RUNS:
        raise ValueError(f"name must be one of {list(SCORED_RUNS)}, got {name!r}")
    scores = artifacts.load_fields(seed_scores_record(), scores=checks.mapping)[0]
    return {int(seed): summary for seed, summary in scores[name].items()}


def seed_accuracies(name):
    """``{seed: mean accuracy of the three classifiers}`` of ``name`` (`seed_scores`)."""
    return {seed: summary["accuracy_mean"] for seed, summary in seed_scores(name).items()}


def committed_summary():
    """The committed summary (`write_summary`) of the study's recipes, in their order (the paper's
    first)."""
    summary = artifacts.load_json(summary_record())
    return {name: summary[name] for name in RECIPES if name in summary}


COMMANDS = (
    commands.Command("collapse", run_collapse, "chapter 5's study: a recipe, 2 epochs a seed", (
        commands.choice("--recipe", RECIPES, required=True, dest="recipe_name", what="the recipe"),
        commands.seeds(), commands.epochs(DECIDING_EPOCHS)), datasets=tuple(datasets.DATASETS)),
    commands.Command("collapse-summary", write_summary, "rebuild the study's summary from its finished runs",
                     report=str, datasets=tuple(datasets.DATASETS)),
    commands.Command("film", run_film, "chapter 5's animation: the first 600 iterations filmed", (commands.seeds(),)),
    commands.Command("paper-gan-fixed", run_fixed_paper_gan, "the smallest fix, the paper's 6 epochs",
                     (commands.seeds(),)),
    commands.Command("seed-scores", run_seed_scores, "chapters 4 and 5: the paper's GAN's seeds, scored",
                     report=records.seconds),
)
