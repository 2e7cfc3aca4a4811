"""Inpainting with a trained generator: the one call every chapter, the evaluation and the
training callbacks use to turn corrupted digits into completed ones (`inpaint`), and the calls a
reader makes on digits of their own: `inpaint_digits` where the holes are known, `correct_digits`
(and `find_damage`) where they are not. Every input is checked once, where it enters."""
from __future__ import annotations

import numpy as np

from lib import checks, data, datasets, mask_head as mask_heads, runs, shipped
from lib.config import PAPER, GANConfig
from lib.models import complete, generator_inputs


def check_generator(generator, config: GANConfig):
    """``generator``, if it can run under ``config``: a model with ``predict`` whose input (when it
    declares one) is what `generator_inputs` feeds for this configuration. A generator trained with
    a mask channel and a configuration without one (or the reverse) are two different models."""
    checks.instance(config, GANConfig)
    if isinstance(generator, (str, bytes)) or not callable(getattr(generator, "predict", None)):
        raise ValueError(f"generator must be a Keras model (something with .predict), got {type(generator).__name__}")
    declared = getattr(generator, "input_shape", None)
    if declared is not None:
        size = config.image_size
        expected = (size, size, 2 if config.mask_channel else 1)
        if tuple(declared[1:]) != expected:
            feeds = "the digit and the mask channel" if config.mask_channel else "the digit alone"
            raise ValueError(f"generator {getattr(generator, 'name', '')!r} takes inputs of shape {tuple(declared[1:])}, but "
                             f"configuration {config.name!r} feeds it {feeds}, {expected}: the generator and the "
                             "configuration come from different models")
    return generator


def inpaint(generator, config: GANConfig, corrupted, masks, batch_size=500):
    """Float [-1, 1] digits (N, H, W, 1) with boolean (N, H, W) masks in, float [-1, 1] digits
    (N, H, W, 1) out: the generator's output, composited with the known pixels if the variant
    says so."""
    check_generator(generator, config)
    batch_size = checks.count(batch_size, "batch_size", minimum=1)
    corrupted = data.with_channel(data.check_images(corrupted, "corrupted"))
    masks = data.check_masks(masks, corrupted.shape)
    if not len(corrupted):
        return corrupted.copy()
    mask_channel = data.with_channel(masks.astype(np.float32))
    generated = generator.predict(generator_inputs(config, corrupted, mask_channel), verbose=0, batch_size=batch_size)
    return np.clip(np.asarray(complete(config, generated, corrupted, mask_channel)), -1.0, 1.0)


# ---------------------------------------------------------------- for your own digits

def load_inpainter(name=shipped.DEFAULT_INPAINTER, dataset=datasets.DEFAULT):
    """A shipped generator and its configuration, by name: ``"book"`` (the book's model, the
    default: trained from scratch in under 15 minutes, chosen on held-out digits for accuracy,
    then realism), ``"paper"`` (the faithful reproduction of the paper's GAN, seed 0), or one of
    the earlier models: ``"recommended"`` (chapter 6's 40-epoch context encoder, accurate but
    blurred) and ``"realistic"`` (chapter 7's fine-tune of it against a discriminator). Another
    ``dataset`` than MNIST (`lib.datasets`) gives that dataset's model of the name."""
    run = runs.open(shipped.folder(shipped.check_name(name, shipped.ALL_INPAINTERS), datasets.root(dataset)))
    return run.generator(), run.config


def resolve_inpainter(inpainter, dataset=datasets.DEFAULT):
    """``(generator, config)`` for a shipped name (``dataset``'s model) or a pair given as it is, checked."""
    if isinstance(inpainter, str):
        return load_inpainter(inpainter, dataset)
    if not isinstance(inpainter, (tuple, list)) or len(inpainter) != 2:
        given = f"a {type(inpainter).__name__} of length {len(inpainter)}" if isinstance(inpainter, (tuple, list)) \
            else f"{inpainter!r:.60} ({type(inpainter).__name__})"
        raise ValueError(f"inpainter must be a shipped name {shipped.ALL_INPAINTERS} or a (generator, config) pair, got {given}")
    generator, config = inpainter
    return check_generator(generator, config), config


IMAGE_FORMS = "(28, 28), (28, 28, 1), (N, 28, 28) or (N, 28, 28, 1)"


def digit_batch(images, size=PAPER.image_size):
    """``images`` as an array and as an (N, size, size) batch. A lone (28, 28, 1) digit is one
    digit with a channel axis, not 28 images of 28 x 1 pixels."""
    try:
        images = np.asarray(images)
    except ValueError as error:
        raise ValueError(f"images must be an array of shape {IMAGE_FORMS}: {error}") from None
    digit_shapes = ((size, size), (size, size, 1))
    if images.shape not in digit_shapes and not (images.ndim in (3, 4) and images.shape[1:] in digit_shapes):
        raise ValueError(f"images must be {size}x{size} digits, {IMAGE_FORMS}, got shape {images.shape}")
    return images, images.reshape((-1, size, size))


