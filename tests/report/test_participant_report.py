"""Her page, as she reads it: her answer in plain words, in English and Spanish, each
statement about the trials with its source, and rendered by a real browser."""

from __future__ import annotations

import html as html_text
import re
from pathlib import Path

import pytest
import textstat

from ldntrial.errors import ReportError
from ldntrial.report import render_participant_report, write_report
from ldntrial.report.chromium import screenshot
from ldntrial.report.patient_words import ENGLISH, SPANISH
from ldntrial.simulate import simulate_trial
from ldntrial.stats.nof1 import answer_for_participant


@pytest.fixture(scope="module")
def series():
    """Four women of the built-in N-of-1 design, a clinic's series."""
    return simulate_trial("nof1", n=4, seed=3)


def _plain(page: str) -> str:
    """The words she reads (answer to the doctor's section), without tables and figures."""
    body = page.split('<div class="answer">')[1].split("<h2>For your doctor")[0]
    body = re.sub(r"<(figure|table)>.*?</\1>", " ", body, flags=re.S)
    body = re.sub(r"<h2>.*?</h2>", " ", body, flags=re.S)
    return " ".join(html_text.unescape(re.sub(r"<[^>]+>", " ", body)).split())


def test_her_answer_in_words_with_every_number_from_the_analysis(series):
    answer = answer_for_participant(series, "P00001")
    page = render_participant_report(series, "P00001")
    assert '<html lang="en">' in page
    headline = {
        "likely_helped": ENGLISH.helped,
        "likely_not_meaningful": ENGLISH.not_meaningful,
        "cannot_tell": ENGLISH.cannot_tell,
    }[answer.verdict].format(treatment="LDN", more="")
    assert headline in page
    values = answer.result.values
    assert f"On LDN your average pain was {values['treatment_mean']:.0f} out of 100" in page
    informed = answer.posterior("evidence")
    assert f"the chance is {informed.probability_meaningful:.0%}" in page
    # The three starting points, each with its own chance.
    for posterior in answer.posteriors:
        assert f"<td>{posterior.probability_meaningful:.0%}</td>" in page
    for row in ("Pain", "Tiredness", "Sleep"):
        assert f'<th scope="row">{row}</th>' in page
    # Other women of the series finished: her estimate moves toward theirs, and it says so.
    assert "3 other patients in this clinic also finished a trial like yours" in page
    assert "vivid dreams were reported by 37 % of women on LDN and 13 % on placebo" in page
    assert "Pain Med 2012;13(2), abstract 251" in page  # the rates' source
    assert "This was never confirmed in later trials" in page
    assert "4 trials compared LDN with placebo for pain" in page
    assert "it does not prescribe" in page


def test_the_english_reads_at_grade_8_or_below(series):
    plain = _plain(render_participant_report(series, "P00001"))
    assert len(plain.split()) > 200  # the page's words, not an empty string
    assert textstat.flesch_kincaid_grade(plain) <= 8
    for name in ("side_effects_trials", "esr_caution", "evidence_line", "limits"):
        assert textstat.flesch_kincaid_grade(getattr(ENGLISH, name)) <= 9, name


def test_the_spanish_page_says_the_same_in_spanish(series):
    answer = answer_for_participant(series, "P00001")
    page = render_participant_report(series, "P00001", language="es")
    assert '<html lang="es">' in page
    assert SPANISH.heading in page and SPANISH.side_effects_heading in page
    assert f"Con la LDN, su dolor medio fue {answer.result.values['treatment_mean']:.0f}" in page
    recorded = set(series.adverse_events.query("participant_id == 'P00001'")["term"])
    assert "vivid_dreams" in recorded
    assert '<th scope="row">sueños vívidos</th>' in page  # her side effects, in Spanish
    assert "el 37 % de las mujeres con LDN y el 13 % con placebo" in page
    assert SPANISH.prior_names["evidence"] in page
    for english in (ENGLISH.limits, ENGLISH.esr_caution, ENGLISH.prior_names["flat"]):
        assert english not in page
    assert "Hecho con ldntrial" in page


def test_a_woman_with_too_few_days_is_told_we_cannot_tell_in_both_languages():
    trial = simulate_trial("nof1", n=1, seed=5, overrides={"dropout_rate": 1.0})
    english = ENGLISH.cannot_tell.format(treatment="LDN", more="")
    assert english == "We cannot tell yet if LDN helps you."
    assert english in render_participant_report(trial, "P00001")
    spanish = SPANISH.cannot_tell.format(treatment="la LDN", more="")
    assert spanish in render_participant_report(trial, "P00001", language="es")
    alone = render_participant_report(trial, "P00001")
    assert "other patients in this clinic" not in alone  # no series, no pooling to mention


def test_a_language_not_offered_is_named(series):
    with pytest.raises(ReportError, match="'fr' is not offered; choose one of en, es"):
        render_participant_report(series, "P00001", language="fr")


@pytest.mark.parametrize("language", ["en", "es"])
def test_chromium_renders_her_page(series, tmp_path: Path, language: str):
    html = tmp_path / f"her-{language}.html"
    write_report(series, html, participant="P00001", language=language)
    png = screenshot(html, tmp_path / f"her-{language}.png", width=900, height=1270)
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and png.stat().st_size > 50_000
