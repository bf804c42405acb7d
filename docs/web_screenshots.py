"""Renders the README's pictures of the site: the dashboard, a visit form, her diary on a phone.

Builds the demo study in a temporary data folder, serves it with
`ldntrial serve` on a free port, signs in as the demo coordinator in
Debian's Chromium (Playwright) and captures the dashboard and a visit form;
then opens DEMO-001's personal link on a phone-sized screen, its clock set
to 20:00 in her zone so that her diary is open whenever this runs.
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
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

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
            link = subprocess.run(
                [*LDNTRIAL, "manage", "participant_link", "DEMO-001", "--study", "demo",
                 "--base-url", base],
                env=env, check=True, capture_output=True, text=True,
            ).stdout.strip()  # fmt: skip
            _capture(base, link)
        finally:
            server.terminate()
            server.wait(timeout=20)


def _capture(base: str, diary_link: str) -> None:
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
        phone = browser.new_context(viewport={"width": 390, "height": 844}).new_page()
        evening = datetime.now(ZoneInfo("America/Los_Angeles")).replace(hour=20, minute=0)
        phone.clock.set_fixed_time(evening)
        phone.goto(diary_link)
        phone.get_by_label("Overall pain today").wait_for()
        for slider in phone.locator("input[type=range]").all()[:3]:
            slider.focus()
            for _ in range(12):
                slider.press("ArrowLeft")  # she has moved the first three
        phone.screenshot(path=HERE / "diary-phone.png", full_page=True)
        browser.close()
    print(f"wrote {HERE / 'dashboard.png'}, {HERE / 'visit-form.png'}, {HERE / 'diary-phone.png'}")


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
