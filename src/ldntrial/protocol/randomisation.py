"""Concealed allocation: seeded lists of sequences, up-and-down doses, N-of-1 pair orders.

Every list is reproducible from its seed and records it (standards.md BLD-4);
when no seed is given a random one is drawn and recorded. Permuted blocks
vary in size so the last allocation of a block cannot be predicted (BLD-3).
"""

from __future__ import annotations

import itertools
import secrets
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from ldntrial.errors import RandomisationError
from ldntrial.protocol.model import PermutedBlocks, Protocol, RandomisedPairs
from ldntrial.vocab import AllocationMethod

__all__ = [
    "AllocationList",
    "allocation_list",
    "count_reversals",
    "count_up_and_down_pairs",
    "next_up_and_down_dose",
    "stratum_of",
    "up_and_down_finished",
]


@dataclass(frozen=True)
class AllocationList:
    """A concealed allocation list and how it was made.

    ``table`` columns: randomisation_number (unique, e.g. ``S01-0007``),
    stratum, position (1-based within the stratum), block, block_size, sequence.
    """

    protocol_id: str
    method: AllocationMethod
    seed: int
    strata: dict[str, list[str]]
    table: pd.DataFrame

    def sequences_in(self, stratum: str) -> list[str]:
        """The sequences of one stratum in allocation order."""
        return self.table.loc[self.table["stratum"] == stratum, "sequence"].tolist()


def allocation_list(
    protocol: Protocol,
    *,
    n: int,
    seed: int | None = None,
    strata: Mapping[str, Sequence[str]] | None = None,
) -> AllocationList:
    """At least ``n`` allocations for each stratum (whole blocks, so possibly a few more).

    ``strata`` gives the levels of each of the protocol's stratification
    factors, e.g. ``{"site": ["A", "B"], "esr_high": ["no", "yes"]}``; a list
    is made for every combination of levels. An up-and-down design's list holds
    places in enrolment order on its one sequence: each place's dose is
    assigned later, from the previous response (:func:`next_up_and_down_dose`).
    """
    method = protocol.allocation.method
    if n < 1:
        raise RandomisationError(f"n must be at least 1, got {n}")
    levels = _strata_levels(protocol, strata or {})
    seed = secrets.randbits(63) if seed is None else seed
    rng = np.random.default_rng(seed)
    frames = []
    combos = list(itertools.product(*levels.values())) if levels else [()]
    for index, combo in enumerate(combos, start=1):
        label = "|".join(f"{name}={level}" for name, level in zip(levels, combo, strict=True))
        rows = _draw(protocol, n, rng)
        rows.insert(0, "stratum", label or "all")
        rows.insert(0, "randomisation_number", [f"S{index:02d}-{k:04d}" for k in rows["position"]])
        frames.append(rows)
    table = pd.concat(frames, ignore_index=True)
    return AllocationList(
        protocol.id, method, seed, {k: list(v) for k, v in levels.items()}, table
    )


def _strata_levels(protocol: Protocol, given: Mapping[str, Sequence[str]]) -> dict[str, list[str]]:
    names = [stratum.name for stratum in protocol.strata]
    unknown = sorted(set(given) - set(names))
    if unknown:
        raise RandomisationError(
            f"{protocol.id} is not stratified by {', '.join(unknown)}; "
            f"its strata are {', '.join(names) or '(none)'}"
        )
    levels = {}
    for stratum in protocol.strata:
        if stratum.above is not None:
            default = [f"above_{stratum.above:g}", f"at_most_{stratum.above:g}"]
            levels[stratum.name] = list(given.get(stratum.name, default))
        elif stratum.name in given:
            levels[stratum.name] = list(given[stratum.name])
        else:
            raise RandomisationError(
                f"give the levels of stratum '{stratum.name}' (e.g. the sites)"
            )
    return levels


def stratum_of(protocol: Protocol, participant: Mapping[str, object]) -> str:
    """The stratum label a participant falls in, from her participants-table fields."""
    parts = []
    for stratum in protocol.strata:
        if stratum.column not in participant or participant[stratum.column] is None:
            raise RandomisationError(f"'{stratum.column}' is needed to stratify this participant")
        value = participant[stratum.column]
        if stratum.above is not None:
            # The column is numeric (the protocol's rules say so); the mapping is untyped.
            above = float(value) > stratum.above  # type: ignore[arg-type]
            level = f"above_{stratum.above:g}" if above else f"at_most_{stratum.above:g}"
        else:
            level = str(value)
        parts.append(f"{stratum.name}={level}")
    return "|".join(parts) or "all"


