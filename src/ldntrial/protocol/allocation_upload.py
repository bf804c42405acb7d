"""An allocation list made elsewhere (a statistician's, an earlier system's), checked by row.

A trial may bring its own concealed list instead of having ldntrial draw
one. It must say, row by row, a ``sequence`` of the protocol and, for a
stratified protocol, the ``stratum`` in ldntrial's own labels
(``esr=above_20|site=a``); a ``randomisation_number`` (at most 14
characters) is optional and made (``U01-0001``) when absent. The order of
the rows within a stratum is the order of allocation. Every broken rule
is reported at once with its row (from 1, the header not counted) and
column.
"""

from __future__ import annotations

import pandas as pd

from ldntrial.errors import RandomisationError
from ldntrial.protocol.model import Protocol
from ldntrial.protocol.randomisation import AllocationList

__all__ = ["allocation_list_from_table"]

MAX_LISTED = 20
MAX_NUMBER_LENGTH = 14  # room for the list version ldntrial puts in front (V12-...)


def allocation_list_from_table(protocol: Protocol, table: pd.DataFrame) -> AllocationList:
    """The uploaded ``table`` as an AllocationList (seed 0: it was not drawn here)."""
    if "sequence" not in table.columns:
        raise RandomisationError("the list needs a 'sequence' column")
    if table.empty:
        raise RandomisationError("the list has no rows")
    rows = table.reset_index(drop=True).astype("string").fillna("")
    stratified = bool(protocol.strata)
    if stratified and "stratum" not in rows.columns:
        raise RandomisationError("this protocol is stratified: the list needs a 'stratum' column")
    sequences = {sequence.name for sequence in protocol.all_sequences}
    problems = []
    for row, values in enumerate(rows.to_dict("records"), start=1):
        sequence = values["sequence"].strip()
        if sequence not in sequences:
            problems.append(
                f"row {row}: sequence: '{sequence}' is not a sequence of {protocol.id} "
                f"({', '.join(sorted(sequences))})"
            )
        if stratified:
            problem = _stratum_problem(protocol, values["stratum"].strip())
            if problem:
                problems.append(f"row {row}: stratum: {problem}")
    strata = rows["stratum"].str.strip() if stratified else pd.Series("all", index=rows.index)
    numbers = (
        rows["randomisation_number"].str.strip()
        if "randomisation_number" in rows.columns
        else pd.Series([f"U01-{k:04d}" for k in range(1, len(rows) + 1)], index=rows.index)
    )
    for empty in (numbers == "").to_numpy().nonzero()[0]:
        problems.append(f"row {empty + 1}: randomisation_number: empty")
    for long in (numbers.str.len() > MAX_NUMBER_LENGTH).to_numpy().nonzero()[0]:
        problems.append(
            f"row {long + 1}: randomisation_number: at most {MAX_NUMBER_LENGTH} characters"
        )
    for row in numbers[numbers.duplicated() & (numbers != "")].index:
        problems.append(f"row {row + 1}: randomisation_number: '{numbers[row]}' is used twice")
    if problems:
        more = len(problems) - MAX_LISTED
        listed = problems[:MAX_LISTED] + ([f"... and {more} more"] if more > 0 else [])
        raise RandomisationError("the allocation list has errors:\n" + "\n".join(listed))
    result = pd.DataFrame(
        {
            "randomisation_number": numbers.astype(str),
            "stratum": strata.astype(str),
            "position": strata.groupby(strata).cumcount().to_numpy() + 1,
            "block": 0,
            "block_size": 0,
            "sequence": rows["sequence"].str.strip().astype(str),
        }
    )
    levels = {
        stratum.name: sorted({label.split("|")[i].split("=", 1)[1] for label in set(strata)})
        for i, stratum in enumerate(protocol.strata)
    }
    return AllocationList(protocol.id, protocol.allocation.method, 0, levels, result)


def _stratum_problem(protocol: Protocol, label: str) -> str:
    """Why ``label`` is not a stratum of ``protocol`` in ldntrial's form, or ''."""
    parts = [part.split("=", 1) for part in label.split("|")] if label else []
    names = [stratum.name for stratum in protocol.strata]
    expected = "|".join(f"{name}=..." for name in names)
    if [part[0] for part in parts] != names or any(
        len(part) != 2 or not part[1] for part in parts
    ):
        return f"'{label}' is not of the form {expected}"
    for stratum, (_name, level) in zip(protocol.strata, parts, strict=True):
        if stratum.above is not None:
            allowed = (f"above_{stratum.above:g}", f"at_most_{stratum.above:g}")
            if level not in allowed:
                return f"{stratum.name} is {' or '.join(allowed)}, got '{level}'"
    return ""
