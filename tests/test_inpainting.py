import os

import keras
import numpy as np
import pytest

from lib import data, datasets, inpainting, models, runs, shipped
from lib.config import CLASSIFIER, PAPER, VARIANTS
from lib.inpainting import inpaint
from lib.models import build_generator
from stubs import untrained_inpainter

SIZE = PAPER.image_size
MASK_CHANNEL = VARIANTS["+ mask channel"]  # composite and mask channel both on
COMPOSITE_ONLY = VARIANTS["+ composite"]  # composite on, one input channel


def random_images(n, seed=0, channel=True):
    rng = np.random.default_rng(seed)
    shape = (n, SIZE, SIZE, 1) if channel else (n, SIZE, SIZE)
    return rng.uniform(-1.0, 1.0, size=shape).astype(np.float32)


@pytest.fixture(scope="module")
def generators():
    built = {}
    for seed, config in enumerate((PAPER, COMPOSITE_ONLY, MASK_CHANNEL)):
        keras.utils.set_random_seed(seed)
        built[config.name] = build_generator(config)
    return built


@pytest.fixture(scope="module")
def batch():
    originals = random_images(5, seed=3)
    masks = data.paper_masks(5, seed=3)
    return data.apply_mask(originals, masks), masks


def test_configs_are_what_the_tests_assume():
    assert not PAPER.composite and not PAPER.mask_channel
    assert COMPOSITE_ONLY.composite and not COMPOSITE_ONLY.mask_channel
    assert MASK_CHANNEL.composite and MASK_CHANNEL.mask_channel


class ConstantGenerator:
    """Stands in for a keras generator: outputs ``value`` at every pixel, whatever it is fed."""

    def __init__(self, value):
        self.value = value

    def predict(self, inputs, verbose=0, batch_size=None):
        return np.full(np.shape(inputs)[:3] + (1,), self.value, np.float32)


@pytest.mark.parametrize("config", [PAPER, COMPOSITE_ONLY, MASK_CHANNEL], ids=lambda c: c.name)
def test_output_shape_dtype_and_values(generators, batch, config):
    corrupted, masks = batch
    generator = generators[config.name]
    out = inpaint(generator, config, corrupted, masks)
    assert isinstance(out, np.ndarray)
    assert out.shape == (5, SIZE, SIZE, 1)
    assert np.issubdtype(out.dtype, np.floating)
    inputs = corrupted
    if config.mask_channel:
        inputs = np.concatenate([corrupted, masks[..., None].astype(np.float32)], axis=-1)
    raw = generator.predict(inputs, verbose=0)
    expected = np.where(masks[..., None], raw, corrupted) if config.composite else raw
    np.testing.assert_allclose(out, expected, atol=1e-6)


@pytest.mark.parametrize("config", [PAPER, COMPOSITE_ONLY, MASK_CHANNEL], ids=lambda c: c.name)
@pytest.mark.parametrize("value", [3.0, -2.5])
def test_output_is_clipped_to_minus_one_one(batch, config, value):
    corrupted, masks = batch
    out = inpaint(ConstantGenerator(value), config, corrupted, masks)
    clipped = np.float32(np.sign(value))  # the generator's value is outside [-1, 1]: clipped to its end
    if config.composite:
        assert (out[..., 0][masks] == clipped).all()
        assert np.array_equal(out[..., 0][~masks], corrupted[..., 0][~masks])
    else:
        assert (out == clipped).all()


def test_without_composite_the_output_is_the_raw_generator_output(generators, batch):
    corrupted, masks = batch
    generator = generators[PAPER.name]
    out = inpaint(generator, PAPER, corrupted, masks)
    raw = generator.predict(corrupted, verbose=0)
    np.testing.assert_allclose(out, raw, atol=1e-6)
    # the known pixels are regenerated, not copied
    known = ~masks
    assert not np.allclose(out[..., 0][known], corrupted[..., 0][known], atol=1e-3)


@pytest.mark.parametrize("config", [COMPOSITE_ONLY, MASK_CHANNEL], ids=lambda c: c.name)
def test_with_composite_known_pixels_equal_the_corrupted_input_exactly(generators, batch, config):
    corrupted, masks = batch
    generator = generators[config.name]
    out = inpaint(generator, config, corrupted, masks)
    known = ~masks
    assert np.array_equal(out[..., 0][known], corrupted[..., 0][known])
    # and inside the hole: the generator's output for these inputs
    inputs = corrupted
    if config.mask_channel:
        inputs = np.concatenate([corrupted, masks[..., None].astype(np.float32)], axis=-1)
    raw = generator.predict(inputs, verbose=0)
    np.testing.assert_allclose(out[..., 0][masks], raw[..., 0][masks], atol=1e-6)
    # the hole is not left black
    assert not (out[..., 0][masks] == -1).all()


