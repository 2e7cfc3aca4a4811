"""lib.npz: .npz archives read header first, without pickles, every failure naming the file."""
import numpy as np
import pytest

from lib import npz


def test_arrays_come_back_as_saved(tmp_path):
    path = tmp_path / "a.npz"
    np.savez_compressed(path, digits=np.arange(6, dtype=np.uint8).reshape(2, 3), labels=np.array([1, 2]))
    arrays = npz.read_npz(path)
    assert set(arrays) == {"digits", "labels"} and arrays["digits"].dtype == np.uint8
    np.testing.assert_array_equal(arrays["digits"], np.arange(6).reshape(2, 3))


def test_the_expected_arrays_are_checked_on_their_headers(tmp_path):
    path = tmp_path / "a.npz"
    np.savez(path, digits=np.zeros((2, 3), np.float32))
    seen = []

    def check(dtype, shape):
        seen.append((dtype, shape))
        return None if dtype == np.uint8 else f"digits must be uint8, got {dtype}"

    with pytest.raises(ValueError, match=r"a\.npz: array 'digits': digits must be uint8, got float32"):
        npz.read_npz(path, {"digits": check})
    assert seen == [(np.dtype(np.float32), (2, 3))]
    with pytest.raises(ValueError, match=r"lacks the arrays \['labels'\]"):
        npz.read_npz(path, {"labels": check})


def test_object_arrays_are_refused_without_advice_to_load_pickles(tmp_path):
    path = tmp_path / "objects.npz"
    np.savez(path, things=np.array([{"a": 1}], dtype=object))
    with pytest.raises(ValueError, match="Python objects") as error:
        npz.read_npz(path)
    assert "allow_pickle" not in str(error.value)


@pytest.mark.parametrize("content", [b"", b"not a zip", b"PK\x03\x04" + bytes(40)])
def test_what_is_not_an_archive_is_named(tmp_path, content):
    path = tmp_path / "x.npz"
    path.write_bytes(content)
    with pytest.raises(ValueError, match=r"x\.npz is not a readable \.npz file"):
        npz.read_npz(path)


def test_a_missing_file_is_named(tmp_path):
    with pytest.raises(ValueError, match="not found"):
        npz.read_npz(tmp_path / "absent.npz")


def test_a_header_that_claims_more_than_the_archive_holds_is_refused_before_allocating(tmp_path):
    import zipfile

    path = tmp_path / "claims.npz"
    header = np.lib.format.header_data_from_array_1_0(np.zeros(1, np.float64))
    header["shape"] = (10**13,)  # 80 TB, in a file of a few hundred bytes
    with zipfile.ZipFile(path, "w") as archive, archive.open("huge.npy", "w") as member:
        np.lib.format.write_array_header_1_0(member, header)
    with pytest.raises(ValueError, match=r"array 'huge': its header claims 80,000,000,000,000 bytes"):
        npz.read_npz(path)
