"""The paper's three networks (generator, discriminator, classifier) and FLOP counting.

Builders take the paper's sizes as defaults (SPEC section 2) and return functional
`keras.Model`s, so `model.summary()` prints the layer table a chapter shows.
"""
from __future__ import annotations

import contextlib

import keras
import numpy as np
from keras import layers

from lib.config import CLASSIFIER, PAPER, ClassifierConfig, DenseClassifierConfig, GANConfig


def _check_config(config, kind):
    if not isinstance(config, kind):
        raise ValueError(f"config must be a {kind.__name__}, got {type(config).__name__}")


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


@contextlib.contextmanager
def dtype_policy(config: GANConfig):
    """Layers built inside compute in bfloat16 with float32 weights if ``config.mixed_precision``,
    else in float32. Keras reads its global policy when a layer is created, so the policy is set
    for the duration of the build and restored afterwards."""
    previous = keras.config.dtype_policy()
    keras.config.set_dtype_policy("mixed_bfloat16" if config.mixed_precision else "float32")
    try:
        yield
    finally:
        keras.config.set_dtype_policy(previous)


def build_generator(config: GANConfig = PAPER, name="generator"):
    """The paper's generator (see `_generator_layers`), in the precision the config asks for."""
    _check_config(config, GANConfig)
    with dtype_policy(config):
        return _generator_layers(config, name)


def _generator_layers(config, name):
    """The paper's autoencoder: three Conv-BN-ReLU encoder blocks (2x2 average pooling after the
    first two), then Conv128-ReLU, upsample, Conv64-ReLU, upsample, Conv1-tanh.

    Variants (chapter 8): ``mask_channel`` adds the mask as a second input channel;
    ``skip_connections`` concatenates each encoder block's maps to the decoder block of the same
    resolution, as in U-Net; ``global_context`` adds Context Encoders' channel-wise fully connected
    layer (then a 1x1 convolution) to the 7x7 bottleneck as a residual branch."""
    _check_config(config, GANConfig)
    size = config.image_size
    inputs = keras.Input((size, size, 2 if config.mask_channel else 1), name="corrupted")
    x = inputs
    skips = []
    for block, filters in enumerate(config.generator_filters, start=1):
        x = layers.Conv2D(filters, 3, padding="same", name=f"encoder{block}_conv")(x)
        x = layers.BatchNormalization(name=f"encoder{block}_bn")(x)
        x = layers.ReLU(name=f"encoder{block}_relu")(x)
        if block < len(config.generator_filters):
            skips.append(x)
            x = layers.AveragePooling2D(2, name=f"encoder{block}_pool")(x)
    if config.global_context:
        context = ChannelwiseDense(name="context_dense")(x)
        context = layers.ReLU(name="context_relu")(context)
        context = layers.Conv2D(config.generator_filters[2], 1, activation="relu", name="context_mix")(context)
        x = layers.Add(name="context_add")([x, context])
    x = layers.Conv2D(config.generator_filters[2], 3, padding="same", activation="relu", name="decoder1_conv")(x)
    x = layers.UpSampling2D(2, name="decoder1_upsample")(x)
    if config.skip_connections:
        x = layers.Concatenate(name="decoder1_skip")([x, skips[1]])
    x = layers.Conv2D(config.generator_filters[1], 3, padding="same", activation="relu", name="decoder2_conv")(x)
    x = layers.UpSampling2D(2, name="decoder2_upsample")(x)
    if config.skip_connections:
        x = layers.Concatenate(name="decoder2_skip")([x, skips[0]])
    outputs = layers.Conv2D(1, 3, padding="same", activation="tanh", dtype="float32", name="decoder3_conv")(x)
    return keras.Model(inputs, outputs, name=name)


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


def build_discriminator(config: GANConfig = PAPER, name="discriminator"):
    """The paper's discriminator (see `_discriminator_layers`), in the precision the config asks for."""
    _check_config(config, GANConfig)
    with dtype_policy(config):
        return _discriminator_layers(config, name)


