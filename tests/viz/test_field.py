"""GAN Lab's view of the game: the arrows are -grad_x of the generator's loss; the grid, manifold and figure."""

from __future__ import annotations

import pytest
import torch
from matplotlib.figure import Figure
from torch import nn

from gan_lab.viz import field_figure, game_field, generator_loss_arrows, generator_manifold
from gan_lab.viz.field import discriminator_on_grid, latent_grid_lines
from gan_lab.training.module import GANModule
from gan_lab.training.losses import GANLoss, bce_discriminator_loss, minimax_generator_loss, non_saturating_generator_loss
from gan_lab.viz.plots import figure_to_image
from gan_lab.variants.least_squares import least_squares_generator_loss
from gan_lab.variants.relativistic import relativistic_average_generator_loss

LOSSES = {
    "minimax": GANLoss(bce_discriminator_loss, minimax_generator_loss),
    "non_saturating": GANLoss(bce_discriminator_loss, non_saturating_generator_loss),
    "least_squares": GANLoss(bce_discriminator_loss, least_squares_generator_loss),
    "relativistic": GANLoss(bce_discriminator_loss, relativistic_average_generator_loss, generator_needs_real=True),
}


class LinearCritic(nn.Module):
    """logit(x) = w . x + b: D(x) = sigmoid(w . x + b)."""

    def __init__(self, w, b: float) -> None:
        super().__init__()
        self.linear = nn.Linear(2, 1)
        with torch.no_grad():
            self.linear.weight.copy_(torch.tensor([w]))
            self.linear.bias.fill_(b)

    def forward(self, x):
        return self.linear(x).squeeze(1)


