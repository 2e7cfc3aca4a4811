"""Tests of lib.runs: every artifact path, and the self-describing run folder."""
import json
import re
from pathlib import Path

import numpy as np
import pytest

from lib import artifacts, classifiers, fitting, runs
from lib.studies import ablation, ceiling, collapse, paper_gan
from lib.config import CLASSIFIER, CROSS_CHECK_CLASSIFIER, PAPER, VARIANTS


TINY = PAPER.variant("tiny", batch_size=32, epochs=1)


@pytest.fixture
def artifacts_root(tmp_path, monkeypatch):
    monkeypatch.setenv(runs.ROOT_VARIABLE, str(tmp_path))
    return tmp_path


def tiny_images(count=64, seed=0):
    return np.random.default_rng(seed).uniform(-1, 1, (count, 28, 28, 1)).astype(np.float32)


def test_root_defaults_to_the_repository_folder(monkeypatch):
    monkeypatch.delenv(runs.ROOT_VARIABLE, raising=False)
    assert runs.root() == runs.REPO_ROOT / "artifacts"


def test_path_joins_plain_names_under_the_root(artifacts_root):
    assert runs.path("paper_gan", "seed0") == artifacts_root / "paper_gan" / "seed0"


@pytest.mark.parametrize("parts", [(), ("",), ("..",), (".",), ("paper_gan", ".."), ("a/b",), ("/etc",), (3,), (None,)])
def test_path_rejects_anything_but_plain_folder_names(artifacts_root, parts):
    with pytest.raises(ValueError, match="plain folder names"):
        runs.path(*parts)


def test_every_committed_kind_of_artifact_has_its_path(artifacts_root):
    assert paper_gan.run_folder(2) == artifacts_root / "paper_gan" / "seed2"
    assert ablation.run_folder("+ mask channel", 2, seed=1) == artifacts_root / "variants" / "mask_channel-2ep" / "seed1"
    assert ablation.run_folder("+ mask channel", 2, root=(runs.QUICK,), suffix="-bfloat16") == \
        artifacts_root / "quick" / "variants" / "mask_channel-2ep-bfloat16" / "seed0"
    assert ablation.committed_folder("paper", 2) == paper_gan.run_folder(0)
    assert collapse.run_folder("training-mode fakes", 3) == artifacts_root / "collapse" / "training_mode_fakes" / "seed3"
    assert collapse.summary_record() == artifacts_root / "collapse" / "summary.json"
    assert ceiling.record_path() == artifacts_root / "ceiling" / "corrupted_digit_accuracy.json"
    assert ceiling.record_path(10) == artifacts_root / "ceiling" / "corrupted_digit_accuracy-10ep.json"
    assert classifiers.classifier_weights(2) == artifacts_root / "classifier" / "seed2.weights.h5"
    assert classifiers.classifier_record(1, CROSS_CHECK_CLASSIFIER) == artifacts_root / "classifier-dense" / "seed1.json"
    assert classifiers.classifier_weights(1, CLASSIFIER, (runs.QUICK,)) == artifacts_root / "quick" / "classifier" / "seed1.weights.h5"
    assert not (artifacts_root / "variants").exists()  # naming a folder creates nothing


def test_slugs_of_every_variant_are_file_safe_and_distinct():
    assert runs.slug("+ L2 hole loss") == "l2_hole_loss"
    assert runs.slug("A/B test: v2!") == "a_b_test__v2"
    slugs = [runs.slug(name) for name in VARIANTS]
    assert len(set(slugs)) == len(slugs)
    assert all(re.fullmatch(r"[a-z0-9]+(_+[a-z0-9]+)*", slug) for slug in slugs)


@pytest.mark.parametrize("name", ["", "+ ", None, 3])
def test_slug_rejects_empty_names(name):
    with pytest.raises(ValueError, match="non-empty string"):
        runs.slug(name)


