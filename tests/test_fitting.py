"""Tests of lib.fitting: recording callbacks, checkpoints by path, exact resume, a finish that a
kill cannot half-do."""
import signal
import subprocess
import sys
import textwrap
import time
import warnings
from pathlib import Path

import keras
import numpy as np
import pytest
import tensorflow as tf

from lib import artifacts, checkpoints, fitting, gan as gans, models, runs
from lib.config import PAPER, VARIANTS

from stubs import all_weights, holes, tiny_images

TINY = PAPER.variant("tiny", batch_size=32, epochs=2)
REPO = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module", autouse=True)
def deterministic_ops():
    tf.config.experimental.enable_op_determinism()


def test_a_run_keeps_its_history_records_and_verified_files(tmp_path):
    images = tiny_images()
    snapshots = fitting.EpochSnapshots(tiny_images(5, seed=1), holes(5))
    run = fitting.fit_gan(images, tmp_path, TINY, seed=0, recorders=[snapshots], verbose=0)
    steps = TINY.epochs * len(images) // TINY.batch_size
    assert [row["step"] for row in run.history] == list(range(1, steps + 1))
    assert [row["epoch"] for row in run.history] == [1] * 4 + [2] * 4
    assert np.asarray(run.snapshots).shape == (TINY.epochs, 5, 28, 28)
    for name in (runs.GENERATOR_WEIGHTS, runs.DISCRIMINATOR_WEIGHTS, runs.HISTORY, runs.SNAPSHOTS, runs.RECORD,
                 artifacts.MANIFEST):
        assert (tmp_path / name).is_file(), name
    assert not (tmp_path / checkpoints.FILE).exists()
    assert run.record["iterations"] == steps and run.record["train_images"] == 128

    reopened = fitting.fit_gan(images, tmp_path, TINY, seed=0, verbose=0)  # finished: opens, no training
    assert reopened.history == run.history
    for a, b in zip(all_weights(run), all_weights(reopened)):
        np.testing.assert_array_equal(a, b)


def watchers(images):
    """The recorders a committed run has: snapshots after every epoch and the classifier probe."""
    keras.utils.set_random_seed(11)
    classifier = models.build_classifier()
    return [fitting.EpochSnapshots(images[:5], holes(5)),
            fitting.ClassifierProbe(classifier, images[:20], holes(20), np.arange(20) % 10, every_steps=3)]


@pytest.mark.parametrize("config", [TINY, TINY.variant("tiny, decaying", learning_rate_decay=True, epochs=3)],
                         ids=["constant rates", "decaying rates"])
def test_a_resumed_run_ends_with_the_weights_and_records_of_an_uninterrupted_one(tmp_path, config):
    images = tiny_images()
    straight = fitting.fit_gan(images, tmp_path / "straight", config, seed=3, verbose=0, recorders=watchers(images))
    assert fitting.fit_gan(images, tmp_path / "resumed", config, seed=3, verbose=0, stop_after_epochs=1,
                           recorders=watchers(images)) is None
    assert runs.status(tmp_path / "resumed") == "resumable"
    resumed = fitting.fit_gan(images, tmp_path / "resumed", config, seed=3, verbose=0, recorders=watchers(images))
    assert [r["g_loss"] for r in resumed.history] == pytest.approx([r["g_loss"] for r in straight.history], abs=1e-6)
    assert np.asarray(resumed.snapshots).shape == (config.epochs, 5, 28, 28)
    np.testing.assert_array_equal(np.asarray(resumed.snapshots), np.asarray(straight.snapshots))
    assert [(row["step"], row["accuracy"]) for row in resumed.probe] == [(row["step"], row["accuracy"])
                                                                          for row in straight.probe]
    for a, b in zip(all_weights(straight), all_weights(resumed)):
        np.testing.assert_allclose(a, b, atol=1e-6)


def test_a_decaying_run_ends_with_both_learning_rates_run_down(tmp_path):
    decaying = TINY.variant("decaying", learning_rate_decay=True)
    keras.utils.set_random_seed(0)
    gan = gans.build_gan(decaying, steps_per_epoch=4)
    for optimizer, initial in ((gan.g_optimizer, TINY.generator_learning_rate),
                               (gan.d_optimizer, TINY.discriminator_learning_rate)):
        schedule = optimizer._learning_rate
        assert float(schedule(2)) == pytest.approx(initial)  # the first half holds
        assert float(schedule(6)) == pytest.approx(initial / 2)
        assert float(schedule(7)) == pytest.approx(initial / 4)  # the last step a run of 8 takes
        assert float(schedule(8)) == 0.0


