"""Lab files in both layouts: read as written, or every broken rule named by line and column."""

from __future__ import annotations

from datetime import date

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ldntrial.errors import InteropError
from ldntrial.interop.lab_files import read_lab_file
from ldntrial.protocol.loader import load_protocol

PANELS = {panel.id: panel for panel in load_protocol("cytokine-2017").labs}
CYTOKINES, ESR = PANELS["cytokines"], PANELS["esr"]

LONG = """participant_id,sampled_on,analyte,value,unit
P00001,2026-03-03,IL-6,2.41,pg/mL
P00001,2026-03-03,il-10,0.83,pg/mL
P00002,2026-03-05,TNF-a,1.5,pg/mL
"""

WIDE = """Participant ID,Sampled on,IL-6 (pg/mL),IL-10 (pg/mL),TNF-a (pg/mL)
P00001,2026-03-03,2.41,0.83,
P00002,2026-03-05,1.2,,1.5

"""


def test_a_long_file_is_read_as_written_with_the_protocols_spelling() -> None:
    read = read_lab_file(LONG, CYTOKINES)
    assert (read.layout, read.problems, read.blank_cells) == ("long", [], 0)
    assert read.results.to_dict("records") == [
        {"line": 2, "participant_id": "P00001", "sampled_on": date(2026, 3, 3),
         "panel": "cytokines", "analyte": "IL-6", "value": 2.41, "unit": "pg/mL"},
        {"line": 3, "participant_id": "P00001", "sampled_on": date(2026, 3, 3),
         "panel": "cytokines", "analyte": "IL-10", "value": 0.83, "unit": "pg/mL"},
        {"line": 4, "participant_id": "P00002", "sampled_on": date(2026, 3, 5),
         "panel": "cytokines", "analyte": "TNF-a", "value": 1.5, "unit": "pg/mL"},
    ]  # fmt: skip


def test_a_plate_export_is_one_result_per_filled_cell_and_counts_the_blanks() -> None:
    read = read_lab_file(WIDE, CYTOKINES)
    assert (read.layout, read.problems, read.blank_cells) == ("wide", [], 2)
    assert read.results[["line", "participant_id", "analyte", "value"]].values.tolist() == [
        [2, "P00001", "IL-6", 2.41],
        [2, "P00001", "IL-10", 0.83],
        [3, "P00002", "IL-6", 1.2],
        [3, "P00002", "TNF-a", 1.5],
    ]


def test_every_broken_row_is_named_by_line_and_column() -> None:
    text = """participant_id,sampled_on,analyte,value,unit
P00001,03/03/2026,IL-6,2.41,pg/mL
P00001,2026-03-03,IL-99,1,pg/mL
P00001,2026-03-03,IL-6,OOR <,pg/mL
,2026-03-03,IL-10,1,ng/mL
P00001,2026-03-04,IL-6,-1,pg/mL
P00001,2026-03-04,IL-6
P00002,2026-03-05,IL-6,1,pg/mL
P00002,2026-03-05,IL-6,1.1,pg/mL
"""
    read = read_lab_file(text, CYTOKINES)
    assert [str(problem) for problem in read.problems] == [
        "line 2: sampled_on: '03/03/2026' is not a date written YYYY-MM-DD",
        "line 3: analyte: 'IL-99' is not an analyte of the cytokines panel",
        "line 4: value: 'OOR <' is not a number; resolve out-of-range readings at the laboratory",
        "line 5: participant_id: empty",
        "line 5: unit: the cytokines panel is in pg/mL, got 'ng/mL'",
        "line 6: value: must be a number of at least 0, got -1",
        "line 7: row: has 3 cells; the header has 5",
        "line 9: analyte: IL-6 of P00002 on 2026-03-05 is in the file twice",
    ]
    with pytest.raises(InteropError, match=r"plate\.csv: line 2: sampled_on"):
        read.raise_for_problems("plate.csv")


BAD_HEADERS = {
    "participant_id,sampled_on,IL-6": "IL-6: give the unit in the header, e.g. 'IL-6 (pg/mL)'",
    "participant_id,sampled_on,IL-6 (ng/mL)": (
        "IL-6 (ng/mL): the cytokines panel is in pg/mL, got 'ng/mL'"
    ),
    "participant_id,sampled_on,CRP (mg/L)": "CRP (mg/L): is not an analyte of the cytokines panel",
    "participant,date,IL-6 (pg/mL)": "header: needs the column(s) participant_id, sampled_on",
    "": "file: is empty: the first line must name the columns",
}


@pytest.mark.parametrize(("header", "problem"), BAD_HEADERS.items())
def test_a_bad_header_is_refused_before_any_row(header: str, problem: str) -> None:
    read = read_lab_file(header + "\nP00001,2026-03-03,1\n", CYTOKINES)
    assert [str(p) for p in read.problems] == [f"line 1: {problem}"] and read.results.empty


def test_an_esr_file_in_mm_per_hour() -> None:
    read = read_lab_file("participant_id,sampled_on,ESR (mm/h)\nP00001,2026-03-02,22\n", ESR)
    assert read.problems == []
    assert read.results[["analyte", "value", "unit"]].values.tolist() == [["esr", 22.0, "mm/h"]]


@settings(max_examples=400, deadline=None, derandomize=True)
@given(body=st.text(max_size=300), long=st.booleans())
def test_no_file_raises_anything_but_its_problems(body: str, long: bool) -> None:
    """Any text after a real header: read, or problems by line; never an exception."""
    header = (
        "participant_id,sampled_on,analyte,value,unit\n"
        if long
        else "participant_id,sampled_on,IL-6 (pg/mL),IL-10 (pg/mL)\n"
    )
    for text in (body, header + body):
        done = read_lab_file(text, CYTOKINES)
        lines = text.count("\n") + text.count("\r") + 2
        assert all(0 <= problem.line <= lines for problem in done.problems), done.problems
        values = done.results["value"].to_numpy(dtype=float)
        assert (values >= 0).all() and np.isfinite(values).all()
