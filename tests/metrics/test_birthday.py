"""Birthday-paradox support estimate: known supports, calibration, exact duplicates, closest pairs."""

from __future__ import annotations

import math
from itertools import pairwise

import numpy as np
import pytest
import torch

from gan_lab.metrics import birthday_paradox, calibrate_birthday, support_from_collision_rate, support_size_estimate
from gan_lab.metrics.birthday import calibrated_threshold, clopper_pearson


def atoms_sampler(num_atoms: int, dim: int = 16, seed: int = 0):
    """Uniform draws, with replacement, from ``num_atoms`` fixed random vectors: support exactly ``num_atoms``."""
    atoms = torch.randn(num_atoms, dim, generator=torch.Generator().manual_seed(seed))
    return lambda n, generator: atoms[torch.randint(num_atoms, (n,), generator=generator)]  # the metric's generator


def test_collision_rate_to_support_matches_the_reference_numbers():
    # REFERENCES.md: P = 0.5 at s = 400 -> N ~ 115k; at s = 1,000 -> N ~ 721k.
    assert support_from_collision_rate(0.5, 400) == pytest.approx(400 * 399 / (2 * math.log(2)))
    assert round(support_from_collision_rate(0.5, 400), -3) == 115_000
    assert round(support_from_collision_rate(0.5, 1000), -3) == 721_000
    assert support_from_collision_rate(0.0, 50) == math.inf
    # Inverse of P = 1 - exp(-s (s - 1) / (2 N)).
    s, n = 30, 1234.0
    assert support_from_collision_rate(1 - math.exp(-s * (s - 1) / (2 * n)), s) == pytest.approx(n)


@pytest.mark.parametrize("num_atoms, batch_size", [(200, 17), (2000, 53)])  # 0.72 s^2 ~ K: P ~ 50 %
def test_support_of_a_finite_uniform_distribution_is_recovered(num_atoms, batch_size):
    result = birthday_paradox(atoms_sampler(num_atoms), batch_size, num_trials=300, threshold=0.0, seed=1)
    assert 0.3 < result.collision_rate < 0.7
    assert num_atoms / 2 <= result.support_size <= 2 * num_atoms
    low, high = result.support_size_interval
    assert low <= result.support_size <= high
    assert low <= num_atoms <= high  # holds with 95 % probability; fixed seed makes it reproducible


def test_calibrated_threshold_separates_atoms_too():
    # Calibrating on a continuous reference also finds the exact repeats of a 200-atom sampler.
    reference = torch.randn(300 * 17, 16, generator=torch.Generator().manual_seed(5))
    result = birthday_paradox(atoms_sampler(200), 17, num_trials=300, reference=reference, seed=2)
    assert result.threshold > 0
    assert 100 <= result.support_size <= 400


def test_a_continuous_distribution_rarely_collides_at_the_calibrated_threshold():
    def gaussian(n, generator):
        return torch.randn(n, 16, generator=generator)

    # Expected rate ~ (floor(0.05 T) + 1) / (T + 1) = 5 %; with T = 400 its spread is ~1.5 %.
    reference = torch.randn(400 * 50, 16, generator=torch.Generator().manual_seed(1))  # independent real sample
    result = birthday_paradox(gaussian, 50, num_trials=400, reference=reference, seed=3)
    assert result.collision_rate <= 0.10


def test_calibration_rule_lets_at_most_five_percent_of_reference_batches_collide():
    reference = torch.randn(100 * 40, 8, generator=torch.Generator().manual_seed(2))
    result = birthday_paradox(reference, 40, num_trials=100, reference=reference)
    assert result.collision_rate <= 0.05
    minima = np.array([3.0, 1.0, 2.0, 5.0] + [10.0] * 36)  # 40 trials: floor(0.05 * 40) = 2 may collide
    threshold = calibrated_threshold(minima)
    assert threshold < 3.0 and threshold == np.nextafter(3.0, 0)
    assert (minima <= threshold).sum() == 2


def test_threshold_zero_detects_exact_duplicates_even_in_float32():
    # float32 through the Gram formula is not exactly 0 for identical vectors; the exact recomputation is.
    x = torch.randn(10 * 30, 64, generator=torch.Generator().manual_seed(3)) * 100
    x[2 * 30 + 7] = x[2 * 30 + 19]  # trial 2: positions 7 and 19
    x[5 * 30 + 0] = x[5 * 30 + 29]  # trial 5: positions 0 and 29
    result = birthday_paradox(x.float(), 30, num_trials=10, threshold=0.0, num_pairs=3)
    assert result.num_collisions == 2 and result.collision_rate == 0.2
    assert result.closest_pairs[0] == (0.0, 7, 19, 2)
    assert result.closest_pairs[1] == (0.0, 0, 29, 5)
    assert result.closest_pairs[2].distance > 0
    np.testing.assert_array_equal(result.pair_samples[0, 0], result.pair_samples[0, 1])
    np.testing.assert_array_equal(result.pair_samples[0, 0], x[2 * 30 + 7].double().numpy())


