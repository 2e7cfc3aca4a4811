"""The paper's adversarial training as a `keras.Model`, its callbacks, and the train entry point.

`InpaintingGAN.train_step` is one iteration of the paper's loop (SPEC section 2), compiled into
a TensorFlow graph by `fit`. `train_gan` runs a whole training with per-epoch checkpoints
that hold everything needed for an exact resume, and writes the final weights, the
per-iteration history, the epoch snapshots and a run record into one folder.
"""
from __future__ import annotations

import contextlib
import json
import os
import platform
import time
from dataclasses import dataclass, field
from pathlib import Path

import keras
import numpy as np
import tensorflow as tf

from lib import artifacts, data
from lib.config import PAPER, GANConfig
from lib.inpainting import inpaint
from lib.models import build_discriminator, build_generator, complete, generator_inputs

HISTORY_COLUMNS = ("step", "epoch", "d_loss_real", "d_loss_fake", "g_loss", "d_acc_real", "d_acc_fake",
                   "g_reconstruction")
CHECKPOINT = "checkpoint.npz"
RUN_RECORD = "run.json"
GENERATOR_WEIGHTS = "generator.weights.h5"
DISCRIMINATOR_WEIGHTS = "discriminator.weights.h5"
HISTORY = "history.csv"
SNAPSHOTS = "snapshots.npz"


def _replicas():
    return tf.distribute.get_strategy().num_replicas_in_sync


class InpaintingGAN(keras.Model):
    """Generator and discriminator trained in turn, one `train_step` per paper iteration.

    Faithful to the paper's `train_on_batch` loop: the discriminator sees the generator's output
    computed in inference mode (as `generator.predict` does) next to the real batch, with labels
    0.9 / 0; then the generator is trained through the discriminator (Dropout active, weights
    untouched) towards the label 1, with a second, training-mode forward pass."""

    def __init__(self, generator, discriminator, config: GANConfig = PAPER, **kwargs):
        super().__init__(**kwargs)
        if not isinstance(config, GANConfig):
            raise ValueError(f"config must be a GANConfig, got {type(config).__name__}")
        self.generator = generator
        self.discriminator = discriminator
        self.config = config
        self.binary_crossentropy = keras.losses.BinaryCrossentropy()

    def compile(self, generator_optimizer=None, discriminator_optimizer=None, jit_compile=False,
                steps_per_epoch=None):
        """Adam for both models, as the paper. With ``config.learning_rate_decay`` the rates follow
        `HoldThenLinearDecay` over ``config.epochs * steps_per_epoch`` iterations; without
        ``steps_per_epoch`` (a model built to load weights, not to train) they stay constant."""
        super().compile(jit_compile=jit_compile)
        cfg = self.config
        self.generator_optimizer = generator_optimizer or keras.optimizers.Adam(
            learning_rate(cfg, cfg.generator_learning_rate, steps_per_epoch), beta_1=cfg.adam_beta_1
        )
        self.discriminator_optimizer = discriminator_optimizer or keras.optimizers.Adam(
            learning_rate(cfg, cfg.discriminator_learning_rate, steps_per_epoch), beta_1=cfg.adam_beta_1
        )
        self.generator_optimizer.build(self.generator.trainable_variables)
        self.discriminator_optimizer.build(self.discriminator.trainable_variables)

    def call(self, corrupted, training=False):
        return self.generator(corrupted, training=training)

    def hole_loss(self, original, generated, masks):
        """Mean L1 or L2 error over the missing pixels only (Context Encoders' reconstruction loss)."""
        error = tf.abs(generated - original) if self.config.reconstruction_loss == "l1" else tf.square(generated - original)
        return tf.reduce_sum(error * masks) / tf.maximum(tf.reduce_sum(masks), 1.0)

    def train_step(self, batch):
        corrupted, original, masks = batch
        cfg = self.config
        size = tf.shape(original)[0]
        column = (size, 1)
        inputs = generator_inputs(cfg, corrupted, masks)

        generator_tape = tf.GradientTape()
        if cfg.share_generator_pass:
            # One training-mode pass feeds both updates: faster, but not the paper's procedure.
            with generator_tape:
                output = self.generator(inputs, training=True)
            generated = tf.stop_gradient(complete(cfg, output, corrupted, masks))
        else:  # the paper: the discriminator's fakes come from an inference-mode pass
            generated = complete(cfg, self.generator(inputs, training=False), corrupted, masks)
        images = tf.concat([original, generated], axis=0)
        labels = tf.concat([tf.fill(column, cfg.real_label), tf.fill(column, cfg.fake_label)], axis=0)
        with tf.GradientTape() as tape:
            predictions = self.discriminator(images, training=True)
            d_loss = self.binary_crossentropy(labels, predictions)
            # Gradients are summed over replicas under a tf.distribute strategy.
            replica_loss = d_loss / _replicas()
        variables = self.discriminator.trainable_variables
        gradients = tape.gradient(replica_loss, variables)
        self.discriminator_optimizer.apply(gradients, variables)

        with generator_tape as tape:  # re-entered: it already holds the shared pass, if any
            if not cfg.share_generator_pass:
                output = self.generator(inputs, training=True)
            fooled = self.discriminator(complete(cfg, output, corrupted, masks), training=True)
            g_loss = self.binary_crossentropy(tf.ones(column), fooled)
            if cfg.reconstruction_weight:
                reconstruction = self.hole_loss(original, output, masks)
                total = cfg.adversarial_weight * g_loss + cfg.reconstruction_weight * reconstruction
            else:  # the paper: the adversarial loss alone
                reconstruction, total = tf.zeros(()), g_loss
            replica_loss = total / _replicas()
        variables = self.generator.trainable_variables
        gradients = tape.gradient(replica_loss, variables)
        self.generator_optimizer.apply(gradients, variables)

        real, fake = predictions[:size], predictions[size:]
        return {
            "d_loss_real": self.binary_crossentropy(labels[:size], real),
            "d_loss_fake": self.binary_crossentropy(labels[size:], fake),
            "g_loss": g_loss,
            "d_acc_real": tf.reduce_mean(tf.cast(real > 0.5, tf.float32)),
            "d_acc_fake": tf.reduce_mean(tf.cast(fake <= 0.5, tf.float32)),
            "g_reconstruction": reconstruction,
        }


