"""Tests of lib.training: the GAN step, the paper's loop, history, checkpoints and exact resume."""
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import lib  # noqa: F401
import keras
import numpy as np
import pytest
import tensorflow as tf

from lib import artifacts, models, training
from lib.config import PAPER

TINY = PAPER.variant("tiny", batch_size=32, epochs=2)
REPO = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module", autouse=True)
def deterministic_ops():
    tf.config.experimental.enable_op_determinism()


def tiny_images(count=128, seed=0):
    return np.random.default_rng(seed).uniform(-1, 1, (count, 28, 28, 1)).astype(np.float32)


def weights_of(run):
    return run.gan.generator.get_weights() + run.gan.discriminator.get_weights()


def test_train_step_returns_finite_losses_and_updates_both_networks():
    keras.utils.set_random_seed(0)
    gan = training.build_gan(TINY)
    images = tf.constant(tiny_images(32))
    masks = tf.zeros((32, 28, 28, 1))
    generator_before = [w.copy() for w in gan.generator.get_weights()]
    discriminator_before = [w.copy() for w in gan.discriminator.get_weights()]
    logs = gan.train_step((images, images, masks))
    assert set(logs) == set(training.HISTORY_COLUMNS[2:])
    assert all(np.isfinite(float(value)) for value in logs.values())
    assert 0 <= float(logs["d_acc_real"]) <= 1 and 0 <= float(logs["d_acc_fake"]) <= 1
    assert any(not np.array_equal(a, b) for a, b in zip(generator_before, gan.generator.get_weights()))
    assert any(not np.array_equal(a, b) for a, b in zip(discriminator_before, gan.discriminator.get_weights()))


def test_first_discriminator_loss_is_near_chance_with_smoothed_labels():
    keras.utils.set_random_seed(0)
    gan = training.build_gan(TINY)
    images = tf.constant(tiny_images(32))
    logs = gan.train_step((images, images, tf.zeros((32, 28, 28, 1))))
    # An untrained D outputs ~0.5: BCE(0.9, 0.5) = BCE(0, 0.5) = ln 2.
    assert float(logs["d_loss_real"]) == pytest.approx(np.log(2), abs=0.05)
    assert float(logs["d_loss_fake"]) == pytest.approx(np.log(2), abs=0.05)


def test_paper_loop_updates_discriminator_only_in_its_own_step():
    keras.utils.set_random_seed(0)
    generator, discriminator = models.build_generator(TINY), models.build_discriminator(TINY)
    loop = training.PaperLoop(generator, discriminator, TINY)
    images = tiny_images(32)
    before = [w.copy() for w in discriminator.get_weights()]
    discriminator.trainable = False  # what step() does before the combined update
    loop.combined.train_on_batch(images, np.ones((32, 1), np.float32))
    discriminator.trainable = True
    assert all(np.array_equal(a, b) for a, b in zip(before, discriminator.get_weights()))
    generator_before = [w.copy() for w in generator.get_weights()]
    d_loss, g_loss = loop.step(images, images)
    assert np.isfinite(d_loss) and np.isfinite(g_loss)
    assert any(not np.array_equal(a, b) for a, b in zip(before, discriminator.get_weights()))
    assert any(not np.array_equal(a, b) for a, b in zip(generator_before, generator.get_weights()))
    assert discriminator.trainable


def test_training_writes_history_snapshots_and_verified_artifacts(tmp_path):
    images = tiny_images()
    snapshot_masks = np.zeros((5, 28, 28), bool)
    snapshot_masks[:, 10:18, 10:18] = True
    snapshot_inputs = (tiny_images(5, seed=1), snapshot_masks)
    run = training.train_gan(images, tmp_path, TINY, seed=0, snapshot_inputs=snapshot_inputs, verbose=0)
    assert run.complete
    steps = TINY.epochs * len(images) // TINY.batch_size
    assert [row["step"] for row in run.history] == list(range(1, steps + 1))
    assert [row["epoch"] for row in run.history] == [1] * 4 + [2] * 4
    assert np.asarray(run.snapshots).shape == (TINY.epochs, 5, 28, 28)
    for name in (training.GENERATOR_WEIGHTS, training.DISCRIMINATOR_WEIGHTS, training.HISTORY,
                 training.SNAPSHOTS, training.RUN_RECORD, artifacts.MANIFEST):
        assert (tmp_path / name).is_file(), name
    assert not (tmp_path / training.CHECKPOINT).exists()
    table = artifacts.load_table(tmp_path / training.HISTORY)
    assert tuple(table) == training.HISTORY_COLUMNS
    assert np.allclose(table["g_loss"], [row["g_loss"] for row in run.history])

    reloaded = training.train_gan(images, tmp_path, TINY, seed=0, verbose=0)  # finished: loads, no training
    assert len(reloaded.history) == steps
    for a, b in zip(weights_of(run), weights_of(reloaded)):
        np.testing.assert_array_equal(a, b)


