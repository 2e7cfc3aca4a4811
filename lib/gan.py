"""The paper's adversarial training as a `keras.Model`, in the shape of keras-io's GAN examples.

`InpaintingGAN.train_step` is one iteration of the paper's loop (SPEC section 2), compiled by
`fit`: the discriminator learns to tell real digits (target 0.9) from the generator's fills
(target 0), then the generator learns to make the discriminator say "real" (target 1).
"""
from __future__ import annotations

from lib import runtime  # noqa: F401  (starts TensorFlow quietly)
import keras
import tensorflow as tf

from lib import checks
from lib.adversaries import HINGE, MASK_AWARE, hidden_features
from lib.config import PAPER, SCHEDULES, GANConfig
from lib.models import build_discriminator, build_generator, complete, generator_inputs

# What a step reports. Callbacks get each iteration's values; the progress bar and `History` show
# their epoch means, which the `Mean` trackers of the same names hold.
METRICS = ("d_loss_real", "d_loss_fake", "g_loss", "g_reconstruction", "d_real", "d_fake", "d_acc_real", "d_acc_fake")


class InpaintingGAN(keras.Model):
    """A generator and a discriminator, trained in turn, one `train_step` per paper iteration."""

    def __init__(self, generator, discriminator, config: GANConfig = PAPER, **kwargs):
        super().__init__(**kwargs)
        self.generator, self.discriminator = generator, discriminator
        self.config = checks.instance(config, GANConfig)
        names = METRICS + (("g_feature_matching",) if config.feature_matching_weight else ())
        self.trackers = {name: keras.metrics.Mean(name=name) for name in names}
        # The verdict and the hidden features in one pass, for discriminator feature matching.
        self.critic = hidden_features(discriminator) if config.feature_matching_weight else None
        self.matching = keras.Variable(0.0, trainable=False, name="feature_matching") if self.critic else None
        # Where a verdict turns from "fake" to "real": a probability, or a hinge-loss logit.
        self.threshold = 0.0 if config.adversary in HINGE else 0.5
        self.adversary_on = True  # off in a reconstruction warm-up (`switch_adversary`)

    def compile(self, d_optimizer, g_optimizer, **kwargs):
        super().compile(**kwargs)
        self.d_optimizer, self.g_optimizer = d_optimizer, g_optimizer
        # Per-sample values, averaged by `cross_entropy`: Keras's reducing loss objects also divide
        # by the replica count inside a tf.distribute strategy, and `apply_gradients` scales once.
        self.loss_fn = keras.losses.BinaryCrossentropy(reduction=None)
        self.d_optimizer.build(self.discriminator.trainable_variables)
        self.g_optimizer.build(self.generator.trainable_variables)

    @property
    def metrics(self):
        return list(self.trackers.values())  # fit resets them at the start of every epoch

    def call(self, inputs, training=False):
        return self.generator(inputs, training=training)

    @property
    def iterations(self):
        """Training iterations so far (a reconstruction warm-up's included)."""
        return self.g_optimizer.iterations // self.config.generator_steps

    def switch_adversary(self, on):
        """Turn the discriminator and the adversarial loss on or off (off: `reconstruction_step`).
        The compiled step is traced again on the next `fit`."""
        if bool(on) != self.adversary_on:
            self.adversary_on = bool(on)
            self.train_function = None

    def train_step(self, batch):
        if not self.adversary_on:
            return self.reconstruction_step(batch)
        corrupted, original, masks = batch
        config, inputs = self.config, generator_inputs(self.config, corrupted, masks)

        # 1. The discriminator learns: real digits towards 0.9, the generator's fills towards 0.
        #    The paper makes its fakes with `generator.predict`, i.e. in inference mode.
        fakes = complete(config, self.generator(inputs, training=False), corrupted, masks)
        real_scores, fake_scores = self.train_discriminator(original, fakes, masks)

        # 2. The generator learns to make the discriminator say 1 ("real"), through its frozen
        #    weights, plus lambda times the hole's reconstruction error (lambda = 0 in the paper).
        adversarial, reconstruction = self.train_generator(inputs, corrupted, original, masks)
        return self.update_metrics(real_scores, fake_scores, adversarial, reconstruction)

    def reconstruction_step(self, batch):
        """A warm-up iteration (GLCIC's first phase): one generator update on the hole's
        reconstruction loss alone. The discriminator does not run, so its metrics are NaN."""
        corrupted, original, masks = batch
        with tf.GradientTape() as tape:
            output = self.generator(generator_inputs(self.config, corrupted, masks), training=True)
            reconstruction = self.hole_loss(original, output, masks)
        self.apply_gradients(tape, reconstruction, self.generator, self.g_optimizer)
        values = {name: tf.constant(float("nan")) for name in self.trackers}
        values["g_reconstruction"] = reconstruction
        self.trackers["g_reconstruction"].update_state(reconstruction)
        return values

    def judge(self, images, masks, training=True):
        """The discriminator's verdict on ``images``; the literature's adversaries
        (`lib.adversaries`) are also told where the hole is."""
        if self.config.adversary in MASK_AWARE:
            return self.discriminator([images, masks], training=training)
        return self.discriminator(images, training=training)

    def discriminator_losses(self, real_scores, fake_scores):
        """D's loss on real digits and on fills: the cross-entropy against the paper's labels
        (0.9 and 0), or, for SN-PatchGAN, the hinge loss mean(relu(1 - real)), mean(relu(1 + fake))."""
        if self.config.adversary in HINGE:
            return tf.reduce_mean(tf.nn.relu(1.0 - real_scores)), tf.reduce_mean(tf.nn.relu(1.0 + fake_scores))
        config = self.config
        return (self.cross_entropy(tf.fill(tf.shape(real_scores), config.real_label), real_scores),
                self.cross_entropy(tf.fill(tf.shape(fake_scores), config.fake_label), fake_scores))

    def cross_entropy(self, targets, scores):
        """The binary cross-entropy of ``scores`` against ``targets``, averaged over this batch
        (this replica's share of it, under a strategy), like every other term of the losses."""
        return tf.reduce_mean(self.loss_fn(targets, scores))

    def adversarial_loss(self, fooled):
        """G's adversarial loss: the cross-entropy of D's verdict on the fill against "real" (1),
        the non-saturating loss; for the hinge adversary, minus its mean score."""
        if self.config.adversary in HINGE:
            return -tf.reduce_mean(fooled)
        return self.cross_entropy(tf.ones_like(fooled), fooled)

    def feature_matching(self, original, filled, masks):
        """pix2pixHD's feature-matching loss: the mean L1 distance between D's hidden features of
        each real digit and of its fill, layer by layer (D's dropout off, so both see one network)."""
        both = tf.concat([original, filled], axis=0)
        inputs = [both, tf.concat([masks, masks], axis=0)] if self.config.adversary in MASK_AWARE else both
        _, *features = self.critic(inputs, training=False)
        size = tf.shape(original)[0]
        features = [tf.cast(layer, tf.float32) for layer in features]  # bfloat16 under mixed precision
        return tf.add_n([tf.reduce_mean(tf.abs(tf.stop_gradient(layer[:size]) - layer[size:])) for layer in features]) \
            / len(features)

    def train_generator(self, inputs, corrupted, original, masks):
        """One update of the generator; returns its adversarial and reconstruction losses."""
        with tf.GradientTape() as tape:
            output = self.generator(inputs, training=True)
            loss, adversarial, reconstruction = self.generator_loss(output, corrupted, original, masks)
        self.apply_gradients(tape, loss, self.generator, self.g_optimizer)
        return adversarial, reconstruction

    def generator_loss(self, output, corrupted, original, masks):
        """L_G: cross-entropy of the discriminator's verdict on the fill against the target 1,
        plus lambda times the hole loss; returns it with its two terms."""
        config = self.config
        filled = complete(config, output, corrupted, masks)
        # In training mode a spectrally normalised D also renormalises its kernels here; D's own step
        # has just done so, and dividing by a spectral norm of about 1 again changes almost nothing.
        adversarial = self.adversarial_loss(self.judge(filled, masks))
        reconstruction = self.hole_loss(original, output, masks)
        loss = config.adversarial_weight * adversarial + config.reconstruction_weight * reconstruction
        if config.feature_matching_weight:
            matching = self.feature_matching(original, filled, masks)
            self.matching.assign(matching)  # the step's value, for `update_metrics`
            loss += config.feature_matching_weight * matching
        return loss, adversarial, reconstruction

    def train_discriminator(self, real, fake, masks):
        """One update of the discriminator on real and generated digits (one pass over both, as
        the paper's ``train_on_batch`` on their concatenation); returns its scores."""
        size = tf.shape(real)[0]
        with tf.GradientTape() as tape:
            scores = self.judge(tf.concat([real, fake], axis=0), tf.concat([masks, masks], axis=0))
            real_loss, fake_loss = self.discriminator_losses(scores[:size], scores[size:])
            loss = 0.5 * (real_loss + fake_loss)  # the mean over the concatenated batch
        self.apply_gradients(tape, loss, self.discriminator, self.d_optimizer)
        return scores[:size], scores[size:]

    def hole_loss(self, original, generated, masks):
        """Mean L1 or L2 error over the missing pixels only (Context Encoders' reconstruction loss)."""
        error = generated - original
        error = tf.abs(error) if self.config.reconstruction_loss == "l1" else tf.square(error)
        return tf.reduce_sum(error * masks) / tf.maximum(tf.reduce_sum(masks), 1.0)

    @staticmethod
    def apply_gradients(tape, loss, model, optimizer):
        # Every loss term is a mean over this replica's share of the batch. Under a tf.distribute
        # strategy the optimizer sums the replicas' gradients, so each share is scaled once, here.
        replicas = tf.distribute.get_strategy().num_replicas_in_sync
        gradients = tape.gradient(loss, model.trainable_variables)
        optimizer.apply([gradient / replicas for gradient in gradients], model.trainable_variables)

    def update_metrics(self, real_scores, fake_scores, adversarial, reconstruction):
        real_loss, fake_loss = self.discriminator_losses(real_scores, fake_scores)
        values = {
            "d_loss_real": real_loss, "d_loss_fake": fake_loss,
            "g_loss": adversarial, "g_reconstruction": reconstruction,
            "d_real": tf.reduce_mean(real_scores), "d_fake": tf.reduce_mean(fake_scores),
            # Accuracy at the 0.5 threshold: with the 0.9 target the equilibrium is D = 0.45 (chapter 3).
            "d_acc_real": tf.reduce_mean(tf.cast(real_scores > self.threshold, tf.float32)),
            "d_acc_fake": tf.reduce_mean(tf.cast(fake_scores <= self.threshold, tf.float32)),
        }
        if self.critic is not None:
            values["g_feature_matching"] = self.matching.value
        for name, value in values.items():
            self.trackers[name].update_state(value)
        return values


