"""A participant's record carried to its end on her page: withdrawal, completion, code breaks.

Each action is a request a coordinator or investigator makes; each confirms what it did
and refuses, naming the field, what the protocol or her own choice does not allow.
"""

from __future__ import annotations

from datetime import timedelta

import pytest

from ldntrial.web.audit.models import AuditEntry
from ldntrial.web.audit.tracking import acting_as
from ldntrial.web.studies.models import Study
from ldntrial.web.trial.dates import local_today
from ldntrial.web.trial.enrolment import enrol
from ldntrial.web.trial.models import Participant
from ldntrial.web.trial.screening import record_screening
from ldntrial.web.trial.status import last_planned_day

from .test_staff_pages import PASSWORD, _client, _page, _visit_values
from .test_staff_pages import study as study  # the fixture
from .test_trial import ELIGIBLE

pytestmark = pytest.mark.django_db


def _withdrawal(**changes: str) -> dict[str, str]:
    form = {
        "withdraw-on": "2026-03-12",
        "withdraw-reason": "adverse_event",
        "withdraw-detail": "nausea every morning",
        "withdraw-after": "safety",
    }
    return {**form, **changes}


def _event(onset: str) -> dict[str, str]:
    return {
        "term": "headache",
        "onset": onset,
        "severity": "mild",
        "related": "possible",
        "outcome": "recovered",
    }


def test_a_withdrawal_is_confirmed_kept_with_its_reason_and_holds_later_entries_to_her_choice(
    study: Study,
) -> None:
    person = Participant.objects.get(site__code="a")  # enrolled 2026-03-02
    coordinator = _client("cora")
    url = _page(study, "withdraw", participant=person.code)
    page = coordinator.get(_page(study, "participant", participant=person.code)).text
    assert f"Withdraw {person.code}" in page and "What may still be collected" in page

    refused = coordinator.post(
        url, _withdrawal(**{"withdraw-reason": "other", "withdraw-detail": ""})
    )
    assert refused.status_code == 422
    assert "required when the reason is &#x27;another reason&#x27;" in refused.text
    early = coordinator.post(url, _withdrawal(**{"withdraw-on": "2026-02-01"}))
    assert early.status_code == 422 and "before her enrolment (2026-03-02)" in early.text
    person.refresh_from_db()
    assert person.status == "active"

    done = coordinator.post(url, _withdrawal(), follow=True)
    assert (
        f"{person.code} withdrew on 2026-03-12 (an adverse event). Her diary is closed; "
        "what may still be collected: safety follow-up only (adverse events)." in done.text
    )
    person.refresh_from_db()
    assert (person.status, person.withdrawal_reason, person.after_withdrawal) == (
        "withdrawn",
        "adverse_event",
        "safety",
    )
    assert "nausea every morning" in done.text and f"Withdraw {person.code}" not in done.text
    entry = AuditEntry.objects.filter(record=f"trial.Participant:{person.pk}").latest("id")
    assert entry.reason == "withdrawal: an adverse event (nausea every morning)"
    assert coordinator.post(url, _withdrawal()).status_code == 422  # not twice

    # Safety follow-up only: an adverse event after her last day is taken, a visit is not.
    assert (
        coordinator.post(
            _page(study, "adverse_event", participant=person.code), _event("2026-03-25")
        ).status_code
        == 302
    )
    visit = _client("rita").post(
        _page(study, "visit", participant=person.code, number=2), _visit_values()
    )
    assert visit.status_code == 422
    assert "after she withdrew (2026-03-12); she agreed to safety follow-up only" in visit.text
    esr = coordinator.post(
        _page(study, "esr", participant=person.code),
        {"sampled_on": "2026-03-30", "value": "20"},
    )
    assert esr.status_code == 422 and "after she withdrew" in esr.text
    # What was dated before she left is still recorded.
    before = coordinator.post(
        _page(study, "esr", participant=person.code),
        {"sampled_on": "2026-03-10", "value": "20"},
        follow=True,
    )
    assert "ESR recorded: 20 mm/hr, drawn on 2026-03-10." in before.text


