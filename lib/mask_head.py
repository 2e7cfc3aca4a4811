"""The mask head of blind correction (the paper's "correcting image anomalies" without a mask): a
small U-Net that finds the damaged pixels (VCNet's idea: predict the mask first), so that the
shipped inpainter can fill them (`lib.inpainting.correct_digits`). It learns from `lib.damage`'s
exact labels; `lib.corruptions` (MNIST-C) is what it is measured on (`lib.studies.correction`).
"""
from __future__ import annotations

import math
import time
from pathlib import Path

import numpy as np

from lib import artifacts, checkpoints, checks, corruptions, damage, data, records, runs, shipped
from lib.config import budget
from lib.runtime import keras
from lib.models import batch_normalization

WIDTH = 24  # channels of the first level; 2x and 4x at the 14x14 and 7x7 levels
CONTEXT_DILATIONS = (2, 3)
EPOCHS = 20
BATCH_SIZE = 128
LEARNING_RATE = 2e-3
THRESHOLDS = np.round(np.arange(0.2, 0.85, 0.05), 2)  # the candidates for a pixel's "damaged" probability
WEIGHTS = "mask_head.weights.h5"
RECORD = "mask_head.json"
VALIDATION_STREAM = 10 ** 6  # the validation digits' damage: a seed no training epoch uses


def run_folder(root=()):
    """Where the mask head is trained (`train_mask_head`); the shipped one is `lib.shipped`'s "mask head"."""
    return runs.path(*root, "correction")


# ---------------------------------------------------------------- the mask head

def _convolutions(x, channels, name):
    for index in (1, 2):
        x = keras.layers.Conv2D(channels, 3, padding="same", use_bias=False, name=f"{name}_conv{index}")(x)
        x = batch_normalization(f"{name}_norm{index}")(x)
        x = keras.layers.ReLU(name=f"{name}_relu{index}")(x)
    return x


def _context(x, channels):
    """Dilated convolutions over the 7x7 level (dilation 2, then 3): each cell sees the whole
    digit, so a straight line across it can be told from the digit's own strokes."""
    for rate in CONTEXT_DILATIONS:
        x = keras.layers.Conv2D(channels, 3, padding="same", dilation_rate=rate, use_bias=False, name=f"context{rate}")(x)
        x = batch_normalization(f"context{rate}_norm")(x)
        x = keras.layers.ReLU(name=f"context{rate}_relu")(x)
    return x


def build_mask_head(width=WIDTH):
    """A three-level U-Net (Ronneberger et al. 2015) over a [-1, 1] digit, with dilated context
    at its bottom: one logit per pixel that it was damaged. Skips carry the full-resolution detail
    a thin scratch needs."""
    width = checks.count(width, "width", minimum=1)
    digits = keras.Input((corruptions.SIZE, corruptions.SIZE, 1), name="digits")
    level1 = _convolutions(digits, width, "down28")
    level2 = _convolutions(keras.layers.MaxPooling2D(name="pool14")(level1), 2 * width, "down14")
    bottom = _convolutions(keras.layers.MaxPooling2D(name="pool7")(level2), 4 * width, "bottom7")
    bottom = _context(bottom, 4 * width)
    up = keras.layers.Conv2DTranspose(2 * width, 2, strides=2, name="up14")(bottom)
    up = _convolutions(keras.layers.Concatenate(name="skip14")([up, level2]), 2 * width, "up14")
    up = keras.layers.Conv2DTranspose(width, 2, strides=2, name="up28")(up)
    up = _convolutions(keras.layers.Concatenate(name="skip28")([up, level1]), width, "up28")
    logits = keras.layers.Conv2D(1, 1, name="damage_logits")(up)
    return keras.Model(digits, logits, name="mask_head")


