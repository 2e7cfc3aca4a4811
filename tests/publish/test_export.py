"""Tests of lib.publish.export: the ONNX files compute what lib computes with Keras."""
import os

import numpy as np
import pytest

from lib import artifacts, classifiers, corruptions, data, holes, inpainting, mask_head
from lib.studies import paper_gan, speed
from lib.publish import export
from lib.config import PAPER, VARIANTS
from lib.inpainting import inpaint, load_inpainter
from lib.models import build_generator
from lib.shipped import INPAINTERS

ort = pytest.importorskip("onnxruntime")
real_mnist = pytest.mark.skipif(not os.environ.get(data.NPZ_VARIABLE), reason="MNIST_NPZ is not set")
committed = pytest.mark.skipif(not paper_gan.run_folder(0).is_dir(), reason="the committed artifacts are not here")


def run_onnx(path, **inputs):
    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    names = [node.name for node in session.get_inputs()]
    assert names == list(inputs), f"{path.name}'s inputs are {names}, not {list(inputs)}"  # the names the page feeds
    count = len(next(iter(inputs.values())))
    outputs = [session.run(None, {name: value[i:i + 1] for name, value in inputs.items()})[0] for i in range(count)]
    return np.concatenate(outputs)


def paper_holes(count, seed=0):
    return holes.evaluation_masks(count, seed)


@pytest.mark.parametrize("config", [PAPER, VARIANTS["+ mask channel"]], ids=["paper", "mask channel + composite"])
def test_the_inpainter_model_computes_what_inpaint_computes(config):
    generator = build_generator(config)
    digits = np.random.default_rng(0).uniform(-1, 1, (6, 28, 28, 1)).astype(np.float32)
    masks = paper_holes(6)
    corrupted = data.apply_mask(digits, masks)
    model = export.inpainter_model(generator, config)
    assert [tuple(t.shape) for t in model.inputs] == [(1, 28, 28, 1), (1, 28, 28, 1)]
    together = np.concatenate([model.predict([corrupted[i:i + 1], data.with_channel(masks[i:i + 1].astype(np.float32))],
                                             verbose=0) for i in range(6)])
    np.testing.assert_allclose(together, inpaint(generator, config, corrupted, masks), atol=1e-6)


def test_export_onnx_writes_a_file_that_computes_as_keras_does(tmp_path):
    config = VARIANTS["+ mask channel"]
    generator = build_generator(config)
    path = export.export_onnx(export.inpainter_model(generator, config), tmp_path / "tiny.onnx")
    assert path.is_file() and [p.name for p in tmp_path.iterdir()] == ["tiny.onnx"]  # no temporary left behind
    digits = np.random.default_rng(1).uniform(-1, 1, (4, 28, 28, 1)).astype(np.float32)
    masks = paper_holes(4, seed=3)
    corrupted = data.apply_mask(digits, masks)
    onnx = run_onnx(path, corrupted=corrupted, mask=data.with_channel(masks.astype(np.float32)))
    np.testing.assert_allclose(onnx, inpaint(generator, config, corrupted, masks), atol=1e-5)


def test_export_onnx_rejects_what_it_cannot_write(tmp_path):
    with pytest.raises(ValueError, match="must end in .onnx"):
        export.export_onnx(build_generator(PAPER), tmp_path / "model.h5")
    with pytest.raises(ValueError, match="model must be a keras.Model"):
        export.export_onnx("generator", tmp_path / "model.onnx")


@pytest.fixture(scope="module")
def shipped_onnx(tmp_path_factory):
    folder = tmp_path_factory.mktemp("onnx")
    export.export_shipped(folder)
    return folder


@real_mnist
@committed
@pytest.mark.parametrize("name", INPAINTERS)
def test_the_shipped_models_agree_with_keras_on_1000_test_digits(shipped_onnx, name):
    (_, _), (x_test, y_test) = data.load_mnist()
    originals = data.to_model_input(x_test[:1000])
    masks = paper_holes(1000)
    corrupted = data.apply_mask(originals, masks)
    generator, config = load_inpainter(name)
    keras_filled = inpaint(generator, config, corrupted, masks)
    onnx_filled = run_onnx(shipped_onnx / f"{name}_inpainter.onnx", corrupted=corrupted,
                           mask=data.with_channel(masks.astype(np.float32)))
    assert float(np.abs(onnx_filled - keras_filled).max()) <= 1e-4
    classifier = classifiers.load_classifier()
    onnx_labels = run_onnx(shipped_onnx / "classifier.onnx", digit=onnx_filled).argmax(axis=1)
    np.testing.assert_array_equal(onnx_labels, classifiers.classify(classifier, keras_filled))


@real_mnist
@committed
def test_the_shipped_mask_head_finds_what_lib_finds_on_500_corrupted_digits(shipped_onnx):
    (_, _), (x_test, _) = data.load_mnist()
    corrupted, _ = corruptions.corrupt(x_test[:500], "zigzag")
    head, threshold = mask_head.load_mask_head()
    record = artifacts.load_json(shipped_onnx / export.MODELS_RECORD)["mask_head"]
    assert record["threshold"] == threshold and record["input_names"] == ["digit"]
    onnx = run_onnx(shipped_onnx / "mask_head.onnx", digit=data.to_model_input(corrupted))[..., 0]
    keras = mask_head.damage_probabilities(head, data.to_model_input(corrupted))
    assert float(np.abs(onnx - keras).max()) <= 1e-4
    near_threshold = np.abs(keras - threshold) < 1e-4  # where rounding may flip a pixel
    np.testing.assert_array_equal((onnx > threshold)[~near_threshold], inpainting.find_damage(corrupted)[~near_threshold])


@real_mnist
@committed
def test_the_export_records_the_hash_of_every_file_and_of_the_weights_it_came_from(shipped_onnx):
    """The page checks each file against its ``onnx_sha256`` before it runs it; ``weights_sha256``
    ties each file to the committed weights it was exported from."""
    record = artifacts.load_json(shipped_onnx / export.MODELS_RECORD)
    assert set(record["inpainters"]) == set(INPAINTERS)
    assert record["inpainters"]["book"]["variant"] == speed.FAST
    digits = artifacts.load_json(shipped_onnx / export.DIGITS_RECORD)
    assert len(digits["labels"]) == export.DEMO_DIGITS and len(digits["pixels"][0]) == 784
    sources = export.shipped_sources()
    for entry in (*record["inpainters"].values(), record["classifier"], record["mask_head"]):
        assert artifacts.file_sha256(shipped_onnx / entry["file"]) == entry["onnx_sha256"]
        assert artifacts.file_sha256(sources[entry["file"]]) == entry["weights_sha256"]
    assert record["mask_head"]["threshold"] == mask_head.load_mask_head()[1]


def test_the_packages_export_needs_are_an_extra_of_the_package_with_the_ranges_the_book_pins():
    import tomllib
    from pathlib import Path

    root = Path(__file__).resolve().parents[2]
    extra = tomllib.loads((root / "pyproject.toml").read_text())["project"]["optional-dependencies"]["export"]
    pinned = {line.split(">")[0]: line for line in (root / "requirements.txt").read_text().splitlines()
              if line.startswith(("onnx", "tf2onnx"))}
    assert sorted(extra) == sorted(pinned.values()) and set(pinned) == {"onnx", "onnxruntime", "tf2onnx"}
