"""Tests of lib.realism: the two-sample detector test and the Fréchet distance."""
import keras
import numpy as np
import pytest

from lib import realism

from stubs import tiny_images


def test_the_frechet_distance_of_a_set_to_itself_is_zero_and_grows_with_a_shift():
    features = np.random.default_rng(0).normal(size=(500, 4))
    assert realism.frechet_distance(features, features) == pytest.approx(0.0, abs=1e-9)
    shifted = features + np.array([3.0, 0, 0, 0])
    assert realism.frechet_distance(features, shifted) == pytest.approx(9.0, rel=1e-6)


def test_the_frechet_distance_matches_the_closed_form_for_diagonal_covariances():
    rng = np.random.default_rng(1)
    a, b = rng.normal(size=(20000, 2)) * [1.0, 2.0], rng.normal(size=(20000, 2)) * [3.0, 2.0]
    # sum over dimensions of (s_a - s_b)^2 for diagonal Gaussians with equal means: (1 - 3)^2 + 0
    assert realism.frechet_distance(a, b) == pytest.approx(4.0, abs=0.15)


@pytest.mark.parametrize("a, b", [(np.zeros((5, 3)), np.zeros((5, 4))), (np.zeros((1, 3)), np.zeros((5, 3))),
                                  (np.zeros(5), np.zeros(5))])
def test_the_frechet_distance_refuses_mismatched_features(a, b):
    with pytest.raises(ValueError, match="features must be two"):
        realism.frechet_distance(a, b)


def test_halves_are_disjoint_and_depend_on_the_seed():
    first, second = realism.halves(101, seed=0)
    assert len(first) == len(second) == 50 and not set(first) & set(second)
    assert list(realism.halves(101, seed=1)[0]) != list(first)


def test_the_detector_spots_an_obvious_difference_and_not_a_non_difference():
    digits = tiny_images(400)
    blank = -np.ones_like(digits)
    assert realism.detector_accuracy(blank, digits, seed=0, epochs=3) > 0.95
    same = realism.two_sample_test(digits, digits, seeds=(0, 1), epochs=2)
    assert 0.3 < same["mean"] < 0.7 and set(same["by_seed"]) == {0, 1}


def flattened_centres(count, seed):
    """Uniform noise "digits" whose 6x6 centre is one flat grey: a subtle, learnable difference."""
    images = tiny_images(count, seed).copy()
    images[:, 11:17, 11:17] = images[:, 11:17, 11:17].mean(axis=(1, 2), keepdims=True)
    return images


def detector_accuracy_before_convergence_existed(inpainted, real, seed=0, epochs=realism.DETECTOR_EPOCHS):
    """The detector's recipe as it scored every committed MNIST number, frozen here."""
    count = min(len(inpainted), len(real))
    train = int(round(count * (1 - realism.HELD_OUT)))
    keras.utils.set_random_seed(seed)
    images = np.concatenate([inpainted[:train], real[:train]])
    labels = np.concatenate([np.ones(train), np.zeros(train)]).astype(np.float32)
    detector = realism.build_detector(inpainted.shape[1])
    detector.compile(optimizer=keras.optimizers.Adam(1e-3), loss="binary_crossentropy")
    detector.fit(images, labels, batch_size=realism.DETECTOR_BATCH, epochs=epochs, shuffle=True, verbose=0)
    tests = np.concatenate([inpainted[train:count], real[train:count]])
    truth = np.concatenate([np.ones(count - train), np.zeros(count - train)])
    return float(((realism.in_batches(detector, tests)[:, 0] > 0.5) == truth).mean())


def test_a_fixed_budget_detector_trains_exactly_as_the_committed_numbers_were_scored():
    real, fake = tiny_images(400, seed=1), flattened_centres(400, seed=2)
    for seed in (0, 1):
        assert realism.detector_accuracy(fake, real, seed, epochs=2) == \
            detector_accuracy_before_convergence_existed(fake, real, seed, epochs=2)


def test_a_converged_detector_sees_what_a_short_one_misses_and_stops_where_there_is_nothing():
    real, fake = tiny_images(1200, seed=1), flattened_centres(1200, seed=2)
    short = realism.detector_fit(fake, real, seed=0, epochs=1)
    converged = realism.detector_fit(fake, real, seed=0, epochs=realism.CONVERGED)
    assert short["epochs"] == 1 and short["accuracy"] < 0.85
    assert converged["accuracy"] > 0.95 and 1 < converged["epochs"] < realism.CONVERGED_MAX_EPOCHS
    nothing = realism.detector_fit(tiny_images(1200, seed=3), real, seed=0, epochs=realism.CONVERGED)
    # Nothing to learn: it stops within a few patiences, at chance.
    assert nothing["epochs"] <= 4 * realism.CONVERGED_PATIENCE and 0.4 < nothing["accuracy"] < 0.6


