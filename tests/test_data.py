import numpy as np
import pytest

from lib import data
from lib.config import PAPER

SIZE = PAPER.image_size


def random_images(n, seed=0, channel=True):
    rng = np.random.default_rng(seed)
    shape = (n, SIZE, SIZE, 1) if channel else (n, SIZE, SIZE)
    return rng.uniform(-1.0, 1.0, size=shape).astype(np.float32)


def bounding_boxes(masks):
    """(top, left, height, width) of the True pixels of each mask."""
    rows, cols = masks.any(axis=2), masks.any(axis=1)
    top, left = rows.argmax(axis=1), cols.argmax(axis=1)
    return top, left, rows.sum(axis=1), cols.sum(axis=1)


# ---------------------------------------------------------------- paper masks


def test_paper_masks_shape_and_dtype():
    masks = data.paper_masks(50, seed=0)
    assert masks.shape == (50, SIZE, SIZE)
    assert masks.dtype == np.bool_


def test_every_paper_mask_is_an_8x8_square_with_corner_in_8_to_11():
    masks = data.paper_masks(2000, seed=1)
    assert (masks.sum(axis=(1, 2)) == 64).all()
    top, left, height, width = bounding_boxes(masks)
    assert (height == 8).all() and (width == 8).all()
    assert top.min() >= 8 and top.max() <= 11
    assert left.min() >= 8 and left.max() <= 11


def test_paper_mask_corners_are_uniform_over_the_16_positions():
    n = 20000
    top, left, _, _ = bounding_boxes(data.paper_masks(n, seed=2))
    counts = np.zeros((4, 4), dtype=int)
    np.add.at(counts, (top - 8, left - 8), 1)
    frequencies = counts / n
    assert (counts > 0).all()
    assert np.abs(frequencies - 1 / 16).max() < 0.01


def test_paper_masks_match_paper_corners():
    corners = data.paper_corners(100, seed=3)
    top, left, _, _ = bounding_boxes(data.paper_masks(100, seed=3))
    assert np.array_equal(corners[:, 0], top)
    assert np.array_equal(corners[:, 1], left)


def test_paper_masks_are_reproducible_for_a_seed():
    assert np.array_equal(data.paper_masks(200, seed=7), data.paper_masks(200, seed=7))


def test_paper_masks_differ_between_seeds():
    assert not np.array_equal(data.paper_masks(200, seed=7), data.paper_masks(200, seed=8))


def test_paper_masks_follow_the_config():
    config = PAPER.variant("big holes", hole_size=12, hole_corner_min=2, hole_corner_max=2)
    masks = data.paper_masks(5, seed=0, config=config)
    top, left, height, width = bounding_boxes(masks)
    assert (top == 2).all() and (left == 2).all()
    assert (height == 12).all() and (width == 12).all()


def test_zero_masks_is_an_empty_batch():
    assert data.paper_masks(0, seed=0).shape == (0, SIZE, SIZE)


# ---------------------------------------------------------------- square and centre masks


def test_square_masks_place_the_square_at_each_corner():
    masks = data.square_masks(np.array([[0, 0], [20, 3]]), hole_size=8)
    assert masks[0, :8, :8].all() and masks[0].sum() == 64
    assert masks[1, 20:28, 3:11].all() and masks[1].sum() == 64


@pytest.mark.parametrize("hole_size", range(8, 17))
def test_centre_masks_are_centred_squares(hole_size):
    masks = data.centre_masks(3, hole_size)
    assert masks.shape == (3, SIZE, SIZE)
    assert (masks.sum(axis=(1, 2)) == hole_size**2).all()
    top, left, height, width = bounding_boxes(masks)
    assert (height == hole_size).all() and (width == hole_size).all()
    margin_before = top
    margin_after = SIZE - (top + hole_size)
    assert (margin_after - margin_before == (SIZE - hole_size) % 2).all()
    assert np.array_equal(top, left)
    if hole_size % 2 == 0:
        for mask in masks:
            assert np.array_equal(mask, mask[::-1, :])
            assert np.array_equal(mask, mask[:, ::-1])


