"""gan_lab installs like a package: a built wheel carries the configs and trains from any folder."""

from __future__ import annotations

import subprocess
import sys

from helpers.runs import REPO_ROOT, run_cli


def test_a_wheel_installed_gan_lab_trains_from_an_empty_folder(tmp_path):
    wheels, target, empty = tmp_path / "wheels", tmp_path / "site", tmp_path / "empty"
    empty.mkdir()
    build = subprocess.run([sys.executable, "-m", "pip", "wheel", str(REPO_ROOT), "--no-deps", "--no-build-isolation",
                            "--quiet", "-w", str(wheels)], capture_output=True, text=True, timeout=300)
    assert build.returncode == 0, build.stderr[-2000:]
    (wheel,) = wheels.glob("gan_lab-*.whl")
    install = subprocess.run([sys.executable, "-m", "pip", "install", "--no-deps", "--quiet", "--target", str(target),
                              str(wheel)], capture_output=True, text=True, timeout=300)
    assert install.returncode == 0, install.stderr[-2000:]
    assert (target / "gan_lab" / "configs" / "config.yaml").is_file()
    env = {"PYTHONPATH": str(target)}  # the wheel's gan_lab, not this checkout's
    where = run_cli("gan_lab.cli.config_paths", [], empty, env=env)  # importable without side effects
    assert where.returncode == 0
    result = run_cli("gan_lab.cli.train", ["data=ring8", "trainer.max_epochs=1", "trainer.limit_train_batches=2",
                                       "evaluation=none", "callbacks.progress_bar=null", "hydra.run.dir=run"], empty, env=env)
    assert result.returncode == 0, result.stderr[-2000:]
    assert "Finished." in result.stdout and (empty / "run" / "checkpoints" / "last.ckpt").is_file()
    check = subprocess.run([sys.executable, "-c", "import gan_lab.cli.config_paths as c; print(c.CONFIG_DIR)"], cwd=empty,
                           env={**env, "PATH": ""}, capture_output=True, text=True)
    assert check.stdout.strip() == str(target / "gan_lab" / "configs")


def test_help_lists_the_config_groups_and_their_choices(tmp_path):
    result = run_cli("gan_lab.cli.train", ["--help"], tmp_path)
    assert result.returncode == 0
    assert "optimizer: adam, rmsprop, sgd" in result.stdout and "model: acgan, cgan" in result.stdout
