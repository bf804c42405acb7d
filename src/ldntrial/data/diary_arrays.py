"""A trial's daily diaries as arrays, one per group of participants on the same sequence.

The diary table of :class:`~ldntrial.data.TrialData` is the contract for a
real study; a power simulation of a thousand trials needs only the ratings,
and building a table for each trial costs more than simulating and analysing
it. The simulator can hand its ratings over in this form, and the end points
(:func:`ldntrial.stats.endpoints.endpoint_arrays`) are computed from it by the
same definitions as from the table.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from ldntrial.protocol.model import Protocol
from ldntrial.protocol.schedule import SequencePlan

__all__ = ["DiaryArrays", "DiaryGroup"]


@dataclass(frozen=True)
class DiaryGroup:
    """The participants who share one sequence, and their daily ratings by item.

    ``members`` are their indices among the trial's participants;
    ``ratings[item]`` is (members x study days of ``plan``), NaN on a day she
    entered nothing.
    """

    plan: SequencePlan
    members: np.ndarray
    ratings: dict[str, np.ndarray]


@dataclass(frozen=True)
class DiaryArrays:
    """Every participant's diary: ``n`` participants split into groups by sequence.

    ``truth`` holds per-participant arrays a simulator knows and a study never
    does (for :func:`~ldntrial.simulate.simulate_diaries`: ``ldn_effect``, her
    LDN effect at the reference dose, and ``primary_level``, her personal level
    of the primary item), so that a power calculation can say whether an
    answer was right.
    """

    protocol: Protocol
    n: int
    groups: tuple[DiaryGroup, ...]
    truth: dict[str, np.ndarray] = field(default_factory=dict)