# ---------------------------------------------------------------- scaling


def test_scale_and_rescale_round_trip_every_uint8_value():
    pixels = np.arange(256, dtype=np.uint8).reshape(1, 16, 16)
    scaled = data.scale(pixels)
    assert scaled.dtype == np.float32
    assert scaled.shape == pixels.shape
    restored = data.rescale(scaled)
    assert restored.dtype == np.uint8
    assert np.array_equal(restored, pixels)


def test_scale_maps_the_ends_of_the_range_to_minus_one_and_one():
    scaled = data.scale(np.array([[[0, 255]]], dtype=np.uint8))
    assert scaled[0, 0, 0] == -1.0
    assert scaled[0, 0, 1] == 1.0
    assert data.scale(np.array([[[128]]], dtype=np.uint8))[0, 0, 0] == pytest.approx(0.5 / 127.5)


def test_scale_is_monotonic():
    scaled = data.scale(np.arange(256, dtype=np.uint8))
    assert (np.diff(scaled) > 0).all()


def test_with_channel_adds_one_trailing_axis():
    images = random_images(4, channel=False)
    assert data.with_channel(images).shape == (4, SIZE, SIZE, 1)
    already = random_images(4)
    assert data.with_channel(already) is already


def test_to_model_input_gives_float_images_with_a_channel():
    digits = np.zeros((6, SIZE, SIZE), dtype=np.uint8)
    model_input = data.to_model_input(digits)
    assert model_input.shape == (6, SIZE, SIZE, 1)
    assert model_input.dtype == np.float32
    assert (model_input == -1.0).all()


# ---------------------------------------------------------------- apply_mask


@pytest.mark.parametrize("channel", [False, True])
def test_apply_mask_blackens_exactly_the_masked_pixels(channel):
    images = random_images(20, seed=4, channel=channel)
    original = images.copy()
    masks = data.paper_masks(20, seed=4)
    corrupted = data.apply_mask(images, masks)
    assert corrupted.shape == images.shape
    assert corrupted.dtype == np.float32
    flat = corrupted.reshape(20, SIZE, SIZE)
    assert (flat[masks] == -1.0).all()
    assert np.array_equal(flat[~masks], original.reshape(20, SIZE, SIZE)[~masks])
    assert np.array_equal(images, original)


def test_apply_mask_with_empty_masks_is_a_copy():
    images = random_images(3)
    corrupted = data.apply_mask(images, np.zeros((3, SIZE, SIZE), dtype=bool))
    assert np.array_equal(corrupted, images)
    assert corrupted is not images


# ---------------------------------------------------------------- validation of every helper

