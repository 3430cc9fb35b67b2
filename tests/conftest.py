"""Fixtures for every test.  Shared helpers (tiny configs, the CLI runner) are in ``tests/helpers/``; the test
folders mirror the package (``tests/metrics/`` tests ``gan_lab/metrics/``), plus ``repository/`` (README,
notebooks, packaging) and ``experiments/`` (the studies' tooling)."""

from __future__ import annotations

import socket

import pytest


@pytest.fixture(autouse=True)
def no_network(monkeypatch):
    """Tests must never reach the network: any connection attempt fails loudly."""

    def refuse(*args, **kwargs):
        raise OSError("gan_lab tests must not use the network")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)
