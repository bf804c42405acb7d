"""CSV and Parquet exports: round trips, de-identification (scanned), the data dictionary."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

import pandas as pd
import pytest

from ldntrial.data import TrialData
from ldntrial.data.bundle import load_bundle
from ldntrial.data.tables import TABLES
from ldntrial.errors import ExportError
from ldntrial.interop.deidentify import MAX_SHIFT_DAYS, WITHHELD_TERM, deidentify
from ldntrial.interop.export import (
    BUNDLE_FORMATS,
    DICTIONARY_FILE,
    EXPORT_FILE,
    EXPORT_FORMATS,
    export_trial,
)
from ldntrial.protocol.loader import builtin_protocol_ids
from ldntrial.simulate import simulate_trial

KEY = b"the site's export secret, 32 b."


@pytest.mark.parametrize("protocol", builtin_protocol_ids())
@pytest.mark.parametrize("format", BUNDLE_FORMATS)
def test_every_builtin_protocol_exports_identified_and_reads_back_the_same(
    protocol: str, format: str, tmp_path: Path
) -> None:
    trial = simulate_trial(protocol, n=8, seed=3)
    done = export_trial(trial, tmp_path / "out", format=format, study="s", identified=True)
    assert load_bundle(done.path).equals(trial)
    assert json.loads((done.path / EXPORT_FILE).read_text())["deidentification"] == {
        "deidentified": False,
        "blinded": False,
    }


@pytest.mark.parametrize("format", BUNDLE_FORMATS)
def test_a_deidentified_export_holds_no_code_no_site_and_none_of_her_real_dates(
    small_trial: TrialData, format: str, tmp_path: Path
) -> None:
    trial = _with_identifying_details(small_trial)
    out = export_trial(trial, tmp_path / "out", format=format, study="demo", key=KEY).path
    text = "\n".join(_file_text(path) for path in sorted(out.iterdir()))
    for code in trial.participants["participant_id"]:
        assert code not in text
    for site in trial.participants["site"].unique():
        assert f",{site}," not in text and f'"{site}"' not in text
    assert "Palo Alto" not in text
    assert not load_bundle(out).truth
    compared = 0
    for name, table in trial.tables().items():  # row by row: no event keeps its real date
        exported = _file_rows(out, name)
        for column in (c.name for c in TABLES[name] if c.kind in ("date", "instant")):
            real = table[column].dt.strftime("%Y-%m-%d")
            shown = exported[column].str[:10]
            present = real.notna()
            assert not (real[present] == shown[present]).any(), (name, column)
            compared += int(present.sum())
    assert compared > len(trial.diary)


@pytest.mark.parametrize("format", EXPORT_FORMATS)
def test_no_format_of_a_deidentified_export_holds_a_participant_code(
    small_trial: TrialData, format: str, tmp_path: Path
) -> None:
    out = export_trial(small_trial, tmp_path / "out", format=format, study="s", key=KEY).path
    everything = b"".join(path.read_bytes() for path in sorted(out.iterdir()))
    assert b"P-" in everything  # the pseudonyms are there
    for code in small_trial.participants["participant_id"]:
        assert code.encode() not in everything
    # Dates: every format writes the same de-identified TrialData, whose dates the row-by-row
    # test above checks (a shifted date may equal someone else's real one, so no global scan).


def test_dates_move_by_one_offset_per_participant_so_intervals_are_real(small_trial) -> None:
    shown = deidentify(small_trial, key=KEY, study="demo").trial
    before = small_trial.diary.assign(pid=small_trial.diary["participant_id"].astype(str))
    after = shown.diary
    shift = before["date"] - after["date"]
    per_person = shift.groupby(before["pid"]).agg(["min", "max"])
    assert (per_person["min"] == per_person["max"]).all()  # one offset for all her dates
    days = per_person["min"].dt.days
    assert days.between(1, MAX_SHIFT_DAYS).all() and days.nunique() > 1
    assert after["study_day"].equals(before["study_day"])
    enrolled = shown.participants.set_index("participant_id")["enrolled_on"]
    day_one = after["date"] - pd.to_timedelta(after["study_day"] - 1, unit="D")
    assert (
        day_one.to_numpy() == enrolled.loc[after["participant_id"].astype(str)].to_numpy()
    ).all()


def test_pseudonyms_hold_within_a_study_and_differ_between_studies(small_trial) -> None:
    first = deidentify(small_trial, key=KEY, study="stanford-2013").trial
    again = deidentify(small_trial, key=KEY, study="stanford-2013").trial
    other = deidentify(small_trial, key=KEY, study="madrid-2020").trial
    ids = [set(t.participants["participant_id"]) for t in (first, again, other)]
    assert ids[0] == ids[1] and not ids[0] & ids[2]
    assert all(pid.startswith("P-") and len(pid) == 14 for pid in ids[0])
    assert first.diary["date"].equals(again.diary["date"])
    assert not first.diary["date"].equals(other.diary["date"])


def test_ages_of_90_and_over_are_one_category_and_free_text_is_withheld(small_trial) -> None:
    trial = _with_identifying_details(small_trial)
    shown = deidentify(trial, key=KEY, study="demo").trial
    assert list(shown.participants["age"]) == [min(age, 90) for age in trial.participants["age"]]
    assert shown.participants["age"].max() == 90
    terms = shown.adverse_events["term"]
    assert (terms == WITHHELD_TERM).sum() == 1
    coded = set(trial.protocol.diary.side_effects)
    assert set(terms) - {WITHHELD_TERM} <= coded
    assert set(shown.participants["site"]) <= {"site 1", "site 2", "site 3"}


def test_a_blinded_trial_exports_blinded(small_trial: TrialData, tmp_path: Path) -> None:
    blinded = small_trial.blinded_view()
    out = export_trial(blinded, tmp_path / "out", format="csv", study="demo", key=KEY).path
    shown = load_bundle(out)
    assert shown.blinded
    assert set(shown.diary["condition"].astype(str)) == {"none", "blinded"}
    dictionary = pd.read_csv(out / DICTIONARY_FILE, keep_default_na=False)
    allocation = dictionary[dictionary["column"].isin(["condition", "phase", "sequence"])]
    assert len(allocation) == 8 and (allocation["allowed_values"] == "").all()
    assert allocation["description"].str.contains("blinded").all()
    said = json.loads((out / EXPORT_FILE).read_text())["blinded_view"]
    assert any("guesses" in dropped for dropped in said["drops"])
    assert "84 days of LDN" in said["why"]


def test_the_data_dictionary_names_every_column_with_its_type_unit_and_values(
    small_trial: TrialData, tmp_path: Path
) -> None:
    out = export_trial(small_trial, tmp_path / "out", format="csv", study="d", key=KEY).path
    dictionary = pd.read_csv(out / DICTIONARY_FILE, keep_default_na=False)
    expected = [(table, c.name) for table, columns in TABLES.items() for c in columns]
    assert list(zip(dictionary["table"], dictionary["column"], strict=True)) == expected
    rows = dictionary.set_index(["table", "column"])
    assert rows.loc[("participants", "esr_baseline"), "unit"] == "mm/h"
    assert rows.loc[("diary", "item"), "allowed_values"].split(" | ")[:2] == ["pain", "fatigue"]
    assert rows.loc[("labs", "sampled_at"), "type"] == "date-time, UTC (ISO 8601)"
    assert "90 or over" in rows.loc[("participants", "age"), "description"]
    described = json.loads((out / EXPORT_FILE).read_text())
    assert described["deidentification"]["deidentified"] is True
    assert "not Safe Harbor" in described["deidentification"]["standard"]
    assert KEY.decode() not in (out / EXPORT_FILE).read_text()


def test_bad_requests_name_the_rule_and_write_nothing(small_trial, tmp_path: Path) -> None:
    out = tmp_path / "out"
    with pytest.raises(ExportError, match="format: must be one of csv, parquet"):
        export_trial(small_trial, out, format="xlsx", study="d", key=KEY)
    with pytest.raises(ExportError, match="LDNTRIAL_EXPORT_KEY"):
        export_trial(small_trial, out, format="csv", study="d")
    with pytest.raises(ExportError, match="at least 16 bytes"):
        export_trial(small_trial, out, format="csv", study="d", key=b"short")
    assert not out.exists() and list(tmp_path.iterdir()) == []
    out.mkdir()
    (out / "keep.txt").write_text("mine")
    with pytest.raises(ExportError, match="already exists"):
        export_trial(small_trial, out, format="csv", study="d", key=KEY)
    assert (out / "keep.txt").read_text() == "mine"


def _with_identifying_details(trial: TrialData) -> TrialData:
    """The simulated trial with an age of 93, a free-text adverse event and an extra column."""
    participants = trial.participants.copy()
    participants.loc[0, "age"] = 93
    participants["name"] = "Jane Doe"  # not in the contract: must not travel
    first = participants.loc[0, "participant_id"]
    story = {
        "participant_id": first,
        "term": "fell off her bike in Palo Alto",
        "onset": participants.loc[0, "enrolled_on"] + timedelta(days=3),
        "study_day": 4,
        "phase": trial.diary["phase"].iloc[0],
        "condition": "none",
        "period": 0,
        "severity": "mild",
        "serious": False,
        "related": "not_related",
    }
    events = pd.concat([trial.adverse_events, pd.DataFrame([story])], ignore_index=True)
    return trial.with_tables(participants=participants, adverse_events=events)


def _file_rows(out: Path, name: str) -> pd.DataFrame:
    """The exported table as the file holds it, every value as text."""
    if (out / f"{name}.csv").exists():
        return pd.read_csv(out / f"{name}.csv", dtype="str")
    table = pd.read_parquet(out / f"{name}.parquet")
    return table.apply(lambda column: column.astype("str"))


def _file_text(path: Path) -> str:
    if path.suffix == ".parquet":
        return pd.read_parquet(path).to_csv(index=False)
    return path.read_text("utf-8")
