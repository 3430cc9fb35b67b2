"""Each ``reference/X`` compares with ``metrics/X``: an oracle generator of unseen real digits scores like real data.

The oracle "generator" draws real digits that the evaluation's training sample does not contain.  Every metric
that has a reference must give it a value within the reference's own spread: the spread of the reference's
statistic over other held-out draws of the same size.  Before references and values were made from the same
numbers of samples, the oracle's full-sample FID sat far below the reference (it "beat real data"); the test
checks that this old value would fail, so that the check itself can fail.
"""

from __future__ import annotations

import statistics
from types import SimpleNamespace

import pytest
import torch
from torch.utils.data import TensorDataset

from gan_lab.data.digits import DigitsDataModule
from gan_lab.evaluation import RealData
from gan_lab.evaluation.memorisation import NearCopies
from gan_lab.evaluation.scored import score
from gan_lab.evaluation import FID, KID, DensityCoverage, InceptionScore, ModeCoverage, PrecisionRecall
from gan_lab.evaluation.evaluators.registry import evaluator_for

NUM_SAMPLES, HELD_OUT = 700, 180  # the evaluation's samples; the held-out split (the digits' own size)
SPREAD_DRAWS = 12  # held-out draws that measure the reference's spread


@pytest.fixture(scope="module")
def oracle():
    """The evaluator, real data as an evaluation sees it, the oracle's samples, and an unseen pool."""
    datamodule = DigitsDataModule()
    datamodule.setup()
    evaluator = evaluator_for(datamodule)
    images, labels = datamodule.train_set.tensors  # all seen by the shipped classifier, so all alike to it
    order = torch.randperm(len(images), generator=torch.Generator().manual_seed(0))
    train = order[:NUM_SAMPLES]
    generated = order[NUM_SAMPLES : 2 * NUM_SAMPLES]
    unseen = order[NUM_SAMPLES:]  # what the reference's other draws come from
    scored = score(evaluator, images, labels)

    def subset(index):
        return SimpleNamespace(samples=images[index], features=scored.features[index], probs=scored.probs[index],
                               labels=labels[index], cache={}, condition_kind=None, requested=None)

    def real_data(held_out):
        data = SimpleNamespace(train_set=TensorDataset(images[train], labels[train]),
                               val_set=TensorDataset(images[held_out], labels[held_out]), centers=None)
        return RealData(evaluator, data, subset(train), subset(held_out), seed=0)

    draws = [unseen[torch.randperm(len(unseen), generator=torch.Generator().manual_seed(seed))[:HELD_OUT]]
             for seed in range(SPREAD_DRAWS + 1)]
    return SimpleNamespace(real_data=real_data, draws=draws, unseen=unseen, generated=subset(generated))


def metrics():
    return [InceptionScore(), FID(), KID(num_subsets=50, subset_size=500), ModeCoverage(), PrecisionRecall(), DensityCoverage(),
            NearCopies()]


@pytest.fixture(scope="module")
def scores(oracle):
    """The evaluation of the oracle, and the reference's values over other held-out draws."""
    references, values = {}, {}
    real, evaluation = oracle.real_data(oracle.draws[0]), metrics()
    for metric in evaluation:  # all prepared, then all computed, as the evaluation callback does
        references.update(metric.prepare(real))
    for metric in evaluation:
        values.update(metric.compute(oracle.generated, real))
    spreads: dict[str, list[float]] = {}
    for draw in oracle.draws[1:]:
        other = oracle.real_data(draw)
        for metric in metrics():
            for tag, value in metric.prepare(other).items():
                if tag.startswith("reference/"):
                    spreads.setdefault(tag, []).append(value)
    return references, values, spreads


# The references made from the held-out split: their spread is that of other held-out draws.
HELD_OUT_TAGS = ["fid", "kid", "precision", "recall", "density", "coverage", "near_copy_fraction_pixels",
                 "near_copy_fraction_features"]


@pytest.mark.parametrize("tag", HELD_OUT_TAGS)
def test_an_oracle_scores_within_the_references_spread(scores, tag):
    references, values, spreads = scores
    reference, value = references[f"reference/{tag}"], values[f"metrics/{tag}"]
    spread = statistics.stdev(spreads[f"reference/{tag}"] + [reference])
    assert abs(value - reference) <= 3 * spread + 1e-12, (tag, value, reference, spread)


def test_full_sample_values_would_not_compare(scores):
    """The check above can fail: from all 700 samples, the oracle's coverage is far above the reference from 180.

    The FID from all samples is lower than at the held-out size (its bias falls with the sample count); at
    180 samples of 128-d features one FID varies by several units, which ``metrics/fid_std`` shows.
    """
    references, values, spreads = scores
    spread = statistics.stdev(spreads["reference/coverage"] + [references["reference/coverage"]])
    assert values["metrics/coverage_all_samples"] - references["reference/coverage"] > 3 * spread
    assert values["metrics/fid_all_samples"] < values["metrics/fid"]
    fid_spread = statistics.stdev(spreads["reference/fid"] + [references["reference/fid"]])
    assert 0.5 * fid_spread < values["metrics/fid_std"] < 2 * fid_spread


def test_references_from_the_training_sample_compare_at_the_same_size(scores):
    """IS and mode counts compare the training sample with as many generated samples: no subsets needed."""
    references, values, _ = scores
    spread = (references["reference/inception_score_std"] ** 2 + values["metrics/inception_score_std"] ** 2) ** 0.5
    assert abs(values["metrics/inception_score"] - references["reference/inception_score"]) <= 3 * spread
    assert values["metrics/modes_covered"] == references["reference/modes_covered"] == 10
    assert "metrics/inception_score_all_samples" not in values and "metrics/kid_all_samples" not in values


def test_no_subsets_when_the_held_out_split_is_as_large(oracle):
    """With as many held-out samples as generated ones, each value is the plain one and nothing else is logged."""
    real = oracle.real_data(oracle.unseen[:NUM_SAMPLES])
    evaluation = (FID(), PrecisionRecall(), DensityCoverage())
    for metric in evaluation:
        metric.prepare(real)
    values = {tag: value for metric in evaluation for tag, value in metric.compute(oracle.generated, real).items()}
    assert not real.held_out_is_smaller
    assert set(values) == {"metrics/fid", "metrics/precision", "metrics/recall", "metrics/density", "metrics/coverage"}