def test_a_detector_refuses_a_budget_that_is_neither_epochs_nor_converged():
    for bad in (0, -1, 2.5, "long"):
        with pytest.raises(ValueError, match="epochs"):
            realism.detector_fit(tiny_images(20), tiny_images(20), epochs=bad)
        with pytest.raises(ValueError, match="epochs"):
            realism.RealismJudge(tiny_classifier(), tiny_images(10), seeds=(0,), epochs=bad)


def test_a_converged_judge_reports_the_epochs_each_detector_trained():
    keras.utils.set_random_seed(0)
    judge = realism.RealismJudge(tiny_classifier(), tiny_images(100, seed=1), seeds=(0, 1), epochs=realism.CONVERGED)
    scores = judge.score(flattened_centres(400, seed=2), tiny_images(400, seed=3))
    assert set(scores["detector_epochs"]) == {0, 1} and all(epochs >= 1 for epochs in scores["detector_epochs"].values())
    test = realism.two_sample_test(tiny_images(40), tiny_images(40, seed=1), seeds=(0,), epochs=2)
    assert test["epochs_by_seed"] == {0: 2}


def test_the_two_sample_test_refuses_sets_of_other_digits():
    with pytest.raises(ValueError, match="the same digits"):
        realism.two_sample_test(tiny_images(20), tiny_images(30))
    with pytest.raises(ValueError, match="at least 8"):
        realism.detector_accuracy(tiny_images(4), tiny_images(4))


def test_penultimate_features_are_the_last_hidden_layer():
    inputs = keras.Input((28, 28, 1))
    hidden = keras.layers.Dense(7, name="hidden")(keras.layers.Flatten()(inputs))
    model = keras.Model(inputs, keras.layers.Dense(10, activation="softmax")(hidden))
    assert realism.penultimate_features(model, tiny_images(3)).shape == (3, 7)


def tiny_classifier():
    inputs = keras.Input((28, 28, 1))
    hidden = keras.layers.Dense(5, activation="relu", name="hidden")(keras.layers.Flatten()(inputs))
    return keras.Model(inputs, keras.layers.Dense(10, activation="softmax")(hidden))


def test_a_judge_scores_both_measures_and_real_digits_sit_at_the_floor():
    keras.utils.set_random_seed(0)
    judge = realism.RealismJudge(tiny_classifier(), tiny_images(400, seed=1), seeds=(0, 1))
    real, blank = tiny_images(400, seed=2), -np.ones((400, 28, 28, 1), np.float32)
    near, far = judge.score(tiny_images(400, seed=3), real), judge.score(blank, real)
    assert set(far) == {"detector", "detector_sd", "detector_by_seed", "frechet"} and set(far["detector_by_seed"]) == {0, 1}
    assert far["detector"] > 0.9 and far["frechet"] > 10 * near["frechet"]


def test_add_realism_scores_every_method_of_an_evaluation():
    keras.utils.set_random_seed(0)
    judge = realism.RealismJudge(tiny_classifier(), tiny_images(100, seed=1), seeds=(0,))
    real = tiny_images(16, seed=2)
    results = realism.add_realism({"clean": {"inpainted": real}, "blank": {"inpainted": -np.ones_like(real)}}, real, judge)
    assert all("detector" in result and "frechet" in result for result in results.values())
    with pytest.raises(ValueError, match="at least one detector seed"):
        realism.RealismJudge(tiny_classifier(), tiny_images(10), seeds=())
    with pytest.raises(ValueError, match="at least one detector seed"):
        realism.RealismJudge(tiny_classifier(), tiny_images(10), seeds=3)
    with pytest.raises(ValueError, match="no inpainted digits"):
        realism.add_realism({"telea": {"accuracy": 0.9}}, real, judge)


def test_quick_mode_uses_one_detector_seed_and_fewer_digits(monkeypatch):
    monkeypatch.setenv("GAN_BOOK_MODE", "quick")
    assert realism.detector_seeds() == (0,) and realism.detector_digits() == realism.QUICK_DETECTOR_DIGITS
    monkeypatch.setenv("GAN_BOOK_MODE", "full")
    assert realism.detector_seeds() == realism.DETECTOR_SEEDS and realism.detector_digits() is None


def test_the_realism_table_by_hole_reads_what_add_realism_wrote():
    results = {"telea": {"accuracy_mean": 0.9, "detector": 0.91, "detector_sd": 0.01, "frechet": 2.345}}
    assert realism.realism_by_hole({"14x14 centre": results}) == {"14x14 centre": {"telea": 91.0}}
    assert realism.realism_by_hole({"14x14 centre": results}, "frechet") == {"14x14 centre": {"telea": 2.35}}
    with pytest.raises(ValueError, match="measure must be"):
        realism.realism_by_hole({"14x14 centre": results}, "psnr")