def test_closest_pairs_match_brute_force():
    s, trials = 60, 8
    x = torch.randn(s * trials, 2, 3, 3, generator=torch.Generator().manual_seed(4))  # image-shaped samples
    result = birthday_paradox(x, s, trials, threshold=0.5, num_pairs=10)
    everything = []
    for t in range(trials):
        batch = x[t * s : (t + 1) * s].flatten(1).double()
        d = torch.cdist(batch, batch, compute_mode="donot_use_mm_for_euclid_dist")
        i, j = torch.triu_indices(s, s, 1)
        everything += [(float(d[a, b]), int(a), int(b), t) for a, b in zip(i, j)]
        assert result.min_distances[t] == pytest.approx(float(d[i, j].min()), rel=1e-12)
    everything.sort()
    for found, expected in zip(result.closest_pairs, everything[:10], strict=True):
        assert found.distance == pytest.approx(expected[0], rel=1e-12)
        assert (found.i, found.j, found.trial) == expected[1:]
    assert result.pair_samples.shape == (10, 2, 2, 3, 3)
    first = result.closest_pairs[0]
    np.testing.assert_allclose(result.pair_samples[0, 1], x[first.trial * s + first.j].double().numpy())


def test_same_seed_same_result_and_global_rngs_never_touched():
    sampler = atoms_sampler(500)
    torch.manual_seed(7)
    np.random.seed(7)
    torch_state, numpy_state = torch.get_rng_state(), np.random.get_state()
    a = birthday_paradox(sampler, 20, 50, threshold=0.0, seed=11)
    # Neither re-seeded nor advanced: the sampler draws from the generator it is given.
    assert torch.equal(torch.get_rng_state(), torch_state)
    after = np.random.get_state()
    assert np.array_equal(after[1], numpy_state[1]) and after[2:] == numpy_state[2:]
    b = birthday_paradox(sampler, 20, 50, threshold=0.0, seed=11)
    assert a.collision_rate == b.collision_rate and a.closest_pairs == b.closest_pairs
    np.testing.assert_array_equal(a.min_distances, b.min_distances)
    c = birthday_paradox(sampler, 20, 50, threshold=0.0, seed=12)
    assert not np.array_equal(a.min_distances, c.min_distances)


def test_samplers_get_a_cpu_generator_and_the_old_protocol_fails_clearly():
    seen = []

    def sampler(n, generator):
        seen.append(generator)
        return torch.randn(n, 3, generator=generator)

    birthday_paradox(sampler, 10, 3, threshold=0.0, seed=5)
    assert len(seen) == 3 and all(g is seen[0] for g in seen)  # one stream, consecutive batches
    assert isinstance(seen[0], torch.Generator) and seen[0].device.type == "cpu"
    with pytest.raises(TypeError, match="generator"):
        birthday_paradox(lambda n: torch.randn(n, 3), 10, 3, threshold=0.0)


def test_support_size_estimate_inverts_the_exact_birthday_product():
    # 1 - P = Q_N(s) (1 - P0), Q_N(s) = prod_{i<s} (1 - i/N).
    for support, s, p0 in [(200, 20, 0.0), (200, 20, 0.05), (1617, 50, 0.08), (10**6, 400, 0.02)]:
        no_repeat = np.prod(1 - np.arange(1, s) / support)
        p = 1 - no_repeat * (1 - p0)
        assert support_size_estimate(p, s, p0) == pytest.approx(support, rel=1e-9)
    assert support_size_estimate(0.5, 2) == pytest.approx(2.0)  # s = 2: P = 1/N
    # The paper's approximation m / ln(1/(1-P)) is low by about (2s - 1) / (6N) relatively.
    p = 1 - np.prod(1 - np.arange(1, 20) / 200)
    assert support_from_collision_rate(p, 20) / 200 == pytest.approx(1 - 39 / 1200, abs=0.005)
    assert support_size_estimate(0.0, 20) == math.inf
    assert support_size_estimate(0.05, 20, 0.05) == math.inf  # no more collisions than real data
    assert support_size_estimate(0.04, 20, 0.05) == math.inf
    assert support_size_estimate(1.0, 20, 0.05) == 0.0
    estimates = [support_size_estimate((c + 0.5) / 50, 30, 0.05) for c in range(3, 50)]
    assert all(a > b for a, b in pairwise(estimates))


