"""Evaluators: exact mixture posterior, the shipped digits classifier, stacked digits, Inception wiring."""

from __future__ import annotations

import hashlib
import math
import shutil
import urllib.error

import pytest
import torch

from gan_lab.evaluation.evaluators import (
    DIGITS_CLASSIFIER_FILE,
    DIGITS_CLASSIFIER_SHA256,
    ClassifierEvaluator,
    EvaluatorWeightsError,
    InceptionEvaluator,
    InceptionWeightsUnavailable,
    MissingClassifierWeights,
    MixtureEvaluator,
    StackedClassifierEvaluator,
    build_evaluator,
    digits_classifier,
    evaluator_for,
    holdout_split,
    load_sklearn_digits,
)

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
def digits():
    return load_sklearn_digits()


@pytest.fixture(scope="module")
def digits_evaluator():
    """The shipped digits classifier (loaded, never trained)."""
    return digits_classifier()


def test_shipped_digits_weights_file():
    data = DIGITS_CLASSIFIER_FILE.read_bytes()
    assert hashlib.sha256(data).hexdigest() == DIGITS_CLASSIFIER_SHA256
    assert 300_000 < len(data) < 600_000
    payload = torch.load(DIGITS_CLASSIFIER_FILE, map_location="cpu", weights_only=True)  # plain data only
    assert payload["format"] == "gan_lab.classifier" and payload["dataset"] == "digits"
    assert (payload["num_classes"], payload["sample_shape"]) == (10, [1, 8, 8])
    assert payload["architecture"] == {"width": 32, "feature_dim": 128, "dropout": 0.3}
    assert payload["training"]["seed"] == 0 and payload["training"]["epochs"] == 15
    assert payload["holdout_accuracy"] >= 0.97 and payload["holdout_size"] == 359
    assert payload["command"].startswith("gan-lab-evaluator --data digits")
    assert payload["num_threads"] == 1


def test_digits_classifier_is_accurate(digits_evaluator, digits):
    e = digits_evaluator
    assert e.name == "classifier:digits" and (e.num_features, e.num_classes) == (128, 10)
    assert e.sha256 == DIGITS_CLASSIFIER_SHA256 and e.weights_path == DIGITS_CLASSIFIER_FILE
    assert e.accuracy >= 0.97, f"held-out accuracy {e.accuracy:.4f}"
    # accuracy really is held-out accuracy: recompute it on the held-out split the file was trained with
    x, y = digits
    _, holdout = holdout_split(len(x), 0.2, seed=0)
    features, probs = e.features_and_probs(x[holdout], batch_size=64)
    assert features.shape == (len(holdout), 128) and probs.shape == (len(holdout), 10)
    torch.testing.assert_close(probs.sum(1), torch.ones(len(holdout)))
    assert (probs.argmax(1) == y[holdout]).float().mean().item() == pytest.approx(e.accuracy)
    # robust to the 1-pixel shifts it was trained with
    shifted = torch.roll(x[holdout], shifts=1, dims=3)
    assert (e.probs(shifted).argmax(1) == y[holdout]).float().mean().item() > 0.9


#: p(y | x) of the first 8 scikit-learn digits (labels 0..7) under the shipped classifier.
PINNED_PROBS = [
    [0.99996901, 5.3e-07, 4.87e-06, 1e-08, 6.4e-07, 4.61e-06, 1.406e-05, 8.6e-07, 4.11e-06, 1.26e-06],
    [3.74e-06, 0.99947351, 2.627e-05, 3.722e-05, 8.21e-06, 4.08e-06, 2.087e-05, 2.06e-06, 0.00042198, 2.29e-06],
    [2.93e-06, 5.379e-05, 0.99852115, 0.00075878, 8.56e-06, 6.36e-06, 1.094e-05, 7.459e-05, 0.00054685, 1.62e-05],
    [0.0, 5.6e-06, 0.00032843, 0.99955493, 1e-08, 3.27e-06, 1e-08, 7.32e-06, 1.31e-05, 8.748e-05],
    [5.01e-06, 4e-07, 5.63e-06, 1e-08, 0.99989998, 1.36e-06, 3.468e-05, 1.2e-06, 3e-07, 5.15e-05],
    [0.00036158, 0.00030091, 0.00093128, 0.00323292, 0.00092525, 0.95899189, 0.00144133, 0.00010782, 0.00064413,
     0.03306298],
    [1.614e-05, 3.8e-05, 1.44e-06, 1.2e-07, 1.587e-05, 9.25e-06, 0.99968719, 0.0, 0.00023207, 1e-08],
    [9.5e-07, 1.3e-07, 2.64e-06, 4.71e-06, 1.3e-06, 8.19e-06, 0.0, 0.99995482, 2.448e-05, 2.92e-06],
]
#: Sum of each of their 128 features, and the mean, standard deviation and number of positive entries of all.
PINNED_FEATURE_SUMS = [167.92688, 137.98157, 163.75664, 187.94220, 168.12720, 119.78381, 177.47241, 175.46419]
PINNED_FEATURE_MEAN, PINNED_FEATURE_STD, PINNED_POSITIVE = 1.2680223, 1.6259133, 578


