"""The shared pass equals each metric computed alone (precision/recall, density/coverage, KID), and runs once."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from helpers.runs import integer_grid_points
from helpers.metrics import brute_force_prdc

from gan_lab.evaluation import KID, DensityCoverage, PrecisionRecall
from gan_lab.evaluation.metric import RealData
from gan_lab.evaluation.scored import Scored
from gan_lab.metrics import density_coverage, kernel_inception_distance, precision_recall
from gan_lab.metrics.kid import KIDAgainstReal
from gan_lab.metrics.shared_pass import SharedFeaturePass


def alone_and_shared(real, fake, k_pr, k_dc, kid=(7, 30), chunk_size=None):
    """Every metric computed alone, and the same metrics from one shared pass."""
    estimator = KIDAgainstReal(real, len(fake), *kid, seed=5)
    alone = (precision_recall(real, fake, k=k_pr), density_coverage(real, fake, k=k_dc), estimator(fake))
    shared = SharedFeaturePass(real, chunk_size=chunk_size)
    keys = shared.add_precision_recall(k_pr), shared.add_density_coverage(k_dc), shared.add_kid(estimator)
    results = shared(fake)
    return alone, tuple(results[key] for key in keys)


def assert_same(alone, shared):
    (pr, dc, kid), (pr_s, dc_s, kid_s) = alone, shared
    assert pr_s == pytest.approx(pr, abs=1e-12) and dc_s == pytest.approx(dc, abs=1e-12)
    assert kid_s == pytest.approx(kid, rel=1e-12, abs=1e-15)  # KID's sums are added up in another order


@pytest.mark.parametrize("seed", range(3))
def test_equals_each_metric_alone_on_continuous_data(seed):
    rng = np.random.default_rng(seed)
    real, fake = rng.standard_normal((120, 6)), 1.2 * rng.standard_normal((90, 6)) + 0.3
    for k_pr, k_dc in ((1, 1), (3, 5), (7, 2)):
        assert_same(*alone_and_shared(real, fake, k_pr, k_dc))


@pytest.mark.parametrize("seed", range(3))
def test_equals_each_metric_alone_and_brute_force_with_duplicates_and_ties(seed):
    real, fake = integer_grid_points(seed)  # exact duplicates, radii of 0, tied distances
    for k_pr, k_dc in ((1, 1), (3, 5), (6, 6)):
        alone, shared = alone_and_shared(real, fake, k_pr, k_dc, kid=(4, 20))
        assert_same(alone, shared)
        assert shared[0] + shared[1] == pytest.approx(brute_force_prdc(real, fake, k_pr, k_dc), abs=1e-12)


def test_chunk_size_changes_kid_only_to_rounding():
    rng = np.random.default_rng(3)
    real, fake = rng.standard_normal((97, 4)), rng.standard_normal((83, 4)) + 0.5
    alone = alone_and_shared(real, fake, 3, 5)[0]
    for chunk_size in (1, 7, 64, 500):
        assert_same(alone, alone_and_shared(real, fake, 3, 5, chunk_size=chunk_size)[1])


def test_kid_above_the_whole_kernel_limit_takes_the_estimators_per_subset_real_sums(monkeypatch):
    from gan_lab.metrics import kid

    rng = np.random.default_rng(4)
    real, fake = rng.standard_normal((80, 5)), rng.standard_normal((70, 5)) + 0.2
    expected = kernel_inception_distance(real, fake, 6, 50, seed=2)
    monkeypatch.setattr(kid, "FULL_KERNEL_LIMIT", 0)  # the estimator's real sums come from (m, m) kernels
    shared = SharedFeaturePass(real)
    key = shared.add_kid(KIDAgainstReal(real, len(fake), 6, 50, seed=2))
    assert shared(fake)[key] == pytest.approx(expected, rel=1e-12)


def test_only_what_is_registered_is_computed():
    rng = np.random.default_rng(5)
    real, fake = rng.standard_normal((60, 3)), rng.standard_normal((50, 3))
    shared = SharedFeaturePass(real)
    assert shared(fake) == {}
    key = shared.add_density_coverage(2)
    assert shared(fake) == {key: density_coverage(real, fake, k=2)}


def test_bad_inputs_raise():
    rng = np.random.default_rng(6)
    real = rng.standard_normal((40, 3))
    shared = SharedFeaturePass(real)
    shared.add_precision_recall(3)
    with pytest.raises(ValueError, match="same dimension"):
        shared(rng.standard_normal((30, 4)))
    with pytest.raises(ValueError, match="k=3 needs more than k fake"):
        shared(rng.standard_normal((3, 3)))
    with pytest.raises(ValueError, match="other real features"):
        shared.add_kid(KIDAgainstReal(real + 1, 30, 2, 10))
    shared.add_kid(KIDAgainstReal(real, 30, 2, 10))
    with pytest.raises(ValueError, match="set up for 30 fake samples"):
        shared(rng.standard_normal((31, 3)))


def scored(features: torch.Tensor) -> Scored:
    return Scored(torch.zeros(len(features), 1), features, torch.zeros(len(features), 2))


def test_evaluation_metrics_share_one_pass_per_evaluation(monkeypatch):
    g = torch.Generator().manual_seed(0)
    train, held_out = torch.randn(300, 4, generator=g, dtype=torch.float64), torch.randn(50, 4, generator=g)
    real = RealData(evaluator=None, datamodule=None, train=scored(train), held_out=scored(held_out.double()), seed=3)
    metrics = [PrecisionRecall(k=3), DensityCoverage(k=5), KID(num_subsets=4, subset_size=100)]
    for metric in metrics:
        metric.prepare(real)
    calls = []
    original = SharedFeaturePass.__call__
    monkeypatch.setattr(SharedFeaturePass, "__call__", lambda self, f: calls.append(1) or original(self, f))
    for shift in (0.0, 0.5):  # two evaluations
        fake_features = torch.randn(300, 4, generator=g, dtype=torch.float64) + shift
        fake = scored(fake_features)
        values = {}
        for metric in metrics:
            values.update(metric.compute(fake, real))
        precision, recall = precision_recall(train, fake_features, k=3)
        density, coverage = density_coverage(train, fake_features, k=5)
        kid, kid_std = kernel_inception_distance(train, fake_features, 4, 100, seed=3)
        assert {tag: values[tag] for tag in values if tag.endswith("_all_samples") or "kid" in tag} == pytest.approx(
            {"metrics/precision_all_samples": precision, "metrics/recall_all_samples": recall,
             "metrics/density_all_samples": density, "metrics/coverage_all_samples": coverage,
             "metrics/kid": kid, "metrics/kid_std": kid_std}, rel=1e-12, abs=1e-15)
        # Beside the references (50 held-out samples): the mean over the six subsets of 50 generated samples.
        subsets = [(*precision_recall(train, part, k=3), *density_coverage(train, part, k=5))
                   for part in fake_features.split(50)]
        expected = [sum(column) / len(subsets) for column in zip(*subsets)]
        assert [values[f"metrics/{tag}"] for tag in ("precision", "recall", "density", "coverage")] == pytest.approx(
            expected, rel=1e-12, abs=1e-15)
    # Per evaluation: one pass over all samples for the three metrics, and one per subset for the k-NN ones.
    assert len(calls) == 2 * (1 + 6)
