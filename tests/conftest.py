"""Fixtures for every test.  Shared helpers (tiny configs, the CLI runner) are in ``tests/helpers/``; the test
folders mirror the package (``tests/metrics/`` tests ``gan_lab/metrics/``), plus ``repository/`` (README,
notebooks, packaging) and ``experiments/`` (the studies' tooling)."""

from __future__ import annotations

import os
import socket

import pytest
import torch

if os.environ.get("PYTEST_XDIST_WORKER"):
    # The README's command runs one pytest-xdist worker per core: each worker, and every process it starts (the
    # CLI, notebook kernels), computes on one thread, so that the workers share the machine instead of contending.
    for variable in ("OMP_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ[variable] = "1"
    torch.set_num_threads(1)


@pytest.fixture(autouse=True)
def no_network(monkeypatch):
    """Tests must never reach the network: any connection attempt fails loudly."""

    def refuse(*args, **kwargs):
        raise OSError("gan_lab tests must not use the network")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)
