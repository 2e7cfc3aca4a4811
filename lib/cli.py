"""The command line that produces the committed artifacts (chapters never import it).

    python -m lib.cli classifier --seeds 0 1 2
    python -m lib.cli cross-check-classifier --seeds 0 1 2   # another architecture (appendix B)
    python -m lib.cli paper-gan --seeds 0 1 2
    python -m lib.cli collapse --recipe paper --seeds 0 1 2 3 4 5 6 7 8 9   # chapter 5's study, 2 epochs each
    python -m lib.cli collapse --recipe "training-mode fakes" --seeds 0 1 2 3 4
    python -m lib.cli film --seeds 0 3                     # chapter 5's animation: the first 600 iterations filmed
    python -m lib.cli film-gif                              # the intro's GIF of that animation
    python -m lib.cli paper-gan-fixed --seeds 0 1 2          # the study's smallest fix, 6 epochs each
    python -m lib.cli collapse-summary                      # rebuild artifacts/collapse/summary.json
    python -m lib.cli ablation                              # every variant, 2 epochs each
    python -m lib.cli recommended                           # choose from the ablation, train 40 epochs
    python -m lib.cli seed-scores                           # chapters 4 and 5: the paper's GAN's seeds, scored
    python -m lib.cli ablation-table                        # chapter 6's table: every variant scored
    python -m lib.cli hole-size-study                       # chapter 6: every method at every hole
    python -m lib.cli hole-size-study --methods book        # one method scored again, merged into the record
    python -m lib.cli shipped-check                         # chapter 7: the book's model and the earlier two, fresh detectors
    python -m lib.cli ceiling                               # classifiers trained on corrupted digits
    python -m lib.cli ceiling --epochs 10 --holes none paper 12   # longer-trained ones, some holes
    python -m lib.cli adversary --seeds 0 1                 # chapter 7's arms, fine-tuned from the recommended model
    python -m lib.cli adversary --arms "global, 0.1" --epochs 3
    python -m lib.cli adversary-study                       # score the baselines and every finished arm
    python -m lib.cli realistic                             # the study's most realistic arm, 3 epochs: "realistic"
    python -m lib.cli train-default --seeds 0 1 2          # the book's model: the fast recipe from scratch, scored
    python -m lib.cli fast --recipe "batch 64"              # appendix D: another recipe of the speed study
    python -m lib.cli time-to-quality                       # score the recommended model's run and every finished recipe
    python -m lib.cli speed-study                           # appendix D's speed options against float32, 2 seeds
    python -m lib.cli candidates --seeds 0 1 2             # the shipped inpainter's candidates, on held-out digits
    python -m lib.cli candidates --recipe fast --seeds 1    # one candidate
    python -m lib.cli selection                             # score the candidates on the validation digits, choose
    python -m lib.cli mask-head                             # blind correction: the head that finds the damage
    python -m lib.cli correction-study                      # blind correction on MNIST-C's corruptions

``--devices all`` trains on every visible GPU (``tf.distribute.MirroredStrategy``: the same
model as one device, the global batch split between them). Each run writes into ``artifacts/`` atomically and resumes from its last checkpoint if it was
interrupted; a finished run is left as it is.
"""
from __future__ import annotations

import argparse
import sys

from lib import collapse, correction, correction_study, recipes, runs, runtime, scoring, selection, speed, studies, \
    tradeoff
from lib.config import ABLATION_EPOCHS, CLASSIFIER, CROSS_CHECK_CLASSIFIER, PAPER


# The options each command reads (every command takes --devices); any other is refused, not ignored.
OPTIONS = {
    "classifier": {"seeds"}, "cross-check-classifier": {"seeds"}, "paper-gan": {"seeds"},
    "collapse": {"recipe", "seeds", "epochs"}, "collapse-summary": set(), "paper-gan-fixed": {"seeds"},
    "film": {"seeds"}, "film-gif": {"seeds"}, "ablation": {"seeds", "epochs"}, "variant": {"name", "seeds", "epochs"},
    "recommended": {"seeds"}, "seed-scores": set(), "ablation-table": set(), "hole-size-study": {"methods"},
    "shipped-check": set(), "ceiling": {"seeds", "epochs", "holes"}, "speed-study": {"seeds", "epochs", "name"},
    "adversary": {"arms", "seeds", "epochs"}, "adversary-study": {"seeds", "epochs"},
    "realistic": {"arms", "seeds", "epochs"}, "fast": {"recipe", "seeds"}, "train-default": {"seeds"},
    "time-to-quality": {"seeds"}, "candidates": {"recipe", "seeds"}, "selection": {"seeds"},
    "mask-head": {"seeds", "epochs"}, "correction-study": set(),
}
ONE_SEED = {"ceiling": "writes one record", "mask-head": "trains one head", "time-to-quality": "scores one run",
            "realistic": "ships one model"}
