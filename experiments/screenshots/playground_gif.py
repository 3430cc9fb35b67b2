"""The README's animation of the playground in use: a minimax game rescued by a loss change mid-game.

    python experiments/screenshots/playground_gif.py [docs/playground.gif]

Plays ``Playground(data="ring8", loss="minimax")`` the way a learner would in the widget: a few frames of
play, the discriminator stepped alone until it rejects the fakes, then the loss switched to the
non-saturating one while the game goes on, and writes every frame to a GIF (``Playground.save_gif``),
shrunk to the README's width.
"""

from __future__ import annotations

import sys
from pathlib import Path


from gan_lab.play import Playground


def main() -> None:
    out = Path(sys.argv[1] if len(sys.argv) > 1 else "docs/playground.gif")
    pg = Playground(data="ring8", loss="minimax")
    for _ in range(8):  # play
        pg.step(40)
        pg.render()
    for _ in range(4):  # D alone gets ahead
        for _ in range(40):
            pg.step_discriminator()
        pg.render()
    pg.set_loss("non_saturating")  # rescue G mid-game
    for _ in range(24):
        pg.step(70)
        pg.render()
    pg.save_gif(out, frame_ms=250, width=520, colors=48)
    pg.close()
    print(f"wrote {out} ({out.stat().st_size // 1000} KB)")


if __name__ == "__main__":
    main()
