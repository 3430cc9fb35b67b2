"""What does Lightning cost? GANModule's training step vs a plain PyTorch loop.

    python experiments/benchmarks/training_overhead.py [--steps 3200] [--block 80] [overrides ...]

Both sides train the same networks (built from the same Hydra config and
seed) on the same data loader with the same batch size, doing the same work
per step: one discriminator step (its fakes made without a graph), one
generator step with fresh noise and only the generator's parameters requiring
gradients (``gan_lab.training.module.frozen`` on both sides), the same losses with the same NaN checks, the generator's gradient
norm, the update of the generator's weight average where the config keeps
one (the digits default), and the same five scalars to TensorBoard every step
(``log_every_n_steps=1`` on the Lightning side).  Hydra overrides given on the
command line apply to every case, e.g. ``data.steps_per_loader_batch=1``: each case
runs with its data set's configured steps per loader batch (8 for the 2D
mixtures) unless told otherwise, and both sides take that many steps per
loader batch.

How it is timed: finely interleaved, in one process.  ``trainer.fit`` runs
the GANModule; at the start of every block of Lightning's loader batches a
callback runs a block of the plain loop on its own copy of the networks.  A
block is ``--block`` training steps (``--block / S`` loader batches of S
steps) on either side.  A Lightning block is timed from the start of its
first batch to the start of the batch after its last, so it includes
everything Lightning does between batches (data fetching, hooks, logging)
and excludes the plain block run inside it.  Each pair of adjacent blocks gives one ratio (plain time /
Lightning time, i.e. Lightning steps/s over plain steps/s); the median over
pairs is reported.  Pairing adjacent blocks cancels the slow drifts in
machine speed that made whole-run comparisons on this shared 2-core machine
vary by +-20 % from run to run.  The first pair (warm-up) is dropped.

The last line is ``ratio=<Lightning steps/s / plain steps/s>`` for the
worst of the cases.
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time
from itertools import chain, repeat
from pathlib import Path

import pytorch_lightning as pl
import torch
from hydra.utils import instantiate
from torch.utils.tensorboard import SummaryWriter

from gan_lab.cli.compose import compose_config
from gan_lab.cli.cuda_check import NVML_CHECK, use_fast_cuda_check
from gan_lab.training.module import frozen, gradient_norm

#: The default digits run, the same data through the DCGAN pair, and the default 2D run.
CASES = {
    "digits MLP (default)": ["data=digits"],
    "digits DCGAN": ["data=digits", "net=dcgan"],
    "grid25 MLP (default)": ["data=grid25"],
}


def build(overrides: list[str], log_dir: Path):
    """The GANModule and data module ``gan-lab-train <overrides>`` would train, built with seed 0."""
    cfg = compose_config(overrides, run_dir=log_dir)
    pl.seed_everything(0, verbose=False)
    return instantiate(cfg.model), instantiate(cfg.data)


def check_finite(loss: torch.Tensor) -> None:
    """GANModule stops on a NaN or infinite loss before applying the step; so does the plain loop."""
    if not torch.isfinite(loss):
        raise FloatingPointError(f"loss became {loss.item()}")


class PlainLoop:
    """The same training as ``GANModule.training_step``, written out by hand."""

    def __init__(self, overrides: list[str], log_dir: Path) -> None:
        model, datamodule = build(overrides, log_dir)
        self.generator, self.discriminator, self.loss = model.generator, model.discriminator, model.loss
        self.generator_ema = model.generator_ema  # the weight average, when the config keeps one (digits default)
        self.latent_dim = model.latent_dim
        self.opt_g = model.optimizer_g(self.generator.parameters())
        self.opt_d = model.optimizer_d(self.discriminator.parameters())
        self.writer = SummaryWriter(log_dir / "plain")
        datamodule.setup("fit")
        loader = datamodule.train_dataloader()
        self.batches = chain.from_iterable(repeat(loader))  # epoch after epoch, as Lightning does
        self.step = 0

    def run(self, batches: int) -> float:
        """Train on ``batches`` loader batches (``steps_per_loader_batch`` steps each); return the wall time they took."""
        generator, discriminator, loss = self.generator, self.discriminator, self.loss
        start = time.perf_counter()
        for _ in range(batches):
            reals, _ = next(self.batches)
            if reals.ndim == len(generator.output_shape) + 1:  # (B, *shape): one step
                reals = reals.unsqueeze(0)
            for real in reals:
                with torch.no_grad():
                    fake = generator(torch.randn(len(real), self.latent_dim))
                real_logits, fake_logits = discriminator(real), discriminator(fake)
                loss_d = loss.discriminator_loss(real_logits, fake_logits)
                check_finite(loss_d)
                self.opt_d.zero_grad(set_to_none=True)
                loss_d.backward()
                self.opt_d.step()
                with frozen(discriminator):
                    loss_g = loss.generator_loss(discriminator(generator(torch.randn(len(real), self.latent_dim))))
                    check_finite(loss_g)
                    self.opt_g.zero_grad(set_to_none=True)
                    loss_g.backward()
                    grad_norm = gradient_norm(generator.parameters())
                    self.opt_g.step()
                if self.generator_ema is not None:
                    self.generator_ema.update_parameters(generator)
                scalars = {"loss_d": loss_d, "d_real": torch.sigmoid(real_logits).mean(),
                           "d_fake": torch.sigmoid(fake_logits).mean(), "grad_norm_g": grad_norm, "loss_g": loss_g}
                for tag, value in scalars.items():
                    self.writer.add_scalar(f"train/{tag}", value.item(), self.step)
                self.step += 1
        return time.perf_counter() - start


class Interleave(pl.Callback):
    """Every ``block`` Lightning batches, run ``block`` plain steps; time both sides block by block."""

    def __init__(self, plain: PlainLoop, block: int) -> None:
        self.plain, self.block = plain, block
        self.lightning_blocks: list[float] = []
        self.plain_blocks: list[float] = []
        self._block_start: float | None = None

    def on_train_batch_start(self, trainer, pl_module, batch, batch_idx) -> None:
        step = trainer.fit_loop.total_batch_idx  # counts across epochs
        if step % self.block:
            return
        now = time.perf_counter()
        if self._block_start is not None:
            self.lightning_blocks.append(now - self._block_start)
        self.plain_blocks.append(self.plain.run(self.block))
        self._block_start = time.perf_counter()  # the plain block is not Lightning's time

    def pairs(self) -> list[tuple[float, float]]:
        """(plain time, Lightning time) of each plain block and the Lightning block after it, warm-up dropped."""
        return list(zip(self.plain_blocks, self.lightning_blocks))[1:]


def measure(overrides: list[str], steps: int, block_steps: int, log_dir: Path) -> dict[str, float]:
    model, datamodule = build(overrides, log_dir)
    steps_per_loader_batch = datamodule.steps_per_loader_batch
    block = max(1, block_steps // steps_per_loader_batch)  # loader batches per block
    batches = max(2 * block, steps // steps_per_loader_batch)
    interleave = Interleave(PlainLoop(overrides, log_dir), block)
    trainer = pl.Trainer(
        accelerator="cpu", devices=1, max_epochs=-1, max_steps=2 * steps_per_loader_batch * (batches + block),  # 2 a step
        limit_val_batches=0, num_sanity_val_steps=0, log_every_n_steps=1, enable_checkpointing=False,
        enable_progress_bar=False, enable_model_summary=False, callbacks=[interleave],
        logger=pl.loggers.TensorBoardLogger(log_dir, name="lightning"),
    )
    trainer.fit(model, datamodule=datamodule)
    pairs = interleave.pairs()
    timed_steps = block * steps_per_loader_batch * len(pairs)
    return {"lightning_rate": timed_steps / sum(lightning for _, lightning in pairs),
            "plain_rate": timed_steps / sum(plain for plain, _ in pairs),
            "ratio": statistics.median(plain / lightning for plain, lightning in pairs), "pairs": len(pairs),
            "steps_per_loader_batch": steps_per_loader_batch}


def nvml_check_cost(steps: int = 500) -> tuple[float, float]:
    """Microseconds per Adam step of the default digits generator with and without Lightning's NVML check.

    ``gan_lab.cli.cuda_check`` drops ``PYTORCH_NVML_BASED_CUDA_CHECK`` on machines without a CUDA device;
    this puts it back for a moment to show what that saves (see that module's docstring).
    """
    model, _ = build(["data=digits"], Path(tempfile.gettempdir()))
    params = list(model.generator.parameters())
    for p in params:
        p.grad = torch.zeros_like(p)
    times = {}
    for check in ("1", None):  # with Lightning's setting, then as gan_lab leaves it
        previous = os.environ.pop(NVML_CHECK, None)
        if check:
            os.environ[NVML_CHECK] = check
        optimizer = torch.optim.Adam(params)  # torch's default (non-fused) Adam, as a plain loop would use
        start = time.perf_counter()
        for _ in range(steps):
            optimizer.step()
        times[check] = (time.perf_counter() - start) / steps * 1e6
        os.environ.pop(NVML_CHECK, None)
        if previous is not None:
            os.environ[NVML_CHECK] = previous
    return times["1"], times[None]


def main() -> None:
    use_fast_cuda_check()  # as gan-lab-train does before training
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--steps", type=int, default=3200, help="Lightning training steps per case (as many plain steps)")
    parser.add_argument("--block", type=int, default=80, help="training steps per block of each side")
    parser.add_argument("overrides", nargs="*", help="Hydra overrides for every case, e.g. data.steps_per_loader_batch=1")
    args = parser.parse_args()
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for name, overrides in CASES.items():
            overrides = [*overrides, *args.overrides]
            measure(overrides, 2 * args.block, args.block, Path(tmp) / "warmup")  # imports, allocator, thread pools
            rows.append((name, measure(overrides, args.steps, args.block, Path(tmp) / name.replace(" ", "_"))))
    print(f"\n{args.steps} steps a side in blocks of {args.block} steps, overrides {args.overrides}, "
          f"torch threads={torch.get_num_threads()}\n")
    print("| case | steps per loader batch | Lightning steps/s | plain steps/s | Lightning's extra time per step (ms) "
          "| median ratio of adjacent blocks (Lightning / plain) |")
    print("|---|---|---|---|---|---|")
    for name, row in sorted(rows, key=lambda item: -item[1]["ratio"]):  # the worst last
        extra_ms = 1000 / row["lightning_rate"] - 1000 / row["plain_rate"]
        print(f"| {name} | {row['steps_per_loader_batch']} | {row['lightning_rate']:.1f} | {row['plain_rate']:.1f} | "
              f"{extra_ms:.2f} | {row['ratio']:.3f} ({row['pairs']} pairs) |")
    if not torch.cuda.is_available():
        with_check, without = nvml_check_cost()
        print(f"\nAdam step of the digits generator: {with_check:.0f} us with Lightning's NVML-based CUDA check, "
              f"{without:.0f} us without it (gan_lab.cli.cuda_check drops it on machines without a CUDA device)")
    # The worst case is the honest headline.
    print(f"ratio={min(row['ratio'] for _, row in rows):.3f}")


if __name__ == "__main__":
    main()
