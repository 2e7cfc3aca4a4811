"""Inpainting with a trained generator: the one call every chapter, the evaluation and the
training callbacks use to turn corrupted digits into completed ones."""
from __future__ import annotations

import numpy as np

from lib import data
from lib.config import GANConfig
from lib.models import complete, generator_inputs


def inpaint(generator, config: GANConfig, corrupted, masks, batch_size=500):
    """Float [-1, 1] digits (N, H, W, 1) with boolean (N, H, W) masks in, float [-1, 1] digits
    (N, H, W, 1) out: the generator's output, composited with the known pixels if the variant
    says so."""
    if not isinstance(config, GANConfig):
        raise ValueError(f"config must be a GANConfig, got {type(config).__name__}")
    corrupted = data.with_channel(data.check_images(corrupted, "corrupted"))
    masks = data.check_masks(masks, corrupted.shape)
    mask_channel = data.with_channel(masks.astype(np.float32))
    generated = generator.predict(generator_inputs(config, corrupted, mask_channel), verbose=0, batch_size=batch_size)
    return np.clip(np.asarray(complete(config, generated, corrupted, mask_channel)), -1.0, 1.0)


# ---------------------------------------------------------------- for your own digits

SHIPPED = ("paper", "recommended")
RECOMMENDED_RECORD = "recommended.json"


def variant_slug(name):
    """A file-safe folder name for a variant, e.g. '+ skip connections' -> 'skip_connections'."""
    return "".join(c if c.isalnum() else "_" for c in name.lower()).strip("_")


def paper_run_folder(seed, root=()):
    """Where the paper's GAN trained with ``seed`` lives (under ``artifacts/<root...>``)."""
    from lib import artifacts

    return artifacts.run_dir(*root, "paper_gan", f"seed{int(seed)}")


def variant_folder(name, epochs, seed=0, root=(), suffix=""):
    """Where a named variant trained for ``epochs`` epochs with ``seed`` lives (``suffix`` tells
    runs of the same variant with other speed settings apart, e.g. ``"-bfloat16"``)."""
    from lib import artifacts

    return artifacts.run_dir(*root, "variants", f"{variant_slug(name)}-{int(epochs)}ep{suffix}", f"seed{int(seed)}")


def recommended_run():
    """The variant chapter 8 recommends and the epochs it was trained for, as recorded when it was
    chosen (records from before the budget was recorded mean the paper's 6 epochs)."""
    from lib import artifacts
    from lib.config import PAPER

    record = artifacts.load_json(artifacts.run_dir("variants") / RECOMMENDED_RECORD)
    return record["chosen"], int(record.get("epochs", PAPER.epochs))


def recommended_name():
    """The variant chapter 8 recommends, as recorded when it was chosen."""
    return recommended_run()[0]


def load_inpainter(name="recommended"):
    """A shipped generator and its configuration, by name: ``"paper"`` (the faithful
    reproduction, seed 0) or ``"recommended"`` (chapter 8's model, as `recommended_run` records it)."""
    from lib.config import PAPER, variant_named
    from lib.training import load_generator  # training imports this module: import here

    if name == "paper":
        return load_generator(paper_run_folder(0), PAPER), PAPER
    if name == "recommended":
        chosen, epochs = recommended_run()
        config = variant_named(chosen)
        return load_generator(variant_folder(chosen, epochs), config), config
    raise ValueError(f"name must be one of {SHIPPED}, got {name!r}")


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
