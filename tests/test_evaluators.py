"""Evaluators: exact mixture posterior, the cached digits classifier, stacked digits, Inception wiring."""

from __future__ import annotations

import math
import time
import urllib.error

import pytest
import torch

from gan_lab.metrics.evaluators import (
    ClassifierEvaluator,
    InceptionEvaluator,
    InceptionWeightsUnavailable,
    MixtureEvaluator,
    StackedClassifierEvaluator,
    TrainingSettings,
    build_evaluator,
    holdout_split,
    load_sklearn_digits,
)
from gan_lab.metrics.evaluators.cache import Architecture, cache_fields, cache_path

RING = [[math.cos(2 * math.pi * k / 8), math.sin(2 * math.pi * k / 8)] for k in range(8)]
GRID = [[float(a), float(b)] for a in (-4, -2, 0, 2, 4) for b in (-4, -2, 0, 2, 4)]


# ---------------------------------------------------------------------------- mixture
@pytest.mark.parametrize("centers,std", [(RING, 0.01), (GRID, 0.05)])
def test_mixture_posterior_is_exact(centers, std):
    evaluator = MixtureEvaluator(centers, std)
    c = torch.tensor(centers)
    assert (evaluator.num_features, evaluator.num_classes, evaluator.accuracy) == (2, len(centers), None)
    probs = evaluator.probs(c)  # a point on a centre belongs to that component
    torch.testing.assert_close(probs, torch.eye(len(centers)))
    far = torch.randn(1000, 2, generator=torch.Generator().manual_seed(0)) * 10  # far away: exponents ~ -1e6
    far_probs = evaluator.probs(far)
    assert torch.isfinite(far_probs).all()
    torch.testing.assert_close(far_probs.sum(1), torch.ones(1000))
    torch.testing.assert_close(evaluator.features(far), far)


def test_mixture_posterior_halves_between_two_centres():
    grid = MixtureEvaluator(GRID, 0.05)
    probs = grid.probs(torch.tensor([[1.0, 0.0]]))[0]  # halfway between (0, 0) and (2, 0), exact in float32
    assert probs[GRID.index([0.0, 0.0])].item() == pytest.approx(0.5) and probs.max().item() == pytest.approx(0.5)
    ring = MixtureEvaluator(RING, 0.01)
    torch.testing.assert_close(ring.probs(torch.zeros(1, 2)), torch.full((1, 8), 1 / 8))  # the centre of the ring
    # Between ring neighbours the float32 rounding of the point is amplified by 1/(2 std^2) = 5,000: use float64.
    midpoint = (torch.tensor(RING[0], dtype=torch.float64) + torch.tensor(RING[1], dtype=torch.float64)) / 2
    probs = ring.probs(midpoint[None])[0]
    assert probs[0].item() == pytest.approx(0.5, abs=1e-9) and probs[1].item() == pytest.approx(0.5, abs=1e-9)
    # Against the closed form with a wide std, where all components matter.
    wide = MixtureEvaluator(RING, 1.0)
    x = torch.tensor([[0.3, -0.2]])
    logp = -((x - torch.tensor(RING)) ** 2).sum(1) / 2
    torch.testing.assert_close(wide.probs(x)[0], logp.exp() / logp.exp().sum())


def test_mixture_rejects_bad_input():
    evaluator = MixtureEvaluator(RING, 0.01)
    with pytest.raises(ValueError, match=r"\(N, 2\)"):
        evaluator.probs(torch.zeros(4, 3))
    f, p = evaluator.features_and_probs(torch.zeros(0, 2))
    assert f.shape == (0, 2) and p.shape == (0, 8)


# ---------------------------------------------------------------------------- classifier
@pytest.fixture(scope="module")
def cache_dir(tmp_path_factory):
    return tmp_path_factory.mktemp("classifier_cache")


@pytest.fixture(scope="module")
def digits():
    return load_sklearn_digits()


