"""Number formatting: one precision per row, counts stay whole, p-values as journals print them."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from ldntrial.report.views import format_number, format_p, frame_view, interval, result_view
from ldntrial.stats.results import AnalysisResult, estimates_frame


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (1234.5, "1,234"),  # banker's rounding of .5 is Python's; no decimals from 1000
        (28.84, "28.8"),
        (5.284, "5.28"),
        (0.4521, "0.45"),
        (0.00342, "0.0034"),
        (0.0, "0.00"),
        (7, "7"),
        (math.nan, "-"),
        (None, "-"),
        (True, "yes"),
    ],
)
def test_numbers_get_a_precision_that_fits_their_size(value, text) -> None:
    assert format_number(value) == text


def test_p_values_and_intervals() -> None:
    assert format_p(0.0004) == "<0.001"
    assert format_p(0.0492) == "0.049"
    assert format_p(math.nan) == "-"
    assert interval(5.284, 19.31) == "5.3 to 19.3"
    assert interval(5.284, 19.31, 2) == "5.28 to 19.31"
    assert interval(math.nan, 1.0) == "-"


def test_counts_with_gaps_stay_whole_and_p_columns_are_p_values() -> None:
    frame = pd.DataFrame({"n": [15.0, np.nan], "p_bh": [0.0001, 0.2], "mean": [1.234, 20.0]})
    view = frame_view(frame)
    assert view.headers == ["n", "p bh", "mean"]
    assert view.rows == [["15", "<0.001", "1.23"], ["-", "0.200", "20.0"]]


def test_a_result_row_prints_estimate_se_and_ci_at_the_estimates_precision() -> None:
    result = AnalysisResult(
        name="x",
        title="X",
        n=3,
        definition="d",
        method="m",
        estimates=estimates_frame(
            [
                {
                    "term": "ldn - placebo",
                    "estimate": 12.34,
                    "std_error": 3.421,
                    "ci_lower": 5.284,
                    "ci_upper": 19.4,
                    "p_value": 0.00123,
                    "responders": 4.0,
                }
            ]
        ),
    )
    view = result_view("x", result)
    assert view.table.headers == ["Term", "Estimate", "SE", "95 % CI", "p", "responders"]
    assert view.table.rows == [["ldn - placebo", "12.3", "3.4", "5.3 to 19.4", "0.001", "4"]]
