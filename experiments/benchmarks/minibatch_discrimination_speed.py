"""Minibatch discrimination on a CPU: two ways to compute the L1 distances, and the layer's cost in D.

    python experiments/benchmarks/minibatch_discrimination_speed.py [--repeats 20]

1. The pairwise L1 distances between the rows M_{i,b} (the only costly part
   of the layer) with ``torch.cdist(p=1)`` over the kernels, as gan_lab does,
   against broadcasting |M_i - M_j|: forward + backward, same inputs, interleaved, best of
   ``--repeats``; they must agree to 1e-5.
2. A discriminator step (forward + backward on a real and a fake batch) with
   and without the layer, for the grid25 MLP and the digits DCGAN
   discriminators at their default sizes.
"""

from __future__ import annotations

import argparse
import time

import torch

from gan_lab.nets import DCGANDiscriminator, MLPDiscriminator


def l1_broadcast(m):  # (N, B, C) -> (N, N, B)
    return (m.unsqueeze(1) - m.unsqueeze(0)).abs().sum(dim=3)


def l1_cdist(m):
    return torch.cdist(m.transpose(0, 1), m.transpose(0, 1), p=1).permute(1, 2, 0)


def best_time(fn, repeats: int) -> float:
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times)


def distance_routes(repeats: int) -> None:
    print("| N | B x C | cdist p=1, gan_lab (ms) | broadcast (ms) | broadcast / cdist |\n|---|---|---|---|---|")
    for n, b, c in [(64, 100, 5), (256, 100, 5), (256, 50, 3)]:
        m = torch.randn(n, b, c, requires_grad=True)
        a, r = l1_broadcast(m), l1_cdist(m)
        assert torch.allclose(a, r, atol=1e-5), "the two routes disagree"

        def step(route):
            return lambda: torch.exp(-route(m)).sum().backward()

        broadcast, cdist = [], []
        for _ in range(repeats):  # interleaved
            broadcast.append(best_time(step(l1_broadcast), 1))
            cdist.append(best_time(step(l1_cdist), 1))
        tb, tc = min(broadcast), min(cdist)
        print(f"| {n} | {b} x {c} | {tc * 1e3:.2f} | {tb * 1e3:.2f} | {tb / tc:.2f} |")


def discriminator_cost(repeats: int) -> None:
    cases = {
        "grid25 MLP, batch 256": (lambda mb: MLPDiscriminator(input_shape=[2], hidden_dims=[128, 128, 128], minibatch=mb),
                                  (256, 2)),
        "digits DCGAN, batch 16": (lambda mb: DCGANDiscriminator(8, 1, 32, minibatch=mb), (16, 1, 8, 8)),
        "digits DCGAN, batch 64": (lambda mb: DCGANDiscriminator(8, 1, 32, minibatch=mb), (64, 1, 8, 8)),
    }
    print("\n| discriminator | without (ms) | with 100 x 5 kernels (ms) | ratio |\n|---|---|---|---|")
    for name, (build, shape) in cases.items():
        torch.manual_seed(0)
        plain, with_layer = build(None), build({"num_kernels": 100, "kernel_dim": 5})
        real, fake = torch.randn(shape), torch.randn(shape)

        def step(d):
            return lambda: (d(real).sum() + d(fake).sum()).backward()

        a, b = [], []
        for _ in range(repeats):
            a.append(best_time(step(plain), 1))
            b.append(best_time(step(with_layer), 1))
        print(f"| {name} | {min(a) * 1e3:.2f} | {min(b) * 1e3:.2f} | {min(b) / min(a):.2f} |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=20)
    args = parser.parse_args()
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads\n")
    distance_routes(args.repeats)
    discriminator_cost(args.repeats)


if __name__ == "__main__":
    main()