BAD_INPUTS = {
    "check_images rank 2": (lambda: data.check_images(np.zeros((SIZE, SIZE), np.float32)), r"shape \(N, H, W\)"),
    "check_images two channels": (
        lambda: data.check_images(np.zeros((1, SIZE, SIZE, 2), np.float32)), r"shape \(N, H, W\) or \(N, H, W, 1\)"),
    "check_images uint8": (lambda: data.check_images(np.zeros((1, SIZE, SIZE), np.uint8)), r"float in \[-1, 1\]"),
    "check_images NaN": (lambda: data.check_images(np.full((1, 4, 4), np.nan, np.float32)), "NaN"),
    "check_images 2.0": (lambda: data.check_images(np.full((1, 4, 4), 2.0, np.float32)), r"lie in \[-1, 1\]"),
    "check_masks float": (lambda: data.check_masks(np.zeros((1, 4, 4), np.float32)), "boolean"),
    "check_masks rank 4": (lambda: data.check_masks(np.zeros((1, 4, 4, 1), bool)), r"shape \(N, H, W\)"),
    "apply_mask uint8 images": (
        lambda: data.apply_mask(np.zeros((2, SIZE, SIZE), np.uint8), data.paper_masks(2, 0)), "float"),
    "apply_mask images at 2.0": (
        lambda: data.apply_mask(np.full((2, SIZE, SIZE), 2.0, np.float32), data.paper_masks(2, 0)), r"\[-1, 1\]"),
    "apply_mask NaN images": (
        lambda: data.apply_mask(np.full((2, SIZE, SIZE), np.nan, np.float32), data.paper_masks(2, 0)), "NaN"),
    "apply_mask rank 2 images": (
        lambda: data.apply_mask(np.zeros((SIZE, SIZE), np.float32), data.paper_masks(1, 0)), r"shape \(N, H, W\)"),
    "apply_mask float mask": (
        lambda: data.apply_mask(random_images(2), data.paper_masks(2, 0).astype(np.float32)), "boolean"),
    "apply_mask int mask": (
        lambda: data.apply_mask(random_images(2), data.paper_masks(2, 0).astype(np.uint8)), "boolean"),
    "apply_mask mask count mismatch": (
        lambda: data.apply_mask(random_images(2), data.paper_masks(3, 0)), "does not match images shape"),
    "apply_mask mask size mismatch": (
        lambda: data.apply_mask(random_images(2), np.zeros((2, 27, 27), bool)), "does not match images shape"),
    "scale float": (lambda: data.scale(np.zeros((1, 4, 4), np.float32)), "uint8"),
    "scale int64": (lambda: data.scale(np.zeros((1, 4, 4), np.int64)), "uint8"),
    "rescale uint8": (lambda: data.rescale(np.zeros((1, 4, 4), np.uint8)), "float"),
    "rescale 2.0": (lambda: data.rescale(np.full((1, 4, 4), 2.0)), r"\[-1, 1\]"),
    "rescale -2.0": (lambda: data.rescale(np.full((1, 4, 4), -2.0)), r"\[-1, 1\]"),
    "rescale NaN": (lambda: data.rescale(np.full((1, 4, 4), np.nan)), "NaN"),
    "with_channel rank 2": (lambda: data.with_channel(np.zeros((SIZE, SIZE))), r"shape \(N, H, W\)"),
    "with_channel three channels": (lambda: data.with_channel(np.zeros((1, SIZE, SIZE, 3))), r"\(N, H, W, 1\)"),
    "to_model_input float": (lambda: data.to_model_input(np.zeros((1, SIZE, SIZE), np.float32)), "uint8"),
    "square_masks float corners": (lambda: data.square_masks(np.array([[8.0, 8.0]]), 8), "integer array"),
    "square_masks corners of width 3": (lambda: data.square_masks(np.zeros((1, 3), int), 8), r"shape \(N, 2\)"),
    "square_masks corner past the edge": (lambda: data.square_masks(np.array([[21, 0]]), 8), "corners must keep every hole inside"),
    "square_masks negative corner": (lambda: data.square_masks(np.array([[0, -1]]), 8), "corners must keep"),
    "square_masks hole 0": (lambda: data.square_masks(np.array([[0, 0]]), 0), "hole_size"),
    "square_masks hole 29": (lambda: data.square_masks(np.array([[0, 0]]), 29), "hole_size"),
    "square_masks float hole": (lambda: data.square_masks(np.array([[0, 0]]), 8.0), "hole_size must be an integer"),
    "square_masks bool hole": (lambda: data.square_masks(np.array([[0, 0]]), True), "hole_size must be an integer"),
    "paper_corners negative n": (lambda: data.paper_corners(-1, seed=0), "non-negative integer"),
    "paper_masks negative n": (lambda: data.paper_masks(-5, seed=0), "non-negative integer"),
    "paper_masks float n": (lambda: data.paper_masks(2.0, seed=0), "non-negative integer"),
    "paper_masks bool n": (lambda: data.paper_masks(True, seed=0), "non-negative integer"),
    "centre_masks negative n": (lambda: data.centre_masks(-1, 8), "non-negative integer"),
    "centre_masks hole 0": (lambda: data.centre_masks(2, 0), "hole_size"),
    "centre_masks hole 29": (lambda: data.centre_masks(2, 29), "hole_size"),
    "centre_masks float hole": (lambda: data.centre_masks(2, 8.5), "hole_size"),
    "epoch_order negative n": (lambda: data.epoch_order(-1, 0, 0), "non-negative integer"),
    "epoch_masks negative n": (lambda: data.epoch_masks(-1, 0, 0), "non-negative integer"),
    "corrupted_pairs batch 0": (
        lambda: data.corrupted_pairs(random_images(2), data.paper_masks(2, 0), 0), "batch_size must be an integer >= 1"),
    "corrupted_pairs float batch": (
        lambda: data.corrupted_pairs(random_images(2), data.paper_masks(2, 0), 2.0), "batch_size"),
    "corrupted_pairs bool batch": (
        lambda: data.corrupted_pairs(random_images(2), data.paper_masks(2, 0), True), "batch_size"),
    "corrupted_pairs uint8 images": (
        lambda: data.corrupted_pairs(np.zeros((2, SIZE, SIZE), np.uint8), data.paper_masks(2, 0), 1), "float"),
    "corrupted_pairs mask mismatch": (
        lambda: data.corrupted_pairs(random_images(2), data.paper_masks(3, 0), 1), "does not match"),
    "training_epoch uint8 images": (
        lambda: data.training_epoch(np.zeros((4, SIZE, SIZE), np.uint8), 0, 0), "float"),
    "training_epoch images at 2.0": (
        lambda: data.training_epoch(np.full((4, SIZE, SIZE), 2.0, np.float32), 0, 0), r"\[-1, 1\]"),
}


