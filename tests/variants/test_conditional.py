"""Variants beyond the loss: the conditioning channel, loss terms on auxiliary outputs, and the shipped
cGAN, ACGAN, InfoGAN, WGAN with clipping, spectral norm and optimiser choices, end to end."""

from __future__ import annotations

import math
import os
import textwrap

import pytest
import torch
import torch.nn.functional as F
from helpers.runs import (NO_METRICS, REPO_ROOT, SMALL_METRICS, TINY_NETS, TINY_TRAINER, compose_config, run_cli,
                      tiny_overrides)
from hydra.utils import instantiate
from torch import nn

from gan_lab.errors import ConfigError
from gan_lab.cli.evaluate import evaluate
from gan_lab.evaluation import ClassAccuracy, CodeClassAgreement, IntraFID, RealData, Scored
from gan_lab.training.losses import GANLoss, bce_discriminator_loss, non_saturating_generator_loss
from gan_lab.metrics import features_to_statistics, statistics_to_frechet_distance
from gan_lab.training.module import DiscriminatorContractError, GANModule, Judgement
from gan_lab.cli.train import train
from gan_lab.variants.acgan import ACGAN
from gan_lab.variants.cgan import ProjectionDiscriminator
from gan_lab.variants.infogan import InfoGAN
from gan_lab.variants.wgan_clip import clip_weights


def build(overrides, tmp_path):
    return instantiate(compose_config(overrides, tmp_path).model)


# ---------------------------------------------------------------- the contract
class TupleOfWrongShape(nn.Module):
    input_shape = (2,)

    def __init__(self) -> None:
        super().__init__()
        self.linear = nn.Linear(2, 3)

    def forward(self, x):
        return self.linear(x)  # (N, 3): not one logit per sample


def test_a_discriminator_that_breaks_the_contract_fails_at_the_first_step_naming_it():
    generator = nn.Linear(2, 2)
    generator.latent_dim, generator.output_shape = 2, (2,)
    module = GANModule(generator, TupleOfWrongShape(), GANLoss(bce_discriminator_loss, non_saturating_generator_loss),
                       torch.optim.Adam, torch.optim.Adam)
    with pytest.raises(DiscriminatorContractError, match=r"must return its logits as a tensor of shape \(4,\)"):
        module.judge(torch.randn(4, 2), None)
    module.discriminator.forward = lambda x: {"logits": x[:, 0]}
    with pytest.raises(DiscriminatorContractError, match="returned dict"):
        module.judge(torch.randn(4, 2), None)
    module.discriminator.forward = lambda x: (x[:, 0], x)
    judged = module.judge(torch.randn(4, 2), None)
    assert judged.logits.shape == (4,) and judged.extras[0].shape == (4, 2) and judged.condition is None


def test_an_unconditional_module_draws_exactly_the_noise_it_always_drew(tmp_path):
    module = build([*tiny_overrides("ring8"), *NO_METRICS], tmp_path)
    inputs = module.sample_inputs(5, torch.Generator().manual_seed(3))
    assert inputs.condition is None
    assert torch.equal(inputs.z, torch.randn(5, module.latent_dim, generator=torch.Generator().manual_seed(3)))
    assert torch.equal(module.generate(5, seed=3), module.sampling_generator.eval()(inputs.z))


# ---------------------------------------------------------------- known answers
def test_the_projection_discriminator_adds_the_label_embedding_times_the_features(tmp_path):
    module = build([*tiny_overrides("ring8"), *NO_METRICS, "model=cgan"], tmp_path)
    d = module.discriminator
    assert isinstance(d, ProjectionDiscriminator) and module.discriminator_is_conditional
    with torch.no_grad():
        d.embed.weight.normal_()
    x, y = torch.randn(6, 2), torch.tensor([0, 1, 2, 3, 4, 7])
    features = d.body.feature_vector(x)
    expected = d.body.head(features) + (d.embed.weight[y] * features).sum(1)
    torch.testing.assert_close(d(x, y), expected)
    torch.testing.assert_close(module.judge(x, y).logits, expected)


