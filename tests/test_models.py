import keras
import numpy as np
import pytest
from keras import layers

from lib import models
from lib.studies import paper_gan
from lib.config import CLASSIFIER, CROSS_CHECK_CLASSIFIER, PAPER, ClassifierConfig, DenseClassifierConfig

# Parameter counts worked out by hand from the paper's layer sizes.
# conv: k*k*c_in*c_out + c_out; batch norm: 4*c (gamma, beta trainable; moving mean, variance not);
# dense: n_in*n_out + n_out.
GENERATOR_PARAMETERS = (
    (3 * 3 * 1 * 32 + 32) + 4 * 32
    + (3 * 3 * 32 * 64 + 64) + 4 * 64
    + (3 * 3 * 64 * 128 + 128) + 4 * 128
    + (3 * 3 * 128 * 128 + 128)
    + (3 * 3 * 128 * 64 + 64)
    + (3 * 3 * 64 * 1 + 1)
)
GENERATOR_NON_TRAINABLE = 2 * (32 + 64 + 128)
DISCRIMINATOR_PARAMETERS = (
    (3 * 3 * 1 * 64 + 64)
    + (3 * 3 * 64 * 128 + 128)
    + (3 * 3 * 128 * 256 + 256)
    + (7 * 7 * 256 * 1 + 1)
)
CLASSIFIER_PARAMETERS = (
    (3 * 3 * 1 * 32 + 32)
    + (3 * 3 * 32 * 64 + 64)
    + (3 * 3 * 64 * 128 + 128)
    + (7 * 7 * 128 * 128 + 128)
    + (128 * 10 + 10)
)

# Forward FLOPs per example: 2 * H_out * W_out * k * k * C_in * C_out per convolution, 2 * in * out per dense.
GENERATOR_FLOPS = (
    2 * 28 * 28 * 3 * 3 * 1 * 32
    + 2 * 14 * 14 * 3 * 3 * 32 * 64
    + 2 * 7 * 7 * 3 * 3 * 64 * 128
    + 2 * 7 * 7 * 3 * 3 * 128 * 128
    + 2 * 14 * 14 * 3 * 3 * 128 * 64
    + 2 * 28 * 28 * 3 * 3 * 64 * 1
)
DISCRIMINATOR_FLOPS = (
    2 * 14 * 14 * 3 * 3 * 1 * 64
    + 2 * 7 * 7 * 3 * 3 * 64 * 128
    + 2 * 7 * 7 * 3 * 3 * 128 * 256
    + 2 * (7 * 7 * 256) * 1
)
CLASSIFIER_FLOPS = (
    2 * 28 * 28 * 3 * 3 * 1 * 32
    + 2 * 14 * 14 * 3 * 3 * 32 * 64
    + 2 * 7 * 7 * 3 * 3 * 64 * 128
    + 2 * (7 * 7 * 128) * 128
    + 2 * 128 * 10
)


@pytest.fixture(scope="module")
def generator():
    return models.build_generator()


@pytest.fixture(scope="module")
def discriminator():
    return models.build_discriminator()


@pytest.fixture(scope="module")
def classifier():
    return models.build_classifier()


@pytest.fixture(scope="module")
def images():
    return np.random.default_rng(0).uniform(-1, 1, size=(3, 28, 28, 1)).astype(np.float32)


def weight_count(weights):
    return sum(int(np.prod(weight.shape)) for weight in weights)


def layers_of(model, kind):
    return [layer for layer in model.layers if type(layer) is kind]


# ---------------------------------------------------------------- outputs


def test_generator_output_is_the_tanh_of_its_last_convolution(generator, images):
    output = np.asarray(generator(images, training=False))
    assert output.shape == (3, 28, 28, 1)
    last = generator.get_layer("decoder3_conv")
    before_tanh = keras.Model(generator.input, last.input)(images, training=False)
    kernel, bias = last.get_weights()
    pre_activation = keras.ops.conv(before_tanh, kernel, padding="same") + bias
    np.testing.assert_allclose(output, np.tanh(np.asarray(pre_activation)), atol=1e-5)


def test_discriminator_output_is_the_sigmoid_of_one_unit(discriminator, images):
    output = np.asarray(discriminator(images, training=False))
    assert output.shape == (3, 1)
    dense = discriminator.get_layer("real_probability")
    features = np.asarray(keras.Model(discriminator.input, dense.input)(images, training=False))
    kernel, bias = dense.get_weights()
    np.testing.assert_allclose(output, 1 / (1 + np.exp(-(features @ kernel + bias))), atol=1e-5)


