"""Inpainting with a trained generator: the one call every chapter, the evaluation and the
training callbacks use to turn corrupted digits into completed ones."""
from __future__ import annotations

import numpy as np

from lib import checks, data, runs
from lib.config import GANConfig
from lib.models import complete, generator_inputs


def inpaint(generator, config: GANConfig, corrupted, masks, batch_size=500):
    """Float [-1, 1] digits (N, H, W, 1) with boolean (N, H, W) masks in, float [-1, 1] digits
    (N, H, W, 1) out: the generator's output, composited with the known pixels if the variant
    says so."""
    checks.instance(config, GANConfig)
    corrupted = data.with_channel(data.check_images(corrupted, "corrupted"))
    masks = data.check_masks(masks, corrupted.shape)
    mask_channel = data.with_channel(masks.astype(np.float32))
    generated = generator.predict(generator_inputs(config, corrupted, mask_channel), verbose=0, batch_size=batch_size)
    return np.clip(np.asarray(complete(config, generated, corrupted, mask_channel)), -1.0, 1.0)


# ---------------------------------------------------------------- for your own digits

SHIPPED = ("paper", "recommended", "realistic")


def load_inpainter(name="recommended"):
    """A shipped generator and its configuration, by name: ``"paper"`` (the faithful
    reproduction, seed 0), ``"recommended"`` (chapter 9's model, the most accurate, as
    `lib.runs.recommended_run` records it) or ``"realistic"`` (chapter 11's, whose fills a
    detector finds hardest to tell from real digits, as `lib.runs.realistic_run` records it)."""
    if name not in SHIPPED:
        raise ValueError(f"name must be one of {SHIPPED}, got {name!r}")
    run = runs.open(runs.shipped_inpainter(name))
    return run.generator(), run.config


def inpaint_digits(images, masks, inpainter="recommended"):
    """Inpaint any batch of 28x28 digits with a shipped (or your own) generator.

    ``images``: uint8 in [0, 255] or float in [-1, 1], shape (N, 28, 28) or (N, 28, 28, 1), or a
    single digit without the batch axis. ``masks``: booleans or 0/1 numbers, True/1 = missing,
    shape (N, 28, 28) or (28, 28) (one mask for every digit). ``inpainter``: a shipped name or a
    ``(generator, config)`` pair. Returns the digits in the same dtype, range and shape as given."""
    images = np.asarray(images)
    single = images.ndim == 2
    batch = images[np.newaxis] if single else images
    if batch.ndim == 4 and batch.shape[-1] == 1:
        plain = batch[..., 0]
    elif batch.ndim == 3:
        plain = batch
    else:
        raise ValueError(f"images must be (28, 28), (N, 28, 28) or (N, 28, 28, 1), got {images.shape}")
    if images.dtype == np.uint8:
        scaled = data.scale(plain)
    elif np.issubdtype(images.dtype, np.floating):
        scaled = data.check_images(plain)
    else:
        raise ValueError(f"images must be uint8 in [0, 255] or float in [-1, 1], got dtype {images.dtype}")

    masks = np.asarray(masks)
    if masks.dtype != np.bool_:
        if not np.issubdtype(masks.dtype, np.number) or not np.isin(masks, (0, 1)).all():
            raise ValueError("masks must be booleans or 0/1 numbers (1 = missing)")
        masks = masks.astype(bool)
    if masks.shape == plain.shape[1:]:
        masks = np.broadcast_to(masks, plain.shape)
    if masks.shape != plain.shape:
        raise ValueError(f"masks must have shape {plain.shape[1:]} or {plain.shape}, got {masks.shape}")

    generator, config = load_inpainter(inpainter) if isinstance(inpainter, str) else inpainter
    filled = inpaint(generator, config, data.apply_mask(scaled, masks), np.ascontiguousarray(masks))[..., 0]
    result = data.rescale(filled) if images.dtype == np.uint8 else filled.astype(images.dtype)
    if batch.ndim == 4:
        result = result[..., np.newaxis]
    return result[0] if single else result
