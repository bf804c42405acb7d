"""TrialData: a protocol plus the tidy tables of one study, checked against the contract.

Everything that produces trial data returns one; everything that consumes
trial data takes one. :meth:`TrialData.blinded_view` keeps only what every
sequence shares, so that no label, count or timing in it tells an allocation.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from ldntrial.data.blinding import MASKED, blinded_calendar
from ldntrial.data.tables import TABLES, conform, empty_table
from ldntrial.errors import BlindingError, DataError
from ldntrial.protocol.model import DiaryItem, Protocol

__all__ = ["TABLE_NAMES", "TrialData"]

TABLE_NAMES = tuple(TABLES)


@dataclass(frozen=True, eq=False)
class TrialData:
    """A protocol and the six tables of design.md; build one with :meth:`from_tables`."""

    protocol: Protocol
    participants: pd.DataFrame
    diary: pd.DataFrame
    visits: pd.DataFrame
    labs: pd.DataFrame
    adverse_events: pd.DataFrame
    blinding_guesses: pd.DataFrame
    blinded: bool = False
    truth: dict[str, Any] | None = field(default=None)

    @classmethod
    def from_tables(
        cls,
        protocol: Protocol,
        *,
        blinded: bool = False,
        truth: dict[str, Any] | None = None,
        **tables: pd.DataFrame,
    ) -> TrialData:
        """Conform and validate the given tables; tables left out are empty."""
        unknown = sorted(set(tables) - set(TABLE_NAMES))
        if unknown:
            raise DataError(
                f"unknown table(s) {', '.join(unknown)}; tables are {', '.join(TABLE_NAMES)}"
            )
        conformed = {
            name: conform(name, tables[name]) if name in tables else empty_table(name)
            for name in TABLE_NAMES
        }
        trial = cls(protocol=protocol, blinded=blinded, truth=truth, **conformed)
        trial.validate()
        return trial

    def tables(self) -> dict[str, pd.DataFrame]:
        """The six tables by name, in contract order."""
        return {name: getattr(self, name) for name in TABLE_NAMES}

    def equals(self, other: TrialData) -> bool:
        """True when protocol, blinding, truth and every table (values and dtypes) are equal."""
        return (
            self.protocol == other.protocol
            and self.blinded == other.blinded
            and self.truth == other.truth
            and all(self.tables()[name].equals(other.tables()[name]) for name in TABLE_NAMES)
            and all(
                (self.tables()[name].dtypes == other.tables()[name].dtypes).all()
                for name in TABLE_NAMES
            )
        )

    # -- validation -----------------------------------------------------------

    def validate(self) -> None:
        """Raise DataError at the first row that breaks the contract (table, column, row)."""
        # An empty table (a power simulation builds only the diary) has nothing to check.
        tables = {name: table for name, table in self.tables().items() if len(table)}
        for name, table in tables.items():
            _check_required(name, table)
            _check_allowed(name, table)
            _check_bounds(name, table)
        _check_unique(self.participants, "participants", ["participant_id"])
        known = set(self.participants["participant_id"])
        for name in TABLE_NAMES[1:]:
            if name in tables:
                _check_known_participants(name, tables[name], known)
        _check_unique(self.diary, "diary", ["participant_id", "date", "item"])
        self._check_against_protocol()

    def _check_against_protocol(self) -> None:
        protocol = self.protocol
        items = {item.id: item for item in protocol.diary.items}
        _check_in("diary", self.diary, "item", set(items))
        _check_scales(self.diary, items)
        if self.blinded:
            return
        sequences = {sequence.name for sequence in protocol.all_sequences}
        phases = {phase.name for phase in protocol.phases}
        _check_in("participants", self.participants, "sequence", sequences)
        for name in ("diary", "visits", "labs", "adverse_events", "blinding_guesses"):
            if len(getattr(self, name)):
                _check_in(name, getattr(self, name), "phase", phases)
        for name in ("diary", "adverse_events"):
            if len(getattr(self, name)):
                _check_in(name, getattr(self, name), "condition", set(protocol.conditions))
        if protocol.visits is not None:
            _check_in("visits", self.visits, "measure", {m.id for m in protocol.visits.measures})

    # -- blinding -------------------------------------------------------------

    def blinded_view(self) -> TrialData:
        """The same data with nothing left from which an allocation follows.

        Every participant's sequence reads ``blinded`` and her assigned dose is
        dropped; each row's phase, period and condition are those every
        sequence shares on its study day (:mod:`ldntrial.data.blinding`), so
        neither a masked label nor the timing of a period can tell an arm.
        The blinding guesses are dropped: which visit's guess is about which
        period depends on the sequence. The simulation truth is dropped.
        """
        if self.blinded:
            raise BlindingError("this TrialData is already blinded")
        calendar = blinded_calendar(self.protocol)
        participants = self.participants.assign(sequence=MASKED, dose_mg=np.nan)
        tables = {
            "participants": participants,
            "diary": calendar.place(self.diary, condition=True),
            "visits": calendar.place(self.visits, condition=False),
            "labs": calendar.place(self.labs, condition=False),
            "adverse_events": calendar.place(self.adverse_events, condition=True),
        }
        return TrialData.from_tables(self.protocol, blinded=True, truth=None, **tables)

    def with_tables(self, **tables: pd.DataFrame) -> TrialData:
        """A copy with some tables replaced (conformed and validated again)."""
        current = self.tables() | tables
        return TrialData.from_tables(
            self.protocol, blinded=self.blinded, truth=self.truth, **current
        )


def _check_scales(diary: pd.DataFrame, items: dict[str, DiaryItem]) -> None:
    """Every diary value within its item's scale, in one pass over the rows."""
    if diary.empty:
        return
    column = diary["item"]
    if isinstance(column.dtype, pd.CategoricalDtype):
        codes, names = column.cat.codes.to_numpy(), [str(c) for c in column.cat.categories]
    else:
        codes, uniques = pd.factorize(column.astype(str))
        names = [str(name) for name in uniques]
    low = np.array([items[name].min for name in names], dtype=float)[codes]
    high = np.array([items[name].max for name in names], dtype=float)[codes]
    values = diary["value"].to_numpy(dtype=float)
    outside = (values < low) | (values > high)
    if outside.any():
        row = int(np.argmax(outside))
        item = items[names[codes[row]]]
        raise DataError(
            f"{values[row]:g} is outside the '{item.id}' scale {item.min}-{item.max}",
            table="diary",
            column="value",
            row=row,
        )


