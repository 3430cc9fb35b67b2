"""PacGAN (Lin et al. 2018): packing as a variant, PacGAN's 2D networks and its protocol presets."""

from __future__ import annotations

import pytest
import pytorch_lightning as pl
import torch
from helpers.runs import (
    NO_METRICS,
    SMALL_METRICS,
    TINY_NETS,
    TINY_TRAINER,
    bare_trainer,
    compose_config,
    tiny_overrides,
)
from hydra.utils import instantiate

from gan_lab.errors import ConfigError
from gan_lab.nets import Maxout, MaxoutDiscriminator, MLPGenerator
from gan_lab.training.packing import check_pack, pack_samples, packed_shape
from gan_lab.cli.train import train, user_message

#: PacGAN's preset, shrunk: a few steps of its own networks on a small data set.
TINY_PACGAN = ["data.dataset_size=4000", "trainer.max_epochs=1", "trainer.limit_train_batches=3",
               "trainer.limit_val_batches=1", "callbacks.progress_bar=null"]


def trained_weights(tmp_path, overrides):
    cfg = compose_config([*tiny_overrides("grid25"), *NO_METRICS, "data.batch_size=32", *overrides], tmp_path)
    pl.seed_everything(0, verbose=False)
    model, datamodule = instantiate(cfg.model), instantiate(cfg.data)
    trainer = bare_trainer(max_steps=2 * 6)
    trainer.fit(model, datamodule=datamodule)
    return torch.cat([p.detach().flatten() for p in model.parameters()])


def test_pack_of_one_is_the_vanilla_gan_exactly(tmp_path):
    vanilla = trained_weights(tmp_path / "gan", ["model=gan"])
    packed = trained_weights(tmp_path / "pac1", ["model=pacgan", "model.pack=1"])
    assert torch.equal(vanilla, packed)


def test_packs_are_consecutive_samples_concatenated():
    points = torch.arange(12.0).view(6, 2)  # six 2D points
    packs = pack_samples(points, 3)
    assert packs.tolist() == [[0, 1, 2, 3, 4, 5], [6, 7, 8, 9, 10, 11]]
    images = torch.arange(4 * 2 * 3 * 3.0).view(4, 2, 3, 3)  # (B, C, H, W)
    stacked = pack_samples(images, 2)  # PacDCGAN: the pack's images as channels
    assert stacked.shape == (2, 4, 3, 3) and torch.equal(stacked[1, 2:], images[3])
    assert packed_shape((2,), 4) == (8,) and packed_shape((3, 8, 8), 2) == (6, 8, 8)
    assert pack_samples(points, 1) is points


@pytest.mark.parametrize("data,net,pack,expected", [
    ("grid25", "pacgan_mlp", 3, (6,)),
    ("grid25", "mlp", 4, (8,)),
    ("digits", "mlp_image", 2, (2, 8, 8)),
    ("digits", "dcgan", 3, (3, 8, 8)),
])
def test_the_discriminator_sees_m_times_the_features(tmp_path, data, net, pack, expected):
    cfg = compose_config([f"data={data}", f"net={net}", "model=pacgan", f"model.pack={pack}"], tmp_path)
    model = instantiate(cfg.model)
    assert model.discriminator.input_shape == expected
    sample = model.generator(torch.randn(2 * pack, model.latent_dim))
    assert model.discriminator(pack_samples(sample, pack)).shape == (2,)
    if net == "pacgan_mlp":
        assert model.discriminator.features[0].linear.in_features == 2 * pack


def test_a_batch_size_that_is_not_a_multiple_of_the_pack_fails_before_training(tmp_path):
    cfg = compose_config([*tiny_overrides("grid25"), *NO_METRICS, "model=pacgan", "model.pack=3",
                          "data.batch_size=64"], tmp_path)
    with pytest.raises(ConfigError, match="data.batch_size=64 is not a multiple of model.pack=3"):
        train(cfg, tmp_path)


@pytest.mark.parametrize("pack", [0, -1, 1.5, True])
def test_a_bad_pack_is_a_config_error(pack):
    with pytest.raises(ConfigError, match="model.pack must be a positive whole number"):
        check_pack(pack)


def test_the_protocol_preset_trains_with_packs_of_four(tmp_path):
    """``gan-lab-train experiment=pacgan_grid25 model=pacgan model.pack=4``, a few steps of it."""
    cfg = compose_config(["experiment=pacgan_grid25", "model=pacgan", "model.pack=4", *TINY_PACGAN,
                          "evaluation.metrics.birthday.num_trials=10"], tmp_path)
    assert cfg.data.batch_size == 400  # 100 packs of 4 points
    values = train(cfg, tmp_path)
    assert values["settings/num_samples"] == 2500  # the evaluation samples G as usual: 2,500 points, not packs
    assert 0 <= values["metrics/modes_covered"] <= 25 and "metrics/high_quality_fraction" in values


def test_the_evaluation_samples_the_generator_as_usual(tmp_path):
    """Packing is the discriminator's business: the evaluated samples are G's, one by one, from the fixed seed."""
    results = {}
    for name, overrides in {"gan": ["model=gan"], "pac2": ["model=pacgan", "model.pack=2"]}.items():
        cfg = compose_config([*tiny_overrides("grid25"), *SMALL_METRICS, *overrides], tmp_path / name)
        pl.seed_everything(0, verbose=False)  # the same initial G in both (G is built before D)
        model, datamodule, evaluation = instantiate(cfg.model), instantiate(cfg.data), instantiate(cfg.evaluation)
        trainer = pl.Trainer(accelerator="cpu", logger=False, enable_progress_bar=False, enable_model_summary=False,
                             callbacks=[evaluation])
        trainer.validate(model, datamodule=datamodule, verbose=False)
        results[name] = evaluation.results
    for tag in ("metrics/modes_covered", "metrics/high_quality_fraction", "metrics/js_grid", "metrics/inception_score"):
        assert results["gan"][tag] == results["pac2"][tag], tag
    assert results["gan"]["settings/num_samples"] == 500