def test_conditional_generators_take_the_class_and_the_evaluation_draws_classes_by_frequency(tmp_path):
    module = build([*tiny_overrides("digits"), *NO_METRICS, "model=cgan"], tmp_path)
    assert module.latent_dim == 8 and module.generator.net.latent_dim == 8 + 16  # noise + label embedding
    module.class_frequencies.copy_(torch.tensor([0.0] * 9 + [1.0]))
    inputs = module.sample_inputs(50, torch.Generator().manual_seed(0))
    assert (inputs.condition == 9).all()
    again = module.sample_inputs(50, torch.Generator().manual_seed(0))
    assert torch.equal(inputs.z, again.z)  # the same seed, the same inputs
    fours = module.generate(3, seed=1, values=torch.full((3,), 4))
    with torch.no_grad():
        module.sampling_generator.eval()
        z = module.sample_latent(3, torch.Generator().manual_seed(1))
        torch.testing.assert_close(fours, module.sampling_generator(z, torch.full((3,), 4)))


def test_acgan_adds_the_class_cross_entropy_to_both_players():
    module = ACGAN.__new__(ACGAN)
    nn.Module.__init__(module)
    module.class_loss_weight = 0.5
    real_classes, fake_classes = torch.randn(4, 3), torch.randn(4, 3)
    real = Judgement(torch.zeros(4), (real_classes,), torch.tensor([0, 1, 2, 0]))
    fake = Judgement(torch.zeros(4), (fake_classes,), torch.tensor([2, 2, 1, 0]))
    d = module.discriminator_terms(real, fake)["train/class_loss_d"]
    g = module.generator_terms(fake, None)["train/class_loss_g"]
    torch.testing.assert_close(d, 0.5 * (F.cross_entropy(real_classes, real.condition) + F.cross_entropy(fake_classes, fake.condition)))
    torch.testing.assert_close(g, 0.5 * F.cross_entropy(fake_classes, fake.condition))


def test_infogan_codes_round_trip_and_its_information_loss_is_cross_entropy_plus_half_squared_error(tmp_path):
    module = build([*tiny_overrides("ring8"), *NO_METRICS, "model=infogan", "model.num_continuous=2"], tmp_path)
    assert isinstance(module, InfoGAN) and module.num_codes == 8 and module.condition_kind == "code"
    inputs = module.sample_inputs(200, torch.Generator().manual_seed(0))
    codes = module.condition_value(inputs.condition)
    assert inputs.condition.shape == (200, 10) and set(codes.tolist()) == set(range(8))
    assert inputs.condition[:, 8:].abs().max() <= 1
    assert torch.equal(module.condition_value(module.condition_for(codes)), codes)
    code_logits, means = torch.randn(200, 8), torch.randn(200, 2)
    fake = Judgement(torch.zeros(200), (code_logits, means), inputs.condition)
    expected = F.cross_entropy(code_logits, codes) + 0.5 * (means - inputs.condition[:, 8:]).pow(2).sum(1).mean()
    torch.testing.assert_close(module.generator_terms(fake, None)["train/info_loss_g"], expected)
    torch.testing.assert_close(module.discriminator_terms(None, fake)["train/info_loss_d"], expected)


def scored(probs, requested, kind, labels=None, features=None):
    return Scored(torch.zeros(len(probs), 2), features if features is not None else torch.zeros(len(probs), 2),
                  probs.double(), labels=labels, requested=requested, condition_kind=kind)