class SharedPassGAN(InpaintingGAN):
    """The collapse fix (chapter 5): one training-mode generator pass feeds both updates, as in
    TensorFlow's DCGAN tutorial, so the discriminator learns on the fills the generator is
    trained through. The paper's Keras 2 idiom makes a second, inference-mode pass for the
    discriminator instead; that pass is `InpaintingGAN.train_step`'s."""

    def train_step(self, batch):
        if not self.adversary_on:
            return self.reconstruction_step(batch)
        corrupted, original, masks = batch
        config, inputs = self.config, generator_inputs(self.config, corrupted, masks)
        with tf.GradientTape() as tape:
            output = self.generator(inputs, training=True)
            fakes = tf.stop_gradient(complete(config, output, corrupted, masks))
            real_scores, fake_scores = self.train_discriminator(original, fakes, masks)
            loss, adversarial, reconstruction = self.generator_loss(output, corrupted, original, masks)
        self.apply_gradients(tape, loss, self.generator, self.g_optimizer)
        return self.update_metrics(real_scores, fake_scores, adversarial, reconstruction)


class RepeatedGeneratorGAN(InpaintingGAN):
    """A suspect of the collapse study (chapter 5): ``config.generator_steps`` generator updates,
    on the same batch, for every discriminator update."""

    def train_generator(self, inputs, corrupted, original, masks):
        for _ in range(self.config.generator_steps):
            losses = super().train_generator(inputs, corrupted, original, masks)
        return losses