def _discriminator_layers(config, name):
    """The paper's critic: Conv 64/128/256 (strides 2, 2, 1), each LeakyReLU(0.2) + Dropout(0.2),
    then Flatten and a sigmoid unit: the probability that the image is a real digit (computed in
    float32 whatever the precision, for the cross-entropy)."""
    size = config.image_size
    inputs = keras.Input((size, size, 1), name="image")
    x = inputs
    for block, (filters, stride) in enumerate(zip(config.discriminator_filters, config.discriminator_strides), 1):
        x = layers.Conv2D(filters, 3, strides=stride, padding="same", name=f"block{block}_conv")(x)
        x = layers.LeakyReLU(config.leaky_relu_slope, name=f"block{block}_leaky_relu")(x)
        x = layers.Dropout(config.dropout_rate, name=f"block{block}_dropout")(x)
    x = layers.Flatten(name="flatten")(x)
    outputs = layers.Dense(1, activation="sigmoid", dtype="float32", name="real_probability")(x)
    return keras.Model(inputs, outputs, name=name)


def build_classifier(config: ClassifierConfig | DenseClassifierConfig = CLASSIFIER, image_size=PAPER.image_size,
                     name=None):
    """The paper's digit classifier: Conv 32/64/128 with ReLU, two dense layers, softmax.

    The paper does not state any pooling; we max-pool after the first two convolutions, the usual
    choice, which keeps a training epoch under a minute on two CPU cores. A
    `DenseClassifierConfig` builds the cross-check classifier instead (`build_dense_classifier`)."""
    if isinstance(config, DenseClassifierConfig):
        return build_dense_classifier(config, image_size, name or "dense_classifier")
    if not isinstance(config, ClassifierConfig):
        raise ValueError(f"config must be a ClassifierConfig or a DenseClassifierConfig, got {type(config).__name__}")
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
    _check_config(config, DenseClassifierConfig)
    inputs = keras.Input((image_size, image_size, 1), name="digit")
    x = layers.Rescaling(0.5, offset=0.5, name="to_unit_range")(inputs)
    x = layers.Flatten(name="flatten")(x)
    for block, units in enumerate(config.hidden_units, start=1):
        x = layers.Dense(units, activation="relu", name=f"dense{block}")(x)
        x = layers.Dropout(config.dropout_rate, name=f"dropout{block}")(x)
    outputs = layers.Dense(10, activation="softmax", name="digit_probabilities")(x)
    return keras.Model(inputs, outputs, name=name)


def compile_classifier(model, config: ClassifierConfig | DenseClassifierConfig = CLASSIFIER):
    model.compile(
        optimizer=keras.optimizers.Adam(config.learning_rate),
        loss="sparse_categorical_crossentropy",
        metrics=["accuracy"],
    )
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
    if not isinstance(model, keras.Model):
        raise ValueError(f"model must be a keras.Model, got {type(model).__name__}")
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
    if isinstance(batch_size, bool) or not isinstance(batch_size, (int, np.integer)) or batch_size < 1:
        raise ValueError(f"batch_size must be a positive integer, got {batch_size!r}")
    g, d = forward_flops(generator), forward_flops(discriminator)
    first_pass = 0 if shared_generator_pass else batch_size * g
    return first_pass + 3 * (2 * batch_size) * d + batch_size * (3 * g + 2 * d)


# ---------------------------------------------------------------- inspection

def layer_table(model):
    """One row per layer: name, type, output shape (without the batch axis) and parameter count."""
    if not isinstance(model, keras.Model):
        raise ValueError(f"model must be a keras.Model, got {type(model).__name__}")
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
    if not isinstance(model, keras.Model):
        raise ValueError(f"model must be a keras.Model, got {type(model).__name__}")
    known = [layer.name for layer in model.layers]
    unknown = [name for name in layer_names if name not in known]
    if unknown:
        raise ValueError(f"unknown layer names {unknown}; the model has {known}")
    probe = keras.Model(model.input, [model.get_layer(name).output for name in layer_names])
    outputs = probe.predict(images, verbose=0)
    return dict(zip(layer_names, outputs if len(layer_names) > 1 else [outputs]))