def test_calibration_once_equals_calibrating_inside_and_is_reused():
    reference = torch.randn(40 * 30, 8, generator=torch.Generator().manual_seed(8))
    fake = atoms_sampler(300, dim=8)
    calibration = calibrate_birthday(reference, 30, 40, seed=3)
    assert calibration.batch_size == 30 and calibration.num_trials == 40
    assert calibration.reference_num_trials == 400  # 10 fresh real batches per calibration batch
    assert calibration.reference_collision_rate == calibration.reference_num_collisions / 400
    inside = birthday_paradox(fake, 30, 40, reference=reference, seed=3)
    reused = birthday_paradox(fake, 30, 40, calibration=calibration, seed=3)
    assert inside.threshold == reused.threshold == calibration.threshold
    assert inside.support_size == reused.support_size
    assert inside.support_size_interval == reused.support_size_interval
    assert reused.reference_collision_rate == calibration.reference_collision_rate
    assert reused.reference_num_trials == 400
    with pytest.raises(ValueError, match="batches of 30, not 20"):
        birthday_paradox(fake, 20, 40, calibration=calibration)


def test_reference_rate_comes_from_fresh_batches_and_is_subtracted():
    # Real data with built-in near-duplicate pairs: at the calibrated threshold fresh real batches collide at
    # some P0 > 0, and a generator drawing from the same data collides at P0 + repeats.
    generator = torch.Generator().manual_seed(9)
    base = torch.randn(600, 6, generator=generator)
    pool = torch.cat([base, base[:60] + 1e-3 * torch.randn(60, 6, generator=generator)])  # 60 near-duplicate pairs

    def draw_real(n, generator):
        return pool[torch.randperm(len(pool), generator=generator)[:n]]

    calibration = calibrate_birthday(draw_real, 20, 100, seed=1, num_reference_trials=2000)
    assert calibration.reference_num_trials == 2000
    # Expected P0 ~ 1 - (1 - 60 / C(660, 2))^190 ~ 5 %; the calibration batches themselves are capped at 5 %.
    assert 0.02 < calibration.reference_collision_rate < 0.10
    assert (calibration.calibration_min_distances <= calibration.threshold).mean() <= 0.05

    def draw_fake(n, generator):  # support exactly 660 items, near-duplicated like the data
        return pool[torch.randint(len(pool), (n,), generator=generator)]

    result = birthday_paradox(draw_fake, 20, 400, calibration=calibration, seed=2)
    low, high = result.support_size_interval
    assert low <= 660 <= high
    uncorrected = birthday_paradox(draw_fake, 20, 400, threshold=calibration.threshold, seed=2)
    assert uncorrected.reference_collision_rate == 0 and uncorrected.reference_num_trials == 0
    assert uncorrected.support_size < result.support_size  # the real near-duplicates no longer count
    # The data itself collides as often as the reference: indistinguishable, support inf.
    itself = birthday_paradox(draw_real, 20, 100, calibration=calibration, seed=3)
    assert itself.collision_rate <= 0.12 and itself.support_size_interval[1] == math.inf


def test_no_collisions_and_all_collisions():
    none = birthday_paradox(torch.randn(20 * 10, 4), 10, 20, threshold=0.0)
    assert none.collision_rate == 0 and none.support_size == math.inf
    low, high = none.support_size_interval
    assert math.isfinite(low) and high == math.inf
    with pytest.warns(UserWarning, match="all 20 batches"):
        every = birthday_paradox(atoms_sampler(2), 10, 20, threshold=0.0)
    assert every.collision_rate == 1.0
    assert 0 < every.support_size < math.inf
    assert every.support_size_interval[0] <= every.support_size <= every.support_size_interval[1]


def test_interval_is_monotone_in_the_collision_rate():
    estimates = [support_from_collision_rate((c + 0.5) / 50, 100) for c in range(50)]
    assert all(a > b for a, b in pairwise(estimates))
    low, high = clopper_pearson(10, 50)
    assert 0 < low < 10 / 50 < high < 1


def test_duplicated_reference_warns_and_uses_threshold_zero():
    atoms = torch.randn(3, 4)
    reference = atoms[torch.arange(20 * 10) % 3]  # sampled with replacement: every batch has repeats
    with pytest.warns(UserWarning, match="exact duplicates"):
        result = birthday_paradox(torch.randn(20 * 10, 4), 10, 20, reference=reference)
    assert result.threshold == 0.0


def test_invalid_arguments_raise():
    x = torch.randn(100, 3)
    with pytest.raises(ValueError, match="exactly one of threshold"):
        birthday_paradox(x, 10, 10)
    with pytest.raises(ValueError, match="exactly one of threshold"):
        birthday_paradox(x, 10, 10, threshold=1.0, reference=x)
    with pytest.raises(ValueError, match="exactly one of threshold"):
        birthday_paradox(x, 10, 10, threshold=1.0, calibration=calibrate_birthday(x, 10, 10))
    with pytest.raises(ValueError, match="batch_size \\* num_trials = 200"):
        birthday_paradox(x, 10, 20, threshold=1.0)
    with pytest.raises(ValueError, match="batch_size >= 2"):
        birthday_paradox(x, 1, 10, threshold=1.0)
    with pytest.raises(ValueError, match="returned shape"):
        birthday_paradox(lambda n, generator: torch.randn(n + 1, 3, generator=generator), 10, 2, threshold=1.0)
