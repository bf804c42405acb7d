"""A TrialData (a simulated trial, another system's bundle) entered into a study as staff would.

Every record goes through the same actions a site uses: the participants'
sequences become an uploaded allocation list, each woman is screened and
enrolled, her diary days are sent as entries, her visits recorded (kits
dispensed), her labs and adverse events entered, and her status set. So
an imported study is checked and audited like any other, and what the
database gives back (:func:`ldntrial.web.analysis.snapshot.trial_data_from_database`)
can be compared with what went in.

Days after ``through`` are left out (a study still running), and so is what
the bundle cannot say: screening answers come from ``answers`` (with her
age, sex and ESR), the diary's side-effect checklist is left empty, each
adverse event gets ``ae_outcome`` (and no end date), and each kit lot
``IMPORTED`` with its label's use-by date as its beyond-use date.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any, cast
from zoneinfo import ZoneInfo

import pandas as pd
from django.core.exceptions import ValidationError
from django.db import transaction

from ldntrial.data.trialdata import TrialData
from ldntrial.protocol.randomisation import stratum_of
from ldntrial.protocol.schedule import plan_sequence, site_visit_plan
from ldntrial.web.audit.tracking import because
from ldntrial.web.diary.entries import DiarySubmission, record_entry
from ldntrial.web.diary.models import DiaryEntry
from ldntrial.web.studies.models import Site, Study
from ldntrial.web.trial.concealed import KitLot, kits_without_lot, sequence_of, set_lot
from ldntrial.web.trial.dispensing import dispense_visit_kits
from ldntrial.web.trial.enrolment import enrol
from ldntrial.web.trial.kit_lots import kit_use_by
from ldntrial.web.trial.labs import record_lab_result
from ldntrial.web.trial.models import AllocationSlot, Kit, Participant
from ldntrial.web.trial.pharmacy import upload_allocation
from ldntrial.web.trial.safety import report_adverse_event
from ldntrial.web.trial.screening import record_screening
from ldntrial.web.trial.status import complete_participant, withdraw_participant
from ldntrial.web.trial.visits import record_visit

__all__ = ["ENTRY_TIME", "IMPORTED_LOT", "ImportReport", "import_trial"]

IMPORTED_LOT = "IMPORTED"
ENTRY_TIME = time(21, 0)  # when an imported day's entry is taken to have been made (local)
_IDS = uuid.UUID("6f1d3c0e-2b7a-4f59-9a8e-0c5d1e7b4a21")  # namespace of imported entry ids


@dataclass(frozen=True)
class ImportReport:
    """Who was entered, and what of the bundle the study could not hold (said, never dropped)."""

    participants: list[Participant]
    left_out: list[str]


def import_trial(
    study: Study,
    trial: TrialData,
    *,
    actor: str,
    sites: Mapping[str, Site],
    answers: Mapping[str, Any],
    timezone: str,
    through: date | None = None,
    ae_outcome: str = "unknown",
) -> ImportReport:
    """Enter every participant of ``trial`` into ``study`` (which has no free allocation yet).

    ``sites`` maps the bundle's site codes to the study's sites. The caller
    names who acts (``actor``); diary entries are recorded as each
    participant's own.
    """
    if trial.blinded:
        raise ValidationError({"trial": "a blinded bundle has no sequences to allocate"})
    if trial.protocol.id != study.protocol.id:
        raise ValidationError(
            {"trial": f"the bundle is {trial.protocol.id}, the study runs {study.protocol.id}"}
        )
    if AllocationSlot.objects.filter(study=study, participant__isnull=True).exists():
        raise ValidationError(
            {"allocation": "the study has free allocations; import into a study without them"}
        )
    people = trial.participants.sort_values(["enrolled_on", "participant_id"], kind="stable")
    unknown = sorted(set(people["site"]) - set(sites))
    if unknown:
        raise ValidationError({"sites": f"no study site for {', '.join(unknown)}"})
    with transaction.atomic():
        upload_allocation(
            study,
            pd.DataFrame(
                {
                    "stratum": [stratum_of(study.protocol, row) for row in _records(people)],
                    "sequence": people["sequence"].astype(str),
                }
            ),
            source=f"import of a {trial.protocol.id} bundle",
            actor=actor,
        )
        enrolled = [
            _enrol(study, row, sites, answers, timezone, actor=actor) for row in _records(people)
        ]
    left_out = []
    asks_guess = any(m.id == "blinding_guess" for m in _measures(study))
    if len(trial.blinding_guesses) and not asks_guess:
        left_out.append(
            f"blinding_guesses: {len(trial.blinding_guesses)} guesses, because the protocol "
            "asks no blinding_guess at its visits"
        )
    tables = _by_participant(trial)
    if not asks_guess:
        tables["blinding_guesses"] = {}
    for person, row in zip(enrolled, _records(people), strict=True):
        last = through or date.max
        with transaction.atomic():
            _diary(person, tables["diary"].get(person.code), last)
            _visits(person, tables, last, actor=actor)
            _labs(person, tables["labs"].get(person.code), last, actor=actor)
            _adverse_events(
                person, tables["adverse_events"].get(person.code), last, ae_outcome, actor=actor
            )
            _status(person, row, last, actor=actor)
    return ImportReport(enrolled, left_out)


def _measures(study: Study) -> list:
    visits = study.protocol.visits
    return list(visits.measures) if visits else []


def _enrol(study, row, sites, answers, timezone, *, actor: str) -> Participant:
    enrolled_on = row["enrolled_on"].date()
    screening = record_screening(
        sites[row["site"]],
        {**answers, "age": int(row["age"]), "sex": row["sex"], "esr_mm_h": row["esr_baseline"]},
        enrolled_on,
        actor=actor,
    )
    return enrol(
        screening,
        enrolled_on=enrolled_on,
        timezone=timezone,
        code=row["participant_id"],
        actor=actor,
    ).participant


def _by_participant(trial: TrialData) -> dict[str, dict[str, pd.DataFrame]]:
    names = ("diary", "visits", "labs", "adverse_events", "blinding_guesses")
    return {
        name: {
            str(code): rows
            for code, rows in getattr(trial, name).groupby("participant_id", observed=True)
        }
        for name in names
    }


def _diary(person: Participant, rows: pd.DataFrame | None, last: date) -> None:
    """Her diary, entered as her own (``participant:<code>``), as she would have."""
    if rows is None:
        return
    zone = ZoneInfo(person.timezone)
    actor = f"participant:{person.code}"
    stamp: Any  # the groupby key of a date column: a Timestamp
    for stamp, entry in rows.groupby("date", observed=True):
        day = stamp.date()
        if day > last:
            break
        recorded_at = datetime.combine(day, ENTRY_TIME, tzinfo=zone)
        submission = DiarySubmission(
            client_id=uuid.uuid5(_IDS, f"{person.study.code}/{person.code}/{day}"),
            diary_date=day,
            recorded_at=recorded_at,
            items=dict(zip(entry["item"].astype(str), entry["value"], strict=True)),
        )
        record_entry(
            person,
            submission,
            received_at=recorded_at + timedelta(minutes=2),
            source=DiaryEntry.Source.IMPORT,
            actor=actor,
        )


def _visits(person: Participant, tables, last: date, *, actor: str) -> None:
    rows = tables["visits"].get(person.code)
    if rows is None:
        return
    kinds = {m.id: m.kind for m in _measures(person.study)}
    guesses = _guesses_by_visit(person, tables["blinding_guesses"].get(person.code))
    with_kits = set(Kit.objects.filter(slot=person.slot).values_list("dispense_visit", flat=True))
    for number, visit in rows.groupby("visit"):
        held_on = visit["date"].iloc[0].date()
        if held_on > last:
            break
        values: dict[str, bool | float | str] = {
            str(measure): bool(value) if kinds.get(str(measure)) == "review" else float(value)
            for measure, value in zip(visit["measure"], visit["value"], strict=True)
        }
        if number in guesses:
            values["blinding_guess"] = guesses[number]
        record_visit(
            person, int(number), held_on=held_on, values=values, medications=[], actor=actor
        )
        if number in with_kits:
            _fill_from_unknown_lot(person, int(number), actor=actor)
            dispense_visit_kits(person, int(number), held_on, actor=actor)


def _fill_from_unknown_lot(person: Participant, visit: int, *, actor: str) -> None:
    """The bundle names no lot: the kits of ``visit`` get ``IMPORTED``, kept to their use-by."""
    with because("imported: the bundle names no lot"):
        for kit in kits_without_lot(Kit.objects.filter(slot=person.slot, dispense_visit=visit)):
            set_lot(kit, KitLot(IMPORTED_LOT, kit_use_by(kit)))
            kit.save(actor=actor)


def _guesses_by_visit(person: Participant, rows: pd.DataFrame | None) -> dict[int, str]:
    """{visit number: guess} at every visit the site's calendar asks one.

    The site asks at the visits any sequence asks (:func:`site_visit_plan`);
    a guess left empty where her own sequence asks none would tell her arm
    to whoever opens the form. Each visit gets her guess about the treated
    period she was last in, the one her own sequence asks about there.
    """
    if rows is None:
        return {}
    protocol = person.study.protocol
    plan = plan_sequence(protocol, sequence_of(person), dose_mg=float("nan"))
    guess_of = {int(p): str(g) for p, g in zip(rows["period"], rows["guess"], strict=True)}
    answered = {}
    for visit in site_visit_plan(protocol):
        if "blinding_guess" not in visit["measures"]:
            continue
        periods_before = plan.period[: min(visit["study_day"] - 1, plan.total_days)]
        treated = periods_before[periods_before > 0]
        if len(treated) and int(treated[-1]) in guess_of:
            answered[visit["visit"]] = guess_of[int(treated[-1])]
    return answered


def _labs(person: Participant, rows: pd.DataFrame | None, last: date, *, actor: str) -> None:
    if rows is None:
        return
    local = rows["sampled_at"].dt.tz_convert(person.timezone).dt.date
    for sampled_on, row in zip(local, _records(rows), strict=True):
        if sampled_on > last:
            continue
        record_lab_result(
            person,
            sampled_on=sampled_on,
            panel=str(row["panel"]),
            analyte=str(row["analyte"]),
            value=float(row["value"]),
            unit=str(row["unit"]),
            actor=actor,
        )


def _adverse_events(person: Participant, rows, last: date, outcome: str, *, actor: str) -> None:
    if rows is None:
        return
    for row in _records(rows):
        onset = row["onset"].date()
        if onset > last:
            continue
        report_adverse_event(
            person,
            term=str(row["term"]),
            onset=onset,
            severity=row["severity"],
            serious=bool(row["serious"]),
            related=row["related"],
            outcome=outcome,
            end_known=False,  # a bundle has no end dates
            actor=actor,
        )


def _status(person: Participant, row: dict[str, Any], last: date, *, actor: str) -> None:
    if row["status"] == "withdrawn" and row["withdrawn_on"].date() <= last:
        withdraw_participant(
            person,
            on=row["withdrawn_on"].date(),
            reason=_text(row.get("withdrawal_reason")),
            reason_known=bool(_text(row.get("withdrawal_reason"))),
            detail="imported",
            actor=actor,
        )
    elif row["status"] == "completed":
        plan = plan_sequence(person.study.protocol, sequence_of(person), dose_mg=float("nan"))
        if person.enrolled_on + timedelta(days=plan.total_days - 1) <= last:
            complete_participant(person, actor=actor)


def _records(table: pd.DataFrame) -> list[dict[str, Any]]:
    """The rows of a bundle's table as dicts by column name (its columns are all text)."""
    return cast(list[dict[str, Any]], table.to_dict("records"))


def _text(value: object) -> str:
    """A text cell, or "" when it is empty (NaN in a pandas table)."""
    return value if isinstance(value, str) else ""
