"""Smoke tests of the benchmarks: each runs, times every contender and prints ratios."""
import importlib.util
import os
from pathlib import Path

import pytest

from lib import data

pytestmark = pytest.mark.slow

BENCHMARKS = Path(__file__).resolve().parent.parent / "benchmarks"
SCRIPT = BENCHMARKS / "train_speed.py"


def load_script(path):
    spec = importlib.util.spec_from_file_location(path.stem, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.skipif(not os.environ.get(data.NPZ_VARIABLE), reason="MNIST_NPZ is not set")
def test_train_speed_times_every_contender_against_the_paper_loop(capsys):
    load_script(SCRIPT).main(["--rounds", "1", "--block", "2", "--no-save"])
    printed = capsys.readouterr().out
    assert "matmul peak" in printed and "GFLOP (batch 128)" in printed
    for name in ("paper train_on_batch loop", "compiled train_step (float32)", "compiled train_step (mixed bfloat16)",
                 "compiled train_step (bfloat16, shared pass)"):
        line = next(line for line in printed.splitlines() if line.startswith(name))
        assert "s/iteration" in line and "vs paper loop" in line
    assert "x1.00 vs paper loop" in next(l for l in printed.splitlines() if l.startswith("paper train_on_batch loop"))


@pytest.mark.skipif(not os.environ.get(data.NPZ_VARIABLE), reason="MNIST_NPZ is not set")
def test_step_levers_times_every_lever_per_digit_against_the_adversarial_step(capsys, monkeypatch):
    module = load_script(BENCHMARKS / "step_levers.py")
    every = module.contenders
    kept = (module.BASELINE, "warm-up step, bfloat16, batch 64", "warm-up step, float32, batch 128, XLA")
    assert set(kept) <= set(every(module.variant_named("+ global context")))
    # Three contenders of every kind (adversarial, warm-up, bfloat16, XLA) keep the test short.
    monkeypatch.setattr(module, "contenders", lambda reference: {name: every(reference)[name] for name in kept})
    prepare = module.epoch_costs
    monkeypatch.setattr(module, "epoch_costs", lambda images, config: prepare(images[:1024], config, 1))
    module.main(["--rounds", "1", "--digits", "512", "--no-save"])
    printed = capsys.readouterr().out.splitlines()
    for name in kept:
        assert any(line.startswith(name) and "ms/digit" in line for line in printed), name
    assert "x1.00" in next(line for line in printed if line.startswith(module.BASELINE))
    assert any("made per batch in tf.data" in line and "MB up front" in line for line in printed)
    assert any(line.startswith("one classifier probe") for line in printed)


@pytest.mark.skipif(not (os.environ.get(data.NPZ_VARIABLE) and os.environ.get("FASHION_MNIST_NPZ")),
                    reason="MNIST_NPZ or FASHION_MNIST_NPZ is not set")
def test_dataset_speed_times_each_step_on_both_datasets_with_their_ratio(capsys, monkeypatch):
    monkeypatch.syspath_prepend(str(BENCHMARKS))  # it reuses step_levers' runner, as when run as a script
    load_script(BENCHMARKS / "dataset_speed.py").main(["--rounds", "1", "--digits", "128", "--no-save"])
    printed = capsys.readouterr().out.splitlines()
    for step in ("warm-up step", "adversarial step"):
        line = next(line for line in printed if line.startswith(step))
        assert "mnist" in line and "fashion_mnist" in line and "ratio" in line