def _draw(protocol: Protocol, n: int, rng: np.random.Generator) -> pd.DataFrame:
    allocation = protocol.allocation
    sequences = [sequence.name for sequence in protocol.all_sequences]
    if isinstance(allocation, PermutedBlocks):
        names, blocks, sizes = _permuted_blocks(allocation, sequences, n, rng)
    elif isinstance(allocation, RandomisedPairs):
        orders = rng.integers(0, 2, size=(n, allocation.pairs))
        names = ["-".join("BA" if flip else "AB" for flip in row) for row in orders]
        blocks, sizes = list(range(1, n + 1)), [1] * n
    else:  # fixed, and up-and-down (doses are assigned later, one response at a time)
        names, blocks, sizes = [sequences[0]] * n, list(range(1, n + 1)), [1] * n
    return pd.DataFrame(
        {
            "position": np.arange(1, len(names) + 1),
            "block": blocks,
            "block_size": sizes,
            "sequence": names,
        }
    )


def _permuted_blocks(
    allocation: PermutedBlocks, sequences: list[str], n: int, rng: np.random.Generator
) -> tuple[list[str], list[int], list[int]]:
    ratio = allocation.ratio or [1] * len(sequences)
    block_sizes = allocation.block_sizes
    names: list[str] = []
    blocks: list[int] = []
    sizes: list[int] = []
    block = 0
    while len(names) < n:
        block += 1
        size = int(rng.choice(block_sizes))
        repeats = size // sum(ratio)
        contents = [
            name for name, r in zip(sequences, ratio, strict=True) for _ in range(r * repeats)
        ]
        names.extend(rng.permutation(contents).tolist())
        blocks.extend([block] * size)
        sizes.extend([size] * size)
    return names, blocks, sizes


# -- up-and-down dose assignment ---------------------------------------------


def next_up_and_down_dose(protocol: Protocol, history: Sequence[tuple[float, bool]]) -> float:
    """The next participant's dose given earlier (dose, responded) pairs, in order.

    The classic rule (Dixon's staircase): one level down after a response,
    one level up after none, staying within the protocol's dose ladder. The
    exact rule of Bruun-Plesner 2020 is UNCONFIRMED (studies.md §4.1).
    """
    allocation = protocol.up_and_down
    if allocation is None:
        raise RandomisationError(f"{protocol.id} does not assign doses up and down")
    ladder = list(allocation.doses_mg)
    if not history:
        return float(allocation.start_mg)
    last_dose, responded = history[-1]
    if last_dose not in ladder:
        raise RandomisationError(f"dose {last_dose} mg is not on the ladder {ladder}")
    index = ladder.index(last_dose) + (-1 if responded else 1)
    return float(ladder[min(max(index, 0), len(ladder) - 1)])


def count_reversals(history: Sequence[tuple[float, bool]]) -> int:
    """How many times the dose direction changed (a stopping rule counts these)."""
    moves = [1 if responded else -1 for _dose, responded in history]
    return sum(1 for a, b in itertools.pairwise(moves) if a != b)


def count_up_and_down_pairs(history: Sequence[tuple[float, bool]]) -> int:
    """Consecutive participants of whom the first did not respond and the second did.

    Dixon's "up-and-down pairs" (crossover pairs): the dose went up, then a
    response brought it down again.
    """
    return sum(
        1 for (_d1, first), (_d2, second) in itertools.pairwise(history) if not first and second
    )


def up_and_down_finished(protocol: Protocol, history: Sequence[tuple[float, bool]]) -> bool:
    """Whether the protocol's stopping rule is met: every count it names has been reached.

    ``history`` holds the evaluable participants' (dose, responded) in order;
    a protocol with no stopping rule never finishes by itself.
    """
    allocation = protocol.up_and_down
    if allocation is None:
        return False
    reversals, pairs = allocation.stop_after_reversals, allocation.stop_after_pairs
    if reversals is None and pairs is None:
        return False
    return (reversals is None or count_reversals(history) >= reversals) and (
        pairs is None or count_up_and_down_pairs(history) >= pairs
    )
