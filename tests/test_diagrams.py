"""Tests of lib.diagrams: the boxes a network's diagram draws, and that the figures draw."""
import matplotlib

matplotlib.use("Agg")
import keras
import pytest

from lib import diagrams, models
from lib.config import PAPER


def test_the_generator_layout_reads_like_the_paper():
    boxes = diagrams.network_layout(models.paper_generator(PAPER))
    assert [box["kind"] for box in boxes] == ["input", "conv", "pool", "conv", "pool", "conv", "conv", "upsample",
                                              "conv", "upsample", "conv"]
    assert boxes[1]["text"] == "conv 3x3, 32" and boxes[1]["extras"] == ["BN", "ReLU"]
    assert boxes[2]["text"] == "average pool, 2x2" and boxes[2]["shape"] == "14x14x32"
    assert boxes[5]["shape"] == "7x7x128"  # the bottleneck
    assert boxes[-1]["text"].endswith("tanh") and boxes[-1]["shape"] == "28x28x1"


def test_the_discriminator_layout_has_its_strides_and_regularisers():
    boxes = diagrams.network_layout(models.paper_discriminator(PAPER))
    assert [box["text"] for box in boxes[1:4]] == ["conv 3x3, 64, stride 2", "conv 3x3, 128, stride 2", "conv 3x3, 256"]
    assert all(box["extras"] == ["LeakyReLU", "dropout"] for box in boxes[1:4])
    assert boxes[-1]["text"] == "dense 1, sigmoid" and boxes[-1]["shape"] == "1"


def test_the_book_generator_draws_its_global_context_as_a_residual_branch():
    from lib.config import variant_named

    boxes = diagrams.network_layout(models.book_generator(variant_named("+ global context")))
    assert boxes[0]["shape"] == "28x28x2"  # the mask as a second channel
    context = [box["text"] for box in boxes].index("channel-wise dense")
    assert boxes[context]["shape"] == "7x7x128" and boxes[context]["extras"] == ["ReLU"]
    assert boxes[context + 1]["text"] == "conv 1x1, 128, relu" and boxes[context + 1]["extras"] == ["residual add"]


def test_a_branching_model_is_refused():
    inputs = keras.Input((4,))
    model = keras.Model(inputs, keras.layers.Concatenate()([inputs, inputs]))
    with pytest.raises(ValueError, match="chains of standard layers"):
        diagrams.network_layout(model)


def test_network_layout_takes_a_model_only():
    with pytest.raises(ValueError, match="Keras model"):
        diagrams.network_layout("generator")


def test_the_figures_draw_one_box_per_layer_box_and_every_flow_box():
    generator = models.paper_generator(PAPER)
    figure = diagrams.network_diagram(generator)
    assert len(figure.axes[0].patches) == len(diagrams.network_layout(generator))
    flow = diagrams.gan_data_flow()
    assert len(flow.axes[0].patches) == len(diagrams.FLOW_BOXES) + len(diagrams.FLOW_ARROWS)