def test_nothing_more_means_no_adverse_event_after_her_last_day_either(study: Study) -> None:
    person = Participant.objects.get(site__code="a")
    coordinator = _client("cora")
    coordinator.post(
        _page(study, "withdraw", participant=person.code),
        _withdrawal(**{"withdraw-reason": "consent_withdrawn", "withdraw-after": "nothing"}),
    )
    later = coordinator.post(
        _page(study, "adverse_event", participant=person.code), _event("2026-03-25")
    )
    assert later.status_code == 422 and "she agreed to nothing more" in later.text


def test_completion_waits_for_her_last_planned_day_and_says_what_it_did(study: Study) -> None:
    site = study.sites.get(code="a")
    person = Participant.objects.get(site=site)  # enrolled 2026-03-02: her calendar ended
    with acting_as("system:test"):
        recent = enrol(
            record_screening(site, ELIGIBLE, local_today("Europe/Madrid") - timedelta(days=3)),
            enrolled_on=local_today("Europe/Madrid") - timedelta(days=2),
            timezone="Europe/Madrid",
        ).participant
    coordinator = _client("cora")
    last = last_planned_day(recent)
    page = coordinator.get(_page(study, "participant", participant=recent.code)).text
    assert f"Her last planned day is {last:%Y-%m-%d}" in page
    assert "completed the study</button>" not in page
    early = coordinator.post(
        _page(study, "complete", participant=recent.code),
        {"complete-on": str(local_today("Europe/Madrid"))},
    )
    assert early.status_code == 422
    assert f"her last planned day is {last:%Y-%m-%d}; one who stops before it withdraws" in (
        early.text
    )

    finished = last_planned_day(person)
    assert (
        f"Record that {person.code} completed the study"
        in coordinator.get(_page(study, "participant", participant=person.code)).text
    )
    done = coordinator.post(
        _page(study, "complete", participant=person.code),
        {"complete-on": str(finished)},
        follow=True,
    )
    assert f"{person.code} completed the study on {finished:%Y-%m-%d}." in done.text
    person.refresh_from_db()
    assert (person.status, person.completed_on) == ("completed", finished)
    assert _client("rita").post(
        _page(study, "complete", participant=person.code), {"complete-on": str(finished)}
    ).status_code in {403, 404}


def test_a_code_break_says_what_she_takes_today_and_a_reload_does_not_unblind_again(
    study: Study,
) -> None:
    person = Participant.objects.get(site__code="a")
    investigator = _client("ivan")
    answer = investigator.post(
        _page(study, "unblind", participant=person.code),
        {"password": PASSWORD, "reason": "chest pain in A&E"},
    )
    assert answer.status_code == 302
    shown = investigator.get(answer["Location"])
    assert shown["Cache-Control"] == "no-store"
    assert f"Sequence <strong>{person.slot.sequence}</strong>" in shown.text
    assert "No study capsules: today is outside her calendar" in shown.text  # enrolled in March
    again = investigator.get(answer["Location"])
    assert person.slot.sequence not in again.text and "was shown once" in again.text
    assert person.unblindings.count() == 1
    assert AuditEntry.objects.filter(action="unblind").count() == 1
    # Nobody else opens her code break, not even another investigator's session of it.
    assert _client("cora").get(answer["Location"]).status_code in {403, 404}


def test_a_code_break_names_the_kit_and_dose_she_holds_today(study: Study) -> None:
    from ldntrial.web.trial.dispensing import dispense_visit_kits

    today = local_today("Europe/Madrid")
    with acting_as("system:test"):
        person = enrol(
            record_screening(study.sites.get(code="a"), ELIGIBLE, today - timedelta(days=21)),
            enrolled_on=today - timedelta(days=20),  # study day 21: her first treated phase
            timezone="Europe/Madrid",
        ).participant
        (kit,) = dispense_visit_kits(person, 2, today - timedelta(days=6))
    investigator = _client("ivan")
    answer = investigator.post(
        _page(study, "unblind", participant=person.code),
        {"password": PASSWORD, "reason": "overdose suspected"},
    )
    shown = investigator.get(answer["Location"]).text
    condition = study.protocol.conditions[kit.condition]
    expected = f"kit {kit.code}, {condition.label}" + (
        f", {kit.dose_mg:g} mg" if kit.dose_mg else ""
    )
    assert "Today is study day 21" in shown and expected in shown
