"""The paper's three networks (generator, discriminator, classifier) and FLOP counting.

Builders take the paper's sizes as defaults (SPEC section 2) and return functional
`keras.Model`s, so `model.summary()` prints the layer table a chapter shows.
"""
from __future__ import annotations

import contextlib
import dataclasses

from lib import runtime  # first: starts TensorFlow quietly
import keras
import numpy as np
from keras import layers

from lib import checks
from lib.adversaries import build_adversary
from lib.config import CLASSIFIER, PAPER, ClassifierConfig, DenseClassifierConfig, GANConfig


@keras.saving.register_keras_serializable(package="lib")
class ChannelwiseDense(layers.Layer):
    """Context Encoders' channel-wise fully connected layer (Pathak et al. 2016): every channel's
    H x W map goes through a dense layer of its own to a new H x W map. Each position then sees
    the whole image, which 3x3 convolutions reach only after many layers, for (HW)^2 C weights
    instead of the (HWC)^2 of a full dense layer. Input and output: (N, H, W, C)."""

    def build(self, input_shape):
        _, height, width, channels = input_shape
        if None in (height, width, channels):
            raise ValueError(f"ChannelwiseDense needs a fixed spatial shape and channel count, got {input_shape}")
        cells = height * width
        # Glorot uniform for each channel's cells x cells matrix.
        limit = float(np.sqrt(6.0 / (2 * cells)))
        self.kernel = self.add_weight(
            shape=(cells, cells, channels), name="kernel",
            initializer=keras.initializers.RandomUniform(-limit, limit),
        )
        self.bias = self.add_weight(shape=(cells, channels), name="bias", initializer="zeros")

    def call(self, inputs):
        _, height, width, channels = inputs.shape
        cells = keras.ops.reshape(inputs, (-1, height * width, channels))
        mixed = keras.ops.einsum("nsc,stc->ntc", cells, self.kernel) + self.bias
        return keras.ops.reshape(mixed, (-1, height, width, channels))


# ---------------------------------------------------------------- the paper's networks

def batch_normalization(name):
    """BatchNormalization whose statistics are the whole batch's, under a `tf.distribute` strategy
    too (``synchronized`` across its replicas): several devices then normalise as one does."""
    replicas = runtime.tf.distribute.get_strategy().num_replicas_in_sync
    return layers.BatchNormalization(name=name, synchronized=replicas > 1)


def encoder_block(x, filters, block, pool):
    """Conv 3x3 -> BatchNormalization -> ReLU, then 2x2 average pooling if ``pool``."""
    x = layers.Conv2D(filters, 3, padding="same", name=f"encoder{block}_conv")(x)
    x = batch_normalization(f"encoder{block}_bn")(x)
    x = layers.ReLU(name=f"encoder{block}_relu")(x)
    return layers.AveragePooling2D(2, name=f"encoder{block}_pool")(x) if pool else x


def decoder_block(x, filters, block):
    """Conv 3x3 with ReLU, then 2x upsampling."""
    x = layers.Conv2D(filters, 3, padding="same", activation="relu", name=f"decoder{block}_conv")(x)
    return layers.UpSampling2D(2, name=f"decoder{block}_upsample")(x)


def output_layer(x):
    """One 3x3 convolution to a single channel, squashed by tanh into the pixels' [-1, 1]."""
    return layers.Conv2D(1, 3, padding="same", activation="tanh", dtype="float32", name="decoder3_conv")(x)


def paper_generator(config: GANConfig = PAPER, name="generator"):
    """The paper's generator, an autoencoder: the corrupted digit in, the whole digit out."""
    size, (small, medium, large) = config.image_size, config.generator_filters
    corrupted = keras.Input((size, size, 1), name="corrupted")
    x = encoder_block(corrupted, small, 1, pool=True)  # 28x28 -> 14x14
    x = encoder_block(x, medium, 2, pool=True)  # 14x14 -> 7x7
    x = encoder_block(x, large, 3, pool=False)  # the 7x7 bottleneck
    x = decoder_block(x, large, 1)  # 7x7 -> 14x14
    x = decoder_block(x, medium, 2)  # 14x14 -> 28x28
    return keras.Model(corrupted, output_layer(x), name=name)


