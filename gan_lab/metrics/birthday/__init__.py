"""Support size by the birthday paradox (Arora, Risteski & Zhang, "Do GANs learn the distribution?", ICLR 2018).

If a distribution were uniform on N items, a batch of s samples would
contain a duplicate ("collision") with probability::

    P ≈ 1 - exp(-m / N),   m = s (s - 1) / 2 pairs,   so   N ≈ m / ln(1 / (1 - P))

At P = 50 % this gives N = m / ln 2 ≈ 0.72 s^2 (s = 400 -> N ≈ 115k;
s = 1,000 -> N ≈ 721k): that is what :func:`support_from_collision_rate`
computes.  Arora et al. draw batches from a GAN, look at the closest pairs
and judge duplicates by eye, and quote the rougher rule "collisions in at
least half the batches of s suggest a support of about s^2": DCGAN on
CelebA collides at s ≈ 400, so N ≈ 400^2 = 0.16 M (the formula at exactly
50 % would say 115k).  For non-uniform distributions the estimate is a
rough indication of the "effective" support of the dominant modes, not an
exact count.

What we automate, and how (the paper has a person judge the pairs):

* Distances are Euclidean between flattened samples (pixels, or evaluator
  features if the caller passes those), always in float64.  The fast
  Gram-matrix formula ||a||^2 + ||b||^2 - 2 a.b is not exactly 0 for
  identical vectors, so it only *screens* pairs: the few pairs that could be
  the closest ones (within a rigorous rounding bound) are recomputed exactly
  as ||a - b||.  Exact duplicates therefore have distance exactly 0.
* A collision is a pair at distance <= ``threshold``.  Without a threshold
  it is calibrated (:func:`calibrate_birthday`) on T real batches of the same
  size: with m_(1) <= ... <= m_(T) their sorted per-batch minimum distances
  and a = floor(0.05 T), the threshold is the largest float below m_(a+1),
  so at most a (5 %) of these batches collide.
* Real data has near-duplicates too, so at that threshold real batches
  collide at a rate P0 > 0; counting those as the generator's collisions
  biases N low (a generator that draws uniformly from K real digits was
  estimated at about 0.85 K).  The correction: a fake batch has no collision
  iff (a) its s draws are s distinct items, probability
  Q_N(s) = prod_{i=1}^{s-1} (1 - i/N), and (b) these s distinct items hold no
  near-duplicate pair, which is what a batch of s distinct real samples
  does, probability 1 - P0.  Hence::

      1 - P = Q_N(s) (1 - P0),   N solves  sum_{i=1}^{s-1} ln(1 - i/N) = ln(1 - P) - ln(1 - P0)

  and with ln Q_N(s) ≈ -m/N, N ≈ m / (ln(1/(1 - P)) - ln(1/(1 - P0))); P0 = 0
  gives the paper's formula back.  We solve the exact product (root in
  [m/L, m/L + s - 1], L the right-hand side): the approximation is biased
  low by a relative (2s - 1)/(6N), 3 % at s = 20, N = 200.  (b) assumes the
  generator's distinct items are as near-duplicated as real data; it holds
  exactly for a generator drawing from a subset of the real pool.
* P0 is measured on *fresh* real batches (by default 10 T of them), not on
  the calibration batches: those collide at most 5 % of the time by
  construction, which underestimates P0.  Real batches are cheap, so P0's
  uncertainty is small next to P's.  When P <= P0 the generator collides no
  more than real data does, its support is indistinguishable from the
  data's and ``support_size`` is ``inf``.  With a given ``threshold`` and no
  real data there is nothing to correct with: P0 = 0 (the old estimate).
* The 95 % interval: P and P0 come from independent binomial counts and N
  decreases in P and increases in P0, so 97.5 % Clopper-Pearson intervals
  for each (a Bonferroni split) give a rectangle that holds (P, P0) with
  probability >= 95 %, and its corners map to bounds on N: low from
  (P_high, P0_low), high from (P_low, P0_high) (inf if P_low <= P0_high).
  Clopper-Pearson and Bonferroni are both conservative.  Without real data,
  a 95 % Clopper-Pearson interval for P alone.
* The closest pairs across all trials are returned with their samples so a
  person can still judge them, as in the paper.

Randomness: samplers never touch global generators.  A callable sampler is
called as ``sample(n, generator)`` with its own CPU ``torch.Generator``
seeded from ``seed``; it must draw every random number from it (e.g.
``torch.randn(n, z_dim, generator=generator).to(device)``, or
``np.random.default_rng(int(torch.randint(2**62, (), generator=generator)))``
for numpy code).  A callback calibrates once per training run with
:func:`calibrate_birthday` and passes the result as ``calibration=`` at every
evaluation.

The package, one job a module: ``support.py`` (support sizes from collision rates, and their intervals),
``batches.py`` (drawing batches and finding their exact closest pairs), ``calibration.py`` (the threshold and
real data's own collision rate, once per run) and ``estimate.py`` (the test on a generator).
"""

from gan_lab.metrics.birthday.batches import ClosestPair, closest_pairs_in_batch
from gan_lab.metrics.birthday.calibration import BirthdayCalibration, calibrate_birthday
from gan_lab.metrics.birthday.estimate import BirthdayResult, birthday_paradox
from gan_lab.metrics.birthday.support import (
    calibrated_threshold,
    clopper_pearson,
    support_from_collision_rate,
    support_size_estimate,
)

__all__ = ["BirthdayCalibration", "BirthdayResult", "ClosestPair", "birthday_paradox", "calibrate_birthday",
           "calibrated_threshold", "clopper_pearson", "closest_pairs_in_batch", "support_from_collision_rate",
           "support_size_estimate"]