@pytest.mark.parametrize("call, message", BAD_INPUTS.values(), ids=BAD_INPUTS.keys())
def test_bad_input_raises_a_value_error_naming_the_expectation(call, message):
    with pytest.raises(ValueError, match=message):
        call()


NOT_A_CONFIG = {
    "paper_corners": lambda: data.paper_corners(4, seed=0, config="paper"),
    "paper_masks": lambda: data.paper_masks(4, seed=0, config="paper"),
    "epoch_masks": lambda: data.epoch_masks(4, 0, 0, config="paper"),
    "training_epoch": lambda: data.training_epoch(random_images(4), 0, 0, config="paper"),
}


@pytest.mark.parametrize("call", NOT_A_CONFIG.values(), ids=NOT_A_CONFIG.keys())
def test_data_helpers_reject_a_non_config(call):
    with pytest.raises(ValueError, match="config"):
        call()


@pytest.mark.parametrize("seed", [None, "abc"])
def test_epoch_order_rejects_a_bad_seed(seed):
    with pytest.raises(ValueError, match="seed"):
        data.epoch_order(4, seed, 0)


def batches_of(dataset):
    """(corrupted, original) numpy pairs of a dataset; a training epoch's mask is checked and dropped."""
    pairs = []
    for batch in dataset:
        corrupted, original = batch[0].numpy(), batch[1].numpy()
        if len(batch) == 3:
            masks = batch[2].numpy()[..., 0].astype(bool)
            assert np.array_equal(corrupted, data.apply_mask(original, masks))
        pairs.append((corrupted, original))
    return pairs


def test_corrupted_pairs_yields_masked_and_original_batches():
    images = random_images(10, seed=5, channel=False)
    masks = data.paper_masks(10, seed=5)
    batches = batches_of(data.corrupted_pairs(images, masks, batch_size=4))
    assert [corrupted.shape for corrupted, _ in batches] == [(4, SIZE, SIZE, 1), (4, SIZE, SIZE, 1), (2, SIZE, SIZE, 1)]
    corrupted = np.concatenate([c for c, _ in batches])
    original = np.concatenate([o for _, o in batches])
    assert np.array_equal(original, data.with_channel(images))
    assert np.array_equal(corrupted, data.apply_mask(original, masks))


