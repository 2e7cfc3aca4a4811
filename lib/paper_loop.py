"""The paper's own training loop, kept as the reference `lib.gan.InpaintingGAN` is checked
against: `generator.predict`, then `discriminator.train_on_batch` on real + generated digits,
then `combined.train_on_batch` (generator -> frozen discriminator) towards the label 1.

Keras 2 read a model's ``trainable`` flag when it was compiled. The Keras 3 pinned here (3.15)
reads it at every call; a change merged upstream ("Respect compiled trainable state in
TensorFlowTrainer") makes Keras respect the state at compile time again. `PaperLoop` is right
under both: it compiles the discriminator while it is trainable, freezes it before compiling
the combined model, and sets the flag for each update as the paper's loop does.
"""
from __future__ import annotations

import warnings

from lib import runtime  # noqa: F401  (starts TensorFlow quietly)
import keras
import numpy as np
import tensorflow as tf

from lib import checks, data
from lib.config import PAPER, GANConfig
from lib.gan import adam, build_gan
from lib.models import build_discriminator, build_generator

# What the paper's loop can be given: its sizes and hyper-parameters, nothing of the book's changes.
PAPER_LOOP_FIELDS = {"image_size", "hole_size", "hole_corner_min", "hole_corner_max", "generator_filters",
                     "discriminator_filters", "discriminator_strides", "leaky_relu_slope", "dropout_rate",
                     "batch_size", "epochs", "generator_learning_rate", "discriminator_learning_rate",
                     "adam_beta_1", "real_label", "fake_label"}


class PaperLoop:
    """One call of `step` is one iteration of the paper's loop."""

    def __init__(self, generator, discriminator, config: GANConfig = PAPER):
        checks.instance(config, GANConfig)
        unsupported = sorted(set(config.departures()) - PAPER_LOOP_FIELDS)
        if unsupported:
            raise ValueError(f"the paper's loop implements the paper's recipe only, not {unsupported}")
        self.generator, self.discriminator, self.config = generator, discriminator, config
        discriminator.trainable = True
        discriminator.compile(optimizer=adam(config, config.discriminator_learning_rate), loss="binary_crossentropy")
        discriminator.trainable = False  # before compiling `combined`: its updates leave D alone
        corrupted = keras.Input((config.image_size, config.image_size, 1))
        self.combined = keras.Model(corrupted, discriminator(generator(corrupted)), name="combined")
        self.combined.compile(optimizer=adam(config, config.generator_learning_rate), loss="binary_crossentropy")
        discriminator.trainable = True

    def step(self, corrupted, original):
        config, size = self.config, len(original)
        generated = self.generator.predict(corrupted, verbose=0, batch_size=size)
        images = np.concatenate([original, generated])
        labels = np.concatenate([np.full((size, 1), config.real_label), np.full((size, 1), config.fake_label)])
        self.discriminator.trainable = True
        d_loss = self.discriminator.train_on_batch(images, labels.astype(np.float32))
        self.discriminator.trainable = False
        g_loss = self.combined.train_on_batch(corrupted, np.ones((size, 1), np.float32))
        self.discriminator.trainable = True
        return float(d_loss), float(g_loss)


def paper_loop_agreement(config: GANConfig = PAPER, steps=3, seed=0, batch_size=32):
    """Train two copies of the same initial networks for ``steps`` iterations on the same
    batches, one with the paper's `train_on_batch` loop and one with `InpaintingGAN.train_step`,
    and return the largest absolute differences of their losses and weights.

    Dropout draws different random numbers in the two implementations, so it is switched off
    here (``dropout_rate=0``): what remains is the procedure itself, which must agree to float
    round-off."""
    config = config.variant(config.name, dropout_rate=0.0, batch_size=batch_size)
    rng = np.random.default_rng(seed)
    originals = rng.uniform(-1, 1, (steps, batch_size, config.image_size, config.image_size, 1)).astype(np.float32)
    masks = np.stack([data.paper_masks(batch_size, [seed, step]) for step in range(steps)])
    keras.utils.set_random_seed(seed)
    gan = build_gan(config)
    initial = [w.copy() for w in gan.generator.get_weights()]
    twin_generator, twin_discriminator = build_generator(config), build_discriminator(config)
    twin_generator.set_weights(gan.generator.get_weights())
    twin_discriminator.set_weights(gan.discriminator.get_weights())
    loop = PaperLoop(twin_generator, twin_discriminator, config)
    loss_gap = 0.0
    for original, mask in zip(originals, masks):
        corrupted = data.apply_mask(original, mask)
        masks_channel = data.with_channel(mask.astype(np.float32))
        logs = gan.train_step((tf.constant(corrupted), tf.constant(original), tf.constant(masks_channel)))
        d_loss, g_loss = loop.step(corrupted, original)
        compiled_d_loss = (float(logs["d_loss_real"]) + float(logs["d_loss_fake"])) / 2
        loss_gap = max(loss_gap, abs(compiled_d_loss - d_loss), abs(float(logs["g_loss"]) - g_loss))
    pairs = [(gan.generator, twin_generator), (gan.discriminator, twin_discriminator)]
    weight_gap = max(float(np.abs(a - b).max()) for one, two in pairs for a, b in zip(one.get_weights(), two.get_weights()))
    moved = max(float(np.abs(a - b).max()) for a, b in zip(twin_generator.get_weights(), initial))
    return {"steps": steps, "max_loss_difference": loss_gap, "max_weight_difference": weight_gap, "weights_moved_by": moved}


def keras2_recipe_discriminator_change(config: GANConfig = PAPER, seed=0, batch_size=32):
    """The classic Keras 2 GAN recipe, ported literally: compile the discriminator, set
    ``trainable = False``, build and compile the combined model, then call
    ``discriminator.train_on_batch``. Returns the largest change of any discriminator weight
    caused by that call. Keras 3 reads ``trainable`` at every call, so the answer is 0.0: the
    discriminator never learns, unless the flag is switched back on as `PaperLoop` does."""
    keras.utils.set_random_seed(seed)
    generator, discriminator = build_generator(config), build_discriminator(config)
    discriminator.compile(optimizer=adam(config, config.discriminator_learning_rate), loss="binary_crossentropy")
    discriminator.trainable = False
    corrupted = keras.Input((config.image_size, config.image_size, 1))
    combined = keras.Model(corrupted, discriminator(generator(corrupted)))
    combined.compile(optimizer=adam(config, config.generator_learning_rate), loss="binary_crossentropy")
    images = np.random.default_rng(seed).uniform(-1, 1, (batch_size, config.image_size, config.image_size, 1))
    before = [w.copy() for w in discriminator.get_weights()]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # Keras warns that the model has no trainable weights: the point
        discriminator.train_on_batch(images.astype(np.float32), np.full((batch_size, 1), config.real_label, np.float32))
    return max(float(np.abs(a - b).max()) for a, b in zip(before, discriminator.get_weights()))