@pytest.mark.parametrize("change, message", [
    (dict(seed=1), "another seed"),
    (dict(config=TINY.variant("tiny", dropout_rate=0.3)), "another configuration"),
    (dict(images=tiny_images(seed=9)), "another training data"),
])
def test_a_checkpoint_from_another_run_is_refused(tmp_path, change, message):
    fitting.fit_gan(tiny_images(), tmp_path, TINY, seed=0, verbose=0, stop_after_epochs=1)
    arguments = {"images": tiny_images(), "config": TINY, "seed": 0, **change}
    with pytest.raises(ValueError, match=message):
        fitting.fit_gan(arguments["images"], tmp_path, arguments["config"], seed=arguments["seed"], verbose=0)


def test_a_finished_run_refuses_other_training_data(tmp_path):
    fitting.fit_gan(tiny_images(), tmp_path, TINY.variant("tiny", epochs=1), verbose=0)
    with pytest.raises(ValueError, match="finished run with another inputs_sha256"):
        fitting.fit_gan(tiny_images(seed=9), tmp_path, TINY.variant("tiny", epochs=1), verbose=0)


def test_the_classifier_probe_measures_every_few_steps_and_each_epoch_end(tmp_path):
    classifier = models.build_classifier()
    images = tiny_images()
    probe = fitting.ClassifierProbe(classifier, images[:50], np.zeros((50, 28, 28), bool), np.arange(50) % 10,
                                    every_steps=3)
    run = fitting.fit_gan(images, tmp_path, TINY, seed=0, recorders=[probe], verbose=0)
    assert [row["step"] for row in run.probe] == [3, 4, 6, 8]
    filled = run.generator().predict(images[:50], verbose=0)
    predicted = classifier.predict(filled, verbose=0).argmax(axis=1)
    counts = np.bincount(predicted, minlength=10)
    assert run.probe[-1]["accuracy"] == pytest.approx(float((predicted == np.arange(50) % 10).mean()))
    assert run.probe[-1]["top_class_share"] == pytest.approx(counts.max() / 50)
    assert run.probe[-1]["top_class"] == int(counts.argmax())


@pytest.mark.parametrize("bad, message", [
    (np.zeros((128, 28, 28, 1), np.uint8), "float"),
    (np.full((128, 28, 28, 1), 3.0, np.float32), r"\[-1, 1\]"),
    (np.zeros((10, 28, 28, 1), np.float32), "at least one batch"),
])
def test_fit_gan_rejects_bad_images(tmp_path, bad, message):
    with pytest.raises(ValueError, match=message):
        fitting.fit_gan(bad, tmp_path, TINY, verbose=0)


def test_fit_gan_refuses_two_recorders_of_the_same_record(tmp_path):
    probe = fitting.ClassifierProbe(None, tiny_images(4), holes(4), [1, 2, 3, 4])
    with pytest.raises(ValueError, match="recorders must keep different records"):
        fitting.fit_gan(tiny_images(), tmp_path, TINY, recorders=[probe, probe], verbose=0)


def test_recorders_reject_bad_inputs():
    with pytest.raises(ValueError, match="one label per probe image"):
        fitting.ClassifierProbe(None, tiny_images(4), holes(4), [1, 2])
    with pytest.raises(ValueError, match="masks shape"):
        fitting.EpochSnapshots(tiny_images(4), holes(3))


CHILD = textwrap.dedent("""
    import os, sys, time
    import keras, numpy as np, tensorflow as tf
    from lib import artifacts, fitting, runs
    from lib.config import PAPER, VARIANTS
    tf.config.experimental.enable_op_determinism()
    folder, stage = sys.argv[1], sys.argv[2]

    class Slow(keras.callbacks.Callback):
        def on_train_batch_end(self, batch, logs=None):
            time.sleep(0.3)

    if stage != "between checkpoints":  # die inside the finishing step, just after `stage`
        calls = {"save_weights": artifacts.save_weights, "save_table": artifacts.save_table,
                 "save_json": artifacts.save_json, "write_manifest": artifacts.write_manifest}
        target, count = stage.split(":")
        state = {"seen": 0}
        def dying(*args, **kwargs):
            result = calls[target](*args, **kwargs)
            state["seen"] += 1
            if state["seen"] == int(count):
                os._exit(9)
            return result
        setattr(artifacts, target, dying)
    images = np.random.default_rng(0).uniform(-1, 1, (128, 28, 28, 1)).astype(np.float32)
    config = PAPER.variant("tiny", batch_size=32, epochs=3)
    callbacks = [Slow()] if stage == "between checkpoints" else []
    fitting.fit_gan(images, folder, config, seed=5, verbose=0, callbacks=callbacks)
""")
CONFIG = PAPER.variant("tiny", batch_size=32, epochs=3)
IMAGES = np.random.default_rng(0).uniform(-1, 1, (128, 28, 28, 1)).astype(np.float32)


