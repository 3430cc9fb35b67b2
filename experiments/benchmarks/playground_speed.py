"""Is the playground live? View updates and GAN steps per second on ring8 (issue 26: >= 10 updates a second).

    python experiments/benchmarks/playground_speed.py [--frames 60] [--threads 2]

One process, the playground's default networks on ring8 (``Playground(data="ring8")``).  A frame is what
the widget does while playing: ``steps`` GAN steps through Lightning's fit loop, then one view update
(the game field computed, the artists moved, the figure drawn by blitting, PNG-encoded).  For each number
of steps per frame it prints frames per second and GAN steps per second, measured in interleaved blocks so
that the machine's drift hits every case alike; then, side by side in the same blocks, the same frame drawn
without blitting (a full ``canvas.draw()``, what a plain ``fig.savefig`` costs), and their ratio.
The last line is ``fps=<frames per second at 1 step per frame>``.
"""

from __future__ import annotations

import argparse
import platform
import statistics
import subprocess
import time
from pathlib import Path

import torch

from gan_lab.play import Playground

STEPS_PER_FRAME = (1, 5, 20)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--frames", type=int, default=60, help="frames per case (in blocks of 10)")
    parser.add_argument("--threads", type=int, default=2, help="torch threads")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    pg = Playground(data="ring8")
    pg.step(50)
    pg.render()  # warm-up: the first frame lays the figure out
    cases = {f"blit, {k} steps/frame": (k, pg.render) for k in STEPS_PER_FRAME}
    cases["full redraw, 1 step/frame"] = (1, lambda: pg.render(blit=False))  # every tick and label drawn again
    seconds = {name: [] for name in cases}
    block = 10
    for _ in range(max(1, args.frames // block)):
        for name, (steps, draw) in cases.items():
            start = time.perf_counter()
            for _ in range(block):
                pg.step(steps)
                draw()
            seconds[name].append((time.perf_counter() - start) / block)
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True,
                            cwd=Path(__file__).parent).stdout.strip()
    print(f"commit {commit}, {platform.processor() or platform.machine()}, torch {torch.__version__}, "
          f"{args.threads} thread(s), {args.frames} frames a case")
    print(f"{'case':28s} {'frames/s':>9s} {'steps/s':>9s}")
    per_frame = {}
    for name, (steps, _) in cases.items():
        per_frame[name] = statistics.median(seconds[name])
        print(f"{name:28s} {1 / per_frame[name]:9.1f} {steps / per_frame[name]:9.0f}")
    ratio = per_frame["full redraw, 1 step/frame"] / per_frame["blit, 1 steps/frame"]
    print(f"blitting vs full redraw at 1 step/frame: {ratio:.1f}x the frames per second")
    pg.close()
    print(f"fps={1 / per_frame['blit, 1 steps/frame']:.1f}")


if __name__ == "__main__":
    main()