def test_the_mask_channel_reaches_the_generator(generators, batch):
    corrupted, masks = batch
    generator = generators[MASK_CHANNEL.name]
    assert generator.input_shape[-1] == 2
    other_masks = data.paper_masks(5, seed=99)
    both = masks | other_masks
    # same corrupted pixels, different declared masks: the generated pixels must change
    a = inpaint(generator, MASK_CHANNEL, corrupted, both)
    b = inpaint(generator, MASK_CHANNEL.variant("no composite", composite=False), corrupted, both)
    c = inpaint(generator, MASK_CHANNEL.variant("no composite", composite=False), corrupted, masks)
    assert not np.allclose(b, c)
    assert np.array_equal(a[..., 0][~both], corrupted[..., 0][~both])


def test_accepts_images_without_channel_axis(generators, batch):
    corrupted, masks = batch
    generator = generators[PAPER.name]
    with_axis = inpaint(generator, PAPER, corrupted, masks)
    without_axis = inpaint(generator, PAPER, corrupted[..., 0], masks)
    assert without_axis.shape == (5, SIZE, SIZE, 1)
    np.testing.assert_allclose(without_axis, with_axis, atol=1e-6)


def test_batch_size_does_not_change_the_result(generators, batch):
    corrupted, masks = batch
    generator = generators[MASK_CHANNEL.name]
    np.testing.assert_allclose(inpaint(generator, MASK_CHANNEL, corrupted, masks, batch_size=2),
                               inpaint(generator, MASK_CHANNEL, corrupted, masks), atol=1e-5)


@pytest.mark.parametrize("config", [None, "paper", PAPER.to_dict(), CLASSIFIER])
def test_rejects_a_non_gan_config(generators, batch, config):
    corrupted, masks = batch
    with pytest.raises(ValueError, match="GANConfig"):
        inpaint(generators[PAPER.name], config, corrupted, masks)


def test_rejects_uint8_input(generators, batch):
    _, masks = batch
    images = np.zeros((5, SIZE, SIZE, 1), np.uint8)
    with pytest.raises(ValueError, match="float"):
        inpaint(generators[PAPER.name], PAPER, images, masks)


def test_rejects_out_of_range_and_nan_input(generators, batch):
    corrupted, masks = batch
    with pytest.raises(ValueError, match=r"corrupted must lie in \[-1, 1\], got \[-2, "):
        inpaint(generators[PAPER.name], PAPER, corrupted * 2, masks)
    bad = corrupted.copy()
    bad[0, 0, 0, 0] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        inpaint(generators[PAPER.name], PAPER, bad, masks)


@pytest.mark.parametrize("which", ["fewer", "non-boolean", "with channel"])
def test_rejects_mismatched_masks(generators, batch, which):
    corrupted, masks = batch
    bad = {"fewer": masks[:4], "non-boolean": masks.astype(np.float32),
           "with channel": masks[..., None]}[which]
    with pytest.raises(ValueError, match="masks"):
        inpaint(generators[PAPER.name], PAPER, corrupted, bad)


# ---------------------------------------------------------------- inpaint_digits: what people have

def _own_inpainter():
    import keras

    keras.utils.set_random_seed(0)
    config = VARIANTS["+ mask channel"]
    return models.build_generator(config), config


def _centre_mask():
    mask = np.zeros((28, 28), bool)
    mask[10:18, 10:18] = True
    return mask


@pytest.mark.parametrize("shape", [(28, 28), (3, 28, 28), (3, 28, 28, 1)])
def test_inpaint_digits_returns_uint8_in_the_shape_given(shape):
    images = np.random.default_rng(0).integers(0, 256, shape, dtype=np.uint8)
    result = inpainting.inpaint_digits(images, _centre_mask(), _own_inpainter())
    assert result.dtype == np.uint8 and result.shape == shape
    known = ~np.broadcast_to(_centre_mask(), images.reshape(-1, 28, 28).shape)
    assert np.array_equal(result.reshape(-1, 28, 28)[known], images.reshape(-1, 28, 28)[known])


