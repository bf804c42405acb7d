"""Renders the README's pictures of the staff site: docs/dashboard.png, docs/visit-form.png.

Builds the demo study in a temporary data folder, serves it with
`ldntrial serve` on a free port, signs in as the demo coordinator in
Debian's Chromium (Playwright) and captures the dashboard and a visit form.
Run by `make pictures`.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path

from playwright.sync_api import sync_playwright

HERE = Path(__file__).parent
LDNTRIAL = [sys.executable, "-c", "from ldntrial.cli.main import run; run()"]


def main() -> None:
    with tempfile.TemporaryDirectory() as folder:
        env = {**os.environ, "LDNTRIAL_DATA_DIR": folder}
        env.pop("DATABASE_URL", None)
        subprocess.run(
            [*LDNTRIAL, "demo", "--no-serve", "--out", str(Path(folder) / "out")],
            env=env,
            check=True,
            capture_output=True,
        )
        port = _free_port()
        server = subprocess.Popen(
            [*LDNTRIAL, "serve", "--port", str(port)],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            base = f"http://127.0.0.1:{port}"
            _wait_for(f"{base}/accounts/login/")
            _capture(base)
        finally:
            server.terminate()
            server.wait(timeout=20)


def _capture(base: str) -> None:
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path="/usr/bin/chromium",
            headless=True,
            args=["--no-sandbox", "--disable-background-networking"],
        )
        page = browser.new_page(viewport={"width": 1100, "height": 900})
        page.goto(f"{base}/accounts/login/")
        page.get_by_label("Username").fill("coordinator")
        page.get_by_label("Password").fill("ldntrial-demo-2026")
        page.get_by_role("button", name="Sign in").click()
        page.goto(f"{base}/studies/demo/")
        page.screenshot(path=HERE / "dashboard.png", full_page=True)
        page.goto(f"{base}/studies/demo/participants/DEMO-001/visits/2/")
        page.screenshot(path=HERE / "visit-form.png", full_page=True)
        browser.close()
    print(f"wrote {HERE / 'dashboard.png'} and {HERE / 'visit-form.png'}")


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _wait_for(url: str, seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while True:
        try:
            urllib.request.urlopen(url, timeout=5).close()
            return
        except (urllib.error.URLError, ConnectionError):
            if time.monotonic() > deadline:
                raise
            time.sleep(0.3)


if __name__ == "__main__":
    main()
