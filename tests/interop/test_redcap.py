"""REDCap: a study as a project (dictionary, records, events) and a project back into data."""

from __future__ import annotations

import contextlib
import csv
import functools
import io
import tempfile
from pathlib import Path

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ldntrial.data import TrialData
from ldntrial.errors import InteropError
from ldntrial.interop.export import export_trial
from ldntrial.interop.redcap import (
    DICTIONARY_HEADER,
    REDCAP_FILES,
    read_redcap,
    read_redcap_files,
)
from ldntrial.protocol.loader import builtin_protocol_ids
from ldntrial.simulate import simulate_trial

REDCAP_HEADER_LINE = (
    'Variable / Field Name,Form Name,Section Header,Field Type,Field Label,"Choices, '
    'Calculations, OR Slider Labels",Field Note,Text Validation Type OR Show Slider Number,'
    "Text Validation Min,Text Validation Max,Identifier?,Branching Logic (Show field only "
    "if...),Required Field?,Custom Alignment,Question Number (surveys only),Matrix Group Name,"
    "Matrix Ranking?,Field Annotation"
)


@pytest.mark.parametrize("protocol", builtin_protocol_ids())
def test_every_builtin_protocol_goes_to_redcap_and_back_unchanged(protocol, tmp_path) -> None:
    trial = simulate_trial(protocol, n=6, seed=5)
    out = export_trial(trial, tmp_path / "rc", format="redcap", study="s", identified=True).path
    back = read_redcap_files(out, trial.protocol)
    assert back.unmapped == {}
    _assert_same_data(trial, back.trial)


def test_the_dictionary_is_redcaps_byte_for_byte_with_types_and_validation(tmp_path) -> None:
    trial = simulate_trial("crossover-2013", n=3, seed=1)
    out = export_trial(trial, tmp_path / "rc", format="redcap", study="s", identified=True).path
    text = (out / REDCAP_FILES["dictionary"]).read_text()
    assert text.splitlines()[0] == REDCAP_HEADER_LINE
    rows = {row[0]: row for row in csv.reader(io.StringIO(text))}
    assert tuple(rows["Variable / Field Name"]) == DICTIONARY_HEADER
    assert rows["sex"][3:6] == ["radio", "Sex recorded at screening", "1, female | 2, male"]
    assert rows["item_pain"][1] == "diary" and rows["item_pain"][7:10] == ["number", "0", "100"]
    assert rows["enrolled_on"][7] == "date_ymd" and rows["enrolled_on"][10] == "y"
    assert rows["lab_sampled_at"][7] == "datetime_seconds_ymd"
    assert rows["ae_serious"][3] == "yesno"
    records = pd.read_csv(out / REDCAP_FILES["records"], dtype=str, keep_default_na=False)
    assert list(records.columns[:4]) == [
        "record_id", "redcap_event_name", "redcap_repeat_instrument", "redcap_repeat_instance",
    ]  # fmt: skip
    diary = records[records["redcap_repeat_instrument"] == "diary"]
    first = diary[diary["record_id"] == diary["record_id"].iloc[0]]
    assert list(first["redcap_repeat_instance"][:3]) == ["1", "2", "3"]
    assert set(records["diary_complete"][diary.index]) == {"2"}
    designations = pd.read_csv(out / REDCAP_FILES["designations"])
    assert set(designations["form"]) == {
        "participant", "diary", "visit", "lab", "adverse_event", "blinding_guess",
    }  # fmt: skip


def test_a_project_with_other_names_is_read_through_a_mapping(tmp_path: Path) -> None:
    trial = simulate_trial("crossover-2013", n=4, seed=2)
    dictionary, records = _project(trial, tmp_path)
    theirs = records.replace("item_pain", "pain_score").replace(",diary,", ",daily_diary,")
    with pytest.raises(InteropError, match="'daily_diary' is not an instrument of this study"):
        read_redcap(dictionary, theirs, trial.protocol)
    mapping = {"fields": {"pain_score": "item_pain"}, "instruments": {"daily_diary": "diary"}}
    back = read_redcap(dictionary, theirs, trial.protocol, mapping=mapping)
    _assert_same_data(trial, back.trial)


def test_fields_it_cannot_place_are_listed_with_their_cells(tmp_path: Path) -> None:
    trial = simulate_trial("crossover-2013", n=3, seed=3)
    dictionary, records = _project(trial, tmp_path)
    lines = records.splitlines()
    lines[0] += ",nurse_comment"
    lines[1] += ",called her on Monday"
    lines[2] += ","
    lines[3:] = [line + "," for line in lines[3:]]
    done = read_redcap(dictionary, "\n".join(lines) + "\n", trial.protocol)
    assert done.unmapped == {"nurse_comment": 1}
    _assert_same_data(trial, done.trial)


