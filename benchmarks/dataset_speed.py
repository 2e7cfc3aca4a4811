"""Does a training iteration cost the same on Fashion-MNIST as on MNIST? Seconds per iteration of
the book's recipe's compiled step (`lib.studies.speed.FAST`: its reconstruction warm-up step and
its adversarial step) on each dataset's training images, in one process, in alternating blocks
after untimed warm-up calls, so a noisy machine slows them alike. Prints each dataset's seconds
and the ratio Fashion-MNIST / MNIST per step; writes artifacts/benchmarks/dataset_speed.json.

The book's recipe was timed alone on MNIST (appendix D); chapter 9 trained it on Fashion-MNIST
beside other work, so its wall seconds there overstate the cost: this ratio carries the alone
timing over.

    python benchmarks/dataset_speed.py [--rounds 3] [--digits 3072]
"""
from __future__ import annotations

import argparse
import statistics
import time

from lib import runtime  # noqa: F401  (starts TensorFlow quietly)
from lib import artifacts, data, datasets, records
from lib.config import budget
from lib.studies import speed

from step_levers import step_runner

DATASETS = ("mnist", "fashion_mnist")  # the first is the baseline
STEPS = {"warm-up step": False, "adversarial step": True}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--digits", type=int, default=3072, help="training digits per timed block")
    parser.add_argument("--no-save", action="store_true")
    args = parser.parse_args(argv)
    config = speed.recipe(speed.FAST, budget("full"))
    if args.rounds < 1 or args.digits < config.batch_size:
        parser.error(f"--rounds must be >= 1 and --digits at least one batch ({config.batch_size})")
    contenders = {}
    for name in DATASETS:
        (x_train, _), _ = datasets.load(name)
        images = data.to_model_input(x_train[:args.digits])
        for step, adversary_on in STEPS.items():
            contenders[(name, step)] = step_runner(config, adversary_on, False, images)

    def timed(run):
        started = time.perf_counter()
        run(args.digits)
        return (time.perf_counter() - started) / max(1, args.digits // config.batch_size)

    for run in contenders.values():  # warm-up: tracing is not timed
        run(config.batch_size)
    timings = {key: [] for key in contenders}
    for _ in range(args.rounds):
        for key, run in contenders.items():
            timings[key].append(timed(run))

    results = {}
    for step in STEPS:
        seconds = {name: statistics.median(timings[(name, step)]) for name in DATASETS}
        ratio = seconds[DATASETS[1]] / seconds[DATASETS[0]]
        results[step] = {"seconds_per_iteration": seconds, "ratio": ratio,
                         "all_blocks": {name: timings[(name, step)] for name in DATASETS}}
        print(f"{step:17s} " + "  ".join(f"{name} {seconds[name]:.4f} s/iteration" for name in DATASETS)
              + f"  ratio {ratio:.3f}")
    if not args.no_save:
        artifacts.save_record(speed.benchmark_record("dataset_speed"), {
            "rounds": args.rounds, "digits": args.digits, "recipe": speed.FAST, "batch_size": config.batch_size,
            "results": results, "machine": records.machine_description()})


if __name__ == "__main__":
    main()
