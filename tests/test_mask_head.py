"""Tests of lib.mask_head: the head that finds the damage, its training and resume, and what it finds."""
import json
import os

import numpy as np
import pytest

from lib import artifacts, checkpoints, damage, data, inpainting, mask_head, runs, shipped
from lib.config import Budget

from stubs import untrained_inpainter, white_finder


@pytest.fixture(scope="module")
def inpainter():
    return untrained_inpainter()


@pytest.fixture(scope="module")
def digits():
    rng = np.random.default_rng(0)
    grey = rng.integers(0, 255, (6, 28, 28), dtype=np.uint8)  # no pure white pixel
    grey[:, 14:] = 0  # a black half, as a digit's background
    grey[3:, 10, 5:20] = 255  # three digits with a white scratch
    return grey


def test_the_mask_head_gives_one_logit_a_pixel():
    head = mask_head.build_mask_head(width=4)
    assert head.output_shape == (None, 28, 28, 1)
    assert head(np.zeros((2, 28, 28, 1), np.float32)).shape == (2, 28, 28, 1)


def test_what_is_found_is_filled_and_the_rest_comes_back_exactly(digits, inpainter):
    corrected, found = inpainting.correct_digits(digits, inpainter, white_finder())
    np.testing.assert_array_equal(found, digits == 255)
    np.testing.assert_array_equal(corrected[~found], digits[~found])
    np.testing.assert_array_equal(corrected[:3], digits[:3])  # nothing found: unchanged
    assert (corrected[found] != 255).any()  # the untrained generator does not paint pure white


@pytest.mark.parametrize("shape", [(6, 28, 28), (6, 28, 28, 1), (28, 28), (28, 28, 1)])
def test_correct_digits_keeps_the_shape_and_drops_the_channel_from_the_mask(digits, inpainter, shape):
    images = digits[3:4].reshape(shape) if len(shape) < 3 or shape[0] != 6 else digits.reshape(shape)
    corrected, found = inpainting.correct_digits(images, inpainter, white_finder())
    assert corrected.shape == images.shape and corrected.dtype == np.uint8
    assert found.shape == (images.shape[:3] if images.shape[0] == 6 else (28, 28))
    np.testing.assert_array_equal(inpainting.find_damage(images, white_finder()), found)


def test_float_digits_come_back_float_in_minus_one_one(digits, inpainter):
    images = data.scale(digits).astype(np.float64)
    corrected, found = inpainting.correct_digits(images, inpainter, white_finder())
    assert corrected.dtype == np.float64 and -1 <= corrected.min() and corrected.max() <= 1
    np.testing.assert_array_equal(corrected[~found], images[~found])


@pytest.mark.parametrize("images, mask_head, message", [
    (np.zeros((2, 32, 32), np.uint8), None, "28x28"),
    (np.full((2, 28, 28), 0.5, np.float32), None, r"\[-1, 1\] with the background at -1"),
    (np.zeros((2, 28, 28), np.int32), None, "uint8"),
    (np.zeros((2, 28, 28), np.uint8), "head", r"\(model, threshold\) pair"),
    (np.zeros((2, 28, 28), np.uint8), (None, 0.5), "model must be a keras.Model"),
    (np.zeros((2, 28, 28), np.uint8), (white_finder()[0], 1.5), r"threshold must be a number in \[0, 1\]"),
])
def test_correct_digits_refuses_what_it_cannot_use(images, mask_head, message, inpainter):
    with pytest.raises(ValueError, match=message):
        inpainting.correct_digits(images, inpainter, mask_head if mask_head is not None else white_finder())


def test_a_bad_inpainter_is_refused_even_when_nothing_is_found(digits):
    with pytest.raises(ValueError, match="must be one of"):
        inpainting.correct_digits(digits[:3], "sharpest", white_finder())


def test_an_empty_batch_comes_back_empty(inpainter):
    corrected, found = inpainting.correct_digits(np.zeros((0, 28, 28), np.uint8), inpainter, white_finder())
    assert corrected.shape == (0, 28, 28) and found.shape == (0, 28, 28)


def test_iou_is_pooled_over_pixels():
    true = np.zeros((2, 28, 28), bool)
    true[0, :2] = True  # 56 pixels
    found = np.zeros_like(true)
    found[0, :1] = True  # 28 of them
    found[1, 0, 0] = True  # and 1 false alarm
    assert mask_head.mask_iou(found, true) == pytest.approx(28 / 57)
    assert mask_head.mask_iou(np.zeros_like(true), np.zeros_like(true)) == 1.0
    with pytest.raises(ValueError, match="differ in shape"):
        mask_head.mask_iou(found[:1], true)