@pytest.fixture(scope="module")
def digits_evaluator(digits, cache_dir):
    """Trained once per test session (a few seconds)."""
    x, y = digits
    start = time.perf_counter()
    evaluator = ClassifierEvaluator.for_data(x, y, 10, "digits", cache_dir=cache_dir, seed=0, progress=False)
    evaluator.train_seconds = time.perf_counter() - start
    return evaluator


def test_digits_classifier_is_accurate(digits_evaluator, digits):
    e = digits_evaluator
    assert not e.from_cache and e.cache_path.exists()
    assert e.name == "classifier:digits" and (e.num_features, e.num_classes) == (128, 10)
    assert e.accuracy >= 0.97, f"held-out accuracy {e.accuracy:.4f}"
    # accuracy really is held-out accuracy: recompute it on the held-out split
    x, y = digits
    _, holdout = holdout_split(len(x), TrainingSettings().holdout_fraction, seed=0)
    features, probs = e.features_and_probs(x[holdout], batch_size=64)
    assert features.shape == (len(holdout), 128) and probs.shape == (len(holdout), 10)
    torch.testing.assert_close(probs.sum(1), torch.ones(len(holdout)))
    assert (probs.argmax(1) == y[holdout]).float().mean().item() == pytest.approx(e.accuracy)
    # robust to the 1-pixel shifts it was trained with
    shifted = torch.roll(x[holdout], shifts=1, dims=3)
    assert (e.probs(shifted).argmax(1) == y[holdout]).float().mean().item() > 0.9
    assert e.train_seconds < 60


def test_evaluator_stays_frozen(digits_evaluator, digits):
    e = digits_evaluator.train()
    assert not e.training and not e.net.training
    assert all(not p.requires_grad for p in e.parameters())
    x = digits[0][:10]
    torch.testing.assert_close(e(x), e.features(x))  # forward = features (torchmetrics feature= module)
    with pytest.raises(ValueError, match="shape"):
        e.features(torch.zeros(2, 1, 28, 28))


def test_cache_hit_does_not_retrain(digits_evaluator, digits, cache_dir, monkeypatch):
    from gan_lab.metrics.evaluators import cache

    monkeypatch.setattr(cache, "train_classifier", lambda *a, **k: pytest.fail("retrained despite a cache hit"))
    x, y = digits
    again = ClassifierEvaluator.for_data(x, y, 10, "digits", cache_dir=cache_dir, seed=0, progress=False)
    assert again.from_cache and again.cache_path == digits_evaluator.cache_path
    assert again.accuracy == digits_evaluator.accuracy
    torch.testing.assert_close(again.probs(x[:50]), digits_evaluator.probs(x[:50]))
    assert not list(cache_dir.glob("*.tmp")) and not list(cache_dir.glob(".*")), "temporary files left behind"


def test_cache_key_covers_what_changes_the_classifier(digits, tmp_path):
    x, y = digits

    def path(x=x, y=y, name="digits", arch=Architecture(), settings=TrainingSettings()):
        return cache_path(tmp_path, cache_fields(x, y, 10, name, arch, settings))

    base = path()
    assert path() == base
    assert path(settings=TrainingSettings(seed=1)) != base
    assert path(settings=TrainingSettings(epochs=3)) != base
    assert path(arch=Architecture(width=16)) != base
    assert path(name="other") != base
    changed = x.clone()
    changed[0, 0, 0, 0] += 0.5
    assert path(x=changed) != base


def test_corrupt_cache_file_is_retrained(digits, tmp_path):
    x, y = digits
    small = dict(cache_dir=tmp_path, seed=0, epochs=1, width=8, feature_dim=16, progress=False)
    first = ClassifierEvaluator.for_data(x[:300], y[:300], 10, "tiny", **small)
    first.cache_path.write_bytes(b"not a torch file")
    with pytest.warns(UserWarning, match="retraining"):
        second = ClassifierEvaluator.for_data(x[:300], y[:300], 10, "tiny", **small)
    assert not second.from_cache and second.accuracy == first.accuracy  # same seed: same classifier
    third = ClassifierEvaluator.for_data(x[:300], y[:300], 10, "tiny", **small)
    assert third.from_cache
    assert sorted(p.name for p in tmp_path.iterdir()) == [first.cache_path.name]  # atomic: no temp files