def test_inpaint_digits_keeps_float_in_minus_one_one_and_takes_zero_one_masks():
    rng = np.random.default_rng(1)
    ink = rng.uniform(size=(2, 28, 28)) < 0.3  # grey strokes here and there on a black background
    images = np.where(ink, rng.uniform(-1, 1, (2, 28, 28)), -1.0).astype(np.float32)
    masks = np.stack([_centre_mask(), _centre_mask()]).astype(np.uint8)
    generator, config = _own_inpainter()
    result = inpainting.inpaint_digits(images, masks, (generator, config))
    assert result.dtype == np.float32 and result.shape == (2, 28, 28)
    # known pixels are the float digits as given; the hole is the generator's output for the
    # blackened digits and their mask channel (the "+ mask channel" variant composites)
    holes = masks.astype(bool)
    corrupted = np.where(holes, np.float32(-1.0), images)
    raw = generator.predict(np.stack([corrupted, masks.astype(np.float32)], axis=-1), verbose=0)[..., 0]
    assert np.array_equal(result[~holes], images[~holes])
    np.testing.assert_allclose(result[holes], raw[holes], atol=1e-6)


BLACK = np.full((2, 28, 28), -1.0, np.float32)


def mnist_like_unit_digit():
    """A digit in [0, 1]: a bright bar on a black background, as x / 255 gives."""
    digit = np.zeros((1, 28, 28), np.float32)
    digit[:, 6:22, 12:16] = 1.0
    return digit
NO_HOLE = np.zeros((28, 28), bool)


@pytest.mark.parametrize("images, masks, message", [
    (np.zeros((2, 28, 28), np.int32), NO_HOLE, "uint8"),
    (np.zeros((2, 28, 28), bool), NO_HOLE, "uint8"),
    (np.array([["a"] * 28] * 28), NO_HOLE, "uint8"),
    (BLACK, np.full((28, 28), 2), "0/1"),
    (BLACK, np.full((28, 28), np.nan), "0/1"),
    (BLACK, np.full((28, 28), "1"), "0/1"),
    (BLACK, np.zeros((27, 27), bool), "masks must have shape"),
    (BLACK, np.zeros((3, 28, 28), bool), "masks must have shape"),
    (BLACK, np.zeros((2, 28, 28, 2), bool), "masks must have shape"),
    (BLACK, [[0, 1], [1]], "masks must be an array"),
    (np.zeros((28,), np.float32), NO_HOLE, "images must be 28x28 digits"),
    (np.zeros((4, 32, 32), np.uint8), NO_HOLE, r"28x28 digits.*got shape \(4, 32, 32\)"),
    (np.zeros((32, 32), np.uint8), NO_HOLE, r"got shape \(32, 32\)"),
    (np.zeros((4, 14, 14), np.uint8), NO_HOLE, r"got shape \(4, 14, 14\)"),
    (np.zeros((4, 784), np.uint8), NO_HOLE, r"got shape \(4, 784\)"),
    (np.zeros((2, 28, 28, 3), np.uint8), NO_HOLE, r"got shape \(2, 28, 28, 3\)"),
    (np.zeros((1, 2, 28, 28), np.uint8), NO_HOLE, r"got shape \(1, 2, 28, 28\)"),
    ([[0] * 28, [0] * 27], NO_HOLE, "images must be an array"),
    (np.full((1, 28, 28), 3.0, np.float32), NO_HOLE, r"\[-1, 1\]"),
    (np.full((1, 28, 28), np.nan, np.float32), NO_HOLE, "NaN"),
    (np.full((1, 28, 28), np.inf, np.float32), NO_HOLE, "NaN or infinite"),
    # Digits in [0, 1] lie inside [-1, 1]: without this check they were read as grey backgrounds.
    (np.random.default_rng(0).uniform(0, 1, (3, 28, 28)), NO_HOLE, r"median pixel at most -0.9.*3 of 3.*x \* 2 - 1"),
    (np.concatenate([BLACK, np.zeros((1, 28, 28), np.float32)]), NO_HOLE, "background at -1.*1 of 3"),
    # One pixel below zero made a [0, 1] digit pass the earlier check; its fills were read at 39 %.
    (np.where(np.arange(784).reshape(1, 28, 28) == 0, -1e-6, mnist_like_unit_digit()), NO_HOLE, "1 of 1 have a median"),
    (1.0 - 2.0 * mnist_like_unit_digit(), NO_HOLE, "white-background digits"),
])
def test_inpaint_digits_rejects_what_it_cannot_use(images, masks, message):
    with pytest.raises(ValueError, match=message):
        inpainting.inpaint_digits(images, masks, _own_inpainter())


