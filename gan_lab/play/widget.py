"""The playground's controls in Jupyter, with ipywidgets: GAN Lab's buttons on gan_lab's training code.

Play runs as an asyncio task in the kernel's event loop: a few GAN steps, then one view update, then a
yield to the loop, so that a click on pause (or a slider) is handled between two frames.  Settings that keep
the networks apply at once; the data and the model rebuild the game (``Playground.reset``).

Every control is an attribute of the returned box's ``controls`` (a dict), so a test or a teacher's script
can drive it as a user would: ``box.controls["step_d"].click()``.
"""

from __future__ import annotations

import asyncio

from gan_lab.viz.figure import LAYERS

#: Loss and optimiser choices offered in the menus (any config choice works from Python).
LOSSES = ("non_saturating", "minimax", "least_squares", "hinge")
OPTIMIZERS = ("adam", "sgd", "rmsprop")
DATA = ("ring8", "grid25")
MODELS = ("gan", "minibatch_gan_2d")


def playground_widget(playground, steps_per_frame: int = 2, part_seconds: float = 0.6):
    """An ``ipywidgets.VBox`` that plays ``playground``; its ``controls`` dict holds every control."""
    import ipywidgets as w

    pg = playground
    wide = {"style": {"description_width": "initial"}, "layout": w.Layout(width="260px")}
    image = w.Image(value=pg.render(), format="png")
    status = w.HTML()
    controls = {
        "play": w.ToggleButton(description="play", icon="play", tooltip="play / pause"),
        "step": w.Button(description="step both", tooltip="one GAN step: D, then G"),
        "step_d": w.Button(description="step D", tooltip="one discriminator update alone"),
        "step_g": w.Button(description="step G", tooltip="one generator update alone"),
        "slow": w.Checkbox(description="slow: show a step's parts", value=False),
        "steps_per_frame": w.IntSlider(description="steps/frame", min=1, max=100, value=steps_per_frame, **wide),
        "loss": w.Dropdown(description="loss", options=LOSSES, value=_offered(pg._choices["loss"], LOSSES)),
        "optimizer_g": w.Dropdown(description="G optimiser", options=OPTIMIZERS, value="adam"),
        "optimizer_d": w.Dropdown(description="D optimiser", options=OPTIMIZERS, value="adam"),
        "lr_g": w.FloatLogSlider(description="G rate", min=-5, max=-1, value=pg.learning_rate("generator"),
                                 readout_format=".1e"),
        "lr_d": w.FloatLogSlider(description="D rate", min=-5, max=-1, value=pg.learning_rate("discriminator"),
                                 readout_format=".1e"),
        "d_steps": w.IntSlider(description="D steps", min=1, max=10, value=pg.module.d_steps_per_g_step),
        "g_steps": w.IntSlider(description="G steps", min=1, max=10, value=pg.module.g_steps),
        "data": w.Dropdown(description="data (resets)", options=DATA, **wide,
                           value=_offered(pg._choices["data"] if isinstance(pg._choices["data"], str) else "ring8", DATA)),
        "model": w.Dropdown(description="model (resets)", options=MODELS, **wide, value=_offered(pg._choices.get("model") or "gan", MODELS)),
        **{f"layer_{layer}": w.Checkbox(description=layer.replace("_", " "), value=True) for layer in LAYERS},
    }

    def show(note: str = "") -> None:
        image.value = pg.render()
        status.value = f"step {pg.steps_done} &nbsp; {note}"

    def guarded(action):
        def run(*_):
            try:
                action()
            except Exception as error:  # noqa: BLE001 - shown to the learner, the game goes on
                status.value = f"<b>not applied:</b> {error}"
        return run

    async def play() -> None:
        while controls["play"].value:
            if controls["slow"].value:
                for part in pg.step_in_parts():
                    show(part)
                    await asyncio.sleep(part_seconds)
            else:
                pg.step(controls["steps_per_frame"].value)
                show()
                await asyncio.sleep(0)  # let the kernel handle a click between frames

    def toggle(change) -> None:
        controls["play"].icon = "pause" if change["new"] else "play"
        if change["new"]:
            asyncio.ensure_future(play())

    controls["play"].observe(toggle, names="value")
    controls["step"].on_click(guarded(lambda: (pg.step(1), show())))
    controls["step_d"].on_click(guarded(lambda: (pg.step_discriminator(), show("D alone"))))
    controls["step_g"].on_click(guarded(lambda: (pg.step_generator(), show("G alone"))))
    controls["loss"].observe(guarded(lambda: (pg.set_loss(controls["loss"].value), show("loss changed"))), names="value")
    for player in ("g", "d"):
        name = {"g": "generator", "d": "discriminator"}[player]
        controls[f"lr_{player}"].observe(
            guarded(lambda name=name, player=player: pg.set_learning_rate(name, controls[f"lr_{player}"].value)),
            names="value")
        controls[f"optimizer_{player}"].observe(
            guarded(lambda name=name, player=player: pg.set_optimizer(name, controls[f"optimizer_{player}"].value)),
            names="value")
    controls["d_steps"].observe(guarded(lambda: pg.set_steps(d=controls["d_steps"].value)), names="value")
    controls["g_steps"].observe(guarded(lambda: pg.set_steps(g=controls["g_steps"].value)), names="value")

    def rebuild() -> None:
        controls["play"].value = False
        pg.reset(data=controls["data"].value, model=None if controls["model"].value == "gan" else controls["model"].value)
        show("new game")

    controls["data"].observe(guarded(rebuild), names="value")
    controls["model"].observe(guarded(rebuild), names="value")
    for layer in LAYERS:
        controls[f"layer_{layer}"].observe(
            guarded(lambda layer=layer: (pg.show_layers(**{layer: controls[f"layer_{layer}"].value}), show())),
            names="value")

    buttons = w.HBox([controls[name] for name in ("play", "step", "step_d", "step_g", "slow", "steps_per_frame")])
    settings = w.HBox([w.VBox([controls["loss"], controls["optimizer_g"], controls["optimizer_d"]]),
                       w.VBox([controls["lr_g"], controls["lr_d"], controls["d_steps"], controls["g_steps"]]),
                       w.VBox([controls["data"], controls["model"]])])
    layers = w.HBox([controls[f"layer_{layer}"] for layer in LAYERS])
    box = w.VBox([buttons, image, status, layers, settings])
    box.controls = controls
    show()
    return box


def _offered(value: str, options: tuple[str, ...]) -> str:
    return value if value in options else options[0]
