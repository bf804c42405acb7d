"""The TrialData tables, column by column: names, types, units and allowed values.

This is the data contract of design.md. Every producer (simulator, database,
import) and consumer (analysis, report, export) relies on these names; other
columns may be added but these may not change. :func:`conform` casts a
table to the canonical dtypes, so a table that went through CSV or Parquet
comes back identical.

Canonical dtypes: ``str`` for text (``category`` for the repetitive text of
the long tables, whose categories are kept sorted), ``int64``, ``float64``,
``bool``, ``datetime64[s]`` for local calendar dates and
``datetime64[s, UTC]`` for instants.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from ldntrial.errors import DataError
from ldntrial.vocab import WithdrawalReason

__all__ = ["TABLES", "Column", "conform", "empty_table"]


@dataclass(frozen=True)
class Column:
    """One column of a TrialData table."""

    name: str
    kind: str  # text, category, int, float, bool, date, instant
    description: str
    unit: str | None = None
    nullable: bool = False
    allowed: tuple[str, ...] | None = None
    bounds: tuple[float, float] | None = None  # the lowest and highest possible values
    optional: bool = False  # added to the contract later: a table without it reads as empty


def _c(name: str, kind: str, description: str, **options: Any) -> Column:
    return Column(name, kind, description, **options)


_PID = _c("participant_id", "category", "Pseudonymous participant code")
_STUDY_DAY = _c("study_day", "int", "Day of the study; day 1 is the enrolment date", unit="d")
_PHASE = _c("phase", "category", "Protocol phase name (masked to 'period N' when blinded)")
_PERIOD = _c("period", "int", "Ordinal of the treated phase in the sequence; 0 when untreated")
_CONDITION = _c(
    "condition",
    "category",
    "Protocol condition key (ldn, placebo, none); masked labels in a blinded view",
)

TABLES: dict[str, tuple[Column, ...]] = {
    "participants": (
        _c("participant_id", "text", "Pseudonymous participant code, unique"),
        _c("site", "text", "Study site code"),
        _c("sequence", "text", "Allocated sequence (masked to 'sequence N' when blinded)"),
        _c("age", "int", "Age at enrolment", unit="a", bounds=(0, 120)),
        _c("sex", "text", "Sex recorded at screening", allowed=("female", "male")),
        _c("esr_baseline", "float", "Erythrocyte sedimentation rate at screening", unit="mm/h"),
        _c("enrolled_on", "date", "Enrolment date = study day 1 (local date)"),
        _c(
            "status",
            "text",
            "Where the participant is in the study",
            allowed=("enrolled", "active", "completed", "withdrawn"),
        ),
        _c("withdrawn_on", "date", "Last day in the study if withdrawn", nullable=True),
        _c("dose_mg", "float", "Dose assigned up and down (else empty)", unit="mg", nullable=True),
        _c(
            "withdrawal_reason",
            "text",
            "Why she withdrew (a CONSORT category), if she did",
            nullable=True,
            optional=True,
            allowed=tuple(WithdrawalReason),
        ),
    ),
    "diary": (
        _PID,
        _c("date", "date", "The local date the entry is about (the report day)"),
        _STUDY_DAY,
        _PHASE,
        _CONDITION,
        _PERIOD,
        _c("item", "category", "Diary item id from the protocol"),
        _c("value", "float", "Rating on the item's scale (0-100 unless the protocol says)"),
    ),
    "visits": (
        _PID,
        _c("visit", "int", "Visit number; 1 is the day-1 visit"),
        _c("date", "date", "Local date of the visit"),
        _STUDY_DAY,
        _PHASE,
        _PERIOD,
        _c("measure", "category", "Visit measure id from the protocol"),
        _c("value", "float", "Measured value"),
        _c("unit", "category", "UCUM unit of the value"),
    ),
    "labs": (
        _PID,
        _c("sampled_at", "instant", "When the sample was drawn (UTC)"),
        _STUDY_DAY,
        _PHASE,
        _PERIOD,
        _c("panel", "category", "Lab panel id from the protocol"),
        _c("analyte", "category", "Analyte name"),
        _c("value", "float", "Concentration or result"),
        _c("unit", "category", "UCUM unit of the value"),
    ),
    "adverse_events": (
        _c("participant_id", "text", "Pseudonymous participant code"),
        _c("term", "text", "Adverse event term"),
        _c("onset", "date", "Local date of onset"),
        _c("study_day", "int", "Study day of onset", unit="d"),
        _c("phase", "text", "Phase at onset (masked when blinded)"),
        _c("condition", "text", "Condition at onset (masked when blinded)"),
        _c("period", "int", "Treated-phase ordinal at onset; 0 when untreated"),
        _c("severity", "text", "Severity", allowed=("mild", "moderate", "severe")),
        _c("serious", "bool", "Serious adverse event (ICH E2A)"),
        _c(
            "related",
            "text",
            "Relatedness to the study capsules",
            allowed=("not_related", "unlikely", "possible", "probable", "definite"),
        ),
    ),
    "blinding_guesses": (
        _c("participant_id", "text", "Pseudonymous participant code"),
        _c("phase", "text", "The blinded phase the guess is about (masked when blinded)"),
        _c("period", "int", "Treated-phase ordinal of that phase"),
        _c(
            "guess",
            "text",
            "What the participant believed she took",
            allowed=("ldn", "placebo", "dont_know"),
        ),
    ),
}


def empty_table(name: str) -> pd.DataFrame:
    """A table with the contract's columns and dtypes and no rows (a fresh copy each call)."""
    return _empty_template(name).copy()


