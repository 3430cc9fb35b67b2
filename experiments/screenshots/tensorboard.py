"""A run's TensorBoard as a user sees it, saved as a PNG by headless Chromium (not part of the test suite).

    python experiments/screenshots/tensorboard.py RUN_DIR OUT.png [--tags 'metrics/(modes_covered|js_grid)']

Starts ``tensorboard --logdir RUN_DIR`` on a free local port, opens the SCALARS tab with smoothing 0 and the
tag filter in Chromium (``apt-get install chromium``), waits for the charts, saves the screenshot, and stops
TensorBoard.  The committed ``docs/tensorboard_ring8.png`` was made with the command in docs/tensorboard.md.
"""

from __future__ import annotations

import argparse
import shutil
import socket
import subprocess
import sys
import time
import urllib.parse
import urllib.request


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("run_dir")
    parser.add_argument("out")
    parser.add_argument("--tags", default="metrics/(modes_covered|high_quality_fraction|js_grid)")
    parser.add_argument("--size", default="1400,900")
    args = parser.parse_args()
    browser = shutil.which("chromium") or shutil.which("chromium-browser") or shutil.which("google-chrome")
    if browser is None:
        sys.exit("no Chromium found: apt-get install chromium")
    port = free_port()
    board = subprocess.Popen([sys.executable, "-m", "tensorboard.main", "--logdir", args.run_dir, "--port", str(port)],
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        for _ in range(60):  # TensorBoard answers within a few seconds
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{port}/data/runs", timeout=1)
                break
            except OSError:
                time.sleep(0.5)
        url = (f"http://127.0.0.1:{port}/#scalars&tagFilter={urllib.parse.quote(args.tags, safe='')}"
               "&_smoothingWeight=0")
        subprocess.run([browser, "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars",
                        f"--window-size={args.size}", "--virtual-time-budget=15000", f"--screenshot={args.out}", url],
                       check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        print(f"wrote {args.out}")
    finally:
        board.terminate()


if __name__ == "__main__":
    main()
