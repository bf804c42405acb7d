"""Renders the README's pictures of the reports (`make pictures`).

docs/report-first-page.png: the 2013 crossover simulated with 31 women (seed
2013, as `ldntrial demo`), reported, and the top of the page captured by
headless Chromium. docs/participant-report-en.png and -es.png: the page of
the first woman of a simulated N-of-1 series of four (seed 3), in English
and in Spanish.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

from ldntrial.report import write_report
from ldntrial.report.chromium import screenshot
from ldntrial.simulate import simulate_trial

PICTURE = Path(__file__).with_name("report-first-page.png")
HER_PAGE = Path(__file__).with_name("participant-report-{}.png")


def main() -> None:
    trial = simulate_trial("crossover-2013", n=31, seed=2013)
    with tempfile.TemporaryDirectory() as folder:
        html = Path(folder) / "report.html"
        write_report(trial, html)
        screenshot(html, PICTURE, width=900, height=1270)
        series = simulate_trial("nof1", n=4, seed=3)
        for language in ("en", "es"):
            page = Path(folder) / f"her-{language}.html"
            write_report(series, page, participant="P00001", language=language)
            screenshot(page, Path(str(HER_PAGE).format(language)), width=900, height=1500)
    print(f"wrote {PICTURE} and {HER_PAGE.name.format('en')}, {HER_PAGE.name.format('es')}")


if __name__ == "__main__":
    main()
