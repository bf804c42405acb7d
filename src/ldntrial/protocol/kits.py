"""Blinded kits: random codes that say nothing about what is inside.

The pharmacy list is the only place that pairs a kit code with its contents
(standards.md BLD-1, BLD-10). Codes are drawn for the whole list at once,
before any contents are looked at, from a stream of their own: the code of a
kit depends only on the seed and its position, never on its condition or
dose, so no pattern in the codes can reveal an arm.

A code is 8 Crockford base-32 characters (40 random bits) and a check
character (Crockford's mod-37 symbol), written ``XXXX-XXXX-C``; the check
catches a mistyped or swapped character at the pharmacy counter.
"""

from __future__ import annotations

import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from ldntrial.errors import RandomisationError
from ldntrial.protocol.model import Protocol
from ldntrial.protocol.randomisation import AllocationList
from ldntrial.protocol.schedule import kit_runs, plan_sequence
from ldntrial.vocab import AllocationMethod

__all__ = ["KitList", "is_valid_kit_code", "kit_codes", "prepare_kits"]

_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
_CHECK_SYMBOLS = _ALPHABET + "*~$=U"
_KIT_COLUMNS = [
    "randomisation_number", "kit_number", "condition", "dose_mg", "mg_per_ml", "first_day",
    "last_day", "days", "capsules", "dispense_visit",
]  # fmt: skip
_BLINDED_COLUMNS = [
    "kit_code", "randomisation_number", "kit_number", "first_day", "last_day",
    "capsules", "dispense_visit",
]  # fmt: skip


def _check_symbol(value: int) -> str:
    return _CHECK_SYMBOLS[value % 37]


def kit_codes(count: int, rng: np.random.Generator) -> list[str]:
    """``count`` distinct kit codes drawn from ``rng``."""
    codes: list[str] = []
    seen: set[str] = set()
    while len(codes) < count:
        draws = rng.integers(0, 32, size=(count - len(codes), 8))
        for row in draws:
            value = int(sum(int(digit) << (5 * (7 - i)) for i, digit in enumerate(row)))
            body = "".join(_ALPHABET[digit] for digit in row)
            code = f"{body[:4]}-{body[4:]}-{_check_symbol(value)}"
            if code not in seen:
                seen.add(code)
                codes.append(code)
    return codes


def is_valid_kit_code(code: str) -> bool:
    """True when ``code`` is well formed and its check character matches."""
    parts = code.strip().upper().split("-")
    if len(parts) != 3 or len(parts[0]) != 4 or len(parts[1]) != 4 or len(parts[2]) != 1:
        return False
    body = parts[0] + parts[1]
    if any(char not in _ALPHABET for char in body):
        return False
    value = 0
    for char in body:
        value = value * 32 + _ALPHABET.index(char)
    return _check_symbol(value) == parts[2]


@dataclass(frozen=True)
class KitList:
    """The pharmacy's kit list: every kit code with its contents (unblinded).

    ``table`` columns: kit_code, randomisation_number, kit_number, condition,
    dose_mg, mg_per_ml (a liquid's concentration, placebo 0; NaN for capsules),
    first_day, last_day, days, capsules (capsules, or mL of a liquid),
    dispense_visit.
    """

    protocol_id: str
    seed: int
    table: pd.DataFrame

    def blinded(self) -> pd.DataFrame:
        """What a site may see: codes, which participant slot and visit, capsule counts."""
        return self.table[_BLINDED_COLUMNS].copy()


def prepare_kits(
    protocol: Protocol,
    allocations: AllocationList,
    *,
    seed: int | None = None,
    doses_mg: Mapping[str, float] | None = None,
) -> KitList:
    """One kit per bottle each allocation slot will need, with concealed codes.

    An up-and-down design's slots get kits only once their dose is known:
    ``doses_mg`` maps a randomisation number to its assigned dose, and slots
    without one get none yet.
    """
    if allocations.protocol_id != protocol.id:
        raise RandomisationError(
            f"the allocation list is for {allocations.protocol_id}, not {protocol.id}"
        )
    seed = secrets.randbits(63) if seed is None else seed
    up_and_down = protocol.allocation.method == AllocationMethod.UP_AND_DOWN
    doses = dict(doses_mg or {})
    runs: dict[tuple[str, float | None], list[dict[str, Any]]] = {}
    rows = []
    for number, sequence in allocations.table[["randomisation_number", "sequence"]].itertuples(
        index=False
    ):
        dose = doses.get(number)
        if up_and_down and dose is None:
            continue  # its dose follows the previous participant's response
        key = (sequence, dose)
        if key not in runs:
            runs[key] = kit_runs(protocol, plan_sequence(protocol, sequence, dose_mg=dose))
        rows += [{"randomisation_number": number, **kit} for kit in runs[key]]
    codes = kit_codes(len(rows), np.random.default_rng(seed))
    table = pd.DataFrame(rows, columns=_KIT_COLUMNS)
    table.insert(0, "kit_code", codes)
    return KitList(protocol.id, seed, table)