def test_class_accuracy_and_code_class_agreement_have_known_answers():
    probs = F.one_hot(torch.tensor([0, 1, 1, 2, 2, 2]), 3).double()
    real = RealData(None, None, scored(probs, None, None), scored(probs, None, None, labels=torch.tensor([0, 1, 2, 2, 2, 2])),
                    seed=0, condition_kind="class")
    accuracy = ClassAccuracy()
    assert accuracy.prepare(real) == {"reference/class_accuracy": pytest.approx(5 / 6)}
    fake = scored(probs, torch.tensor([0, 1, 0, 2, 2, 1]), "class")
    assert accuracy.compute(fake, real) == {"metrics/class_accuracy": pytest.approx(4 / 6)}
    assert accuracy.compute(scored(probs, None, None), real) == {}  # an unconditional model logs nothing
    # Code 0 draws classes {0, 1, 1}: majority 2 of 3; code 1 draws {2, 2, 2}: 3 of 3; chance: class 2's 3 of 6.
    agreement = CodeClassAgreement().compute(scored(probs, torch.tensor([0, 0, 0, 1, 1, 1]), "code"), real)
    assert agreement == {"metrics/code_class_agreement": pytest.approx(5 / 6), "metrics/code_class_chance": pytest.approx(3 / 6)}
    assert CodeClassAgreement().compute(fake, real) == {}  # class-conditional: not InfoGAN's metric


def test_intra_fid_compares_each_class_at_the_held_out_class_size():
    g = torch.Generator().manual_seed(0)
    labels = torch.tensor([0] * 40 + [1] * 40)
    train_features = torch.randn(80, 3, generator=g, dtype=torch.float64) + labels[:, None] * 3
    held_labels = torch.tensor([0] * 5 + [1] * 5)
    held_features = torch.randn(10, 3, generator=g, dtype=torch.float64) + held_labels[:, None] * 3
    probs = torch.full((80, 2), 0.5)
    real = RealData(None, None, scored(probs, None, None, labels=labels, features=train_features),
                    scored(probs[:10], None, None, labels=held_labels, features=held_features), seed=0, condition_kind="class")
    metric = IntraFID(max_subsets=3)
    prepared = metric.prepare(real)

    def fid(a, b):
        return statistics_to_frechet_distance(*features_to_statistics(a), *features_to_statistics(b))

    expected_reference = (fid(train_features[:40], held_features[:5]) + fid(train_features[40:], held_features[5:])) / 2
    assert prepared["reference/intra_fid"] == pytest.approx(expected_reference, rel=1e-9)
    fake_features = torch.randn(40, 3, generator=g, dtype=torch.float64)
    requested = torch.tensor([0, 1] * 20)
    values = metric.compute(scored(probs[:40], requested, "class", features=fake_features), real)
    per_class = []
    for label in (0, 1):
        mine = fake_features[requested == label]
        per_class.append(sum(fid(train_features[labels == label], s) for s in mine[:15].split(5)) / 3)  # 3 subsets of 5
    assert values["metrics/intra_fid"] == pytest.approx(sum(per_class) / 2, rel=1e-9)


# ---------------------------------------------------------------- training, everywhere
@pytest.mark.parametrize("model", ["cgan", "acgan", "infogan"])
@pytest.mark.parametrize("data", ["digits", "ring8"])
def test_conditional_variants_train_evaluate_and_reproduce(tmp_path, model, data):
    cfg = compose_config([*tiny_overrides(data), *SMALL_METRICS, f"model={model}"], tmp_path)
    values = train(cfg, tmp_path)
    if model == "infogan":
        assert 0 < values["metrics/code_class_agreement"] <= 1 and "metrics/class_accuracy" not in values
    else:
        assert 0 <= values["metrics/class_accuracy"] <= 1 and values["reference/class_accuracy"] > 0.9
        assert math.isfinite(values["metrics/intra_fid"]) and "metrics/code_class_agreement" not in values
    frames = {p.parent.name for p in (tmp_path / "frames").rglob("*.png")}
    assert frames == ({"game_field"} if data == "ring8" else {"samples_grid"})
    assert (tmp_path / ("game.gif" if data == "ring8" else "samples.gif")).is_file()
    again = evaluate(str(tmp_path / "checkpoints" / "last.ckpt"))  # gan-lab-eval: the same numbers
    for tag in [t for t in values if t.startswith("metrics/")]:
        assert again[tag] == pytest.approx(values[tag], rel=1e-6, abs=1e-9), tag