def test_bad_cells_are_named_by_line_and_column_and_nothing_is_imported(tmp_path) -> None:
    trial = simulate_trial("crossover-2013", n=3, seed=4)
    dictionary, records = _project(trial, tmp_path)
    table = pd.read_csv(io.StringIO(records), dtype=str, keep_default_na=False)
    diary_row = table.index[table["redcap_repeat_instrument"] == "diary"][0]
    table.loc[0, "sex"] = "7"
    table.loc[0, "enrolled_on"] = "03/02/2026"
    table.loc[diary_row, "item_pain"] = "a lot"
    with pytest.raises(InteropError) as raised:
        read_redcap(dictionary, table.to_csv(index=False), trial.protocol)
    message = str(raised.value)
    assert "records: line 2: sex: '7' is not a choice (1, female | 2, male)" in message
    assert "line 2: enrolled_on: '03/02/2026' is not a date (YYYY-MM-DD)" in message
    assert f"line {diary_row + 2}: item_pain: 'a lot' is not a number" in message
    with pytest.raises(InteropError, match="is not a REDCap data dictionary"):
        read_redcap("field,form\n", records, trial.protocol)


def _project(trial: TrialData, tmp_path: Path) -> tuple[str, str]:
    out = export_trial(trial, tmp_path / "rc", format="redcap", study="s", identified=True).path
    return (
        (out / REDCAP_FILES["dictionary"]).read_text(),
        (out / REDCAP_FILES["records"]).read_text(),
    )


def _assert_same_data(expected: TrialData, actual: TrialData) -> None:
    """Every table holds the same rows with the same types (REDCap keeps its own row order)."""
    keys = ["participant_id", "date", "item", "visit", "measure", "sampled_at", "analyte", "term"]
    for name, table in expected.tables().items():
        other = actual.tables()[name]
        assert (table.dtypes == other.dtypes).all(), name
        order = [column for column in keys if column in table.columns] or ["participant_id"]
        assert _sorted(table, order).equals(_sorted(other, order)), name


def _sorted(table: pd.DataFrame, order: list[str]) -> pd.DataFrame:
    text = {c: "str" for c in table.columns if isinstance(table[c].dtype, pd.CategoricalDtype)}
    return (
        table.astype(text)
        .sort_values([*order, "phase"] if "phase" in table else order)
        .reset_index(drop=True)
    )


# -- attacks: every bad file is an InteropError naming its line, never a traceback ---------


@pytest.fixture(scope="module")
def project(tmp_path_factory) -> tuple[TrialData, str, str]:
    trial = simulate_trial("crossover-2013", n=3, seed=5)
    return (trial, *_project(trial, tmp_path_factory.mktemp("rc")))


def test_a_ragged_row_is_named_by_its_line(project) -> None:
    trial, dictionary, records = project
    lines = records.splitlines()
    lines[2] += ",an extra cell"
    lines[3] = lines[3].rsplit(",", 3)[0]
    with pytest.raises(InteropError) as raised:
        read_redcap(dictionary, "\n".join(lines) + "\n", trial.protocol)
    message = str(raised.value)
    assert "records: line 3: row: has " in message and "records: line 4: row: has " in message


def test_an_impossible_age_is_named_at_its_records_line(project) -> None:
    trial, dictionary, records = project
    table = pd.read_csv(io.StringIO(records), dtype=str, keep_default_na=False)
    second = table.index[table["redcap_repeat_instrument"] == ""][1]
    table.loc[second, "age"] = "-5"
    with pytest.raises(InteropError) as raised:
        read_redcap(dictionary, table.to_csv(index=False), trial.protocol)
    assert str(raised.value) == f"records: line {second + 2}: age: -5 is outside 0-120"


def test_a_mapping_that_matches_nothing_is_refused(project) -> None:
    trial, dictionary, records = project
    mapping = {"fields": {"pain_scroe": "item_pain"}, "instruments": {"dairy": "diary"}}
    with pytest.raises(InteropError) as raised:
        read_redcap(dictionary, records, trial.protocol, mapping=mapping)
    assert str(raised.value) == (
        "mapping: mapping: matches nothing in the records: field 'pain_scroe', instrument 'dairy'"
    )


def test_a_file_that_is_not_utf8_or_csv_is_named(project, tmp_path: Path) -> None:
    trial, dictionary, records = project
    folder = tmp_path / "rc"
    folder.mkdir()
    (folder / REDCAP_FILES["dictionary"]).write_text(dictionary)
    (folder / REDCAP_FILES["records"]).write_bytes(records.encode("utf-16"))
    with pytest.raises(InteropError, match=r"not UTF-8 text \(byte 0\); export again"):
        read_redcap_files(folder, trial.protocol)
    lines = records.splitlines()
    lines[2] = lines[2].replace(",", "," + "9" * 140_000, 1)  # over csv's 131,072 characters
    with pytest.raises(InteropError, match="line 3: row: cannot be read: field larger than"):
        read_redcap(dictionary, "\n".join(lines), trial.protocol)


@functools.cache
def _small_project() -> tuple[TrialData, str, str]:
    trial = simulate_trial("crossover-2013", n=1, seed=6)
    return (trial, *_project(trial, Path(tempfile.mkdtemp())))


@settings(max_examples=300, deadline=None, derandomize=True)
@given(text=st.text(alphabet=st.characters(codec="utf-8"), max_size=400))
def test_no_records_text_raises_anything_but_an_interop_error(text: str) -> None:
    trial, dictionary, records = _small_project()
    header = records.splitlines()[0]
    for candidate in (text, f"{header}\n{text}"):
        with contextlib.suppress(InteropError):
            read_redcap(dictionary, candidate, trial.protocol)