def _check_required(name: str, table: pd.DataFrame) -> None:
    for column in TABLES[name]:
        if column.nullable:
            continue
        empty = table[column.name].isna()
        if empty.any():
            raise DataError(
                "is empty", table=name, column=column.name, row=int(np.argmax(empty.to_numpy()))
            )


def _check_bounds(name: str, table: pd.DataFrame) -> None:
    """Every value of a bounded column within its bounds (an age of -5 is a typing error)."""
    for column in TABLES[name]:
        if column.bounds is None:
            continue
        low, high = column.bounds
        values = table[column.name].to_numpy(dtype=float)
        outside = (values < low) | (values > high)
        if outside.any():
            row = int(np.argmax(outside))
            raise DataError(
                f"{values[row]:g} is outside {low:g}-{high:g}",
                table=name,
                column=column.name,
                row=row,
            )


def _check_allowed(name: str, table: pd.DataFrame) -> None:
    for column in TABLES[name]:
        if column.allowed is not None:
            _check_in(name, table, column.name, set(column.allowed))


def _check_in(name: str, table: pd.DataFrame, column: str, allowed: set[str]) -> None:
    values = table[column]
    if isinstance(values.dtype, pd.CategoricalDtype):
        unknown = {str(c) for c in values.cat.categories} - allowed
        if not unknown:
            return
        bad = values.isin(list(unknown))
    else:
        bad = ~values.astype("str").isin(allowed) & values.notna()
    if bad.any():
        row = int(np.argmax(bad.to_numpy()))
        raise DataError(
            f"{str(values.iloc[row])!r} is not one of {', '.join(sorted(allowed))}",
            table=name,
            column=column,
            row=row,
        )


def _row_keys(table: pd.DataFrame, key: list[str]) -> np.ndarray:
    """One int64 per row that is equal exactly when the rows agree on ``key``."""
    combined = np.zeros(len(table), dtype=np.int64)
    for column in key:
        codes, uniques = pd.factorize(table[column], use_na_sentinel=False)
        combined = combined * len(uniques) + codes
    return combined


def _check_unique(table: pd.DataFrame, name: str, key: list[str]) -> None:
    if len(table) < 2:
        return
    keys = _row_keys(table, key)
    if not pd.Index(keys).has_duplicates:
        return
    row = int(np.argmax(pd.Index(keys).duplicated()))
    values = ", ".join(str(table[column].iloc[row]) for column in key)
    raise DataError(f"duplicate {' + '.join(key)} ({values})", table=name, row=row)


def _check_known_participants(name: str, table: pd.DataFrame, known: set[str]) -> None:
    ids = table["participant_id"]
    if isinstance(ids.dtype, pd.CategoricalDtype):
        strangers = [str(c) for c in ids.cat.categories if str(c) not in known]
        if not strangers:
            return
        unknown = ids.isin(strangers)
    else:
        unknown = ~ids.astype("str").isin(known)
    if unknown.any():
        row = int(np.argmax(unknown.to_numpy()))
        raise DataError(
            f"participant {str(ids.iloc[row])!r} is not in participants",
            table=name,
            column="participant_id",
            row=row,
        )
