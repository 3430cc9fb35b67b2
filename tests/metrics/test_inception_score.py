"""Inception Score: known answers, the split/std conventions, and the classic wrong formula."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from gan_lab.metrics import inception_score


def one_hot_spread(num_classes: int, per_class: int) -> np.ndarray:
    """Confident predictions, ``per_class`` samples for each of ``num_classes`` classes, sorted by class."""
    return np.repeat(np.eye(num_classes), per_class, axis=0)


def random_probs(n: int, k: int, seed: int = 0) -> np.ndarray:
    logits = np.random.default_rng(seed).normal(scale=3.0, size=(n, k))
    e = np.exp(logits - logits.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


def reference_scores(probs: np.ndarray, splits: int, seed: int) -> list[float]:
    """Per-split scores written out plainly (loops, math.log), with the same split assignment."""
    order = np.random.default_rng(seed).permutation(len(probs))
    shuffled = probs[order]
    n = len(probs)
    scores = []
    for s in range(splits):
        part = shuffled[(s * n) // splits : ((s + 1) * n) // splits]
        marginal = [sum(row[y] for row in part) / len(part) for y in range(probs.shape[1])]
        kl_mean = 0.0
        for row in part:
            kl_mean += sum(p * math.log(p / q) for p, q in zip(row, marginal) if p > 0) / len(part)
        scores.append(math.exp(kl_mean))
    return scores


def test_confident_even_predictions_score_the_number_of_classes():
    for k in (2, 10, 37):
        mean, std = inception_score(one_hot_spread(k, 5), splits=1)
        assert mean == pytest.approx(k, rel=1e-12)
        assert std == 0.0


def test_identical_predictions_score_one():
    row = random_probs(1, 10)[0]
    mean, std = inception_score(np.tile(row, (100, 1)), splits=4)
    assert mean == pytest.approx(1.0, abs=1e-12)
    assert std == pytest.approx(0.0, abs=1e-12)


def test_entropy_form():
    # log IS = H(y) - E_x H(y|x) with one split (p(y) the mean of all predictions).
    p = random_probs(300, 7, seed=3)
    marginal = p.mean(axis=0)
    entropy_of_marginal = -(marginal * np.log(marginal)).sum()
    mean_conditional_entropy = -(p * np.log(p)).sum(axis=1).mean()
    mean, _ = inception_score(p, splits=1)
    assert math.log(mean) == pytest.approx(entropy_of_marginal - mean_conditional_entropy, rel=1e-12)


def test_mean_and_ddof0_std_match_a_plain_reimplementation():
    p = random_probs(103, 6, seed=1)  # 103 is not a multiple of 10: uneven splits
    scores = reference_scores(p, splits=10, seed=5)
    mean, std = inception_score(p, splits=10, seed=5)
    assert mean == pytest.approx(np.mean(scores), rel=1e-12)
    assert std == pytest.approx(np.std(scores, ddof=0), rel=1e-10)  # Salimans et al.'s np.std
    assert std != pytest.approx(np.std(scores, ddof=1), rel=1e-3)


def test_deterministic_for_a_seed_and_the_seed_matters():
    p = torch.from_numpy(random_probs(500, 10, seed=2)).float()  # tensors and float32 are accepted
    assert inception_score(p, splits=10, seed=0) == inception_score(p, splits=10, seed=0)
    assert inception_score(p, splits=10, seed=0) != inception_score(p, splits=10, seed=1)
    # One split uses every sample: the order cannot matter.
    assert inception_score(p, splits=1, seed=0)[0] == pytest.approx(inception_score(p, splits=1, seed=9)[0], rel=1e-12)


def test_splits_are_shuffled_so_class_sorted_input_is_fine():
    # Contiguous splits of class-sorted predictions would each hold one class and score 1.
    mean, _ = inception_score(one_hot_spread(10, 100), splits=10)
    assert mean > 8.0


def test_wrong_formula_with_per_sample_marginal_always_gives_one():
    """Replacing p(y) by p(y|x_i) makes every KL term KL(p || p) = 0, hence IS = exp(0) = 1 for any input."""
    p = one_hot_spread(10, 10)

    def wrong_inception_score(probs: np.ndarray) -> float:
        kls = []
        for row in probs:
            marginal = row  # the mistake: p(y) indexed by the sample, i.e. p(y) := p(y|x_i)
            kls.append(sum(p * math.log(p / q) for p, q in zip(row, marginal, strict=True) if p > 0))
        return math.exp(np.mean(kls))

    assert wrong_inception_score(p) == 1.0
    assert wrong_inception_score(random_probs(50, 10)) == 1.0
    assert inception_score(p, splits=1)[0] == pytest.approx(10.0)  # the right formula: 10 classes


def test_zero_probabilities_are_handled():
    p = np.array([[1.0, 0.0, 0.0], [0.0, 1.0, 0.0], [0.5, 0.5, 0.0]])
    mean, _ = inception_score(p, splits=1)
    assert math.isfinite(mean) and mean > 1.0


@pytest.mark.parametrize(
    "probs, splits, message",
    [
        (np.full(10, 0.1), 1, "2-D"),
        (np.random.default_rng(0).normal(size=(20, 5)), 1, "non-negative"),
        (np.full((20, 5), 0.5), 1, "sum to 1"),
        (np.full((5, 4), 0.25), 6, "splits"),
        (np.full((5, 4), 0.25), 0, "splits"),
    ],
)
def test_invalid_inputs_raise_clear_errors(probs, splits, message):
    with pytest.raises(ValueError, match=message):
        inception_score(probs, splits=splits)
