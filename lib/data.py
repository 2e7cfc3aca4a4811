"""MNIST (by `lib.datasets`), scaling, the paper's masks, corruption and `tf.data` pipelines.

Conventions: raw images are uint8 in [0, 255]; model images are float32 in [-1, 1] with a
channel axis, shape (N, 28, 28, 1); masks are boolean (N, H, W) arrays, True where a pixel is
missing.
"""
from __future__ import annotations

import numpy as np

from lib import checks
from lib.config import CENTRE_JITTER, PAPER, GANConfig

NPZ_VARIABLE = "MNIST_NPZ"  # MNIST's .npz (`lib.datasets` names every dataset's)
VALIDATION_DIGITS = 5000  # the last training digits: models and thresholds are chosen on them, not on the test set
HOLE_VALUE = -1.0  # the paper paints missing pixels black
TRAINING_PREFETCH = 4  # batches a training epoch's pipeline prepares ahead of the step


# ---------------------------------------------------------------- validation helpers

def _as_array(name, value):
    if not isinstance(value, np.ndarray):
        try:
            value = np.asarray(value)
        except Exception as error:  # pragma: no cover - numpy's own message is kept
            raise ValueError(f"{name} must be array-like, got {type(value).__name__}") from error
    return value


def check_images(images, name="images"):
    """Validate a batch of [-1, 1] float images, (N, H, W) or (N, H, W, 1); return it as float32."""
    images = _as_array(name, images)
    if images.ndim not in (3, 4) or (images.ndim == 4 and images.shape[-1] != 1):
        raise ValueError(f"{name} must have shape (N, H, W) or (N, H, W, 1), got {images.shape}")
    if not np.issubdtype(images.dtype, np.floating):
        raise ValueError(f"{name} must be float in [-1, 1] (use lib.data.scale on uint8), got dtype {images.dtype}")
    if images.size and not np.isfinite(images).all():
        raise ValueError(f"{name} contains NaN or infinite values")
    if images.size and (images.min() < -1.0 - 1e-6 or images.max() > 1.0 + 1e-6):
        raise ValueError(f"{name} must lie in [-1, 1], got [{images.min():.3g}, {images.max():.3g}]")
    return images.astype(np.float32, copy=False)


def check_masks(masks, images_shape=None, name="masks"):
    """Validate boolean (N, H, W) masks, optionally against an image batch's shape."""
    masks = _as_array(name, masks)
    if masks.dtype != np.bool_:
        raise ValueError(f"{name} must be boolean (True = missing pixel), got dtype {masks.dtype}")
    if masks.ndim != 3:
        raise ValueError(f"{name} must have shape (N, H, W), got {masks.shape}")
    if images_shape is not None and tuple(masks.shape) != tuple(images_shape[:3]):
        raise ValueError(f"{name} shape {masks.shape} does not match images shape {tuple(images_shape)}")
    return masks


# ---------------------------------------------------------------- loading

def load_mnist(path=None, verify=True):
    """MNIST as ``(x_train, y_train), (x_test, y_test)`` uint8 arrays (`lib.datasets.load`)."""
    from lib import datasets

    return datasets.load("mnist", path, verify)