# Three epochs of four steps: with decay, the checkpoint after the first epoch falls mid-hold and
# the resumed run crosses into the decay.
@pytest.mark.parametrize("config", [TINY, TINY.variant("tiny, decaying", learning_rate_decay=True, epochs=3)],
                         ids=["constant rates", "decaying rates"])
def test_resumed_run_ends_with_the_same_weights_as_an_uninterrupted_one(tmp_path, config):
    images = tiny_images()
    straight = training.train_gan(images, tmp_path / "straight", config, seed=3, verbose=0)
    first = training.train_gan(images, tmp_path / "resumed", config, seed=3, verbose=0, stop_after_epochs=1)
    assert not first.complete and (tmp_path / "resumed" / training.CHECKPOINT).is_file()
    resumed = training.train_gan(images, tmp_path / "resumed", config, seed=3, verbose=0)
    assert resumed.complete
    assert [r["g_loss"] for r in resumed.history] == pytest.approx([r["g_loss"] for r in straight.history], abs=1e-6)
    for a, b in zip(weights_of(straight), weights_of(resumed)):
        np.testing.assert_allclose(a, b, atol=1e-6)


def test_hold_then_linear_decay_holds_then_falls_to_zero():
    schedule = training.HoldThenLinearDecay(2e-4, hold_steps=10, decay_steps=4)
    rates = [float(schedule(step)) for step in (0, 10, 11, 12, 14, 20)]
    assert rates == pytest.approx([2e-4, 2e-4, 1.5e-4, 1e-4, 0.0, 0.0])
    assert training.HoldThenLinearDecay(**schedule.get_config()).get_config() == schedule.get_config()


@pytest.mark.parametrize("arguments, message", [((0.0, 1, 1), "initial"), ((1e-3, -1, 1), "hold_steps"),
                                                ((1e-3, 1, 0), "decay_steps")])
def test_hold_then_linear_decay_rejects_bad_arguments(arguments, message):
    with pytest.raises(ValueError, match=message):
        training.HoldThenLinearDecay(*arguments)
    with pytest.raises(ValueError, match="initial"):
        training.HoldThenLinearDecay(float("inf"), 1, 1)


def test_learning_rate_decays_over_the_whole_run_only_when_asked_and_when_its_length_is_known():
    decaying = TINY.variant("decaying", learning_rate_decay=True, epochs=3)
    assert training.learning_rate(TINY, 2e-4, steps_per_epoch=10) == 2e-4
    assert training.learning_rate(decaying, 2e-4) == 2e-4  # built to load weights, not to train
    schedule = training.learning_rate(decaying, 2e-4, steps_per_epoch=10)
    assert (schedule.hold_steps, schedule.decay_steps) == (15, 15)
    with pytest.raises(ValueError, match="steps_per_epoch"):
        training.learning_rate(decaying, 2e-4, steps_per_epoch=0)


def test_a_decaying_run_ends_with_both_learning_rates_run_down(tmp_path):
    run = training.train_gan(tiny_images(), tmp_path, TINY.variant("decaying", learning_rate_decay=True), verbose=0)
    for optimizer, initial in ((run.gan.generator_optimizer, TINY.generator_learning_rate),
                               (run.gan.discriminator_optimizer, TINY.discriminator_learning_rate)):
        assert int(optimizer.iterations) == 8  # 2 epochs of 4 steps
        schedule = optimizer._learning_rate
        assert float(schedule(2)) == pytest.approx(initial)  # the first half holds
        assert float(schedule(6)) == pytest.approx(initial / 2)
        assert float(schedule(7)) == pytest.approx(initial / 4)  # the last step taken
        assert float(optimizer.learning_rate) == 0.0
    constant = training.train_gan(tiny_images(), tmp_path / "constant", TINY, verbose=0)
    assert float(constant.gan.generator_optimizer.learning_rate) == pytest.approx(TINY.generator_learning_rate)