def paper_discriminator(config: GANConfig = PAPER, name="discriminator"):
    """The paper's discriminator: the probability that an image is a real digit."""
    size = config.image_size
    image = keras.Input((size, size, 1), name="image")
    x = image
    for block, (filters, stride) in enumerate(zip(config.discriminator_filters, config.discriminator_strides), 1):
        x = layers.Conv2D(filters, 3, strides=stride, padding="same", name=f"block{block}_conv")(x)
        x = layers.LeakyReLU(config.leaky_relu_slope, name=f"block{block}_leaky_relu")(x)
        x = layers.Dropout(config.dropout_rate, name=f"block{block}_dropout")(x)
    x = layers.Flatten(name="flatten")(x)
    # float32 whatever the compute precision: the cross-entropy needs it.
    probability = layers.Dense(1, activation="sigmoid", dtype="float32", name="real_probability")(x)
    return keras.Model(image, probability, name=name)


# ---------------------------------------------------------------- the book's changes, composed

GENERATOR_CHANGES = ("mask_channel", "skip_connections", "global_context", "noise_size")


@keras.saving.register_keras_serializable(package="lib")
class NoiseVector(layers.Layer):
    """A fresh standard-normal vector of ``size`` numbers per image, in training and inference
    alike: the "random noise vector" the paper says its generator gets."""

    def __init__(self, size, seed=None, **kwargs):
        super().__init__(**kwargs)
        self.size = checks.count(size, "size", minimum=1)
        self.seed = seed
        self.seed_generator = keras.random.SeedGenerator(seed)

    def call(self, like):
        return keras.random.normal((keras.ops.shape(like)[0], self.size), seed=self.seed_generator)

    def get_config(self):
        return {**super().get_config(), "size": self.size, "seed": self.seed}


def global_context_block(x, filters):
    """Context Encoders' channel-wise fully connected layer (then a 1x1 convolution) added to the
    bottleneck as a residual branch: every position sees the whole image."""
    context = ChannelwiseDense(name="context_dense")(x)
    context = layers.ReLU(name="context_relu")(context)
    context = layers.Conv2D(filters, 1, activation="relu", name="context_mix")(context)
    return layers.Add(name="context_add")([x, context])


