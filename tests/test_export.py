"""Tests of lib.export: the ONNX files compute what lib computes with Keras."""
import os

import numpy as np
import pytest

from lib import artifacts, correction, corruptions, data, evaluation, export, runs, speed
from lib.config import PAPER, VARIANTS
from lib.inpainting import SHIPPED, inpaint, load_inpainter
from lib.models import build_generator

ort = pytest.importorskip("onnxruntime")
real_mnist = pytest.mark.skipif(not os.environ.get(data.NPZ_VARIABLE), reason="MNIST_NPZ is not set")
committed = pytest.mark.skipif(not runs.paper_gan(0).is_dir(), reason="the committed artifacts are not here")


def run_onnx(path, **inputs):
    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    names = [node.name for node in session.get_inputs()]
    assert names == list(inputs), f"{path.name}'s inputs are {names}, not {list(inputs)}"  # the names the page feeds
    count = len(next(iter(inputs.values())))
    outputs = [session.run(None, {name: value[i:i + 1] for name, value in inputs.items()})[0] for i in range(count)]
    return np.concatenate(outputs)


def holes(count, seed=0):
    return evaluation.evaluation_masks(count, seed)


@pytest.mark.parametrize("config", [PAPER, VARIANTS["+ mask channel"]], ids=["paper", "mask channel + composite"])
def test_the_inpainter_model_computes_what_inpaint_computes(config):
    generator = build_generator(config)
    digits = np.random.default_rng(0).uniform(-1, 1, (6, 28, 28, 1)).astype(np.float32)
    masks = holes(6)
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
    masks = holes(4, seed=3)
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
@pytest.mark.parametrize("name", SHIPPED)
def test_the_shipped_models_agree_with_keras_on_1000_test_digits(shipped_onnx, name):
    (_, _), (x_test, y_test) = data.load_mnist()
    originals = data.to_model_input(x_test[:1000])
    masks = holes(1000)
    corrupted = data.apply_mask(originals, masks)
    generator, config = load_inpainter(name)
    keras_filled = inpaint(generator, config, corrupted, masks)
    onnx_filled = run_onnx(shipped_onnx / f"{name}_inpainter.onnx", corrupted=corrupted,
                           mask=data.with_channel(masks.astype(np.float32)))
    assert float(np.abs(onnx_filled - keras_filled).max()) <= 1e-4
    classifier = evaluation.load_classifier()
    onnx_labels = run_onnx(shipped_onnx / "classifier.onnx", digit=onnx_filled).argmax(axis=1)
    np.testing.assert_array_equal(onnx_labels, evaluation.classify(classifier, keras_filled))


@real_mnist
@committed
def test_the_shipped_mask_head_finds_what_lib_finds_on_500_corrupted_digits(shipped_onnx):
    (_, _), (x_test, _) = data.load_mnist()
    corrupted, _ = corruptions.corrupt(x_test[:500], "zigzag")
    head, threshold = correction.load_mask_head()
    record = artifacts.load_json(shipped_onnx / export.MODELS_RECORD)["mask_head"]
    assert record["threshold"] == threshold and record["input_names"] == ["digit"]
    onnx = run_onnx(shipped_onnx / "mask_head.onnx", digit=data.to_model_input(corrupted))[..., 0]
    keras = correction.damage_probabilities(head, data.to_model_input(corrupted))
    assert float(np.abs(onnx - keras).max()) <= 1e-4
    near_threshold = np.abs(keras - threshold) < 1e-4  # where rounding may flip a pixel
    np.testing.assert_array_equal((onnx > threshold)[~near_threshold], correction.find_damage(corrupted)[~near_threshold])


@real_mnist
@committed
def test_the_export_records_its_sources_and_notices_when_they_change(shipped_onnx, tmp_path):
    record = artifacts.load_json(shipped_onnx / export.MODELS_RECORD)
    assert set(record["inpainters"]) == set(SHIPPED)
    assert record["inpainters"]["book"]["variant"] == speed.FAST
    digits = artifacts.load_json(shipped_onnx / export.DIGITS_RECORD)
    assert len(digits["labels"]) == export.DEMO_DIGITS and len(digits["pixels"][0]) == 784
    assert export.is_current(shipped_onnx)
    stale = tmp_path / "stale"
    stale.mkdir()
    for file in shipped_onnx.iterdir():
        (stale / file.name).write_bytes(file.read_bytes())
    assert record["mask_head"]["file"] == "mask_head.onnx"
    moved = {**record, "mask_head": {**record["mask_head"], "threshold": record["mask_head"]["threshold"] + 0.05}}
    artifacts.save_json(stale / export.MODELS_RECORD, moved)
    assert not export.is_current(stale)  # a new threshold is a new page, though no weights changed
    record["classifier"]["weights_sha256"] = "0" * 64
    artifacts.save_json(stale / export.MODELS_RECORD, record)
    assert not export.is_current(stale)
    assert not export.is_current(tmp_path / "absent")


@real_mnist
@committed
@pytest.mark.parametrize("damage", ["flipped", "truncated", "swapped"])
def test_a_damaged_or_swapped_onnx_file_is_not_current(shipped_onnx, tmp_path, damage):
    copy = tmp_path / "copy"
    copy.mkdir()
    for file in shipped_onnx.iterdir():
        (copy / file.name).write_bytes(file.read_bytes())
    assert export.is_current(copy)
    book, paper = copy / "book_inpainter.onnx", copy / "paper_inpainter.onnx"
    data_bytes = bytearray(book.read_bytes())
    if damage == "flipped":
        data_bytes[len(data_bytes) // 2] ^= 0x01
        book.write_bytes(bytes(data_bytes))
    elif damage == "truncated":
        book.write_bytes(bytes(data_bytes[: len(data_bytes) - 100]))
    else:
        book.write_bytes(paper.read_bytes())
        paper.write_bytes(bytes(data_bytes))
    assert not export.is_current(copy)


def test_the_packages_export_needs_are_an_extra_of_the_package_with_the_ranges_the_book_pins():
    import tomllib
    from pathlib import Path

    root = Path(__file__).resolve().parent.parent
    extra = tomllib.loads((root / "pyproject.toml").read_text())["project"]["optional-dependencies"]["export"]
    pinned = {line.split(">")[0]: line for line in (root / "requirements.txt").read_text().splitlines()
              if line.startswith(("onnx", "tf2onnx"))}
    assert sorted(extra) == sorted(pinned.values()) and set(pinned) == {"onnx", "onnxruntime", "tf2onnx"}