@pytest.mark.parametrize("call, message", [(lambda: paper_gan.run_folder(-1), "seed"), (lambda: paper_gan.run_folder(True), "seed"),
                                           (lambda: ablation.run_folder("+ composite", 0), "epochs"),
                                           (lambda: ceiling.record_path(0), "epochs")])
def test_paths_reject_bad_numbers(call, message):
    with pytest.raises(ValueError, match=message):
        call()


def test_mode_root_keeps_quick_runs_apart(monkeypatch):
    monkeypatch.setenv("GAN_BOOK_MODE", "quick")
    assert runs.mode_root() == ("quick",)
    monkeypatch.setenv("GAN_BOOK_MODE", "full")
    assert runs.mode_root() == ()


def test_inputs_digest_tells_different_training_data_apart():
    images = tiny_images()
    assert runs.inputs_digest(images) == runs.inputs_digest(images.copy())
    changed = images.copy()
    changed[3, 4, 5, 0] += 1e-3
    assert runs.inputs_digest(changed) != runs.inputs_digest(images)


def test_a_finished_run_opens_from_its_folder_alone(tmp_path):
    fitted = fitting.fit_gan(tiny_images(), tmp_path, TINY, seed=4, verbose=0)
    run = runs.open(tmp_path)
    assert runs.status(tmp_path) == "finished"
    assert run.config == TINY and run.seed == 4
    assert run.record["inputs_sha256"] == runs.inputs_digest(tiny_images())
    assert [row["step"] for row in run.history] == [1, 2]
    assert set(run.history[0]) >= {"d_loss_real", "d_loss_fake", "g_loss", "d_real", "d_fake"}
    images = tiny_images(3)
    np.testing.assert_array_equal(run.generator().predict(images, verbose=0),
                                  fitted.generator().predict(images, verbose=0))
    np.testing.assert_array_equal(run.gan().discriminator.predict(images, verbose=0),
                                  run.discriminator().predict(images, verbose=0))
    assert run.snapshots == [] and run.diagnostics == []


def test_opening_a_folder_that_holds_no_finished_run_fails(tmp_path):
    assert runs.status(tmp_path) == "new"
    with pytest.raises(ValueError, match="no finished run"):
        runs.open(tmp_path)
    fitting.fit_gan(tiny_images(), tmp_path, TINY.variant("tiny", epochs=2), verbose=0, stop_after_epochs=1)
    assert runs.status(tmp_path) == "resumable"
    with pytest.raises(ValueError, match="status: resumable"):
        runs.open(tmp_path)