def validation_split(images, labels, train_digits=None):
    """The training set as ``(train, validation)`` pairs: all but the last `VALIDATION_DIGITS`,
    and those. ``train_digits`` (a run mode's slice) keeps that many and a quarter as many."""
    images, labels = _as_array("images", images), _as_array("labels", labels)
    if len(images) != len(labels) or len(images) <= VALIDATION_DIGITS:
        raise ValueError(f"need more than {VALIDATION_DIGITS} training digits with one label each, "
                         f"got {len(images)} digits and {len(labels)} labels")
    cut = len(images) - VALIDATION_DIGITS
    kept = len(images) if train_digits is None else checks.count(train_digits, "train_digits", minimum=4)
    train, validation = slice(0, min(cut, kept)), slice(cut, cut + kept // 4 if train_digits else None)
    return (images[train], labels[train]), (images[validation], labels[validation])


# ---------------------------------------------------------------- scaling

def scale(images):
    """Map uint8 pixels in [0, 255] to float32 in [-1, 1]: ``(x - 127.5) / 127.5``; shape kept."""
    images = _as_array("images", images)
    if images.dtype != np.uint8:
        raise ValueError(f"images must be uint8 in [0, 255], got dtype {images.dtype}")
    return ((images.astype(np.float32) - 127.5) / 127.5).astype(np.float32)


def rescale(images):
    """Map float images in [-1, 1] back to uint8 in [0, 255] for plotting; shape kept."""
    images = _as_array("images", images)
    if not np.issubdtype(images.dtype, np.floating):
        raise ValueError(f"images must be float in [-1, 1], got dtype {images.dtype}")
    if images.size and not np.isfinite(images).all():
        raise ValueError("images contains NaN or infinite values")
    if images.size and (images.min() < -1.0 - 1e-3 or images.max() > 1.0 + 1e-3):
        raise ValueError(f"images must lie in [-1, 1], got [{images.min():.3g}, {images.max():.3g}]")
    return np.clip(np.rint(images * 127.5 + 127.5), 0, 255).astype(np.uint8)


def with_channel(images):
    """(N, H, W) -> (N, H, W, 1); an array that already has the channel axis is returned as is."""
    images = _as_array("images", images)
    if images.ndim == 4 and images.shape[-1] == 1:
        return images
    if images.ndim != 3:
        raise ValueError(f"images must have shape (N, H, W) or (N, H, W, 1), got {images.shape}")
    return images[..., np.newaxis]


def to_model_input(images_uint8):
    """uint8 (N, 28, 28) digits -> float32 (N, 28, 28, 1) in [-1, 1], ready for the networks."""
    return with_channel(scale(images_uint8))


# ---------------------------------------------------------------- masks

def square_masks(corners, hole_size, image_size=PAPER.image_size):
    """Boolean masks with a square at each (row, col) top-left corner; ``hole_size`` is one size
    for all masks or one per mask."""
    corners = _as_array("corners", corners)
    if corners.ndim != 2 or corners.shape[1] != 2 or not np.issubdtype(corners.dtype, np.integer):
        raise ValueError(f"corners must be an integer array of shape (N, 2), got {corners.dtype} {corners.shape}")
    sizes = _as_array("hole_size", hole_size)
    if sizes.dtype == np.bool_ or not np.issubdtype(sizes.dtype, np.integer) or sizes.ndim > 1 \
            or (sizes.ndim == 1 and len(sizes) != len(corners)):
        raise ValueError(f"hole_size must be an integer or one integer per corner, got {hole_size!r}")
    sizes = np.broadcast_to(sizes, (len(corners),))
    if sizes.size and (sizes.min() < 1 or sizes.max() > image_size):
        raise ValueError(f"hole_size must be in 1..{image_size}, got {sizes.min()}..{sizes.max()}")
    if corners.size and ((corners < 0).any() or (corners + sizes[:, None] > image_size).any()):
        raise ValueError(
            f"corners must keep every hole inside the {image_size}x{image_size} image, "
            f"got corners {corners.min()}..{corners.max()} for holes of {sizes.min()}..{sizes.max()}px"
        )
    grid = np.arange(image_size)
    rows = (grid[None, :] >= corners[:, :1]) & (grid[None, :] < corners[:, :1] + sizes[:, None])
    cols = (grid[None, :] >= corners[:, 1:]) & (grid[None, :] < corners[:, 1:] + sizes[:, None])
    return rows[:, :, None] & cols[:, None, :]


def paper_corners(n, seed, config=PAPER):
    """Top-left corners of the paper's holes: uniform in rows and columns 8..11, per image."""
    n = checks.count(n)
    config = checks.instance(config, GANConfig)
    rng = np.random.default_rng(checks.seed(seed))
    return rng.integers(config.hole_corner_min, config.hole_corner_max + 1, size=(n, 2))


def paper_masks(n, seed, config=PAPER):
    """The paper's masks: an 8x8 square, top-left corner uniform in rows/cols 8..11, seeded."""
    return square_masks(paper_corners(n, seed, config), config.hole_size, config.image_size)


def centre_masks(n, hole_size, image_size=PAPER.image_size):
    """A ``hole_size`` square in the centre of every image (an odd margin puts the extra row/col below/right)."""
    n = checks.count(n)
    if isinstance(hole_size, bool) or not isinstance(hole_size, (int, np.integer)) or not 0 < hole_size <= image_size:
        raise ValueError(f"hole_size must be an integer in 1..{image_size}, got {hole_size!r}")
    top = (image_size - hole_size) // 2
    return square_masks(np.full((n, 2), top), hole_size, image_size)


def random_square_masks(n, seed, min_size, max_size, image_size=PAPER.image_size, centred_share=0.0,
                        centre_jitter=CENTRE_JITTER):
    """Squares of a size uniform in ``min_size..max_size`` at a position uniform over the image;
    a share ``centred_share`` of them is centred instead, shifted by up to ``centre_jitter``
    pixels each way (then kept inside the image)."""
    corners, sizes = random_squares(n, seed, min_size, max_size, image_size, centred_share, centre_jitter)
    return square_masks(corners, sizes, image_size)


def random_squares(n, seed, min_size, max_size, image_size=PAPER.image_size, centred_share=0.0,
                   centre_jitter=CENTRE_JITTER):
    """The top-left corners (N, 2) and sizes (N,) of `random_square_masks`'s squares."""
    n = checks.count(n)
    if not (isinstance(min_size, (int, np.integer)) and isinstance(max_size, (int, np.integer))) \
            or not 1 <= min_size <= max_size <= image_size:
        raise ValueError(f"sizes must satisfy 1 <= min_size <= max_size <= {image_size}, got {min_size}, {max_size}")
    if not 0 <= centred_share <= 1 or isinstance(centre_jitter, bool) or not isinstance(centre_jitter, (int, np.integer)) \
            or centre_jitter < 0:
        raise ValueError(f"centred_share must be in [0, 1] and centre_jitter >= 0, got {centred_share}, {centre_jitter}")
    rng = np.random.default_rng(checks.seed(seed))
    sizes = rng.integers(min_size, max_size + 1, size=n)
    corners = (rng.random((n, 2)) * (image_size - sizes[:, None] + 1)).astype(int)
    if centred_share:  # drawn after the others, so runs without centred holes keep their masks
        centred = rng.random(n) < centred_share
        shifts = rng.integers(-centre_jitter, centre_jitter + 1, size=(n, 2))
        centre_corners = np.clip((image_size - sizes[:, None]) // 2 + shifts, 0, image_size - sizes[:, None])
        corners = np.where(centred[:, None], centre_corners, corners)
    return corners, sizes


def apply_mask(images, masks):
    """Return a copy of ``images`` with the masked pixels set to -1 (black), as in the paper."""
    images = check_images(images)
    masks = check_masks(masks, images.shape)
    corrupted = images.copy()
    corrupted[masks] = HOLE_VALUE  # boolean (N, H, W) indexing also covers a trailing channel axis
    return corrupted


# ---------------------------------------------------------------- pipelines

def epoch_order(n, seed, epoch):
    """The permutation of ``n`` training images used in ``epoch``: a function of (seed, epoch)
    alone, so a resumed run sees the same batches as an uninterrupted one."""
    seed, epoch = checks.count(seed, "seed"), checks.count(epoch, "epoch")
    return np.random.default_rng([seed, epoch, 0]).permutation(checks.count(n))


def epoch_masks(n, seed, epoch, config=PAPER):
    """The training holes of ``epoch`` (fresh each epoch): the paper's masks, or random squares
    when ``config.random_holes`` is set."""
    config = checks.instance(config, GANConfig)
    return square_masks(*epoch_squares(n, seed, epoch, config), config.image_size)


def epoch_squares(n, seed, epoch, config=PAPER):
    """The corners (N, 2) and sizes (N,) of `epoch_masks`'s squares: a few numbers per digit."""
    seed, epoch = checks.count(seed, "seed"), checks.count(epoch, "epoch")
    config = checks.instance(config, GANConfig)
    if config.random_holes:
        return random_squares(n, [seed, epoch, 2], config.random_hole_min, config.random_hole_max,
                              config.image_size, centred_share=config.centred_hole_share)
    corners = paper_corners(n, seed=[seed, epoch, 1], config=config)
    return corners, np.full(len(corners), config.hole_size)


def corrupted_pairs(images, masks, batch_size, drop_remainder=False, with_masks=False):
    """A ``tf.data.Dataset`` of ``(corrupted, original)`` batches, prefetched so that preparing
    the next batch overlaps the current training step. With ``with_masks`` each batch is
    ``(corrupted, original, mask)``, the mask as float32 (N, H, W, 1), 1 = missing.

    ``images`` are float [-1, 1] model images, ``masks`` one boolean mask per image.
    """
    from lib.runtime import tf

    images = with_channel(check_images(images))
    masks = check_masks(masks, images.shape)
    batch_size = checks.count(batch_size, "batch_size", minimum=1)
    tensors = (apply_mask(images, masks), images)
    if with_masks:
        tensors += (with_channel(masks.astype(np.float32)),)
    dataset = tf.data.Dataset.from_tensor_slices(tensors)
    return dataset.batch(int(batch_size), drop_remainder=drop_remainder).prefetch(tf.data.AUTOTUNE)


class TrainingEpochs:
    """A run's training batches: ``epochs(epoch)`` is that epoch's ``(corrupted, original, mask)``
    batches, drawn from (seed, epoch) alone; the last incomplete one is dropped, as in the paper.

    The digits become one tensor once per run (a copy made per epoch, 188 MB, was kept after it:
    1.3 to 3.1 GB over 12 epochs). The order, corners and sizes are drawn per epoch; masks and
    corrupted digits are made batch by batch in the `tf.data` pipeline as it is drawn."""

    def __init__(self, images, seed, config=PAPER):
        from lib.runtime import tf

        images = with_channel(check_images(images))
        self.count, self.seed = len(images), checks.count(seed, "seed")
        self.config = checks.instance(config, GANConfig)
        self.digits = tf.convert_to_tensor(images)

    def __call__(self, epoch):
        from lib.runtime import tf

        config, digits = self.config, self.digits
        order = epoch_order(self.count, self.seed, epoch)
        corners, sizes = epoch_squares(self.count, self.seed, epoch, config)
        grid = tf.range(config.image_size, dtype=tf.int64)

        def assemble(indices, corners, sizes):
            original = tf.gather(digits, indices)
            rows = (grid[None, :] >= corners[:, :1]) & (grid[None, :] < corners[:, :1] + sizes[:, None])
            cols = (grid[None, :] >= corners[:, 1:]) & (grid[None, :] < corners[:, 1:] + sizes[:, None])
            masks = tf.cast(rows[:, :, None] & cols[:, None, :], tf.float32)[..., None]
            return tf.where(masks > 0, tf.constant(HOLE_VALUE, tf.float32), original), original, masks

        dataset = tf.data.Dataset.from_tensor_slices((order.astype(np.int64), corners.astype(np.int64),
                                                      sizes.astype(np.int64)))
        dataset = dataset.batch(config.batch_size, drop_remainder=True).map(assemble).prefetch(TRAINING_PREFETCH)
        # tf.data's autotuner thread, which the iterator's destructor waits for, stalled the end of
        # `fit` by about 35 s in half the epochs here (appendix D); a fixed prefetch needs no tuning.
        options = tf.data.Options()
        options.autotune.enabled = False
        return dataset.with_options(options)


def training_epoch(images, seed, epoch, config=PAPER):
    """The batches of one training epoch, `TrainingEpochs` for a single epoch."""
    return TrainingEpochs(images, seed, config)(epoch)
