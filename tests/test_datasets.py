"""Tests of lib.datasets: the datasets by name, each loaded the same way, and a reader's own images."""
import os
import zipfile

import numpy as np
import pytest

from lib import data, datasets

SIZE = 28

def write_npz(path, **overrides):
    arrays = {
        "x_train": np.arange(5 * SIZE * SIZE, dtype=np.uint8).reshape(5, SIZE, SIZE),
        "y_train": np.array([0, 1, 2, 3, 9], dtype=np.uint8),
        "x_test": np.full((3, SIZE, SIZE), 7, dtype=np.uint8),
        "y_test": np.array([4, 5, 6], dtype=np.uint8),
    }
    arrays.update(overrides)
    np.savez(path, **{key: value for key, value in arrays.items() if value is not None})
    return arrays



def test_loader_reads_a_small_npz_without_verification(tmp_path):
    path = tmp_path / "small.npz"
    arrays = write_npz(path)
    (x_train, y_train), (x_test, y_test) = datasets.load("mnist", path, verify=False)
    assert np.array_equal(x_train, arrays["x_train"])
    assert np.array_equal(y_train, arrays["y_train"])
    assert np.array_equal(x_test, arrays["x_test"])
    assert np.array_equal(y_test, arrays["y_test"])
    assert x_train.dtype == np.uint8


def test_loader_reads_the_path_from_the_environment(tmp_path, monkeypatch):
    path = tmp_path / "small.npz"
    write_npz(path)
    monkeypatch.setenv(datasets.named("mnist").variable, str(path))
    (x_train, _), (x_test, _) = datasets.load("mnist", verify=False)
    assert x_train.shape == (5, SIZE, SIZE) and x_test.shape == (3, SIZE, SIZE)


def test_verification_rejects_a_small_file_naming_the_shape(tmp_path):
    path = tmp_path / "small.npz"
    write_npz(path)
    with pytest.raises(ValueError, match=r"shape \(5, 28, 28\), expected \(60000, 28, 28\)"):
        datasets.load("mnist", path, verify=True)


def test_loader_names_a_missing_key(tmp_path):
    path = tmp_path / "no_labels.npz"
    write_npz(path, y_test=None)
    with pytest.raises(ValueError, match="y_test"):
        datasets.load("mnist", path, verify=False)


