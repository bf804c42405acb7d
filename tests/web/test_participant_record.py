"""A participant's record carried to its end on her page: withdrawal, completion, code breaks.

Each action is a request a coordinator or investigator makes; each confirms what it did
and refuses, naming the field, what the protocol or her own choice does not allow.
"""

from __future__ import annotations

import re
from datetime import date, timedelta

import pytest
from django.contrib.auth import get_user_model

from ldntrial.web.audit.models import AuditEntry
from ldntrial.web.studies.models import Study
from ldntrial.web.trial.concealed import contents_of, sequence_of
from ldntrial.web.trial.dates import local_today
from ldntrial.web.trial.enrolment import enrol
from ldntrial.web.trial.models import Participant
from ldntrial.web.trial.screening import record_screening
from ldntrial.web.trial.status import last_planned_day

from .lots import fill_from_a_lot
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
        "outcome": "recovering",
        "action_taken": "dose_not_changed",
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
    recent = enrol(
        record_screening(
            site, ELIGIBLE, local_today("Europe/Madrid") - timedelta(days=3), actor="system:test"
        ),
        enrolled_on=local_today("Europe/Madrid") - timedelta(days=2),
        timezone="Europe/Madrid",
        actor="system:test",
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
    assert f"Sequence <strong>{sequence_of(person)}</strong>" in shown.text
    assert "No study capsules: today is outside her calendar" in shown.text  # enrolled in March
    again = investigator.get(answer["Location"])
    assert sequence_of(person) not in again.text and "was shown once" in again.text
    assert person.unblindings.count() == 1
    assert AuditEntry.objects.filter(action="unblind").count() == 1
    # Nobody else opens her code break, not even another investigator's session of it.
    assert _client("cora").get(answer["Location"]).status_code in {403, 404}


def test_a_code_break_names_the_kit_and_dose_she_holds_today(study: Study) -> None:
    from ldntrial.web.trial.dispensing import dispense_visit_kits

    today = local_today("Europe/Madrid")
    person = enrol(
        record_screening(
            study.sites.get(code="a"), ELIGIBLE, today - timedelta(days=21), actor="system:test"
        ),
        enrolled_on=today - timedelta(days=20),  # study day 21: her first treated phase
        timezone="Europe/Madrid",
        actor="system:test",
    ).participant
    fill_from_a_lot(person, 2)
    (kit,) = dispense_visit_kits(person, 2, today - timedelta(days=6), actor="system:test")
    investigator = _client("ivan")
    answer = investigator.post(
        _page(study, "unblind", participant=person.code),
        {"password": PASSWORD, "reason": "overdose suspected"},
    )
    shown = investigator.get(answer["Location"]).text
    condition = study.protocol.conditions[contents_of(kit).condition]
    expected = f"kit {kit.code}, {condition.label}" + (
        f", {contents_of(kit).dose_mg:g} mg" if contents_of(kit).dose_mg else ""
    )
    assert "Today is study day 21" in shown and expected in shown


def _follow_up(**changes: str) -> dict[str, str]:
    form = {
        "step": "follow_up",
        "outcome": "recovered",
        "resolved_on": "2026-03-14",
        "action_taken": "drug_interrupted",
        "severity": "moderate",
        "reason": "her GP's letter",
    }
    return {**form, **changes}


def test_an_adverse_event_is_followed_up_to_its_end_and_its_history_kept(
    study: Study, mailoutbox, django_capture_on_commit_callbacks
) -> None:
    person = Participant.objects.get(site__code="a")
    ivan = get_user_model().objects.get(username="ivan")
    ivan.email = "ivan@example.org"
    ivan.save()
    coordinator = _client("cora")
    coordinator.post(
        _page(study, "adverse_event", participant=person.code),
        {**_event("2026-03-10"), "term": "nausea"},
    )
    event = person.adverse_events.get()
    url = _page(study, "adverse_event_detail", participant=person.code, number=event.pk)
    assert "Save the follow-up" in coordinator.get(url).text

    for changes, message in [
        ({"resolved_on": ""}, "Ended on: required when the outcome is recovered"),
        ({"resolved_on": "2026-03-09"}, "Ended on: before onset (2026-03-10)"),
        ({"outcome": "recovering"}, "only an event that ended has an end date"),
        ({"reason": ""}, "This field is required."),
    ]:
        refused = coordinator.post(url, _follow_up(**changes))
        assert refused.status_code == 422 and message in refused.text, message
    event.refresh_from_db()
    assert (event.outcome, event.resolved_on, mailoutbox) == ("recovering", None, [])

    with django_capture_on_commit_callbacks(execute=True):
        done = coordinator.post(url, _follow_up(serious="on"), follow=True)
    assert (
        "Follow-up of nausea saved: recovered, ended 2026-03-14, capsules interrupted; "
        "the serious-event alert went to 1 people." in done.text
    )
    assert len(mailoutbox) == 1 and "made serious at follow-up" in mailoutbox[0].body
    page = coordinator.get(url).text
    assert "outcome recovering → recovered" in page and "follow-up: her GP&#x27;s letter" in page
    assert "serious False → True" in page and "cora" in page
    downgrade = coordinator.post(url, _follow_up(reason="typo"))  # "serious" left unticked
    assert downgrade.status_code == 422 and "a serious event stays serious" in downgrade.text

    monitor = _client("mona").get(url)
    assert monitor.status_code == 200 and "Save the follow-up" not in monitor.text
    assert _client("mona").post(url, _follow_up(serious="on")).status_code == 403
    event.refresh_from_db()
    assert (
        event.severity == "moderate"
        and AuditEntry.objects.filter(record=f"trial.AdverseEvent:{event.pk}").count() == 2
    )
    assert _client("rita").get(url).status_code in {403, 404}  # the blinded rater: no side effects


def test_a_serious_event_nobody_can_be_told_of_is_shown_until_someone_is(
    study: Study, mailoutbox, django_capture_on_commit_callbacks
) -> None:
    person = Participant.objects.get(site__code="a")
    coordinator = _client("cora")
    dashboard = coordinator.get(_page(study, "dashboard")).text
    assert "Serious adverse event alerts reach no one" in dashboard
    with django_capture_on_commit_callbacks(execute=True):
        saved = coordinator.post(
            _page(study, "adverse_event", participant=person.code),
            {**_event("2026-03-10"), "term": "syncope", "serious": "on"},
            follow=True,
        )
    assert "NO ONE could be alerted by email" in saved.text and mailoutbox == []
    event = person.adverse_events.get()
    assert event.alerted == []
    dashboard = coordinator.get(_page(study, "dashboard")).text
    assert (
        "whose email alert reached no one" in dashboard
        and "syncope, onset 2026-03-10" in dashboard
    )

    adam = get_user_model().objects.get(username="adam")
    adam.email = "adam@example.org"
    adam.save()
    url = _page(study, "adverse_event_detail", participant=person.code, number=event.pk)
    with django_capture_on_commit_callbacks(execute=True):
        coordinator.post(url, _follow_up(serious="on", reason="investigator told by phone"))
    assert [mail.to for mail in mailoutbox] == [["adam@example.org"]]
    dashboard = coordinator.get(_page(study, "dashboard")).text
    assert "reached no one" not in dashboard


def test_the_lock_lists_what_is_open_and_takes_a_reason_to_lock_past_it(study: Study) -> None:
    from ldntrial.web.analysis.models import DatabaseLock

    person = Participant.objects.get(site__code="a")
    _client("cora").post(
        _page(study, "adverse_event", participant=person.code),
        {**_event("2026-03-10"), "term": "syncope", "serious": "on"},
    )
    admin = _client("adam")
    page = admin.get(_page(study, "lock")).text
    assert "2 participants still active (neither completed nor withdrawn)</strong>" in page
    assert "1 serious adverse events not ended</strong>: </li>" in page  # how many, not which
    nurse = _client("ivan").get(_page(study, "lock")).text
    assert f"1 serious adverse events not ended</strong>: {person.code}: syncope" in nurse
    assert "✓ no screenings without a decision" in page
    rater = _client("rita").get(_page(study, "lock")).text  # not shown adverse events (BLD-9)
    assert "participants still active" in rater
    assert "syncope" not in rater and "adverse event" not in rater
    sign = {"password": PASSWORD, "statement": "data complete"}
    refused = admin.post(_page(study, "lock"), sign)
    assert refused.status_code == 422 and "still open: 2 participants still active" in refused.text
    assert not DatabaseLock.objects.exists()
    assert (
        admin.post(
            _page(study, "lock"), {**sign, "past_checklist": "the sponsor ended the study"}
        ).status_code
        == 302
    )
    statement = DatabaseLock.objects.get().statement
    assert statement.startswith("data complete (locked with 2 participants still active")
    assert statement.endswith("open: the sponsor ended the study)")


def test_the_record_grid_shows_every_visit_as_done_partly_overdue_or_not_expected(
    study: Study,
) -> None:
    from ldntrial.web.trial.visits import record_visit

    person, other = Participant.objects.filter(study=study).order_by("code")
    record_visit(
        person,
        2,
        held_on=date(2026, 3, 16),
        values={"pressure_threshold": 250.0, "heat_threshold": 44.5, "cold_threshold": 12.0,
                "adverse_event_review": True},
        medications=[], actor="system:test",
    )  # fmt: skip
    record_visit(
        person, 3, held_on=date(2026, 3, 30), values={}, medications=[], actor="system:test"
    )
    _client("cora").post(
        _page(study, "withdraw", participant=person.code),
        _withdrawal(**{"withdraw-on": "2026-04-01", "withdraw-after": "nothing"}),
    )
    page = _client("ivan").get(_page(study, "records")).text
    row = page.split(f">{person.code}</a></th>", 1)[1].split("</tr>", 1)[0]
    cells = re.findall(r'<td class="status-([a-z-]+)">', row)
    assert cells[:4] == ["overdue", "done", "partly-done", "not-expected"]
    assert set(cells[3:]) == {"not-expected"}
    assert "partly done<span" in row and "</a>: adverse_event_review, capsule_count, " in row
    other_row = page.split(f">{other.code}</a></th>", 1)[1].split("</tr>", 1)[0]
    assert set(re.findall(r'<td class="status-([a-z-]+)">', other_row)) == {"overdue"}
    found = _client("ivan").get(_page(study, "records"), {"q": other.code.lower()})
    assert found.status_code == 302 and found["Location"].endswith(f"/{other.code}/")
    none = _client("ivan").get(_page(study, "records"), {"q": "ZZZ"}).text
    assert "No participant's code contains “ZZZ”." in none


def test_visits_of_the_next_two_weeks_and_the_kits_to_dispense_for_them(study: Study) -> None:
    today = local_today()
    recent = enrol(
        record_screening(
            study.sites.get(code="a"), ELIGIBLE, today - timedelta(days=11), actor="system:test"
        ),
        enrolled_on=today - timedelta(days=10),  # visit 2 (day 15) in 4 days
        timezone="Europe/Madrid",
        actor="system:test",
    ).participant
    dashboard = _client("cora").get(_page(study, "dashboard")).text
    coming = dashboard.split("Visits in the next 14 days", 1)[1].split("</table>", 1)[0]
    visit_day = recent.enrolled_on + timedelta(days=14)
    assert f">{recent.code}</a></td><td>2</td><td>{visit_day:%Y-%m-%d}</td>" in coming
    pharmacy = _client("phil").get(_page(study, "pharmacy")).text
    listed = pharmacy.split("To dispense", 1)[1].split("</table>", 1)[0]
    kits = recent.slot.kits.filter(dispense_visit=2).values_list("code", flat=True)
    assert f"<td>{recent.code}</td><td>2</td>" in listed and all(k in listed for k in kits)


def test_a_lab_value_and_an_adverse_event_are_corrected_with_a_reason_and_keep_their_history(
    study: Study,
) -> None:
    person = Participant.objects.get(site__code="a")
    coordinator = _client("cora")
    coordinator.post(
        _page(study, "esr", participant=person.code), {"sampled_on": "2026-03-10", "value": "24"}
    )
    result = person.lab_results.get()
    url = _page(study, "lab_result", participant=person.code, number=result.pk)
    no_reason = coordinator.post(url, {"sampled_on": "2026-03-10", "value": "42"})
    assert no_reason.status_code == 422 and "Why it is corrected: This field is required." in (
        no_reason.text
    )
    too_high = coordinator.post(url, {"sampled_on": "2026-03-10", "value": "420", "reason": "x"})
    assert too_high.status_code == 422 and "between 0 and 200 mm/hr" in too_high.text
    done = coordinator.post(
        url, {"sampled_on": "2026-03-10", "value": "42", "reason": "digits swapped"}, follow=True
    )
    assert "esr corrected: 24 → 42 mm/h, drawn on 2026-03-10." in done.text
    history = coordinator.get(url).text
    assert "correction: digits swapped" in history and "value 24.0 → 42.0" in history
    assert _client("mona").post(url, {"value": "1", "reason": "x"}).status_code == 403

    coordinator.post(
        _page(study, "adverse_event", participant=person.code),
        {**_event("2026-03-10"), "term": "headahce"},
    )
    event = person.adverse_events.get()
    ae_url = _page(study, "adverse_event_detail", participant=person.code, number=event.pk)
    fixed = coordinator.post(
        ae_url,
        {"step": "correct", "correct-term": "headache", "correct-onset": "2026-03-09",
         "correct-related": "possible", "correct-reason": "typing error"},
        follow=True,
    )  # fmt: skip
    assert "Adverse event corrected: headache, onset 2026-03-09, not serious" in fixed.text
    page = coordinator.get(ae_url).text
    assert "term headahce → headache" in page and "correction: typing error" in page
