"""How each reported analysis fared in the Monte-Carlo validation, so that every output says so.

``make validate`` (:mod:`ldntrial.validation`) simulates every built-in design
under a null and a true effect and judges each reported comparison: it
*meets* the target (false positives within alpha +- 1.5 points, 95 %
intervals covering the truth 93.5-96.5 % of the time), is *conservative*
(errs only on the safe side) or is *exploratory*. Its figures ship as
``stats/reference/validation.json``; :func:`label` puts the verdict and its
figures on a result, in its warnings (which every output shows) and, when
exploratory, in its title.
"""

from __future__ import annotations

import dataclasses
import json
from functools import cache
from pathlib import Path
from typing import Any

from ldntrial.stats.results import AnalysisResult

__all__ = ["VALIDATION_FILE", "cells_named", "label", "validity_of"]

VALIDATION_FILE = Path(__file__).parent / "reference" / "validation.json"

EXPLORATORY = "Exploratory"


@cache
def _cells(path: Path) -> dict[tuple[str, str], dict[str, Any]]:
    if not path.exists():
        return {}
    document = json.loads(path.read_text())
    sims = document["settings"]["sims"]
    return {(row["protocol"], row["cell"]): row | {"sims": sims} for row in document["cells"]}


def validity_of(
    protocol_id: str, cell: str, path: Path = VALIDATION_FILE
) -> dict[str, Any] | None:
    """The validation's row for ``cell`` of ``protocol_id`` (status, reasons, figures), or None."""
    return _cells(path).get((protocol_id, cell))


def cells_named(protocol_id: str, prefix: str, path: Path = VALIDATION_FILE) -> list[str]:
    """The validated cells of ``protocol_id`` whose key starts with ``prefix``, in order."""
    return [
        cell
        for protocol, cell in _cells(path)
        if protocol == protocol_id and cell.startswith(prefix)
    ]


def label(
    result: AnalysisResult, protocol_id: str, cells: list[str], path: Path = VALIDATION_FILE
) -> AnalysisResult:
    """``result`` with its validation: the worst verdict of ``cells``, the figures in a warning.

    A protocol or analysis the validation has not covered says so, rather than
    passing for validated.
    """
    rows = [row for cell in cells if (row := validity_of(protocol_id, cell, path)) is not None]
    if not rows:
        covered = any(key[0] == protocol_id for key in _cells(path))
        statement = (
            "not yet validated by simulation: its false-positive rate and coverage are unknown"
            if covered
            else "not validated by simulation for this protocol: `ldntrial validate "
            "PROTOCOL --n N` measures its false-positive rate and coverage"
        )
        return dataclasses.replace(
            result,
            warnings=(*result.warnings, statement),
            validation={"status": "not validated", "statement": statement},
        )
    order = ["meets", "conservative", "exploratory"]
    status = max((row["status"] for row in rows), key=order.index)
    statement = _statement(rows, status)
    title = f"{EXPLORATORY}: {result.title}" if status == "exploratory" else result.title
    return dataclasses.replace(
        result,
        title=title,
        warnings=(*result.warnings, statement),
        validation={
            "status": status,
            "statement": statement,
            "cells": {row["cell"]: _figures(row) for row in rows},
        },
    )


def _statement(rows: list[dict[str, Any]], status: str) -> str:
    first = rows[0]
    # The cell's own count: mixed models run on fewer trials than the settings' sims.
    trials = first["scenarios"]["null"].get("trials") or first["sims"]
    what = "patients' answers" if first["cell"].endswith("patients") else "trials"
    where = (
        f"{trials:,} simulated {first['protocol']} {what} of n = {first['n']} "
        "under each of `null` and `stanford`"
    )
    if status == "meets":
        return f"Validated by simulation ({where}): {_figures_sentence(first)}"
    reasons = "; ".join(reason for row in rows for reason in row["reasons"])
    kind = "exploratory" if status == "exploratory" else "conservative"
    return f"{kind.capitalize()} by simulation ({where}): {reasons}"


def _figures_sentence(row: dict[str, Any]) -> str:
    null, stanford = row["scenarios"]["null"], row["scenarios"]["stanford"]
    parts = []
    if row.get("has_p_value", True):
        parts.append(f"p < 0.05 in {null['rejection']:.1%} of trials where LDN does nothing")
    if null.get("coverage") is not None and stanford.get("coverage") is not None:
        parts.append(
            f"95 % intervals covered the truth in {null['coverage']:.1%} and "
            f"{stanford['coverage']:.1%} of them"
        )
    elif stanford.get("coverage") is not None:
        parts.append(
            f"95 % intervals covered the truth in {stanford['coverage']:.1%} of `stanford` trials"
        )
    return ", ".join(parts)


def _figures(row: dict[str, Any]) -> dict[str, Any]:
    return {
        "status": row["status"],
        "reasons": row["reasons"],
        "n": row["n"],
        "scenarios": row["scenarios"],
    }
