"""Do the speed options change what training produces (appendix D)? A variant (the recommended
one by default) trained with each seed in every setting of `SPEED_SETTINGS`, and scored on all
test digits (shipped classifier) with the paper's hole and 14x14 centre holes.
"""
from __future__ import annotations

from lib import artifacts, classifiers, commands, evaluation, holes, runs, training
from lib.commands import Option
from lib.config import ABLATION_EPOCHS, variant_named
from lib.studies import ablation

# The speed options of appendix D, as changes of a configuration, and the folder suffix of their runs.
SPEED_SETTINGS = {
    "float32": ({}, ""),
    "mixed bfloat16": (dict(mixed_precision=True), "-bfloat16"),
    "bfloat16, shared pass": (dict(mixed_precision=True, share_generator_pass=True), "-bfloat16-shared"),
}


def record_path(root=()):
    return runs.path(*root, "variants", "speed_settings_study.json")


def run_speed_study(seeds=(0, 1), epochs=ABLATION_EPOCHS, name=None, root=()):
    """Train the variant ``name`` (default: the recommended one) with each seed in every setting
    and score it; the rows go to `record_path`. The time per
    iteration comes from the runs' records (probes and checkpoints included: indicative only;
    `benchmarks/train_speed.py` measures speed)."""
    name = name or ablation.recommended_run()[0]
    variant_named(name)  # checks the name before any work
    epochs = training.budget_epochs(epochs)
    originals, labels = evaluation.test_digits()
    masks = {"paper hole": holes.masks(len(originals), holes.PAPER_HOLE), "14x14 centre": holes.masks(len(originals), 14)}
    classifier = {0: classifiers.load_classifier(0)}
    rows = []
    for setting, (changes, suffix) in SPEED_SETTINGS.items():
        for seed in seeds:
            config = variant_named(name).variant(name, **changes)
            run = ablation.run_variant(name, epochs, seed, config=config,
                                       folder=ablation.run_folder(name, epochs, seed, root, suffix=suffix))
            method = {name: evaluation.generator_method(run.generator(), run.config)}
            row = {"setting": setting, "seed": seed,
                   "seconds per iteration": run.record["wall_seconds"] / run.record["iterations"]}
            for label, hole_masks in masks.items():
                row[label] = evaluation.evaluate(method, originals, labels, hole_masks, classifier)[name]["accuracy"]
            rows.append(row)
            print(row, flush=True)
    artifacts.save_record(record_path(root), {"variant": name, "epochs": epochs, "rows": rows})
    return rows


def committed_record():
    """The committed study: the variant, its epochs and one row per setting and seed."""
    return artifacts.load_json(record_path())


COMMANDS = (
    commands.Command("speed-study", run_speed_study, "appendix D's speed options against float32, 2 seeds", (
        commands.seeds((0, 1)), commands.epochs(ABLATION_EPOCHS),
        Option("--name", dict(type=commands.argument(commands.variant_name), default=None, help=(
            "the variant (default: the recommended one)"))))),
)
