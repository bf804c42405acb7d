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

from ldntrial.protocol.schedule import site_visit_plan
from ldntrial.web.studies.models import Study
from ldntrial.web.trial.models import Participant, Visit, calendar_from

__all__ = ["DONE", "SOON_DAYS", "Cell", "record_grid", "visits_coming"]

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
) -> Cell:  # type: ignore[type-arg]
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
        and on > person.withdrawn_on
        and person.after_withdrawal != Participant.AfterWithdrawal.VISITS
    )


def visits_coming(
    study: Study, participants: list[Participant], today: date, days: int = SOON_DAYS
) -> list[dict]:  # type: ignore[type-arg]
    """Unrecorded visits of active participants whose window opens within ``days``, by date."""
    protocol = study.protocol
    plan = site_visit_plan(protocol)
    recorded = set(
        Visit.objects.filter(participant__in=participants).values_list("participant_id", "number")
    )
    horizon = today + timedelta(days=days)
    coming = [
        {"participant": person, **visit}
        for person in participants
        if person.status == Participant.Status.ACTIVE
        for visit in calendar_from(person.enrolled_on, protocol, plan)
        if (person.pk, visit["visit"]) not in recorded and today < visit["earliest"] <= horizon
    ]
    return sorted(coming, key=lambda row: (row["date"], row["participant"].code))
