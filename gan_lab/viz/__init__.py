"""Drawing: GAN Lab's view of the game on 2D data (Kahng et al., IEEE VIS 2018), sample grids, the training GIF.

    from gan_lab.viz import game_field, field_figure
    field = game_field(model, real, fake)             # D(x) on a grid, G's manifold, -grad_x of G's loss
    fig = field_figure(field, centers=datamodule.centers)
    view = FieldView(ax, field)                       # or on your own axes; view.update(next_field) moves it

``field.py`` computes the view's numbers, ``figure.py`` draws them, ``plots.py`` holds the sample grid and scatter;
``game_view.py`` (the evaluation's ``game/field`` image) and ``animation.py`` (the GIF) are the evaluation's
drawn outputs, configured in ``configs/evaluation/``.  ``field``, ``figure`` and ``plots`` import no other gan_lab
package but ``metrics``; ``game_view`` and ``animation`` also import ``evaluation``, so this package's ``__init__``
does not import them.
"""

from gan_lab.viz.field import GameField, discriminator_on_grid, game_field, generator_loss_arrows, generator_manifold
from gan_lab.viz.figure import FieldView, add_colour_bar, default_arrow_scale, field_figure

__all__ = [
    "FieldView",
    "GameField",
    "add_colour_bar",
    "default_arrow_scale",
    "discriminator_on_grid",
    "field_figure",
    "game_field",
    "generator_loss_arrows",
    "generator_manifold",
]