def test_a_conditional_image_run_logs_a_grid_with_one_row_per_class(tmp_path):
    from helpers.runs import events

    cfg = compose_config([*tiny_overrides("digits"), *SMALL_METRICS, "model=acgan"], tmp_path)
    train(cfg, tmp_path)
    (image,) = events(tmp_path).Images("samples/by_class")
    assert (image.width, image.height) == (8 * 9 + 1, 10 * 9 + 1)  # 8 columns, 10 classes of 8x8 digits, 1-pixel gaps


def test_wgan_with_clipping_keeps_the_critic_in_the_box_and_logs_a_critics_scalars(tmp_path):
    assert compose_config(["loss=wgan_clip"], tmp_path).model.d_steps_per_g_step == 1  # the loss preset: the loss alone
    cfg = compose_config([*tiny_overrides("ring8"), *NO_METRICS, "experiment=wgan_clip"], tmp_path)  # the paper's schedule
    assert cfg.model.d_steps_per_g_step == 5 and cfg.model.optimizer_d._target_ == "torch.optim.RMSprop"
    assert cfg.model.optimizer_d.lr == 5e-5 and "betas" not in cfg.model.optimizer_d
    values = train(cfg, tmp_path)
    assert {"train/critic_real", "train/critic_fake", "train/wasserstein_estimate"} <= set(values)
    assert "train/d_real" not in values
    critic = torch.load(tmp_path / "checkpoints" / "last.ckpt", weights_only=False)["state_dict"]
    assert max(v.abs().max().item() for k, v in critic.items() if k.startswith("discriminator.")) <= 0.01
    layer = nn.Linear(3, 3)
    clip_weights(layer, 0.1)
    assert layer.weight.abs().max() <= 0.1 and layer.bias.abs().max() <= 0.1


def test_optimizers_are_a_group_with_their_own_keys_and_per_player_settings(tmp_path):
    cfg = compose_config([*tiny_overrides("ring8"), *NO_METRICS, "optimizer=sgd", "model.optimizer_d.lr=0.05"], tmp_path)
    module = instantiate(cfg.model)
    opt_g, opt_d = module.configure_optimizers()
    assert type(opt_g) is torch.optim.SGD and opt_g.param_groups[0]["lr"] == 1e-3 and opt_d.param_groups[0]["lr"] == 0.05
    rms = instantiate(compose_config([*tiny_overrides("ring8"), *NO_METRICS, "optimizer=rmsprop"], tmp_path).model)
    assert all(type(o) is torch.optim.RMSprop for o in rms.configure_optimizers())
    wrong = instantiate(compose_config([*tiny_overrides("ring8"), *NO_METRICS, "optimizer=rmsprop",
                                        "+model.optimizer_d.betas=[0.5,0.9]"], tmp_path).model)
    with pytest.raises(ConfigError, match=r"model.optimizer_d: RMSprop .*'betas'.*it takes \['lr', 'alpha'"):
        wrong.configure_optimizers()
    with pytest.raises(Exception, match="Could not find 'optimizer/adamw'"):
        compose_config([*tiny_overrides("ring8"), "optimizer=adamw"], tmp_path)


def test_a_scheduler_per_player(tmp_path):
    decay = "{_target_: torch.optim.lr_scheduler.StepLR, _partial_: true, step_size: 1, gamma: 0.5}"
    cfg = compose_config([*tiny_overrides("ring8"), *NO_METRICS, "trainer.max_epochs=2", f"model.lr_scheduler_d={decay}"],
                         tmp_path)
    module = instantiate(cfg.model)
    train_module(cfg, module, tmp_path)
    opt_g, opt_d = module.optimizers()
    assert opt_g.param_groups[0]["lr"] == cfg.model.optimizer_g.lr and opt_d.param_groups[0]["lr"] == cfg.model.optimizer_d.lr / 4