# MNIST's digits are mostly background: its median pixel is the background, 0 in uint8, -1 once
# scaled. A float digit whose median is above this is on another scale (e.g. [0, 1]) or inverted.
BACKGROUND_MEDIAN_LIMIT = -0.9


def scaled_digits(images, plain, background=True):
    """The digits as float32 in [-1, 1]: uint8 is scaled; floats must already be in [-1, 1] with
    a black background. Floats in [0, 1] (another common convention) would pass a range check and
    be read as grey backgrounds, so a float digit whose median pixel (its background) is above
    `BACKGROUND_MEDIAN_LIMIT` is refused; ``background=False`` skips that test, for images that
    are not mostly background (Fashion-MNIST's clothes)."""
    if images.dtype == np.uint8:
        return data.scale(plain)
    if not np.issubdtype(images.dtype, np.floating):
        raise ValueError(f"images must be uint8 in [0, 255] or float in [-1, 1], got dtype {images.dtype}")
    scaled = data.check_images(plain)
    if not background:
        return scaled
    medians = np.median(scaled.reshape(len(scaled), plain.shape[1] * plain.shape[2]), axis=1)  # per digit
    off = medians > BACKGROUND_MEDIAN_LIMIT
    if off.any():
        raise ValueError(f"float images must be in [-1, 1] with the background at -1 (each digit's median pixel at most "
                         f"{BACKGROUND_MEDIAN_LIMIT}); {int(off.sum())} of {len(scaled)} have a median of "
                         f"{float(medians[off].min()):.3g} or more, as digits in [0, 1] (convert with x * 2 - 1) or "
                         "white-background digits (invert them) would")
    return scaled


def digit_masks(masks, plain_shape):
    """Boolean (N, 28, 28) masks from booleans or 0/1 numbers, one per digit or one for all, with
    or without a channel axis."""
    try:
        masks = np.asarray(masks)
    except ValueError as error:
        raise ValueError(f"masks must be an array of booleans or 0/1 numbers: {error}") from None
    if masks.dtype != np.bool_:
        if not np.issubdtype(masks.dtype, np.number) or not np.isin(masks, (0, 1)).all():
            raise ValueError(f"masks must be booleans or 0/1 numbers (1 = missing), got {masks.dtype} values "
                             "other than 0 and 1")
        masks = masks.astype(bool)
    if masks.ndim in (3, 4) and masks.shape[-1] == 1 and masks.shape[:-1] in (plain_shape[1:], plain_shape):
        masks = masks[..., 0]
    if masks.shape == plain_shape[1:]:
        masks = np.broadcast_to(masks, plain_shape)  # a read-only view: one mask for a million digits costs nothing
    if masks.shape != plain_shape:
        raise ValueError(f"masks must have shape {plain_shape[1:]} (one for every digit) or {plain_shape}, with or "
                         f"without a channel axis, got {masks.shape}")
    return masks


# Digits go through the networks this many at a time, so a call's working memory stays the same
# however many digits it is given (a million digits at once once needed about 37 GB).
CHUNK_DIGITS = 2048


def chunks(count):
    """Slices of ``range(count)``, `CHUNK_DIGITS` long (the last shorter)."""
    return [slice(start, min(start + CHUNK_DIGITS, count)) for start in range(0, count, CHUNK_DIGITS)]


def checked_digits(images, background=True):
    """``images`` as `digit_batch` gives them, every float digit checked as `scaled_digits` checks
    it (a chunk at a time), before any work is done on any of them; uint8 needs no check."""
    images, plain = digit_batch(images)
    if images.dtype != np.uint8:
        for part in chunks(len(plain)):
            scaled_digits(images, plain[part], background)
    return images, plain


def model_digits(plain):
    """Digits `checked_digits` passed, as the networks take them: float32 in [-1, 1]."""
    return data.scale(plain) if plain.dtype == np.uint8 else plain.astype(np.float32, copy=False)


def as_given(filled, dtype):
    """[-1, 1] digits back in the dtype (and so the range) the caller gave them in."""
    return data.rescale(filled) if dtype == np.uint8 else filled.astype(dtype)