def test_discriminator_is_deterministic_outside_training(discriminator, images):
    first = np.asarray(discriminator(images, training=False))
    again = np.asarray(discriminator(images, training=False))
    assert np.array_equal(first, again)


def test_classifier_output_is_a_distribution_over_ten_digits(classifier, images):
    output = np.asarray(classifier(images, training=False))
    assert output.shape == (3, 10)
    assert (output >= 0).all()
    np.testing.assert_allclose(output.sum(axis=1), 1.0, atol=1e-5)


# ---------------------------------------------------------------- parameter counts


def test_generator_parameter_count(generator):
    assert generator.count_params() == GENERATOR_PARAMETERS
    assert weight_count(generator.non_trainable_weights) == GENERATOR_NON_TRAINABLE
    assert weight_count(generator.trainable_weights) == GENERATOR_PARAMETERS - GENERATOR_NON_TRAINABLE


def test_discriminator_parameter_count(discriminator):
    assert discriminator.count_params() == DISCRIMINATOR_PARAMETERS
    assert weight_count(discriminator.trainable_weights) == DISCRIMINATOR_PARAMETERS
    assert discriminator.non_trainable_weights == []


def test_classifier_parameter_count(classifier):
    assert classifier.count_params() == CLASSIFIER_PARAMETERS


def test_generator_filters_follow_the_config():
    small = models.build_generator(PAPER.variant("small", generator_filters=(2, 4, 8)))
    expected = (
        (3 * 3 * 1 * 2 + 2) + 4 * 2
        + (3 * 3 * 2 * 4 + 4) + 4 * 4
        + (3 * 3 * 4 * 8 + 8) + 4 * 8
        + (3 * 3 * 8 * 8 + 8)
        + (3 * 3 * 8 * 4 + 4)
        + (3 * 3 * 4 * 1 + 1)
    )
    assert small.count_params() == expected


def test_layer_table_lists_every_layer_with_its_parameters(discriminator):
    table = models.layer_table(discriminator)
    assert [row["layer"] for row in table] == [layer.name for layer in discriminator.layers]
    assert sum(row["parameters"] for row in table) == DISCRIMINATOR_PARAMETERS
    rows = {row["layer"]: row for row in table}
    assert rows["block1_conv"]["output shape"] == "14 x 14 x 64"
    assert rows["block3_conv"]["output shape"] == "7 x 7 x 256"
    assert rows["real_probability"]["type"] == "Dense"


# ---------------------------------------------------------------- structure


def test_generator_structure_matches_the_paper(generator):
    convs = layers_of(generator, layers.Conv2D)
    assert [conv.filters for conv in convs] == [32, 64, 128, 128, 64, 1]
    assert all(conv.kernel_size == (3, 3) and conv.padding == "same" for conv in convs)
    assert len(layers_of(generator, layers.BatchNormalization)) == 3
    assert len(layers_of(generator, layers.ReLU)) == 3
    pools = layers_of(generator, layers.AveragePooling2D)
    assert len(pools) == 2 and all(pool.pool_size == (2, 2) for pool in pools)
    upsamples = layers_of(generator, layers.UpSampling2D)
    assert len(upsamples) == 2 and all(upsample.size == (2, 2) for upsample in upsamples)
    assert [conv.activation.__name__ for conv in convs[3:]] == ["relu", "relu", "tanh"]
    assert tuple(generator.get_layer("encoder3_conv").output.shape[1:]) == (7, 7, 128)


def test_discriminator_structure_matches_the_paper(discriminator):
    convs = layers_of(discriminator, layers.Conv2D)
    assert [conv.filters for conv in convs] == [64, 128, 256]
    assert [conv.strides for conv in convs] == [(2, 2), (2, 2), (1, 1)]
    leaky = layers_of(discriminator, layers.LeakyReLU)
    assert len(leaky) == 3 and all(layer.negative_slope == pytest.approx(0.2) for layer in leaky)
    dropouts = layers_of(discriminator, layers.Dropout)
    assert len(dropouts) == 3 and all(layer.rate == pytest.approx(0.2) for layer in dropouts)
    assert layers_of(discriminator, layers.BatchNormalization) == []
    (dense,) = layers_of(discriminator, layers.Dense)
    assert dense.units == 1 and dense.activation.__name__ == "sigmoid"