def test_a_quick_mask_head_trains_records_and_loads(tmp_path, monkeypatch):
    monkeypatch.setenv("GAN_BOOK_MODE", "quick")
    record = mask_head.train_mask_head(verbose=0, folder=tmp_path)
    assert record["epochs"] == 1 and record["threshold"] in mask_head.THRESHOLDS
    assert set(p.name for p in tmp_path.iterdir()) == {mask_head.WEIGHTS, mask_head.RECORD, "manifest.json"}
    head, threshold = mask_head.load_mask_head(tmp_path)
    assert threshold == record["threshold"]
    weights = (tmp_path / mask_head.WEIGHTS).read_bytes()
    kept = mask_head.train_mask_head(verbose=0, folder=tmp_path)  # a finished head is kept, not retrained
    assert kept == artifacts.load_json(tmp_path / mask_head.RECORD) and kept["threshold"] == record["threshold"]
    assert (tmp_path / mask_head.WEIGHTS).read_bytes() == weights
    (tmp_path / mask_head.WEIGHTS).write_bytes(b"damaged")
    with pytest.raises(ValueError, match="failed verification"):
        mask_head.load_mask_head(tmp_path)
    with pytest.raises(ValueError, match="failed verification"):
        mask_head.train_mask_head(verbose=0, folder=tmp_path)


def test_a_killed_run_resumes_after_its_last_epoch_with_its_optimizer(tmp_path, monkeypatch, capsys):
    plan = Budget("full", 256, 2, 1)  # a full-mode run of 2 epochs on a few digits
    drawn = mask_head.training_damage

    def killed_in_the_second_epoch(digits, seed, epoch):
        if epoch == 1:
            raise RuntimeError("killed")
        return drawn(digits, seed, epoch)

    monkeypatch.setattr(mask_head, "training_damage", killed_in_the_second_epoch)
    with pytest.raises(RuntimeError, match="killed"):
        mask_head.train_mask_head(epochs=2, plan=plan, verbose=0, folder=tmp_path)
    progress = json.loads(str(artifacts.load_arrays(checkpoints.path(tmp_path), in_progress=True)["state"]))
    assert len(progress["history"]) == 1 and progress["seed"] == 0 and progress["epochs"] == 2
    assert not (tmp_path / artifacts.MANIFEST).exists()

    monkeypatch.setattr(mask_head, "training_damage", drawn)
    record = mask_head.train_mask_head(epochs=2, plan=plan, verbose=0, folder=tmp_path)
    assert "resuming after epoch 1" in capsys.readouterr().out
    assert record["history"][0] == progress["history"][0] and len(record["history"]) == 2
    assert set(record["validation_iou_by_kind"]) == set(damage.KINDS)
    assert {p.name for p in tmp_path.iterdir()} == {mask_head.WEIGHTS, mask_head.RECORD, artifacts.MANIFEST}


def one_epoch_checkpoint(folder):
    """A head trained one epoch of 2 steps, checkpointed in ``folder`` by the shared protocol."""
    head, state = mask_head._start_or_resume(folder, seed=0, epochs=2, steps_per_epoch=2)
    inputs, labels = mask_head.training_damage(np.zeros((8, 28, 28), np.uint8), seed=0, epoch=0)
    head.fit(inputs, labels, batch_size=4, verbose=0)
    state["history"].append({"epoch": 1, "loss": 0.5})
    checkpoints.save(folder, state, *mask_head._networks(head))
    return head


def test_a_checkpoint_of_another_run_or_out_of_step_with_its_state_is_refused(tmp_path):
    head = one_epoch_checkpoint(tmp_path)
    resumed, state = mask_head._start_or_resume(tmp_path, seed=0, epochs=2, steps_per_epoch=2)
    assert len(state["history"]) == 1 and int(resumed.optimizer.iterations) == 2
    np.testing.assert_array_equal(resumed.get_weights()[0], head.get_weights()[0])
    with pytest.raises(ValueError, match="made with another seed"):
        mask_head._start_or_resume(tmp_path, seed=1, epochs=2, steps_per_epoch=2)
    with pytest.raises(ValueError, match="made with another epochs"):
        mask_head._start_or_resume(tmp_path, seed=0, epochs=3, steps_per_epoch=2)
    with pytest.raises(ValueError, match="has taken 2 steps"):  # a state ahead of its variables
        mask_head._start_or_resume(tmp_path, seed=0, epochs=2, steps_per_epoch=3)