def train_module(cfg, module, tmp_path):
    from helpers.runs import bare_trainer

    bare_trainer(max_epochs=cfg.trainer.max_epochs, limit_train_batches=3).fit(module, datamodule=instantiate(cfg.data))


@pytest.mark.parametrize("net", ["mlp", "pacgan_mlp", "dcgan"])
def test_spectral_norm_is_a_setting_of_every_discriminator(tmp_path, net):
    base = ["data=digits", *TINY_TRAINER, *TINY_NETS["dcgan"]] if net == "dcgan" else tiny_overrides("ring8")
    cfg = compose_config([*base, *NO_METRICS, f"net={net}", "net.discriminator.spectral_norm=true"], tmp_path)
    module = instantiate(cfg.model)
    linear = [m for m in module.discriminator.modules() if isinstance(m, (nn.Linear, nn.Conv2d))]
    assert linear and all(hasattr(m, "parametrizations") for m in linear)
    train_module(cfg, module, tmp_path)
    weight = linear[-1].weight.detach()  # the normalised weight: largest singular value about 1
    assert torch.linalg.matrix_norm(weight.flatten(1), ord=2).item() == pytest.approx(1.0, abs=0.1)


def test_conditional_settings_that_cannot_work_fail_before_training(tmp_path):
    with pytest.raises(Exception, match="model.pack must be 1"):
        build([*tiny_overrides("ring8"), *NO_METRICS, "model=cgan", "model.pack=2", "data.batch_size=32"], tmp_path)


# ---------------------------------------------------------------- nothing lost to an evaluation error
def test_a_metric_that_raises_leaves_a_resumable_checkpoint_of_the_epoch_it_was_evaluating(tmp_path):
    flaky = ["+evaluation.metrics.flaky._target_=helpers.metrics.FailsAtEvaluation", "+evaluation.metrics.flaky.number=2"]
    cfg = compose_config([*tiny_overrides("ring8"), *SMALL_METRICS, "trainer.max_epochs=3", *flaky], tmp_path)
    with pytest.raises(RuntimeError, match="metric failed at evaluation 2"):
        train(cfg, tmp_path)
    last = tmp_path / "checkpoints" / "last.ckpt"
    checkpoint = torch.load(last, weights_only=False)
    assert checkpoint["epoch"] == 1 and checkpoint["gan_lab_steps_done"] == 6  # the second epoch, being evaluated
    resumed = compose_config([*tiny_overrides("ring8"), *SMALL_METRICS, "trainer.max_epochs=3", "ckpt_path=last"],
                             tmp_path)
    values = train(resumed, tmp_path)
    assert torch.load(last, weights_only=False)["gan_lab_steps_done"] == 9 and "metrics/modes_covered" in values