def test_classifier_structure(classifier):
    convs = layers_of(classifier, layers.Conv2D)
    assert [conv.filters for conv in convs] == list(CLASSIFIER.filters)
    assert all(conv.activation.__name__ == "relu" for conv in convs)
    assert len(layers_of(classifier, layers.MaxPooling2D)) == 2
    dense = layers_of(classifier, layers.Dense)
    assert [layer.units for layer in dense] == [128, 10]
    assert dense[-1].activation.__name__ == "softmax"


def test_compiled_classifier_learns_a_batch_it_is_trained_on():
    keras.utils.set_random_seed(0)
    classifier = models.compile_classifier(models.build_classifier())
    assert classifier.optimizer.learning_rate.numpy() == pytest.approx(CLASSIFIER.learning_rate)
    x = np.random.default_rng(1).uniform(-1, 1, size=(8, 28, 28, 1)).astype(np.float32)
    y = np.arange(8)
    first_loss, _ = classifier.train_on_batch(x, y)
    for _ in range(20):
        loss, accuracy = classifier.train_on_batch(x, y)
    assert first_loss == pytest.approx(np.log(10), rel=0.2)  # ten classes, about equally likely at first
    assert loss < first_loss / 4 and accuracy == 1.0
    assert int(classifier.optimizer.iterations) == 21


def test_cross_check_classifier_is_a_dense_network_without_convolutions(images):
    classifier = models.build_classifier(CROSS_CHECK_CLASSIFIER)
    assert layers_of(classifier, layers.Conv2D) == []
    dense = layers_of(classifier, layers.Dense)
    assert [layer.units for layer in dense] == [*CROSS_CHECK_CLASSIFIER.hidden_units, 10]
    assert [layer.activation.__name__ for layer in dense] == ["relu", "relu", "softmax"]
    assert [layer.rate for layer in layers_of(classifier, layers.Dropout)] == [0.2, 0.2]
    assert classifier.count_params() == (784 * 512 + 512) + (512 * 512 + 512) + (512 * 10 + 10)
    output = np.asarray(classifier(images, training=False))
    assert output.shape == (3, 10)
    np.testing.assert_allclose(output.sum(axis=1), 1.0, atol=1e-5)


def test_cross_check_classifier_sees_the_background_as_zero():
    """The [-1, 1] digits are mapped to [0, 1] first: an all-background digit gives the first
    dense layer nothing but its biases."""
    classifier = models.build_dense_classifier(DenseClassifierConfig(hidden_units=(4,), dropout_rate=0.0))
    first = classifier.get_layer("dense1")
    first.set_weights([np.ones((784, 4), np.float32), np.full(4, 0.5, np.float32)])
    hidden = keras.Model(classifier.input, first.output)
    background = -np.ones((1, 28, 28, 1), np.float32)
    np.testing.assert_allclose(np.asarray(hidden(background)), [[0.5] * 4])
    np.testing.assert_allclose(np.asarray(hidden(-background)), [[784.5] * 4])


def test_compiled_cross_check_classifier_uses_its_own_learning_rate():
    config = DenseClassifierConfig(learning_rate=3e-4)
    classifier = models.compile_classifier(models.build_classifier(config), config)
    assert classifier.optimizer.learning_rate.numpy() == pytest.approx(3e-4)


# ---------------------------------------------------------------- FLOPs


def test_forward_flops_match_the_hand_count(generator, discriminator, classifier):
    assert models.forward_flops(generator) == GENERATOR_FLOPS
    assert models.forward_flops(discriminator) == DISCRIMINATOR_FLOPS
    assert models.forward_flops(classifier) == CLASSIFIER_FLOPS


def test_layer_flops_ignore_elementwise_layers(generator):
    assert models.layer_flops(generator.get_layer("encoder1_bn")) == 0
    assert models.layer_flops(generator.get_layer("encoder1_pool")) == 0
    assert models.layer_flops(generator.get_layer("encoder1_conv")) == 2 * 28 * 28 * 3 * 3 * 1 * 32


@pytest.mark.parametrize("batch_size", [1, 128])
def test_paper_iteration_flops_follow_the_docstring(generator, discriminator, batch_size):
    g, d = GENERATOR_FLOPS, DISCRIMINATOR_FLOPS
    generator_fills = batch_size * g
    discriminator_trains = 3 * (2 * batch_size) * d
    generator_trains = batch_size * (3 * g + 2 * d)  # D frozen: input gradients only
    expected = generator_fills + discriminator_trains + generator_trains
    assert models.paper_iteration_flops(generator, discriminator, batch_size) == expected


def test_paper_iteration_flops_default_to_the_papers_batch(generator, discriminator):
    assert models.paper_iteration_flops(generator, discriminator) == models.paper_iteration_flops(
        generator, discriminator, 128
    )


