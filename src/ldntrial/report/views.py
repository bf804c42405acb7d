"""Results and tables turned into what a template prints: headers and formatted strings.

Templates only lay out; every number is formatted here, once, the same way
everywhere in a report.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from ldntrial.stats.results import AnalysisResult

__all__ = [
    "ResultView",
    "TableView",
    "decimals_for",
    "format_number",
    "format_p",
    "frame_view",
    "interval",
    "result_view",
]

P_COLUMNS = {"p_value", "wilcoxon_p", "p_bh", "p_holm", "mcnemar_p", "fisher_p"}


@dataclass(frozen=True)
class TableView:
    """A table ready to print: column headers and rows of strings."""

    headers: list[str]
    rows: list[list[str]]
    caption: str = ""
    row_headers: bool = False  # the first column names the row (Table 1)


@dataclass(frozen=True)
class ResultView:
    """One analysis result as the report shows it."""

    key: str
    title: str
    n: int
    table: TableView
    definition: str
    method: str
    formula: str | None
    assumptions: list[str]
    missing_data: str
    warnings: list[str]
    values: list[tuple[str, str]] = field(default_factory=list)


def format_number(value: Any, decimals: int | None = None) -> str:
    """A number at a precision a reader can use (``decimals`` if given); missing is a dash."""
    if value is None or isinstance(value, str):
        return value or "-"
    if isinstance(value, bool):
        return "yes" if value else "no"
    number = float(value)
    if not math.isfinite(number):
        return "-"
    if isinstance(value, int):
        return f"{value:,}"
    if decimals is None:
        decimals = decimals_for(number)
    if decimals < 0:
        return f"{number:.2g}"
    return f"{number:,.{decimals}f}"


def decimals_for(number: float) -> int:
    """Decimals for a number of this size: 0 from 1000, 1 from 10, 2 from 0.01; else -1
    (two significant digits)."""
    size = abs(number)
    if size >= 1000:
        return 0
    if size >= 10:
        return 1
    if size >= 0.01 or size == 0:
        return 2
    return -1


def format_p(value: Any) -> str:
    """A p-value as journals print it: three decimals, or below 0.001."""
    if value is None or not math.isfinite(float(value)):
        return "-"
    return "<0.001" if float(value) < 0.001 else f"{float(value):.3f}"


def frame_view(
    frame: pd.DataFrame, headers: dict[str, str] | None = None, caption: str = ""
) -> TableView:
    """Any DataFrame as a TableView; p-value columns get :func:`format_p`, counts stay whole."""
    headers = headers or {}
    columns = list(frame.columns)
    formatters = [_column_formatter(column, frame[column]) for column in columns]
    rows = [
        [format_cell(value) for format_cell, value in zip(formatters, record, strict=True)]
        for record in frame.itertuples(index=False, name=None)
    ]
    return TableView([headers.get(c, c.replace("_", " ")) for c in columns], rows, caption)


def _column_formatter(name: str, values: pd.Series) -> Callable[[Any], str]:
    if name in P_COLUMNS:
        return format_p
    if pd.api.types.is_float_dtype(values):
        finite = values[np.isfinite(values.to_numpy(dtype=float))]
        if len(finite) and (finite == finite.round()).all() and (finite.abs() < 1e9).all():
            return lambda value: format_number(int(value) if pd.notna(value) else None)
    return lambda value: format_number(_plain(value))


def result_view(key: str, result: AnalysisResult) -> ResultView:
    """The estimates table (CI in one column, one precision per row) and the words around it."""
    estimates = result.estimates
    extras = [
        c
        for c in estimates.columns
        if c not in {"term", "estimate", "std_error", "ci_lower", "ci_upper", "p_value"}
        and estimates[c].notna().any()
    ]
    extra_formats = [_column_formatter(c, estimates[c]) for c in extras]
    headers = ["Term", "Estimate", "SE", "95 % CI", "p"] + [c.replace("_", " ") for c in extras]
    rows = []
    for record in estimates.to_dict(orient="records"):
        estimate = record["estimate"]
        decimals = decimals_for(estimate) if _finite(estimate) else None
        row = [
            str(record["term"]),
            format_number(estimate, decimals),
            format_number(record["std_error"], decimals),
            interval(record["ci_lower"], record["ci_upper"], decimals),
            format_p(record["p_value"]),
        ]
        row += [fmt(record[c]) for fmt, c in zip(extra_formats, extras, strict=True)]
        rows.append(row)
    values = [
        (name.replace("_", " "), format_number(_plain(value)))
        for name, value in result.values.items()
        if isinstance(value, int | float | str | bool) and name not in {"verdict"}
    ]
    return ResultView(
        key=key,
        title=result.title,
        n=result.n,
        table=TableView(headers, rows),
        definition=result.definition,
        method=result.method,
        formula=result.formula,
        assumptions=list(result.assumptions),
        missing_data=result.missing_data,
        warnings=list(result.warnings),
        values=values,
    )


def _finite(value: Any) -> bool:
    return value is not None and math.isfinite(float(value))


def interval(lower: Any, upper: Any, decimals: int | None = None) -> str:
    """'lower to upper' at one precision (the wider end's unless ``decimals`` is given)."""
    if not (_finite(lower) and _finite(upper)):
        return "-"
    if decimals is None:
        decimals = min(decimals_for(float(lower)), decimals_for(float(upper)))
        decimals = decimals if decimals >= 0 else 2
    return f"{format_number(lower, decimals)} to {format_number(upper, decimals)}"


def _plain(value: Any) -> Any:
    """NumPy and pandas scalars as Python ones, so that formatting sees ints as ints."""
    if isinstance(value, pd.Timestamp):
        return value.date().isoformat() if pd.notna(value) else None
    if hasattr(value, "item") and not isinstance(value, str):
        return value.item()
    return value