def test_corrupted_pairs_can_drop_the_remainder():
    batches = batches_of(data.corrupted_pairs(random_images(10), data.paper_masks(10, 0), 4, drop_remainder=True))
    assert [len(corrupted) for corrupted, _ in batches] == [4, 4]


def test_epoch_order_is_a_permutation():
    order = data.epoch_order(100, seed=0, epoch=3)
    assert np.array_equal(np.sort(order), np.arange(100))
    assert not np.array_equal(order, np.arange(100))


def test_epoch_order_depends_on_seed_and_epoch_only():
    assert np.array_equal(data.epoch_order(50, 1, 2), data.epoch_order(50, 1, 2))
    assert not np.array_equal(data.epoch_order(50, 1, 2), data.epoch_order(50, 1, 3))
    assert not np.array_equal(data.epoch_order(50, 1, 2), data.epoch_order(50, 2, 2))


def test_epoch_masks_are_fresh_each_epoch():
    assert np.array_equal(data.epoch_masks(30, 0, 1), data.epoch_masks(30, 0, 1))
    assert not np.array_equal(data.epoch_masks(30, 0, 1), data.epoch_masks(30, 0, 2))


SMALL_BATCHES = PAPER.variant("small batches", batch_size=4)


def test_training_epoch_batches_carry_their_masks():
    corrupted, original, masks = next(iter(data.training_epoch(random_images(8), 0, 0, config=SMALL_BATCHES)))
    assert masks.shape == (4, SIZE, SIZE, 1) and masks.dtype.name == "float32"
    assert set(np.unique(masks.numpy()).tolist()) == {0.0, 1.0}
    assert (masks.numpy().sum(axis=(1, 2, 3)) == 64).all()


def test_random_square_masks_vary_in_size_and_stay_inside():
    masks = data.random_square_masks(2000, seed=0, min_size=6, max_size=18)
    areas = masks.sum(axis=(1, 2))
    sides = np.sqrt(areas)
    assert np.array_equal(sides, np.round(sides)) and sides.min() == 6 and sides.max() == 18
    rows, cols = masks.any(axis=2), masks.any(axis=1)
    assert (rows.sum(axis=1) == sides).all() and (cols.sum(axis=1) == sides).all()
    assert np.array_equal(masks, data.random_square_masks(2000, seed=0, min_size=6, max_size=18))


def test_random_holes_config_switches_the_training_masks():
    config = SMALL_BATCHES.variant("random", random_holes=True, random_hole_min=10, random_hole_max=10)
    masks = data.epoch_masks(50, 0, 0, config)
    assert (masks.sum(axis=(1, 2)) == 100).all()


def test_random_square_masks_rejects_bad_sizes():
    with pytest.raises(ValueError, match="min_size <= max_size"):
        data.random_square_masks(3, 0, 10, 5)


def test_training_epoch_drops_the_remainder_batch():
    batches = batches_of(data.training_epoch(random_images(10), seed=0, epoch=0, config=SMALL_BATCHES))
    assert len(batches) == 2
    for corrupted, original in batches:
        assert corrupted.shape == original.shape == (4, SIZE, SIZE, 1)


def test_training_epoch_is_the_shuffled_images_with_the_epochs_masks():
    images = random_images(10, seed=6)
    seed, epoch = 11, 2
    batches = batches_of(data.training_epoch(images, seed, epoch, config=SMALL_BATCHES))
    corrupted = np.concatenate([c for c, _ in batches])
    original = np.concatenate([o for _, o in batches])
    expected_original = images[data.epoch_order(10, seed, epoch)][:8]
    expected_masks = data.epoch_masks(10, seed, epoch, SMALL_BATCHES)[:8]
    assert np.array_equal(original, expected_original)
    assert np.array_equal(corrupted, data.apply_mask(expected_original, expected_masks))


