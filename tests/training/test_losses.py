import math

import pytest
import torch

from gan_lab.training.losses import bce_discriminator_loss, minimax_generator_loss, non_saturating_generator_loss


def logits_for(d_value: float, n: int = 4) -> torch.Tensor:
    return torch.full((n,), math.log(d_value / (1 - d_value)), dtype=torch.float64)


def test_losses_at_d_one_half():
    half = logits_for(0.5)
    assert minimax_generator_loss(half).item() == pytest.approx(math.log(0.5))
    assert non_saturating_generator_loss(half).item() == pytest.approx(math.log(2))
    assert bce_discriminator_loss(half, half).item() == pytest.approx(2 * math.log(2))


@pytest.mark.parametrize("d_real,d_fake", [(0.9, 0.1), (0.7, 0.4), (0.2, 0.6)])
def test_losses_match_hand_computed_values(d_real, d_fake):
    real, fake = logits_for(d_real), logits_for(d_fake)
    assert bce_discriminator_loss(real, fake).item() == pytest.approx(-math.log(d_real) - math.log(1 - d_fake))
    assert minimax_generator_loss(fake).item() == pytest.approx(math.log(1 - d_fake))
    assert non_saturating_generator_loss(fake).item() == pytest.approx(-math.log(d_fake))


def test_losses_stay_finite_for_extreme_logits():
    extreme = torch.tensor([-200.0, 200.0])
    for value in (bce_discriminator_loss(extreme, extreme), minimax_generator_loss(extreme), non_saturating_generator_loss(extreme)):
        assert torch.isfinite(value)


def logit_gradient(loss_fn, d_fake: float) -> float:
    """d loss / d logit of one fake sample whose D(G(z)) = d_fake."""
    logit = logits_for(d_fake, n=1).requires_grad_(True)
    loss_fn(logit).backward()
    return logit.grad.abs().item()


def test_minimax_gradient_vanishes_as_d_of_fake_goes_to_zero():
    """Lesson 4: |d/dl log(1 - D)| = D -> 0, while |d/dl (-log D)| = 1 - D -> 1."""
    for d_fake in (1e-1, 1e-3, 1e-6):
        assert logit_gradient(minimax_generator_loss, d_fake) == pytest.approx(d_fake, rel=1e-6)
        assert logit_gradient(non_saturating_generator_loss, d_fake) == pytest.approx(1 - d_fake, rel=1e-6)
    assert logit_gradient(minimax_generator_loss, 1e-6) < 1e-5 < 0.99 < logit_gradient(non_saturating_generator_loss, 1e-6)


def test_standard_losses_do_not_ask_for_the_real_batch_in_the_generator_step():
    from gan_lab.training.losses import GANLoss

    loss = GANLoss(bce_discriminator_loss, non_saturating_generator_loss)
    assert loss.generator_needs_real is False and loss.penalty is None