SEED_LIMIT = 2 ** 32  # NumPy's and Keras's seeds


def seed_argument(text):
    """A seed from the command line: an integer in [0, 2**32)."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"a seed is an integer, got {text!r}") from None
    if not 0 <= value < SEED_LIMIT:
        raise argparse.ArgumentTypeError(f"a seed must be in [0, 2**32), got {value}")
    return value


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("run", choices=list(OPTIONS))
    parser.add_argument("--seeds", type=seed_argument, nargs="+", help="default: 0 (0 and 1 for speed-study; 0 1 2 for "
                        "candidates and selection)")
    parser.add_argument("--name", help="variant name (with 'variant'), e.g. '+ skip connections'")
    parser.add_argument("--epochs", type=int, help=f"with ablation, variant and speed-study (default "
                        f"{ABLATION_EPOCHS}), mask-head (default {correction.EPOCHS}), collapse (default {collapse.DECIDING_EPOCHS}) and ceiling (the classifiers' epochs, default {CLASSIFIER.epochs})")
    parser.add_argument("--recipe", help=f"with collapse: one of {list(collapse.RECIPES)}; with fast: one of "
                        f"{list(speed.RECIPES)}; with candidates (default all): one of {list(selection.CANDIDATES)}")
    parser.add_argument("--arms", nargs="+", help=f"with adversary: arms of {list(tradeoff.ARMS)} (default: all)")
    parser.add_argument("--methods", nargs="+", help="with hole-size-study: score only these methods and merge them "
                        "into the committed record")
    parser.add_argument("--holes", nargs="+", help="with ceiling: centre sizes, 'paper' and/or 'none' (default: "
                        "the paper's hole and every size of the hole-size study)")
    parser.add_argument("--devices", choices=runtime.DEVICES, default="one",
                        help="one (default) or all: train on every visible GPU with tf.distribute.MirroredStrategy")
    args = parser.parse_args(argv)
    unused = sorted(option for option in ("seeds", "name", "epochs", "recipe", "arms", "methods", "holes")
                    if getattr(args, option) is not None and option not in OPTIONS[args.run])
    if unused:
        parser.error(f"{args.run} takes no {', '.join('--' + option for option in unused)}")
    if args.run in ONE_SEED and args.seeds and len(args.seeds) > 1:
        parser.error(f"{args.run} {ONE_SEED[args.run]}: give one seed")
    study_seeds = {"selection": selection.SEEDS, "adversary-study": tradeoff.STUDY_SEEDS}.get(args.run)
    if study_seeds is not None and not set(args.seeds or ()) <= set(study_seeds):
        parser.error(f"{args.run} scores the seeds its runs were trained with, {list(study_seeds)}; got {args.seeds}")
    if args.epochs is not None and args.epochs < 1:
        parser.error("--epochs must be >= 1")
    if args.run == "realistic" and args.arms and len(args.arms) != 1:
        parser.error("realistic ships one model: give at most one arm (--arms)")
    if args.recipe is None and args.run in ("collapse", "fast"):
        parser.error(f"{args.run} needs --recipe")
    epochs = args.epochs or ABLATION_EPOCHS
    seeds = args.seeds or ([0, 1] if args.run == "speed-study" else [0])
    try:
        with runtime.device_strategy(args.devices).scope():
            run(args, parser, seeds, epochs)
    except OSError as error:  # a full disk, a folder that cannot be written: the cause, not a traceback
        sys.exit(f"{parser.prog} {args.run}: {error}")


def run(args, parser, seeds, epochs):
    """The command ``args.run``, with its options."""
    if args.run == "classifier":
        recipes.run_classifiers(seeds)
    elif args.run == "cross-check-classifier":
        recipes.run_classifiers(seeds, config=CROSS_CHECK_CLASSIFIER)
    elif args.run == "paper-gan":
        recipes.run_paper_gan(seeds)
    elif args.run == "collapse":
        if args.recipe not in collapse.RECIPES:
            parser.error(f"--recipe must be one of {list(collapse.RECIPES)}, got {args.recipe!r}")
        recipes.run_collapse(args.recipe, seeds, epochs=args.epochs or collapse.DECIDING_EPOCHS)
    elif args.run == "fast":
        if args.recipe not in speed.RECIPES:
            parser.error(f"--recipe must be one of {list(speed.RECIPES)}, got {args.recipe!r}")
        for seed in seeds:
            speed.train_recipe(args.recipe, seed)
    elif args.run == "train-default":  # the shipped seed alone unless told; each seed timed, then scored
        if not set(args.seeds or ()) <= set(speed.FAST_SEEDS):
            parser.error(f"train-default records the seeds {list(speed.FAST_SEEDS)}, got {args.seeds}")
        for seed in args.seeds or [speed.SHIPPED_SEED]:
            speed.train_recipe(speed.FAST, seed)
        record = speed.write_record(names=[speed.FAST])
        print(selection.target_report(record["recipes"][speed.FAST]))
    elif args.run == "candidates":
        if args.recipe is not None and args.recipe not in selection.CANDIDATES:
            parser.error(f"--recipe must be one of {list(selection.CANDIDATES)}, got {args.recipe!r}")
        selection.run_candidates(None if args.recipe is None else [args.recipe], args.seeds or selection.SEEDS)
    elif args.run == "selection":
        print(selection.write_record(seeds=args.seeds or selection.SEEDS)["choice"])
    elif args.run == "time-to-quality":
        record = speed.write_record(seed=seeds[0])
        print({name: entry["seconds"] for name, entry in record["recipes"].items()})
    elif args.run == "film":
        recipes.run_film(seeds)
    elif args.run == "film-gif":
        print(recipes.write_film_gif(seeds=args.seeds or (0, 3)))
    elif args.run == "paper-gan-fixed":
        recipes.run_fixed_paper_gan(seeds)
    elif args.run == "collapse-summary":
        print(recipes.write_collapse_summary())
    elif args.run == "ablation":
        for seed in seeds:
            recipes.run_ablation(epochs, seed)
    elif args.run in ("adversary", "realistic"):
        unknown = [arm for arm in args.arms or () if arm not in tradeoff.ARMS]
        if unknown:
            parser.error(f"--arms must be among {list(tradeoff.ARMS)}, got {unknown}")
        if args.run == "realistic":
            tradeoff.run_realistic(args.arms[0] if args.arms else None, args.epochs or tradeoff.REALISTIC_EPOCHS, seeds[0])
        else:
            tradeoff.run_arms(args.arms or list(tradeoff.ARMS), args.seeds or list(tradeoff.STUDY_SEEDS),
                              args.epochs or tradeoff.STUDY_EPOCHS)
    elif args.run == "adversary-study":
        tradeoff.write_study_record(seeds=args.seeds or tradeoff.STUDY_SEEDS, epochs=args.epochs or tradeoff.STUDY_EPOCHS)
    elif args.run == "speed-study":
        recipes.run_speed_study(seeds=seeds, epochs=epochs, name=args.name)
    elif args.run == "seed-scores":
        print(scoring.run_seed_scores()["wall_seconds"], "s")
    elif args.run == "ablation-table":
        print(scoring.run_ablation_table()["wall_seconds"], "s")
    elif args.run == "hole-size-study":
        print(scoring.run_hole_size_study(only=args.methods)["wall_seconds"], "s")
    elif args.run == "mask-head":
        record = correction.train_mask_head(epochs=args.epochs, seed=seeds[0])
        print(record["wall_seconds"], "s; threshold", record["threshold"])
    elif args.run == "correction-study":
        print(correction_study.run_correction_study()["wall_seconds"], "s")
    elif args.run == "shipped-check":
        print(scoring.run_shipped_check()["wall_seconds"], "s")
    elif args.run == "ceiling":
        try:
            holes = tuple(hole if hole in ("paper", studies.NO_HOLE) else int(hole) for hole in args.holes or ())
            for hole in holes:
                studies.hole_label(hole)
        except ValueError:
            parser.error(f"--holes takes centre sizes in 1..{PAPER.image_size} pixels, 'paper' or '{studies.NO_HOLE}', "
                         f"got {args.holes}")
        recipes.run_ceiling(holes=holes or ("paper", *studies.HOLE_SIZES), seed=seeds[0], epochs=args.epochs)
    elif args.run == "variant":
        for seed in seeds:
            recipes.run_variant(args.name, epochs, seed)
    else:  # the recommended model: chosen from the ablation, then trained for its own budget
        name = recipes.choose_recommended()
        for seed in seeds:
            recipes.run_variant(name, runs.recommended_run(runs.mode_root())[1], seed)


if __name__ == "__main__":
    main()