def test_training_epoch_is_deterministic_for_seed_and_epoch():
    images = random_images(12, seed=7)
    first = batches_of(data.training_epoch(images, 3, 1, config=SMALL_BATCHES))
    again = batches_of(data.training_epoch(images, 3, 1, config=SMALL_BATCHES))
    for (c1, o1), (c2, o2) in zip(first, again, strict=True):
        assert np.array_equal(c1, c2) and np.array_equal(o1, o2)


def test_training_epoch_differs_between_epochs():
    images = random_images(12, seed=7)
    epoch1 = np.concatenate([c for c, _ in batches_of(data.training_epoch(images, 3, 1, config=SMALL_BATCHES))])
    epoch2 = np.concatenate([c for c, _ in batches_of(data.training_epoch(images, 3, 2, config=SMALL_BATCHES))])
    assert not np.array_equal(epoch1, epoch2)


def test_centred_random_holes_sit_around_the_centre_and_leave_the_others_alone():
    plain = data.random_square_masks(400, 5, 6, 18)
    mixed = data.random_square_masks(400, 5, 6, 18, centred_share=0.5, centre_jitter=3)
    changed = [i for i in range(400) if not np.array_equal(plain[i], mixed[i])]
    assert 120 < len(changed) < 280  # about half are moved to the centre (some were there already)
    for mask in mixed[changed]:
        rows, cols = np.nonzero(mask)
        size = rows.max() - rows.min() + 1
        assert abs(rows.min() - (28 - size) // 2) <= 3 and abs(cols.min() - (28 - size) // 2) <= 3
    same_sizes = [np.sqrt(m.sum()) for m in plain] == [np.sqrt(m.sum()) for m in mixed]
    assert same_sizes  # only positions change
    assert np.array_equal(data.random_square_masks(400, 5, 6, 18, centred_share=0.0), plain)


@pytest.mark.parametrize("share, jitter", [(-0.1, 3), (1.5, 3), (0.5, -1), (0.5, 1.5)])
def test_centred_random_holes_reject_bad_settings(share, jitter):
    with pytest.raises(ValueError, match="centred_share"):
        data.random_square_masks(4, 0, 6, 18, centred_share=share, centre_jitter=jitter)


def test_training_epoch_makes_each_batch_as_materialising_the_whole_epoch_would():
    config = PAPER.variant("centred random", batch_size=4, random_holes=True, centred_hole_share=0.5)
    images = random_images(13, seed=8)
    order, masks = data.epoch_order(13, 5, 3), data.epoch_masks(13, 5, 3, config)
    expected = data.corrupted_pairs(images[order], masks, 4, drop_remainder=True, with_masks=True)
    for made, materialised in zip(data.training_epoch(images, 5, 3, config), expected, strict=True):
        for a, b in zip(made, materialised, strict=True):
            assert a.dtype == b.dtype and np.array_equal(a.numpy(), b.numpy())


def test_epoch_squares_draw_the_epoch_masks():
    config = PAPER.variant("random", random_holes=True)
    corners, sizes = data.epoch_squares(20, 1, 2, config)
    assert np.array_equal(data.square_masks(corners, sizes), data.epoch_masks(20, 1, 2, config))
    corners, sizes = data.epoch_squares(20, 1, 2)
    assert (sizes == PAPER.hole_size).all() and np.array_equal(data.square_masks(corners, sizes), data.epoch_masks(20, 1, 2))


def test_a_training_epoch_runs_without_tf_datas_autotuner():
    # Its thread made every other epoch's end wait about 35 s on the book's machines (appendix D).
    epoch = data.training_epoch(random_images(8), 0, 0, config=SMALL_BATCHES)
    assert epoch.options().autotune.enabled is False