@pytest.fixture(scope="module")
def straight_run(tmp_path_factory):
    return fitting.fit_gan(IMAGES, tmp_path_factory.mktemp("straight"), CONFIG, seed=5, verbose=0)


# Each finishing write in order: generator and discriminator weights, the history, run.json, the manifest.
@pytest.mark.slow
@pytest.mark.parametrize("stage", ["save_weights:1", "save_weights:2", "save_table:1", "save_json:1",
                                   "write_manifest:1"])
def test_a_kill_inside_the_finishing_step_leaves_a_run_that_resumes_or_opens(tmp_path, stage, straight_run):
    folder = tmp_path / "killed"
    child = subprocess.run([sys.executable, "-c", CHILD, str(folder), stage], cwd=REPO, capture_output=True,
                           timeout=300)
    assert child.returncode == 9, child.stderr[-2000:]
    expected = "finished" if stage == "write_manifest:1" else "resumable"
    assert runs.status(folder) == expected
    run = fitting.fit_gan(IMAGES, folder, CONFIG, seed=5, verbose=0)  # resumes (nothing left to train) or opens
    assert runs.status(folder) == "finished" and not (folder / checkpoints.FILE).exists()
    assert run.history == straight_run.history
    for a, b in zip(all_weights(straight_run), all_weights(run)):
        np.testing.assert_allclose(a, b, atol=1e-6)