def test_loader_rejects_a_truncated_file(tmp_path):
    good = tmp_path / "good.npz"
    write_npz(good)
    truncated = tmp_path / "truncated.npz"
    content = good.read_bytes()
    truncated.write_bytes(content[: len(content) // 2])
    with pytest.raises(ValueError, match="not a readable .npz"):
        datasets.load("mnist", truncated, verify=False)


def test_loader_rejects_an_empty_file(tmp_path):
    path = tmp_path / "empty.npz"
    path.write_bytes(b"")
    with pytest.raises(ValueError, match="not a readable .npz"):
        datasets.load("mnist", path, verify=False)


def test_loader_rejects_a_text_file(tmp_path):
    path = tmp_path / "notes.npz"
    path.write_text("these are not the digits you are looking for\n")
    with pytest.raises(ValueError, match=r"notes\.npz is not a readable \.npz file of arrays") as error:
        datasets.load("mnist", path, verify=False)


    assert "allow_pickle" not in str(error.value)  # numpy's advice; pickles are never loaded here


@pytest.mark.parametrize("content", [b"\x00" * 64, bytes(range(256)) * 40, b"\x93NUMPY\x01\x00garbage"])
def test_random_bytes_are_refused_without_advice_to_load_pickles(tmp_path, content):
    path = tmp_path / "random.npz"
    path.write_bytes(content)
    with pytest.raises(ValueError, match="not a readable .npz") as error:
        datasets.load("mnist", path)
    assert "pickle" not in str(error.value)


def test_an_empty_mnist_variable_is_an_error_not_a_download(monkeypatch):
    monkeypatch.setenv(datasets.named("mnist").variable, "")
    with pytest.raises(ValueError, match="MNIST_NPZ is set but empty"):
        datasets.load("mnist")


def test_an_array_that_claims_a_huge_shape_is_refused_before_it_is_decompressed(tmp_path):
    import resource
    import zipfile

    path = tmp_path / "bomb.npz"
    claimed = np.lib.format.header_data_from_array_1_0(np.zeros((1, 28, 28), np.uint8))
    claimed["shape"] = (400_000, 28, 28)  # 300 MiB of zeros compresses to about 300 KiB
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        for key in datasets.KEYS:
            with archive.open(f"{key}.npy", "w") as member:
                np.lib.format.write_array_header_1_0(member, claimed)
                for _ in range(400_000 * 784 // (1 << 24)):
                    member.write(bytes(1 << 24))
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    with pytest.raises(ValueError, match=r"x_train.*\(400000, 28, 28\)"):
        datasets.load("mnist", path)
    grown_mib = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before) / 1024
    assert grown_mib < 50, grown_mib


def test_loader_says_a_text_file_is_not_an_npz(tmp_path):
    path = tmp_path / "notes.npz"
    path.write_text("these are not the digits you are looking for\n")
    with pytest.raises(ValueError, match="not a readable .npz"):
        datasets.load("mnist", path, verify=False)


def test_loader_rejects_a_missing_path(tmp_path):
    with pytest.raises(ValueError, match="not found"):
        datasets.load("mnist", tmp_path / "absent.npz")


def test_loader_rejects_float_images(tmp_path):
    path = tmp_path / "float.npz"
    write_npz(path, x_train=np.zeros((5, SIZE, SIZE), np.float32))
    with pytest.raises(ValueError, match="x_train must be uint8, got float32"):
        datasets.load("mnist", path, verify=False)


def test_loader_rejects_labels_that_are_not_digits(tmp_path):
    path = tmp_path / "labels.npz"
    write_npz(path, y_test=np.array([4, 5, 10], np.uint8))
    with pytest.raises(ValueError, match="classes 0..9"):
        datasets.load("mnist", path, verify=False)


def test_loader_rejects_images_and_labels_of_different_lengths(tmp_path):
    path = tmp_path / "lengths.npz"
    write_npz(path, y_train=np.zeros(4, np.uint8))
    with pytest.raises(ValueError, match=r"\(N, H, W\) and \(N,\)"):
        datasets.load("mnist", path, verify=False)


real_mnist = pytest.mark.skipif(not os.environ.get(datasets.named("mnist").variable), reason="MNIST_NPZ is not set")


@real_mnist
def test_real_mnist_passes_verification():
    (x_train, y_train), (x_test, y_test) = datasets.load("mnist", verify=True)
    assert x_train.shape == (60000, 28, 28) and y_train.shape == (60000,)
    assert x_test.shape == (10000, 28, 28) and y_test.shape == (10000,)
    assert x_train.dtype == np.uint8 and y_train.dtype == np.uint8
    assert set(np.unique(y_train)) == set(range(10))


@real_mnist
def test_real_mnist_with_one_pixel_changed_fails_verification(tmp_path):
    with np.load(os.environ[datasets.named("mnist").variable], allow_pickle=False) as archive:
        arrays = {key: archive[key] for key in datasets.KEYS}
    arrays["x_test"] = arrays["x_test"].copy()
    arrays["x_test"][123, 14, 14] ^= 1
    path = tmp_path / "tampered.npz"
    np.savez(path, **arrays)
    assert zipfile.is_zipfile(path)
    with pytest.raises(ValueError, match="x_test .*wrong content"):
        datasets.load("mnist", path, verify=True)
    datasets.load("mnist", path, verify=False)


# ---------------------------------------------------------------- pipelines


@pytest.mark.skipif(not os.environ.get("FASHION_MNIST_NPZ"), reason="FASHION_MNIST_NPZ is not set")
def test_fashion_mnist_loads_by_name_from_its_own_variable_and_is_verified():
    (x_train, y_train), (x_test, y_test) = datasets.load("fashion_mnist")
    assert x_train.shape == (60000, SIZE, SIZE) and y_test.shape == (10000,)
    assert np.bincount(y_train).tolist() == [6000] * 10  # ten classes of 6,000 (its README)
    assert not np.array_equal(x_test[:10], datasets.load("mnist")[1][0][:10])


def test_a_dataset_is_named_once_and_mnist_stays_the_default():
    assert datasets.DEFAULT == "mnist" and datasets.root("mnist") == () and datasets.root("fashion_mnist") == ("fashion_mnist",)
    assert datasets.named("fashion_mnist").variable == "FASHION_MNIST_NPZ"
    assert datasets.named("fashion_mnist").classes[6] == "shirt" and len(datasets.named("mnist").classes) == 10
    with pytest.raises(ValueError, match="dataset must be one of"):
        datasets.load("cifar10")
    with pytest.raises(ValueError, match="dataset must be one of"):
        datasets.root("MNIST")


def test_an_empty_variable_of_another_dataset_is_an_error_naming_it(monkeypatch):
    monkeypatch.setenv("FASHION_MNIST_NPZ", "")
    with pytest.raises(ValueError, match="FASHION_MNIST_NPZ is set but empty"):
        datasets.load("fashion_mnist")


def test_mnist_loaded_through_data_is_the_same_call(tmp_path):
    path = tmp_path / "small.npz"
    write_npz(path)
    (x_train, _), _ = data.load_mnist(path, verify=False)
    assert np.array_equal(x_train, datasets.load("mnist", path, verify=False)[0][0])


def test_own_images_are_checked_before_any_work():
    images = np.zeros((4, SIZE, SIZE, 1), np.uint8)
    checked, labels = datasets.own_images(images, [0, 1, 2, 9])
    assert checked.shape == (4, SIZE, SIZE) and labels.tolist() == [0, 1, 2, 9]
    assert datasets.own_images(images[..., 0])[1] is None
    for bad, message in ((np.zeros((4, 32, 32), np.uint8), "shape"), (np.zeros((4, SIZE, SIZE), np.float32), "uint8"),
                         (np.zeros((0, SIZE, SIZE), np.uint8), "at least one"), (np.zeros((4, SIZE, SIZE, 3), np.uint8), "shape")):
        with pytest.raises(ValueError, match=message):
            datasets.own_images(bad)
    for labels in ([0, 1, 2], [0, 1, 2, 10], [0.5, 1, 2, 3], [-1, 0, 1, 2]):
        with pytest.raises(ValueError, match="labels must be 4 integers"):
            datasets.own_images(images, labels)
