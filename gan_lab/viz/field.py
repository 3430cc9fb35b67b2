"""The numbers behind GAN Lab's picture of the game on 2D data (Kahng et al., IEEE VIS 2018).

GAN Lab lets a learner *see* one moment of the game: where the discriminator
believes the data is (D(x) over the plane), where the generator puts its
points, how it folds its latent space into the plane (the *manifold*: a
regular latent grid mapped through G), and where the generator's loss pushes
each fake point (the arrows).  :func:`game_field` computes all of it as
tensors, so a notebook or a test can assert on numbers;
:func:`gan_lab.viz.figure.field_figure` draws them.

The arrows are **-grad_x of the generator's loss** with respect to the fake
points x themselves (not G's weights): the direction in which the loss wants
each point to move, which G's update then follows as far as its weights let
it.  They come from the run's own loss object, so every variant (minimax,
non-saturating, least squares, ...) gets its arrows without code here.  With
the minimax loss they vanish where D confidently rejects the fakes (its
gradient with respect to the logit is -D(G(z)) -> 0); the non-saturating
loss's stay strong there (-(1 - D(G(z))) -> -1): lesson 4, visible.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import torch
from torch import Tensor, nn

from gan_lab.training.losses import GANLoss
from gan_lab.metrics.js_grid import Box, square_box
from gan_lab.nets.minibatch_discrimination import MinibatchDiscrimination
from gan_lab.training.packing import pack_samples
from gan_lab.training.sampling import GeneratorInputs

#: A batch-dependent D sees each grid point among this many generated points (or packs) ...
CONTEXT_POINTS = 127
#: ... on a grid of at most this many cells a side (one forward pass per cell: 1,024 of them).
BATCH_DEPENDENT_GRID = 32


@dataclass
class GameField:
    """One moment of the game on 2D data, on the CPU.

    Attributes:
        box: ``(x_min, x_max, y_min, y_max)`` of the view.
        discriminator: ``(grid_size, grid_size)`` D(x) = sigmoid(logit) at the cell centres;
            row r is the r-th y value from the bottom, column c the c-th x value from the left.
        manifold: ``(2, lines, points_per_line, 2)``: G's image of latent grid lines; ``[0]`` the lines
            of constant z_1 (z_2 varies along each), ``[1]`` those of constant z_2.
        real, fake: ``(N, 2)`` and ``(M, 2)`` points drawn.
        arrow_points: ``(A, 2)`` the fakes that carry an arrow (the first A of ``fake``).
        arrows: ``(A, 2)`` -grad_x of the generator's loss at each of them (see :func:`generator_loss_arrows`).
        latent_dim: the generator's latent dimension (> 2: the manifold is a plane through the origin).
        latent_extent: the latent grid spans [-latent_extent, latent_extent] on the first two axes.
        loss_name: the generator loss the arrows come from, e.g. ``"minimax_generator_loss"``.
    """

    box: Box
    discriminator: Tensor
    manifold: Tensor
    real: Tensor
    fake: Tensor
    arrow_points: Tensor
    arrows: Tensor
    latent_dim: int
    latent_extent: float
    loss_name: str


@contextmanager
def evaluation_mode(*modules: nn.Module) -> Iterator[None]:
    """Put ``modules`` in eval mode (dropout off, batch norm on running statistics), and restore their modes."""
    modes = [module.training for module in modules]
    for module in modules:
        module.eval()
    try:
        yield
    finally:
        for module, mode in zip(modules, modes):
            module.train(mode)


def grid_points(box: Box, grid_size: int) -> Tensor:
    """The ``grid_size**2`` cell centres of ``box`` as ``(grid_size**2, 2)``, x varying fastest (row-major, bottom row first)."""
    x_min, x_max, y_min, y_max = box
    half_x, half_y = (x_max - x_min) / (2 * grid_size), (y_max - y_min) / (2 * grid_size)
    xs = torch.linspace(x_min + half_x, x_max - half_x, grid_size)
    ys = torch.linspace(y_min + half_y, y_max - half_y, grid_size)
    y, x = torch.meshgrid(ys, xs, indexing="ij")  # (G, G) each
    return torch.stack([x.flatten(), y.flatten()], dim=1)


def batch_dependent(discriminator: nn.Module) -> bool:
    """Whether D's verdict on a sample depends on the rest of its batch (a minibatch discrimination layer)."""
    return any(isinstance(module, MinibatchDiscrimination) for module in discriminator.modules())


