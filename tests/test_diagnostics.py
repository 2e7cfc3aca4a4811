"""Tests of lib.diagnostics: the generator's learning signal, measured without touching training."""
import keras
import numpy as np
import pytest
import tensorflow as tf

from lib import diagnostics as diagnosis, fitting, gan as gans
from lib.config import PAPER

from stubs import all_weights, holes, tiny_images

TINY = PAPER.variant("tiny", batch_size=32, epochs=2)


@pytest.fixture(scope="module", autouse=True)
def deterministic_ops():
    tf.config.experimental.enable_op_determinism()


def test_generator_diagnostics_measure_without_touching_the_training(tmp_path):
    images = tiny_images()
    plain = fitting.fit_gan(images, tmp_path / "plain", TINY, seed=0, verbose=0)
    diagnostics = diagnosis.GeneratorDiagnostics(images[:16], images[:16], holes(16), every_steps=2, until_step=6)
    watched = fitting.fit_gan(images, tmp_path / "watched", TINY, seed=0, recorders=[diagnostics], verbose=0)
    for a, b in zip(all_weights(plain), all_weights(watched)):
        np.testing.assert_allclose(a, b, atol=1e-6)  # batch-norm statistics and seeds untouched
    rows = watched.diagnostics
    assert [row["step"] for row in rows] == [2, 4, 6]
    blocks = {key for key in rows[0] if key.startswith("grad_norm_")}
    assert blocks == {f"grad_norm_{b}" for b in ("encoder1", "encoder2", "encoder3", "decoder1", "decoder2", "decoder3")}
    for row in rows:
        assert row["grad_norm"] == pytest.approx(np.sqrt(sum(row[key] ** 2 for key in blocks)), rel=1e-4)
        assert row["d_real_p10"] <= row["d_real_p50"] <= row["d_real_p90"]


def test_diagnostics_see_a_saturated_generator():
    keras.utils.set_random_seed(0)
    gan = gans.build_gan(TINY)
    last = gan.generator.get_layer("decoder3_conv")
    kernel, bias = last.get_weights()
    last.set_weights([np.zeros_like(kernel), np.full_like(bias, -5.0)])  # tanh(-5): every pixel black, slope 2e-4
    diagnostics = diagnosis.GeneratorDiagnostics(tiny_images(8), tiny_images(8), holes(8))
    diagnostics.set_model(gan)
    values = {key: float(value) for key, value in diagnostics.compute(
        tf.constant(diagnostics.corrupted), tf.constant(diagnostics.originals), tf.constant(diagnostics.masks)).items()}
    assert values["saturated_train"] == 1.0 and values["saturated_inference"] == 1.0
    assert values["tanh_slope_train"] == pytest.approx(1 - np.tanh(5.0) ** 2, rel=1e-3)
    assert values["grad_norm_decoder3"] < 1e-2  # through a slope of 2e-4 almost nothing reaches the weights


def test_diagnostics_reject_a_bad_schedule():
    with pytest.raises(ValueError, match="every_steps must be an integer >= 1"):
        diagnosis.GeneratorDiagnostics(tiny_images(4), tiny_images(4), holes(4), every_steps=0)


def test_training_film_records_frames_and_raw_scores_and_survives_a_resume(tmp_path):
    images = tiny_images()
    count = len(images) // TINY.batch_size  # iterations per epoch

    def film():
        return diagnosis.TrainingFilm(images[:3], holes(3), images[:5], holes(5), every_steps=2, until_step=count + 2)

    whole = fitting.fit_gan(images, tmp_path / "whole", TINY, seed=0, recorders=[film()], verbose=0)
    assert fitting.fit_gan(images, tmp_path / "halves", TINY, seed=0, recorders=[film()], verbose=0,
                           stop_after_epochs=1) is None
    resumed = fitting.fit_gan(images, tmp_path / "halves", TINY, seed=0, recorders=[film()], verbose=0)
    recorded = whole.film()
    steps = list(range(2, count + 3, 2))
    assert recorded["step"].tolist() == steps  # nothing after until_step
    assert recorded["frames"].shape == (len(steps), 3, 28, 28) and recorded["frames"].dtype == np.uint8
    assert recorded["d_real"].shape == recorded["d_fake"].shape == (len(steps), 5)
    assert ((recorded["d_real"] > 0) & (recorded["d_real"] < 1)).all()
    for name, values in resumed.film().items():
        np.testing.assert_array_equal(values, recorded[name], err_msg=name)


def test_training_film_rejects_masks_of_another_shape():
    with pytest.raises(ValueError, match="mask"):
        diagnosis.TrainingFilm(tiny_images(3), holes(4), tiny_images(5), holes(5))


def test_the_diagnostics_score_each_image_with_a_mask_aware_adversary():
    import keras
    import numpy as np
    from lib import diagnostics, gan as gans
    from lib.config import PAPER

    keras.utils.set_random_seed(0)
    gan = gans.build_gan(PAPER.variant("patch", adversary="patch", batch_size=8))
    masks = np.zeros((3, 28, 28, 1), np.float32)
    masks[:, 10:18, 10:18] = 1
    scores = diagnostics.per_image_scores(gan, np.zeros((3, 28, 28, 1), np.float32), masks)
    assert scores.shape == (3,)  # the 49 patch scores of each image averaged
