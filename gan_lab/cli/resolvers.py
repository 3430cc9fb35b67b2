"""The OmegaConf resolvers gan_lab's configs use, registered by the entry points (never at import).

``${data_shape:}`` is the shape of one sample of the configured data set, as
the data module class computes it from its own config
(:meth:`gan_lab.data.base.TensorDataModule.shape_from_config`): the data
module is the one owner of the shape, and every network config derives its
sizes from it, e.g. ``output_shape: ${data_shape:}``, ``channels:
${data_shape:0}``, ``image_size: ${data_shape:2}``.  So ``data.image_size=16``
resizes the data and every network follows.  ``${discriminator_shape:}``
is what the discriminator judges: the same shape, or with PacGAN's packing
(``model.pack = m``) the first axis m times longer.  ``${multiply:a,b}`` is
a * b (e.g. PacGAN's batches of 100 packs: ``${multiply:100,${model.pack}}``).
``${data_classes:}`` is how many classes the data's labels range over (a
conditional GAN's classes, InfoGAN's code values).
"""

from __future__ import annotations

from hydra.utils import get_class, instantiate
from omegaconf import DictConfig, OmegaConf

from gan_lab.errors import ConfigError
from gan_lab.training.packing import packed_shape

#: Networks by the kind of sample they take: named in the message when a net does not fit the data.
NETS_FOR = {1: ["mlp", "pacgan_mlp"], 3: ["mlp_image", "dcgan"]}


def data_shape(index: int | None = None, *, _root_: DictConfig) -> list[int] | int:
    """The sample shape of ``_root_.data`` (``[C, H, W]`` or ``[2]``), or its entry ``index``."""
    data = _root_.data
    return _entry(list(get_class(data._target_).shape_from_config(data)), index, _root_)


def discriminator_shape(index: int | None = None, *, _root_: DictConfig) -> list[int] | int:
    """The shape the discriminator judges: the sample shape, first axis times ``model.pack`` (1 if unset)."""
    data = _root_.data
    pack = OmegaConf.select(_root_, "model.pack", default=1)
    return _entry(list(packed_shape(get_class(data._target_).shape_from_config(data), pack)), index, _root_)


def _entry(shape: list[int], index: int | None, root: DictConfig) -> list[int] | int:
    """``shape``, or its entry ``index``; a network that needs images on 2D data gets one clear message."""
    if index is None:
        return shape
    if not -len(shape) <= int(index) < len(shape):
        name = root.data.get("name") or root.data._target_.rsplit(".", 1)[-1]
        fitting = NETS_FOR.get(len(shape), [])
        raise ConfigError(
            f"The network needs image samples (C, H, W), but data={name} has samples of shape {shape}. "
            f"Choose a network that fits it: net={' or net='.join(fitting)}."
        )
    return shape[int(index)]


def data_classes(*, _root_: DictConfig) -> int:
    """How many classes the labels of ``_root_.data`` range over (a mixture's components; 10 digits; ...)."""
    data = _root_.data
    count = getattr(get_class(data._target_), "num_classes", None)
    if count is None and data.get("centers") is not None:  # a Gaussian mixture: one class per component
        count = len(instantiate(data.centers))
    if count is None:
        name = data.get("name") or data._target_.rsplit(".", 1)[-1]
        raise ConfigError(f"data={name} has no class labels, which this model needs (a conditional GAN, ACGAN or "
                          "InfoGAN's code count: set model.num_classes or model.num_codes).")
    return int(count)


def multiply(a: float, b: float) -> float:
    """``a * b`` (an int when both are)."""
    return a * b


def network(role: str, changes: DictConfig | None = None, *, _root_: DictConfig) -> DictConfig:
    """The ``net`` group's ``role`` network (``generator`` or ``discriminator``) as the model takes it.

    The net group owns the networks' settings (``net.discriminator.dropout=0.3``); the model refers to them with
    ``${network:discriminator}``, and a model preset states only what it changes about them, e.g. minibatch
    discrimination, ``${network:discriminator,{minibatch: {num_kernels: 100, kernel_dim: 5}}}``.  The node comes
    back resolved (shapes filled in from the data), so that instantiating the model needs nothing outside it.
    """
    node = OmegaConf.create(OmegaConf.to_container(_root_.net[role], resolve=True))
    if changes is not None:
        node.merge_with(changes)
    return node


def register_resolvers() -> None:
    """Register gan_lab's resolvers with OmegaConf (idempotent)."""
    OmegaConf.register_new_resolver("data_shape", data_shape, replace=True)
    OmegaConf.register_new_resolver("discriminator_shape", discriminator_shape, replace=True)
    OmegaConf.register_new_resolver("multiply", multiply, replace=True)
    OmegaConf.register_new_resolver("data_classes", data_classes, replace=True)
    OmegaConf.register_new_resolver("network", network, replace=True)
