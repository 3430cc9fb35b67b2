"""The playground's widget in JupyterLab, as a learner sees it, saved as a PNG (not part of the test suite).

    pip install jupyterlab playwright        # Playwright drives the system's Chromium (apt-get install chromium)
    python experiments/screenshots/playground_widget.py OUT.png

Writes a one-cell notebook (``Playground(data="ring8").widget()``) into a temporary folder, starts JupyterLab
there without a token, opens the notebook in headless Chromium, runs the cell, clicks *step both* a few
times and *play* for a few seconds, and saves a screenshot of the page.
"""

from __future__ import annotations

import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

import nbformat
from nbformat.v4 import new_code_cell, new_notebook


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def main() -> None:
    from playwright.sync_api import sync_playwright

    out = Path(sys.argv[1] if len(sys.argv) > 1 else "playground_widget.png").resolve()
    browser_path = shutil.which("chromium") or shutil.which("chromium-browser")
    if browser_path is None:
        sys.exit("no Chromium found: apt-get install chromium")
    folder = Path(tempfile.mkdtemp(prefix="gan_lab_widget_"))
    cell = "from gan_lab.play import Playground\npg = Playground(data='ring8', loss='minimax')\npg.widget()"
    kernel = {"kernelspec": {"name": "python3", "display_name": "Python 3 (ipykernel)", "language": "python"}}
    nbformat.write(new_notebook(cells=[new_code_cell(cell)], metadata=kernel), folder / "play.ipynb")
    port = free_port()
    lab = subprocess.Popen([sys.executable, "-m", "jupyterlab", "--no-browser", f"--port={port}", "--ServerApp.token=",
                            "--ServerApp.password=", "--ServerApp.disable_check_xsrf=True", "--allow-root",
                            f"--notebook-dir={folder}"],
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        for _ in range(120):
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{port}/lab", timeout=1)
                break
            except OSError:
                time.sleep(0.5)
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=browser_path, args=["--no-sandbox"])
            page = browser.new_page(viewport={"width": 1300, "height": 1050})
            page.goto(f"http://127.0.0.1:{port}/lab/tree/play.ipynb", wait_until="domcontentloaded", timeout=120_000)
            page.wait_for_selector(".jp-Notebook", timeout=60_000)
            time.sleep(3)
            if page.locator(".jp-Dialog").count():  # "Select Kernel": accept the proposed Python 3
                page.keyboard.press("Enter")
            page.wait_for_selector("text=Python 3 (ipykernel) | Idle", timeout=120_000)
            page.locator(".jp-Cell").first.click()
            page.keyboard.press("Shift+Enter")
            page.wait_for_selector("button:has-text('step both')", timeout=120_000)
            for _ in range(3):
                page.click("button:has-text('step both')")
                time.sleep(0.5)
            page.click("button:has-text('play')")  # play ...
            time.sleep(4)
            page.click("button:has-text('play')")  # ... and pause (the same toggle)
            time.sleep(1)
            page.screenshot(path=str(out), full_page=True)
            browser.close()
        print(f"wrote {out}")
    finally:
        lab.terminate()


if __name__ == "__main__":
    main()
