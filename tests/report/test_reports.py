"""Reports: every design renders, the page stands alone, numbers match, text is escaped."""

from __future__ import annotations

import base64
import re
from html.parser import HTMLParser
from pathlib import Path

import pypdf
import pytest

from ldntrial.errors import AnalysisError, ReportError
from ldntrial.protocol.loader import builtin_protocol_ids, load_protocol, protocol_from_dict
from ldntrial.report import render_participant_report, render_trial_report, write_report
from ldntrial.report.chromium import print_pdf, screenshot
from ldntrial.report.views import format_p, interval
from ldntrial.simulate import simulate_trial
from ldntrial.stats import analyze

SECTION_BY_DESIGN = {
    "crossover-2013": ["Secondary outcomes", "Pain thresholds", "Blinding", "Exploratory"],
    "crossover-washout-2023": ["Secondary outcomes", "Exploratory analyses"],
    "cytokine-2017": ["Cytokine panel", "Baseline ESR as a predictor"],
    "dose-finding-2020": ["Dose finding"],
    "nof1": ["N-of-1 series"],
    "nof1-dose": ["N-of-1 series"],
    "nof1-titration": ["N-of-1 series"],
    "parallel-2024": ["Secondary outcomes"],
    "pilot-2009": ["Baseline ESR as a predictor"],
}


class _Page(HTMLParser):
    """Collects what a self-contained page must not have, and its images and headings."""

    def __init__(self) -> None:
        super().__init__()
        self.images: list[str] = []
        self.external: list[str] = []
        self.scripts = 0
        self.headings: list[str] = []
        self._in_heading = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attributes = dict(attrs)
        if tag == "img":
            self.images.append(attributes.get("src") or "")
        if tag == "script":
            self.scripts += 1
        for name in ("href", "src"):
            value = attributes.get(name) or ""
            if re.match(r"^(https?:)?//", value):
                self.external.append(value)
        self._in_heading = tag in {"h1", "h2", "h3"}

    def handle_data(self, data: str) -> None:
        if self._in_heading:
            self.headings.append(data.strip())

    def handle_endtag(self, tag: str) -> None:
        self._in_heading = False


def _parse(html: str) -> _Page:
    page = _Page()
    page.feed(html)
    return page


@pytest.mark.parametrize("protocol_id", builtin_protocol_ids())
def test_every_builtin_protocol_reports_as_one_self_contained_page(protocol_id: str) -> None:
    trial = simulate_trial(protocol_id, n=12, seed=3)
    html = render_trial_report(trial)
    page = _parse(html)
    assert page.external == [] and page.scripts == 0
    assert len(page.images) >= 2
    for source in page.images:
        assert source.startswith("data:image/png;base64,")
        assert base64.b64decode(source.split(",", 1)[1]).startswith(b"\x89PNG")
    text = " ".join(page.headings)
    for heading in [
        "Contents",
        "Participant flow",
        "Baseline characteristics",
        "Primary outcome",
        "Limitations",
        "Methods",
    ]:
        assert heading in text
    for heading in SECTION_BY_DESIGN[protocol_id]:
        assert heading in text, f"{protocol_id}: no section '{heading}'"


def test_the_headline_and_tables_carry_the_analysis_numbers(small_trial) -> None:
    analysis = analyze(small_trial)
    html = render_trial_report(small_trial, analysis)
    difference = analysis.primary.term("ldn - placebo")
    assert f"ldn - placebo: {difference['estimate']:.1f} (95 % CI " in html
    assert interval(difference["ci_lower"], difference["ci_upper"], 1) in html
    assert f"p = {format_p(difference['p_value'])}" in html
    mixed = analysis.mixed_model.term("condition[ldn]")
    assert f"<td>{mixed['estimate']:.2f}</td>" in html
    flow = analysis.flow
    assert f"Allocated: {flow['randomised']}" in html
    assert "Simulated data (scenario &#39;stanford&#39;, seed 7)" in html


def test_the_primary_comes_first_and_the_exploratory_last_with_their_reasons(small_trial) -> None:
    html = render_trial_report(small_trial)
    headings = _parse(html).headings
    order = [
        next(i for i, h in enumerate(headings) if h.endswith(title))
        for title in ("Primary outcome: pain", "Secondary outcomes", "Exploratory analyses")
    ]
    assert order == sorted(order)
    assert "not adjusted for multiplicity" in html
    assert "Carry-over check" in html.split("Exploratory analyses")[-1]


def test_the_limitations_follow_from_the_data(small_trial) -> None:
    html = render_trial_report(small_trial)
    limitations = html.split("Limitations</h2>")[1].split("</section>")[0]
    assert "The data are simulated" in limitations
    # crossover-2013 gives 12 weeks of LDN and 4 of placebo.
    assert "12 weeks of LDN 4.5 mg, 4 weeks of Placebo" in limitations
    interim = simulate_trial("crossover-2013", n=12, seed=3)
    people = interim.participants.assign(status="active")
    ongoing = type(interim).from_tables(
        interim.protocol, truth=interim.truth, **{**interim.tables(), "participants": people}
    )
    assert "interim look" in render_trial_report(ongoing)