def test_a_damaged_checkpoint_is_named(tmp_path):
    one_epoch_checkpoint(tmp_path)
    checkpoint = checkpoints.path(tmp_path)
    checkpoint.write_bytes(checkpoint.read_bytes()[:100])  # a kill or a full disk mid-write, say
    with pytest.raises(ValueError, match=checkpoint.name):
        mask_head._start_or_resume(tmp_path, seed=0, epochs=2, steps_per_epoch=2)


@pytest.mark.parametrize("field, value, message", [("threshold", float("nan"), "threshold must be a number in"),
                                                   ("threshold", 5.0, "threshold must be a number in"),
                                                   ("threshold", 0.0, "threshold must lie strictly between 0 and 1"),
                                                   ("width", "wide", "width must be an integer"),
                                                   ("threshold", None, "threshold must be a number")])
def test_a_mask_head_record_with_a_bad_field_names_the_file_and_the_field(tmp_path, field, value, message):
    import shutil

    source = shipped.folder(shipped.MASK_HEAD)
    for path in source.iterdir():
        shutil.copy(path, tmp_path / path.name)
    record = artifacts.load_json(tmp_path / mask_head.RECORD)
    record[field] = value
    (tmp_path / mask_head.RECORD).write_text(json.dumps(record))
    artifacts.write_manifest(tmp_path)
    with pytest.raises(ValueError, match=rf"{mask_head.RECORD}: {message}"):
        mask_head.load_mask_head(tmp_path)


real_mnist = pytest.mark.skipif(not os.environ.get(data.NPZ_VARIABLE), reason="MNIST_NPZ is not set")


@real_mnist
def test_the_committed_head_leaves_almost_every_clean_digit_alone():
    (_, _), (x_test, _) = data.load_mnist()
    found = inpainting.find_damage(x_test[:1000])
    assert found.any(axis=(1, 2)).mean() < 0.2 and found.mean() < 0.002


def test_the_committed_head_won_its_choice_on_the_validation_digits_damage():
    chosen = mask_head.training_record()
    rival = artifacts.load_json(runs.path("studies", "mask_head_12_epochs.json"))  # its weights are not kept
    assert chosen["epochs"] == mask_head.EPOCHS and rival["epochs"] < chosen["epochs"]
    assert chosen["validation_iou"][str(chosen["threshold"])] == max(chosen["validation_iou"].values())
    assert max(chosen["validation_iou"].values()) > max(rival["validation_iou"].values())
    assert all(chosen["validation_iou_by_kind"][kind] > iou for kind, iou in rival["validation_iou_by_kind"].items())


def test_a_blank_image_comes_back_blank_with_nothing_found():
    """The committed head found about 73 pixels on each blank image, and the book's model drew a
    1 there; here a head that finds every pixel stands for it."""
    import keras

    finds_everything = keras.Sequential([keras.Input((28, 28, 1)), keras.layers.Conv2D(1, 1)])
    finds_everything.set_weights([np.zeros((1, 1, 1, 1), np.float32), np.array([10.0], np.float32)])
    blank = np.zeros((3, 28, 28), np.uint8)
    corrected, found = inpainting.correct_digits(blank, untrained_inpainter(), (finds_everything, 0.5))
    assert not found.any() and np.array_equal(corrected, blank)
    as_float = np.full((28, 28), -1.0, np.float32)
    corrected, found = inpainting.correct_digits(as_float, untrained_inpainter(), (finds_everything, 0.5))
    assert not found.any() and np.array_equal(corrected, as_float)
    digit = blank[:1].copy()
    digit[0, 10:18, 13:15] = 255  # one stroke of ink: no longer blank, so the head is heard
    assert inpainting.correct_digits(digit, untrained_inpainter(), (finds_everything, 0.5))[1].all()


def test_digits_are_corrected_in_chunks_as_if_at_once(monkeypatch):
    from lib import inpainting

    digits = np.random.default_rng(0).integers(0, 256, (7, 28, 28)).astype(np.uint8)
    digits[:, :14] = 0  # a black half: each digit's background
    whole = inpainting.correct_digits(digits, untrained_inpainter(), white_finder())
    monkeypatch.setattr(inpainting, "CHUNK_DIGITS", 3)
    chunked = inpainting.correct_digits(digits, untrained_inpainter(), white_finder())
    assert all(np.array_equal(a, b) for a, b in zip(whole, chunked))