@torch.no_grad()
def discriminator_on_grid(discriminator: Callable[[Tensor], Tensor], box: Box, grid_size: int, pack: int = 1,
                          context: Tensor | None = None, device: torch.device | str | None = None) -> Tensor:
    """D(x) = sigmoid(logit) at the cell centres of a ``grid_size`` x ``grid_size`` grid over ``box``: ``(G, G)``.

    ``discriminator`` maps samples to logits (a network, or a module's D under a fixed condition).
    A PacGAN discriminator (``pack = m``) judges packs of m points; at x it is shown m copies of x: its
    verdict on a generator collapsed onto x.  A discriminator whose verdict depends on the batch
    (minibatch discrimination) is shown each grid point on its own in a batch with ``context`` (the
    generated points, in packs if ``pack > 1``): its verdict on x as one of the generator's samples.
    """
    device = next(discriminator.parameters()).device if device is None else device
    points = grid_points(box, grid_size).repeat(1, pack).to(device)  # (G * G, 2 m)
    if context is None:
        logits = discriminator(points)  # (G * G,)
    else:
        others = pack_samples(context[: len(context) // pack * pack].to(device), pack)
        logits = torch.stack([discriminator(torch.cat([point[None], others]))[0] for point in points])
    return torch.sigmoid(logits).float().cpu().view(grid_size, grid_size)


def conditional_verdict(module, box: Box, grid_size: int, context: Tensor | None, values: Tensor) -> Tensor:
    """D(x) over the grid for a module whose D takes the condition: the average of D(x | v) over the
    condition values ``values`` asked for by the fakes (so, weighted as the generator's classes are)."""
    counts = torch.bincount(values.long(), minlength=module.condition_values).double()
    heat = torch.zeros(grid_size, grid_size, dtype=torch.float64)
    for value in torch.nonzero(counts).flatten().tolist():
        def judge_as(samples: Tensor, value: int = value) -> Tensor:  # every point asked about as class `value`
            asked = module.condition_for(torch.full((len(samples),), value, device=samples.device))
            return module.judge(samples, asked).logits
        heat += counts[value] / counts.sum() * discriminator_on_grid(judge_as, box, grid_size, module.pack, context,
                                                                     module.device)
    return heat.float()


def latent_grid_lines(latent_dim: int, lines: int, points_per_line: int, extent: float) -> Tensor:
    """Latent points on a regular grid of lines in the plane of the first two latent axes.

    Returns ``(2, lines, points_per_line, latent_dim)``: ``[0]`` lines of constant z_1 (z_2 runs from
    -extent to extent), ``[1]`` lines of constant z_2; every other coordinate is 0 (the plane through
    the latent origin).  With ``latent_dim == 1`` only z_1 varies: the two families coincide.
    """
    levels = torch.linspace(-extent, extent, lines)  # (L,)
    along = torch.linspace(-extent, extent, points_per_line)  # (P,)
    z = torch.zeros(2, lines, points_per_line, latent_dim)
    z[0, :, :, 0] = levels[:, None]
    z[1, :, :, 0] = along[None, :]
    if latent_dim > 1:
        z[0, :, :, 1] = along[None, :]
        z[1, :, :, 1] = levels[:, None]
    return z


@torch.no_grad()
def generator_manifold(generator: nn.Module | Callable[[Tensor], Tensor], lines: int = 11, points_per_line: int = 40,
                       extent: float = 2.0, latent_dim: int | None = None,
                       device: torch.device | str | None = None) -> Tensor:
    """G's image of :func:`latent_grid_lines`: ``(2, lines, points_per_line, 2)`` points in the plane.

    ``generator`` maps noise to points: a network with ``latent_dim``, or a function (then give ``latent_dim``).
    """
    latent_dim = generator.latent_dim if latent_dim is None else latent_dim
    device = next(generator.parameters()).device if device is None else device
    z = latent_grid_lines(latent_dim, lines, points_per_line, extent)
    x = generator(z.flatten(0, 2).to(device))  # (2 * L * P, 2)
    return x.float().cpu().view(2, lines, points_per_line, 2)


def loss_arrows(objective: Callable[[Tensor], Tensor], fake: Tensor, count: int,
                device: torch.device | str) -> Tensor:
    """``-count * grad_x objective(x)`` at the points ``fake`` ``(n, 2)``: ``(n, 2)``.

    A loss is a mean over its ``count`` terms (samples, or packs), so its gradient at one point carries
    a factor 1/count; multiplying by it gives each point the gradient of its own term, so an arrow's
    length does not depend on how many arrows are drawn.  Only the points get gradients (``torch.autograd.grad``
    with the points as the only input).  Works inside ``torch.no_grad`` and ``torch.inference_mode`` blocks.
    """
    with torch.inference_mode(False), torch.enable_grad():
        x = fake.detach().clone().to(device).requires_grad_(True)  # (n, 2), a leaf of its own
        (gradient,) = torch.autograd.grad(objective(x), x)
    return (-count * gradient).detach().float().cpu()


def generator_loss_arrows(discriminator: nn.Module, loss: GANLoss, fake: Tensor, real: Tensor | None = None,
                          pack: int = 1) -> Tensor:
    """``-n * grad_x loss.generator_loss(...)`` at each of the ``n`` fake points ``x``: ``(n, 2)``.

    The loss is called as training calls it: ``generator_loss(D(x))``, or
    ``generator_loss(D(real), D(x))`` when ``loss.generator_needs_real`` (then ``real`` is needed;
    no gradient flows through it).  D's parameters are left untouched.  With ``pack = m`` (PacGAN) D
    judges consecutive packs of m points, as in training, and n is the number of packs (the points
    beyond the last whole pack get no arrow: ``n // m * m`` rows).  See :func:`loss_arrows`.
    """
    device = next(discriminator.parameters()).device
    fake = fake[: len(fake) // pack * pack]
    real_logits = None
    if loss.generator_needs_real:
        if real is None:
            raise ValueError("this generator loss compares fakes with real data: pass real points.")
        with torch.no_grad():
            real = real.detach().clone()[: len(real) // pack * pack]
            real_logits = discriminator(pack_samples(real.to(device), pack))

    def objective(x: Tensor) -> Tensor:
        fake_logits = discriminator(pack_samples(x, pack))
        return loss.generator_loss(real_logits, fake_logits) if loss.generator_needs_real else loss.generator_loss(fake_logits)

    return loss_arrows(objective, fake, len(fake) // pack, device)


def module_loss_arrows(module, fake: Tensor, fake_condition: Tensor | None, real: Tensor,
                       real_labels: Tensor | None) -> Tensor:
    """-grad_x of the module's whole generator loss (its game's loss and a variant's terms, as training computes
    them: ``module.generator_objective``) at the fake points, each judged under its own condition."""
    device = module.device
    fake = fake[: len(fake) // module.pack * module.pack]
    condition = None if fake_condition is None else fake_condition[: len(fake)].to(device)
    real_judged = None
    if module.loss.generator_needs_real:
        real = real[: len(real) // module.pack * module.pack]
        real_condition = None if real_labels is None else module.real_condition(real_labels[: len(real)].to(device))
        with torch.no_grad():
            real_judged = module.judge(pack_samples(real.to(device), module.pack), real_condition)

    def objective(x: Tensor) -> Tensor:
        return module.generator_objective(module.judge(pack_samples(x, module.pack), condition), real_judged)[0]

    return loss_arrows(objective, fake, len(fake) // module.pack, device)


def loss_name(loss: GANLoss) -> str:
    """The name of the generator loss function (through Hydra's ``functools.partial``)."""
    function = getattr(loss.generator_loss, "func", loss.generator_loss)
    return getattr(function, "__name__", type(function).__name__)


def game_field(module, real: Tensor, fake: Tensor, box: Box | None = None, grid_size: int = 64,
               num_arrows: int = 100, manifold_lines: int = 11, points_per_line: int = 40,
               latent_extent: float = 2.0, margin: float = 0.25, fake_condition: Tensor | None = None,
               real_labels: Tensor | None = None) -> GameField:
    """Everything :func:`gan_lab.viz.figure.field_figure` draws, for a ``GANModule`` ``module``.

    ``real`` ``(N, 2)`` and ``fake`` ``(M, 2)`` are given (e.g. the evaluation's fixed draws), so
    nothing random happens here: no global random state is read or changed.  ``box`` defaults to
    :func:`gan_lab.metrics.js_grid.square_box` of ``real`` with ``margin``.  The networks run in eval
    mode (restored afterwards) and are called through the module (``judge``, ``generate_from``), as in
    training: the manifold is drawn by ``module.sampling_generator`` (the network the samples come from),
    the arrows are -grad_x of the module's generator loss, on packs of ``module.pack`` points for a PacGAN.
    A batch-dependent D (minibatch discrimination) is asked about each grid point among ``CONTEXT_POINTS``
    generated ones, on a grid of at most ``BATCH_DEPENDENT_GRID`` cells a side.

    Conditional variants: ``fake_condition`` holds the condition each fake was drawn with (its arrows use
    it; ``real_labels`` the real points' labels, for losses that compare with real data).  A D that takes
    the condition is drawn as its average over the fakes' classes; the manifold is G's for condition value 0.
    """
    if fake.ndim != 2 or fake.shape[1] != 2 or real.ndim != 2 or real.shape[1] != 2:
        raise ValueError(f"real and fake must be (N, 2) points, got {tuple(real.shape)} and {tuple(fake.shape)}.")
    if module.condition_values is not None and fake_condition is None:
        raise ValueError(f"{type(module).__name__} is conditional: pass the fakes' conditions (fake_condition).")
    box = square_box(real, margin) if box is None else box
    discriminator, generator, pack = module.discriminator, module.sampling_generator, module.pack
    num_arrows = min(num_arrows, len(fake)) // pack * pack
    arrow_points = fake[:num_arrows].detach().float().cpu()
    context = None
    if batch_dependent(discriminator):  # one forward per grid point: a coarser grid keeps it cheap
        grid_size, context = min(grid_size, BATCH_DEPENDENT_GRID), fake[: CONTEXT_POINTS * pack].detach()
    manifold_condition = None
    if fake_condition is not None:
        manifold_condition = module.condition_for(torch.zeros(1, dtype=torch.long, device=module.device))
    def draw(z: Tensor) -> Tensor:  # noqa: E306 - G under the manifold's condition
        condition = None if manifold_condition is None else manifold_condition.expand(len(z), *manifold_condition.shape[1:])
        return module.generate_from(generator, GeneratorInputs(z, condition))

    with evaluation_mode(discriminator, generator):
        if module.discriminator_is_conditional:
            d_grid = conditional_verdict(module, box, grid_size, context, module.condition_value(fake_condition))
        else:
            d_grid = discriminator_on_grid(lambda x: module.judge(x, None).logits, box, grid_size, pack, context,
                                           module.device)
        manifold = generator_manifold(draw, manifold_lines, points_per_line, latent_extent,
                                      latent_dim=module.latent_dim, device=module.device)
        arrow_conditions = None if fake_condition is None else fake_condition[:num_arrows]
        arrows = module_loss_arrows(module, arrow_points, arrow_conditions, real, real_labels)
    return GameField(box=box, discriminator=d_grid, manifold=manifold, real=real.detach().float().cpu(),
                     fake=fake.detach().float().cpu(), arrow_points=arrow_points, arrows=arrows,
                     latent_dim=int(module.latent_dim), latent_extent=float(latent_extent),
                     loss_name=loss_name(module.loss))
