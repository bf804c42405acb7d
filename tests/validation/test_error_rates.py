"""The fast validation: an analysis that starts saying "yes" when LDN does nothing fails CI.

The full table (`make validate`, 1,000 trials per cell) is in the README; here 200
trials per scenario judge the registered primary and the daily model of
crossover-2013 with every bound widened by 2.5 Monte-Carlo SEs, and the same check
is shown to catch a daily model like the one the project used to report (one random
intercept, independent days), which said "p < 0.05" in about 45 % of null trials.
"""

import json
import re
from pathlib import Path

import pytest

from ldntrial.protocol.loader import builtin_protocol_text
from ldntrial.validation import validate

SIMS = 200


def _print(validation) -> None:
    for figures in validation.figures:
        print(
            f"{figures.protocol} {figures.cell} {figures.scenario}: "
            f"p<0.05 in {figures.rejection:.1%}, coverage {figures.coverage}"
        )


def test_the_registered_primary_and_the_daily_model_keep_their_error_rates():
    validation = validate(
        ["crossover-2013"],
        sims=SIMS,
        slow_sims=SIMS,
        cells=["primary", "mixed_model"],
        tolerance=2.5,
        truth_people=4000,
    )
    _print(validation)
    for cell in ("primary", "mixed_model"):
        status, reasons = validation.verdicts[("crossover-2013", cell)]
        assert status in ("meets", "conservative"), reasons
    stanford = next(
        f for f in validation.figures if f.cell == "mixed_model" and f.scenario == "stanford"
    )
    # Power is not the point here, but a model that never says "yes" would pass the above.
    assert stanford.rejection > 0.8


@pytest.fixture
def days_as_independent(tmp_path: Path) -> str:
    """crossover-2013 with the daily model the project once reported: one random
    intercept per woman and every day independent (run-in and equal windows kept)."""
    text = builtin_protocol_text("crossover-2013")
    text = re.sub(r"own_effects = true", "own_effects = false", text)
    text = re.sub(r"autocorrelation = true", "autocorrelation = false", text)
    path = tmp_path / "days-as-independent.toml"
    path.write_text(text.replace('id = "crossover-2013"', 'id = "days-as-independent"'))
    return str(path)


def test_the_check_catches_a_daily_model_that_counts_days_as_women(days_as_independent):
    validation = validate(
        [days_as_independent],
        sims=SIMS,
        slow_sims=SIMS,
        cells=["mixed_model"],
        tolerance=2.5,
        truth_people=4000,
    )
    _print(validation)
    status, reasons = validation.verdicts[(days_as_independent, "mixed_model")]
    assert status == "exploratory"
    null = next(f for f in validation.figures if f.scenario == "null")
    assert null.rejection > 0.12, reasons


def test_the_up_and_down_design_finds_the_published_ed50_on_average():
    """dose-finding-2020 simulated at its published size: ED50 3.88 mg is what the simulated
    women have (calibrated), and the centred isotonic estimate must land near it."""
    validation = validate(
        ["dose-finding-2020"], sims=100, slow_sims=100, cells=["dose_finding.ED50"]
    )
    stanford, null = (
        next(f for f in validation.figures if f.scenario == scenario)
        for scenario in ("stanford", "null")
    )
    assert stanford.truth == pytest.approx(3.88, abs=0.02)
    mean = stanford.truth + stanford.bias
    print(f"ED50: truth {stanford.truth:.2f}, mean estimate {mean:.2f}, {stanford.coverage=}")
    assert abs(stanford.bias) < 0.3 and stanford.reported > 0.9
    assert null.truth is None and null.reported < 0.3  # rarely an ED50 where none exists


def test_a_cell_no_trial_could_analyse_is_written_as_null_not_lost():
    """pilot-2009 never measures tolerability on both conditions, so its cell has no
    figures; a NaN there once lost a two-hour `make validate` at its very last step."""
    validation = validate(
        ["pilot-2009"], sims=20, slow_sims=20, cells=["safety.tolerability"], truth_people=500
    )
    (row,) = validation.to_dict()["cells"]
    assert row["status"] == "exploratory"
    assert row["scenarios"]["null"]["bias"] is None
    json.dumps(validation.to_dict(), allow_nan=False)
