"""Command-line entry point for the runs whose outputs the book commits.

    python -m lib.experiments classifier --seeds 0 1 2
    python -m lib.experiments paper-gan --seeds 0 1 2

Each run writes into ``artifacts/`` atomically and resumes from its last checkpoint if it was
interrupted; a finished run is left as it is.
"""
from __future__ import annotations

import argparse
import time

from lib import artifacts, data, evaluation, training
from lib.config import CLASSIFIER, PAPER, PROBE_SIZE, SNAPSHOT_MASK_SEED, budget

PAPER_GAN_FOLDER = "paper_gan"
SNAPSHOT_DIGITS = 20


def snapshot_inputs(x_test, y_test):
    """Two test digits of each class, corrupted with fixed holes: the per-epoch picture grid."""
    indices = [i for digit in range(10) for i in (y_test == digit).nonzero()[0][:2]]
    images = data.to_model_input(x_test[indices])
    masks = data.paper_masks(len(indices), SNAPSHOT_MASK_SEED)
    return (data.apply_mask(images, masks), masks), y_test[indices]


def probe_inputs(x_test, y_test, size=PROBE_SIZE):
    images = data.to_model_input(x_test[:size])
    masks = evaluation.evaluation_masks(size)
    return (data.apply_mask(images, masks), masks), y_test[:size]


def run_classifiers(seeds, verbose=2):
    (x_train, y_train), (x_test, y_test) = data.load_mnist()
    plan = budget()
    folder = artifacts.run_dir(evaluation.CLASSIFIER_FOLDER)
    for seed in seeds:
        path = evaluation.classifier_path(seed)
        if path.is_file():
            print(f"classifier seed {seed}: already trained, kept")
            continue
        started = time.perf_counter()
        model = evaluation.train_classifier(x_train, y_train, seed, epochs=plan.classifier_epochs, verbose=verbose)
        seconds = time.perf_counter() - started
        accuracy = float((evaluation.classify(model, data.to_model_input(x_test)) == y_test).mean())
        artifacts.save_weights(model, path)
        artifacts.save_json(folder / f"seed{seed}.json", {
            "seed": seed, "epochs": plan.classifier_epochs, "config": CLASSIFIER.to_dict(),
            "clean_test_accuracy": accuracy, "wall_seconds": round(seconds, 1),
            "machine": training.machine_description(),
        })
        print(f"classifier seed {seed}: clean test accuracy {accuracy:.4f} in {seconds:.0f} s", flush=True)


def run_paper_gan(seeds, verbose=2, probe_every_steps=100):
    (x_train, _), (x_test, y_test) = data.load_mnist()
    plan = budget()
    images = data.to_model_input(x_train[: plan.train_images])
    classifier = evaluation.load_classifier(0)
    snapshots, _ = snapshot_inputs(x_test, y_test)
    probe, probe_labels = probe_inputs(x_test, y_test)
    config = PAPER.variant(PAPER.name, epochs=plan.gan_epochs)
    for seed in seeds:
        run = training.train_gan(
            images, artifacts.run_dir(PAPER_GAN_FOLDER, f"seed{seed}"), config, seed=seed,
            snapshot_inputs=snapshots, classifier=classifier, probe_inputs=probe, probe_labels=probe_labels,
            probe_every_steps=probe_every_steps, verbose=verbose,
        )
        final = run.probe[-1] if run.probe else {}
        print(f"paper GAN seed {seed}: {len(run.history)} iterations, probe {final}", flush=True)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("run", choices=["classifier", "paper-gan"])
    parser.add_argument("--seeds", type=int, nargs="+", default=[0])
    args = parser.parse_args(argv)
    if args.run == "classifier":
        run_classifiers(args.seeds)
    else:
        run_paper_gan(args.seeds)


if __name__ == "__main__":
    main()
