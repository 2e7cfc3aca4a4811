"""Tests of lib.studies.paper_gan."""

import pytest

from lib import checkpoints, fitting, runs
from lib.studies import paper_gan
from lib.config import MODE_VARIABLE, PAPER

from stubs import place, recorder

pytestmark = pytest.mark.usefixtures("private_artifacts")  # nothing here touches the committed artifacts


SIZE = PAPER.image_size


@pytest.mark.parametrize("mode, folder, epochs", [("full", "paper_gan", 6), ("quick", "quick/paper_gan", 2)])
def test_run_paper_gan_trains_each_seed_into_its_folder(monkeypatch, private_artifacts, captured_training, mode,
                                                        folder, epochs):
    monkeypatch.setenv(MODE_VARIABLE, mode)
    paper_gan.run_paper_gan([0, 2], verbose=0, root=runs.mode_root())
    assert [call["folder"] for call in captured_training] == [str(private_artifacts / folder / f"seed{seed}")
                                                              for seed in (0, 2)]
    assert [call["seed"] for call in captured_training] == [0, 2]
    assert {call["config"] for call in captured_training} == {PAPER.variant("paper", epochs=epochs)}
    assert {call["verbose"] for call in captured_training} == {0}


@pytest.mark.parametrize("mode", ["full", "quick"])
def test_demonstration_run_can_train_the_full_budget_from_scratch_in_any_mode(monkeypatch, private_artifacts,
                                                                             captured_training, mode):
    monkeypatch.setenv(MODE_VARIABLE, mode)
    run = paper_gan.demonstration_run(seed=1, train_full=True)
    (call,) = captured_training
    assert run.seed == 1
    assert call["folder"] == str(private_artifacts / runs.RETRAINED / "paper_gan" / "seed1")
    assert call["config"] == PAPER and len(call["images"]) == 3000 and call["seed"] == 1
    probe = recorder(call["recorders"], fitting.ClassifierProbe)
    assert probe.classifier == "classifier" and probe.every_steps == 100


def test_demonstration_run_follows_the_mode_by_default(monkeypatch, private_artifacts, captured_training):
    monkeypatch.setenv(MODE_VARIABLE, "full")
    paper_gan.demonstration_run()
    monkeypatch.setenv(MODE_VARIABLE, "quick")
    stale = private_artifacts / "quick" / "demonstration" / "seed0"
    stale.mkdir(parents=True)
    (stale / checkpoints.FILE).write_bytes(b"an earlier demonstration")
    paper_gan.demonstration_run()
    full, quick = captured_training
    assert full["folder"] == str(paper_gan.run_folder(0)) and full["config"] == PAPER
    assert quick["folder"] == str(stale)  # never the committed run
    assert quick["config"].epochs == 2 and len(quick["images"]) == 2048
    assert not stale.exists()  # a fresh run every time: the earlier one was removed, not resumed


def test_demonstration_run_rejects_a_non_boolean_switch(captured_training):
    with pytest.raises(ValueError, match="train_full"):
        paper_gan.demonstration_run(train_full="yes")
    assert captured_training == []


TINY = PAPER.variant("tiny", batch_size=32, epochs=1)


def test_summarise_run_reports_the_last_iterations_and_the_collapsed_epochs(finished_runs):
    collapsed = runs.open(finished_runs["paper", 2])
    healthy = runs.open(finished_runs["no label smoothing", 3])
    history = collapsed.history_arrays()
    assert list(history["step"]) == [1] and list(history["epoch"]) == [1]  # one batch, one epoch
    summary = paper_gan.summarise_run(collapsed)
    assert summary["seed"] == 2 and summary["iterations"] == 1
    assert summary["g_loss (last 100)"] == round(float(history["g_loss"][0]), 3)
    assert summary["probe accuracy at the end"] == 0.1 and summary["best probe accuracy"] == 0.1
    assert summary["collapsed at end of epochs"] == [1]
    assert paper_gan.summarise_run(healthy)["collapsed at end of epochs"] == []
    assert paper_gan.summarise_run(healthy, collapse_share=0.1)["collapsed at end of epochs"] == [1]
    with pytest.raises(ValueError, match="last must be an integer >= 1"):
        paper_gan.summarise_run(collapsed, last=0)


def test_paper_runs_opens_the_committed_runs_by_seed(finished_runs):
    place(finished_runs["paper", 2], paper_gan.run_folder(2))
    opened = paper_gan.paper_runs(seeds=(2,))
    assert list(opened) == [2] and opened[2].folder == paper_gan.run_folder(2) and opened[2].seed == 2
    with pytest.raises(ValueError, match="holds no finished run"):
        paper_gan.paper_runs(seeds=(2, 0))
