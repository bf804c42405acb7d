"""The diary compliance heat map of the dashboard: participant x day, and each one's rate.

The statuses are the core's (:mod:`ldntrial.protocol.diary_compliance`). A
participant's calendar is taken as long as the study's longest sequence
(:attr:`Study.calendar_length`), so where her days end says nothing about
her allocation (only a withdrawal ends them early).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from ldntrial.protocol.diary_compliance import Compliance, DayStatus, compliance_of, day_statuses
from ldntrial.web.diary.models import DiaryEntry
from ldntrial.web.studies.models import Study
from ldntrial.web.trial.models import Participant

__all__ = ["HeatmapRow", "diary_heatmap"]

HEATMAP_DAYS = 28


@dataclass(frozen=True)
class HeatmapRow:
    participant: Participant
    cells: list[tuple[date, DayStatus]]
    compliance: Compliance


def diary_heatmap(
    participants: list[Participant], study: Study, *, now: datetime, today: date
) -> tuple[list[date], list[HeatmapRow]]:
    """The last ``HEATMAP_DAYS`` dates up to ``today`` and one row per participant."""
    protocol = study.protocol
    dates = [today - timedelta(days=k) for k in range(HEATMAP_DAYS - 1, -1, -1)]
    entered: dict[int, dict[date, bool]] = defaultdict(dict)
    rows = DiaryEntry.objects.filter(participant__in=participants).values_list(
        "participant_id", "diary_date", "late"
    )
    for person, day, late in rows.iterator(chunk_size=5000):
        # A day counts as on time when any of its versions was on time.
        entered[person][day] = entered[person].get(day, False) or not late
    length = study.calendar_length
    heatmap = []
    for person in participants:
        last_day = person.withdrawn_on or person.enrolled_on + timedelta(days=length - 1)
        window: dict[str, Any] = {
            "first_day": person.enrolled_on,
            "last_day": last_day,
            "timezone": person.timezone,
            "entries": entered[person.pk],
            "now": now,
        }
        cells = day_statuses(protocol.diary, days=dates, **window)
        heatmap.append(
            HeatmapRow(person, list(cells.items()), compliance_of(protocol.diary, **window))
        )
    return dates, heatmap
