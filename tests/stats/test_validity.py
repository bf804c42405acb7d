"""Every reported analysis carries its validation verdict and the figures behind it."""

import json
from pathlib import Path

import pandas as pd
import pytest

from ldntrial.stats.results import AnalysisResult
from ldntrial.stats.validity import VALIDATION_FILE, label


def _row(cell: str, status: str, reasons: list[str], rejection: float) -> dict:
    figures = {"rejection": rejection, "coverage": 0.95}
    return {
        "protocol": "crossover-2013",
        "design": "crossover",
        "n": 31,
        "cell": cell,
        "title": cell,
        "status": status,
        "reasons": reasons,
        "scenarios": {"null": figures, "stanford": figures | {"coverage": 0.94}},
    }


@pytest.fixture
def validation_file(tmp_path: Path) -> Path:
    path = tmp_path / "validation.json"
    cells = [
        _row("primary", "meets", [], 0.056),
        _row("responders.pain30", "meets", [], 0.04),
        _row("responders.significant_pain", "exploratory", ["p < 0.05 in 28.0% of ..."], 0.28),
    ]
    path.write_text(json.dumps({"settings": {"sims": 1000}, "cells": cells}))
    return path


def _result() -> AnalysisResult:
    return AnalysisResult(
        name="x", title="Pain", n=31, definition="d", method="m", estimates=pd.DataFrame()
    )


def test_a_validated_analysis_states_its_figures(validation_file):
    result = label(_result(), "crossover-2013", ["primary"], validation_file)
    assert result.title == "Pain"
    assert result.validation["status"] == "meets"
    assert "p < 0.05 in 5.6% of trials where LDN does nothing" in result.warnings[-1]
    assert "1,000 simulated crossover-2013 trials of n = 31" in result.warnings[-1]


def test_one_exploratory_row_makes_the_result_exploratory_in_its_title(validation_file):
    cells = ["responders.pain30", "responders.significant_pain"]
    result = label(_result(), "crossover-2013", cells, validation_file)
    assert result.title == "Exploratory: Pain"
    assert result.validation["status"] == "exploratory"
    assert "28.0%" in result.warnings[-1]
    assert result.to_dict()["validation"]["cells"]["responders.pain30"]["status"] == "meets"


def test_an_unvalidated_protocol_or_analysis_says_so(validation_file):
    other = label(_result(), "my-study", ["primary"], validation_file)
    assert other.validation["status"] == "not validated"
    assert "ldntrial validate" in other.warnings[-1]
    uncovered = label(_result(), "crossover-2013", [], validation_file)
    assert "not yet validated" in uncovered.warnings[-1]


def test_the_shipped_validation_covers_the_registered_primary_of_every_randomised_design():
    document = json.loads(VALIDATION_FILE.read_text())
    rows = {(row["protocol"], row["cell"]): row for row in document["cells"]}
    for protocol in ("crossover-2013", "crossover-washout-2023", "parallel-2024", "nof1"):
        assert rows[(protocol, "primary")]["status"] in ("meets", "conservative")
        assert rows[(protocol, "mixed_model")]["status"] != "exploratory"
    assert document["settings"]["sims"] >= 1000
