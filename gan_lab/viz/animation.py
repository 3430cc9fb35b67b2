"""``evaluation.animation``: a GIF of training in the run directory, made from the evaluation's images.

Every time the evaluation draws an animated image (``game/field`` on 2D
data, ``samples/grid`` on images) it is also saved as a small PNG,
``<run dir>/frames/<tag>/<step>.png``; at the end of fit the frames on disk
become ``<run dir>/game.gif`` or ``<run dir>/samples.gif``.  Frames are files
rather than memory so that a resumed run's GIF holds the frames of every
session, and a crash loses nothing but the GIF, which the next fit rewrites.
Only rank zero writes, and only while training (``gan-lab-eval`` writes none).
"""

from __future__ import annotations

import os
from pathlib import Path

import torch
from PIL import Image, ImageDraw

from gan_lab.errors import EvaluationError

#: The images that are animated, and the GIF each becomes.
ANIMATED = {"game/field": "game.gif", "samples/grid": "samples.gif"}
#: Images without a title of their own get a caption with the training step (the game figure names its step).
CAPTIONED = {"samples/grid"}


def frame_directory(run_dir: str | Path, tag: str) -> Path:
    return Path(run_dir) / "frames" / tag.replace("/", "_")


def to_pil(image: torch.Tensor) -> Image.Image:
    """A ``(3, H, W)`` image in [0, 1] as an RGB Pillow image."""
    pixels = image.clamp(0, 1).mul(255).round().byte().permute(1, 2, 0).cpu().numpy()  # (H, W, 3)
    return Image.fromarray(pixels, mode="RGB")


class Animation:
    """Save the evaluation's animated images as frames; assemble them into GIFs at the end of fit.

    Args:
        frame_ms: how long each frame shows; the last one shows four times as long.
        min_width: frames narrower than this (8x8 digit grids) are enlarged by a whole factor, pixels kept sharp.
        colours: palette size of the GIF (at most 256): fewer colours, smaller file (64: about 25 KB a game frame).
    """

    def __init__(self, frame_ms: int = 400, min_width: int = 320, colours: int = 64) -> None:
        if frame_ms < 1 or min_width < 1 or not 2 <= colours <= 256:
            raise EvaluationError(f"evaluation.animation: need frame_ms >= 1, min_width >= 1 and 2 <= colours <= 256, "
                             f"got {frame_ms}, {min_width}, {colours}.")
        self.frame_ms, self.min_width, self.colours = int(frame_ms), int(min_width), int(colours)

    def add_frames(self, run_dir: str | Path, images: dict[str, torch.Tensor], step: int) -> None:
        """Save the animated ones of ``images`` (``{tag: (3, H, W) in [0, 1]}``) as this step's frames."""
        for tag, image in images.items():
            if tag not in ANIMATED:
                continue
            directory = frame_directory(run_dir, tag)
            directory.mkdir(parents=True, exist_ok=True)
            frame = to_pil(image)
            if tag in CAPTIONED:
                frame = with_caption(frame, f"step {step}")
            path = directory / f"{step:010d}.png"  # zero-padded: file names sort in step order
            temporary = path.with_suffix(".png.tmp")
            frame.save(temporary, format="PNG")
            os.replace(temporary, path)  # atomic: a crash never leaves half a frame for the GIF to trip on

    def write(self, run_dir: str | Path) -> list[Path]:
        """Assemble every frame directory of ``run_dir`` into its GIF; returns the files written."""
        written = []
        for tag, name in ANIMATED.items():
            paths = sorted(frame_directory(run_dir, tag).glob("*.png"))
            if paths:
                written.append(self.write_gif(paths, Path(run_dir) / name))
        return written

    def write_gif(self, frame_paths: list[Path], out: Path) -> Path:
        frames = [self.prepared(Image.open(path)) for path in frame_paths]
        durations = [self.frame_ms] * (len(frames) - 1) + [4 * self.frame_ms]
        temporary = out.with_suffix(".gif.tmp")
        frames[0].save(temporary, format="GIF", save_all=True, append_images=frames[1:], duration=durations, loop=0,
                       optimize=True)
        os.replace(temporary, out)
        return out

    def prepared(self, frame: Image.Image) -> Image.Image:
        """An RGB frame enlarged to ``min_width`` (nearest neighbour) and reduced to a palette without dithering."""
        frame = frame.convert("RGB")
        factor = -(-self.min_width // frame.width)  # ceiling division
        if factor > 1:
            frame = frame.resize((frame.width * factor, frame.height * factor), Image.Resampling.NEAREST)
        # No dithering: flat heat-map cells and sample pixels stay flat, which GIF's compression rewards.
        return frame.quantize(colors=self.colours, method=Image.Quantize.MEDIANCUT, dither=Image.Dither.NONE)


def with_caption(frame: Image.Image, text: str) -> Image.Image:
    """``frame`` with a white band below it holding ``text`` (Pillow's built-in font)."""
    band = 14
    captioned = Image.new("RGB", (frame.width, frame.height + band), "white")
    captioned.paste(frame, (0, 0))
    ImageDraw.Draw(captioned).text((2, frame.height + 1), text, fill="black")
    return captioned
