"""The generator's learning signal, measured during training (the collapse study, chapter 5)."""
from __future__ import annotations

from pathlib import Path

from lib import runtime  # noqa: F401  (starts TensorFlow quietly)
import numpy as np
import tensorflow as tf

from lib import artifacts, checks, data, runs
from lib.fitting import Recorder
from lib.inpainting import inpaint
from lib.models import complete, generator_inputs

TANH_SATURATED = 0.99  # |tanh(a)| > 0.99 means |a| > 2.65 and a slope tanh'(a) = 1 - tanh(a)^2 below 0.02
SCORE_QUANTILES = (0.1, 0.5, 0.9)



def per_image_scores(gan, images, masks):
    """The discriminator's verdict on each image in inference mode (a patch discriminator's
    patches averaged), told where the holes are if it is mask-aware (`InpaintingGAN.judge`)."""
    scores = gan.judge(images, masks, training=False)
    return tf.reduce_mean(tf.reshape(scores, [tf.shape(images)[0], -1]), axis=1)

class GeneratorDiagnostics(Recorder):
    """What the generator's learning signal looks like, every ``every_steps`` iterations up to
    ``until_step``, on one fixed batch (without touching the training state): the norm of the
    adversarial loss's gradient for each generator block, the share of output pixels in tanh's
    saturated range for the training-mode pass (what the generator learns through) and the
    inference-mode pass (what the paper's discriminator is shown, as by `generator.predict`), and
    the discriminator's scores on real digits and on both kinds of fakes (mean and quantiles).
    The discriminator is read in inference mode (no dropout, no instance noise): the signal
    without the noise that training adds to it."""

    key = "diagnostics"

    def __init__(self, corrupted, originals, masks, every_steps=10, until_step=None):
        super().__init__()
        self.corrupted = data.with_channel(data.check_images(corrupted, "corrupted"))
        self.originals = data.with_channel(data.check_images(originals, "originals"))
        boolean = data.check_masks(masks, self.corrupted.shape)
        self.masks = data.with_channel(boolean.astype(np.float32))
        self.every_steps = checks.count(every_steps, "every_steps", minimum=1)
        self.until_step = None if until_step is None else checks.count(until_step, "until_step")
        self._measure, self._measured_model = None, None
        self.epoch = 0

    def set_model(self, model):
        super().set_model(model)
        if model is not self._measured_model:  # traced once per model, reused by every epoch's fit
            self._measure, self._measured_model = tf.function(self.compute), model

    def on_epoch_begin(self, epoch, logs=None):
        self.epoch = epoch + 1

    def on_train_batch_end(self, batch, logs=None):
        step = int(self.model.iterations.numpy())
        if step % self.every_steps or (self.until_step is not None and step > self.until_step):
            return
        values = self._measure(tf.constant(self.corrupted), tf.constant(self.originals), tf.constant(self.masks))
        self.rows.append({"step": step, "epoch": self.epoch, **{k: float(v) for k, v in values.items()}})

    def compute(self, corrupted, originals, masks):
        gan = self.model
        config, generator = gan.config, gan.generator
        inputs = generator_inputs(config, corrupted, masks)
        trainable = [variable.value for variable in generator.trainable_variables]
        fixed = [variable.value for variable in generator.non_trainable_variables]
        with tf.GradientTape() as tape:
            tape.watch(trainable)
            # stateless_call: batch-norm statistics and noise seeds of the real training stay untouched
            output, _ = generator.stateless_call(trainable, fixed, inputs, training=True)
            fooled = gan.judge(complete(config, output, corrupted, masks), masks, training=False)
            adversarial = gan.adversarial_loss(fooled)
        gradients = tape.gradient(adversarial, trainable)
        shown, _ = generator.stateless_call(trainable, fixed, inputs, training=False)
        values = {"g_loss": adversarial}
        blocks = {}
        for variable, gradient in zip(generator.trainable_variables, gradients):
            blocks.setdefault(variable.path.split("/")[0].split("_")[0], []).append(tf.reduce_sum(tf.square(gradient)))
        for block, squares in blocks.items():
            values[f"grad_norm_{block}"] = tf.sqrt(tf.add_n(squares))
        values["grad_norm"] = tf.sqrt(tf.add_n([tf.add_n(squares) for squares in blocks.values()]))
        for mode, images in (("train", output), ("inference", shown)):
            values[f"saturated_{mode}"] = tf.reduce_mean(tf.cast(tf.abs(images) > TANH_SATURATED, tf.float32))
            values[f"tanh_slope_{mode}"] = tf.reduce_mean(1.0 - tf.square(images))
        scored = {"real": originals, "fake_inference": complete(config, shown, corrupted, masks),
                  "fake_train": complete(config, output, corrupted, masks)}
        for name, images in scored.items():
            scores = tf.sort(per_image_scores(gan, images, masks))
            values[f"d_{name}_mean"] = tf.reduce_mean(scores)
            for quantile in SCORE_QUANTILES:
                index = int(round(quantile * (len(self.corrupted) - 1)))
                values[f"d_{name}_p{int(100 * quantile)}"] = scores[index]
        return values

    def save(self, folder, record):
        if self.rows:
            artifacts.save_table(Path(folder) / runs.DIAGNOSTICS, self.rows)


class TrainingFilm(Recorder):
    """The first iterations of a run as a film: every ``every_steps`` iterations up to
    ``until_step``, the generator's inpaintings of fixed digits (uint8 frames, as
    `generator.predict` makes them) and the discriminator's scores, in inference mode, on real
    digits and on the generator's fills of their corrupted copies: the raw scores whose
    histograms chapter 5 shows, not just their quantiles."""

    key = "film"

    def __init__(self, corrupted, masks, scored_originals, scored_masks, every_steps=20, until_step=600):
        super().__init__()
        self.corrupted = data.with_channel(data.check_images(corrupted, "corrupted"))
        self.masks = data.check_masks(masks, self.corrupted.shape)
        self.originals = data.with_channel(data.check_images(scored_originals, "scored_originals"))
        self.scored_masks = data.check_masks(scored_masks, self.originals.shape)
        self.every_steps = checks.count(every_steps, "every_steps", minimum=1)
        self.until_step = checks.count(until_step, "until_step", minimum=1)
        self.rows = {"step": [], "frames": [], "d_real": [], "d_fake": []}

    def on_train_batch_end(self, batch, logs=None):
        step = int(self.model.iterations.numpy())
        if step % self.every_steps or step > self.until_step:
            return
        gan = self.model
        fakes = inpaint(gan.generator, gan.config, data.apply_mask(self.originals, self.scored_masks), self.scored_masks)
        masks = data.with_channel(self.scored_masks.astype(np.float32))
        scores = {"d_real": per_image_scores(gan, self.originals, masks), "d_fake": per_image_scores(gan, fakes, masks)}
        frames = inpaint(gan.generator, gan.config, self.corrupted, self.masks)
        self.rows["step"].append(step)
        self.rows["frames"].append(data.rescale(frames[..., 0]))
        for name, values in scores.items():
            self.rows[name].append(np.asarray(values, np.float32).reshape(-1))

    def state(self):
        return {f"{self.key}_{name}": np.asarray(values) for name, values in self.rows.items() if len(values)}

    def restore(self, arrays):
        for name in self.rows:
            stored = arrays.get(f"{self.key}_{name}")
            self.rows[name] = [] if stored is None else list(stored)

    def save(self, folder, record):
        if self.rows["step"]:
            artifacts.save_arrays(Path(folder) / runs.FILM, **{name: np.asarray(values) for name, values in self.rows.items()})