# ---------------------------------------------------------------------------- stacked digits
def test_stacked_class_index_convention(digits_evaluator):
    stacked = StackedClassifierEvaluator(digits_evaluator)
    assert stacked.name == "stacked_classifier:digits"
    assert (stacked.num_classes, stacked.num_features) == (1000, 3 * 128)
    assert stacked.accuracy == pytest.approx(digits_evaluator.accuracy**3)
    # Feed per-channel distributions through the same combination code: one-hot digits (c0, c1, c2).
    one_hot = torch.eye(10)
    c0, c1, c2 = 7, 0, 3
    per_channel = torch.stack([one_hot[c0], one_hot[c1], one_hot[c2]])  # (3, 10)

    class Fixed(torch.nn.Module):
        def forward(self, x):
            return x.new_zeros(len(x), 128), per_channel.repeat(len(x) // 3, 1).log()

    trained = stacked.per_channel.net
    stacked.per_channel.net = Fixed()
    try:
        probs = stacked.probs(torch.zeros(2, 3, 8, 8))
    finally:
        stacked.per_channel.net = trained
    assert probs.shape == (2, 1000) and probs[:, 100 * c0 + 10 * c1 + c2].tolist() == [1.0, 1.0]


def test_stacked_digits_are_classified_into_their_triples(digits_evaluator, digits):
    x, y = digits
    _, holdout = holdout_split(len(x), TrainingSettings().holdout_fraction, seed=0)  # digits the classifier never saw
    g = torch.Generator().manual_seed(1)
    picks = holdout[torch.randint(len(holdout), (600, 3), generator=g)]  # (600, 3)
    images = x[picks, 0]  # (600, 3, 8, 8)
    labels = y[picks[:, 0]] * 100 + y[picks[:, 1]] * 10 + y[picks[:, 2]]
    stacked = build_evaluator("stacked_classifier", x=x, y=y, num_classes=10, name="digits",
                              cache_dir=digits_evaluator.cache_path.parent, progress=False)
    features, probs = stacked.features_and_probs(images, batch_size=128)
    assert features.shape == (600, 384) and probs.shape == (600, 1000)
    torch.testing.assert_close(probs.sum(1), torch.ones(600))
    torch.testing.assert_close(features[:, 128:256], digits_evaluator.features(images[:, 1:2]), atol=1e-4, rtol=1e-4)
    accuracy = (probs.argmax(1) == labels).float().mean().item()
    assert accuracy >= 0.9, f"stacked accuracy {accuracy:.3f}"


def test_build_evaluator_rejects_unknown_kinds():
    valid = r"valid evaluators: \['classifier', 'inception', 'mixture', 'stacked_classifier'\]"
    with pytest.raises(ValueError, match=valid):
        build_evaluator("fancy")
    assert isinstance(build_evaluator("mixture", centers=RING, std=0.01), MixtureEvaluator)


# ---------------------------------------------------------------------------- inception
@pytest.fixture(scope="module")
def random_inception_weights(tmp_path_factory):
    """A weights file of a randomly initialised Inception-v3 (the real weights cannot be downloaded here)."""
    import torch_fidelity.feature_extractor_inceptionv3 as fe

    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(fe, "load_state_dict_from_url", lambda *a, **k: {})  # no download
        mp.setattr(fe.FeatureExtractorInceptionV3, "load_state_dict", lambda self, state_dict, *a, **k: None)
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(0)
            model = fe.FeatureExtractorInceptionV3("random", ["2048"])
    path = tmp_path_factory.mktemp("inception") / "random-inception.pth"
    torch.save(model.state_dict(), path)
    return path


def test_inception_wiring_with_random_weights(random_inception_weights):
    evaluator = InceptionEvaluator(weights_path=random_inception_weights)
    assert (evaluator.name, evaluator.num_features, evaluator.num_classes) == ("inception-v3", 2048, 1008)
    images = torch.rand(2, 1, 8, 8, generator=torch.Generator().manual_seed(0)) * 2 - 1  # 1 channel, resized to 299
    features, probs = evaluator.features_and_probs(images)
    assert features.shape == (2, 2048) and probs.shape == (2, 1008)
    assert torch.isfinite(features).all()
    torch.testing.assert_close(probs.sum(1), torch.ones(2))
    with pytest.raises(ValueError, match="1 or 3"):
        evaluator.features(torch.zeros(1, 2, 8, 8))


def test_inception_offline_error_is_clear(monkeypatch, tmp_path):
    import torch_fidelity.feature_extractor_inceptionv3 as fe

    def offline(*args, **kwargs):
        raise urllib.error.URLError("[Errno -3] Temporary failure in name resolution")

    monkeypatch.setattr(fe, "load_state_dict_from_url", offline)
    monkeypatch.delenv("GAN_LAB_INCEPTION_WEIGHTS", raising=False)
    monkeypatch.setenv("TORCH_HOME", str(tmp_path))
    with pytest.raises(InceptionWeightsUnavailable) as info:
        InceptionEvaluator()
    message = str(info.value)
    assert "weights-inception-2015-12-05-6726825d.pth" in message
    assert "https://github.com/toshas/torch-fidelity/releases/download/v0.2.0/" in message
    assert str(tmp_path / "hub" / "checkpoints" / "weights-inception-2015-12-05-6726825d.pth") in message
    assert "weights_path" in message and "GAN_LAB_INCEPTION_WEIGHTS" in message
    with pytest.raises(InceptionWeightsUnavailable, match="could not be read"):
        InceptionEvaluator(weights_path=tmp_path / "missing.pth")


# ---------------------------------------------------------------------------- data modules, CLI, cache dir
def test_evaluator_for_gan_lab_data_modules(digits_evaluator, cache_dir):
    from gan_lab.data import DigitsDataModule, GaussianMixtureDataModule, StackedDigitsDataModule
    from gan_lab.metrics.evaluators import evaluator_for

    ring = evaluator_for(GaussianMixtureDataModule(RING, 0.01, num_samples=100), "auto")
    assert isinstance(ring, MixtureEvaluator) and ring.num_classes == 8
    digits = evaluator_for(DigitsDataModule(), "auto", cache_dir=cache_dir)
    assert digits.from_cache and digits.cache_path == digits_evaluator.cache_path  # same data, same entry
    stacked = evaluator_for(StackedDigitsDataModule(num_samples=100), "classifier", cache_dir=cache_dir)
    assert isinstance(stacked, StackedClassifierEvaluator) and stacked.per_channel.from_cache
    with pytest.raises(ValueError, match="valid evaluators"):
        evaluator_for(DigitsDataModule(), "fancy")
    with pytest.raises(ValueError, match="mixture"):
        evaluator_for(DigitsDataModule(), "mixture")


def test_cli_reports_accuracy_and_cache_path(digits_evaluator, cache_dir, capsys):
    from gan_lab.evaluator_cli import main

    main(["--data", "digits", "--cache-dir", str(cache_dir)])
    out = capsys.readouterr().out
    assert "loaded from the cache" in out and f"{digits_evaluator.accuracy:.4f}" in out
    assert str(digits_evaluator.cache_path) in out


def test_default_cache_dir_follows_environment(monkeypatch, tmp_path):
    from gan_lab.metrics.evaluators import default_cache_dir

    monkeypatch.setenv("GAN_LAB_CACHE", str(tmp_path))
    assert default_cache_dir() == tmp_path
    monkeypatch.delenv("GAN_LAB_CACHE")
    assert default_cache_dir().parts[-2:] == (".cache", "gan_lab")