@keras.saving.register_keras_serializable(package="gan_book")
class HoldThenLinearDecay(keras.optimizers.schedules.LearningRateSchedule):
    """CycleGAN's learning-rate schedule (Zhu et al. 2017): ``initial`` up to iteration
    ``hold_steps``, then a straight line that reaches zero at ``hold_steps + decay_steps`` (the
    optimizer reads the rate before counting the step, so a run of that many iterations ends
    with ``initial / decay_steps``)."""

    def __init__(self, initial, hold_steps, decay_steps):
        self.initial = checks.positive(initial, "initial learning rate")
        self.hold_steps = checks.count(hold_steps, "hold_steps")
        self.decay_steps = checks.count(decay_steps, "decay_steps", minimum=1)

    def __call__(self, step):
        step = tf.cast(step, tf.float32)
        remaining = 1.0 - (step - self.hold_steps) / self.decay_steps
        return self.initial * tf.clip_by_value(remaining, 0.0, 1.0)

    def get_config(self):
        return {"initial": self.initial, "hold_steps": self.hold_steps, "decay_steps": self.decay_steps}


ONE_CYCLE_WARMUP = 0.3  # share of the run over which one-cycle's rate rises (Smith and Topin 2019)
ONE_CYCLE_START = 1 / 25  # the rate it rises from, as a share of the peak (fastai's default)