def test_digits_classifier_outputs_are_pinned(digits_evaluator, digits):
    """Any change to the shipped weights or to the preprocessing of digits changes these numbers."""
    features, probs = digits_evaluator.features_and_probs(digits[0][:8])
    torch.testing.assert_close(probs.double(), torch.tensor(PINNED_PROBS, dtype=torch.float64), atol=1e-5, rtol=0)
    torch.testing.assert_close(features.sum(1).double(), torch.tensor(PINNED_FEATURE_SUMS, dtype=torch.float64),
                               atol=1e-3, rtol=1e-5)
    assert features.mean().item() == pytest.approx(PINNED_FEATURE_MEAN, rel=1e-5)
    assert features.std().item() == pytest.approx(PINNED_FEATURE_STD, rel=1e-5)
    assert int((features > 0).sum()) == PINNED_POSITIVE


def test_tampered_weights_file_is_rejected(tmp_path, monkeypatch):
    from gan_lab.evaluation.evaluators import classifier

    tampered = tmp_path / "digits_classifier.pt"
    shutil.copyfile(DIGITS_CLASSIFIER_FILE, tampered)
    data = bytearray(tampered.read_bytes())
    data[len(data) // 2] ^= 0x01  # one bit of one byte, somewhere in the weights
    tampered.write_bytes(bytes(data))
    with pytest.raises(EvaluatorWeightsError, match="SHA-256"):
        ClassifierEvaluator.from_file(tampered, sha256=DIGITS_CLASSIFIER_SHA256)
    monkeypatch.setattr(classifier, "DIGITS_CLASSIFIER_FILE", tampered)
    with pytest.raises(EvaluatorWeightsError) as info:
        digits_classifier()
    message = str(info.value)
    assert "shipped digits classifier" in message and DIGITS_CLASSIFIER_SHA256 in message
    assert "gan-lab-evaluator --data digits" in message and "not comparable" in message
    tampered.unlink()
    with pytest.raises(EvaluatorWeightsError, match="Cannot read"):
        digits_classifier()
    tampered.write_bytes(b"not a torch file")
    with pytest.raises(EvaluatorWeightsError, match="unreadable"):
        ClassifierEvaluator.from_file(tampered)


def test_evaluator_stays_frozen(digits_evaluator, digits):
    e = digits_evaluator.train()
    assert not e.training and not e.net.training
    assert all(not p.requires_grad for p in e.parameters())
    x = digits[0][:10]
    torch.testing.assert_close(e(x), e.features(x))  # forward = features (torchmetrics feature= module)
    with pytest.raises(ValueError, match="shape"):
        e.features(torch.zeros(2, 1, 28, 28))


# ---------------------------------------------------------------------------- stacked digits
def test_stacked_evaluator_uses_the_shipped_weights(digits_evaluator, digits):
    from gan_lab.data import StackedDigitsDataModule

    stacked = evaluator_for(StackedDigitsDataModule(dataset_size=100), "auto")
    assert isinstance(stacked, StackedClassifierEvaluator)
    assert stacked.sha256 == stacked.per_channel.sha256 == DIGITS_CLASSIFIER_SHA256
    assert stacked.per_channel.weights_path == DIGITS_CLASSIFIER_FILE
    mine, shipped = stacked.per_channel.net.state_dict(), digits_evaluator.net.state_dict()
    assert mine.keys() == shipped.keys() and all(torch.equal(mine[k], shipped[k]) for k in mine)
    images = digits[0][:24].reshape(8, 3, 8, 8)  # 8 stacked images of the first 24 digits
    features = stacked.features(images)
    torch.testing.assert_close(features[:, :128], digits_evaluator.features(images[:, :1]))
    # its first channels are digits 0, 3, 6, ...: their rows of the pinned probabilities
    probs = stacked.probs(images).reshape(8, 10, 10, 10).sum((2, 3))  # marginal of channel 0
    torch.testing.assert_close(probs[:3].double(), torch.tensor(PINNED_PROBS[0:8:3], dtype=torch.float64),
                               atol=1e-5, rtol=0)


def test_stacked_class_index_convention(digits_evaluator):
    stacked = StackedClassifierEvaluator(digits_evaluator)
    assert stacked.name == "stacked_classifier:digits" and stacked.sha256 == DIGITS_CLASSIFIER_SHA256
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
    _, holdout = holdout_split(len(x), 0.2, seed=0)  # digits the classifier never saw
    g = torch.Generator().manual_seed(1)
    picks = holdout[torch.randint(len(holdout), (600, 3), generator=g)]  # (600, 3)
    images = x[picks, 0]  # (600, 3, 8, 8)
    labels = y[picks[:, 0]] * 100 + y[picks[:, 1]] * 10 + y[picks[:, 2]]
    stacked = build_evaluator("stacked_classifier")  # the shipped digits classifier, per channel
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
    assert evaluator.sha256 == hashlib.sha256(random_inception_weights.read_bytes()).hexdigest()
    assert evaluator_for(None, "inception", weights_path=random_inception_weights).sha256 == evaluator.sha256
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


# ---------------------------------------------------------------------------- data modules
def test_evaluator_for_gan_lab_data_modules(digits_evaluator):
    from gan_lab.data import DigitsDataModule, GaussianMixtureDataModule, StackedDigitsDataModule

    ring = evaluator_for(GaussianMixtureDataModule(RING, 0.01, dataset_size=100), "auto")
    assert isinstance(ring, MixtureEvaluator) and ring.num_classes == 8 and ring.sha256 is None
    with pytest.raises(ValueError, match="no weights"):
        evaluator_for(GaussianMixtureDataModule(RING, 0.01, dataset_size=100), "auto", weights_path="x.pt")
    for kind in ("auto", "classifier"):
        digits = evaluator_for(DigitsDataModule(), kind, batch_size=64)
        assert isinstance(digits, ClassifierEvaluator) and digits.sha256 == DIGITS_CLASSIFIER_SHA256
        assert digits.batch_size == 64 and digits.accuracy == digits_evaluator.accuracy
    stacked = evaluator_for(StackedDigitsDataModule(dataset_size=100), "classifier")
    assert isinstance(stacked, StackedClassifierEvaluator) and stacked.num_classes == 1000
    # the digits file, given explicitly, is the same evaluator
    explicit = evaluator_for(DigitsDataModule(), "classifier", weights_path=DIGITS_CLASSIFIER_FILE)
    assert explicit.sha256 == DIGITS_CLASSIFIER_SHA256
    with pytest.raises(ValueError, match="valid evaluators"):
        evaluator_for(DigitsDataModule(), "fancy")
    with pytest.raises(ValueError, match="mixture"):
        evaluator_for(DigitsDataModule(), "mixture")


def test_evaluator_for_never_trains(monkeypatch, tmp_path):
    """Evaluation reads weights files; it never trains a classifier behind the user's back."""
    from gan_lab.data import DigitsDataModule, StackedDigitsDataModule
    from gan_lab.data.vision import TorchvisionDataModule
    from gan_lab.evaluation.evaluators import classifier_net, weights_file

    def refuse(*args, **kwargs):
        raise AssertionError("evaluator_for trained a classifier")

    monkeypatch.setattr(classifier_net, "train_classifier", refuse)
    monkeypatch.setattr(weights_file, "train_classifier", refuse)
    monkeypatch.setattr(weights_file, "train_classifier_file", refuse)
    assert evaluator_for(DigitsDataModule(), "auto").sha256 == DIGITS_CLASSIFIER_SHA256
    assert evaluator_for(StackedDigitsDataModule(dataset_size=10), "classifier").sha256 == DIGITS_CLASSIFIER_SHA256
    for name, size in (("mnist", None), ("fashion_mnist", 32), ("cifar10", None)):
        datamodule = TorchvisionDataModule(name, root=tmp_path / "data", image_size=size)  # no files needed
        with pytest.raises(MissingClassifierWeights) as info:
            evaluator_for(datamodule, "auto")
        message = str(info.value)
        assert f"gan-lab-evaluator --data {name} --root {tmp_path / 'data'}" in message
        assert ("--image-size 32" in message) == (size is not None)
        assert "weights_path" in message and "evaluator=inception" in message
    assert not list(tmp_path.rglob("*.pt"))  # and wrote nothing


def test_every_evaluator_has_a_sha256_attribute(digits_evaluator):
    mixture = MixtureEvaluator(RING, 0.01)
    assert mixture.sha256 is None and "sha256=n/a" in repr(mixture)
    assert f"sha256={DIGITS_CLASSIFIER_SHA256[:16]}" in repr(digits_evaluator)
