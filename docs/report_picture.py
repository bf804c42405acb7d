"""Renders docs/report-first-page.png, the README's picture of a report (`make report-picture`).

The 2013 crossover simulated with 31 women (seed 2013, as `ldntrial demo`),
reported, and the top of the page captured by headless Chromium.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

from ldntrial.report import write_report
from ldntrial.report.chromium import screenshot
from ldntrial.simulate import simulate_trial

PICTURE = Path(__file__).with_name("report-first-page.png")


def main() -> None:
    trial = simulate_trial("crossover-2013", n=31, seed=2013)
    with tempfile.TemporaryDirectory() as folder:
        html = Path(folder) / "report.html"
        write_report(trial, html)
        screenshot(html, PICTURE, width=900, height=1270)
    print(f"wrote {PICTURE}")


if __name__ == "__main__":
    main()