@keras.saving.register_keras_serializable(package="gan_book")
class PhasedSchedule(keras.optimizers.schedules.LearningRateSchedule):
    """``first`` for the first ``boundary`` iterations, then ``then``, counted afresh from the
    boundary: a warm-up's schedule, then the adversarial phase's restarted one (GLCIC's phases)."""

    def __init__(self, first, then, boundary):
        for part in (first, then):
            checks.instance(part, keras.optimizers.schedules.LearningRateSchedule, "each phase's schedule")
        self.first, self.then = first, then
        self.boundary = checks.count(boundary, "boundary", minimum=1)

    def __call__(self, step):
        step = tf.cast(step, tf.float32)
        return tf.where(step < self.boundary, self.first(step), self.then(tf.maximum(step - self.boundary, 0.0)))

    def get_config(self):
        serialize = keras.optimizers.schedules.serialize
        return {"first": serialize(self.first), "then": serialize(self.then), "boundary": self.boundary}

    @classmethod
    def from_config(cls, config):
        deserialize = keras.optimizers.schedules.deserialize
        return cls(deserialize(config["first"]), deserialize(config["then"]), config["boundary"])


def learning_rate(config: GANConfig, initial, steps_per_epoch=None, epochs=None, schedule=None):
    """``initial``, or, when the configuration decays it and the length is known
    (``steps_per_epoch``; ``epochs``, default the configuration's), its schedule over those
    epochs (``schedule``, default the configuration's): `HoldThenLinearDecay`, or Keras's
    `CosineDecay` to zero, with one-cycle's linear warm-up."""
    if not config.learning_rate_decay or steps_per_epoch is None:
        return initial
    epochs = config.epochs if epochs is None else checks.count(epochs, "epochs", minimum=1)
    total = epochs * checks.count(steps_per_epoch, "steps_per_epoch", minimum=1)
    schedule = config.learning_rate_schedule if schedule is None else schedule
    if schedule not in SCHEDULES:
        raise ValueError(f"schedule must be one of {SCHEDULES}, got {schedule!r}")
    schedules = keras.optimizers.schedules
    if schedule == "cosine":
        return schedules.CosineDecay(initial, total)
    if schedule == "one-cycle":
        warmup = int(ONE_CYCLE_WARMUP * total)
        return schedules.CosineDecay(initial * ONE_CYCLE_START, total - warmup, warmup_target=initial,
                                     warmup_steps=warmup)
    return HoldThenLinearDecay(initial, total // 2, total - total // 2)


def phase_learning_rates(config: GANConfig, steps_per_epoch=None):
    """The generator's and the discriminator's rates (schedules once ``steps_per_epoch`` is
    known). The discriminator counts its own iterations, which start after any warm-up. With an
    adversarial phase rate the generator's schedule spans the warm-up, then restarts, and both
    networks hold then decay over the adversarial epochs."""
    adversarial_epochs = checks.instance(config, GANConfig).epochs - config.warmup_epochs
    if not config.adversarial_phase_learning_rate or steps_per_epoch is None:
        return (learning_rate(config, config.generator_learning_rate, steps_per_epoch),
                learning_rate(config, config.discriminator_learning_rate, steps_per_epoch, adversarial_epochs))
    restart = SCHEDULES[0]  # hold-then-linear, the recommended recipe's
    generator = PhasedSchedule(
        learning_rate(config, config.generator_learning_rate, steps_per_epoch, config.warmup_epochs),
        learning_rate(config, config.adversarial_phase_learning_rate, steps_per_epoch, adversarial_epochs, restart),
        config.warmup_epochs * steps_per_epoch)
    return generator, learning_rate(config, config.discriminator_learning_rate, steps_per_epoch,
                                    adversarial_epochs, restart)


def adam(config: GANConfig, rate, name="adam"):
    """The paper's optimizer: Adam with beta_1 = 0.5 (the configuration's), at ``rate`` (a
    number or a schedule)."""
    return keras.optimizers.Adam(rate, beta_1=config.adam_beta_1, name=name)


def build_gan(config: GANConfig = PAPER, steps_per_epoch=None, jit_compile=False):
    """Generator, discriminator and the compiled GAN around them. ``steps_per_epoch`` is the
    length of an epoch, which a decaying learning rate needs; without it (a model built to load
    weights) the rates stay constant.

    XLA is off by default: on the book's 2-core CPUs the XLA-compiled step, timed after its
    compilation, measured 8 times slower than TensorFlow's graph mode with oneDNN kernels for an
    adversarial iteration, and a fifth slower for a warm-up one (`benchmarks/step_levers.py`)."""
    checks.instance(config, GANConfig)
    kind = SharedPassGAN if config.share_generator_pass else RepeatedGeneratorGAN if config.generator_steps > 1 \
        else InpaintingGAN
    gan = kind(build_generator(config), build_discriminator(config), config)
    generator_rate, discriminator_rate = phase_learning_rates(config, steps_per_epoch)
    gan.compile(d_optimizer=adam(config, discriminator_rate, "d_adam"), g_optimizer=adam(config, generator_rate, "g_adam"),
                jit_compile=jit_compile)
    return gan