def noise_block(x, size):
    """A noise vector, mapped to one 7x7 map per 8 of its numbers, beside the bottleneck's maps."""
    height, width = x.shape[1:3]
    channels = max(1, size // 8)
    noise = NoiseVector(size, name="noise")(x)
    noise = layers.Dense(height * width * channels, activation="relu", name="noise_dense")(noise)
    noise = layers.Reshape((height, width, channels), name="noise_maps")(noise)
    return layers.Concatenate(name="noise_concat")([x, noise])


def book_generator(config: GANConfig, name="generator"):
    """The paper's generator with the book's changes (chapters 6 and 5): the same
    blocks, with the mask as a second input channel (``mask_channel``), U-Net skips
    (``skip_connections``), a global-context bottleneck (``global_context``) and a noise vector
    (``noise_size``), as the configuration asks."""
    size, (small, medium, large) = config.image_size, config.generator_filters
    corrupted = keras.Input((size, size, 2 if config.mask_channel else 1), name="corrupted")
    first = encoder_block(corrupted, small, 1, pool=False)
    second = encoder_block(encoder_pool(first, 1), medium, 2, pool=False)
    x = encoder_block(encoder_pool(second, 2), large, 3, pool=False)
    if config.global_context:
        x = global_context_block(x, large)
    if config.noise_size:
        x = noise_block(x, config.noise_size)
    for block, (filters, skip) in enumerate(((large, second), (medium, first)), start=1):
        x = decoder_block(x, filters, block)
        if config.skip_connections:
            x = layers.Concatenate(name=f"decoder{block}_skip")([x, skip])
    return keras.Model(corrupted, output_layer(x), name=name)


def encoder_pool(x, block):
    return layers.AveragePooling2D(2, name=f"encoder{block}_pool")(x)


def with_instance_noise(discriminator, stddev, name="discriminator"):
    """``discriminator`` behind a Gaussian-noise layer that is active in training only (instance
    noise, Sønderby et al. 2017): real and generated digits overlap, so D cannot separate them
    perfectly and its gradients stay informative."""
    image = keras.Input(discriminator.input_shape[1:], name="image")
    noisy = layers.GaussianNoise(checks.positive(stddev, "stddev"), name="instance_noise")(image)
    return keras.Model(image, discriminator(noisy), name=name)


@contextlib.contextmanager
def dtype_policy(config: GANConfig):
    """Layers built inside compute in bfloat16 with float32 weights if ``config.mixed_precision``
    (where the device has bfloat16: `lib.runtime.mixed_precision_policy`), else in float32. Keras
    reads its global policy when a layer is created: set for the build, then restored."""
    previous = keras.config.dtype_policy()
    keras.config.set_dtype_policy(runtime.mixed_precision_policy() if config.mixed_precision else "float32")
    try:
        yield
    finally:
        keras.config.set_dtype_policy(previous)


def build_generator(config: GANConfig = PAPER, name="generator"):
    """The generator a configuration asks for: the paper's, or the paper's with the book's
    changes, in the precision it asks for."""
    checks.instance(config, GANConfig)
    with dtype_policy(config):
        if any(key in config.departures() for key in GENERATOR_CHANGES):
            return book_generator(config, name)
        return paper_generator(config, name)


def inference_generator(config: GANConfig):
    """The generator of ``config`` built in float32 whatever precision it trained in: its weights
    are float32 either way, and bfloat16 kernels are slow or missing on CPUs and in ONNX."""
    checks.instance(config, GANConfig)
    return build_generator(dataclasses.replace(config, mixed_precision=False))


def build_discriminator(config: GANConfig = PAPER, name="discriminator"):
    """The paper's discriminator, behind instance noise if the configuration asks for it, or one
    of the literature's adversaries (`lib.adversaries`)."""
    checks.instance(config, GANConfig)
    if config.adversary != "global":
        return build_adversary(config, name)
    with dtype_policy(config):
        if config.instance_noise:
            return with_instance_noise(paper_discriminator(config, "paper_discriminator"), config.instance_noise, name)
        return paper_discriminator(config, name)


def generator_inputs(config: GANConfig, corrupted, masks):
    """What the generator is fed: the corrupted digits, plus the mask channel if the variant has
    one. Works on NumPy arrays and tensors alike; ``masks`` is float (N, H, W, 1), 1 = missing."""
    if config.mask_channel:
        return keras.ops.concatenate([corrupted, masks], axis=-1)
    return corrupted


def complete(config: GANConfig, generated, corrupted, masks):
    """The inpainted digits: the generator's output as it is (the paper), or, with ``composite``,
    the generated pixels inside the hole and the known pixels everywhere else."""
    if config.composite:
        return masks * generated + (1.0 - masks) * corrupted
    return generated


def build_classifier(config: ClassifierConfig | DenseClassifierConfig = CLASSIFIER, image_size=PAPER.image_size,
                     name=None):
    """The paper's digit classifier: Conv 32/64/128 with ReLU, two dense layers, softmax.

    The paper does not state any pooling; we max-pool after the first two convolutions, the usual
    choice, which keeps a training epoch under a minute on two CPU cores. A
    `DenseClassifierConfig` builds the cross-check classifier instead (`build_dense_classifier`)."""
    if isinstance(config, DenseClassifierConfig):
        return build_dense_classifier(config, image_size, name or "dense_classifier")
    checks.instance(config, ClassifierConfig)
    name = name or "classifier"
    inputs = keras.Input((image_size, image_size, 1), name="digit")
    x = inputs
    for block, filters in enumerate(config.filters, start=1):
        x = layers.Conv2D(filters, 3, padding="same", activation="relu", name=f"conv{block}")(x)
        if block < len(config.filters):
            x = layers.MaxPooling2D(2, name=f"pool{block}")(x)
    x = layers.Flatten(name="flatten")(x)
    x = layers.Dense(config.dense_units, activation="relu", name="dense")(x)
    outputs = layers.Dense(10, activation="softmax", name="digit_probabilities")(x)
    return keras.Model(inputs, outputs, name=name)


def build_dense_classifier(config: DenseClassifierConfig, image_size=PAPER.image_size, name="dense_classifier"):
    """The cross-check classifier: the flattened pixels through ReLU dense layers, each followed by
    dropout, then softmax. Same input ([-1, 1] digits) and output as the paper's classifier; the
    pixels are first mapped to [0, 1], so the background is 0 and adds nothing to the first
    layer's sums (an MLP trains markedly worse on a -1 background)."""
    checks.instance(config, DenseClassifierConfig)
    inputs = keras.Input((image_size, image_size, 1), name="digit")
    x = layers.Rescaling(0.5, offset=0.5, name="to_unit_range")(inputs)
    x = layers.Flatten(name="flatten")(x)
    for block, units in enumerate(config.hidden_units, start=1):
        x = layers.Dense(units, activation="relu", name=f"dense{block}")(x)
        x = layers.Dropout(config.dropout_rate, name=f"dropout{block}")(x)
    outputs = layers.Dense(10, activation="softmax", name="digit_probabilities")(x)
    return keras.Model(inputs, outputs, name=name)


def compile_classifier(model, config: ClassifierConfig | DenseClassifierConfig = CLASSIFIER):
    model.compile(optimizer=keras.optimizers.Adam(config.learning_rate), loss="sparse_categorical_crossentropy",
                  metrics=["accuracy"])
    return model


# ---------------------------------------------------------------- FLOPs

def layer_flops(layer):
    """Floating-point operations of one forward pass of ``layer`` for ONE example.

    Counts the multiply-adds of convolutions and dense layers as 2 FLOPs each (the usual
    convention); element-wise layers (activations, normalisation, pooling, dropout) cost O(size)
    and are left out, as is customary, because they are two orders of magnitude smaller here."""
    if isinstance(layer, layers.Conv2D):
        kernel_h, kernel_w = layer.kernel_size
        input_channels = layer.input.shape[-1]
        _, out_h, out_w, out_channels = layer.output.shape
        return 2 * out_h * out_w * kernel_h * kernel_w * input_channels * out_channels
    if isinstance(layer, layers.Dense):
        return 2 * layer.input.shape[-1] * layer.units
    if isinstance(layer, ChannelwiseDense):
        _, height, width, channels = layer.input.shape
        return 2 * (height * width) ** 2 * channels
    return 0


def forward_flops(model):
    """Forward FLOPs per example of a functional model, summed from its layers' shapes."""
    checks.instance(model, keras.Model, "model")
    return sum(layer_flops(layer) for layer in model.layers)


def paper_iteration_flops(generator, discriminator, batch_size=PAPER.batch_size, shared_generator_pass=False):
    """FLOPs of one iteration of the paper's loop.

    A backward pass that computes gradients for the weights *and* for the layer inputs costs about
    twice a forward pass; one that only passes gradients through (the frozen discriminator in the
    generator's update) about once. One iteration: the generator fills ``batch_size`` digits
    (forward); the discriminator trains on them plus as many real digits (forward + full backward
    on 2 * batch_size); the generator trains through the frozen discriminator (generator forward +
    full backward, discriminator forward + input-gradient backward, on batch_size). With
    ``shared_generator_pass`` the first generator forward pass is not made."""
    batch_size = checks.count(batch_size, "batch_size", minimum=1)
    g, d = forward_flops(generator), forward_flops(discriminator)
    first_pass = 0 if shared_generator_pass else batch_size * g
    return first_pass + 3 * (2 * batch_size) * d + batch_size * (3 * g + 2 * d)


# ---------------------------------------------------------------- inspection

def layer_table(model):
    """One row per layer: name, type, output shape (without the batch axis) and parameter count."""
    checks.instance(model, keras.Model, "model")
    rows = []
    for layer in model.layers:
        shape = layer.output.shape[1:]
        rows.append({
            "layer": layer.name, "type": type(layer).__name__,
            "output shape": " x ".join(str(s) for s in shape), "parameters": layer.count_params(),
        })
    return rows


def block_outputs(model, layer_names, images):
    """Activations of the named layers for ``images`` (float [-1, 1], channel axis included)."""
    checks.instance(model, keras.Model, "model")
    known = [layer.name for layer in model.layers]
    unknown = [name for name in layer_names if name not in known]
    if unknown:
        raise ValueError(f"unknown layer names {unknown}; the model has {known}")
    probe = keras.Model(model.input, [model.get_layer(name).output for name in layer_names])
    outputs = probe.predict(images, verbose=0)
    return dict(zip(layer_names, outputs if len(layer_names) > 1 else [outputs]))
