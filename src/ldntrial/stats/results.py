"""The one shape every analysis returns: a frozen result with its estimates and its story.

A statistician signing a report needs more than numbers: what was computed
(definition), how (method, formula), on whom (n), under which assumptions,
and what happened to missing diary days and dropouts. :class:`AnalysisResult`
carries all of it beside a tidy estimates table whose first columns are
always ``term, estimate, std_error, ci_lower, ci_upper, p_value``. Results
keep full precision; rounding happens only in :meth:`AnalysisResult.summary`.
"""

from __future__ import annotations

import html
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

__all__ = ["ESTIMATE_COLUMNS", "AnalysisResult", "estimates_frame", "json_safe", "json_safe_dict"]

ESTIMATE_COLUMNS = ("term", "estimate", "std_error", "ci_lower", "ci_upper", "p_value")


def estimates_frame(rows: Sequence[Mapping[Any, Any]]) -> pd.DataFrame:
    """A tidy estimates table: the standard columns first (NaN where not defined), extras after."""
    frame = pd.DataFrame(list(rows))
    for column in ESTIMATE_COLUMNS:
        if column not in frame.columns:
            frame[column] = np.nan if column != "term" else ""
    extras = [column for column in frame.columns if column not in ESTIMATE_COLUMNS]
    return frame[list(ESTIMATE_COLUMNS) + extras]


@dataclass(frozen=True)
class AnalysisResult:
    """What one pre-specified analysis found, and everything needed to read it.

    Attributes
    ----------
    name:
        Key of the analysis in :func:`ldntrial.analyze` output (``primary``...).
    title:
        One line for a report heading.
    n:
        Participants the estimates rest on.
    definition:
        The outcome as defined (e.g. the NCT00568555 % change formula).
    method:
        The test or model, and how intervals and p-values are computed.
    estimates:
        Tidy table: ``term, estimate, std_error, ci_lower, ci_upper, p_value``
        then analysis-specific columns.
    missing_data:
        How missing diary days, missing visits and dropouts were handled.
    assumptions:
        What must hold for the numbers to mean what they say.
    formula:
        Model formula, where there is one.
    tables:
        Supporting tables (per condition, per participant...), by name.
    values:
        Scalars that are not estimates of a term (variance components, counts).
    warnings:
        What a reader must know (a confounded period, too few participants).
    validation:
        How the analysis fared in the Monte-Carlo validation (status, statement,
        figures; :mod:`ldntrial.stats.validity`), or None where not looked up.
    """

    name: str
    title: str
    n: int
    definition: str
    method: str
    estimates: pd.DataFrame
    missing_data: str = ""
    assumptions: tuple[str, ...] = ()
    formula: str | None = None
    tables: Mapping[str, pd.DataFrame] = field(default_factory=dict)
    values: Mapping[str, Any] = field(default_factory=dict)
    warnings: tuple[str, ...] = ()
    validation: Mapping[str, Any] | None = None

    def to_frame(self) -> pd.DataFrame:
        """The estimates table (a copy)."""
        return self.estimates.copy()

    def term(self, term: str) -> pd.Series:
        """The estimates row of ``term``; KeyError names the terms there are."""
        rows = self.estimates[self.estimates["term"] == term]
        if rows.empty:
            raise KeyError(f"no term {term!r}; terms are {list(self.estimates['term'])}")
        return rows.iloc[0]

    def to_dict(self) -> dict[str, Any]:
        """A JSON-safe dict (NaN becomes null; tables become lists of records)."""
        return json_safe_dict(
            {
                "title": self.title,
                "n": self.n,
                "definition": self.definition,
                "method": self.method,
                "formula": self.formula,
                "assumptions": list(self.assumptions),
                "missing_data": self.missing_data,
                "terms": self.estimates,
                "tables": dict(self.tables),
                "values": dict(self.values),
                "warnings": list(self.warnings),
                "validation": dict(self.validation) if self.validation else None,
            }
        )

    def summary(self, format: str = "text") -> str:
        """The result as ``text``, ``markdown`` or ``html``, numbers rounded for reading."""
        shown = _rounded(self.estimates)
        notes = [f"n = {self.n}", f"Definition: {self.definition}", f"Method: {self.method}"]
        if self.formula:
            notes.append(f"Model: {self.formula}")
        if self.missing_data:
            notes.append(f"Missing data: {self.missing_data}")
        notes += [f"Warning: {warning}" for warning in self.warnings]
        if format == "text":
            return "\n".join([self.title, shown.to_string(index=False), *notes])
        if format == "markdown":
            header = "| " + " | ".join(shown.columns) + " |"
            rule = "|" + "---|" * len(shown.columns)
            body = ["| " + " | ".join(str(v) for v in row) + " |" for row in shown.to_numpy()]
            return "\n".join([f"### {self.title}", "", header, rule, *body, "", *notes])
        if format == "html":
            items = "".join(f"<li>{html.escape(note)}</li>" for note in notes)
            table = shown.to_html(index=False, border=0, classes="estimates", na_rep="")
            return f"<h3>{html.escape(self.title)}</h3>{table}<ul class='notes'>{items}</ul>"
        raise ValueError(f"format must be text, markdown or html, not {format!r}")