def test_maxout_keeps_the_largest_piece_and_pacgan_init():
    layer = Maxout(3, width=4, pieces=5)
    x = torch.randn(7, 3)
    pieces = layer.linear(x).view(7, 4, 5)
    assert torch.equal(layer(x), pieces.max(dim=2).values)
    d = MaxoutDiscriminator([6], hidden_dims=[200, 200], pieces=5, init_std=0.02)
    weights = torch.cat([m.linear.weight.flatten() for m in d.features])
    assert abs(weights.std().item() - 0.02) < 0.001 and all(float(m.linear.bias.abs().max()) == 0 for m in d.features)
    g = MLPGenerator(latent_dim=2, output_shape=[2], hidden_dims=[400, 400], batch_norm=True, init_std=0.02)
    hidden = [m for m in g.net[0] if isinstance(m, torch.nn.Linear)]
    assert all(m.bias is None for m in hidden)  # batch norm's shift replaces the bias
    assert sum(isinstance(m, torch.nn.BatchNorm1d) for m in g.net[0]) == 2


def test_a_convolutional_pacgan_on_digits_trains(tmp_path):
    cfg = compose_config(["data=digits", "net=dcgan", *TINY_NETS["dcgan"], *TINY_TRAINER, "model=pacgan",
                          "model.pack=2", "data.batch_size=16", *NO_METRICS], tmp_path)
    assert "train/loss_d" in train(cfg, tmp_path)


def test_a_preset_with_evaluation_none_trains_without_metrics(tmp_path):
    """An experiment preset's evaluation settings do not switch back on an evaluation the user turned off."""
    cfg = compose_config(["experiment=pacgan_ring8", *TINY_PACGAN, "evaluation=none"], tmp_path)
    values = train(cfg, tmp_path)
    assert "train/loss_d" in values and not any(tag.startswith("metrics/") for tag in values)


def test_config_error_message_names_the_fix(tmp_path):
    cfg = compose_config([*tiny_overrides("grid25"), *NO_METRICS, "model=pacgan", "model.pack=5",
                          "data.batch_size=32"], tmp_path)
    with pytest.raises(ConfigError) as err:
        train(cfg, tmp_path)
    assert "make data.batch_size a multiple of 5" in user_message(err.value)


def test_simultaneous_updates_take_both_gradients_before_either_player_moves(tmp_path):
    """PacGAN's 2D code (ALI's ``ali_algorithm``): one forward pass, each player's gradient of its own loss, then
    both steps. Checked against autograd on a copy of the networks, with plain SGD so a step is ``-lr * grad``."""
    import copy
    import functools

    from gan_lab.data import GaussianMixtureDataModule, grid_centers
    from gan_lab.training.losses import GANLoss, bce_discriminator_loss, non_saturating_generator_loss
    from gan_lab.training.module import GANModule
    from gan_lab.nets import MaxoutDiscriminator

    torch.manual_seed(0)
    g = MLPGenerator(latent_dim=2, output_shape=[2], hidden_dims=[16, 16], batch_norm=True)
    d = MaxoutDiscriminator([2], hidden_dims=[8], pieces=3)
    sgd = functools.partial(torch.optim.SGD, lr=0.1)
    module = GANModule(g, d, GANLoss(bce_discriminator_loss, non_saturating_generator_loss), sgd, sgd,
                       updates="simultaneous")
    data = GaussianMixtureDataModule(grid_centers(), std=0.05, dataset_size=40, batch_size=32, val_fraction=0.2)
    z = torch.randn(32, 2)
    module.sample_latent = lambda n, generator=None: z[:n]
    g0, d0 = copy.deepcopy(g), copy.deepcopy(d)
    real = data.train_set.tensors[0]  # the one batch holds every training point (in an order that does not matter)

    fake = g0(z)
    real_logits, fake_logits = d0(real), d0(fake)
    grads_d = torch.autograd.grad(bce_discriminator_loss(real_logits, fake_logits), list(d0.parameters()),
                                  retain_graph=True)
    grads_g = torch.autograd.grad(non_saturating_generator_loss(fake_logits), list(g0.parameters()))

    trainer = bare_trainer(max_steps=2)
    trainer.fit(module, datamodule=data)
    assert module.steps_done == 1
    for after, before, grad in [*zip(d.parameters(), d0.parameters(), grads_d),
                                *zip(g.parameters(), g0.parameters(), grads_g)]:
        torch.testing.assert_close(after, before - 0.1 * grad, rtol=1e-5, atol=1e-7)


def test_simultaneous_updates_need_one_discriminator_step_per_generator_step(tmp_path):
    cfg = compose_config([*tiny_overrides("grid25"), *NO_METRICS, "model.updates=simultaneous",
                          "model.d_steps_per_g_step=2"], tmp_path)
    with pytest.raises(Exception) as err:  # Hydra wraps the ConfigError; the CLI prints the message inside
        instantiate(cfg.model)
    assert "needs model.d_steps_per_g_step=1" in user_message(err.value)
    cfg = compose_config([*tiny_overrides("grid25"), *NO_METRICS, "model.updates=sideways"], tmp_path)
    with pytest.raises(Exception) as err:
        instantiate(cfg.model)
    assert "model.updates must be one of ['alternating', 'simultaneous']" in user_message(err.value)
