"""Training a GAN into a run folder: `fit` with recording callbacks, epoch checkpoints that
restore every variable by its path, exact resume, and a finish that a kill cannot half-do."""
from __future__ import annotations

import contextlib
import json
import os
import platform
import time
from pathlib import Path

from lib import runtime  # noqa: F401  (starts TensorFlow quietly)
import keras
import numpy as np
import tensorflow as tf

from lib import artifacts, checks, data, runs
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

def _layer_variables(layer, prefix):
    inner = getattr(layer, "layers", None)
    if inner:  # a nested model: its layers by name
        for sublayer in inner:
            yield from _layer_variables(sublayer, f"{prefix}/{layer.name}")
        return
    for variable in layer.variables:
        yield f"{prefix}/{layer.name}/{variable.name}", variable


def variables_by_path(gan):
    """Every variable of the GAN by a stable path: model, layer and variable names for the
    networks (Keras numbers seed generators by creation order, so their own paths depend on what
    else the process built), optimizer and variable names for the optimizers."""
    paths = {}
    for role, model in (("generator", gan.generator), ("discriminator", gan.discriminator)):
        for layer in model.layers:
            paths.update(_layer_variables(layer, role))
    for role, optimizer in (("g_optimizer", gan.g_optimizer), ("d_optimizer", gan.d_optimizer)):
        paths.update((f"{role}/{variable.path}", variable) for variable in optimizer.variables)
    expected = len(gan.generator.variables) + len(gan.discriminator.variables) + len(gan.g_optimizer.variables) \
        + len(gan.d_optimizer.variables)
    if len(paths) != expected:
        raise ValueError(f"variable paths are not unique ({len(paths)} paths for {expected} variables)")
    return paths


def save_checkpoint(path, gan, state, recorders):
    """Every variable (weights, both optimizers, random-seed states), the run state and the
    recorders' rows in ONE file written atomically: a kill at any moment leaves the last good one."""
    arrays = {f"var:{name}": np.asarray(variable) for name, variable in variables_by_path(gan).items()}
    for recorder in recorders:
        arrays.update({f"rec:{key}": value for key, value in recorder.state().items()})
    artifacts.save_arrays(path, state=np.array(json.dumps(state)), **arrays)


def restore_checkpoint(path, gan, recorders, expected_state):
    """Load a checkpoint into ``gan`` and ``recorders``, if it was made by the same run: the same
    seed, configuration and training inputs (``expected_state``); returns its state."""
    stored = artifacts.load_arrays(path, in_progress=True)
    state = json.loads(str(stored["state"]))
    for key in ("seed", "config", "inputs_sha256"):
        if state.get(key) != expected_state[key]:
            what = {"seed": "seed", "config": "configuration", "inputs_sha256": "training data"}[key]
            raise ValueError(f"checkpoint {path} was made with another {what}: delete its folder to start this "
                             "run afresh")
    variables = variables_by_path(gan)
    saved = {key[4:] for key in stored if key.startswith("var:")}
    if saved != set(variables):
        missing, unexpected = sorted(set(variables) - saved), sorted(saved - set(variables))
        raise ValueError(f"checkpoint {path} does not match this model: missing {missing[:3]}, "
                         f"unexpected {unexpected[:3]}")
    for name, variable in variables.items():
        value = stored[f"var:{name}"]
        if tuple(value.shape) != tuple(variable.shape):
            raise ValueError(f"checkpoint {path} does not match this model ({name}: {value.shape})")
        variable.assign(value)
    for recorder in recorders:
        recorder.restore({key[4:]: value for key, value in stored.items() if key.startswith("rec:")})
    return state


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

def machine_description():
    model = platform.processor() or platform.machine()
    with contextlib.suppress(OSError):
        with open("/proc/cpuinfo") as handle:
            names = [line.split(":", 1)[1].strip() for line in handle if line.startswith("model name")]
        model = names[0] if names else model
    return {
        "cpu": model, "cpu_count": os.cpu_count(), "gpus": len(tf.config.list_physical_devices("GPU")),
        "python": platform.python_version(), "tensorflow": tf.__version__, "keras": keras.__version__,
        "platform": platform.platform(),
    }



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
        (folder / runs.CHECKPOINT).unlink(missing_ok=True)  # left by a kill between the manifest and its removal
        return run

    folder.mkdir(parents=True, exist_ok=True)
    keras.utils.set_random_seed(seed)
    with strategy.scope() if strategy is not None else contextlib.nullcontext():
        gan = build_gan(config, steps_per_epoch=len(images) // config.batch_size, jit_compile=jit_compile)
    history = IterationHistory()
    recorders = [history, *recorders]
    state = {**expected, "epoch": 0, "seconds": 0.0}
    if runs.status(folder) == "resumable":
        state = restore_checkpoint(folder / runs.CHECKPOINT, gan, recorders, expected)
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
        save_checkpoint(folder / runs.CHECKPOINT, gan, state, recorders)
    if state["epoch"] < config.epochs:
        return None
    return finish(folder, gan, state, recorders, len(images))


def finish(folder, gan, state, recorders, train_images):
    """Write the finished run's files, then commit it (`lib.runs.commit`): until the manifest is
    written the checkpoint stays, so a kill anywhere in here leaves a run that resumes."""
    artifacts.save_weights(gan.generator, folder / runs.GENERATOR_WEIGHTS)
    artifacts.save_weights(gan.discriminator, folder / runs.DISCRIMINATOR_WEIGHTS)
    record = {"config": state["config"], "seed": state["seed"], "inputs_sha256": state["inputs_sha256"],
              "train_images": train_images, "iterations": len(recorders[0].rows),
              "wall_seconds": round(state["seconds"], 1), "machine": machine_description()}
    for recorder in recorders:
        recorder.save(folder, record)
    artifacts.save_json(folder / runs.RECORD, record)
    runs.commit(folder)
    return runs.open(folder)
