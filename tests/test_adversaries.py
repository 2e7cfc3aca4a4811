"""Tests of lib.adversaries: GLCIC's global and local pair, SN-PatchGAN, and the features that
discriminator feature matching compares."""
import keras
import numpy as np
import pytest
import tensorflow as tf

from lib import adversaries
from lib.config import PAPER

TINY = PAPER.variant("tiny", batch_size=8, epochs=1)


def square_masks(count, top, left, size):
    masks = np.zeros((count, 28, 28, 1), np.float32)
    masks[:, top:top + size, left:left + size] = 1.0
    return masks


@pytest.mark.parametrize("top, left, size, expected", [
    (10, 10, 8, (4, 4)),    # centred on the hole's centre (14): rows 4..23
    (0, 0, 6, (0, 0)),      # a corner hole: the window is pushed back inside the image
    (20, 22, 6, (8, 8)),    # the far corner
    (9, 3, 18, (8, 2)),     # the largest training hole, with a pixel either side
])
def test_the_hole_window_is_centred_on_the_hole_and_kept_inside_the_image(top, left, size, expected):
    images = np.arange(28 * 28, dtype=np.float32).reshape(1, 28, 28, 1)
    window = adversaries.HoleWindow(20)([images, square_masks(1, top, left, size)]).numpy()
    row, col = expected
    np.testing.assert_array_equal(window[0], images[0, row:row + 20, col:col + 20])


def test_the_hole_window_without_a_hole_is_the_centre_and_passes_gradients():
    images = tf.Variable(np.random.default_rng(0).normal(size=(2, 28, 28, 1)).astype(np.float32))
    with tf.GradientTape() as tape:
        window = adversaries.HoleWindow(20)([images, np.zeros((2, 28, 28, 1), np.float32)])
        total = tf.reduce_sum(window)
    np.testing.assert_array_equal(window.numpy(), images.numpy()[:, 4:24, 4:24])
    gradient = tape.gradient(total, images).numpy()
    assert gradient[:, 4:24, 4:24].min() == 1 and gradient.sum() == 2 * 400  # every cropped pixel, only those


def test_the_global_local_pair_scores_each_image_with_a_probability():
    keras.utils.set_random_seed(0)
    model = adversaries.build_adversary(TINY.variant("pair", adversary="global+local"))
    scores = model([np.zeros((3, 28, 28, 1), np.float32), square_masks(3, 10, 10, 8)]).numpy()
    assert scores.shape == (3, 1) and ((scores > 0) & (scores < 1)).all()
    assert {"hole_window", "global1_conv", "local1_conv"} <= {layer.name for layer in model.layers}


def test_the_patch_discriminator_scores_a_grid_of_patches_with_logits_and_sees_the_mask():
    keras.utils.set_random_seed(0)
    model = adversaries.build_adversary(TINY.variant("patch", adversary="patch"))
    images = np.zeros((2, 28, 28, 1), np.float32)
    with_hole, without = model([images, square_masks(2, 10, 10, 8)]), model([images, np.zeros_like(images)])
    assert with_hole.shape == (2, 49)
    assert not np.allclose(with_hole.numpy(), without.numpy())  # mask-aware
    assert any(isinstance(layer, keras.layers.SpectralNormalization) for layer in model.layers)


def test_hidden_features_share_the_discriminators_weights():
    keras.utils.set_random_seed(0)
    model = adversaries.build_adversary(TINY.variant("pair", adversary="global+local"))
    critic = adversaries.hidden_features(model)
    inputs = [np.random.default_rng(1).uniform(-1, 1, (2, 28, 28, 1)).astype(np.float32), square_masks(2, 10, 10, 8)]
    verdict, *features = critic(inputs)
    assert len(features) == 6  # three blocks in each branch
    np.testing.assert_allclose(verdict.numpy(), model(inputs).numpy(), rtol=1e-6)


def test_build_adversary_builds_only_the_literatures_adversaries():
    with pytest.raises(ValueError, match="build_adversary builds"):
        adversaries.build_adversary(TINY)
    with pytest.raises(ValueError, match="no leaky-ReLU"):
        adversaries.hidden_features(keras.Sequential([keras.Input((3,)), keras.layers.Dense(1)]))


def test_the_local_window_must_hold_the_largest_hole():
    with pytest.raises(ValueError, match="hold the largest hole"):
        adversaries.build_adversary(TINY.variant("big holes", adversary="global+local", random_holes=True,
                                                 random_hole_max=20))
