"""Minibatch discrimination on a CPU: four routes to the same layer, and the layer's cost inside a discriminator.

    python experiments/benchmarks/minibatch_discrimination_speed.py [--repeats 11] [--threads T]

0. The compiled route's build (``gan_lab.nets.minibatch_native.build``) into
   an empty directory: the one-off cost of the first use on a machine.
1. The layer alone (``gan_lab.nets.MinibatchDiscrimination``, B = 100 kernels
   of C = 5), forward + backward to T and to the input, for batch sizes N and
   feature widths A around gan_lab's: the routes "native" (compiled C, what
   the default "auto" runs when it is available), "fused" (pure PyTorch, what
   "auto" runs otherwise), "cdist" and "broadcast" (autograd references) of
   ``gan_lab.nets.minibatch_routes.ROUTES``, on the same layer and inputs,
   interleaved (each repeat runs every route once, in a rotating order), best
   of ``--repeats``.  The routes must give the same values and gradients
   (checked first, printed as the largest relative difference from the
   broadcast route) and the table also gives what each keeps for the
   backward pass.
2. One discriminator step (forward on a real and on a fake batch, BCE loss,
   backward, fused Adam step as ``configs/model/gan.yaml`` sets it) without
   the layer and with it (100 x 5 kernels, as in ``model=minibatch_gan``),
   for the grid25 MLP and the digits 8x8 DCGAN
   discriminators of ``configs/net``: the layer's overhead ratio with the
   "native", "fused" and "cdist" routes.

Timings are wall-clock on however many threads torch uses (printed), best of
``--repeats``: other jobs on the machine can only add time, and the
"noise" column (the largest median / best ratio of the row) shows how much
they did; near 1 means a quiet run.  The load average (other processes
wanting the cores) is printed at the start and the end.  About 40 s on 2 cores.
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import tempfile
import time
from pathlib import Path
from typing import Callable

import torch
import torch.nn.functional as F

from gan_lab.nets import DCGANDiscriminator, MinibatchDiscrimination, MLPDiscriminator, minibatch_native

NUM_KERNELS, KERNEL_DIM = 100, 5
LAYER_SIZES = [(16, 512), (64, 64), (64, 512), (128, 256), (256, 128), (256, 512)]  # (N, A)
ROUTE_ORDER = ["native", "fused", "cdist", "broadcast"]
STEP_ROUTES = ["native", "fused", "cdist"]


def interleaved_best(
    fns: dict[str, Callable[[], object]], repeats: int, warmup: int = 2
) -> tuple[dict[str, float], float]:
    """Best seconds per call of each function, the functions taking turns in a rotating order; and the noise.

    The noise is the largest ratio median / best over the functions.
    """
    names = list(fns)
    for _ in range(warmup):
        for name in names:
            fns[name]()
    times: dict[str, list[float]] = {name: [] for name in names}
    for r in range(repeats):
        for name in names[r % len(names) :] + names[: r % len(names)]:
            start = time.perf_counter()
            fns[name]()
            times[name].append(time.perf_counter() - start)
    noise = max(statistics.median(t) / min(t) for t in times.values())
    return {name: min(t) for name, t in times.items()}, noise


def saved_megabytes(fn: Callable[[], torch.Tensor]) -> float:
    """MB of distinct storages that autograd keeps for the backward of ``fn()``."""
    storages: dict[int, int] = {}

    def pack(t: torch.Tensor) -> torch.Tensor:
        storage = t.untyped_storage()
        storages[storage.data_ptr()] = storage.nbytes()
        return t

    with torch.autograd.graph.saved_tensors_hooks(pack, lambda t: t):
        fn()
    return sum(storages.values()) / 2**20


def layer_routes(repeats: int) -> None:
    print("## The layer alone: forward + backward, B x C = 100 x 5\n")
    print("| N | A | native (ms) | fused (ms) | cdist (ms) | broadcast (ms) | fused / native | cdist / native "
          "| max rel. diff. values, grads | kept for backward: native / fused / cdist / broadcast (MB) | noise |")
    print("|---|---|---|---|---|---|---|---|---|---|---|")
    for n, a in LAYER_SIZES:
        torch.manual_seed(0)
        layer = MinibatchDiscrimination(a, NUM_KERNELS, KERNEL_DIM)
        # Features on the scale of a discriminator's hidden layer, spread so that o is neither ~0 nor ~N - 1.
        x = (torch.randn(n, a) * 0.3).requires_grad_()
        upstream = torch.randn(n, a + NUM_KERNELS)

        def run(route: str) -> torch.Tensor:
            layer.route = route
            return layer(x)

        def step(route: str) -> Callable[[], None]:
            def fn() -> None:
                layer.zero_grad(set_to_none=True)
                x.grad = None
                run(route).backward(upstream)
            return fn

        results = {}
        for route in ROUTE_ORDER:
            step(route)()
            results[route] = (run(route).detach()[:, a:], x.grad.clone(), layer.T.grad.clone())
        ref = results["broadcast"]

        def rel(u: torch.Tensor, v: torch.Tensor) -> float:
            return ((u - v).abs().max() / v.abs().max()).item()

        value_diff = max(rel(results[r][0], ref[0]) for r in ROUTE_ORDER)
        grad_diff = max(max(rel(results[r][1], ref[1]), rel(results[r][2], ref[2])) for r in ROUTE_ORDER)
        assert value_diff < 1e-5 and grad_diff < 1e-4, f"routes disagree: {value_diff:.1e}, {grad_diff:.1e}"
        memory = {r: saved_megabytes(lambda r=r: run(r)) for r in ROUTE_ORDER}

        t, noise = interleaved_best({r: step(r) for r in ROUTE_ORDER}, repeats)
        print(f"| {n} | {a} | " + " | ".join(f"{t[r] * 1e3:.2f}" for r in ROUTE_ORDER)
              + f" | {t['fused'] / t['native']:.1f} | {t['cdist'] / t['native']:.1f} "
              f"| {value_diff:.0e}, {grad_diff:.0e} | " + " / ".join(f"{memory[r]:.1f}" for r in ROUTE_ORDER)
              + f" | {noise:.2f} |", flush=True)


def discriminator_steps(repeats: int) -> None:
    minibatch = {"num_kernels": NUM_KERNELS, "kernel_dim": KERNEL_DIM}
    # The networks of configs/net/mlp.yaml and configs/net/dcgan.yaml: (build, sample shape, batch sizes).
    # Batches: 64 in the mode-collapse experiments, 256 grid25's default, 16 digits' default.
    def mlp(mb):
        return MLPDiscriminator([2], [128, 128, 128], minibatch=mb)

    def dcgan(mb):
        return DCGANDiscriminator(8, 1, 32, minibatch=mb)

    cases = {
        "grid25 MLP (128, 128, 128)": (mlp, (2,), [64, 256]),
        "digits DCGAN 8x8, base width 32": (dcgan, (1, 8, 8), [16, 64]),
    }
    print("\n## One discriminator step (real + fake batch, BCE, backward, fused Adam), layer of 100 x 5 kernels\n")
    print("| discriminator | batch | without (ms) | with, native (ms) | with, fused (ms) | with, cdist (ms) "
          "| overhead ratio, native | overhead ratio, fused | overhead ratio, cdist | noise |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    for name, (build, shape, batches) in cases.items():
        for batch in batches:
            torch.manual_seed(0)
            nets = {"without": build(None)} | {route: build(minibatch) for route in STEP_ROUTES}
            for route in STEP_ROUTES:
                nets[route].head.minibatch.route = route
            # fused Adam, as configs/model/gan.yaml gives GANModule (T adds 0.5 M parameters to the DCGAN's 34 k)
            optimisers = {
                k: torch.optim.Adam(d.parameters(), lr=2e-4, betas=(0.5, 0.999), fused=True) for k, d in nets.items()
            }
            real, fake = torch.randn(batch, *shape), torch.randn(batch, *shape)
            ones, zeros = torch.ones(batch), torch.zeros(batch)

            def step(key: str) -> Callable[[], None]:
                d, opt = nets[key], optimisers[key]

                def fn() -> None:
                    opt.zero_grad(set_to_none=True)
                    # real and fake in separate calls, as GANModule does: o compares samples of one source
                    loss = F.binary_cross_entropy_with_logits(d(real), ones) + F.binary_cross_entropy_with_logits(
                        d(fake), zeros
                    )
                    loss.backward()
                    opt.step()
                return fn

            t, noise = interleaved_best({k: step(k) for k in nets}, repeats)
            print(f"| {name} | {batch} | {t['without'] * 1e3:.2f} | "
                  + " | ".join(f"{t[r] * 1e3:.2f}" for r in STEP_ROUTES) + " | "
                  + " | ".join(f"{t[r] / t['without']:.1f}" for r in STEP_ROUTES) + f" | {noise:.2f} |", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=11, help="timed runs per route and case (best reported)")
    parser.add_argument("--threads", type=int, default=None, help="torch threads (default: torch's own choice)")
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)  # 1 thread is the steadier comparison when other jobs share the cores
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads, {os.cpu_count()} CPUs, "
          f"{platform.machine()}, Python {platform.python_version()}; "
          f"load average {' '.join(f'{x:.2f}' for x in os.getloadavg())}\n")
    if not minibatch_native.available():
        raise SystemExit("the native route is unavailable (no C compiler?): nothing to compare")
    with tempfile.TemporaryDirectory() as empty:
        start = time.perf_counter()
        minibatch_native.build(Path(empty))
        print(f"Building the native route from scratch: {time.perf_counter() - start:.2f} s\n")
    start = time.perf_counter()
    layer_routes(args.repeats)
    discriminator_steps(args.repeats)
    print(f"\n(total {time.perf_counter() - start:.0f} s; load average {' '.join(f'{x:.2f}' for x in os.getloadavg())})")


if __name__ == "__main__":
    main()
