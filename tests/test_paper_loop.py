"""Tests of lib.paper_loop: the paper's train_on_batch loop, its agreement with the compiled
step, and the Keras 2 trap."""
import keras
import numpy as np
import pytest

from lib import models, paper_loop
from lib.config import PAPER, VARIANTS

TINY = PAPER.variant("tiny", batch_size=32, epochs=2)


def tiny_images(count=32, seed=0):
    return np.random.default_rng(seed).uniform(-1, 1, (count, 28, 28, 1)).astype(np.float32)


def test_the_paper_loop_updates_the_discriminator_only_in_its_own_step():
    keras.utils.set_random_seed(0)
    generator, discriminator = models.build_generator(TINY), models.build_discriminator(TINY)
    loop = paper_loop.PaperLoop(generator, discriminator, TINY)
    images = tiny_images()
    before = [w.copy() for w in discriminator.get_weights()]
    discriminator.trainable = False  # what step() does before the combined update
    loop.combined.train_on_batch(images, np.ones((32, 1), np.float32))
    discriminator.trainable = True
    assert all(np.array_equal(a, b) for a, b in zip(before, discriminator.get_weights()))
    generator_before = [w.copy() for w in generator.get_weights()]
    d_loss, g_loss = loop.step(images, images)
    assert np.isfinite(d_loss) and np.isfinite(g_loss)
    assert any(not np.array_equal(a, b) for a, b in zip(before, discriminator.get_weights()))
    assert any(not np.array_equal(a, b) for a, b in zip(generator_before, generator.get_weights()))
    assert discriminator.trainable


def test_the_combined_model_was_compiled_with_the_discriminator_frozen():
    """Right whichever moment Keras reads the flag: at compile time (Keras 2, and Keras 3 after
    "Respect compiled trainable state") or at every call (the Keras pinned here). Keras records
    the state it compiled with; the discriminator must be frozen in it, the generator not."""
    keras.utils.set_random_seed(0)
    loop = paper_loop.PaperLoop(models.build_generator(TINY), models.build_discriminator(TINY), TINY)
    compiled = loop.combined._compiled_trainable_state
    assert compiled[loop.discriminator] is False and compiled[loop.generator] is True
    assert loop.discriminator.trainable  # and the discriminator itself is left trainable


def test_the_compiled_step_agrees_with_the_papers_loop():
    agreement = paper_loop.paper_loop_agreement(steps=3)
    assert agreement["weights_moved_by"] > 1e-4  # the comparison is not between two idle models
    assert agreement["max_loss_difference"] < 1e-4
    assert agreement["max_weight_difference"] < 1e-4


@pytest.mark.parametrize("name", ["+ L2 hole loss", "+ mask channel", "+ global context"])
def test_the_paper_loop_refuses_what_it_does_not_implement(name):
    config = VARIANTS[name]
    with pytest.raises(ValueError, match="the paper's recipe only"):
        paper_loop.PaperLoop(models.build_generator(config), models.build_discriminator(config), config)
    with pytest.raises(ValueError, match="share_generator_pass"):
        paper_loop.PaperLoop(None, None, PAPER.variant("shared", share_generator_pass=True))


def test_the_literal_keras2_recipe_leaves_the_discriminator_frozen_in_this_keras():
    assert paper_loop.keras2_recipe_discriminator_change() == 0.0
