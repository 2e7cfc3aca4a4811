"""A smoke test of benchmarks/train_speed.py: it runs, times every contender and prints ratios."""
import importlib.util
import os
from pathlib import Path

import pytest

from lib import data

SCRIPT = Path(__file__).resolve().parent.parent / "benchmarks" / "train_speed.py"


@pytest.mark.skipif(not os.environ.get(data.NPZ_VARIABLE), reason="MNIST_NPZ is not set")
def test_train_speed_times_every_contender_against_the_paper_loop(capsys):
    spec = importlib.util.spec_from_file_location("train_speed", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    module.main(["--rounds", "1", "--block", "2", "--no-save"])
    printed = capsys.readouterr().out
    assert "matmul peak" in printed and "GFLOP (batch 128)" in printed
    for name in ("paper train_on_batch loop", "compiled train_step (float32)", "compiled train_step (mixed bfloat16)",
                 "compiled train_step (bfloat16, shared pass)"):
        line = next(line for line in printed.splitlines() if line.startswith(name))
        assert "s/iteration" in line and "vs paper loop" in line
    assert "x1.00 vs paper loop" in next(l for l in printed.splitlines() if l.startswith("paper train_on_batch loop"))