def inpaint_images(images, masks, inpainter=shipped.DEFAULT_INPAINTER, dataset=datasets.DEFAULT):
    """`inpaint_digits` for the images of any dataset of `lib.datasets`: ``inpainter`` names that
    dataset's shipped model (or is a ``(generator, config)`` pair), e.g.
    ``inpaint_images(images, masks, "book", dataset="fashion_mnist")``. Only MNIST's digits must
    have a black background when given as floats."""
    datasets.named(dataset)  # the name checked before any work
    images, plain = checked_digits(images, background=dataset == "mnist")
    masks = digit_masks(masks, plain.shape)
    generator, config = resolve_inpainter(inpainter, dataset)
    result = np.empty(plain.shape, images.dtype)
    for part in chunks(len(plain)):
        scaled = model_digits(plain[part])
        filled = inpaint(generator, config, data.apply_mask(scaled, masks[part]), masks[part])[..., 0]
        result[part] = as_given(filled, images.dtype)
    return result.reshape(images.shape)


def inpaint_digits(images, masks, inpainter=shipped.DEFAULT_INPAINTER):
    """Inpaint any batch of 28x28 digits with a shipped (or your own) generator.

    ``images``: uint8 in [0, 255] or float in [-1, 1] (background at -1), shape (N, 28, 28) or
    (N, 28, 28, 1), or a single digit, (28, 28) or (28, 28, 1). ``masks``: booleans or 0/1
    numbers, True/1 = missing, one per digit or one for every digit, with or without a channel
    axis. ``inpainter``: a shipped name or a ``(generator, config)`` pair. Returns the digits in
    the same dtype, range and shape as given (an empty batch comes back empty), computed
    `CHUNK_DIGITS` at a time.

    Models that composite (the book's) return every known pixel as given. The paper's GAN does
    not: its generator redraws the whole digit, so ``"paper"`` changes known pixels too (on the
    first 1,000 test digits with nothing missing, 22.7 % of their pixels)."""
    return inpaint_images(images, masks, inpainter, datasets.DEFAULT)


# ---------------------------------------------------------------- correcting digits

def find_damage(images, mask_head=None):
    """The pixels of ``images`` (as `correct_digits` takes them) that the mask head judges damaged:
    a boolean (N, 28, 28) mask, or (28, 28) for a single digit. ``mask_head``: a ``(model,
    threshold)`` pair, default the committed one."""
    images, plain = checked_digits(images)
    mask_head, found = mask_heads.resolve_mask_head(mask_head), np.zeros(plain.shape, bool)
    for part in chunks(len(plain)):
        found[part] = _found(model_digits(plain[part]), mask_head)
    return found.reshape(_mask_shape(images.shape))


# A pixel above this (half a grey level above black, in [-1, 1]) is ink: an image without any is blank.
BLANK = -1.0 + 0.5 / 127.5


def _found(scaled, mask_head):
    """The head's verdict on [-1, 1] digits; nothing on a blank image (no ink at all): on an empty
    canvas the head, trained on digits, would find "damage" where there is nothing to correct."""
    model, threshold = mask_heads.resolve_mask_head(mask_head)
    return (mask_heads.damage_probabilities(model, scaled) > threshold) & (scaled > BLANK).any(axis=(1, 2))[:, None, None]


def correct_digits(images, inpainter=shipped.DEFAULT_INPAINTER, mask_head=None):
    """Correct damaged digits without being told where the damage is: the mask head finds it,
    ``inpainter`` (as `inpaint_digits` takes it) fills it, and every pixel not
    found comes back as it was (a digit with nothing found comes back unchanged). A blank image
    (no ink at all) has nothing to correct and comes back blank: on an empty canvas the head,
    trained on digits, would find "damage" and the inpainter would draw a digit there.

    ``images``: uint8 in [0, 255] or float in [-1, 1], as `inpaint_digits` takes
    them. Returns ``(corrected, found)``: the digits in the same dtype, range and shape, and the
    boolean mask of the pixels judged damaged (the images' shape without a channel axis),
    computed `CHUNK_DIGITS` digits at a time."""
    images, plain = checked_digits(images)
    generator, config = resolve_inpainter(inpainter)  # checked even when nothing is found
    mask_head = mask_heads.resolve_mask_head(mask_head)
    corrected, found = plain.copy(), np.zeros(plain.shape, bool)
    for part in chunks(len(plain)):
        scaled = model_digits(plain[part])
        found[part] = _found(scaled, mask_head)
        damaged = found[part].any(axis=(1, 2))
        if not damaged.any():
            continue
        holes = found[part][damaged]
        filling = inpaint(generator, config, data.apply_mask(scaled[damaged], holes), holes)[..., 0]
        filled = np.where(holes, filling, scaled[damaged])
        converted = as_given(filled, images.dtype)
        corrected[part][damaged] = np.where(holes, converted, plain[part][damaged])  # the rest exactly as given
    return corrected.reshape(images.shape), found.reshape(_mask_shape(images.shape))


def _mask_shape(shape):
    """The found mask's shape for images of ``shape``: the same without a channel axis."""
    size = PAPER.image_size
    if shape in ((size, size), (size, size, 1)):
        return (size, size)
    return tuple(shape[:3])