KILLED_CHILD = textwrap.dedent("""
    import sys, time
    import lib, keras, numpy as np, tensorflow as tf
    from lib import training
    from lib.config import PAPER
    tf.config.experimental.enable_op_determinism()

    class Slow(keras.callbacks.Callback):
        def on_train_batch_end(self, batch, logs=None):
            time.sleep(0.3)

    images = np.random.default_rng(0).uniform(-1, 1, (128, 28, 28, 1)).astype(np.float32)
    config = PAPER.variant("tiny", batch_size=32, epochs=4)
    training.train_gan(images, sys.argv[1], config, seed=5, verbose=0, callbacks=[Slow()])
""")


def test_a_killed_process_resumes_from_its_last_checkpoint_exactly(tmp_path):
    folder = tmp_path / "killed"
    child = subprocess.Popen([sys.executable, "-c", KILLED_CHILD, str(folder)], cwd=REPO,
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 240
    while not (folder / training.CHECKPOINT).is_file() and time.monotonic() < deadline and child.poll() is None:
        time.sleep(0.05)
    time.sleep(0.4)  # into the next epoch: the kill lands between checkpoints
    child.send_signal(signal.SIGKILL)
    child.wait()
    assert child.returncode == -signal.SIGKILL, "the child finished before it could be killed"
    assert not (folder / training.RUN_RECORD).exists()

    config = PAPER.variant("tiny", batch_size=32, epochs=4)
    images = np.random.default_rng(0).uniform(-1, 1, (128, 28, 28, 1)).astype(np.float32)
    resumed = training.train_gan(images, folder, config, seed=5, verbose=0)
    straight = training.train_gan(images, tmp_path / "straight", config, seed=5, verbose=0)
    assert len(resumed.history) == len(straight.history) == 16
    for a, b in zip(weights_of(straight), weights_of(resumed)):
        np.testing.assert_allclose(a, b, atol=1e-6)


def test_checkpoint_from_another_configuration_is_refused(tmp_path):
    images = tiny_images()
    training.train_gan(images, tmp_path, TINY, seed=0, verbose=0, stop_after_epochs=1)
    with pytest.raises(ValueError, match="another seed or configuration"):
        training.train_gan(images, tmp_path, TINY, seed=1, verbose=0)


def test_damaged_finished_run_fails_verification(tmp_path):
    training.train_gan(tiny_images(), tmp_path, TINY, seed=0, verbose=0)
    weights = tmp_path / training.GENERATOR_WEIGHTS
    weights.write_bytes(weights.read_bytes()[: weights.stat().st_size // 2])
    with pytest.raises(ValueError, match="generator.weights.h5"):
        training.load_run(tmp_path, TINY)


def test_classifier_probe_reports_collapse_share(tmp_path):
    classifier = models.build_classifier()
    images = tiny_images()
    labels = np.arange(len(images)) % 10
    run = training.train_gan(images, tmp_path, TINY, seed=0, verbose=0, classifier=classifier,
                             probe_inputs=(images[:50], np.zeros((50, 28, 28), bool)), probe_labels=labels[:50],
                             probe_every_steps=3)
    steps = [row["step"] for row in run.probe]
    assert steps == [3, 4, 6, 8]  # every 3 steps plus each epoch end
    for row in run.probe:
        assert 0 <= row["accuracy"] <= 1 and 0.1 <= row["top_class_share"] <= 1 and 0 <= row["top_class"] <= 9


@pytest.mark.parametrize("bad, message", [
    (np.zeros((128, 28, 28, 1), np.uint8), "float"),
    (np.full((128, 28, 28, 1), 3.0, np.float32), r"\[-1, 1\]"),
    (np.zeros((10, 28, 28, 1), np.float32), "at least one batch"),
])
def test_train_gan_rejects_bad_images(tmp_path, bad, message):
    with pytest.raises(ValueError, match=message):
        training.train_gan(bad, tmp_path, TINY, verbose=0)


DISTRIBUTED_CHILD = textwrap.dedent("""
    import sys, tempfile
    import tensorflow as tf
    cpu = tf.config.list_physical_devices("CPU")[0]
    tf.config.set_logical_device_configuration(cpu, [tf.config.LogicalDeviceConfiguration()] * 2)
    import lib, keras, numpy as np
    from lib import models, training
    from lib.config import PAPER
    strategy = tf.distribute.MirroredStrategy(["/cpu:0", "/cpu:1"])
    assert strategy.num_replicas_in_sync == 2
    config = PAPER.variant("tiny", batch_size=64, epochs=1)
    keras.utils.set_random_seed(0)
    initial = models.build_generator(config).get_weights()  # what train_gan's seed gives
    images = np.random.default_rng(0).uniform(-1, 1, (256, 28, 28, 1)).astype(np.float32)
    run = training.train_gan(images, tempfile.mkdtemp(), config, seed=0, strategy=strategy, verbose=0)
    assert len(run.history) == 4
    assert all(np.isfinite(v) for row in run.history for v in row.values())
    moved = any(not np.allclose(a, b) for a, b in zip(initial, run.gan.generator.get_weights()))
    print("REPLICAS", strategy.num_replicas_in_sync, "MOVED", moved)
""")


def test_training_runs_unchanged_under_mirrored_strategy():
    # Logical devices must be configured before TensorFlow starts, so this runs in a fresh process.
    result = subprocess.run([sys.executable, "-c", DISTRIBUTED_CHILD], cwd=REPO, capture_output=True, text=True,
                            timeout=300)
    assert result.returncode == 0, result.stderr[-3000:]
    assert "REPLICAS 2 MOVED True" in result.stdout


def test_compiled_step_agrees_with_the_papers_train_on_batch_loop():
    agreement = training.paper_loop_agreement(steps=3)
    assert agreement["weights_moved_by"] > 1e-4  # the comparison is not between two idle models
    assert agreement["max_loss_difference"] < 1e-4
    assert agreement["max_weight_difference"] < 1e-4


def test_summarise_run_reports_collapse_epochs(tmp_path):
    classifier = models.build_classifier()
    images = tiny_images()
    run = training.train_gan(images, tmp_path, TINY, seed=0, verbose=0, classifier=classifier,
                             probe_inputs=(images[:40], np.zeros((40, 28, 28), bool)), probe_labels=np.zeros(40, int))
    summary = training.summarise_run(run, last=4)
    assert summary["iterations"] == 8
    shares = {row["epoch"]: row["top_class_share"] for row in run.probe}
    assert summary["collapsed at end of epochs"] == [epoch for epoch, share in shares.items() if share >= 0.9]


def test_literal_keras2_recipe_leaves_the_discriminator_frozen_in_keras3():
    assert training.keras2_recipe_discriminator_change() == 0.0


def test_mixed_precision_computes_in_bfloat16_and_keeps_float32_weights_and_losses():
    mixed = TINY.variant("tiny bf16", mixed_precision=True)
    images = tf.constant(tiny_images(32))
    masks = tf.zeros((32, 28, 28, 1))
    logs = {}
    for config in (TINY, mixed):
        keras.utils.set_random_seed(0)
        gan = training.build_gan(config)
        logs[config.name] = {key: float(value) for key, value in gan.train_step((images, images, masks)).items()}
    assert gan.generator.get_layer("encoder1_conv").compute_dtype == "bfloat16"
    assert {w.dtype for w in gan.generator.get_weights() + gan.discriminator.get_weights()} == {np.dtype("float32")}
    assert gan.generator(images).dtype == tf.float32 and gan.discriminator(images).dtype == tf.float32
    assert keras.config.dtype_policy().name == "float32"  # the build leaves the global policy alone
    # Same initial weights, same batch: bfloat16's 8-bit mantissa moves the first losses by ~1 %.
    for key in ("d_loss_real", "d_loss_fake", "g_loss"):
        assert logs[mixed.name][key] == pytest.approx(logs[TINY.name][key], rel=0.03), key


class CountingGenerator:
    """Records the ``training`` flag of every call to the wrapped generator."""

    def __init__(self, model):
        self.model, self.calls = model, []

    def __call__(self, inputs, training=False):
        self.calls.append(training)
        return self.model(inputs, training=training)

    def __getattr__(self, name):
        return getattr(self.model, name)


@pytest.mark.parametrize("shared, passes", [(False, [False, True]), (True, [True])])
def test_generator_passes_per_iteration(shared, passes):
    keras.utils.set_random_seed(0)
    gan = training.build_gan(TINY.variant("passes", share_generator_pass=shared))
    counting = CountingGenerator(gan.generator)
    gan.generator = counting
    images = tf.constant(tiny_images(32))
    before = [w.copy() for w in counting.model.get_weights()]
    logs = gan.train_step((images, images, tf.zeros((32, 28, 28, 1))))
    assert counting.calls == passes  # the paper: inference-mode fakes, then a training-mode pass
    assert all(np.isfinite(float(value)) for value in logs.values())
    assert any(not np.array_equal(a, b) for a, b in zip(before, counting.model.get_weights()))