def damage_probabilities(mask_head, images, batch_size=1000):
    """The head's probability (N, 28, 28) that each pixel of float [-1, 1] ``images`` is damaged."""
    images = data.with_channel(data.check_images(images))
    if not len(images):
        return np.zeros(images.shape[:3], np.float32)
    logits = mask_head.predict(images, batch_size=batch_size, verbose=0)[..., 0]
    return 1 / (1 + np.exp(-logits.astype(np.float64)))


def mask_iou(found, true):
    """Intersection over union of two boolean mask batches, pooled over all their pixels
    (1.0 when both are empty)."""
    found, true = data.check_masks(found, name="found"), data.check_masks(true, name="true")
    if found.shape != true.shape:
        raise ValueError(f"found {found.shape} and true {true.shape} masks differ in shape")
    union = (found | true).sum()
    return float((found & true).sum() / union) if union else 1.0


def training_damage(digits, seed, epoch):
    """One epoch's damaged training digits (model input) and their labels (float, 1 = damaged)."""
    damaged, labels = damage.damage(digits, [seed, epoch])
    return data.to_model_input(damaged), data.with_channel(labels.astype(np.float32))


def train_mask_head(epochs=None, seed=0, root=(), plan=None, verbose=2, folder=None):
    """Train the mask head on `lib.damage`'s damage, fresh every epoch, over the training digits
    but the last `lib.data.VALIDATION_DIGITS`; choose the threshold that maximises the validation
    digits' IoU; write the weights and a record (history, threshold, validation scores) to
    `run_folder` of ``root`` (or ``folder``). Returns the record. A killed run resumes after its last finished
    epoch (`lib.checkpoints`). A folder that already holds a finished head, verified by its
    manifest, is kept as it is and its record returned: delete the folder to train again."""
    plan = plan or budget()
    epochs = EPOCHS if epochs is None else checks.count(epochs, "epochs", minimum=1)
    epochs = epochs if plan.mode == "full" else 1
    target = run_folder(root) if folder is None else Path(folder)
    if (target / artifacts.MANIFEST).is_file():  # written once the weights and record are, so: finished
        checkpoints.path(target).unlink(missing_ok=True)  # a kill after the manifest can leave it
        artifacts.verify_manifest(target)
        print(f"{target}: a finished mask head is there, kept (delete the folder to train again)", flush=True)
        return artifacts.load_json(target / RECORD)
    artifacts.remove_temporaries(target)
    (x_train, y_train), _ = data.load_mnist()
    (train, _), (validation, _) = data.validation_split(x_train, y_train, plan.train_images)
    steps_per_epoch = math.ceil(len(train) / BATCH_SIZE)  # fit's steps: the last, smaller batch counts
    head, state = _start_or_resume(target, seed, epochs, steps_per_epoch)
    started = time.perf_counter() - state["seconds"]
    for epoch in range(len(state["history"]), epochs):
        inputs, labels = training_damage(train, seed, epoch)
        keras.utils.set_random_seed(_epoch_seed(seed, epoch))  # the shuffle: a resumed run's is an unbroken one's
        logs = head.fit(inputs, labels, batch_size=BATCH_SIZE, epochs=epoch + 1, initial_epoch=epoch, verbose=verbose)
        state["history"].append({"epoch": epoch + 1, "loss": float(logs.history["loss"][-1])})
        state["seconds"] = time.perf_counter() - started
        target.mkdir(parents=True, exist_ok=True)
        checkpoints.save(target, state, *_networks(head))
    damaged, true = damage.damage(validation, [seed, VALIDATION_STREAM])
    probabilities = damage_probabilities(head, data.scale(damaged))
    ious = {float(threshold): mask_iou(probabilities > threshold, true) for threshold in THRESHOLDS}
    threshold = max(ious, key=ious.get)
    record = {"epochs": epochs, "seed": seed, "train_digits": len(train), "validation_digits": len(validation),
              "width": WIDTH, "context_dilations": list(CONTEXT_DILATIONS), "kinds": list(damage.KINDS),
              "batch_size": BATCH_SIZE, "learning_rate": LEARNING_RATE, "history": state["history"],
              "threshold": threshold, "validation_iou": ious,
              "validation_iou_by_kind": validation_iou_by_kind(head, threshold, validation, seed),
              "wall_seconds": round(time.perf_counter() - started, 1), "machine": records.machine_description()}
    artifacts.save_weights(head, target / WEIGHTS)
    artifacts.save_json(target / RECORD, record)
    checkpoints.commit(target)
    return record


