"""Tests of lib.diversity: measures of several fills of one hole."""
import numpy as np
import pytest

from lib import diversity


def test_the_pairwise_distance_is_zero_for_identical_draws_and_the_mean_over_pairs_otherwise():
    same = np.ones((4, 3, 5))
    assert np.allclose(diversity.mean_pairwise_distance(same), 0)
    features = np.zeros((3, 2, 1))
    features[:, 0, 0] = [0.0, 1.0, 3.0]  # pairs: 1, 3, 2 -> mean 2
    assert np.allclose(diversity.mean_pairwise_distance(features), [2.0, 0.0])
    with pytest.raises(ValueError, match="at least two draws"):
        diversity.mean_pairwise_distance(np.zeros((1, 3, 5)))
    with pytest.raises(ValueError, match="features must have shape"):
        diversity.mean_pairwise_distance(np.zeros((3, 5)))


def test_label_entropy_is_zero_when_the_draws_agree_and_log2_draws_when_all_differ():
    predictions = np.array([[1, 0, 3], [1, 1, 4], [1, 2, 3], [1, 3, 4]])
    assert np.allclose(diversity.label_entropy(predictions), [0.0, 2.0, 1.0])
    with pytest.raises(ValueError, match="class indices"):
        diversity.label_entropy(np.array([[10], [1]]))
    with pytest.raises(ValueError, match="class indices"):
        diversity.label_entropy(np.array([[0.5], [1.0]]))


def test_per_draw_and_best_of_k_accuracy_count_what_they_say():
    predictions = np.array([[0, 1, 2, 9], [0, 5, 2, 9], [7, 5, 7, 3]])
    labels = np.array([0, 5, 7, 3])
    assert diversity.per_draw_accuracy(predictions, labels) == pytest.approx(6 / 12)
    assert diversity.best_of_accuracy(predictions, labels) == 1.0
    assert diversity.best_of_accuracy(predictions, labels, k=1) == 0.25
    assert diversity.best_of_accuracy(predictions, labels, k=2) == 0.5
    assert np.allclose(diversity.miss_rate(predictions, labels), [1 / 3, 1 / 3, 2 / 3, 2 / 3])
    for bad in (0, 4, 1.5, True):
        with pytest.raises(ValueError, match="k must be"):
            diversity.best_of_accuracy(predictions, labels, k=bad)
    with pytest.raises(ValueError, match="one entry per image"):
        diversity.per_draw_accuracy(predictions, labels[:3])
    with pytest.raises(ValueError, match="labels must be class indices"):
        diversity.per_draw_accuracy(predictions, np.array([0, 5, 7, 12]))
    with pytest.raises(ValueError, match="labels must be class indices"):
        diversity.miss_rate(predictions, labels.astype(float))
    with pytest.raises(ValueError, match="classes must be"):
        diversity.per_draw_accuracy(predictions, labels, classes=0)


def test_spearman_ranks_with_ties_and_refuses_what_it_cannot_rank():
    assert diversity.spearman([1, 2, 3, 4], [10, 20, 30, 40]) == pytest.approx(1.0)
    assert diversity.spearman([1, 2, 3, 4], [4, 3, 2, 1]) == pytest.approx(-1.0)
    # With ties at their average rank: ranks (1.5, 1.5, 3, 4) against (1, 2, 3, 4).
    expected = np.corrcoef([1.5, 1.5, 3, 4], [1, 2, 3, 4])[0, 1]
    assert diversity.spearman([0, 0, 1, 2], [1, 2, 3, 4]) == pytest.approx(expected)
    with pytest.raises(ValueError, match="constant"):
        diversity.spearman([1, 1, 1], [1, 2, 3])
    with pytest.raises(ValueError, match="same length"):
        diversity.spearman([1, 2, 3], [1, 2])


def test_calibration_is_high_when_the_draws_disagree_where_they_miss():
    rng = np.random.default_rng(0)
    labels = rng.integers(0, 10, 200)
    draws = np.repeat(labels[None], 8, axis=0)
    ambiguous = np.arange(200) < 60  # these images' draws scatter over random classes: they disagree and miss
    draws[:, ambiguous] = rng.integers(0, 10, (8, ambiguous.sum()))
    assert diversity.calibration(draws, labels) > 0.8
    blind = np.repeat(rng.integers(0, 10, 200)[None], 8, axis=0)  # confident everywhere: no entropy to rank
    with pytest.raises(ValueError, match="constant"):
        diversity.calibration(blind, labels)
