"""The literature's adversaries for inpainting (chapter 7), beside the paper's discriminator.

- GLCIC (Iizuka et al. 2017): a global discriminator sees the whole image, a local one a window
  around the hole; their features are concatenated into one real/fake score. The local branch
  cannot be fooled by a digit that looks right overall but blurred where it was filled.
- SN-PatchGAN (Yu et al. 2019, DeepFill v2): a spectrally normalised convolutional stack that is
  told where the hole is (the mask is its second input channel) and scores every patch, trained
  with the hinge loss.

Both take ``[image, mask]`` (mask: 1 = missing); the paper's discriminator takes the image alone.
`lib.gan.InpaintingGAN.judge` feeds each what it needs.
"""
from __future__ import annotations

from lib import runtime  # noqa: F401  (starts TensorFlow quietly)
import keras
import tensorflow as tf
from keras import layers

from lib import checks
from lib.config import GANConfig

LOCAL_WINDOW = 20  # pixels: the largest training hole (18) with a pixel of context either side
PATCH_FILTERS = (32, 64, 128)  # DeepFill v2 goes from 64 to 256 channels on 256px images; MNIST needs less
MASK_AWARE = ("global+local", "patch")  # the adversaries that are told where the hole is
HINGE = ("patch",)  # the adversaries trained with the hinge loss instead of the cross-entropy


@keras.saving.register_keras_serializable(package="gan_book")
class HoleWindow(layers.Layer):
    """A ``size`` x ``size`` window of each image, centred on its hole's bounding box and kept
    inside the image. Pure indexing (an exact crop), so gradients flow to the cropped pixels."""

    def __init__(self, size=LOCAL_WINDOW, **kwargs):
        super().__init__(**kwargs)
        self.size = checks.count(size, "size", minimum=1)

    def call(self, inputs):
        images, masks = inputs
        height = tf.shape(images)[1]
        rows = tf.reduce_any(masks[..., 0] > 0.5, axis=2)
        cols = tf.reduce_any(masks[..., 0] > 0.5, axis=1)
        top = self.window_start(rows, height)
        left = self.window_start(cols, height)
        offsets = tf.range(self.size)
        row_index = top[:, None] + offsets[None, :]  # (N, size)
        col_index = left[:, None] + offsets[None, :]
        picked_rows = tf.gather(images, row_index, axis=1, batch_dims=1)  # (N, size, W, C)
        return tf.gather(picked_rows, col_index, axis=2, batch_dims=1)  # (N, size, size, C)

    def window_start(self, occupied, length):
        """The first index of a window centred on the True span of each row of ``occupied``
        (the image's centre if there is none), clipped to fit the image."""
        indices = tf.range(length)[None, :]
        big = length + 1
        first = tf.reduce_min(tf.where(occupied, indices, big), axis=1)
        last = tf.reduce_max(tf.where(occupied, indices, -1), axis=1)
        centre2 = tf.where(first <= last, first + last + 1, tf.fill(tf.shape(first), length))  # twice the centre
        return tf.clip_by_value((centre2 - self.size) // 2, 0, length - self.size)

    def compute_output_shape(self, input_shapes):
        images = input_shapes[0]
        return (images[0], self.size, self.size, images[-1])

    def get_config(self):
        return {**super().get_config(), "size": self.size}


def convolution_stack(x, config: GANConfig, strides, prefix):
    """The paper discriminator's blocks (convolution, leaky ReLU, dropout) under ``prefix``."""
    for block, (filters, stride) in enumerate(zip(config.discriminator_filters, strides), 1):
        x = layers.Conv2D(filters, 3, strides=stride, padding="same", name=f"{prefix}{block}_conv")(x)
        x = layers.LeakyReLU(config.leaky_relu_slope, name=f"{prefix}{block}_leaky_relu")(x)
        x = layers.Dropout(config.dropout_rate, name=f"{prefix}{block}_dropout")(x)
    return layers.Flatten(name=f"{prefix}_flatten")(x)


def global_local_discriminator(config: GANConfig, name="discriminator"):
    """GLCIC's pair: the paper's discriminator on the whole digit and a second stack of the same
    blocks on the `LOCAL_WINDOW` around the hole, one logistic score over both features."""
    size, largest_hole = config.image_size, max(config.hole_size, config.random_hole_max if config.random_holes else 0)
    if LOCAL_WINDOW > size or largest_hole + 2 > LOCAL_WINDOW:
        raise ValueError(f"the local window ({LOCAL_WINDOW}px) must fit the {size}px image and hold the largest "
                         f"hole ({largest_hole}px) with a pixel either side")
    if len(config.discriminator_filters) != 3:
        raise ValueError(f"the local stack has three blocks: give three discriminator_filters, got {config.discriminator_filters}")
    image, mask = keras.Input((size, size, 1), name="image"), keras.Input((size, size, 1), name="mask")
    whole = convolution_stack(image, config, config.discriminator_strides, "global")
    window = HoleWindow(LOCAL_WINDOW, name="hole_window")([image, mask])
    local = convolution_stack(window, config, (2, 2, 1), "local")
    features = layers.Concatenate(name="global_local")([whole, local])
    probability = layers.Dense(1, activation="sigmoid", dtype="float32", name="real_probability")(features)
    return keras.Model([image, mask], probability, name=name)


def patch_discriminator(config: GANConfig, name="discriminator"):
    """SN-PatchGAN at MNIST's scale: the image and its mask in, spectrally normalised 5x5
    convolutions, one raw score (a hinge-loss logit) per 4x4-pixel patch of a 7x7 grid out."""
    size = config.image_size
    image, mask = keras.Input((size, size, 1), name="image"), keras.Input((size, size, 1), name="mask")
    x = layers.Concatenate(name="image_and_mask")([image, mask])
    for block, (filters, stride) in enumerate(zip(PATCH_FILTERS, (2, 2, 1)), 1):
        x = layers.SpectralNormalization(layers.Conv2D(filters, 5, strides=stride, padding="same"),
                                         name=f"patch{block}_conv")(x)
        x = layers.LeakyReLU(config.leaky_relu_slope, name=f"patch{block}_leaky_relu")(x)
    scores = layers.SpectralNormalization(layers.Conv2D(1, 3, padding="same"), name="patch_scores")(x)
    return keras.Model([image, mask], layers.Flatten(dtype="float32", name="patch_logits")(scores), name=name)


def build_adversary(config: GANConfig, name="discriminator"):
    """The discriminator of a literature adversary (``config.adversary`` in `MASK_AWARE`)."""
    checks.instance(config, GANConfig)
    if config.adversary == "global+local":
        return global_local_discriminator(config, name)
    if config.adversary == "patch":
        return patch_discriminator(config, name)
    raise ValueError(f"build_adversary builds {MASK_AWARE}, got {config.adversary!r}")


def hidden_features(discriminator):
    """A model with the discriminator's weights that returns its verdict and the output of every
    leaky ReLU (its hidden features): what discriminator feature matching compares."""
    names = [layer.name for layer in discriminator.layers if layer.name.endswith("leaky_relu")]
    if not names:
        raise ValueError(f"{discriminator.name} has no leaky-ReLU layers to match features on")
    outputs = [discriminator.get_layer(name).output for name in names]
    return keras.Model(discriminator.inputs, [discriminator.outputs[0], *outputs], name=f"{discriminator.name}_features")