# ---------------------------------------------------------------- a conditional variant outside the repository
def test_a_conditional_variant_outside_the_repository_trains_and_evaluates(tmp_path):
    """The README's third depth: a cGAN whose D sees the label concatenated to its input, in a folder of its own."""
    (tmp_path / "concat_cgan.py").write_text(textwrap.dedent('''
        import torch
        from torch import nn
        from gan_lab.variants.conditioning import LabelConditionalGAN


        class LabelledInput(nn.Module):
            """D(x, y): the one-hot label appended to the flattened sample, then any gan_lab discriminator."""

            def __init__(self, discriminator_factory, num_classes, input_shape):
                super().__init__()
                self.num_classes, self.input_shape = num_classes, tuple(input_shape)
                self.net = discriminator_factory(input_shape=[int(torch.tensor(input_shape).prod()) + num_classes])

            def forward(self, x, labels):
                one_hot = nn.functional.one_hot(labels, self.num_classes).float()
                return self.net(torch.cat([x.flatten(1), one_hot], dim=1))


        class ConcatConditionalGAN(LabelConditionalGAN):
            discriminator_is_conditional = True

            def __init__(self, generator, discriminator, *args, num_classes, **kwargs):
                shape = discriminator.keywords["input_shape"]
                super().__init__(generator, LabelledInput(discriminator, num_classes, shape), *args,
                                 num_classes=num_classes, **kwargs)
    '''))
    (tmp_path / "conf" / "model").mkdir(parents=True)
    (tmp_path / "conf" / "model" / "concat_cgan.yaml").write_text(textwrap.dedent('''
        defaults:
          - gan
          - _self_
        _target_: concat_cgan.ConcatConditionalGAN
        num_classes: ${data_classes:}
        generator: "${network:generator,{_partial_: true}}"
        discriminator: "${network:discriminator,{_partial_: true}}"
    '''))
    result = run_cli(
        "gan_lab.cli.train",
        [*tiny_overrides("ring8"), *SMALL_METRICS, "model=concat_cgan", f"hydra.searchpath=[file://{tmp_path / 'conf'}]",
         f"hydra.run.dir={tmp_path / 'run'}"],
        tmp_path,
        env={"PYTHONPATH": os.pathsep.join([str(tmp_path), str(REPO_ROOT)])},
    )
    assert result.returncode == 0, result.stderr[-3000:]
    assert "\nclass_accuracy " in result.stdout and (tmp_path / "run" / "game.gif").is_file()  # the summary table


def test_digits_enlarged_for_a_dcgan_are_scored_by_the_shipped_classifier_after_resizing(tmp_path):
    """The README's `gan-lab-train net=dcgan data.image_size=16`: real and generated digits are resized to 8x8."""
    cfg = compose_config(["data=digits", *TINY_TRAINER, *TINY_NETS["dcgan"], "net=dcgan", "data.image_size=16",
                          *SMALL_METRICS], tmp_path)
    values = train(cfg, tmp_path)
    assert "resized from 16x16 to 8x8" in values["settings/evaluator"]
    assert values["reference/inception_score"] > 8  # real digits, shrunk back, are still recognised
    from gan_lab.evaluation.evaluators.resize import Resized
    from gan_lab.evaluation.evaluators import evaluator_for
    from gan_lab.data import DigitsDataModule

    shipped = evaluator_for(DigitsDataModule(), "auto")
    digits = DigitsDataModule().load()[0][:20]  # (20, 1, 8, 8)
    enlarged = digits.repeat_interleave(2, dim=2).repeat_interleave(2, dim=3)  # each pixel a 2x2 block
    torch.testing.assert_close(Resized(shipped, (1, 16, 16)).features(enlarged), shipped.features(digits))


def test_near_copies_flag_a_memoriser_and_not_fresh_digits(tmp_path):
    """A "generator" that returns training digits is all near-copies; held-out digits score about the quantile."""
    from gan_lab.evaluation import NearCopies
    from gan_lab.evaluation.scored import score

    cfg = compose_config([*tiny_overrides("digits"), *SMALL_METRICS], tmp_path)
    evaluation, datamodule = instantiate(cfg.evaluation), instantiate(cfg.data)
    evaluation.prepare(datamodule)
    metric = NearCopies(quantile=0.01)
    prepared = metric.prepare(evaluation._real)
    assert prepared["reference/near_copy_fraction_pixels"] < 0.05
    assert prepared["reference/near_copy_fraction_features"] < 0.05
    copies = datamodule.train_set.tensors[0][:300]
    values = metric.compute(score(evaluation.evaluator, copies), evaluation._real)
    assert values == {"metrics/near_copy_fraction_pixels": 1.0, "metrics/near_copy_fraction_features": 1.0}
