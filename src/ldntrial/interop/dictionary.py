"""The data dictionary that travels with every export: one row per column of every table.

Built from the data contract (:data:`ldntrial.data.tables.TABLES`) and the
study's protocol, so an analyst who opens the files in R, Stata or a
spreadsheet knows each column's type, unit, allowed values and meaning
without ldntrial. Allowed values come from the protocol where it defines
them (diary items, visit measures, phases and conditions of an unblinded
export); a blinded export lists no phase or condition names, and says of
each masked column what it keeps.
"""

from __future__ import annotations

import pandas as pd

from ldntrial.data.tables import TABLES
from ldntrial.data.trialdata import TrialData
from ldntrial.interop.deidentify import AGE_TOP_CODE

__all__ = ["DICTIONARY_COLUMNS", "data_dictionary"]

DICTIONARY_COLUMNS = (
    "table",
    "column",
    "type",
    "unit",
    "allowed_values",
    "nullable",
    "description",
)

_TYPES = {
    "text": "text",
    "category": "text",
    "int": "integer",
    "float": "number",
    "bool": "true/false",
    "date": "date (YYYY-MM-DD)",
    "instant": "date-time, UTC (ISO 8601)",
}


def data_dictionary(trial: TrialData, *, deidentified: bool) -> pd.DataFrame:
    """The dictionary of ``trial``'s tables (columns :data:`DICTIONARY_COLUMNS`)."""
    allowed_from_protocol = _protocol_values(trial)
    rows = []
    for table, columns in TABLES.items():
        for column in columns:
            allowed = column.allowed or allowed_from_protocol.get((table, column.name))
            description = column.description
            if deidentified:
                description += _deidentified_note(column.kind, column.name, table)
            if trial.blinded and column.name in _BLINDED_NOTES:
                description += _BLINDED_NOTES[column.name]
            rows.append(
                {
                    "table": table,
                    "column": column.name,
                    "type": _TYPES[column.kind],
                    "unit": column.unit or "",
                    "allowed_values": " | ".join(allowed) if allowed else "",
                    "nullable": "yes" if column.nullable else "no",
                    "description": description,
                }
            )
    return pd.DataFrame(rows, columns=list(DICTIONARY_COLUMNS))


def _protocol_values(trial: TrialData) -> dict[tuple[str, str], tuple[str, ...]]:
    protocol = trial.protocol
    values: dict[tuple[str, str], tuple[str, ...]] = {
        ("diary", "item"): tuple(item.id for item in protocol.diary.items)
    }
    if protocol.visits is not None:
        values[("visits", "measure")] = tuple(m.id for m in protocol.visits.measures)
    if not trial.blinded:
        phases = tuple(phase.name for phase in protocol.phases)
        sequences = tuple(sequence.name for sequence in protocol.all_sequences)
        values[("participants", "sequence")] = sequences
        for table in ("diary", "visits", "labs", "adverse_events", "blinding_guesses"):
            values[(table, "phase")] = phases
        for table in ("diary", "adverse_events"):
            values[(table, "condition")] = tuple(protocol.conditions)
    return values


_SHARED = " (blinded: what every sequence shares on this study day; see export.json)"
_BLINDED_NOTES = {
    "sequence": " (blinded: 'blinded' for everyone)",
    "dose_mg": " (blinded: always empty)",
    "phase": _SHARED,
    "period": _SHARED,
    "condition": _SHARED,
}


def _deidentified_note(kind: str, name: str, table: str) -> str:
    if kind in ("date", "instant"):
        return " (shifted back by the participant's own 1 to 364 days; intervals are real)"
    if name == "participant_id":
        return " (a pseudonym for this study's exports)"
    if (table, name) == ("participants", "age"):
        return f" ({AGE_TOP_CODE} means {AGE_TOP_CODE} or over)"
    if (table, name) == ("participants", "site"):
        return " (site 1, site 2, ...: no site names)"
    if (table, name) == ("adverse_events", "term"):
        return " (terms outside the protocol's side-effect list are withheld)"
    return ""
