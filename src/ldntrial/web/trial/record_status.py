"""Where every participant's visits stand, and what is due soon (REDCap's record-status grid).

A visit is done (recorded with every measure, or its reason for "not done"),
partly done (recorded with a measure missing), due (its window holds
today), overdue (the window closed unrecorded), not yet (the window is
ahead) or not expected (after she withdrew, if she agreed to no more
visits). Everything comes from her blind calendar, which is the same for
every sequence, so the grid reads the same whatever the arms.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from ldntrial.protocol.schedule import site_visit_plan
from ldntrial.web.studies.models import Study
from ldntrial.web.trial.models import Participant, Visit, calendar_from

__all__ = ["DONE", "SOON_DAYS", "Cell", "VisitsToHold", "record_grid", "visits_to_hold"]

DONE, PARTLY, DUE, OVERDUE, NOT_YET, NOT_EXPECTED = (
    "done",
    "partly done",
    "due",
    "overdue",
    "not yet",
    "not expected",
)
SOON_DAYS = 14


@dataclass(frozen=True)
class Cell:
    """One participant's one visit."""

    visit: int
    status: str
    missing: tuple[str, ...] = ()  # measures a partly done visit lacks


def record_grid(
    study: Study, participants: list[Participant], today: date
) -> tuple[list[int], list[tuple[Participant, list[Cell]]]]:
    """(visit numbers, one row of cells per participant) for ``participants``."""
    protocol = study.protocol
    plan = site_visit_plan(protocol)
    wanted = {visit["visit"]: set(visit["measures"]) for visit in plan}
    recorded = {
        (visit.participant_id, visit.number): visit
        for visit in Visit.objects.filter(participant__in=participants)
    }
    rows = []
    for person in participants:
        cells = []
        for visit in calendar_from(person.enrolled_on, protocol, plan):
            number = visit["visit"]
            done = recorded.get((person.pk, number))
            cells.append(_cell(person, visit, done, wanted[number], today))
        rows.append((person, cells))
    return [visit["visit"] for visit in plan], rows


def _cell(
    person: Participant, visit: dict, done: Visit | None, wanted: set[str], today: date
) -> Cell:
    number = visit["visit"]
    if done is not None:
        missing = tuple(
            sorted(
                m for m in wanted if done.values.get(m) in (None, "") and m not in done.not_done
            )
        )
        return Cell(number, PARTLY if missing else DONE, missing)
    if _not_expected(person, visit["date"]):
        return Cell(number, NOT_EXPECTED)
    if visit["earliest"] > today:
        return Cell(number, NOT_YET)
    return Cell(number, DUE if today <= visit["latest"] else OVERDUE)


def _not_expected(person: Participant, on: date) -> bool:
    """After her withdrawal, unless she agreed to go on with visits."""
    return (
        person.status == Participant.Status.WITHDRAWN
        and person.withdrawn_on is not None
        and on > person.withdrawn_on
        and person.after_withdrawal != Participant.AfterWithdrawal.VISITS
    )


@dataclass(frozen=True)
class VisitsToHold:
    """Unrecorded visits of active participants, each list the most pressing first.

    ``due``: the window holds today (the soonest to close first); ``overdue``: the window
    closed (the longest closed first); ``coming``: the window opens within the next
    ``SOON_DAYS`` (the soonest visit first).
    """

    due: list[dict[str, Any]]
    overdue: list[dict[str, Any]]
    coming: list[dict[str, Any]]


def visits_to_hold(
    study: Study, participants: list[Participant], today: date, days: int = SOON_DAYS
) -> VisitsToHold:
    """The dashboard's three visit lists in one pass over everyone's blind calendar.

    The same windows as :func:`~ldntrial.web.trial.models.calendar_from`, worked out as
    day offsets once for the study, so that a study of thousands costs a few date sums
    per woman and a row only for the visits that are listed.
    """
    protocol = study.protocol
    window = protocol.visits.window_days if protocol.visits else 0
    offsets = [
        (
            visit["visit"],
            timedelta(days=visit["study_day"] - 1),
            timedelta(days=max(1, visit["study_day"] - window) - 1),
            timedelta(days=visit["study_day"] + window - 1),
            len(visit["dispenses"]),
        )
        for visit in site_visit_plan(protocol)
    ]
    active = [person for person in participants if person.status == Participant.Status.ACTIVE]
    recorded = set(
        Visit.objects.filter(participant__in=active).values_list("participant_id", "number")
    )
    horizon = today + timedelta(days=days)
    due, overdue, coming = [], [], []
    for person in active:
        for number, on_day, first, last, kits in offsets:
            earliest = person.enrolled_on + first
            if earliest > horizon or (person.pk, number) in recorded:
                continue
            row = {
                "participant": person,
                "visit": number,
                "date": person.enrolled_on + on_day,
                "earliest": earliest,
                "latest": person.enrolled_on + last,
                "kits": kits,
            }
            if earliest > today:
                coming.append(row)
            elif today <= row["latest"]:
                due.append(row)
            else:
                overdue.append(row)
    return VisitsToHold(
        due=sorted(due, key=lambda row: (row["latest"], row["participant"].code)),
        overdue=sorted(overdue, key=lambda row: (row["latest"], row["participant"].code)),
        coming=sorted(coming, key=lambda row: (row["date"], row["participant"].code)),
    )