@keras.saving.register_keras_serializable(package="gan_book")
class HoldThenLinearDecay(keras.optimizers.schedules.LearningRateSchedule):
    """CycleGAN's learning-rate schedule (Zhu et al. 2017): ``initial`` up to iteration
    ``hold_steps``, then a straight line that reaches zero at ``hold_steps + decay_steps`` (the
    optimizer reads the rate before counting the step, so a run of that many iterations ends
    with ``initial / decay_steps``)."""

    def __init__(self, initial, hold_steps, decay_steps):
        if not 0 < initial < float("inf"):
            raise ValueError(f"initial learning rate must be a positive finite number, got {initial}")
        if hold_steps < 0 or decay_steps < 1:
            raise ValueError(f"need hold_steps >= 0 and decay_steps >= 1, got {hold_steps} and {decay_steps}")
        self.initial, self.hold_steps, self.decay_steps = float(initial), int(hold_steps), int(decay_steps)

    def __call__(self, step):
        step = tf.cast(step, tf.float32)
        remaining = 1.0 - (step - self.hold_steps) / self.decay_steps
        return self.initial * tf.clip_by_value(remaining, 0.0, 1.0)

    def get_config(self):
        return {"initial": self.initial, "hold_steps": self.hold_steps, "decay_steps": self.decay_steps}