def test_a_damaged_run_fails_verification(tmp_path):
    fitting.fit_gan(tiny_images(), tmp_path, TINY, verbose=0)
    weights = tmp_path / runs.GENERATOR_WEIGHTS
    weights.write_bytes(weights.read_bytes()[: weights.stat().st_size // 2])
    with pytest.raises(ValueError, match="generator.weights.h5 differs"):
        runs.open(tmp_path)


@pytest.fixture(scope="module")
def finished_run(tmp_path_factory):
    folder = tmp_path_factory.mktemp("finished")
    fitting.fit_gan(tiny_images(), folder, TINY, verbose=0)
    return folder


@pytest.fixture
def run_copy(finished_run, tmp_path):
    import shutil

    return Path(shutil.copytree(finished_run, tmp_path / "run"))


@pytest.mark.parametrize("manifest, message", [
    ({}, "generator.weights.h5 is not covered by the manifest"),
    ("drop generator", "generator.weights.h5 is not covered by the manifest"),
    ([], "must map the folder's file names to sha256 hex digests, got list"),
    ({"run.json": 1}, "must map the folder's file names"),
], ids=["empty", "no generator entry", "a list", "not digests"])
def test_a_manifest_that_does_not_cover_the_run_opens_nothing(run_copy, manifest, message):
    if manifest == "drop generator":
        manifest = {name: digest for name, digest in artifacts.read_manifest(run_copy).items()
                    if name != runs.GENERATOR_WEIGHTS}
    (run_copy / artifacts.MANIFEST).write_text(json.dumps(manifest))
    with pytest.raises(ValueError, match=message):
        runs.open(run_copy)


def test_a_manifest_of_its_records_alone_is_not_a_run(run_copy):
    for name in (runs.GENERATOR_WEIGHTS, runs.DISCRIMINATOR_WEIGHTS, runs.HISTORY):
        (run_copy / name).unlink()
    artifacts.write_manifest(run_copy)
    with pytest.raises(ValueError, match=r"does not list \['history.csv'\]"):
        runs.open(run_copy)


@pytest.mark.parametrize("record, message", [
    ({"seed": 0}, "needs a 'config' object and a 'seed'"),
    ({"config": PAPER.to_dict()}, "needs a 'config' object and a 'seed'"),
    ([1, 2], "needs a 'config' object"),
    ({"config": {"no_such_field": 1}, "seed": 0}, "unknown configuration fields"),
    ({"config": PAPER.to_dict(), "seed": -1}, "seed must be a non-negative integer"),
], ids=["no config", "no seed", "a list", "a config that is not one", "a bad seed"])
def test_a_run_record_that_does_not_describe_a_run_is_named(run_copy, record, message):
    artifacts.save_json(run_copy / runs.RECORD, record)
    artifacts.write_manifest(run_copy)  # a consistent manifest: the record itself is what is wrong
    with pytest.raises(ValueError, match=rf"run.json .*{message}|{message}") as error:
        runs.open(run_copy)
    assert str(run_copy / runs.RECORD) in str(error.value)


@pytest.mark.skipif(not paper_gan.run_folder(0).is_dir(), reason="the committed artifacts are not here")
def test_committed_runs_open_with_their_own_configuration():
    paper = runs.open(paper_gan.run_folder(0))
    assert paper.config == PAPER and paper.seed == 0 and len(paper.history) == 2808
    name, epochs = ablation.recommended_run()
    recommended = runs.open(ablation.run_folder(name, epochs))
    assert recommended.config.name == name and recommended.config.epochs == epochs
    assert recommended.config.global_context and recommended.config.mask_channel


def test_a_run_without_its_weights_still_opens_with_its_records(tmp_path):
    fitting.fit_gan(tiny_images(), tmp_path, TINY, verbose=0)
    runs.drop_weights(tmp_path)
    run = runs.open(tmp_path)
    assert len(run.history) == 2 and not (tmp_path / runs.GENERATOR_WEIGHTS).exists()
    with pytest.raises(ValueError, match="expected a weights file"):
        run.generator()
    with pytest.raises(ValueError, match="no finished run to slim"):
        runs.drop_weights(tmp_path / "absent")


def test_a_run_can_keep_its_generator_alone(tmp_path):
    fitting.fit_gan(tiny_images(), tmp_path, TINY, verbose=0)
    before = runs.open(tmp_path).generator().get_weights()
    runs.drop_weights(tmp_path, keep_generator=True)
    runs.drop_weights(tmp_path, keep_generator=True)  # again: nothing left to drop, still a run
    run = runs.open(tmp_path)
    assert not (tmp_path / runs.DISCRIMINATOR_WEIGHTS).exists()
    for a, b in zip(before, run.generator().get_weights()):
        np.testing.assert_array_equal(a, b)
    with pytest.raises(ValueError, match="keep_generator must be True or False"):
        runs.drop_weights(tmp_path, keep_generator="yes")


def test_slimming_a_damaged_run_fails_instead_of_hiding_the_damage(tmp_path):
    fitting.fit_gan(tiny_images(), tmp_path, TINY, verbose=0)
    (tmp_path / runs.HISTORY).write_text("step,epoch\n1,1\n")
    with pytest.raises(ValueError, match="history.csv differs"):
        runs.drop_weights(tmp_path)
    assert (tmp_path / runs.GENERATOR_WEIGHTS).is_file()
