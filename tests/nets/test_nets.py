import pytest
import torch

from gan_lab.nets import DCGANDiscriminator, DCGANGenerator, MLPDiscriminator, MLPGenerator
from gan_lab.nets.dcgan import upsampling_plan


@pytest.mark.parametrize("image_size,channels", [(8, 1), (8, 3), (28, 1), (32, 3), (64, 3)])
def test_dcgan_shapes(image_size, channels):
    g = DCGANGenerator(latent_dim=16, image_size=image_size, channels=channels, base_width=8)
    d = DCGANDiscriminator(image_size=image_size, channels=channels, base_width=8)
    x = g(torch.randn(5, 16))
    assert x.shape == (5, channels, image_size, image_size)
    assert x.abs().max() <= 1
    assert d(x).shape == (5,)
    assert g.output_shape == d.input_shape


def test_upsampling_plan():
    assert upsampling_plan(8) == (4, 1)
    assert upsampling_plan(28) == (7, 2)
    assert upsampling_plan(32) == (4, 3)
    with pytest.raises(ValueError, match="even and >= 8"):
        upsampling_plan(7)


def test_mlp_shapes_and_minibatch_head():
    g = MLPGenerator(latent_dim=2, output_shape=[2], hidden_dims=[16])
    d = MLPDiscriminator(input_shape=[2], hidden_dims=[16], minibatch={"num_kernels": 4, "kernel_dim": 3})
    x = g(torch.randn(7, 2))
    assert x.shape == (7, 2) and d(x).shape == (7,)
    assert d.head.minibatch is not None and d.head.linear.in_features == 16 + 4


def test_dcgan_discriminator_with_minibatch_layer():
    d = DCGANDiscriminator(image_size=8, channels=3, base_width=8, minibatch={"num_kernels": 5, "kernel_dim": 2})
    assert d(torch.randn(4, 3, 8, 8)).shape == (4,)


def test_unknown_output_activation_lists_valid_ones():
    with pytest.raises(ValueError, match="valid: \\[None, 'tanh'\\]"):
        MLPGenerator(2, [2], output_activation="relu")


def test_every_trainer_config_key_is_a_trainer_argument():
    import inspect

    import pytorch_lightning as pl
    import yaml

    from gan_lab.cli.config_paths import CONFIG_DIR

    valid = set(inspect.signature(pl.Trainer.__init__).parameters)
    keys = set(yaml.safe_load((CONFIG_DIR / "trainer" / "default.yaml").read_text()))
    assert keys <= valid, keys - valid


def test_spectral_norm_bounds_every_layer_gain():
    torch.manual_seed(0)
    d = DCGANDiscriminator(image_size=8, channels=1, base_width=8, spectral_norm=True)
    for _ in range(30):  # power iterations run in training-mode forwards
        d(torch.randn(4, 1, 8, 8))
    linear = d.head.linear
    assert torch.linalg.matrix_norm(linear.weight, ord=2).item() == pytest.approx(1.0, rel=1e-3)


def test_generator_weight_average_is_what_samples_come_from(tmp_path):
    from helpers.runs import NO_METRICS, compose_config, tiny_overrides

    from gan_lab.cli.train import train

    cfg = compose_config([*tiny_overrides("ring8"), *NO_METRICS, "data.dataset_size=1000", "model.ema_decay=0.9"], tmp_path)
    train(cfg, tmp_path)
    from gan_lab.cli.checkpoints import load_model

    model, _, _ = load_model(tmp_path / "checkpoints" / "last.ckpt")
    assert model.generator_ema.n_averaged.item() == 3  # one update per generator step
    average, trained = model.sampling_generator, model.generator
    assert average is not trained
    assert not torch.equal(next(average.parameters()), next(trained.parameters()))
    z = model.sample_latent(5, torch.Generator().manual_seed(0))
    average.eval()
    assert torch.equal(model.generate(5, seed=0), average(z))
    with pytest.raises(ValueError, match="ema_decay"):
        type(model)(trained, model.discriminator, model.loss, model.optimizer_g, model.optimizer_d, ema_decay=1.5)


def test_learning_rate_schedule_is_stepped_every_epoch_for_both_players(tmp_path):
    from helpers.runs import NO_METRICS, compose_config, tiny_overrides

    from gan_lab.cli.checkpoints import read_checkpoint
    from gan_lab.cli.train import train

    decay = ("model.lr_scheduler={_target_:torch.optim.lr_scheduler.LinearLR,_partial_:true,"
             "start_factor:1.0,end_factor:0.0,total_iters:4}")
    cfg = compose_config([*tiny_overrides("ring8"), *NO_METRICS, "data.dataset_size=1000", "trainer.max_epochs=2",
                          decay, "model.optimizer_g.lr=1e-3", "model.optimizer_d.lr=2e-3"], tmp_path)
    train(cfg, tmp_path)
    checkpoint = read_checkpoint(tmp_path / "checkpoints" / "last.ckpt")
    rates = [state["param_groups"][0]["lr"] for state in checkpoint["optimizer_states"]]
    assert rates == pytest.approx([0.5e-3, 1e-3])  # 2 of 4 epochs of a linear decay to 0: half of each rate
    assert len(checkpoint["lr_schedulers"]) == 2
