"""Before she starts: the evidence on her scale, and the design's right answers by simulation."""

from __future__ import annotations

import json

import pytest

from ldntrial.planning.power import _contrast, _Task
from ldntrial.protocol.loader import load_protocol
from ldntrial.simulate.scenarios import get_scenario
from ldntrial.stats.evidence import synthesise
from ldntrial.stats.nof1 import Nof1Spec
from ldntrial.stats.nof1_outlook import POWER_FILE, outlook_for


def test_the_evidence_is_said_on_her_0_to_100_scale():
    pooled = synthesise().pooled
    outlook = outlook_for("nof1")
    assert outlook.mean_points == pytest.approx(pooled.estimate * 0.34 / 0.23 * 10, rel=1e-12)
    assert f"{outlook.mean_points:+.0f}".replace("-", "\u2212") in outlook.evidence
    assert "they cannot tell LDN from placebo on average" in outlook.evidence


def test_her_trial_is_said_from_the_shipped_simulation_or_how_to_make_it():
    figures = json.loads(POWER_FILE.read_text(encoding="utf-8"))["designs"]
    assert set(figures) == {"nof1", "nof1-titration", "nof1-dose"}
    for design, row in figures.items():
        for scenario in ("stanford", "null"):
            shares = row[scenario]
            total = shares["p_correct"] + shares["p_cannot_tell"] + shares["p_wrong"]
            assert total == pytest.approx(1.0) and shares["patients"] == 400, design
        assert figures[design]["null"]["share_truly_meaningful"] == 0
    said = outlook_for("nof1").her_trial
    assert f"right answer to {figures['nof1']['stanford']['p_correct']:.0%}" in said
    assert f'"probably helped" to {figures["nof1"]["null"]["p_helped"]:.0%}' in said
    assert "ldntrial power my-own --pairs 3" in outlook_for("my-own").her_trial


def test_a_dose_comparison_is_not_given_the_placebo_evidence():
    outlook = outlook_for("nof1-dose", dose_comparison=True)
    assert "No controlled trial compared two doses" in outlook.evidence
    assert "in favour of LDN over placebo" not in outlook.evidence


def test_a_dose_comparisons_truth_is_the_difference_between_the_doses():
    # Stanford scenario: Emax with ED50 and Hill from the scenario; 4.5 mg is the reference.
    scenario = get_scenario("stanford")

    def emax(dose: float) -> float:
        return dose**scenario.hill / (dose**scenario.hill + scenario.ed50_mg**scenario.hill)

    def contrast(design: str) -> float:
        return _contrast(_Task(load_protocol(design), 3, 1, 1, "stanford", {}, 0.05, Nof1Spec()))

    assert contrast("nof1") == pytest.approx(1.0)
    assert contrast("nof1-titration") == pytest.approx(1.0)
    assert contrast("nof1-dose") == pytest.approx((emax(4.5) - emax(1.5)) / emax(4.5), rel=1e-12)