def _rounded(frame: pd.DataFrame) -> pd.DataFrame:
    shown = frame.copy()
    for column in shown.columns:
        if pd.api.types.is_float_dtype(shown[column]):
            digits = 4 if column == "p_value" or column.endswith("_p") else 2
            shown[column] = shown[column].map(
                lambda v, d=digits: "" if pd.isna(v) else _format_number(v, d)
            )
    return shown


def _format_number(value: float, digits: int) -> str:
    if digits == 4 and 0 < value < 0.0001:
        return "<0.0001"
    return f"{value:.{digits}f}"


def _plain_column(column: pd.Series) -> list[Any]:
    """A column as JSON values: floats at full precision with NaN as None."""
    if pd.api.types.is_float_dtype(column.dtype):
        return [x if math.isfinite(x) else None for x in column.to_numpy(dtype=float).tolist()]
    exact = pd.api.types.is_bool_dtype(column.dtype) or pd.api.types.is_integer_dtype(column.dtype)
    if exact and not column.hasnans:
        return column.to_numpy().tolist()
    values = column.tolist()
    if all(type(value) is str for value in values):  # ids, conditions: most of a big table
        return values
    return [json_safe(x) for x in values]


def json_safe_dict(value: Mapping[str, Any]) -> dict[str, Any]:
    """:func:`json_safe` of a mapping: a dict of plain JSON types."""
    return {str(key): json_safe(item) for key, item in value.items()}


def json_safe(value: Any) -> Any:
    """Turn results into plain JSON types: NaN and NaT become None, frames become records."""
    if isinstance(value, pd.DataFrame):
        # Column by column through numpy's tolist (full precision: pandas' writer keeps 15
        # decimal places, so p = 3.87e-15 came out as 4e-15), not a walk over cells.
        columns = {str(name): _plain_column(value[name]) for name in value.columns}
        rows = zip(*columns.values(), strict=True)
        return [dict(zip(columns, row, strict=True)) for row in rows]
    if value is pd.NA or value is pd.NaT:
        return None
    if isinstance(value, Mapping):
        return {str(key): json_safe(item) for key, item in value.items()}
    if isinstance(value, list | tuple | np.ndarray | pd.Series):
        return [json_safe(item) for item in list(value)]
    if isinstance(value, AnalysisResult):
        return value.to_dict()
    if isinstance(value, bool | np.bool_):
        return bool(value)
    if isinstance(value, int | np.integer):
        return int(value)
    if isinstance(value, float | np.floating):
        return None if not math.isfinite(float(value)) else float(value)
    if value is None or value is pd.NaT or (isinstance(value, float) and math.isnan(value)):
        return None
    if isinstance(value, pd.Timestamp | np.datetime64):
        return pd.Timestamp(value).isoformat()
    return value if isinstance(value, str) else str(value)