@functools.cache
def _empty_template(name: str) -> pd.DataFrame:
    # Conforming costs milliseconds even with no rows; a power simulation builds
    # thousands of trials whose event tables are empty, so it is done once.
    return conform(name, pd.DataFrame({column.name: [] for column in TABLES[name]}))


def conform(name: str, frame: pd.DataFrame) -> pd.DataFrame:
    """Cast ``frame`` to the canonical dtypes of table ``name``; extra columns are kept.

    Raises DataError naming the table, column and first offending row when a
    column is missing or a value cannot be read as its type.
    """
    columns = TABLES[name]
    missing = [
        column.name
        for column in columns
        if column.name not in frame.columns and not column.optional
    ]
    if missing:
        raise DataError(f"missing column(s) {', '.join(missing)}", table=name)
    result = frame.reset_index(drop=True).copy()
    for column in columns:
        if column.name not in result.columns:  # optional: data written before it existed
            result[column.name] = pd.Series([None] * len(result), dtype="object")
    for column in columns:
        result[column.name] = _cast(name, column, result[column.name])
    ordered = [column.name for column in columns]
    extras = [column for column in result.columns if column not in ordered]
    return result[ordered + extras]


def _cast(table: str, column: Column, values: pd.Series) -> pd.Series:
    try:
        return _CASTS[column.kind](values)
    except (ValueError, TypeError) as error:
        row = _first_bad_row(column.kind, values)
        raise DataError(
            f"cannot be read as {column.kind}: {values.iloc[row]!r}"
            if row is not None
            else str(error),
            table=table,
            column=column.name,
            row=row,
        ) from None


def _first_bad_row(kind: str, values: pd.Series) -> int | None:
    for row, value in enumerate(values):
        try:
            _CASTS[kind](pd.Series([value]))
        except (ValueError, TypeError):
            return row
    return None


def _as_text(values: pd.Series) -> pd.Series:
    return values.astype("str")


def _as_category(values: pd.Series) -> pd.Series:
    if not isinstance(values.dtype, pd.CategoricalDtype):
        values = values.astype("str").astype("category")
    categories = [str(category) for category in values.cat.categories]
    codes = values.cat.codes.to_numpy()
    used = np.bincount(codes[codes >= 0], minlength=len(categories)) > 0
    kept = sorted(category for category, in_use in zip(categories, used, strict=True) if in_use)
    if kept == categories and pd.api.types.is_string_dtype(values.cat.categories.dtype):
        return values
    position = {category: index for index, category in enumerate(kept)}
    remap = np.array([position.get(category, -1) for category in categories] + [-1])
    new_codes = remap[codes]  # code -1 (missing) picks the appended -1
    return pd.Series(
        pd.Categorical.from_codes(new_codes, categories=pd.Index(kept, dtype="str")),
        index=values.index,
        name=values.name,
    )


def _as_int(values: pd.Series) -> pd.Series:
    if values.dtype == np.int64:
        return values
    numbers = pd.to_numeric(values, errors="raise")
    if numbers.isna().any() or not np.all(np.equal(np.mod(numbers, 1), 0)):
        raise ValueError("not a whole number")
    return numbers.astype("int64")


def _as_float(values: pd.Series) -> pd.Series:
    if values.dtype == np.float64:
        return values
    return pd.to_numeric(values, errors="raise").astype("float64")


def _as_bool(values: pd.Series) -> pd.Series:
    if values.dtype == bool:
        return values
    mapping = {"true": True, "false": False, "1": True, "0": False}
    mapped = values.astype("str").str.lower().map(mapping)
    if mapped.isna().any():
        raise ValueError("not true/false")
    return mapped.astype(bool)


def _as_date(values: pd.Series) -> pd.Series:
    parsed = pd.to_datetime(values, errors="raise", format="ISO8601")
    if getattr(parsed.dt, "tz", None) is not None:
        raise ValueError("a date has no time zone")
    return parsed.dt.normalize().astype("datetime64[s]")


def _as_instant(values: pd.Series) -> pd.Series:
    parsed = pd.to_datetime(values, errors="raise", utc=True, format="ISO8601")
    return parsed.astype("datetime64[s, UTC]")


_CASTS = {
    "text": _as_text,
    "category": _as_category,
    "int": _as_int,
    "float": _as_float,
    "bool": _as_bool,
    "date": _as_date,
    "instant": _as_instant,
}
