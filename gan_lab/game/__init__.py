"""GAN Lab's view of the game on 2D data (Kahng et al., IEEE VIS 2018): the numbers and the figure.

    from gan_lab.game import game_field, field_figure
    field = game_field(model, real, fake)             # D(x) on a grid, G's manifold, -grad_x of G's loss
    fig = field_figure(field, centers=datamodule.centers)
    view = FieldView(ax, field)                       # or on your own axes; view.update(next_field) moves it

The evaluation draws it at every evaluation of a 2D run (tag ``game/field``; see
:class:`gan_lab.evaluation.GameView`).
"""

from gan_lab.game.field import GameField, discriminator_on_grid, game_field, generator_loss_arrows, generator_manifold
from gan_lab.game.figure import FieldView, add_colour_bar, default_arrow_scale, field_figure

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
