"""The extension path: the shipped variants, and a throw-away one added the same way."""

from __future__ import annotations

import math
import os
import textwrap

import pytest
import torch
from helpers.runs import NO_METRICS, REPO_ROOT, compose_config, run_cli, tiny_overrides

from gan_lab.cli.train import train
from gan_lab.variants.hinge import hinge_discriminator_loss, hinge_generator_loss
from gan_lab.variants.least_squares import least_squares_discriminator_loss, least_squares_generator_loss
from gan_lab.variants.r1 import r1_penalty
from gan_lab.variants.relativistic import relativistic_average_discriminator_loss, relativistic_average_generator_loss
from gan_lab.variants.wgan_gp import gradient_penalty, wasserstein_critic_loss, wasserstein_generator_loss


def test_variant_losses_match_their_formulas():
    real, fake = torch.tensor([2.0, 0.5]), torch.tensor([-1.5, 0.5])
    assert least_squares_discriminator_loss(real, fake).item() == pytest.approx(0.5 * (1 + 0.25) / 2 + 0.5 * (2.25 + 0.25) / 2)
    assert least_squares_generator_loss(fake).item() == pytest.approx(0.5 * (6.25 + 0.25) / 2)
    assert hinge_discriminator_loss(real, fake).item() == pytest.approx((0 + 0.5) / 2 + (0 + 1.5) / 2)
    assert hinge_generator_loss(fake).item() == pytest.approx(0.5)
    assert wasserstein_critic_loss(real, fake).item() == pytest.approx(-0.5 - 1.25)
    assert wasserstein_generator_loss(fake).item() == pytest.approx(0.5)


def softplus(x: float) -> float:
    return math.log1p(math.exp(x))


def test_relativistic_average_losses_match_their_formulas():
    # Real logits average 1.25, fake logits -0.5.
    real, fake = torch.tensor([2.0, 0.5], dtype=torch.float64), torch.tensor([-1.5, 0.5], dtype=torch.float64)
    real_vs_fake = [2.0 + 0.5, 0.5 + 0.5]  # C(x_r) - mean C(x_f)
    fake_vs_real = [-1.5 - 1.25, 0.5 - 1.25]  # C(x_f) - mean C(x_r)
    expected_d = sum(softplus(-v) for v in real_vs_fake) / 2 + sum(softplus(v) for v in fake_vs_real) / 2
    expected_g = sum(softplus(-v) for v in fake_vs_real) / 2 + sum(softplus(v) for v in real_vs_fake) / 2
    assert relativistic_average_discriminator_loss(real, fake).item() == pytest.approx(expected_d, rel=1e-12)
    assert relativistic_average_generator_loss(real, fake).item() == pytest.approx(expected_g, rel=1e-12)
    # As -log of sigmoids (the paper's form): D(x_r, x_f) = sigmoid(C(x_r) - mean C(x_f)).
    sig = lambda v: 1 / (1 + math.exp(-v))  # noqa: E731
    paper_g = -sum(math.log(sig(v)) for v in fake_vs_real) / 2 - sum(math.log(1 - sig(v)) for v in real_vs_fake) / 2
    assert relativistic_average_generator_loss(real, fake).item() == pytest.approx(paper_g, rel=1e-12)
    # D cannot tell real from fake (all logits equal, whatever their value): both players at log 4.
    level = torch.full((3,), 7.0)
    assert relativistic_average_discriminator_loss(level, level).item() == pytest.approx(math.log(4))
    assert relativistic_average_generator_loss(level, level).item() == pytest.approx(math.log(4))


def test_gradient_penalty_of_a_unit_slope_critic_is_zero():
    # D(x) = w.x with ||w|| = 1 has gradient norm 1 everywhere: no penalty. Scaled by 3: (3 - 1)^2 * weight.
    w = torch.tensor([0.6, 0.8])
    real, fake = torch.randn(16, 2), torch.randn(16, 2)
    assert gradient_penalty(lambda x: x @ w, real, fake).item() == pytest.approx(0.0, abs=1e-10)
    assert gradient_penalty(lambda x: x @ (3 * w), real, fake, weight=10.0).item() == pytest.approx(40.0, rel=1e-6)


def test_r1_penalty_is_half_gamma_times_the_squared_gradient_norm_on_real_data():
    # D(x) = w.x: grad_x D = w everywhere, so R1 = gamma / 2 * ||w||^2 = 5 * 25; D(x) = ||x||^2 / 2: grad = x.
    w, real = torch.tensor([3.0, 4.0]), torch.randn(16, 2)
    assert r1_penalty(lambda x: x @ w, real, None, gamma=10.0).item() == pytest.approx(125.0, rel=1e-6)
    penalty = r1_penalty(lambda x: 0.5 * (x**2).sum(1), real, None, gamma=2.0)
    assert penalty.item() == pytest.approx((real**2).sum(1).mean().item(), rel=1e-6)
    assert penalty.requires_grad  # D's parameters get its gradient (create_graph)


@pytest.mark.parametrize("preset", ["loss=least_squares", "loss=hinge", "experiment=wgan_gp", "loss=relativistic_average"])
def test_shipped_variants_train(tmp_path, preset):
    cfg = compose_config([*tiny_overrides("grid25"), *NO_METRICS, preset, "data.dataset_size=3000"], tmp_path)
    if preset == "experiment=wgan_gp":  # the loss and the paper's schedule
        assert cfg.loss.penalty.weight == 10.0
        assert cfg.model.d_steps_per_g_step == 5 and cfg.model.optimizer_d.betas == [0.0, 0.9]
    metrics = train(cfg, tmp_path)
    assert all(torch.isfinite(torch.tensor(v)) for v in metrics.values())


def test_a_new_variant_is_one_python_file_and_one_yaml(tmp_path):
    """What the README's walkthrough does, outside the repository: nothing in gan_lab is edited."""
    (tmp_path / "my_variant.py").write_text(textwrap.dedent('''
        import torch.nn.functional as F

        def relu_discriminator_loss(real_logits, fake_logits):
            return F.softplus(-real_logits).mean() + F.softplus(fake_logits).mean()

        def relu_generator_loss(real_logits, fake_logits):  # fakes pushed up to the real batch's mean logit
            return F.relu(real_logits.mean() - fake_logits).mean()
    '''))
    (tmp_path / "conf" / "loss").mkdir(parents=True)
    (tmp_path / "conf" / "loss" / "my_variant.yaml").write_text(textwrap.dedent('''
        _target_: gan_lab.training.losses.GANLoss
        discriminator_loss: {_target_: my_variant.relu_discriminator_loss, _partial_: true}
        generator_loss: {_target_: my_variant.relu_generator_loss, _partial_: true}
        generator_needs_real: true
    '''))
    result = run_cli(
        "gan_lab.cli.train",
        [*tiny_overrides("ring8"), *NO_METRICS, "loss=my_variant", f"hydra.searchpath=[file://{tmp_path / 'conf'}]",
         f"hydra.run.dir={tmp_path / 'run'}"],
        tmp_path,
        env={"PYTHONPATH": os.pathsep.join([str(tmp_path), str(REPO_ROOT)])},  # this checkout's gan_lab, not an installed one
    )
    assert result.returncode == 0, result.stderr[-2000:]
    assert "train/loss_g=" in result.stdout and "Finished." in result.stdout
    assert (REPO_ROOT / "configs" / "loss" / "my_variant.yaml").exists() is False
