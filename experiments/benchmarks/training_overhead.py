"""What does Lightning cost? GANModule's training step vs a plain PyTorch loop.

    python experiments/benchmarks/training_overhead.py [--steps 300] [--repeats 5]

Both sides train the same networks (built from the same Hydra config and
seed) on the same data loader with the same batch size, doing the same work
per batch: one discriminator step, one generator step, the same losses, the
generator's gradient norm, the same logged values (to TensorBoard, every
step).  Runs alternate (Lightning, plain, Lightning, ...) so that machine
noise hits both alike; each side's time is the median over repeats of the
wall time of ``--steps`` batches, measured from the first to the last batch
(so Trainer start-up is excluded, but everything Lightning does between
batches is included).  The last line is ``ratio=<Lightning steps/s / plain steps/s>`` for the
worse of the two cases.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

import pytorch_lightning as pl
import torch
from hydra import compose, initialize_config_dir
from hydra.utils import instantiate
from torch.utils.tensorboard import SummaryWriter

from gan_lab.config_paths import CONFIG_DIR
from gan_lab.module import frozen, gradient_norm

CASES = {
    "digits DCGAN": ["data=digits"],
    "grid25 MLP": ["data=grid25"],
}


def build(overrides: list[str]):
    with initialize_config_dir(str(CONFIG_DIR), version_base="1.3"):
        cfg = compose("config", overrides=overrides)
    pl.seed_everything(0, verbose=False)
    return instantiate(cfg.model), instantiate(cfg.data)


class Stopwatch(pl.Callback):
    """Wall time from the start of the first training batch to the end of the last."""

    start: float | None = None

    def on_train_batch_start(self, trainer, pl_module, batch, batch_idx):
        if self.start is None:
            self.start = time.perf_counter()

    def on_train_end(self, trainer, pl_module):
        self.seconds = time.perf_counter() - self.start


def lightning_seconds(overrides: list[str], steps: int, log_dir: Path) -> float:
    model, datamodule = build(overrides)
    stopwatch = Stopwatch()
    trainer = pl.Trainer(
        accelerator="cpu", devices=1, max_epochs=-1, limit_train_batches=steps, max_steps=2 * steps,
        limit_val_batches=0, num_sanity_val_steps=0, log_every_n_steps=1, enable_checkpointing=False,
        enable_progress_bar=False, enable_model_summary=False, callbacks=[stopwatch],
        logger=pl.loggers.TensorBoardLogger(log_dir, name="lightning"),
    )
    trainer.fit(model, datamodule=datamodule)
    return stopwatch.seconds


def plain_seconds(overrides: list[str], steps: int, log_dir: Path) -> float:
    """The same training, written out by hand."""
    model, datamodule = build(overrides)
    generator, discriminator, loss = model.generator, model.discriminator, model.loss
    opt_g, opt_d = model.optimizer_g(generator.parameters()), model.optimizer_d(discriminator.parameters())
    writer = SummaryWriter(log_dir / "plain")
    datamodule.setup("fit")
    loader = datamodule.train_dataloader()
    batches = (batch for _ in iter(int, 1) for batch in loader)  # epoch after epoch, as Lightning does
    start = time.perf_counter()
    for step in range(steps):
        real, _ = next(batches)
        fake = generator(torch.randn(len(real), model.latent_dim)).detach()
        real_logits, fake_logits = discriminator(real), discriminator(fake)
        loss_d = loss.discriminator_loss(real_logits, fake_logits)
        opt_d.zero_grad(set_to_none=True)
        loss_d.backward()
        opt_d.step()
        with frozen(discriminator):
            loss_g = loss.generator_loss(discriminator(generator(torch.randn(len(real), model.latent_dim))))
            opt_g.zero_grad(set_to_none=True)
            loss_g.backward()
        grad_norm = gradient_norm(generator.parameters())
        opt_g.step()
        for tag, value in (("loss_d", loss_d), ("d_real", torch.sigmoid(real_logits).mean()),
                           ("d_fake", torch.sigmoid(fake_logits).mean()), ("loss_g", loss_g), ("grad_norm_g", grad_norm)):
            writer.add_scalar(f"train/{tag}", value.item(), step)
    seconds = time.perf_counter() - start
    writer.close()
    return seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--steps", type=int, default=300)
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for name, overrides in CASES.items():
            times = {"lightning": [], "plain": []}
            lightning_seconds(overrides, 20, Path(tmp))  # warm-up: imports, allocator, thread pools
            for _ in range(args.repeats):
                times["lightning"].append(lightning_seconds(overrides, args.steps, Path(tmp)))
                times["plain"].append(plain_seconds(overrides, args.steps, Path(tmp)))
            lightning, plain = statistics.median(times["lightning"]), statistics.median(times["plain"])
            rows.append((name, args.steps / lightning, args.steps / plain, plain / lightning))
    print(f"\n{args.steps} batches x {args.repeats} interleaved repeats, median wall time, torch threads={torch.get_num_threads()}\n")
    print("| case | Lightning steps/s | plain steps/s | ratio (Lightning / plain) |")
    print("|---|---|---|---|")
    for name, lightning_rate, plain_rate, ratio in rows:
        print(f"| {name} | {lightning_rate:.1f} | {plain_rate:.1f} | {ratio:.3f} |")
    # The worst case is the honest headline.
    print(f"ratio={min(row[3] for row in rows):.3f}")


if __name__ == "__main__":
    main()
