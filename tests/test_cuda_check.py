"""gan_lab.cuda_check: Lightning's NVML-based CUDA check is dropped only where no CUDA device exists."""

import os

import torch

import gan_lab.module  # noqa: F401  (importing the training module applies the check)
from gan_lab.cuda_check import NVML_CHECK, use_fast_cuda_check


def test_the_nvml_check_is_dropped_without_a_cuda_device(monkeypatch):
    monkeypatch.setenv(NVML_CHECK, "1")  # what importing Lightning does
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    assert use_fast_cuda_check() is True
    assert NVML_CHECK not in os.environ


def test_the_nvml_check_stays_where_there_is_a_gpu(monkeypatch):
    monkeypatch.setenv(NVML_CHECK, "1")
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    assert use_fast_cuda_check() is False
    assert os.environ[NVML_CHECK] == "1"


def test_importing_gan_lab_leaves_no_slow_check_on_this_cpu_machine():
    if not torch.cuda.is_available():
        assert NVML_CHECK not in os.environ