@pytest.mark.parametrize("inpainter, message", [
    (lambda: None, r"a \(generator, config\) pair, got None"),
    (lambda: 42, r"got 42 \(int\)"),
    (lambda: (), "a tuple of length 0"),
    (lambda: (models.build_generator(PAPER),), "a tuple of length 1"),
    (lambda: (None, PAPER), "generator must be a Keras model.*NoneType"),
    (lambda: ("paper", PAPER), "generator must be a Keras model.*str"),
    (lambda: (models.build_generator(PAPER), "paper"), "config must be a GANConfig, got str"),
    (lambda: (models.build_generator(PAPER), MASK_CHANNEL), r"takes inputs of shape \(28, 28, 1\).*different models"),
    (lambda: (models.build_generator(MASK_CHANNEL), PAPER), r"takes inputs of shape \(28, 28, 2\).*different models"),
    (lambda: "best", "name must be one of"),
], ids=["None", "42", "empty tuple", "generator alone", "no generator", "a name for the generator", "a name for the config",
        "paper generator, mask-channel config", "mask-channel generator, paper config", "unknown name"])
def test_inpaint_digits_names_an_inpainter_it_cannot_use(inpainter, message):
    with pytest.raises(ValueError, match=message):
        inpainting.inpaint_digits(BLACK, NO_HOLE, inpainter())


@pytest.mark.parametrize("images", [np.zeros((0, 28, 28), np.uint8), np.zeros((0, 28, 28, 1), np.float32)])
def test_inpaint_digits_returns_an_empty_batch_empty(images):
    result = inpainting.inpaint_digits(images, NO_HOLE, _own_inpainter())
    assert result.shape == images.shape and result.dtype == images.dtype


def test_a_single_digit_with_a_channel_axis_is_one_digit():
    digit = np.random.default_rng(2).integers(0, 256, (28, 28, 1), dtype=np.uint8)
    result = inpainting.inpaint_digits(digit, _centre_mask(), _own_inpainter())
    assert result.shape == (28, 28, 1)
    np.testing.assert_array_equal(result, inpainting.inpaint_digits(digit[np.newaxis], _centre_mask()[None, ..., None],
                                                                    _own_inpainter())[0])


def test_masks_may_carry_a_channel_axis():
    images = np.random.default_rng(3).integers(0, 256, (2, 28, 28), dtype=np.uint8)
    masks = np.stack([_centre_mask(), ~_centre_mask()])
    inpainter = _own_inpainter()
    np.testing.assert_array_equal(inpainting.inpaint_digits(images, masks[..., None], inpainter),
                                  inpainting.inpaint_digits(images, masks, inpainter))


def test_inpaint_refuses_a_generator_of_another_configuration(batch):
    corrupted, masks = batch
    with pytest.raises(ValueError, match="different models"):
        inpaint(models.build_generator(MASK_CHANNEL), PAPER, corrupted, masks)


def test_load_inpainter_rejects_unknown_names():
    with pytest.raises(ValueError, match="paper"):
        inpainting.load_inpainter("best")


def test_the_book_ships_two_models_and_the_default_is_its_own():
    assert shipped.INPAINTERS == ("paper", "book") and shipped.DEFAULT_INPAINTER == "book"
    assert set(shipped.EARLIER) == {"recommended", "realistic"}  # still loadable by their chapters' names
    assert set(shipped.ALL_INPAINTERS) == set(shipped.INPAINTERS) | set(shipped.EARLIER)


MEMORY_CHILD = """
import resource, sys
import numpy as np
from lib import data, inpainting
from lib.inpainting import correct_digits, inpaint_digits
(_, _), (x_test, _) = data.load_mnist()
inpainting.CHUNK_DIGITS = 250  # both runs below in whole chunks, so their working memory is the same
hole = np.zeros((28, 28), bool)
hole[10:18, 10:18] = True
peaks = []
for count in (10, 1_000, 9_000):  # 10: the models loaded and TensorFlow warmed up
    digits = np.resize(x_test, (count, 28, 28))
    inpaint_digits(digits, hole)
    correct_digits(digits)
    peaks.append(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024)
print((peaks[2] - peaks[1]) / 8_000)
"""


