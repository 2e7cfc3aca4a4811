"""Training a GAN into a run folder: `fit` with recording callbacks, epoch checkpoints that
restore every variable by its path, exact resume, and a finish that a kill cannot half-do."""
from __future__ import annotations

import contextlib
import json
import time
from pathlib import Path

from lib import runtime  # noqa: F401  (starts TensorFlow quietly)
import keras
import numpy as np

from lib import artifacts, checkpoints, checks, data, records, runs
from lib.config import PAPER, GANConfig
from lib.gan import build_gan
from lib.inpainting import inpaint


# ---------------------------------------------------------------- recording callbacks

class Recorder(keras.callbacks.Callback):
    """A callback whose rows belong to the run: checkpointed with it, kept when it finishes."""

    key = "rows"

    def __init__(self):
        super().__init__()
        self.rows = []

    def state(self) -> dict:
        return {self.key: np.array(json.dumps(self.rows))}

    def restore(self, arrays):
        self.rows = json.loads(str(arrays[self.key])) if self.key in arrays else []

    def save(self, folder, record):
        """Keep the rows in the finished run: in a file of the folder, or in its ``record``."""
        record[self.key] = self.rows


class IterationHistory(Recorder):
    """Every iteration's metrics (fit's `History` keeps their epoch means)."""

    key = "history"

    def on_epoch_begin(self, epoch, logs=None):
        self.epoch = epoch + 1

    def on_train_batch_end(self, batch, logs=None):
        self.rows.append({"step": len(self.rows) + 1, "epoch": self.epoch,
                          **{name: float(logs[name]) for name in self.model.trackers}})

    def save(self, folder, record):
        artifacts.save_table(Path(folder) / runs.HISTORY, self.rows)


class EpochSnapshots(Recorder):
    """A fixed set of corrupted digits, inpainted after every epoch (kept as uint8 images)."""

    key = "snapshots"

    def __init__(self, corrupted, masks):
        super().__init__()
        self.corrupted = data.with_channel(data.check_images(corrupted, "corrupted"))
        self.masks = data.check_masks(masks, self.corrupted.shape)

    def on_epoch_end(self, epoch, logs=None):
        filled = inpaint(self.model.generator, self.model.config, self.corrupted, self.masks)
        self.rows.append(data.rescale(filled[..., 0]))

    def state(self):
        return {self.key: np.asarray(self.rows, np.uint8).reshape(-1, *self.corrupted.shape[:3])}

    def restore(self, arrays):
        frames = arrays.get(self.key, np.zeros((0, *self.corrupted.shape[:3]), np.uint8))
        if frames.ndim == 3:  # checkpoints written before the epoch axis was kept: one digit per row
            frames = frames.reshape(-1, *self.corrupted.shape[:3])
        self.rows = list(frames)

    def save(self, folder, record):
        if self.rows:
            artifacts.save_arrays(Path(folder) / runs.SNAPSHOTS, frames=np.asarray(self.rows, np.uint8))


class ClassifierProbe(Recorder):
    """Every ``every_steps`` iterations and after each epoch, a classifier reads the generator's
    inpaintings of fixed probe digits: accuracy, and the share of the most frequent predicted
    digit (1.0: every digit came out the same, as from a collapsed, saturated generator), with
    the training time so far."""

    key = "probe"

    def __init__(self, classifier, corrupted, masks, labels, every_steps=0, key="probe"):
        super().__init__()
        if not isinstance(key, str) or not key.startswith("probe"):
            raise ValueError(f"a probe's record key must start with 'probe', got {key!r}")
        self.key = key  # another key for each further probe of a run, e.g. on other holes
        self.classifier = classifier
        self.corrupted = data.with_channel(data.check_images(corrupted, "corrupted"))
        self.masks = data.check_masks(masks, self.corrupted.shape)
        self.labels = np.asarray(labels)
        if self.labels.shape != (len(self.corrupted),):
            raise ValueError(f"need one label per probe image ({len(self.corrupted)}), got shape {self.labels.shape}")
        self.every_steps = checks.count(every_steps, "every_steps")
        self.clock = lambda: 0.0

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
        self.epoch = epoch + 1

    def on_train_batch_end(self, batch, logs=None):
        step = int(self.model.iterations.numpy())
        if self.every_steps and step % self.every_steps == 0:
            self.measure(step, self.epoch)

    def on_epoch_end(self, epoch, logs=None):
        step = int(self.model.iterations.numpy())
        if not self.rows or self.rows[-1]["step"] != step:
            self.measure(step, epoch + 1)


# ---------------------------------------------------------------- checkpoints

def networks(gan):
    """The GAN's networks and optimizers by role, as `lib.checkpoints` keeps them."""
    return ({"generator": gan.generator, "discriminator": gan.discriminator},
            {"g_optimizer": gan.g_optimizer, "d_optimizer": gan.d_optimizer})


RUN_IDENTITY = {"seed": "seed", "config": "configuration", "inputs_sha256": "training data"}


