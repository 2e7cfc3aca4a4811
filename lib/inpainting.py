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