@pytest.mark.slow
def test_memory_grows_with_the_digits_returned_not_with_the_work():
    """Peak memory of inpaint_digits and correct_digits on 1,000 and then 9,000 uint8 digits: the
    8,000 more grow it by about what their answers hold (784 bytes a digit, the found mask as
    much), not by the 37-42 KB a digit that holding every intermediate at once cost."""
    import os
    import subprocess
    import sys
    from pathlib import Path


    if not os.environ.get(data.NPZ_VARIABLE):
        pytest.skip("MNIST_NPZ is not set")
    result = subprocess.run([sys.executable, "-c", MEMORY_CHILD], capture_output=True, text=True, timeout=600,
                            cwd=Path(__file__).resolve().parent.parent)
    assert result.returncode == 0, result.stderr[-2000:]
    per_digit = float(result.stdout.strip().splitlines()[-1])
    assert per_digit < 10_000, f"{per_digit:.0f} bytes a digit"  # measured: about 5,300 (the answers, the input copy, allocator slack)


def test_digits_are_inpainted_in_chunks_as_if_at_once(monkeypatch):
    digits = np.where(np.random.default_rng(0).uniform(size=(7, 28, 28)) < 0.3, 200, 0).astype(np.uint8)
    whole = inpainting.inpaint_digits(digits, _centre_mask(), _own_inpainter())
    monkeypatch.setattr(inpainting, "CHUNK_DIGITS", 3)
    assert np.array_equal(inpainting.inpaint_digits(digits, _centre_mask(), _own_inpainter()), whole)


def test_inpaint_images_fills_any_datasets_images_and_checks_the_background_of_digits_only():
    pair = untrained_inpainter()
    rng = np.random.default_rng(0)
    clothes = rng.uniform(-0.2, 1.0, (3, 28, 28)).astype(np.float32)  # a bright garment fills the frame
    hole = np.zeros((28, 28), bool)
    hole[10:18, 10:18] = True
    filled = inpainting.inpaint_images(clothes, hole, pair, dataset="fashion_mnist")
    assert filled.shape == clothes.shape and np.array_equal(filled[:, ~hole], clothes[:, ~hole])  # composited
    with pytest.raises(ValueError, match="background at -1"):
        inpainting.inpaint_images(clothes, hole, pair)  # as digits, that is the [0, 1] mistake
    digits = (rng.uniform(0, 1, (3, 28, 28)) > 0.8).astype(np.uint8) * 255
    assert np.array_equal(inpainting.inpaint_images(digits, hole, pair), inpainting.inpaint_digits(digits, hole, pair))
    with pytest.raises(ValueError, match="dataset must be one of"):
        inpainting.inpaint_images(digits, hole, pair, dataset="cifar10")


def test_a_shipped_name_loads_the_datasets_own_model(tmp_path, monkeypatch):
    monkeypatch.setenv(runs.ROOT_VARIABLE, str(tmp_path))
    with pytest.raises(ValueError, match=r"fashion_mnist/studies/shipped.json"):
        inpainting.load_inpainter("book", dataset="fashion_mnist")
    with pytest.raises(ValueError, match=r"fashion_mnist/studies/shipped.json"):
        inpainting.inpaint_images(np.zeros((1, 28, 28), np.uint8), np.ones((28, 28), bool), "book", "fashion_mnist")



@pytest.mark.skipif(not os.environ.get("FASHION_MNIST_NPZ"), reason="FASHION_MNIST_NPZ is not set")
def test_the_shipped_fashion_models_load_by_name_and_fill_clothing(committed_artifacts):
    (_, _), (x_test, _) = datasets.load("fashion_mnist")
    clothes, hole = x_test[:64], np.zeros((28, 28), bool)
    hole[7:21, 7:21] = True
    for name in shipped.INPAINTERS:
        pair = inpainting.load_inpainter(name, dataset="fashion_mnist")
        filled = inpainting.inpaint_images(clothes, hole, name, dataset="fashion_mnist")
        assert filled.shape == clothes.shape and filled.dtype == np.uint8
        assert np.array_equal(filled, inpainting.inpaint_images(clothes, hole, pair, "fashion_mnist"))
    book = inpainting.inpaint_images(clothes, hole, "book", dataset="fashion_mnist")
    assert np.array_equal(book[:, ~hole], clothes[:, ~hole])  # the book's model composites: known pixels kept
    # It learnt clothing: its fills are closer to the garments than those of MNIST's model of the same recipe.
    digits_model = inpainting.inpaint_images(clothes, hole, inpainting.load_inpainter("book"), "fashion_mnist")
    error = {name: np.abs(fills[:, hole].astype(float) - clothes[:, hole]).mean()
             for name, fills in (("clothing", book), ("digits", digits_model))}
    assert error["clothing"] < 0.8 * error["digits"], error