def warm_start(generator, folder):
    """Load the generator weights of the finished run in ``folder`` (relative to the repository)
    into ``generator``: a fine-tuning run starts where that run ended."""
    source = runs.REPO_ROOT / folder
    if runs.status(source) != "finished" or not (source / runs.GENERATOR_WEIGHTS).is_file():
        raise ValueError(f"warm_start must name a finished run with generator weights, got {folder!r}")
    runs.open(source)  # verifies the run's checksums
    try:
        generator.load_weights(source / runs.GENERATOR_WEIGHTS)
    except (ValueError, OSError) as error:
        raise ValueError(f"the generator of {folder!r} does not fit this configuration's: {error}") from None


# ---------------------------------------------------------------- the entry point

def fit_gan(images, folder, config: GANConfig = PAPER, seed=0, recorders=(), callbacks=(), stop_after_epochs=None,
            verbose="auto", strategy=None, jit_compile=False):
    """Train the GAN of ``config`` on ``images`` (float [-1, 1] digits) in ``folder``, or resume
    it there, or open it if it is finished; returns the opened `lib.runs.Run` when it is, else
    None (``stop_after_epochs`` ends this call early, as an interruption would).

    ``recorders`` (`Recorder` callbacks such as `ClassifierProbe`) are checkpointed with the run
    and kept in its folder; ``callbacks`` are plain Keras callbacks. Each epoch ends with a
    checkpoint. Under a ``tf.distribute`` ``strategy`` the models are built in its scope."""
    checks.instance(config, GANConfig)
    images = data.with_channel(data.check_images(images))
    if len(images) < config.batch_size:
        raise ValueError(f"need at least one batch ({config.batch_size}) of training images, got {len(images)}")
    folder = Path(folder)
    keys = [recorder.key for recorder in recorders]
    if len(set(keys)) != len(keys) or "history" in keys:
        raise ValueError(f"recorders must keep different records (the history is always kept), got {keys}")
    expected = {"seed": checks.count(seed, "seed"), "config": json.loads(json.dumps(config.to_dict())),
                "inputs_sha256": runs.inputs_digest(images)}
    artifacts.remove_temporaries(folder)  # a kill mid-save leaves its temporary file behind
    if runs.status(folder) == "finished":
        run = runs.open(folder)
        # Runs committed before training inputs were hashed (no "inputs_sha256") match any data.
        made = {"seed": run.seed, "config": json.loads(json.dumps(run.config.to_dict())),
                "inputs_sha256": run.record.get("inputs_sha256", expected["inputs_sha256"])}
        different = [key for key in made if made[key] != expected[key]]
        if different:
            raise ValueError(f"{folder} holds a finished run with another {', '.join(different)}: "
                             "delete the folder to train it again")
        checkpoints.path(folder).unlink(missing_ok=True)  # left by a kill between the manifest and its removal
        return run

    folder.mkdir(parents=True, exist_ok=True)
    keras.utils.set_random_seed(seed)
    with strategy.scope() if strategy is not None else contextlib.nullcontext():
        gan = build_gan(config, steps_per_epoch=len(images) // config.batch_size, jit_compile=jit_compile)
    history = IterationHistory()
    recorders = [history, *recorders]
    state = {**expected, "epoch": 0, "seconds": 0.0}
    if runs.status(folder) == "resumable":
        state, rows = checkpoints.load(folder, *networks(gan), expected, RUN_IDENTITY)
        for recorder in recorders:
            recorder.restore(rows)
    elif config.warm_start:
        warm_start(gan.generator, config.warm_start)
    started = time.perf_counter() - state["seconds"]
    for recorder in recorders:
        if isinstance(recorder, ClassifierProbe):
            recorder.clock = lambda: time.perf_counter() - started

    batches = data.TrainingEpochs(images, seed, config)  # the digits as one tensor for the whole run
    last_epoch = config.epochs if stop_after_epochs is None else min(config.epochs, state["epoch"] + stop_after_epochs)
    for epoch in range(state["epoch"], last_epoch):
        gan.switch_adversary(epoch >= config.warmup_epochs)
        gan.fit(batches(epoch), epochs=epoch + 1, initial_epoch=epoch,
                callbacks=[*recorders, *callbacks], verbose=verbose, shuffle=False)
        state.update(epoch=epoch + 1, seconds=time.perf_counter() - started)
        checkpoints.save(folder, state, *networks(gan),
                         {key: value for recorder in recorders for key, value in recorder.state().items()})
    if state["epoch"] < config.epochs:
        return None
    return finish(folder, gan, state, recorders, len(images))


def finish(folder, gan, state, recorders, train_images):
    """Write the finished run's files, then commit it (`lib.checkpoints.commit`): until the manifest is
    written the checkpoint stays, so a kill anywhere in here leaves a run that resumes."""
    artifacts.save_weights(gan.generator, folder / runs.GENERATOR_WEIGHTS)
    artifacts.save_weights(gan.discriminator, folder / runs.DISCRIMINATOR_WEIGHTS)
    record = {"config": state["config"], "seed": state["seed"], "inputs_sha256": state["inputs_sha256"],
              "train_images": train_images, "iterations": len(recorders[0].rows),
              "wall_seconds": round(state["seconds"], 1), "machine": records.machine_description()}
    for recorder in recorders:
        recorder.save(folder, record)
    artifacts.save_json(folder / runs.RECORD, record)
    checkpoints.commit(folder)
    return runs.open(folder)
