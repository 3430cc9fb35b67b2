"""Play the game live: GAN Lab's interactivity (Kahng et al., IEEE VIS 2018) on gan_lab's own training code.

    from gan_lab.play import Playground
    pg = Playground(data="ring8", loss="minimax")
    pg.widget()          # in Jupyter (pip install "gan_lab[play]" for ipywidgets)

``playground.py``: the game and its settings, stepped through Lightning's fit loop (``session.py``);
``widget.py``: the ipywidgets controls.  Imports ``gan_lab.cli.train``, ``gan_lab.viz`` and ``gan_lab.metrics``.
"""

from gan_lab.play.playground import Playground

__all__ = ["Playground"]
