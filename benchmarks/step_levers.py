"""Training throughput of the recommended model under each step-level lever of appendix D.

Seconds per *training digit* (a larger batch does more work per iteration) of the recommended
variant's compiled step, for: the adversarial step in float32 at the reference's batch of 128 (the
baseline); the reconstruction warm-up step (the discriminator off); other batch sizes; bfloat16
compute (`GANConfig.mixed_precision`); and XLA (`jit_compile=True`). All contenders run in one
process on the same digits, in alternating blocks, after untimed warm-up calls that trace and
compile them, so a noisy machine slows them alike; ratios are against the baseline of the same
run. Two costs outside the step are timed too: preparing an epoch's batches (materialised up
front, as `lib` did before, against made batch by batch in the `tf.data` pipeline, as
`lib.data.training_epoch` does now) and one classifier probe. Writes
artifacts/benchmarks/step_levers.json.

    python benchmarks/step_levers.py [--rounds 3] [--digits 3072]
"""
from __future__ import annotations

import argparse
import statistics
import time

from lib import runtime  # noqa: F401  (starts TensorFlow quietly)
from lib import artifacts, classifiers, data, fitting, gan, records, training
from lib.studies import ablation, speed
from lib.config import PROBE_SIZE, variant_named

BASELINE = "adversarial step, float32, batch 128"


def contenders(reference):
    """``{name: (configuration, adversary on, XLA)}``: the baseline, then one lever at a time."""
    bf16 = dict(mixed_precision=True)
    return {
        BASELINE: (reference, True, False),
        "adversarial step, bfloat16, batch 128": (reference.variant(reference.name, **bf16), True, False),
        "adversarial step, float32, batch 128, XLA": (reference, True, True),
        "warm-up step, float32, batch 128": (reference, False, False),
        "warm-up step, float32, batch 256": (reference.variant(reference.name, batch_size=256), False, False),
        "warm-up step, float32, batch 512": (reference.variant(reference.name, batch_size=512), False, False),
        "warm-up step, bfloat16, batch 64": (reference.variant(reference.name, batch_size=64, **bf16), False, False),
        "warm-up step, bfloat16, batch 128": (reference.variant(reference.name, **bf16), False, False),
        "warm-up step, bfloat16, batch 256": (reference.variant(reference.name, batch_size=256, **bf16), False, False),
        "warm-up step, float32, batch 128, XLA": (reference, False, True),
    }


def step_runner(config, adversary_on, jit_compile, images, seed=0):
    """``run(digits)``: as many compiled iterations as ``digits`` training digits fill, as `fit`
    runs them inside an epoch (the compiled train function on an iterator of the epoch's batches)."""
    model = gan.build_gan(config, steps_per_epoch=len(images) // config.batch_size, jit_compile=jit_compile)
    model.switch_adversary(adversary_on)
    model.make_train_function()
    iterator = iter(data.training_epoch(images, seed, 0, config).repeat())

    def run(digits):
        for _ in range(max(1, digits // config.batch_size)):
            logs = model.train_function(iterator)
        float(logs["g_reconstruction"])  # wait for the last step to finish

    return run


def materialised_epoch(images, seed, epoch, config):
    """An epoch's batches as `lib` made them before: every corrupted digit and mask built up front."""
    order, masks = data.epoch_order(len(images), seed, epoch), data.epoch_masks(len(images), seed, epoch, config)
    return data.corrupted_pairs(images[order], masks, config.batch_size, drop_remainder=True, with_masks=True)


def epoch_costs(images, config, repeats=3):
    """Seconds to the first batch and to the last, and the bytes built up front, of one epoch of
    ``images``, for each way of preparing it (best of ``repeats``)."""
    ways = {"materialised up front": (materialised_epoch, 3 * images.nbytes),
            "made per batch in tf.data": (data.training_epoch, len(images) * 4 * 8)}  # order, corner, size
    costs = {}
    for way, (prepare, upfront_bytes) in ways.items():
        first, whole = [], []
        for repeat in range(repeats):
            started = time.perf_counter()
            batches = iter(prepare(images, 0, repeat, config))
            next(batches)
            first.append(time.perf_counter() - started)
            for _ in batches:
                pass
            whole.append(time.perf_counter() - started)
        costs[way] = {"seconds_to_first_batch": min(first), "seconds_for_the_epoch": min(whole),
                      "megabytes_built_up_front": upfront_bytes / 1e6}
    return costs


def probe_seconds(config, repeats=5):
    """Seconds of one classifier probe (`lib.fitting.ClassifierProbe.measure`, `PROBE_SIZE` digits)."""
    (_, _), (x_test, y_test) = data.load_mnist()
    (corrupted, masks), labels = training.probe_inputs(x_test, y_test)
    probe = fitting.ClassifierProbe(classifiers.load_classifier(0), corrupted, masks, labels)
    probe.set_model(gan.build_gan(config))
    probe.measure(0, 0)  # traces the predict functions
    timings = []
    for _ in range(repeats):
        started = time.perf_counter()
        probe.measure(0, 0)
        timings.append(time.perf_counter() - started)
    return statistics.median(timings)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--digits", type=int, default=3072, help="training digits per timed block")
    parser.add_argument("--no-save", action="store_true")
    args = parser.parse_args(argv)
    if args.rounds < 1 or args.digits < 512:
        parser.error("--rounds must be >= 1 and --digits >= 512 (one batch of the largest contender)")

    name, _ = ablation.recommended_run()
    reference = variant_named(name)
    (x_train, _), _ = data.load_mnist()
    images = data.to_model_input(x_train[:8192])
    runners = {label: step_runner(*spec, images) for label, spec in contenders(reference).items()}

    def timed(run):
        started = time.perf_counter()
        run(args.digits)
        return (time.perf_counter() - started) / args.digits

    for run in runners.values():  # tracing and compilation are not timed
        run(1024)
    timings = {label: [] for label in runners}
    for _ in range(args.rounds):
        for label, run in runners.items():
            timings[label].append(timed(run))

    baseline = statistics.median(timings[BASELINE])
    results = {}
    for label, values in timings.items():
        seconds = statistics.median(values)
        results[label] = {"ms_per_digit": 1000 * seconds, "all_blocks_ms": [1000 * v for v in values],
                          "speedup": baseline / seconds}
        print(f"{label:44s} {1000 * seconds:6.3f} ms/digit  x{baseline / seconds:.2f}", flush=True)
    pipeline = epoch_costs(data.to_model_input(x_train), reference)
    for way, cost in pipeline.items():
        print(f"epoch of 60,000 digits {way:26s} first batch {cost['seconds_to_first_batch']:.2f} s, "
              f"whole epoch {cost['seconds_for_the_epoch']:.2f} s, {cost['megabytes_built_up_front']:.0f} MB up front")
    probe = probe_seconds(reference)
    print(f"one classifier probe ({PROBE_SIZE} digits): {probe:.2f} s", flush=True)
    if not args.no_save:
        artifacts.save_record(speed.benchmark_record("step_levers"), {
            "variant": name, "rounds": args.rounds, "digits_per_block": args.digits, "baseline": BASELINE,
            "results": results, "epoch_preparation": pipeline, "probe_seconds": probe,
            "machine": records.machine_description()})


if __name__ == "__main__":
    main()
