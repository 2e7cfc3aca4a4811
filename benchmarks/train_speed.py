"""Seconds per training iteration: the paper's `train_on_batch` loop against `lib`'s compiled step.

Both run in one process, on the same generator and discriminator, the same batches and batch
size, in alternating blocks so that a noisy machine slows both alike. Prints seconds per
iteration, their ratio, the achieved GFLOP/s of each (FLOPs counted from the layer shapes by
`lib.models.paper_iteration_flops`) and this machine's float32 matmul GFLOP/s measured in the
same run; writes the numbers to artifacts/benchmarks/train_speed.json.

    python benchmarks/train_speed.py [--rounds 3] [--block 30] [--xla]

The compiled step is timed the way `fit` runs it inside an epoch: its compiled train function,
called once per iteration on an iterator over a prefetched `tf.data` pipeline. `fit`'s one-off
start-up (building that iterator and the callbacks) is left out: in training it is paid once per
epoch of 468 iterations, but in a short timed block it would dominate.

Contenders: (a) the paper's loop in float32; (b) `lib`'s compiled step in float32 (the default);
(c) the same step computing in bfloat16 with float32 weights (`GANConfig.mixed_precision`);
(d) (c) with one generator pass shared by both updates (`GANConfig.share_generator_pass`);
with --xla, (b) compiled by XLA.
"""
from __future__ import annotations

import argparse
import statistics
import time

from lib import runtime  # noqa: F401  (starts TensorFlow quietly)
import numpy as np
import tensorflow as tf

from lib import artifacts, data, gan, models, paper_loop, records
from lib.studies import speed
from lib.config import PAPER


def matmul_gflops(size=2048, repeats=20):
    """Best float32 matmul throughput of TensorFlow on this machine (the practical peak)."""
    a = tf.random.uniform((size, size))
    b = tf.random.uniform((size, size))
    product = tf.function(lambda x, y: tf.matmul(x, y))
    product(a, b).numpy()
    best = 0.0
    for _ in range(repeats):
        started = time.perf_counter()
        product(a, b).numpy()
        best = max(best, 2 * size**3 / (time.perf_counter() - started) / 1e9)
    return best


def batches(count, seed=0):
    (x_train, _), _ = data.load_mnist()
    images = data.to_model_input(x_train[: count * PAPER.batch_size])
    masks = data.paper_masks(len(images), seed)
    corrupted = data.apply_mask(images, masks)
    holes = data.with_channel(masks.astype(np.float32))
    return [(corrupted[i:i + PAPER.batch_size], images[i:i + PAPER.batch_size], holes[i:i + PAPER.batch_size])
            for i in range(0, len(images), PAPER.batch_size)]


def compiled_step_runner(config, jit_compile, dataset):
    """``run(count)``: ``count`` iterations of `InpaintingGAN.train_step`, as `fit` runs them."""
    model = gan.build_gan(config, jit_compile=jit_compile)
    model.make_train_function()
    iterator = iter(dataset)

    def run(count):
        for _ in range(count):
            logs = model.train_function(iterator)
        float(logs["g_loss"])  # wait for the last step to finish

    return run


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--block", type=int, default=30, help="iterations per timed block")
    parser.add_argument("--xla", action="store_true", help="also time the step compiled with XLA (slow on CPU)")
    parser.add_argument("--no-save", action="store_true")
    args = parser.parse_args(argv)
    if args.rounds < 1 or args.block < 1:
        parser.error("--rounds and --block must be >= 1")

    peak = matmul_gflops()
    generator, discriminator = models.build_generator(), models.build_discriminator()
    flops = models.paper_iteration_flops(generator, discriminator)
    pairs = batches(args.block)

    paper = paper_loop.PaperLoop(generator, discriminator)
    contenders = {"paper train_on_batch loop": lambda count: [paper.step(c, o) for c, o, _ in pairs[:count]]}
    dataset = tf.data.Dataset.from_tensor_slices(tuple(np.concatenate(parts) for parts in zip(*pairs)))
    dataset = dataset.batch(PAPER.batch_size).cache().repeat().prefetch(tf.data.AUTOTUNE)
    compiled = {"compiled train_step (float32)": (PAPER, False),
                "compiled train_step (mixed bfloat16)": (PAPER.variant(PAPER.name, mixed_precision=True), False),
                "compiled train_step (bfloat16, shared pass)": (
                    PAPER.variant(PAPER.name, mixed_precision=True, share_generator_pass=True), False)}
    if args.xla:
        compiled["compiled train_step (float32, XLA)"] = (PAPER, True)
    iteration_flops = {"paper train_on_batch loop": flops}
    for name, (config, jit) in compiled.items():
        contenders[name] = compiled_step_runner(config, jit, dataset)
        # The FLOPs each contender really computes: a shared generator pass skips one forward.
        iteration_flops[name] = models.paper_iteration_flops(generator, discriminator,
                                                             shared_generator_pass=config.share_generator_pass)

    def timed(name, run, count):
        started = time.perf_counter()
        run(count)
        return (time.perf_counter() - started) / count

    for name, run in contenders.items():  # warm-up: tracing and compilation are not timed
        timed(name, run, 3)
    timings = {name: [] for name in contenders}
    for _ in range(args.rounds):
        for name, run in contenders.items():
            timings[name].append(timed(name, run, len(pairs)))

    baseline = statistics.median(timings["paper train_on_batch loop"])
    print(f"float32 matmul peak (TensorFlow, 2048^2): {peak:.0f} GFLOP/s")
    print(f"one iteration = {flops / 1e9:.1f} GFLOP (batch {PAPER.batch_size})")
    results = {}
    for name, values in timings.items():
        seconds = statistics.median(values)
        gflops = iteration_flops[name] / seconds / 1e9
        results[name] = {
            "seconds_per_iteration": seconds, "all_blocks": values, "speedup_vs_paper_loop": baseline / seconds,
            "iteration_gflop": iteration_flops[name] / 1e9, "gflops": gflops, "share_of_matmul_peak": gflops / peak,
        }
        print(f"{name:44s} {seconds:.3f} s/iteration  x{baseline / seconds:.2f} vs paper loop  "
              f"{gflops:6.1f} GFLOP/s ({100 * gflops / peak:.0f} % of the float32 matmul peak)")
    if not args.no_save:
        artifacts.save_record(speed.benchmark_record("train_speed"), {
            "rounds": args.rounds, "block": args.block, "iteration_gflop": flops / 1e9,
            "matmul_peak_gflops": peak, "results": results, "machine": records.machine_description(),
        })


if __name__ == "__main__":
    main()
