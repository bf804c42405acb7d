"""The TrialData contract: column names, validation messages, and the blinded view."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from ldntrial.data import TABLES, TrialData
from ldntrial.errors import BlindingError, DataError


def test_contract_column_names() -> None:
    names = {table: [column.name for column in columns] for table, columns in TABLES.items()}
    assert names["participants"][:8] == [
        "participant_id", "site", "sequence", "age", "sex", "esr_baseline", "enrolled_on",
        "status",
    ]  # fmt: skip
    assert names["diary"] == [
        "participant_id", "date", "study_day", "phase", "condition", "period", "item", "value",
    ]  # fmt: skip
    assert names["visits"][:1] + names["visits"][2:] == [
        "participant_id", "date", "study_day", "phase", "period", "measure", "value", "unit",
    ]  # fmt: skip
    assert {
        "participant_id",
        "sampled_at",
        "study_day",
        "phase",
        "analyte",
        "value",
        "unit",
    } <= set(names["labs"])
    assert {
        "participant_id",
        "term",
        "onset",
        "phase",
        "condition",
        "severity",
        "serious",
        "related",
    } <= set(names["adverse_events"])
    assert {"participant_id", "phase", "guess"} <= set(names["blinding_guesses"])


def _broken(
    trial: TrialData, table: str, row: int, column: str, value: object
) -> dict[str, pd.DataFrame]:
    tables = {name: frame.copy() for name, frame in trial.tables().items()}
    frame = tables[table]
    if isinstance(frame[column].dtype, pd.CategoricalDtype):
        frame[column] = frame[column].astype("str")
    frame[column] = frame[column].astype(object)
    frame.loc[row, column] = value
    return tables


@pytest.mark.parametrize(
    ("table", "row", "column", "value", "message"),
    [
        ("diary", 3, "item", "itch", "diary.item row 3: 'itch' is not one of fatigue, mood, pain"),
        ("diary", 7, "value", "a lot", "diary.value row 7: cannot be read as float: 'a lot'"),
        (
            "diary",
            2,
            "participant_id",
            "P99999",
            "diary.participant_id row 2: participant 'P99999' is not in participants",
        ),
        (
            "participants",
            1,
            "sex",
            "unknown",
            "participants.sex row 1: 'unknown' is not one of female, male",
        ),
        ("participants", 0, "age", None, "participants.age row 0: cannot be read as int: None"),
        (
            "participants",
            4,
            "sequence",
            "abba",
            "participants.sequence row 4: 'abba' is not one of ldn-first, placebo-first",
        ),
        (
            "diary",
            0,
            "date",
            "31/02/2026",
            "diary.date row 0: cannot be read as date: '31/02/2026'",
        ),
    ],
)
def test_validation_names_table_column_row_and_rule(
    small_trial: TrialData, table: str, row: int, column: str, value: object, message: str
) -> None:
    tables = _broken(small_trial, table, row, column, value)
    with pytest.raises(DataError) as caught:
        TrialData.from_tables(small_trial.protocol, **tables)
    assert str(caught.value).startswith(message), str(caught.value)


def test_a_rating_off_its_scale_is_refused(small_trial: TrialData) -> None:
    diary = small_trial.diary.copy()
    row = int(np.flatnonzero(diary["item"] == "fatigue")[1])
    diary.loc[row, "value"] = 140.0
    with pytest.raises(DataError) as caught:
        small_trial.with_tables(diary=diary)
    assert str(caught.value) == f"diary.value row {row}: 140 is outside the 'fatigue' scale 0-100"


def test_a_duplicate_diary_entry_is_refused(small_trial: TrialData) -> None:
    diary = pd.concat([small_trial.diary, small_trial.diary.iloc[[10]]], ignore_index=True)
    with pytest.raises(
        DataError, match=r"^diary row \d+: duplicate participant_id \+ date \+ item"
    ):
        small_trial.with_tables(diary=diary)


def test_a_missing_column_is_named(small_trial: TrialData) -> None:
    with pytest.raises(DataError, match=r"^visits: missing column\(s\) unit"):
        small_trial.with_tables(visits=small_trial.visits.drop(columns="unit"))


def test_tables_left_out_are_empty_with_the_contract_dtypes(small_trial: TrialData) -> None:
    trial = TrialData.from_tables(small_trial.protocol, participants=small_trial.participants)
    assert len(trial.diary) == 0
    assert str(trial.diary["date"].dtype) == "datetime64[s]"
    assert str(trial.labs["sampled_at"].dtype) == "datetime64[s, UTC]"


# -- the blinded view -------------------------------------------------------------


def _all_text(trial: TrialData) -> set[str]:
    words: set[str] = set()
    for name, table in trial.tables().items():
        if name == "blinding_guesses":
            table = table.drop(columns="guess")  # what she believed, not what she took
        for column in table.columns:
            words.update(str(value) for value in table[column].unique())
    return words


def test_a_blinded_view_reveals_no_allocation(small_trial: TrialData) -> None:
    blinded = small_trial.blinded_view("study-secret")
    words = _all_text(blinded)
    assert not words & {"ldn", "placebo", "ldn-first", "placebo-first"}
    assert blinded.truth is None
    assert blinded.participants["dose_mg"].isna().all()
    assert set(blinded.diary["condition"].astype(str)) == {"condition A", "condition B", "none"}
    assert set(blinded.participants["sequence"]) == {"sequence 1", "sequence 2"}
    assert set(blinded.diary["phase"].astype(str)) == {
        "baseline",
        "period 1",
        "period 2",
        "follow_up",
    }


def test_masked_labels_are_stable_for_a_key_and_consistent_across_tables(
    small_trial: TrialData,
) -> None:
    first = small_trial.blinded_view("study-secret")
    again = small_trial.blinded_view("study-secret")
    assert first.equals(again)
    # The same condition carries the same label in the diary and the adverse events.
    diary = small_trial.diary.assign(masked=first.diary["condition"].astype(str))
    pairs = set(zip(diary["condition"].astype(str), diary["masked"], strict=True))
    events = small_trial.adverse_events.assign(masked=first.adverse_events["condition"])
    assert set(zip(events["condition"], events["masked"], strict=True)) <= pairs
    assert len({masked for _c, masked in pairs}) == len(pairs)


def test_the_labels_depend_on_the_key() -> None:
    from ldntrial.simulate import simulate_trial

    trial = simulate_trial("crossover-2013", n=4, seed=1)
    mapping = set()
    for key in [f"key-{k}" for k in range(12)]:
        masked = trial.blinded_view(key).diary
        ldn_rows = trial.diary["condition"] == "ldn"
        mapping.add(str(masked.loc[ldn_rows, "condition"].iloc[0]))
    assert mapping == {"condition A", "condition B"}


def test_blinding_needs_a_key_and_happens_once(small_trial: TrialData) -> None:
    with pytest.raises(BlindingError, match="non-empty key"):
        small_trial.blinded_view("")
    with pytest.raises(BlindingError, match="already blinded"):
        small_trial.blinded_view("k").blinded_view("k")


def test_n_of_1_blocks_are_masked_by_period() -> None:
    from ldntrial.simulate import simulate_trial

    trial = simulate_trial("nof1", n=3, seed=2).blinded_view("k")
    assert set(trial.diary["phase"].astype(str)) == {"baseline"} | {
        f"period {k}" for k in range(1, 7)
    }
    assert np.all(trial.blinding_guesses["phase"].str.startswith("period "))
