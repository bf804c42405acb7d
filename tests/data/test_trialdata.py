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
# Each test attacks the view as a blinded reader would: she knows the protocol
# (LDN 84 days, placebo 28 in crossover-2013) and reads every row.

_SEQUENCED = ("crossover-2013", "crossover-washout-2023", "parallel-2024", "nof1")


def _all_text(trial: TrialData) -> set[str]:
    words: set[str] = set()
    for table in trial.tables().values():
        for column in table.columns:
            words.update(str(value) for value in table[column].unique())
    return words


def test_a_blinded_view_names_no_arm(small_trial: TrialData) -> None:
    blinded = small_trial.blinded_view()
    assert not _all_text(blinded) & {"ldn", "placebo", "ldn-first", "placebo-first"}
    assert blinded.truth is None
    assert set(blinded.participants["sequence"]) == {"blinded"}
    assert blinded.participants["dose_mg"].isna().all()
    assert blinded.blinding_guesses.empty  # which visit's guess is about which period is the arm


@pytest.mark.parametrize("protocol_id", _SEQUENCED)
def test_phase_period_and_condition_follow_from_the_study_day_alone(protocol_id: str) -> None:
    from ldntrial.simulate import simulate_trial

    trial = simulate_trial(protocol_id, n=8, seed=3)
    assert trial.participants["sequence"].nunique() > 1  # both arms are there to be told apart
    blinded = trial.blinded_view()
    for name in ("diary", "visits", "labs", "adverse_events"):
        table = blinded.tables()[name]
        labels = [c for c in ("phase", "period", "condition") if c in table.columns]
        per_day = table.astype({c: str for c in labels}).groupby("study_day")[labels].nunique()
        assert (per_day <= 1).all().all(), f"{name}: a study day carries different labels"


def test_the_length_of_a_period_no_longer_tells_the_sequence(small_trial: TrialData) -> None:
    """The attack that read 12 of 12 demo arms: the day period 1 ends is 98 or 42."""

    def end_of_period_1(diary: pd.DataFrame) -> pd.Series:
        first = diary[diary["period"] == 1]
        return first.groupby("participant_id", observed=True)["study_day"].max()

    unblinded = end_of_period_1(small_trial.diary)
    assert set(unblinded) == {42, 98}  # the attack works on the unblinded data
    blinded = end_of_period_1(small_trial.blinded_view().diary)
    assert set(blinded) == {42}  # every participant, whatever her arm


def test_shared_timing_keeps_the_real_periods() -> None:
    from ldntrial.simulate import simulate_trial

    for protocol_id in ("crossover-washout-2023", "nof1"):
        trial = simulate_trial(protocol_id, n=4, seed=5)
        blinded = trial.blinded_view()
        assert blinded.diary["period"].tolist() == trial.diary["period"].tolist()
        assert set(blinded.diary["condition"].astype(str)) == {"none", "blinded"}


def test_crossover_2013_is_cut_where_either_arm_changes() -> None:
    from ldntrial.simulate import simulate_trial

    blinded = simulate_trial("crossover-2013", n=2, seed=1).blinded_view().diary
    spans = blinded.groupby(["phase", "period"], observed=True)["study_day"].agg(["min", "max"])
    assert spans.to_dict("index") == {
        ("baseline", 0): {"min": 1, "max": 14},
        ("period 1", 1): {"min": 15, "max": 42},
        ("period 2", 2): {"min": 43, "max": 98},
        ("period 3", 3): {"min": 99, "max": 126},
        ("follow_up", 0): {"min": 127, "max": 154},
    }


def test_blinding_happens_once(small_trial: TrialData) -> None:
    with pytest.raises(BlindingError, match="already blinded"):
        small_trial.blinded_view().blinded_view()