def test_table_one_and_the_methods_come_from_the_data_and_the_protocol(small_trial) -> None:
    html = render_trial_report(small_trial)
    people = small_trial.participants
    assert f"<td>{people['age'].mean():.1f} ({people['age'].std():.1f})</td>" in html
    protocol = small_trial.protocol
    for phase in protocol.phases:
        assert f"<td>{phase.days}</td>" in html
    assert "the final 3 days of each condition" in html
    for reference in protocol.references:
        assert reference.citation.split(".")[0].replace("'", "&#39;") in html


def test_text_from_a_protocol_cannot_become_markup() -> None:
    data = load_protocol("crossover-2013").model_dump(mode="json", exclude_none=True)
    data["title"] = "LDN <script>alert(1)</script> study"
    trial = simulate_trial(protocol_from_dict(data), n=8, seed=1)
    html = render_trial_report(trial)
    assert "<script>" not in html
    assert "LDN &lt;script&gt;alert(1)&lt;/script&gt; study" in html


def test_a_blinded_trial_or_an_unknown_participant_is_refused(small_trial) -> None:
    with pytest.raises(AnalysisError, match="unblinded"):
        render_trial_report(small_trial.blinded_view())
    with pytest.raises(AnalysisError, match="no participant 'P99999'"):
        render_participant_report(small_trial, "P99999")


def test_write_report_replaces_the_file_whole_and_checks_folders(
    small_trial, tmp_path: Path
) -> None:
    out = tmp_path / "report.html"
    out.write_text("an older report")
    assert write_report(small_trial, out) == [out]
    assert out.read_text().startswith("<!DOCTYPE html>")
    assert oct(out.stat().st_mode & 0o777) == "0o644"
    assert list(tmp_path.iterdir()) == [out]  # no temporary file left behind
    with pytest.raises(ReportError, match=r"--out: folder .*missing does not exist"):
        write_report(small_trial, tmp_path / "missing" / "r.html")


def test_chromium_prints_a_pdf_of_several_pages_and_a_screenshot(small_trial, tmp_path) -> None:
    html = tmp_path / "report.html"
    write_report(small_trial, html)
    pdf = print_pdf(html, tmp_path / "report.pdf")
    pages = [page.extract_text() for page in pypdf.PdfReader(pdf).pages]
    assert len(pages) >= 3
    # Every page is numbered "Page k of n", and the contents come first.
    for number, text in enumerate(pages, start=1):
        assert f"Page {number} of {len(pages)}" in text
    assert "Contents" in pages[0] and "Limitations" in pages[0]
    png = screenshot(html, tmp_path / "first.png", width=800, height=1100)
    assert png.read_bytes().startswith(b"\x89PNG")


def test_without_chromium_the_pdf_error_says_how_to_get_it(
    small_trial, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("LDNTRIAL_CHROMIUM", str(tmp_path / "no-chromium"))
    out = tmp_path / "report.html"
    with pytest.raises(ReportError, match="apt-get install -y chromium"):
        write_report(small_trial, out, pdf=tmp_path / "report.pdf")
    assert out.is_file()  # the HTML was written before the PDF was tried


def test_an_nof1_study_of_one_patient_reports_her_page_not_a_multi_site_layout() -> None:
    trial = simulate_trial("nof1", n=1, seed=5)
    html = render_trial_report(trial)
    assert "Your LDN trial" in html
    assert "Participant flow" not in html and "Baseline characteristics" not in html
    # Her own days: no model across people, so no absurd intercept interval either.
    intercept = analyze(trial).mixed_model.term("Intercept")
    assert intercept["ci_upper"] - intercept["ci_lower"] < 50


def test_the_flow_counts_the_screened_the_excluded_and_withdrawals_by_reason(small_trial) -> None:
    from ldntrial.data.flow import Screened
    from ldntrial.data.trialdata import TrialData

    people = small_trial.participants.copy()
    last_days = small_trial.diary.groupby("participant_id", observed=True)["date"].max()
    leaving = {
        people["participant_id"].iloc[0]: "adverse_event",
        people["participant_id"].iloc[1]: None,
    }
    for code, reason in leaving.items():
        row = people["participant_id"] == code
        people.loc[row, "status"] = "withdrawn"
        people.loc[row, "withdrawn_on"] = last_days[code]
        people.loc[row, "withdrawal_reason"] = reason
    trial = TrialData.from_tables(
        small_trial.protocol,
        truth=small_trial.truth,
        **{**small_trial.tables(), "participants": people},
    )
    reasons = ["not eligible (opioid)", "not eligible (opioid)", "she declined to take part"]
    screened = Screened.from_reasons(len(people) + 3, reasons)
    analysis = analyze(trial)
    html = render_trial_report(trial, analysis, screened=screened)

    assert f"Assessed for eligibility: {len(people) + 3}</b>" in html
    assert "Excluded: 3</b>not eligible (opioid): 2<br>she declined to take part: 1" in html
    assert "an adverse event: 1" in html and "reason not recorded: 1" in html
    assert f"{len(people) + 3} assessed for eligibility, 3 not allocated" in html
    assert analysis.flow["withdrawn_reasons"] == {"an adverse event": 1, "reason not recorded": 1}
    without = render_trial_report(trial, analysis)
    assert "Assessed for eligibility" not in without
    assert "Screening counts are kept by the study site" in without
