import json
from pathlib import Path

import keras
import numpy as np
import pytest

from lib import artifacts


def tiny_model(seed=0):
    keras.utils.set_random_seed(seed)
    model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(4), keras.layers.Dense(2)], name="tiny")
    return model


def visible_files(folder):
    return sorted(path.name for path in folder.iterdir())


# ---------------------------------------------------------------- json and atomic saves


def test_json_round_trip(tmp_path):
    record = {"epochs": 6, "losses": [0.69, 0.5, 1e-3], "name": "paper β", "nested": {"ok": True, "none": None}}
    path = tmp_path / "deep" / "folder" / "history.json"
    artifacts.save_json(path, record)
    assert artifacts.load_json(path) == record
    assert visible_files(path.parent) == ["history.json"]


def test_load_json_rejects_a_missing_file(tmp_path):
    with pytest.raises(ValueError, match="expected a JSON file"):
        artifacts.load_json(tmp_path / "absent.json")


def test_load_json_rejects_a_truncated_file(tmp_path):
    path = tmp_path / "history.json"
    artifacts.save_json(path, {"losses": list(range(20))})
    content = path.read_bytes()
    path.write_bytes(content[: len(content) // 2])
    with pytest.raises(ValueError, match="not valid JSON"):
        artifacts.load_json(path)


def test_atomic_path_writes_beside_the_target_keeping_its_suffixes(tmp_path):
    target = tmp_path / "generator.weights.h5"
    with artifacts.atomic_path(target) as temporary:
        assert temporary.parent == tmp_path
        assert temporary.name.endswith(".weights.h5")
        assert temporary != target
        assert not temporary.exists()
        temporary.write_bytes(b"new")
    assert target.read_bytes() == b"new"
    assert visible_files(tmp_path) == ["generator.weights.h5"]


def test_interrupted_save_keeps_the_previous_file_and_leaves_no_temporary(tmp_path):
    path = tmp_path / "metrics.json"
    artifacts.save_json(path, {"accuracy": 0.97})
    with pytest.raises(RuntimeError, match="power cut"):
        with artifacts.atomic_path(path) as temporary:
            temporary.write_text('{"accura')
            raise RuntimeError("power cut")
    assert artifacts.load_json(path) == {"accuracy": 0.97}
    assert visible_files(tmp_path) == ["metrics.json"]


def test_interrupted_first_save_leaves_nothing(tmp_path):
    path = tmp_path / "metrics.json"
    with pytest.raises(KeyboardInterrupt):
        with artifacts.atomic_path(path) as temporary:
            temporary.write_text("{")
            raise KeyboardInterrupt
    assert visible_files(tmp_path) == []


def test_failed_json_save_keeps_the_previous_file(tmp_path):
    path = tmp_path / "metrics.json"
    artifacts.save_json(path, {"accuracy": 0.97})
    with pytest.raises(TypeError):
        artifacts.save_json(path, {"accuracy": {0.5}})
    assert artifacts.load_json(path) == {"accuracy": 0.97}
    assert visible_files(tmp_path) == ["metrics.json"]


# ---------------------------------------------------------------- weights


def test_weights_round_trip(tmp_path):
    saved = tiny_model(seed=1)
    path = tmp_path / "tiny.weights.h5"
    artifacts.save_weights(saved, path)
    loaded = tiny_model(seed=2)
    assert not all(np.array_equal(a, b) for a, b in zip(saved.get_weights(), loaded.get_weights(), strict=True))
    assert artifacts.load_weights(loaded, path) is loaded
    for expected, actual in zip(saved.get_weights(), loaded.get_weights(), strict=True):
        np.testing.assert_array_equal(actual, expected)
    assert visible_files(tmp_path) == ["tiny.weights.h5"]


def test_save_weights_requires_the_keras_suffix(tmp_path):
    with pytest.raises(ValueError, match=r"\.weights\.h5"):
        artifacts.save_weights(tiny_model(), tmp_path / "tiny.h5")


def test_interrupted_weights_save_keeps_the_previous_file(tmp_path):
    path = tmp_path / "tiny.weights.h5"
    artifacts.save_weights(tiny_model(seed=1), path)
    good = path.read_bytes()

    class CrashingModel:
        def save_weights(self, temporary):
            with open(temporary, "wb") as handle:
                handle.write(good[: len(good) // 3])
            raise OSError("disk full")

    with pytest.raises(OSError, match="disk full"):
        artifacts.save_weights(CrashingModel(), path)
    assert path.read_bytes() == good
    assert visible_files(tmp_path) == ["tiny.weights.h5"]


def test_load_weights_rejects_a_truncated_file(tmp_path):
    path = tmp_path / "tiny.weights.h5"
    artifacts.save_weights(tiny_model(), path)
    content = path.read_bytes()
    path.write_bytes(content[: len(content) // 2])
    with pytest.raises(ValueError, match=r"could not load weights from .*tiny\.weights\.h5.*'tiny'.*corrupted, truncated"):
        artifacts.load_weights(tiny_model(), path)


def test_load_weights_rejects_a_missing_file(tmp_path):
    with pytest.raises(ValueError, match="expected a weights file at .*absent.weights.h5, found none"):
        artifacts.load_weights(tiny_model(), tmp_path / "absent.weights.h5")


def test_load_weights_rejects_another_architecture(tmp_path):
    path = tmp_path / "tiny.weights.h5"
    artifacts.save_weights(tiny_model(), path)
    other = keras.Sequential([keras.Input((3,)), keras.layers.Dense(5), keras.layers.Dense(2)], name="other")
    with pytest.raises(ValueError, match="another architecture"):
        artifacts.load_weights(other, path)


# ---------------------------------------------------------------- tables and arrays


def test_table_round_trip(tmp_path):
    rows = [
        {"method": "paper gan", "seed": 0, "mse": 0.125},
        {"method": "centre fill", "seed": 1, "mse": 0.5},
    ]
    path = tmp_path / "scores.csv"
    artifacts.save_table(path, rows)
    table = artifacts.load_table(path)
    assert list(table) == ["method", "seed", "mse"]
    assert table["method"].tolist() == ["paper gan", "centre fill"]
    np.testing.assert_array_equal(table["seed"], [0.0, 1.0])
    np.testing.assert_array_equal(table["mse"], [0.125, 0.5])
    assert table["mse"].dtype == np.float64


@pytest.mark.parametrize(
    "rows, message",
    [
        ([], "non-empty list of dicts"),
        ([("a", 1)], "non-empty list of dicts"),
        ([{"a": 1}, {"b": 2}], r"columns \['a'\]"),
        ([{"a": 1, "b": 2}, {"b": 2, "a": 1}], "every row must have the columns"),
    ],
)
def test_save_table_rejects_ragged_or_empty_rows(tmp_path, rows, message):
    with pytest.raises(ValueError, match=message):
        artifacts.save_table(tmp_path / "scores.csv", rows)
    assert not (tmp_path / "scores.csv").exists()


def test_load_table_rejects_missing_or_empty_tables(tmp_path):
    with pytest.raises(ValueError, match="expected a CSV table"):
        artifacts.load_table(tmp_path / "absent.csv")
    header_only = tmp_path / "header.csv"
    header_only.write_text("method,mse\n")
    with pytest.raises(ValueError, match="holds no rows"):
        artifacts.load_table(header_only)


def test_arrays_round_trip(tmp_path):
    path = tmp_path / "samples.npz"
    masks = np.eye(4, dtype=bool)[None]
    images = np.linspace(-1, 1, 16, dtype=np.float32).reshape(1, 4, 4)
    artifacts.save_arrays(path, masks=masks, images=images)
    loaded = artifacts.load_arrays(path)
    assert set(loaded) == {"masks", "images"}
    assert loaded["masks"].dtype == np.bool_ and np.array_equal(loaded["masks"], masks)
    assert loaded["images"].dtype == np.float32 and np.array_equal(loaded["images"], images)


@pytest.mark.parametrize("content", [b"", b"garbage, not an archive", b"PK\x03\x04 half a zip"])
def test_load_arrays_rejects_garbage(tmp_path, content):
    path = tmp_path / "samples.npz"
    path.write_bytes(content)
    with pytest.raises(ValueError, match="not a readable .npz file"):
        artifacts.load_arrays(path)


def test_load_arrays_rejects_a_missing_file(tmp_path):
    with pytest.raises(ValueError, match="expected an .npz file"):
        artifacts.load_arrays(tmp_path / "absent.npz")


# ---------------------------------------------------------------- manifests


@pytest.fixture
def run_folder(tmp_path):
    folder = tmp_path / "paper_gan" / "seed0"
    artifacts.save_json(folder / "history.json", {"d_loss": [0.7, 0.6]})
    artifacts.save_table(folder / "scores.csv", [{"epoch": 1, "accuracy": 0.9}])
    artifacts.save_arrays(folder / "samples.npz", images=np.zeros((2, 4, 4), np.float32))
    (folder / ".scratch").write_text("ignored")
    artifacts.write_manifest(folder)
    return folder


def test_manifest_records_every_visible_file(run_folder):
    manifest = json.loads((run_folder / artifacts.MANIFEST).read_text())
    assert sorted(manifest) == ["history.json", "samples.npz", "scores.csv"]
    assert manifest["scores.csv"] == artifacts.file_sha256(run_folder / "scores.csv")


def test_manifest_verifies_intact_files(run_folder):
    assert artifacts.verify_manifest(run_folder) is True


def test_manifest_names_a_file_with_one_byte_changed(run_folder):
    path = run_folder / "samples.npz"
    content = bytearray(path.read_bytes())
    content[len(content) // 2] ^= 0xFF
    path.write_bytes(bytes(content))
    with pytest.raises(ValueError, match="samples.npz differs") as error:
        artifacts.verify_manifest(run_folder)
    assert "history.json" not in str(error.value)
    assert "scores.csv" not in str(error.value)


def test_manifest_names_a_deleted_file(run_folder):
    (run_folder / "history.json").unlink()
    with pytest.raises(ValueError, match="history.json is missing"):
        artifacts.verify_manifest(run_folder)


def test_manifest_names_every_damaged_file(run_folder):
    (run_folder / "history.json").unlink()
    (run_folder / "scores.csv").write_text("epoch,accuracy\n1,0.99\n")
    with pytest.raises(ValueError, match="history.json is missing; scores.csv differs"):
        artifacts.verify_manifest(run_folder)


def test_manifest_leaves_out_the_files_it_is_told_to(run_folder):
    artifacts.write_manifest(run_folder, exclude=("scores.csv",))
    assert sorted(json.loads((run_folder / artifacts.MANIFEST).read_text())) == ["history.json", "samples.npz"]


def test_as_json_turns_tuples_into_lists():
    assert artifacts.as_json({"filters": (1, 2), "nested": [(3,)]}) == {"filters": [1, 2], "nested": [[3]]}


def test_verify_manifest_without_a_manifest(tmp_path):
    with pytest.raises(ValueError, match="expected a JSON file"):
        artifacts.verify_manifest(tmp_path)


def test_save_weights_leaves_a_compiled_models_optimizer_state_out(tmp_path):
    import keras

    def tiny():
        return keras.Sequential([keras.Input((256,)), keras.layers.Dense(256), keras.layers.Dense(1)])

    model = tiny()
    model.compile(optimizer="adam", loss="mse")
    model.fit(np.zeros((8, 256), np.float32), np.zeros((8, 1), np.float32), verbose=0)
    plain = tiny()
    artifacts.save_weights(model, tmp_path / "compiled.weights.h5")
    artifacts.save_weights(plain, tmp_path / "plain.weights.h5")
    # Adam's two moments would triple the 66k weights' 264 kB
    assert (tmp_path / "compiled.weights.h5").stat().st_size < (tmp_path / "plain.weights.h5").stat().st_size * 1.2
    restored = artifacts.load_weights(tiny(), tmp_path / "compiled.weights.h5")
    for a, b in zip(model.get_weights(), restored.get_weights()):
        np.testing.assert_array_equal(a, b)


# ---------------------------------------------------------------- a manifest covers its whole folder

@pytest.mark.parametrize("manifest", [{}, {"history.json": "0" * 64}], ids=["empty", "partial"])
def test_a_manifest_that_leaves_files_out_verifies_nothing(run_folder, manifest):
    (run_folder / artifacts.MANIFEST).write_text(json.dumps(manifest))
    with pytest.raises(ValueError, match="samples.npz is not covered by the manifest; scores.csv is not covered"):
        artifacts.verify_manifest(run_folder)


@pytest.mark.parametrize("manifest", [[], ["history.json"], "x", {"history.json": 3}, {"history.json": "ab"},
                                      {"../history.json": "0" * 64}, {"history.json": "Z" * 64}])
def test_a_manifest_that_is_not_a_map_of_digests_is_refused_by_name(run_folder, manifest):
    (run_folder / artifacts.MANIFEST).write_text(json.dumps(manifest))
    with pytest.raises(ValueError, match=r"manifest.json must map the folder's file names to sha256 hex digests"):
        artifacts.verify_manifest(run_folder)
    with pytest.raises(ValueError, match=r"manifest.json must map"):
        artifacts.load_json(run_folder / "history.json")


def test_verify_manifest_may_be_told_which_files_it_need_not_cover(run_folder):
    (run_folder / "checkpoint.npz").write_bytes(b"left by a kill")
    with pytest.raises(ValueError, match="checkpoint.npz is not covered"):
        artifacts.verify_manifest(run_folder)
    assert artifacts.verify_manifest(run_folder, unlisted=("checkpoint.npz",))


def test_every_loader_verifies_a_file_against_its_folders_manifest(run_folder):
    assert artifacts.load_json(run_folder / "history.json") == {"d_loss": [0.7, 0.6]}
    for name, load in (("history.json", artifacts.load_json), ("scores.csv", artifacts.load_table),
                       ("samples.npz", artifacts.load_arrays)):
        path = run_folder / name
        original = path.read_bytes()
        path.write_bytes(original[:-1] + bytes([original[-1] ^ 0xFF]))
        with pytest.raises(ValueError, match=rf"{name} differs from its checksum in .*manifest.json"):
            load(path)
        path.write_bytes(original)


def test_a_file_its_folders_manifest_does_not_list_is_not_loaded(run_folder):
    artifacts.save_json(run_folder / "extra.json", {"chosen": "something else"})
    with pytest.raises(ValueError, match="extra.json is not covered by .*manifest.json"):
        artifacts.load_json(run_folder / "extra.json")


def test_weights_with_flipped_bytes_are_refused_before_keras_reads_them(tmp_path):
    model = tiny_model()
    path = tmp_path / "tiny.weights.h5"
    artifacts.save_weights(model, path)
    artifacts.list_in_manifest(path)
    content = bytearray(path.read_bytes())
    for offset in range(len(content) - 600, len(content) - 500):  # inside the data, where h5py would not notice
        content[offset] ^= 0xFF
    path.write_bytes(bytes(content))
    with pytest.raises(ValueError, match="tiny.weights.h5 differs from its checksum"):
        artifacts.load_weights(tiny_model(), path)


def test_save_record_lists_the_file_and_keeps_the_folders_other_entries(run_folder):
    artifacts.save_record(run_folder / "choice.json", {"chosen": "a"})
    listed = artifacts.read_manifest(run_folder)
    assert sorted(listed) == ["choice.json", "history.json", "samples.npz", "scores.csv"]
    assert artifacts.load_json(run_folder / "choice.json") == {"chosen": "a"}
    assert artifacts.verify_manifest(run_folder)
    with pytest.raises(ValueError, match="only an existing, visible file"):
        artifacts.list_in_manifest(run_folder / "missing.json")


def test_remove_temporaries_deletes_what_a_killed_save_left_and_nothing_else(tmp_path):
    with pytest.raises(RuntimeError):
        with artifacts.atomic_path(tmp_path / "checkpoint.npz") as temporary:
            temporary.write_bytes(b"half")
            raise RuntimeError  # an exception cleans up; a SIGKILL would leave names like these:
    for name in (".checkpoint-a1b2c3d_.npz", ".generator-zz9_zz9z.weights.h5"):
        (tmp_path / name).write_bytes(b"half-written")
    (tmp_path / ".gitkeep").write_text("")
    (tmp_path / "history.csv").write_text("step\n1\n")
    assert artifacts.remove_temporaries(tmp_path) == [".checkpoint-a1b2c3d_.npz", ".generator-zz9_zz9z.weights.h5"]
    assert visible_files(tmp_path) == [".gitkeep", "history.csv"]


def committed_folders():
    root = Path(__file__).resolve().parent.parent / "artifacts"
    skipped = {root / "quick", root / "retrained"}
    return sorted(folder for folder in [root, *root.rglob("*")] if folder.is_dir()
                  and not any(folder == skip or skip in folder.parents for skip in skipped)
                  and artifacts.folder_files(folder, exclude=("checkpoint.npz",)))


def test_every_committed_file_is_covered_by_its_folders_manifest_and_verifies():
    folders = committed_folders()
    assert len(folders) > 40
    for folder in folders:
        assert (folder / artifacts.MANIFEST).is_file(), f"{folder} has files and no manifest"
        assert artifacts.verify_manifest(folder)


@pytest.fixture
def shipped_root(tmp_path, monkeypatch):
    root = tmp_path / "artifacts"
    monkeypatch.setattr(artifacts, "SHIPPED_ROOT", root)
    return root


def test_a_shipped_folder_without_its_manifest_loads_nothing(shipped_root):
    folder = shipped_root / "classifier"
    folder.mkdir(parents=True)
    artifacts.save_json(folder / "seed1.json", {"seed": 1})
    with pytest.raises(ValueError, match=r"classifier holds shipped files but has no manifest\.json"):
        artifacts.load_json(folder / "seed1.json")
    artifacts.write_manifest(folder)
    assert artifacts.load_json(folder / "seed1.json") == {"seed": 1}
    (folder / "seed1.json").write_text('{"seed": 0}')  # edited by hand, as a swapped file would be
    with pytest.raises(ValueError, match="differs from its checksum"):
        artifacts.load_json(folder / "seed1.json")


@pytest.mark.parametrize("scratch", [artifacts.QUICK, artifacts.RETRAINED])
def test_scratch_folders_and_a_runs_checkpoint_need_no_manifest(shipped_root, scratch):
    folder = shipped_root / scratch / "paper_gan" / "seed0"
    folder.mkdir(parents=True)
    artifacts.save_json(folder / "run.json", {"seed": 0})
    assert artifacts.load_json(folder / "run.json") == {"seed": 0}
    running = shipped_root / "paper_gan" / "seed0"
    running.mkdir(parents=True)
    artifacts.save_arrays(running / "checkpoint.npz", state=np.array("{}"))
    assert set(artifacts.load_arrays(running / "checkpoint.npz", in_progress=True)) == {"state"}
    with pytest.raises(ValueError, match="has no manifest"):
        artifacts.load_arrays(running / "checkpoint.npz")


def test_every_committed_folder_of_shipped_files_has_a_manifest():
    import subprocess

    listed = subprocess.run(["git", "ls-files", "artifacts"], cwd=artifacts.SHIPPED_ROOT.parent, capture_output=True,
                            text=True, check=True).stdout.split()
    folders = {artifacts.SHIPPED_ROOT.parent / Path(name).parent for name in listed}
    assert folders and all((folder / artifacts.MANIFEST).is_file() for folder in folders), \
        sorted(str(folder) for folder in folders if not (folder / artifacts.MANIFEST).is_file())


@pytest.mark.parametrize("content", [b"\x00\xff\xfe binary", ("[" * 100_000 + "]" * 100_000).encode(),
                                     ("1" * 5000).encode(), b'{"a": 1'])
def test_a_damaged_record_is_a_value_error_naming_the_file(tmp_path, content):
    path = tmp_path / "record.json"
    path.write_bytes(content)
    with pytest.raises(ValueError, match=r"record\.json is not valid JSON"):
        artifacts.load_json(path)


def test_weights_are_not_written_to_a_disk_without_room_for_them(tmp_path, monkeypatch):
    """h5py, failing mid-write on a full disk, ended the process with a segfault: the room is
    checked first, and the error names the file."""
    import collections
    import errno

    model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(3)])
    usage = collections.namedtuple("usage", "total used free")
    monkeypatch.setattr(artifacts.shutil, "disk_usage", lambda folder: usage(10 << 20, 10 << 20, 1000))
    with pytest.raises(OSError, match=r"no room to write .*model\.weights\.h5: about 1\.0 MiB needed, 0\.0 MiB free") \
            as error:
        artifacts.save_weights(model, tmp_path / "model.weights.h5")
    assert error.value.errno == errno.ENOSPC and list(tmp_path.iterdir()) == []


def test_a_records_missing_or_wrong_field_is_named_with_its_file(tmp_path):
    from lib import checks

    path = tmp_path / "time_to_quality.json"
    artifacts.save_json(path, {"fast": "fast, adversary 0.3 for 3 epochs", "shipped_seed": "0"})
    with pytest.raises(ValueError, match=r"time_to_quality\.json: shipped_seed must be a non-negative integer"):
        artifacts.load_fields(path, fast=checks.text, shipped_seed=checks.count)
    with pytest.raises(ValueError, match=r"time_to_quality\.json lacks the field 'seed'"):
        artifacts.load_fields(path, seed=checks.count)
    assert artifacts.load_fields(path, fast=checks.text) == ("fast, adversary 0.3 for 3 epochs",)
    artifacts.save_json(path, [1, 2])
    with pytest.raises(ValueError, match="not a JSON object"):
        artifacts.load_fields(path, fast=checks.text)


def test_weights_go_into_a_folder_not_made_yet(tmp_path):
    model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(3)])
    artifacts.save_weights(model, tmp_path / "new" / "deeper" / "model.weights.h5")
    assert (tmp_path / "new" / "deeper" / "model.weights.h5").is_file()


def test_a_failed_write_names_the_file_and_leaves_nothing(tmp_path, monkeypatch):
    import errno

    def full(*args, **kwargs):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(artifacts.json, "dumps", full)
    with pytest.raises(OSError, match=r"could not write .*record\.json: No space left on device") as error:
        artifacts.save_json(tmp_path / "record.json", {"a": 1})
    assert error.value.errno == errno.ENOSPC and list(tmp_path.iterdir()) == []