def learning_rate(config: GANConfig, initial, steps_per_epoch=None):
    """``initial``, or its `HoldThenLinearDecay` over the whole run when the configuration decays
    it and the run's length is known (``steps_per_epoch``)."""
    if not config.learning_rate_decay or steps_per_epoch is None:
        return initial
    if int(steps_per_epoch) < 1:
        raise ValueError(f"steps_per_epoch must be >= 1, got {steps_per_epoch}")
    total = config.epochs * int(steps_per_epoch)
    return HoldThenLinearDecay(initial, total // 2, total - total // 2)


def build_gan(config: GANConfig = PAPER, jit_compile=False, steps_per_epoch=None):
    """Generator, discriminator and the compiled `InpaintingGAN` around them (``steps_per_epoch``:
    the length of an epoch, which a decaying learning rate needs; see `InpaintingGAN.compile`).

    XLA is off by default: on the book's 2-core CPUs the XLA-compiled step measured about eight
    times slower than TensorFlow's graph mode with oneDNN kernels (`benchmarks/train_speed.py`)."""
    gan = InpaintingGAN(build_generator(config), build_discriminator(config), config)
    gan.compile(jit_compile=jit_compile, steps_per_epoch=steps_per_epoch)
    return gan


# ---------------------------------------------------------------- callbacks

class IterationHistory(keras.callbacks.Callback):
    """Keeps every iteration's losses and accuracies (fit's `History` keeps one value per epoch)."""

    def __init__(self, rows=None, steps_per_epoch=None):
        super().__init__()
        self.rows = list(rows or [])
        self.steps_per_epoch = steps_per_epoch
        self.epoch = 0

    def on_epoch_begin(self, epoch, logs=None):
        self.epoch = epoch

    def on_train_batch_end(self, batch, logs=None):
        values = {key: float(logs[key]) for key in HISTORY_COLUMNS[2:]}
        self.rows.append({"step": len(self.rows) + 1, "epoch": self.epoch + 1, **values})


class EpochSnapshots(keras.callbacks.Callback):
    """Inpaints a fixed set of corrupted test digits after every epoch and keeps the images."""

    def __init__(self, corrupted, masks, frames=None):
        super().__init__()
        self.corrupted = data.with_channel(data.check_images(corrupted, "corrupted"))
        self.masks = data.check_masks(masks, self.corrupted.shape)
        self.frames = list(frames) if frames is not None else []

    def on_epoch_end(self, epoch, logs=None):
        filled = inpaint(self.model.generator, self.model.config, self.corrupted, self.masks)
        self.frames.append(data.rescale(filled[..., 0]))


class ClassifierProbe(keras.callbacks.Callback):
    """Every ``every_steps`` iterations (and after each epoch), classifies the generator's
    inpaintings of a fixed probe set: accuracy, the share of the most frequent predicted digit
    (1.0 means every input came out as the same digit: mode collapse) and elapsed training time."""

    def __init__(self, classifier, corrupted, masks, labels, every_steps=0, rows=None, clock=None):
        super().__init__()
        self.classifier = classifier
        self.corrupted = data.with_channel(data.check_images(corrupted, "corrupted"))
        self.masks = data.check_masks(masks, self.corrupted.shape)
        self.labels = np.asarray(labels)
        if len(self.labels) != len(self.corrupted):
            raise ValueError(f"{len(self.labels)} labels for {len(self.corrupted)} probe images")
        self.every_steps = int(every_steps)
        self.rows = list(rows or [])
        self.clock = clock or (lambda: 0.0)
        self.step = self.rows[-1]["step"] if self.rows else 0
        self.epoch = 0

    def measure(self, step, epoch):
        filled = inpaint(self.model.generator, self.model.config, self.corrupted, self.masks)
        predicted = self.classifier.predict(filled, verbose=0, batch_size=500).argmax(axis=1)
        counts = np.bincount(predicted, minlength=10)
        self.rows.append({
            "step": int(step), "epoch": int(epoch), "seconds": float(self.clock()),
            "accuracy": float((predicted == self.labels).mean()),
            "top_class": int(counts.argmax()), "top_class_share": float(counts.max() / len(predicted)),
        })

    def on_epoch_begin(self, epoch, logs=None):
        self.epoch = epoch

    def on_train_batch_end(self, batch, logs=None):
        self.step += 1
        if self.every_steps and self.step % self.every_steps == 0:
            self.measure(self.step, self.epoch + 1)

    def on_epoch_end(self, epoch, logs=None):
        if not self.rows or self.rows[-1]["step"] != self.step:
            self.measure(self.step, epoch + 1)


# ---------------------------------------------------------------- checkpoints

def _checkpoint_variables(gan):
    return list(gan.variables) + list(gan.generator_optimizer.variables) + list(gan.discriminator_optimizer.variables)


def save_checkpoint(path, gan, state, snapshots):
    """Every variable (weights, both optimizers, random-seed states), the run state and the
    snapshots, in ONE file written atomically: a kill at any moment leaves the last good one."""
    values = {f"v{index:04d}": np.asarray(v) for index, v in enumerate(_checkpoint_variables(gan))}
    artifacts.save_arrays(path, state=np.array(json.dumps(state)), snapshots=np.asarray(snapshots, np.uint8), **values)


def restore_checkpoint(path, gan):
    stored = artifacts.load_arrays(path)
    variables = _checkpoint_variables(gan)
    if sum(key.startswith("v") for key in stored) != len(variables):
        raise ValueError(f"checkpoint {path} does not match this model (different variable count)")
    for index, variable in enumerate(variables):
        value = stored[f"v{index:04d}"]
        if tuple(value.shape) != tuple(variable.shape):
            raise ValueError(f"checkpoint {path} does not match this model ({variable.path}: {value.shape})")
        variable.assign(value)
    return json.loads(str(stored["state"])), list(stored["snapshots"])


# ---------------------------------------------------------------- entry point

def machine_description():
    model = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo") as handle:
            names = [line.split(":", 1)[1].strip() for line in handle if line.startswith("model name")]
        model = names[0] if names else model
    except OSError:
        pass
    gpus = tf.config.list_physical_devices("GPU")
    return {
        "cpu": model, "cpu_count": os.cpu_count(), "gpus": len(gpus), "python": platform.python_version(),
        "tensorflow": tf.__version__, "keras": keras.__version__, "platform": platform.platform(),
    }


@dataclass
class TrainingRun:
    """What `train_gan` returns: the trained networks and everything recorded along the way."""

    gan: InpaintingGAN
    folder: Path
    complete: bool
    history: list = field(default_factory=list)
    probe: list = field(default_factory=list)
    snapshots: list = field(default_factory=list)
    record: dict = field(default_factory=dict)


def train_gan(images, folder, config: GANConfig = PAPER, seed=0, snapshot_inputs=None, classifier=None,
              probe_inputs=None, probe_labels=None, probe_every_steps=0, stop_after_epochs=None,
              verbose="auto", jit_compile=False, strategy=None, callbacks=()):
    """Train (or resume, or just load) the paper's GAN in ``folder``.

    ``images``: float [-1, 1] training digits. ``snapshot_inputs`` and ``probe_inputs`` are
    ``(corrupted, masks)`` pairs of test digits, inpainted after every epoch (kept as images) and
    every ``probe_every_steps`` iterations (classified by ``classifier``). Each epoch ends with a checkpoint; if ``folder``
    holds one, training resumes from it exactly. When every epoch is done the checkpoint is
    replaced by the final artifacts (weights, ``history.csv``, ``snapshots.npz``, ``run.json``);
    calling again on a finished folder loads them without training. ``stop_after_epochs`` ends
    this call early (as an interruption would). Under a ``tf.distribute`` ``strategy`` the
    models are built in its scope and `fit` splits every batch across its replicas."""
    if not isinstance(config, GANConfig):
        raise ValueError(f"config must be a GANConfig, got {type(config).__name__}")
    if classifier is not None and (probe_inputs is None or probe_labels is None):
        raise ValueError("a classifier needs probe_inputs (corrupted, masks) and probe_labels to classify")
    images = data.with_channel(data.check_images(images))
    if len(images) < config.batch_size:
        raise ValueError(f"need at least one batch ({config.batch_size}) of training images, got {len(images)}")
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    if (folder / RUN_RECORD).is_file():
        record = artifacts.load_json(folder / RUN_RECORD)
        if record.get("seed") != seed or GANConfig.from_dict(record.get("config", {})) != config:
            raise ValueError(f"{folder} holds a finished run with another seed or configuration")
        return load_run(folder, config)

    keras.utils.set_random_seed(seed)
    scope = strategy.scope() if strategy is not None else contextlib.nullcontext()
    with scope:
        gan = build_gan(config, jit_compile=jit_compile, steps_per_epoch=len(images) // config.batch_size)
    state = {"epoch": 0, "seconds": 0.0, "history": [], "probe": [], "seed": seed, "config": config.to_dict()}
    snapshots = []
    if (folder / CHECKPOINT).is_file():
        state, snapshots = restore_checkpoint(folder / CHECKPOINT, gan)
        if state["seed"] != seed or GANConfig.from_dict(state["config"]) != config:
            raise ValueError(f"checkpoint in {folder} was made with another seed or configuration")

    started = time.perf_counter() - state["seconds"]
    history = IterationHistory(state["history"])
    callbacks = [history, *callbacks]
    if snapshot_inputs is not None:
        snapshotter = EpochSnapshots(*snapshot_inputs, snapshots)
        callbacks.append(snapshotter)
    probe = None
    if classifier is not None:
        probe = ClassifierProbe(classifier, *probe_inputs, probe_labels, probe_every_steps, state["probe"],
                                clock=lambda: time.perf_counter() - started)
        callbacks.append(probe)

    last_epoch = config.epochs if stop_after_epochs is None else min(config.epochs, state["epoch"] + stop_after_epochs)
    for epoch in range(state["epoch"], last_epoch):
        dataset = data.training_epoch(images, seed, epoch, config)
        gan.fit(dataset, epochs=epoch + 1, initial_epoch=epoch, callbacks=callbacks, verbose=verbose,
                shuffle=False)
        state.update(epoch=epoch + 1, seconds=time.perf_counter() - started, history=history.rows,
                     probe=probe.rows if probe else [])
        save_checkpoint(folder / CHECKPOINT, gan, state, snapshotter.frames if snapshot_inputs is not None else [])

    run = TrainingRun(gan, folder, state["epoch"] == config.epochs, history.rows, state["probe"],
                      snapshotter.frames if snapshot_inputs is not None else [])
    if run.complete:
        run.record = _finish(run, state, config, seed, len(images))
    return run


def _finish(run, state, config, seed, train_images):
    folder = run.folder
    artifacts.save_weights(run.gan.generator, folder / GENERATOR_WEIGHTS)
    artifacts.save_weights(run.gan.discriminator, folder / DISCRIMINATOR_WEIGHTS)
    artifacts.save_table(folder / HISTORY, run.history)
    if run.snapshots:
        artifacts.save_arrays(folder / SNAPSHOTS, frames=np.asarray(run.snapshots, np.uint8))
    record = {
        "config": config.to_dict(), "seed": seed, "train_images": train_images,
        "iterations": len(run.history), "wall_seconds": round(state["seconds"], 1),
        "machine": machine_description(), "probe": run.probe,
    }
    artifacts.save_json(folder / RUN_RECORD, record)
    (folder / CHECKPOINT).unlink(missing_ok=True)
    artifacts.write_manifest(folder)
    return record


def load_run(folder, config: GANConfig = PAPER):
    """Load a finished run (weights, history, snapshots, record) after verifying its checksums."""
    folder = Path(folder)
    artifacts.verify_manifest(folder)
    gan = build_gan(config)
    artifacts.load_weights(gan.generator, folder / GENERATOR_WEIGHTS)
    artifacts.load_weights(gan.discriminator, folder / DISCRIMINATOR_WEIGHTS)
    table = artifacts.load_table(folder / HISTORY)
    history = [dict(zip(table, values)) for values in zip(*table.values())]
    snapshots = list(artifacts.load_arrays(folder / SNAPSHOTS)["frames"]) if (folder / SNAPSHOTS).is_file() else []
    record = artifacts.load_json(folder / RUN_RECORD)
    return TrainingRun(gan, folder, True, history, record.get("probe", []), snapshots, record)


def load_generator(folder, config: GANConfig = PAPER):
    """Just the trained generator of a finished run (checksums verified)."""
    folder = Path(folder)
    artifacts.verify_manifest(folder)
    return artifacts.load_weights(build_generator(config), folder / GENERATOR_WEIGHTS)


# ---------------------------------------------------------------- the paper's own loop

class PaperLoop:
    """The paper's public training loop, kept as the reference: `generator.predict`, then
    `discriminator.train_on_batch` on real + generated digits, then `combined.train_on_batch`
    (generator -> frozen discriminator) towards the label 1. One call of `step` is one iteration.

    In Keras 3 a model's `trainable` flag is read on every `train_on_batch` call, so the loop
    switches the discriminator on for its own update and off for the combined one, as the
    paper's "boolean" does, and leaves it trainable between iterations."""

    def __init__(self, generator, discriminator, config: GANConfig = PAPER):
        self.generator, self.discriminator, self.config = generator, discriminator, config
        discriminator.compile(
            optimizer=keras.optimizers.Adam(config.discriminator_learning_rate, beta_1=config.adam_beta_1),
            loss="binary_crossentropy",
        )
        size = config.image_size
        corrupted = keras.Input((size, size, 1))
        self.combined = keras.Model(corrupted, discriminator(generator(corrupted)), name="combined")
        self.combined.compile(
            optimizer=keras.optimizers.Adam(config.generator_learning_rate, beta_1=config.adam_beta_1),
            loss="binary_crossentropy",
        )

    def step(self, corrupted, original):
        cfg = self.config
        size = len(original)
        generated = self.generator.predict(corrupted, verbose=0, batch_size=size)
        images = np.concatenate([original, generated])
        labels = np.concatenate([np.full((size, 1), cfg.real_label), np.full((size, 1), cfg.fake_label)]).astype(np.float32)
        self.discriminator.trainable = True
        d_loss = self.discriminator.train_on_batch(images, labels)
        self.discriminator.trainable = False
        g_loss = self.combined.train_on_batch(corrupted, np.ones((size, 1), np.float32))
        self.discriminator.trainable = True
        return float(d_loss), float(g_loss)


def paper_loop_agreement(config: GANConfig = PAPER, steps=3, seed=0, batch_size=32):
    """Train two copies of the same initial networks for ``steps`` iterations on the same
    batches, one with the paper's `train_on_batch` loop and one with `InpaintingGAN.train_step`,
    and return the largest absolute differences of their losses and weights.

    Dropout draws different random numbers in the two implementations, so it is switched off
    here (``dropout_rate=0``): what remains is the procedure itself, which must agree to float
    round-off."""
    config = config.variant(config.name, dropout_rate=0.0, batch_size=batch_size)
    rng = np.random.default_rng(seed)
    originals = rng.uniform(-1, 1, (steps, batch_size, config.image_size, config.image_size, 1)).astype(np.float32)
    masks = np.stack([data.paper_masks(batch_size, [seed, step]) for step in range(steps)])
    keras.utils.set_random_seed(seed)
    gan = build_gan(config)
    initial = [w.copy() for w in gan.generator.get_weights()]
    twin_generator, twin_discriminator = build_generator(config), build_discriminator(config)
    twin_generator.set_weights(gan.generator.get_weights())
    twin_discriminator.set_weights(gan.discriminator.get_weights())
    loop = PaperLoop(twin_generator, twin_discriminator, config)
    loss_gap = 0.0
    for original, mask in zip(originals, masks):
        corrupted = data.apply_mask(original, mask)
        logs = gan.train_step((tf.constant(corrupted), tf.constant(original), tf.constant(data.with_channel(mask.astype(np.float32)))))
        d_loss, g_loss = loop.step(corrupted, original)
        compiled_d_loss = (float(logs["d_loss_real"]) + float(logs["d_loss_fake"])) / 2
        loss_gap = max(loss_gap, abs(compiled_d_loss - d_loss), abs(float(logs["g_loss"]) - g_loss))
    pairs = [(gan.generator, twin_generator), (gan.discriminator, twin_discriminator)]
    weight_gap = max(float(np.abs(a - b).max()) for one, two in pairs for a, b in zip(one.get_weights(), two.get_weights()))
    moved = max(float(np.abs(a - b).max()) for a, b in zip(twin_generator.get_weights(), initial))
    return {"steps": steps, "max_loss_difference": loss_gap, "max_weight_difference": weight_gap, "weights_moved_by": moved}


def history_arrays(run):
    """A run's per-iteration history as one NumPy array per column (the paper's columns)."""
    return {key: np.array([row[key] for row in run.history]) for key in HISTORY_COLUMNS[:7]}


def summarise_run(run, last=100, collapse_share=0.9):
    """The facts chapter 4 reports for one run: speed, the final losses and accuracies over the
    last ``last`` iterations, the probe accuracy, and the epochs at whose end at least
    ``collapse_share`` of the probe digits were classified as one and the same digit."""
    history = history_arrays(run)
    epoch_ends = list({row["epoch"]: row for row in run.probe}.values())  # the last probe of each epoch
    return {
        "seed": run.record.get("seed"), "iterations": len(run.history),
        "wall_minutes": round(run.record.get("wall_seconds", float("nan")) / 60, 1),
        **{f"{key} (last {last})": round(float(history[key][-last:].mean()), 3)
           for key in ("d_loss_real", "d_loss_fake", "g_loss", "d_acc_real", "d_acc_fake")},
        "probe accuracy at the end": run.probe[-1]["accuracy"] if run.probe else None,
        "best probe accuracy": max(row["accuracy"] for row in run.probe) if run.probe else None,
        "collapsed at end of epochs": [row["epoch"] for row in epoch_ends if row["top_class_share"] >= collapse_share],
    }


def keras2_recipe_discriminator_change(config: GANConfig = PAPER, seed=0, batch_size=32):
    """The classic Keras 2 GAN recipe, ported literally: compile the discriminator, set
    ``trainable = False``, build and compile the combined model, then call
    ``discriminator.train_on_batch``. Returns the largest change of any discriminator weight
    caused by that call. Keras 3 reads ``trainable`` at every call, so the answer is 0.0: the
    discriminator never learns, unless the flag is switched back on as `PaperLoop` does."""
    keras.utils.set_random_seed(seed)
    generator, discriminator = build_generator(config), build_discriminator(config)
    discriminator.compile(optimizer=keras.optimizers.Adam(config.discriminator_learning_rate, beta_1=config.adam_beta_1),
                          loss="binary_crossentropy")
    discriminator.trainable = False
    corrupted = keras.Input((config.image_size, config.image_size, 1))
    combined = keras.Model(corrupted, discriminator(generator(corrupted)))
    combined.compile(optimizer=keras.optimizers.Adam(config.generator_learning_rate, beta_1=config.adam_beta_1),
                     loss="binary_crossentropy")
    images = np.random.default_rng(seed).uniform(-1, 1, (batch_size, config.image_size, config.image_size, 1))
    before = [w.copy() for w in discriminator.get_weights()]
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # Keras warns that the model has no trainable weights: the point
        discriminator.train_on_batch(images.astype(np.float32), np.full((batch_size, 1), config.real_label, np.float32))
    return max(float(np.abs(a - b).max()) for a, b in zip(before, discriminator.get_weights()))
