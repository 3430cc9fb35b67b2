"""gan-lab-check: the parts that need no GPU (device listing, tolerances, report), and the CPU check end to end."""

from __future__ import annotations

import json
import math
from types import SimpleNamespace

import pytest
from helpers.runs import run_cli

from gan_lab.cli import check
from gan_lab.cli.check import Device, Row, disagreements, find_devices, format_report, largest_difference, precisions_for


def test_devices_are_listed_with_names_memory_and_lightning_settings(monkeypatch):
    monkeypatch.setattr(check.torch.cuda, "is_available", lambda: True)
    monkeypatch.setattr(check.torch.cuda, "device_count", lambda: 2)
    monkeypatch.setattr(check.torch.cuda, "get_device_properties",
                        lambda i: SimpleNamespace(name=f"Fake GPU {i}", total_memory=24 * 2**30))
    monkeypatch.setattr(check.torch.cuda, "is_bf16_supported", lambda: True)
    devices = find_devices()
    assert [d.label for d in devices][:3] == ["cpu", "cuda:0", "cuda:1"]
    gpu = devices[2]
    assert (gpu.name, gpu.memory_gb) == ("Fake GPU 1", 24.0)
    assert gpu.trainer_overrides() == ["trainer.accelerator=gpu", "trainer.devices=[1]"]
    assert devices[0].trainer_overrides() == ["trainer.accelerator=cpu", "trainer.devices=1"]
    assert precisions_for(gpu) == ["32-true", "16-mixed", "bf16-mixed"]
    assert precisions_for(devices[0]) == ["32-true", "bf16-mixed"]
    assert [d.label for d in find_devices(["cuda"])] == ["cuda:0", "cuda:1"]
    assert precisions_for(Device("mps", "Apple MPS")) == ["32-true", "16-mixed"]


def test_metrics_agree_within_the_stated_tolerance_and_infinities_must_match():
    reference = {"metrics/fid": 2.0, "reference/fid": 9.0, "metrics/birthday_support_size": math.inf,
                 "settings/evaluator": "x", "train/loss_d": 1.0}
    close = {"metrics/fid": 2.0015, "reference/fid": 9.0, "metrics/birthday_support_size": math.inf}
    assert disagreements(close, reference) == {}  # 7.5e-4 relative: within 1e-3; train/ and settings/ not compared
    assert set(disagreements({**close, "metrics/fid": 2.01}, reference)) == {"metrics/fid"}
    assert set(disagreements({**close, "metrics/birthday_support_size": 5e4}, reference)) == {"metrics/birthday_support_size"}
    assert set(disagreements({"metrics/fid": 2.0}, reference)) == {"reference/fid", "metrics/birthday_support_size"}
    assert largest_difference(close, reference) == pytest.approx(7.5e-4)


def test_the_report_is_a_table_with_a_result_per_row():
    rows = [Row("cpu", "32-true", "mlp", 80.5, 900.0, "reference device"),
            Row("cuda:0", "16-mixed", "dcgan32", 400.0, 300.0, "max rel. diff 2.0e-05")]
    rows[1].fail("metrics differ")
    table = format_report(rows).splitlines()
    assert table[0].split() == ["device", "precision", "case", "steps/s", "peak", "memory", "(MB)", "metric",
                                "agreement", "result"]
    assert table[2].endswith("pass") and table[3].endswith("FAIL") and "80.5" in table[2]


def test_unknown_choices_fail_with_the_valid_ones(tmp_path):
    result = run_cli("gan_lab.cli.check", ["--devices", "tpu"], tmp_path)
    assert result.returncode == 2 and "--devices takes cpu, cuda, mps" in result.stderr


@pytest.mark.slow
def test_gan_lab_check_passes_on_the_cpu_and_writes_its_report(tmp_path):
    out = tmp_path / "report.json"
    result = run_cli("gan_lab.cli.check", ["--devices", "cpu", "--cases", "mlp", "--steps", "10", "--out", str(out)],
                     tmp_path, timeout=600)
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-2000:]
    report = json.loads(out.read_text())
    assert report["passed"] and report["versions"]["torch"] and report["devices"][0]["kind"] == "cpu"
    kinds = [(row["device"], row["precision"]) for row in report["rows"]]
    assert kinds == [("cpu", "32-true"), ("cpu", "bf16-mixed"), ("ddp: 2 x cpu", "32-true")]
    assert all(row["passed"] and row["steps_per_second"] != 0 for row in report["rows"])
    assert "gan-lab-check: passed" in result.stdout
