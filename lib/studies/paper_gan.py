"""The paper's GAN reproduced (chapters 3 and 4): its recipe trained for its 6 epochs with three
seeds, chapter 3's live run, and the facts chapter 3 reports of each run.
"""
from __future__ import annotations

import shutil

from lib import checks, commands, datasets, runs, shipped, training
from lib.config import PAPER, budget

SEEDS = (0, 1, 2)  # the committed runs; seed 0 is the shipped "paper" inpainter


def run_folder(seed, root=()):
    """The paper's GAN trained for its 6 epochs with ``seed``."""
    return runs.path(*root, "paper_gan", runs.seed_name(seed))


def train_paper_gan(folder, seed=0, plan=None, verbose=2, dataset=datasets.DEFAULT):
    """The paper's GAN for the budget of ``plan`` (default: the current mode's), on ``dataset``."""
    plan = plan or budget()
    return training.train(PAPER.variant(PAPER.name, epochs=plan.gan_epochs), folder, seed, plan, verbose,
                          dataset=dataset)


def run_paper_gan(seeds, root=(), verbose=2):
    """Train the paper's GAN with each of ``seeds`` on the dataset ``root`` holds; seed 0 ships as
    its "paper" inpainter."""
    for seed in seeds:
        run = train_paper_gan(run_folder(seed, root), seed, verbose=verbose, dataset=datasets.in_root(root))
        if seed == 0:
            shipped.register("paper", run.folder, root)
        print(f"paper GAN seed {seed}: {run.record['iterations']} iterations, probe {run.probe[-1]}", flush=True)


def demonstration_run(seed=0, train_full=False, verbose=2):
    """Chapter 3's live run. By default it follows the run mode: in full mode it opens the
    committed run of ``seed`` (instantly), in quick mode it trains two short epochs afresh in
    ``artifacts/quick/demonstration``. ``train_full=True`` trains the paper's complete budget from
    scratch whatever the mode (minutes on a GPU, about 20 on two CPU cores), into
    ``artifacts/retrained/paper_gan/seed<seed>``, where an interrupted run resumes."""
    if not isinstance(train_full, bool):
        raise ValueError(f"train_full must be True or False, got {train_full!r}")
    if train_full:
        return train_paper_gan(run_folder(seed, (runs.RETRAINED,)), seed, budget("full"), verbose)
    plan = budget()
    if plan.mode == "full":
        return train_paper_gan(run_folder(seed), seed, plan, verbose)
    folder = runs.path(runs.QUICK, "demonstration", runs.seed_name(seed))
    shutil.rmtree(folder, ignore_errors=True)  # a fresh run every time, in one reused folder
    return train_paper_gan(folder, seed, plan, verbose)


def paper_runs(seeds=SEEDS):
    """The committed full runs of the paper's GAN, by seed (checksums verified)."""
    return {seed: runs.open(run_folder(seed)) for seed in seeds}


def summarise_run(run, last=100, collapse_share=0.9):
    """The facts chapter 3 reports for one run: speed, the final losses and accuracies over the
    last ``last`` iterations, the probe accuracy, and the epochs at whose end at least
    ``collapse_share`` of the probe digits were classified as one and the same digit."""
    history = run.history_arrays()
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


COMMANDS = (
    commands.Command("paper-gan", run_paper_gan, "the paper's GAN, its 6 epochs (chapter 3)", (commands.seeds(),),
                     datasets=tuple(datasets.DATASETS)),
)
