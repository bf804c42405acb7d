"""An up-and-down dose-finding study on the site: the pharmacy gives each woman her dose from
the last woman's response, the stopping rule closes enrolment, and the analysis reads it all."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from uuid import uuid4
from zoneinfo import ZoneInfo

import pytest
from django.core.exceptions import ValidationError

from ldntrial.protocol.loader import builtin_protocol_text
from ldntrial.stats.dose_finding import analyse_dose_finding
from ldntrial.web.analysis.snapshot import trial_data_from_database
from ldntrial.web.audit.models import AuditEntry
from ldntrial.web.audit.tracking import CONCEALED
from ldntrial.web.diary.entries import DiarySubmission, record_entry
from ldntrial.web.studies.models import Site, Study
from ldntrial.web.trial.concealed import contents_of
from ldntrial.web.trial.enrolment import enrol
from ldntrial.web.trial.models import Kit, Participant
from ldntrial.web.trial.pharmacy import generate_allocation
from ldntrial.web.trial.screening import record_screening
from ldntrial.web.trial.status import withdraw_participant
from ldntrial.web.trial.up_and_down import assign_next_dose, ladder

from .test_trial import ELIGIBLE

pytestmark = pytest.mark.django_db

ZONE = "Europe/Copenhagen"
BASELINE_PAIN = 60
RESPONDED_PAIN = 30  # 50 % less pain: a response (the rule asks for 30 %)
UNCHANGED_PAIN = 57  # 5 % less: no response


def make_study(protocol_text: str | None = None) -> Study:
    study = Study.objects.create(
        code="dose",
        title="LDN dose finding",
        protocol_text=protocol_text or builtin_protocol_text("dose-finding-2020"),
        actor="system:test",
    )
    Site.objects.create(study=study, code="odense", name="Odense", actor="system:test")
    generate_allocation(study, per_stratum=12, seed=5, actor="user:7:phil")
    return study


def enrol_woman(study: Study, on: date) -> Participant:
    screening = record_screening(
        study.sites.get(), ELIGIBLE, on - timedelta(days=1), actor="user:3:cora"
    )
    return enrol(screening, enrolled_on=on, timezone=ZONE, actor="user:3:cora").participant


def keep_diary(person: Participant, *, treated_pain: int, days: int = 28) -> None:
    """Her 14 baseline days at 60 and then ``treated_pain`` every day on her dose."""
    zone = ZoneInfo(person.timezone)
    for day in range(days):
        on = person.enrolled_on + timedelta(days=day)
        recorded = datetime.combine(on, time(20, 0), zone)
        pain = BASELINE_PAIN if day < 14 else treated_pain
        record_entry(
            person,
            DiarySubmission(
                client_id=uuid4(),
                diary_date=on,
                recorded_at=recorded,
                items={"pain": pain, "fatigue": 50},
            ),
            received_at=recorded + timedelta(minutes=5),
            actor=f"participant:{person.code}",
        )


def assign(study: Study, today: date | None = None) -> tuple[Participant, float]:
    person, dose, _kits = assign_next_dose(study, today, actor="user:7:phil")
    return person, dose


def test_each_dose_follows_the_last_response_and_waits_for_it() -> None:
    study = make_study()
    first = enrol_woman(study, date(2026, 6, 1))
    second = enrol_woman(study, date(2026, 7, 1))
    assert not Kit.objects.filter(study=study).exists()  # no dose before the pharmacy gives one

    assert assign(study) == (first, 0.75)  # the protocol's start_mg
    # Three weeks in, her end-point window is still open: the next dose waits for it.
    with pytest.raises(ValidationError, match=f"{first.code}'s response, known from 2026-06-30"):
        assign(study, today=date(2026, 6, 21))
    keep_diary(first, treated_pain=UNCHANGED_PAIN)
    assert assign(study) == (second, 1.5)  # no response: one level up
    keep_diary(second, treated_pain=RESPONDED_PAIN)
    third = enrol_woman(study, date(2026, 8, 1))
    assert assign(study) == (third, 0.75)  # a response: one level down

    steps = {step.participant.code: step for step in ladder(study, date(2026, 8, 10)).steps}
    assert steps[first.code].state == "did not respond"
    assert steps[first.code].improvement_percent == pytest.approx(5.0)
    assert steps[second.code].state == "responded"
    assert steps[third.code].state == "waiting"
    kits = Kit.objects.filter(slot=third.slot)
    assert kits.count() >= 1 and {contents_of(k).dose_mg for k in kits} == {0.75}
    assert min(k.dispense_visit for k in kits) == 2  # after her 2-week baseline
    with pytest.raises(ValidationError, match="nobody enrolled is waiting"):
        keep_diary(third, treated_pain=RESPONDED_PAIN)
        assign(study)


def test_a_withdrawn_woman_does_not_move_the_ladder() -> None:
    study = make_study()
    first = enrol_woman(study, date(2026, 6, 1))
    assign(study)
    keep_diary(first, treated_pain=UNCHANGED_PAIN, days=20)  # stopped a week into her dose
    withdraw_participant(
        first, on=date(2026, 6, 20), reason="other", detail="moved away", actor="user:3:cora"
    )
    second = enrol_woman(study, date(2026, 7, 1))
    assert assign(study) == (second, 0.75)  # her dose again
    assert ladder(study).steps[0].state == "no end point"


def test_the_stopping_rule_closes_enrolment() -> None:
    text = builtin_protocol_text("dose-finding-2020").replace(
        "stop_after_reversals = 10\nstop_after_pairs = 6\n", "stop_after_reversals = 1\n"
    )
    study = make_study(text)
    first = enrol_woman(study, date(2026, 6, 1))
    assign(study)
    keep_diary(first, treated_pain=UNCHANGED_PAIN)
    second = enrol_woman(study, date(2026, 7, 1))
    assign(study)
    keep_diary(second, treated_pain=RESPONDED_PAIN)  # up, then down: one reversal
    assert ladder(study).finished
    with pytest.raises(ValidationError, match="stopping rule is met"):
        enrol_woman(study, date(2026, 8, 1))


def test_the_dose_is_concealed_in_the_audit_trail_and_the_analysis_reads_it() -> None:
    study = make_study()
    women = []
    for month, pain in ((6, UNCHANGED_PAIN), (7, UNCHANGED_PAIN), (8, RESPONDED_PAIN)):
        woman = enrol_woman(study, date(2026, month, 1))
        assign(study)
        keep_diary(woman, treated_pain=pain)
        women.append(woman)
    made = AuditEntry.objects.filter(record__startswith="trial.Kit:")
    assert made.count() == Kit.objects.filter(study=study).count() >= 3
    assert all(entry.changes["dose_mg"] == [None, CONCEALED] for entry in made)

    trial = trial_data_from_database(study)
    assert trial.participants.set_index("participant_id")["dose_mg"].to_dict() == {
        women[0].code: 0.75,
        women[1].code: 1.5,
        women[2].code: 2.25,
    }
    result = analyse_dose_finding(trial)
    by_dose = result.tables["by_dose"].set_index("dose_mg")
    assert by_dose["count"].to_dict() == {0.75: 1, 1.5: 1, 2.25: 1}
    assert by_dose["sum"].to_dict() == {0.75: 0, 1.5: 0, 2.25: 1}
