"""Tests of lib.checkpoints: the one checkpoint protocol of every training in the book."""
import json

import keras
import numpy as np
import pytest

from lib import artifacts, checkpoints, fitting, gan as gans, runs
from lib.config import PAPER

TINY = PAPER.variant("tiny", batch_size=16, epochs=1)


def test_variables_are_kept_by_path_and_restored_by_path_not_position(tmp_path):
    keras.utils.set_random_seed(0)
    gan = gans.build_gan(TINY)
    paths = checkpoints.variables_by_path(*fitting.networks(gan))
    assert "generator/encoder1_conv/kernel" in paths and "d_optimizer/iteration" in paths
    assert any(path.startswith("discriminator/block1_dropout/") for path in paths)  # seed states, by layer
    checkpoints.save(tmp_path, {"seed": 0, "epoch": 1}, *fitting.networks(gan), extra={"rows": np.arange(3)})
    stored = artifacts.load_arrays(checkpoints.path(tmp_path))
    artifacts.save_arrays(checkpoints.path(tmp_path), **dict(reversed(list(stored.items()))))  # another order
    keras.utils.set_random_seed(1)
    other = gans.build_gan(TINY)
    state, extra = checkpoints.load(tmp_path, *fitting.networks(other), {"seed": 0})
    assert state == {"seed": 0, "epoch": 1} and extra["rows"].tolist() == [0, 1, 2]
    for a, b in zip(gan.generator.get_weights(), other.generator.get_weights()):
        np.testing.assert_array_equal(a, b)


def test_a_checkpoint_of_another_run_or_another_model_is_refused(tmp_path):
    keras.utils.set_random_seed(0)
    gan = gans.build_gan(TINY)
    checkpoints.save(tmp_path, {"seed": 0, "config": "a"}, *fitting.networks(gan))
    with pytest.raises(ValueError, match="made with another configuration"):
        checkpoints.load(tmp_path, *fitting.networks(gan), {"seed": 0, "config": "b"}, fitting.RUN_IDENTITY)
    stored = dict(artifacts.load_arrays(checkpoints.path(tmp_path)))
    del stored["var:generator/encoder1_conv/kernel"]
    artifacts.save_arrays(checkpoints.path(tmp_path), **stored)
    with pytest.raises(ValueError, match="missing .*encoder1_conv/kernel"):
        checkpoints.load(tmp_path, *fitting.networks(gan), {"seed": 0})


def test_commit_writes_the_manifest_before_removing_the_checkpoint(tmp_path, monkeypatch):
    artifacts.save_json(tmp_path / runs.RECORD, {"seed": 0})
    (tmp_path / checkpoints.FILE).write_bytes(b"state")
    seen = []
    real_unlink = type(tmp_path).unlink

    def unlink(self, *args, **kwargs):
        seen.append((self.name, (tmp_path / artifacts.MANIFEST).is_file()))
        return real_unlink(self, *args, **kwargs)

    monkeypatch.setattr(type(tmp_path), "unlink", unlink)
    checkpoints.commit(tmp_path)
    assert (checkpoints.FILE, True) in seen
    assert json.loads((tmp_path / artifacts.MANIFEST).read_text()).keys() == {runs.RECORD}
    assert not checkpoints.exists(tmp_path)