@pytest.mark.slow
def test_a_killed_process_resumes_from_its_last_checkpoint_exactly(tmp_path, straight_run):
    folder = tmp_path / "killed"
    child = subprocess.Popen([sys.executable, "-c", CHILD, str(folder), "between checkpoints"], cwd=REPO,
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 240
    while not (folder / checkpoints.FILE).is_file() and time.monotonic() < deadline and child.poll() is None:
        time.sleep(0.05)
    time.sleep(0.4)  # into the next epoch: the kill lands between checkpoints
    child.send_signal(signal.SIGKILL)
    child.wait()
    assert child.returncode == -signal.SIGKILL, "the child finished before it could be killed"
    assert runs.status(folder) == "resumable"
    # What a kill inside a checkpoint's save leaves: atomic_path's temporaries, gone on resume.
    left = [folder / ".checkpoint-k1ll3d_x.npz", folder / ".generator-k1ll3d_x.weights.h5"]
    for path in left:
        path.write_bytes(b"half-written")
    resumed = fitting.fit_gan(IMAGES, folder, CONFIG, seed=5, verbose=0)
    assert not any(path.exists() for path in left)
    assert len(resumed.history) == 12
    for a, b in zip(all_weights(straight_run), all_weights(resumed)):
        np.testing.assert_allclose(a, b, atol=1e-6)


def test_a_warm_started_run_begins_with_the_weights_of_the_run_it_names(tmp_path, monkeypatch):
    source = tmp_path / "source"
    first = fitting.fit_gan(tiny_images(), source, TINY.variant("tiny", epochs=1), seed=0, verbose=0)
    monkeypatch.setattr(runs, "REPO_ROOT", tmp_path)
    keras.utils.set_random_seed(5)
    generator = models.build_generator(TINY)
    fitting.warm_start(generator, "source")
    for a, b in zip(generator.get_weights(), first.generator().get_weights()):
        np.testing.assert_array_equal(a, b)
    with pytest.raises(ValueError, match="finished run"):
        fitting.warm_start(generator, "nowhere")
    wider = models.build_generator(TINY.variant("wider", generator_filters=(8, 16, 32)))
    with pytest.raises(ValueError, match="does not fit"), warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # Keras warns of each layer it skips before it refuses
        fitting.warm_start(wider, "source")
    starts = []
    monkeypatch.setattr(fitting, "warm_start", lambda generator, folder: starts.append(folder))
    config = TINY.variant("warm", epochs=2, warm_start="source")
    assert fitting.fit_gan(tiny_images(), tmp_path / "warm", config, seed=0, verbose=0, stop_after_epochs=1) is None
    fitting.fit_gan(tiny_images(), tmp_path / "warm", config, seed=0, verbose=0)  # resumes: its own weights
    fitting.fit_gan(tiny_images(), tmp_path / "warm", config, seed=0, verbose=0)  # finished: opens
    assert starts == ["source"]  # a new run starts warm; a resumed or finished one keeps its own weights


def test_a_warm_up_leaves_the_discriminator_untouched_until_its_epochs_are_over(tmp_path):
    from lib.config import VARIANTS
    config = VARIANTS["+ L2 hole loss"].variant("warmed", batch_size=32, epochs=2, warmup_epochs=1)
    images = tiny_images()
    keras.utils.set_random_seed(0)
    untrained = gans.build_gan(config).discriminator.get_weights()
    fitting.fit_gan(images, tmp_path, config, seed=0, verbose=0, stop_after_epochs=1)
    stored = artifacts.load_arrays(tmp_path / checkpoints.FILE)
    # The discriminator's weights (its dropout's seed states aside) as they were built.
    discriminator = [value for key, value in stored.items() if key.startswith("var:discriminator/")
                     and "seed_generator" not in key]
    assert sorted(np.concatenate([w.ravel() for w in untrained])) == \
        pytest.approx(sorted(np.concatenate([w.ravel() for w in discriminator])))
    assert [int(value) for key, value in stored.items() if key.startswith("var:d_optimizer/") and
            key.endswith("iteration")] == [0]
    run = fitting.fit_gan(images, tmp_path, config, seed=0, verbose=0)
    assert [np.isnan(row["d_loss_real"]) for row in run.history] == [True] * 4 + [False] * 4
    assert run.record["iterations"] == 8


def test_a_second_probe_keeps_its_own_record(tmp_path):
    classifier = models.build_classifier()
    images = tiny_images()
    probes = [fitting.ClassifierProbe(classifier, images[:20], holes(20), np.arange(20) % 10, every_steps=4),
              fitting.ClassifierProbe(classifier, images[:20], np.zeros((20, 28, 28), bool), np.arange(20) % 10,
                                      every_steps=4, key="probe_none")]
    run = fitting.fit_gan(images, tmp_path, TINY, seed=0, recorders=probes, verbose=0)
    assert [row["step"] for row in run.record["probe_none"]] == [row["step"] for row in run.probe] == [4, 8]
    with pytest.raises(ValueError, match="start with 'probe'"):
        fitting.ClassifierProbe(classifier, images[:20], holes(20), np.arange(20) % 10, key="history")


def resident_megabytes():
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * 4096 / 2 ** 20


@pytest.mark.slow
@pytest.mark.skipif(not Path("/proc/self/statm").is_file(), reason="reads the resident memory from Linux's /proc")
def test_memory_stays_flat_from_epoch_to_epoch(tmp_path, monkeypatch):
    """Issue 25's drift: nothing may pile up per epoch. Each epoch's pipeline once held its own
    copy of the digits, 188 MB for 60,000, and kept it: 1.3 to 3.1 GB over 12 epochs. Here 60,000
    digits are the run's, each epoch draws 3 batches of them (to its end, as a real epoch does)."""
    from lib import data

    order, squares = data.epoch_order, data.epoch_squares
    monkeypatch.setattr(data, "epoch_order", lambda *args: order(*args)[:96])
    monkeypatch.setattr(data, "epoch_squares", lambda *args: tuple(part[:96] for part in squares(*args)))
    images = np.random.default_rng(0).uniform(-1, 1, (60000, 28, 28, 1)).astype(np.float32)
    config = VARIANTS["+ composite"].variant("flat", batch_size=32, epochs=9, warmup_epochs=3)
    probe = fitting.ClassifierProbe(models.build_classifier(), tiny_images(64, seed=1), holes(64), np.zeros(64, int))
    sizes = []

    class Resident(keras.callbacks.Callback):
        def on_epoch_end(self, epoch, logs=None):
            sizes.append(resident_megabytes())

    fitting.fit_gan(images, tmp_path, config, recorders=[fitting.EpochSnapshots(tiny_images(5), holes(5)), probe],
                    callbacks=[Resident()], verbose=0)
    # The first epoch of each phase traces its step; after that, flat. The allocator may hand
    # memory back between epochs, so growth counts from the largest size seen before.
    assert sizes[2] - max(sizes[:2]) < 60 and sizes[8] - max(sizes[3:5]) < 60, [round(size) for size in sizes]
