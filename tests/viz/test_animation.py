"""The training GIF from frames on disk, and the TensorBoard overview (custom scalars, config text)."""

from __future__ import annotations

import re

import pytest
import torch
from PIL import Image

from gan_lab.viz.animation import Animation
from gan_lab.callbacks.run_overview import config_markdown, custom_scalars_layout, settings_markdown
from gan_lab.evaluation import EvaluationError


def frame(value: float, size: int = 40) -> torch.Tensor:
    return torch.full((3, size, size), value)


def test_frames_on_disk_from_several_sessions_become_one_gif_in_step_order(tmp_path):
    Animation().add_frames(tmp_path, {"game/field": frame(0.9), "samples/scatter": frame(0.1)}, step=20)
    Animation().add_frames(tmp_path, {"game/field": frame(0.1)}, step=5)  # another session, an earlier step
    assert sorted(p.name for p in (tmp_path / "frames" / "game_field").iterdir()) == ["0000000005.png", "0000000020.png"]
    assert not (tmp_path / "frames" / "samples_scatter").exists()  # not an animated tag
    (written,) = Animation(frame_ms=100).write(tmp_path)
    assert written == tmp_path / "game.gif"
    with Image.open(written) as gif:
        assert gif.n_frames == 2
        first = gif.convert("RGB").getpixel((20, 20))
        gif.seek(1)
        assert first[0] < 50 < gif.convert("RGB").getpixel((20, 20))[0]  # step 5's dark frame first
        assert gif.info["duration"] == 400  # the last frame is held four times as long
    assert not list(tmp_path.glob("*.tmp"))


def test_sample_grids_are_captioned_and_enlarged_with_sharp_pixels(tmp_path):
    animation = Animation(min_width=200)
    animation.add_frames(tmp_path, {"samples/grid": frame(0.5, size=73)}, step=3)
    with Image.open(tmp_path / "frames" / "samples_grid" / "0000000003.png") as png:
        assert png.height > 73  # the caption band
    animation.write(tmp_path)
    with Image.open(tmp_path / "samples.gif") as gif:
        assert gif.width == 73 * 3


def test_animation_settings_are_checked():
    with pytest.raises(EvaluationError, match="colours"):
        Animation(colours=1000)


def test_the_layout_keeps_only_charts_that_combine_series_and_skips_what_is_not_logged():
    """Each metric's own chart (SCALARS tab) already overlays real data's run; the layout adds only combinations."""
    logged = {"metrics/fid", "metrics/precision", "metrics/recall", "metrics/birthday_support_size",
              "metrics/birthday_support_size_low", "metrics/birthday_support_size_high"}
    layout = custom_scalars_layout(logged)
    charts = {title: chart for category in layout.values() for title, chart in category.items()}
    assert charts["Precision and recall"] == ["Multiline", ["^metrics/precision$", "^metrics/recall$"]]
    assert re.match(charts["Precision and recall"][1][0], "metrics/precision")
    assert not re.match(charts["Precision and recall"][1][0], "metrics/precision_std")
    assert not any(title.startswith(("FID", "Density", "Class accuracy")) for title in charts)  # no single-series chart
    margin = next(chart for chart in charts.values() if chart[0] == "Margin")
    assert margin[1] == ["metrics/birthday_support_size", "metrics/birthday_support_size_low",
                         "metrics/birthday_support_size_high"]
    assert "Training" in layout


def test_config_and_settings_render_as_markdown():
    text = config_markdown({"data": {"name": "ring8"}, "seed": 0})
    assert text == "```yaml\ndata:\n  name: ring8\nseed: 0\n```"
    table = settings_markdown({"settings/num_samples": 5000.0, "settings/evaluator": "mixture"})
    assert table.splitlines() == ["| setting | value |", "|---|---|", "| `settings/evaluator` | mixture |",
                                  "| `settings/num_samples` | 5000 |"]