def validation_iou_by_kind(head, threshold, validation, seed):
    """The head's IoU on the validation digits with each kind of training damage alone."""
    ious = {}
    for index, kind in enumerate(damage.KINDS):
        damaged, true = damage.damage(validation, [seed, VALIDATION_STREAM, index + 1], clean_share=0.0, kinds=(kind,))
        ious[kind] = mask_iou(damage_probabilities(head, data.scale(damaged)) > threshold, true)
    return ious


def _epoch_seed(seed, epoch):
    return int(np.random.SeedSequence([seed, epoch + 1]).generate_state(1)[0])


def _networks(head):
    return {"mask_head": head}, {"optimizer": head.optimizer}


def _start_or_resume(target, seed, epochs, steps_per_epoch):
    """A fresh compiled head and state, or the head, optimizer and state of the last epoch a
    killed run of the same seed and length finished in ``target``."""
    keras.utils.set_random_seed(seed)
    head = build_mask_head()
    schedule = keras.optimizers.schedules.CosineDecay(LEARNING_RATE, epochs * steps_per_epoch)
    head.compile(optimizer=keras.optimizers.Adam(schedule), loss=keras.losses.BinaryCrossentropy(from_logits=True))
    head.optimizer.build(head.trainable_variables)
    state = {"seed": seed, "epochs": epochs, "history": [], "seconds": 0.0}
    if not checkpoints.exists(target):
        return head, state
    state, _ = checkpoints.load(target, *_networks(head), {"seed": seed, "epochs": epochs})
    if int(head.optimizer.iterations) != len(state["history"]) * steps_per_epoch:
        raise ValueError(f"{checkpoints.path(target)} has taken {int(head.optimizer.iterations)} steps, not the "
                         f"{len(state['history'])} epochs of {steps_per_epoch} its state records")
    print(f"{target}: resuming after epoch {len(state['history'])}", flush=True)
    return head, state


def training_record(source=None):
    """The shipped mask head's training record (or that of the head in the folder ``source``):
    its history, threshold and validation scores (`train_mask_head`)."""
    return artifacts.load_json((shipped.folder(shipped.MASK_HEAD) if source is None else source) / RECORD)


def load_mask_head(source=None):
    """The shipped mask head (or the one in the folder ``source``), verified against its folder's
    manifest, and its threshold."""
    source = shipped.folder(shipped.MASK_HEAD) if source is None else source
    artifacts.verify_manifest(source)
    width, threshold = artifacts.load_fields(source / RECORD, width=lambda value, name: checks.count(value, name, 1),
                                             threshold=threshold_check)
    return artifacts.load_weights(build_mask_head(width), source / WEIGHTS), threshold


def threshold_check(value, name="threshold"):
    """A mask head's threshold: a probability strictly between 0 and 1."""
    if checks.fraction(value, name) in (0.0, 1.0):
        raise ValueError(f"{name} must lie strictly between 0 and 1, got {value}")
    return float(value)


def resolve_mask_head(mask_head):
    """``(model, threshold)``: the committed head for None, or a given pair, checked."""
    if mask_head is None:
        return load_mask_head()
    if not isinstance(mask_head, (tuple, list)) or len(mask_head) != 2:
        raise ValueError(f"mask_head must be a (model, threshold) pair, got {mask_head!r:.60}")
    model, threshold = mask_head
    checks.instance(model, keras.Model, "mask_head's model")
    return model, checks.fraction(threshold, "mask_head's threshold")