# ---------------------------------------------------------------- bad input


@pytest.mark.parametrize(
    "build, argument, expected",
    [
        (models.build_generator, "paper", "GANConfig"),
        (models.build_generator, CLASSIFIER, "GANConfig"),
        (models.build_discriminator, None, "GANConfig"),
        (models.build_discriminator, ClassifierConfig(), "GANConfig"),
        (models.build_classifier, PAPER, "ClassifierConfig"),
        (models.build_classifier, {"filters": (32, 64, 128)}, "ClassifierConfig"),
        (models.build_dense_classifier, CLASSIFIER, "DenseClassifierConfig"),
    ],
)
def test_builders_reject_a_non_config(build, argument, expected):
    with pytest.raises(ValueError, match=f"config must be a {expected}"):
        build(argument)


@pytest.mark.parametrize("not_a_model", [None, "generator", layers.Dense(3)])
def test_forward_flops_rejects_a_non_model(not_a_model):
    with pytest.raises(ValueError, match="model must be a keras.Model"):
        models.forward_flops(not_a_model)


def test_layer_table_rejects_a_non_model():
    with pytest.raises(ValueError, match="model must be a keras.Model"):
        models.layer_table("generator")


@pytest.mark.parametrize("batch_size", [0, -1, 2.0, True, "128"])
def test_paper_iteration_flops_rejects_a_bad_batch_size(generator, discriminator, batch_size):
    with pytest.raises(ValueError, match="batch_size must be an integer >= 1"):
        models.paper_iteration_flops(generator, discriminator, batch_size)


def test_paper_iteration_flops_accepts_a_numpy_integer(generator, discriminator):
    assert models.paper_iteration_flops(generator, discriminator, np.int64(128)) == models.paper_iteration_flops(
        generator, discriminator, 128
    )


def test_block_outputs_returns_the_named_activations(generator, images):
    outputs = models.block_outputs(generator, ["encoder1_relu", "encoder3_relu"], images)
    assert outputs["encoder1_relu"].shape == (3, 28, 28, 32)
    assert outputs["encoder3_relu"].shape == (3, 7, 7, 128)
    assert outputs["encoder1_relu"].min() >= 0.0


def test_block_outputs_rejects_unknown_layer_names(generator, images):
    with pytest.raises(ValueError, match=r"unknown layer names \['encoder9_conv'\]"):
        models.block_outputs(generator, ["encoder9_conv"], images)


def test_block_outputs_rejects_a_non_model(images):
    with pytest.raises(ValueError, match="model must be a keras.Model"):
        models.block_outputs(None, ["encoder1_relu"], images)


def test_models_are_functional_keras_models(generator, discriminator, classifier):
    for model in (generator, discriminator, classifier):
        assert isinstance(model, keras.Model)
        assert tuple(model.input.shape[1:]) == (28, 28, 1)


# ---------------------------------------------------------------- variants

CONTEXT = PAPER.variant("context", global_context=True)


def test_global_context_adds_a_channelwise_dense_bottleneck():
    plain, context = models.build_generator(), models.build_generator(CONTEXT)
    cells, channels = 7 * 7, PAPER.generator_filters[2]
    extra = (cells * cells * channels + cells * channels) + (channels * channels + channels)
    assert context.count_params() - plain.count_params() == extra
    assert models.forward_flops(context) - models.forward_flops(plain) == 2 * cells * cells * channels + 2 * cells * channels * channels


def test_channelwise_dense_mixes_positions_within_a_channel_only():
    layer = models.ChannelwiseDense()
    inputs = np.zeros((1, 4, 4, 3), np.float32)
    layer.build(inputs.shape)
    base = keras.ops.convert_to_numpy(layer(inputs))
    poked = inputs.copy()
    poked[0, 0, 0, 1] = 1.0  # one corner pixel of channel 1
    change = keras.ops.convert_to_numpy(layer(poked)) - base
    assert np.all(change[..., 1] != 0)  # every position of channel 1 sees it, the far corner too
    assert np.all(change[..., [0, 2]] == 0)  # the other channels do not


def test_channelwise_dense_needs_a_fixed_shape():
    with pytest.raises(ValueError, match="fixed spatial shape"):
        models.ChannelwiseDense().build((None, None, None, 8))