class SmallCritic(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        torch.manual_seed(0)  # the test's own weights (tests may seed; gan_lab's evaluation may not)
        self.net = nn.Sequential(nn.Linear(2, 8), nn.Tanh(), nn.Dropout(0.5), nn.Linear(8, 1)).double()

    def forward(self, x):
        return self.net(x.double()).squeeze(1)


@pytest.mark.parametrize("name", list(LOSSES))
def test_arrows_are_minus_n_times_the_gradient_of_the_loss_by_finite_differences(name):
    loss, critic = LOSSES[name], SmallCritic().eval()
    fake = torch.tensor([[0.3, -0.2], [1.0, 0.5], [-0.7, 0.1]], dtype=torch.float64)
    real = torch.tensor([[0.9, 0.9], [-0.5, -1.0]], dtype=torch.float64)
    arrows = generator_loss_arrows(critic, loss, fake, real)

    def value(points):
        with torch.no_grad():
            if loss.generator_needs_real:
                return float(loss.generator_loss(critic(real), critic(points)))
            return float(loss.generator_loss(critic(points)))

    h = 1e-6
    for i in range(len(fake)):
        for k in range(2):
            step = torch.zeros_like(fake)
            step[i, k] = h
            derivative = (value(fake + step) - value(fake - step)) / (2 * h)
            assert arrows[i, k].item() == pytest.approx(-len(fake) * derivative, rel=1e-4, abs=1e-7)
    assert all(p.grad is None for p in critic.parameters())  # only the points got a gradient


def test_minimax_arrows_vanish_where_d_is_confident_and_non_saturating_ones_do_not():
    w = (1.0, 2.0)
    critic = LinearCritic(w, b=-12.0)  # D(x) ~ 6e-6 near the origin: D confidently rejects the fakes
    fake = 0.1 * torch.randn(50, 2, generator=torch.Generator().manual_seed(0))
    d = torch.sigmoid(critic(fake)).detach()
    minimax = generator_loss_arrows(critic, LOSSES["minimax"], fake)
    non_saturating = generator_loss_arrows(critic, LOSSES["non_saturating"], fake)
    # Closed forms: -grad_x of -log(1 - D) ... minimax: D(x) w; non-saturating: (1 - D(x)) w: towards "real".
    assert torch.allclose(minimax, d[:, None] * torch.tensor(w), rtol=1e-4, atol=1e-10)
    assert torch.allclose(non_saturating, (1 - d)[:, None] * torch.tensor(w), rtol=1e-5)
    assert minimax.norm(dim=1).mean() < 1e-4 * non_saturating.norm(dim=1).mean()


def test_arrows_work_inside_inference_mode_and_need_real_points_for_a_relativistic_loss():
    critic = LinearCritic((1.0, 0.0), b=0.0)
    fake = torch.zeros(3, 2)
    with torch.inference_mode():
        arrows = generator_loss_arrows(critic, LOSSES["non_saturating"], fake)
    assert torch.allclose(arrows, torch.tensor([[0.5, 0.0]] * 3))
    with pytest.raises(ValueError, match="real"):
        generator_loss_arrows(critic, LOSSES["relativistic"], fake)


def test_the_heat_map_has_x_along_columns_and_y_along_rows():
    box = (-1.0, 1.0, -1.0, 1.0)
    rising_in_x = discriminator_on_grid(LinearCritic((20.0, 0.0), 0.0), box, grid_size=10)
    assert rising_in_x.shape == (10, 10)
    assert (rising_in_x[:, -1] > 0.99).all() and (rising_in_x[:, 0] < 0.01).all()
    rising_in_y = discriminator_on_grid(LinearCritic((0.0, 20.0), 0.0), box, grid_size=10)
    assert (rising_in_y[-1, :] > 0.99).all() and (rising_in_y[0, :] < 0.01).all()


class Identity(nn.Module):
    def __init__(self, latent_dim: int) -> None:
        super().__init__()
        self.latent_dim = latent_dim
        self.scale = nn.Parameter(torch.ones(()))

    def forward(self, z):
        return self.scale * z[:, :2]


def test_the_manifold_of_the_identity_is_the_latent_grid_and_higher_latents_use_a_plane():
    manifold = generator_manifold(Identity(2), lines=5, points_per_line=7, extent=2.0)
    assert manifold.shape == (2, 5, 7, 2)
    assert torch.allclose(manifold[0, :, :, 0], torch.linspace(-2, 2, 5)[:, None].expand(5, 7))  # constant z_1
    assert torch.allclose(manifold[1, :, :, 0], torch.linspace(-2, 2, 7)[None, :].expand(5, 7))
    z = latent_grid_lines(8, lines=3, points_per_line=4, extent=1.0)
    assert z.shape == (2, 3, 4, 8) and (z[..., 2:] == 0).all() and z[..., :2].abs().max() == 1.0


def make_module(loss: str = "non_saturating", generator: nn.Module | None = None) -> GANModule:
    if generator is None:
        generator = nn.Sequential(nn.Linear(2, 16), nn.Dropout(0.5), nn.Linear(16, 2))
        generator.latent_dim = 2
    generator.output_shape = (2,)
    critic = SmallCritic()
    critic.input_shape = (2,)
    return GANModule(generator, critic, LOSSES[loss], torch.optim.Adam, torch.optim.Adam)


def test_game_field_restores_training_modes_and_leaves_the_global_random_state_alone():
    module = make_module()
    module.discriminator.train(), module.sampling_generator.train()
    real, fake = torch.randn(40, 2), torch.randn(30, 2)
    state = torch.get_rng_state()
    field = game_field(module, real, fake, grid_size=16, num_arrows=10, manifold_lines=5, points_per_line=9)
    assert torch.equal(torch.get_rng_state(), state)  # dropout, had it run, would have drawn numbers
    assert module.discriminator.training and module.sampling_generator.training
    assert field.discriminator.shape == (16, 16) and field.arrows.shape == (10, 2) and field.manifold.shape == (2, 5, 9, 2)
    assert field.loss_name == "non_saturating_generator_loss"
    assert ((field.discriminator >= 0) & (field.discriminator <= 1)).all()


@pytest.mark.parametrize("latent_dim", [2, 8])
def test_field_figure_draws_every_part_with_a_stated_scale(latent_dim):
    generator = nn.Sequential(nn.Linear(latent_dim, 2))
    generator.latent_dim = latent_dim
    module = make_module(generator=generator)
    field = game_field(module, torch.randn(40, 2), torch.randn(30, 2) * 5, grid_size=8, num_arrows=10)
    figure = field_figure(field, centers=torch.zeros(1, 2), arrow_scale=100.0, title="step 7")
    assert isinstance(figure, Figure)
    title = figure.axes[0].get_title(loc="left")
    assert "step 7" in title and "non_saturating_generator_loss" in title and "100 data units" in title
    assert ("plane of $z_1, z_2$" in title) == (latent_dim > 2)
    assert "shortened" in title  # at this scale every arrow is too long: shortened to the limit, in red
    labels = [text.get_text() for text in figure.legends[0].get_texts()]
    assert {"real", "modes", "G's manifold"} <= set(labels) and any("outside the view" in label for label in labels)
    image = figure_to_image(figure)
    assert image.shape[0] == 3 and image.shape[1:] == figure_to_image(field_figure(field)).shape[1:]  # fixed size


def test_a_pacgan_discriminator_gets_packs_in_the_field(tmp_path):
    """With packs of m, D sees m copies of each grid point, and the arrows come from packs as in training."""
    from helpers.runs import NO_METRICS, compose_config, tiny_overrides
    from hydra.utils import instantiate

    from gan_lab.viz.field import game_field, generator_loss_arrows
    from gan_lab.training.packing import pack_samples

    cfg = compose_config([*tiny_overrides("grid25"), *NO_METRICS, "model=pacgan", "model.pack=3"], tmp_path)
    module = instantiate(cfg.model)
    real, fake = torch.randn(30, 2), torch.randn(31, 2)
    field = game_field(module, real, fake, grid_size=8, num_arrows=10)
    assert field.discriminator.shape == (8, 8) and field.arrows.shape == (9, 2)  # 3 whole packs of 3
    x = fake[:9].clone().requires_grad_(True)
    packs = pack_samples(x, 3)
    (grad,) = torch.autograd.grad(module.loss.generator_loss(module.discriminator(packs)), x)
    torch.testing.assert_close(generator_loss_arrows(module.discriminator, module.loss, fake[:9], pack=3), -3 * grad)


def test_a_minibatch_discriminator_is_asked_about_each_point_among_the_fakes(tmp_path):
    """With minibatch discrimination D's verdict depends on the batch: each grid point is shown on its own
    among generated points, not as one batch of grid points (which would all look alike to the layer)."""
    from helpers.runs import NO_METRICS, compose_config, tiny_overrides
    from hydra.utils import instantiate

    from gan_lab.viz.field import BATCH_DEPENDENT_GRID, CONTEXT_POINTS, batch_dependent, game_field, grid_points

    cfg = compose_config([*tiny_overrides("grid25"), *NO_METRICS, "model=minibatch_gan_2d"], tmp_path)
    module = instantiate(cfg.model)
    assert batch_dependent(module.discriminator) and not batch_dependent(instantiate(
        compose_config([*tiny_overrides("grid25"), *NO_METRICS], tmp_path).model).discriminator)
    real, fake = torch.randn(200, 2), torch.randn(300, 2)
    field = game_field(module, real, fake, grid_size=64, num_arrows=10)
    assert field.discriminator.shape == (BATCH_DEPENDENT_GRID, BATCH_DEPENDENT_GRID)
    corner = grid_points(field.box, BATCH_DEPENDENT_GRID)[:1]
    with torch.no_grad():
        expected = torch.sigmoid(module.discriminator(torch.cat([corner, fake[:CONTEXT_POINTS]]))[0])
    torch.testing.assert_close(field.discriminator[0, 0], expected)


def test_a_field_view_moves_its_artists_in_place():
    """The playground redraws by moving artists: the same objects show the next moment, layers toggle."""
    from matplotlib.figure import Figure as PlainFigure

    from gan_lab.viz.figure import FieldView

    generator = nn.Sequential(nn.Linear(2, 2))
    generator.latent_dim = 2
    module = make_module(generator=generator)
    first = game_field(module, torch.randn(40, 2), torch.randn(30, 2), grid_size=8, num_arrows=10)
    later = game_field(module, torch.randn(40, 2), torch.randn(30, 2) + 1, grid_size=8, num_arrows=10)
    ax = PlainFigure().add_subplot()
    view = FieldView(ax, first, layers=("heat_map", "fake", "arrows"))
    artists = (view.heat_map, view.fake, view.arrows, *view.manifold)
    assert not view.real.get_visible() and not view.manifold[0].get_visible() and view.arrows.get_visible()
    view.update(later)
    assert (view.heat_map, view.fake, view.arrows, *view.manifold) == artists  # moved, not redrawn
    assert torch.equal(torch.as_tensor(view.fake.get_offsets()), later.fake)
    lengths = later.arrows.norm(dim=1) * view.scale
    shrink = torch.where(lengths > view.longest, view.longest / lengths, torch.ones_like(lengths))
    assert torch.allclose(torch.as_tensor(view.arrows.U).float(), later.arrows[:, 0] * shrink, atol=1e-6)
    view.show(arrows=False, real=True)
    assert not view.arrows.get_visible() and view.real.get_visible()
    with pytest.raises(ValueError, match="the layers are"):
        view.show(heatmap=True)
