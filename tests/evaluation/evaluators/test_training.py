"""Training evaluation classifiers ahead of time: RNG hygiene, byte-identical files, the gan-lab-evaluator CLI."""

from __future__ import annotations

import hashlib

import pytest
import torch
from helpers.torchvision_fakes import trust_fake_cifar10, write_fake_cifar10, write_fake_mnist

from gan_lab.evaluation.evaluators import (
    Architecture,
    ClassifierEvaluator,
    EvaluatorWeightsError,
    TrainingSettings,
    evaluator_for,
    load_classifier_file,
    load_sklearn_digits,
    train_classifier_file,
)
from gan_lab.evaluation.evaluators.classifier_net import train_classifier

TINY = Architecture(width=8, feature_dim=16)
QUICK = TrainingSettings(epochs=1)


@pytest.fixture(scope="module")
def few_digits():
    x, y = load_sklearn_digits()
    return x[:300], y[:300]


def test_training_leaves_global_random_state_alone(few_digits, monkeypatch):
    x, y = few_digits
    torch.manual_seed(123)
    before = torch.random.get_rng_state()
    cuda_before = torch.cuda.get_rng_state_all() if torch.cuda.is_available() else None

    def no_reseeding(*args, **kwargs):
        raise AssertionError("training re-seeded a global generator")

    monkeypatch.setattr(torch, "manual_seed", no_reseeding)
    monkeypatch.setattr(torch.cuda, "manual_seed_all", no_reseeding)
    monkeypatch.setattr(torch.cuda, "manual_seed", no_reseeding)
    first = train_classifier(x, y, 10, TINY, QUICK, progress=False)
    assert torch.equal(torch.random.get_rng_state(), before)
    if cuda_before is not None:
        assert all(torch.equal(a, b) for a, b in zip(torch.cuda.get_rng_state_all(), cuda_before))
    monkeypatch.undo()
    # the result does not depend on the global state either
    torch.manual_seed(456)
    torch.rand(10)
    second = train_classifier(x, y, 10, TINY, QUICK, progress=False)
    assert first.accuracy == second.accuracy
    a, b = first.net.state_dict(), second.net.state_dict()
    assert all(torch.equal(a[k], b[k]) for k in a)
    assert all(m.generator is None for m in first.net.modules() if hasattr(m, "generator"))  # no training state kept
    different = train_classifier(x, y, 10, TINY, TrainingSettings(epochs=1, seed=1), progress=False)
    assert not torch.equal(different.net.state_dict()["head.1.weight"], a["head.1.weight"])


def test_training_twice_writes_byte_identical_files(few_digits, tmp_path):
    x, y = few_digits
    first, _ = train_classifier_file(x, y, 10, "digits", tmp_path / "a.pt", TINY, QUICK, progress=False)
    second, _ = train_classifier_file(x, y, 10, "digits", tmp_path / "sub" / "b.pt", TINY, QUICK, progress=False)
    assert (tmp_path / "a.pt").read_bytes() == (tmp_path / "sub" / "b.pt").read_bytes()  # the name is not inside
    assert first.sha256 == second.sha256 == hashlib.sha256((tmp_path / "a.pt").read_bytes()).hexdigest()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.pt", "sub"]  # atomic writes: no temporary files
    payload = torch.load(tmp_path / "a.pt", weights_only=True)
    assert payload["architecture"] == {"width": 8, "feature_dim": 16, "dropout": 0.3}
    assert payload["training"]["epochs"] == 1 and payload["holdout_size"] == 60 and payload["train_size"] == 240
    assert payload["holdout_accuracy"] == first.accuracy
    loaded = load_classifier_file(tmp_path / "a.pt", expected_sha256=first.sha256)
    assert loaded.sample_shape == (1, 8, 8) and loaded.dataset == "digits"


def run_cli(argv, capsys) -> dict[str, str]:
    from gan_lab.cli.evaluator import main

    main(argv)
    out = capsys.readouterr().out
    return dict(line.split(": ", 1) for line in out.splitlines() if ": " in line)


def test_cli_trains_an_mnist_classifier_from_torchvision_files(tmp_path, capsys):
    from gan_lab.data.vision import TorchvisionDataModule

    root = tmp_path / "data"
    write_fake_mnist(root, num_train=40)
    write_fake_mnist(root, folder="FashionMNIST", num_train=40)
    out = tmp_path / "mnist_classifier.pt"
    lines = run_cli(["--data", "mnist", "--root", str(root), "--out", str(out), "--epochs", "1", "--no-progress"],
                    capsys)
    sha256 = hashlib.sha256(out.read_bytes()).hexdigest()
    assert lines["sha256"] == sha256
    payload = torch.load(out, weights_only=True)
    assert payload["dataset"] == "mnist" and payload["sample_shape"] == [1, 28, 28]
    assert payload["command"] == "gan-lab-evaluator --data mnist --seed 0 --epochs 1 --threads 1"
    assert lines["held-out accuracy"].startswith(f"{payload['holdout_accuracy']:.4f}")

    mnist = TorchvisionDataModule("mnist", root=root)
    evaluator = evaluator_for(mnist, "auto", weights_path=out)
    assert isinstance(evaluator, ClassifierEvaluator) and evaluator.sha256 == sha256
    assert evaluator.name == "classifier:mnist" and evaluator.sample_shape == (1, 28, 28)
    x, _ = mnist.load()
    assert evaluator.probs(x[:4]).shape == (4, 10)
    # the file fits only the data it was trained on
    with pytest.raises(EvaluatorWeightsError, match="trained on mnist, not fashion_mnist"):
        evaluator_for(TorchvisionDataModule("fashion_mnist", root=root), "classifier", weights_path=out)
    # ... and images of another size are resized to its input, which its name says (settings/evaluator)
    resized = evaluator_for(TorchvisionDataModule("mnist", root=root, image_size=32), "classifier", weights_path=out)
    assert resized.sample_shape == (1, 32, 32) and "resized from 32x32 to 28x28" in resized.name


def test_cli_trains_a_cifar10_classifier(tmp_path, capsys, monkeypatch):
    from gan_lab.data.vision import TorchvisionDataModule

    root = tmp_path / "data"
    write_fake_cifar10(root, per_batch=6)
    trust_fake_cifar10(monkeypatch, root)
    out = tmp_path / "cifar.pt"
    run_cli(["--data", "cifar10", "--root", str(root), "--out", str(out), "--epochs", "1", "--no-progress"], capsys)
    evaluator = evaluator_for(TorchvisionDataModule("cifar10", root=root), "classifier", weights_path=out)
    assert evaluator.sample_shape == (3, 32, 32) and evaluator.num_classes == 10


def test_cli_reports_missing_torchvision_files(tmp_path):
    from gan_lab.data.vision import DatasetNotFoundError
    from gan_lab.cli.evaluator import main

    with pytest.raises(DatasetNotFoundError, match="MNIST was not found"):
        main(["--data", "mnist", "--root", str(tmp_path), "--out", str(tmp_path / "m.pt"), "--no-progress"])
    assert not (tmp_path / "m.pt").exists()