def test_variant_generators_take_the_mask_channel_and_keep_the_output_shape(images):
    for change in (dict(mask_channel=True), dict(skip_connections=True), dict(global_context=True, mask_channel=True)):
        config = PAPER.variant("v", **change)
        generator = models.build_generator(config)
        channels = 2 if config.mask_channel else 1
        assert generator.input.shape[-1] == channels
        output = generator(np.repeat(images, channels, axis=-1))
        assert output.shape == images.shape


def test_a_generator_with_global_context_can_be_rebuilt_from_its_config():
    generator = models.build_generator(CONTEXT)
    rebuilt = keras.Model.from_config(generator.get_config())
    assert [layer.name for layer in rebuilt.layers] == [layer.name for layer in generator.layers]


def test_shared_generator_pass_saves_one_generator_forward(generator, discriminator):
    full = models.paper_iteration_flops(generator, discriminator, 8)
    shared = models.paper_iteration_flops(generator, discriminator, 8, shared_generator_pass=True)
    assert full - shared == 8 * models.forward_flops(generator)


# ---------------------------------------------------------------- the book's changes, composed

def test_the_paper_generator_is_built_for_the_papers_configuration():
    plain = models.build_generator(PAPER)
    assert [layer.name for layer in plain.layers] == [layer.name for layer in models.paper_generator(PAPER).layers]
    assert plain.input_shape == (None, 28, 28, 1)


def test_the_book_generator_adds_each_change_to_the_papers_blocks():
    paper_layers = {layer.name for layer in models.paper_generator(PAPER).layers}
    for change, added in (("mask_channel", set()), ("global_context", {"context_dense", "context_add"}),
                          ("skip_connections", {"decoder1_skip", "decoder2_skip"}),
                          ("noise_size", {"noise", "noise_dense", "noise_concat"})):
        value = 16 if change == "noise_size" else True
        generator = models.build_generator(PAPER.variant(change, **{change: value}))
        names = {layer.name for layer in generator.layers}
        assert paper_layers <= names and added <= names, change
    assert models.build_generator(PAPER.variant("mask", mask_channel=True)).input_shape == (None, 28, 28, 2)


def test_the_noise_vector_makes_the_generator_stochastic_in_inference_too(images):
    keras.utils.set_random_seed(0)
    generator = models.build_generator(PAPER.variant("noise", noise_size=16))
    first, second = (np.asarray(generator(images, training=False)) for _ in range(2))
    assert not np.allclose(first, second)
    assert np.asarray(generator.get_layer("noise")(images)).shape == (3, 16)


def test_instance_noise_is_added_in_training_only(images):
    keras.utils.set_random_seed(0)
    discriminator = models.build_discriminator(PAPER.variant("noisy", instance_noise=0.1, dropout_rate=0.0))
    assert discriminator.get_layer("instance_noise").stddev == pytest.approx(0.1)
    inference = [np.asarray(discriminator(images, training=False)) for _ in range(2)]
    training = [np.asarray(discriminator(images, training=True)) for _ in range(2)]
    np.testing.assert_array_equal(*inference)
    assert not np.allclose(*training)
    with pytest.raises(ValueError, match="stddev must be a finite number > 0"):
        models.with_instance_noise(models.paper_discriminator(PAPER), 0.0)


def test_committed_weights_load_into_the_composed_builders():
    from lib import runs

    folder = paper_gan.run_folder(0)
    if not folder.is_dir():
        pytest.skip("the committed artifacts are not here")
    run = runs.open(folder)
    generator = run.generator()
    assert [layer.name for layer in generator.layers] == [layer.name for layer in models.paper_generator().layers]


def test_a_generator_trained_in_bfloat16_runs_inference_in_float32_with_the_same_weights():
    config = PAPER.variant("bfloat16", mixed_precision=True, global_context=True, mask_channel=True)
    trained = models.build_generator(config)
    assert any(layer.compute_dtype == "bfloat16" for layer in trained.layers)
    inference = models.inference_generator(config)
    inference.set_weights(trained.get_weights())  # the same variables: a checkpoint of one loads into the other
    assert all(layer.compute_dtype == "float32" for layer in inference.layers if layer.weights)
    assert keras.config.dtype_policy().name == "float32"  # the global policy is left as it was
    inputs = np.random.default_rng(0).uniform(-1, 1, (2, 28, 28, 2)).astype(np.float32)
    full, reduced = inference.predict(inputs, verbose=0), trained.predict(inputs, verbose=0)
    assert full.dtype == np.float32 and np.abs(full - np.asarray(reduced, np.float32)).max() < 0.1  # bfloat16's rounding
    with pytest.raises(ValueError):
        models.inference_generator("paper")
