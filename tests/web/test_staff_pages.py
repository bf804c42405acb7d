"""Staff pages with a cast of roles: who sees what, forms, enrolment, blinding (SEC-AZ-2)."""

from __future__ import annotations

from datetime import date

import pytest
from django.contrib.auth import get_user_model
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from ldntrial.protocol.loader import builtin_protocol_text
from ldntrial.web.audit.models import AuditEntry
from ldntrial.web.studies.models import Membership, Site, Study
from ldntrial.web.studies.roles import BLINDED_ROLES, Role
from ldntrial.web.trial.concealed import KitLot, contents_of, lot_of, sequence_of
from ldntrial.web.trial.enrolment import enrol
from ldntrial.web.trial.models import AllocationSlot, Participant
from ldntrial.web.trial.pharmacy import generate_allocation
from ldntrial.web.trial.screening import record_screening

from .test_trial import ELIGIBLE

pytestmark = pytest.mark.django_db

PASSWORD = "correct horse battery staple"
CAST = {
    "cora": (Role.COORDINATOR, "a"),
    "carl": (Role.COORDINATOR, "b"),
    "ivan": (Role.INVESTIGATOR, None),
    "rita": (Role.BLINDED_RATER, "a"),
    "phil": (Role.PHARMACIST, "a"),
    "stan": (Role.STATISTICIAN, None),
    "mona": (Role.MONITOR, None),
    "adam": (Role.STUDY_ADMIN, None),
    "olga": (None, None),  # an account with no role in the study
}


@pytest.fixture
def study() -> Study:
    study = Study.objects.create(
        code="demo",
        title="LDN crossover",
        protocol_text=builtin_protocol_text("crossover-2013"),
        actor="system:test",
    )
    sites = {
        code: Site.objects.create(
            study=study, code=code, name=f"Site {code.upper()}", actor="system:test"
        )
        for code in "ab"
    }
    for name, (role, site) in CAST.items():
        user = get_user_model().objects.create_user(name, password=PASSWORD)
        if role:
            Membership.objects.create(
                user=user,
                study=study,
                site=sites[site] if site else None,
                role=role,
                actor="system:test",
            )
    generate_allocation(study, per_stratum=6, seed=5, actor="system:test")
    for code in "ab":
        screening = record_screening(sites[code], ELIGIBLE, date(2026, 3, 1), actor="system:test")
        enrol(
            screening, enrolled_on=date(2026, 3, 2), timezone="Europe/Madrid", actor="system:test"
        )
    return study


def _client(name: str) -> Client:
    """Signed in without the form (the sign-in itself is tested through the form)."""
    client = Client()
    client.force_login(get_user_model().objects.get(username=name))
    return client


def _page(study: Study, name: str, **kwargs) -> str:
    return reverse(f"staff:{name}", kwargs={"code": study.code, **kwargs})


def test_signing_in_leads_to_the_studies_and_a_wrong_password_says_so(study: Study) -> None:
    client = Client()
    wrong = client.post(reverse("login"), {"username": "cora", "password": "nope"})
    assert (
        wrong.status_code == 200 and "Please enter a correct username and password" in wrong.text
    )
    right = client.post(reverse("login"), {"username": "cora", "password": PASSWORD}, follow=True)
    assert right.status_code == 200 and "LDN crossover" in right.text
    assert Client().get(_page(study, "dashboard")).status_code == 302  # to the sign-in page


def test_five_wrong_passwords_lock_the_account_at_that_address(study: Study) -> None:
    client = Client()
    for _ in range(4):
        client.post(reverse("login"), {"username": "cora", "password": "guess"})
    fifth = client.post(reverse("login"), {"username": "cora", "password": "guess"})
    assert fifth.status_code == 429 and "Signing in is paused" in fifth.text
    # Now even the right password is refused until the cool-off ends.
    right = client.post(reverse("login"), {"username": "cora", "password": PASSWORD})
    assert right.status_code == 429
    other = Client().post(reverse("login"), {"username": "ivan", "password": PASSWORD})
    assert other.status_code == 302  # another account is not affected


def test_a_coordinator_of_site_a_sees_nothing_of_site_b(study: Study) -> None:
    client = _client("cora")
    a, b = Participant.objects.get(site__code="a"), Participant.objects.get(site__code="b")
    dashboard = client.get(_page(study, "dashboard")).text
    assert a.code in dashboard and b.code not in dashboard
    assert client.get(_page(study, "participant", participant=a.code)).status_code == 200
    assert client.get(_page(study, "participant", participant=b.code)).status_code == 404
    assert client.get(_page(study, "screening", number=b.screening.number)).status_code == 404
    assert _client("ivan").get(_page(study, "participant", participant=b.code)).status_code == 200


def test_no_role_no_study_and_read_only_roles_cannot_write(study: Study) -> None:
    assert _client("olga").get(_page(study, "dashboard")).status_code == 404
    assert "You have no role" in _client("olga").get(reverse("staff:studies")).text
    monitor = _client("mona")
    assert monitor.get(_page(study, "dashboard")).status_code == 200
    assert monitor.get(_page(study, "screen")).status_code == 403
    number = Participant.objects.get(site__code="a").screening.number
    enrol_url = _page(study, "enrol", number=number)
    assert monitor.post(enrol_url, {"enrolled_on": "2026-03-03"}).status_code == 403


def test_screening_form_names_bad_fields_and_stores_a_decision(study: Study) -> None:
    client = _client("cora")
    url = _page(study, "screen")
    bad = client.post(url, {"site": study.sites.get(code="a").pk, "age": 150})
    assert bad.status_code == 422
    assert "Age: Ensure this value is less than or equal to 120." in bad.text
    assert "Fatigue: This field is required." in bad.text
    other_site = client.post(url, {**_form(study.sites.get(code="b").pk)})
    assert "Site: Select a valid choice." in other_site.text
    good = client.post(url, _form(study.sites.get(code="a").pk))
    assert good.status_code == 302
    page = client.get(good["Location"]).text
    assert "Decision: <strong>eligible</strong>" in page
    assert "Wolfe F et al." in page  # every reason with its source


def _form(site: int) -> dict:
    data = {key: value for key, value in ELIGIBLE.items() if key != "pain_areas"}
    data.update(
        site=site,
        pain_areas=ELIGIBLE["pain_areas"],
        headaches="yes",
        lower_abdominal_pain="no",
        depression="no",
        consent_on="2026-03-05",
    )
    return data


def test_enrolling_shows_the_kit_code_once_and_is_audited_as_her(study: Study) -> None:
    client = _client("cora")
    screening_url = client.post(_page(study, "screen"), _form(study.sites.get(code="a").pk))
    number = int(screening_url["Location"].rstrip("/").split("/")[-1])
    response = client.post(
        _page(study, "enrol", number=number),
        {"enrolled_on": "2026-03-06", "timezone": "America/Los_Angeles"},
        follow=True,
    )
    participant = Participant.objects.get(screening__number=number)
    kit = participant.slot.kits.get(kit_number=1)
    assert f"Hand out kit <strong>{kit.code}</strong>" in response.text
    assert (
        kit.code not in client.get(_page(study, "participant", participant=participant.code)).text
    )
    cora = get_user_model().objects.get(username="cora")
    entry = AuditEntry.objects.get(record=f"trial.Participant:{participant.pk}")
    assert entry.actor == f"user:{cora.pk}:cora"
    again = client.post(
        _page(study, "enrol", number=number), {"enrolled_on": "2026-03-06", "timezone": "UTC"}
    )
    assert again.status_code == 422 and "already enrolled" in again.text


def test_a_bad_time_zone_is_a_field_error_not_a_500(study: Study) -> None:
    client = _client("cora")
    created = client.post(_page(study, "screen"), _form(study.sites.get(code="a").pk))
    number = int(created["Location"].rstrip("/").split("/")[-1])
    response = client.post(
        _page(study, "enrol", number=number), {"enrolled_on": "2026-03-06", "timezone": "Mars"}
    )
    assert response.status_code == 422
    assert "Timezone: &#x27;Mars&#x27; is not an IANA time zone" in response.text


def test_emergency_unblinding_is_one_participant_with_password_and_reason(
    study: Study, mailoutbox, django_capture_on_commit_callbacks
) -> None:
    person = Participant.objects.get(site__code="a")
    url = _page(study, "unblind", participant=person.code)
    ivan = get_user_model().objects.get(username="ivan")
    ivan.email = "ivan@example.org"
    ivan.save()
    adam = get_user_model().objects.get(username="adam")
    adam.email = "adam@example.org"
    adam.save()
    investigator = _client("ivan")
    assert (
        "Emergency unblinding"
        in investigator.get(_page(study, "participant", participant=person.code)).text
    )
    wrong = investigator.post(url, {"password": "nope", "reason": "anaphylaxis"})
    assert wrong.status_code == 422 and "Password: does not match your password" in wrong.text
    no_reason = investigator.post(url, {"password": PASSWORD, "reason": " "})
    assert no_reason.status_code == 422 and "Reason: This field is required." in no_reason.text
    assert not person.unblindings.exists() and not mailoutbox

    with django_capture_on_commit_callbacks(execute=True):  # the notice goes after commit
        answer = investigator.post(url, {"password": PASSWORD, "reason": "anaphylaxis in A&E"})
    shown = investigator.get(answer["Location"])
    assert shown.status_code == 200 and shown["Cache-Control"] == "no-store"
    assert f"Sequence <strong>{sequence_of(person)}</strong>" in shown.text
    unblinding = person.unblindings.get()
    assert (unblinding.by, unblinding.reason) == (ivan, "anaphylaxis in A&E")
    entry = AuditEntry.objects.filter(action="unblind").get()
    assert entry.changes == {"unblinded": [None, person.code]}
    assert sequence_of(person) not in str(entry.changes) + entry.reason
    assert len(mailoutbox) == 1
    notice = mailoutbox[0]
    assert sorted(notice.to) == ["adam@example.org", "ivan@example.org"]
    assert person.code in notice.subject and sequence_of(person) not in notice.body

    # Afterwards the page says that she was unblinded, never what she had.
    for name in ("cora", "ivan", "mona"):
        page = _client(name).get(_page(study, "participant", participant=person.code)).text
        assert "unblinded" in page and sequence_of(person) not in page


def test_only_an_investigator_may_unblind(study: Study) -> None:
    person = Participant.objects.get(site__code="a")
    url = _page(study, "unblind", participant=person.code)
    for name in ("cora", "rita", "mona", "stan", "adam"):
        response = _client(name).post(url, {"password": PASSWORD, "reason": "curious"})
        assert response.status_code in {403, 404}, name
    assert (
        "Emergency unblinding"
        not in _client("cora").get(_page(study, "participant", participant=person.code)).text
    )
    assert not person.unblindings.exists()


def test_a_serious_adverse_event_alerts_the_investigators_when_saved(
    study: Study, mailoutbox, django_capture_on_commit_callbacks
) -> None:
    person = Participant.objects.get(site__code="a")
    ivan = get_user_model().objects.get(username="ivan")
    ivan.email = "ivan@example.org"
    ivan.save()
    url = _page(study, "adverse_event", participant=person.code)
    event = {
        "term": "vivid dreams",
        "onset": "2026-03-10",
        "severity": "mild",
        "related": "probable",
        "outcome": "recovering",
        "action_taken": "dose_not_changed",
    }
    coordinator = _client("cora")
    with django_capture_on_commit_callbacks(execute=True):
        assert coordinator.post(url, event).status_code == 302
    assert not mailoutbox  # not serious: no alert
    with django_capture_on_commit_callbacks(execute=True):
        saved = coordinator.post(url, {**event, "term": "syncope", "serious": "on"})
    assert saved.status_code == 302
    assert len(mailoutbox) == 1 and mailoutbox[0].to == ["ivan@example.org"]
    assert "SERIOUS adverse event" in mailoutbox[0].subject and "syncope" in mailoutbox[0].body
    assert sequence_of(person) not in mailoutbox[0].body
    page = coordinator.get(_page(study, "participant", participant=person.code)).text
    assert "syncope" in page and "vivid dreams" in page


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"onset": "2020-01-01"}, "Onset: before enrolment (2026-03-02)"),
        ({"onset": "2999-01-01"}, "Onset: in the future"),
        ({"severity": "catastrophic"}, "Severity: Select a valid choice."),
        ({"term": ""}, "Term: This field is required."),
    ],
)
def test_a_bad_adverse_event_is_refused_with_the_field_named(study, changes, message) -> None:
    person = Participant.objects.get(site__code="a")
    event = {
        "term": "headache",
        "onset": "2026-03-10",
        "severity": "mild",
        "related": "possible",
        "outcome": "recovered",
        "resolved_on": "2026-03-12",
        "action_taken": "dose_not_changed",
        **changes,
    }
    response = _client("cora").post(_page(study, "adverse_event", participant=person.code), event)
    assert response.status_code == 422 and message in response.text
    assert not person.adverse_events.exists()


def test_read_only_and_other_site_roles_cannot_report_adverse_events(study: Study) -> None:
    person = Participant.objects.get(site__code="a")
    url = _page(study, "adverse_event", participant=person.code)
    event = {"term": "x", "onset": "2026-03-10", "severity": "mild", "related": "possible"}
    for name in ("carl", "mona", "rita", "phil"):
        assert _client(name).post(url, {**event, "outcome": "recovered"}).status_code in {403, 404}
    assert not person.adverse_events.exists()


def test_her_visit_calendar_is_the_same_whatever_her_sequence(study: Study) -> None:
    pages = {}
    for person in Participant.objects.all():
        page = _client("ivan").get(_page(study, "participant", participant=person.code)).text
        calendar = page.split("<h2>Visits</h2>", 1)[1].split("<h2>Adverse events</h2>", 1)[0]
        pages[sequence_of(person)] = calendar.replace(person.code, "CODE")
        assert calendar.count("<tr>") == 13  # header + 12 visits of crossover-2013
        # The guess is asked at visits 4, 8 and 10 for everyone (site_visit_plan).
        assert calendar.count("Which capsules do you think you took") == 3
    assert len(pages) == 2, "the cast has one participant per sequence"
    first, second = pages.values()
    assert first == second


def _visit_values(**changes) -> dict:
    values = {
        "held_on": "2026-03-16",
        "pressure_threshold": "250",
        "heat_threshold": "44.5",
        "cold_threshold": "12",
        "adverse_event_review": "on",
        "medications": "",
    }
    return {**values, **changes}


def test_a_visit_is_recorded_then_corrected_only_with_a_reason(study: Study) -> None:
    person = Participant.objects.get(site__code="a")  # enrolled 2026-03-02: visit 2 is 03-16
    url = _page(study, "visit", participant=person.code, number=2)
    rater = _client("rita")
    form = rater.get(url)
    assert form.status_code == 200 and "(kPa)" in form.text
    assert rater.post(url, _visit_values()).status_code == 302
    visit = person.visits.get(number=2)
    assert visit.values["pressure_threshold"] == 250.0 and not visit.out_of_window
    no_reason = rater.post(url, _visit_values(pressure_threshold="260"))
    assert no_reason.status_code == 422
    assert "Reason for the correction: This field is required." in no_reason.text
    fixed = rater.post(url, _visit_values(pressure_threshold="260", reason="misread the dial"))
    assert fixed.status_code == 302
    entry = AuditEntry.objects.filter(record=f"trial.Visit:{visit.pk}").order_by("-id").first()
    assert entry.reason == "misread the dial"
    assert entry.changes["values"][0] != entry.changes["values"][1]


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"pressure_threshold": "5000"}, "less than or equal to 1500"),
        ({"heat_threshold": "hot"}, "Enter a number."),
        ({"adverse_event_review": ""}, "This field is required."),
        ({"held_on": "2026-02-01"}, "Visit held on: before her enrolment"),
    ],
)
def test_bad_visit_values_name_the_field(study: Study, changes: dict, message: str) -> None:
    person = Participant.objects.get(site__code="a")
    url = _page(study, "visit", participant=person.code, number=2)
    response = _client("cora").post(url, _visit_values(**changes))
    assert response.status_code == 422 and message in response.text
    assert not person.visits.exists()


def test_out_of_window_and_opioids_raise_deviations_and_a_safety_flag(study: Study) -> None:
    person = Participant.objects.get(site__code="a")
    url = _page(study, "visit", participant=person.code, number=2)
    late = _visit_values(held_on="2026-03-30", medications="paracetamol\nTramadol 50 mg")
    assert _client("cora").post(url, late).status_code == 302
    kinds = sorted(person.deviations.values_list("kind", flat=True))
    assert kinds == ["opioid", "visit_out_of_window"]
    page = _client("cora").get(_page(study, "participant", participant=person.code)).text
    assert "out of window" in page and "contains an opioid (tramadol)" in page
    assert (
        _client("cora")
        .post(
            url,
            _visit_values(
                reason="typo",
                **{"held_on": "2026-03-30", "medications": "paracetamol\nTramadol 50 mg"},
            ),
        )
        .status_code
        == 302
    )
    assert person.deviations.count() == 2  # a correction repeats no deviation


def test_only_visit_roles_of_her_site_record_visits(study: Study) -> None:
    person = Participant.objects.get(site__code="a")
    url = _page(study, "visit", participant=person.code, number=2)
    for name in ("carl", "mona", "phil", "stan"):
        assert _client(name).post(url, _visit_values()).status_code in {403, 404}, name
    assert (
        _client("cora").get(_page(study, "visit", participant=person.code, number=99)).status_code
        == 404
    )
    assert not person.visits.exists()


def test_the_monitor_reads_and_exports_the_studys_trail_without_allocations(study: Study) -> None:
    other = Study.objects.create(
        code="other",
        title="Another study",
        protocol_text=builtin_protocol_text("nof1"),
        actor="system:test",
    )
    Site.objects.create(study=other, code="x", name="Elsewhere", actor="system:test")
    monitor = _client("mona")
    page = monitor.get(_page(study, "audit"))
    assert page.status_code == 200
    assert f"studies.Study:{study.pk}" in page.text
    assert f"studies.Study:{other.pk}" not in page.text  # another study stays out
    assert "Elsewhere" not in page.text
    only_creates = monitor.get(_page(study, "audit") + "?action=update")
    assert "create" not in only_creates.text.split("<tbody>", 1)[1].split("</tbody>", 1)[0]

    export = monitor.get(_page(study, "audit_csv"))
    assert export.status_code == 200 and export["Content-Type"] == "text/csv"
    text = b"".join(export.streaming_content).decode()
    lines = text.splitlines()
    assert lines[0] == "id,at,actor,action,record,field,old,new,reason,hash"
    assert any(",trial.AllocationSlot:" in line and ",<concealed>," in line for line in lines)
    for sequence in set(AllocationSlot.objects.values_list("concealed_sequence", flat=True)):
        assert f",{sequence}," not in text
    assert AuditEntry.objects.filter(action="export", actor__endswith=":mona").exists()


def test_roles_without_audit_rights_cannot_read_the_trail(study: Study) -> None:
    for name in ("cora", "rita", "phil", "stan"):
        assert _client(name).get(_page(study, "audit")).status_code == 403, name
        assert _client(name).get(_page(study, "audit_csv")).status_code == 403, name
    assert _client("olga").get(_page(study, "audit")).status_code == 404


def test_the_pharmacist_sees_the_list_and_kits_and_extends_the_list(study: Study) -> None:
    pharmacist = _client("phil")
    page = pharmacist.get(_page(study, "pharmacy"))
    assert page.status_code == 200
    assert "2 of " in page.text and "permuted_blocks" in page.text
    assert "<td>ldn</td>" in page.text and "<td>placebo</td>" in page.text
    slots = AllocationSlot.objects.count()
    url = _page(study, "pharmacy")
    bad = pharmacist.post(url, {"form": "allocation", "per_stratum": "0"})
    assert bad.status_code == 422 and "greater than or equal to 1" in bad.text
    assert pharmacist.post(url, {"form": "allocation", "per_stratum": "4"}).status_code == 302
    assert AllocationSlot.objects.count() > slots
    assert study.allocation_lists.count() == 2


@pytest.mark.parametrize("name", [n for n, (role, _s) in CAST.items() if role in BLINDED_ROLES])
def test_no_blinded_role_reaches_the_pharmacy(study: Study, name: str) -> None:
    assert _client(name).get(_page(study, "pharmacy")).status_code == 403
    assert "Pharmacy" not in _client(name).get(_page(study, "dashboard")).text


def test_the_dashboard_lists_visits_due_now_overdue_and_open_adverse_events(study) -> None:
    from datetime import timedelta

    from django.utils import timezone

    today = timezone.localdate()
    screening = record_screening(
        study.sites.get(code="a"), ELIGIBLE, today - timedelta(days=20), actor="system:test"
    )
    fresh = enrol(
        screening,
        enrolled_on=today - timedelta(days=14),
        timezone="Europe/Madrid",
        actor="system:test",
    ).participant
    page = _client("cora").get(_page(study, "dashboard")).text
    due = page.split("<h2>Visits due now</h2>", 1)[1].split("</table>", 1)[0]
    overdue = page.split("<h2>Overdue visits</h2>", 1)[1].split("</table>", 1)[0]
    assert f">{fresh.code}</a></td><td>2</td>" in due  # study day 15 is today
    assert f">{fresh.code}</a></td><td>1</td>" in overdue
    other_site = Participant.objects.get(site__code="b").code
    assert other_site not in due + overdue
    from ldntrial.web.trial.visits import record_visit

    record_visit(
        fresh,
        1,
        held_on=today - timedelta(days=14),
        values={
            "pressure_threshold": 250.0,
            "heat_threshold": 44.0,
            "cold_threshold": 12.0,
            "adverse_event_review": True,
        },
        medications=[],
        actor="user:3:cora",
    )
    from ldntrial.web.trial.safety import report_adverse_event

    report_adverse_event(
        fresh,
        term="headache",
        onset=today,
        severity="mild",
        serious=False,
        related="possible",
        outcome="recovering",
        actor="user:3:cora",
    )
    page = _client("cora").get(_page(study, "dashboard")).text
    overdue = page.split("<h2>Overdue visits</h2>", 1)[1].split("</table>", 1)[0]
    assert f">{fresh.code}</a></td><td>1</td>" not in overdue
    events = page.split("<h2>Open adverse events</h2>", 1)[1].split("</table>", 1)[0]
    assert "headache" in events and fresh.code in events


def test_the_records_grid_pages_its_participants_and_a_search_keeps_its_pages(
    study, monkeypatch
) -> None:
    """Everyone's visits at a glance, a page at a time; the page links keep the search."""
    from ldntrial.web.staff.views import records

    monkeypatch.setattr(records, "PARTICIPANTS_PER_PAGE", 2)
    codes = [code for (code,) in Participant.objects.filter(study=study).values_list("code")]
    codes.sort()
    assert len(codes) == 2
    today = timezone.localdate()
    screening = record_screening(study.sites.get(code="a"), ELIGIBLE, today, actor="system:test")
    codes.append(
        enrol(screening, enrolled_on=today, timezone="UTC", actor="system:test").participant.code
    )
    coordinator = _client("ivan")

    def rows(page: str) -> list[str]:
        return [c for c in codes if f">{c}</a></th>" in page]

    first = coordinator.get(_page(study, "records")).text
    assert rows(first) == codes[:2] and "Participants 1 to 2 of 3 (page 1 of 2)." in first
    assert 'href="?page=2#grid" rel="next">Next</a>' in first
    assert rows(coordinator.get(_page(study, "records"), {"page": 2}).text) == codes[2:]
    assert rows(coordinator.get(_page(study, "records"), {"page": "x"}).text) == codes[:2]
    common = f"{study.code.upper()}-"  # in every code: DEMO-001, DEMO-002...
    searched = coordinator.get(_page(study, "records"), {"q": common}).text
    assert rows(searched) == codes[:2]
    assert f'href="?q={common}&amp;page=2#grid" rel="next">Next</a>' in searched


def test_the_dashboard_pages_its_participants_and_shows_the_first_visits_of_each_list(
    study, monkeypatch
) -> None:
    """A study of thousands costs the dashboard one page: participants and their heat-map
    rows a page at a time, each visit list its most pressing rows and a count of the rest."""
    from datetime import timedelta

    from django.utils import timezone

    from ldntrial.web.staff.views import dashboard

    monkeypatch.setattr(dashboard, "PARTICIPANTS_PER_PAGE", 2)
    monkeypatch.setattr(dashboard, "VISIT_ROWS", 1)
    today = timezone.localdate()
    for days_ago in (40, 60, 80):
        screening = record_screening(
            study.sites.get(code="a"),
            ELIGIBLE,
            today - timedelta(days=days_ago + 1),
            actor="system:test",
        )
        enrol(
            screening,
            enrolled_on=today - timedelta(days=days_ago),
            timezone="UTC",
            actor="system:test",
        )
    codes = list(Participant.objects.filter(study=study).order_by("code").values_list("code"))
    codes = [code for (code,) in codes]
    assert len(codes) == 5
    coordinator = _client("ivan")

    def shown(page: str) -> tuple[list[str], list[str]]:
        listed = page.split('<h2 id="participants">', 1)[1].split("</table>", 1)[0]
        heatmap = page.split('<table class="heatmap">', 1)[1].split("</table>", 1)[0]
        return [c for c in codes if f">{c}</a>" in listed], [c for c in codes if c in heatmap]

    first = coordinator.get(_page(study, "dashboard")).text
    assert shown(first) == (codes[:2], codes[:2])
    assert "Participants 1 to 2 of 5 (page 1 of 3)." in first
    assert 'href="?page=2#participants" rel="next">Next</a>' in first
    last = coordinator.get(_page(study, "dashboard") + "?page=3").text
    assert shown(last) == (codes[4:], codes[4:])
    assert 'rel="prev">Previous</a>' in last and 'rel="next"' not in last
    # Not a page number, or past the end: the first or the last page, never an error.
    assert shown(coordinator.get(_page(study, "dashboard") + "?page=x").text)[0] == codes[:2]
    assert shown(coordinator.get(_page(study, "dashboard") + "?page=99").text)[0] == codes[4:]
    overdue = first.split("<h2>Overdue visits</h2>", 1)[1].split("<h2>", 1)[0]
    assert overdue.count("<tr><td>") == 1
    assert "The first 1 of " in overdue and "everyone&#x27;s visits at a glance" not in overdue
    assert "everyone's visits at a glance</a>" in overdue
    # The longest overdue first: visit 1 of the woman enrolled first.
    oldest = Participant.objects.filter(study=study).order_by("enrolled_on", "code").first()
    assert f">{oldest.code}</a></td><td>1</td>" in overdue


def test_the_pharmacist_dispenses_a_visits_kits_and_counts_returns(study: Study) -> None:
    person = Participant.objects.get(site__code="a")
    pharmacist, url = _client("phil"), _page(study, "pharmacy")
    dispense = {"form": "dispense", "participant": person.code, "visit": "2", "on": "2026-03-16"}
    kit = person.slot.kits.get(dispense_visit=2)
    unfilled = pharmacist.post(url, dispense)
    assert unfilled.status_code == 422
    assert f"kit {kit.code} has no lot yet: record its lot and beyond-use date first" in (
        unfilled.text
    )
    lot = {"form": "lot", "kits": kit.code.lower(), "lot": "L-0316", "compounded_on": "2026-03-09"}
    assert pharmacist.post(url, lot).status_code == 302
    kit.refresh_from_db()
    assert lot_of(kit) == KitLot("L-0316", date(2026, 9, 5))  # 180 days (USP <795>)
    assert pharmacist.post(url, dispense).status_code == 302
    kit.refresh_from_db()
    assert kit.status == "dispensed"
    again = pharmacist.post(url, dispense)
    assert again.status_code == 422 and "already dispensed" in again.text
    nothing = pharmacist.post(url, {**dispense, "visit": "1"})
    assert "no kit is dispensed at visit 1" in nothing.text
    too_many = {"form": "return", "kit": kit.code, "on": "2026-03-30", "capsules": "999"}
    assert "Capsules returned: between 0 and the" in pharmacist.post(url, too_many).text
    back = {**too_many, "capsules": "3", "kit": kit.code.lower()}
    assert pharmacist.post(url, back).status_code == 302
    kit.refresh_from_db()
    assert (kit.status, kit.returned_capsules) == ("returned", 3)
    entry = AuditEntry.objects.filter(record=f"trial.Kit:{kit.pk}").order_by("-id").first()
    assert entry.reason == "returned with 3 capsules" and entry.actor.endswith(":phil")
    page = pharmacist.get(url).text
    assert f"<td>{kit.code}</td><td>{person.code}</td>" in page


def test_preparing_kits_and_handing_them_out_are_separate_permissions(study, monkeypatch) -> None:
    """A pharmacy role that prepares kits but does not dispense is refused at the counter."""
    from ldntrial.web.studies.roles import PERMISSIONS, Permission

    preparer = PERMISSIONS[Role.PHARMACIST] - {Permission.DISPENSE}
    monkeypatch.setitem(PERMISSIONS, Role.PHARMACIST, preparer)
    person = Participant.objects.get(site__code="a")
    kit = person.slot.kits.get(dispense_visit=2)
    pharmacist, url = _client("phil"), _page(study, "pharmacy")
    lot = {"form": "lot", "kits": kit.code, "lot": "L-0316", "compounded_on": "2026-03-09"}
    assert pharmacist.post(url, lot).status_code == 302
    dispense = {"form": "dispense", "participant": person.code, "visit": "2", "on": "2026-03-16"}
    refused = pharmacist.post(url, dispense)
    assert refused.status_code == 403 and "does not allow dispense" in refused.text
    back = {"form": "return", "kit": kit.code, "on": "2026-03-30", "capsules": "3"}
    assert pharmacist.post(url, back).status_code == 403
    kit.refresh_from_db()
    assert (lot_of(kit).number, kit.dispensed_on, kit.status) == ("L-0316", None, "prepared")


def test_every_permission_a_role_is_granted_is_checked_by_the_site() -> None:
    """A permission granted but never checked gives a false sense of control (issue 17)."""
    import re
    from pathlib import Path

    from ldntrial.web.studies.roles import PERMISSIONS

    web = Path(__file__).parents[2] / "src/ldntrial/web"
    code = "\n".join(path.read_text() for path in web.rglob("*.py") if path.name != "roles.py")
    granted = set().union(*PERMISSIONS.values())
    unchecked = sorted(
        p.name for p in granted if not re.search(rf"\bPermission\.{p.name}\b", code)
    )
    assert unchecked == []


def test_a_dose_reduction_is_ordered_blind_and_looks_the_same_in_both_arms(study) -> None:
    investigator, pharmacist = _client("ivan"), _client("phil")
    sections = {}
    for person in Participant.objects.all():
        url = _page(study, "dose_reduction", participant=person.code)
        assert _client("cora").post(url, {"reason": "vivid dreams"}).status_code == 403
        assert investigator.post(url, {"reason": "vivid dreams since week 2"}).status_code == 302
        again = investigator.post(url, {"reason": "again"})
        assert again.status_code == 422 and "already been reduced once" in again.text
        order = person.dose_reductions.get()
        assert f"{person.code}, ordered" in pharmacist.get(_page(study, "pharmacy")).text
        applied = pharmacist.post(
            _page(study, "pharmacy"), {"form": "apply_reduction", "order": order.pk}
        )
        assert applied.status_code == 302
        kits = person.slot.kits.all()
        assert all(kit.reduced for kit in kits)
        ldn = [contents_of(kit).dose_mg for kit in kits if contents_of(kit).condition == "ldn"]
        placebo = [
            contents_of(kit).dose_mg for kit in kits if contents_of(kit).condition == "placebo"
        ]
        assert set(ldn) == {3.0} and set(placebo) == {None}  # crossover-2013: 4.5 -> 3 mg
        page = investigator.get(_page(study, "participant", participant=person.code)).text
        section = page.split("<h2>Dose</h2>", 1)[1].split("<h2>", 1)[0]
        sections[sequence_of(person)] = section
        assert sequence_of(person) not in page
    first, second = sections.values()
    assert first == second  # the same words whatever the arm


@pytest.mark.parametrize(
    ("form", "status", "message"),
    [
        ({"sampled_on": "2026-03-10", "value": "24"}, 302, ""),
        (
            {"sampled_on": "2026-03-10", "value": "250"},
            422,
            "ESR (mm/hr): between 0 and 200 mm/hr",
        ),
        ({"sampled_on": "2026-02-01", "value": "24"}, 422, "before her consent (2026-03-01)"),
        ({"sampled_on": "2999-01-01", "value": "24"}, 422, "in the future"),
        ({"sampled_on": "2026-03-10", "value": "high"}, 422, "Enter a number."),
    ],
)
def test_an_esr_is_recorded_with_its_range_and_dates_checked(study, form, status, message):
    person = Participant.objects.get(site__code="a")
    url = _page(study, "esr", participant=person.code)
    response = _client("cora").post(url, form)
    assert response.status_code == status
    assert message in response.text
    assert person.lab_results.count() == (1 if status == 302 else 0)
    if status == 302:
        result = person.lab_results.get()
        assert (result.analyte, result.value, result.unit) == ("esr", 24.0, "mm/h")
        again = _client("cora").post(url, form)
        assert again.status_code == 422 and "esr is already recorded for 2026-03-10" in again.text
        assert _client("mona").post(url, form).status_code == 403


def test_the_study_admin_reviews_access_and_sees_counts_not_participants(study) -> None:
    from django.contrib.auth.models import update_last_login

    update_last_login(None, get_user_model().objects.get(username="cora"))
    admin = _client("adam")
    dashboard = admin.get(_page(study, "dashboard"))
    assert dashboard.status_code == 200 and "Your role sees counts" in dashboard.text
    assert "DEMO-001" not in dashboard.text and "Team and access review" in dashboard.text
    review = admin.get(_page(study, "access_review")).text
    for name, (role, _site) in CAST.items():
        if role:
            assert f"<td>{name}</td><td>none</td><td>{role.value}</td>" in review, name
    cora_row = review.split("<td>cora</td>", 1)[1].split("</tr>", 1)[0]
    assert "never" not in cora_row  # her sign-in is shown
    assert "never" in review.split("<td>ivan</td>", 1)[1].split("</tr>", 1)[0]
    for name in ("cora", "ivan", "mona", "phil", "stan"):
        assert _client(name).get(_page(study, "access_review")).status_code == 403, name


def test_the_blinded_rater_is_not_shown_side_effects(study: Study) -> None:
    """Vivid dreams on LDN can give the arm away (BLD-9); the rater scores outcomes blind."""
    person = Participant.objects.get(site__code="a")
    from ldntrial.web.trial.safety import report_adverse_event

    report_adverse_event(
        person, term="vivid dreams", onset=date(2026, 3, 20), severity="mild",
        serious=False, related="probable", outcome="recovering", actor="user:3:cora",
    )  # fmt: skip
    for name, shown in (("rita", False), ("cora", True), ("mona", True), ("phil", True)):
        dashboard = _client(name).get(_page(study, "dashboard"))
        participant = _client(name).get(_page(study, "participant", participant=person.code))
        assert dashboard.status_code == participant.status_code == 200, name
        assert ("vivid dreams" in dashboard.text) is shown, name
        assert ("vivid dreams" in participant.text) is shown, name


def test_the_pharmacist_uploads_a_list_made_elsewhere_or_is_told_each_bad_row(study) -> None:
    from django.core.files.uploadedfile import SimpleUploadedFile

    def upload(text: str):  # type: ignore[no-untyped-def]
        file = SimpleUploadedFile("list.csv", text.encode(), content_type="text/csv")
        return _client("phil").post(_page(study, "pharmacy"), {"form": "upload", "file": file})

    bad = upload("randomisation_number,sequence\nR1,ldn-frist\nR1,placebo-first\n")
    assert bad.status_code == 422
    assert "row 1: sequence: &#x27;ldn-frist&#x27; is not a sequence" in bad.text
    assert "row 2: randomisation_number: &#x27;R1&#x27; is used twice" in bad.text
    assert study.allocation_lists.count() == 1  # nothing stored
    good = upload("randomisation_number,sequence\nR1,ldn-first\nR2,placebo-first\n")
    assert good.status_code == 302
    version = study.allocation_lists.get(version=2)
    assert version.method == "uploaded (permuted_blocks)" and version.concealed_seed.startswith(
        "list.csv"
    )
    slots = AllocationSlot.objects.filter(study=study, list_version=2).order_by("position")
    assert [(s.randomisation_number, sequence_of(s)) for s in slots] == [
        ("V2-R1", "ldn-first"),
        ("V2-R2", "placebo-first"),
    ]
    assert [slot.kits.count() for slot in slots] == [8, 8]  # a bottle a fortnight, either arm
    assert upload("").status_code == 422
    refused = _client("cora").post(_page(study, "pharmacy"), {"form": "upload"})
    assert refused.status_code == 403


def test_every_page_of_the_trail_shows_a_field_named_items(study: Study) -> None:
    """A diary entry's ``items`` field shadowed dict.items in the template: pages 2+ gave 500."""
    from ldntrial.web.audit.chain import record_event
    from ldntrial.web.staff.views.audit import AUDIT_PAGE_SIZE

    for k in range(AUDIT_PAGE_SIZE + 5):
        record_event(
            actor="user:3:cora",
            action="update",
            about=study,
            changes={"items": [{"pain": k}, {"pain": k + 1}]},
        )
    monitor = _client("mona")
    pages = [monitor.get(_page(study, "audit"), {"page": n}) for n in (1, 2)]
    assert [page.status_code for page in pages] == [200, 200]
    assert "items: {&#x27;pain&#x27;: 104} → {&#x27;pain&#x27;: 105}" in pages[0].text  # newest
    assert "items: {&#x27;pain&#x27;: 0} → {&#x27;pain&#x27;: 1}" in pages[1].text


def test_the_trail_is_read_by_participant_person_date_and_kind_with_records_named(study) -> None:
    person = Participant.objects.get(site__code="a")
    other = Participant.objects.get(site__code="b")
    assert (
        _client("rita")
        .post(_page(study, "visit", participant=person.code, number=2), _visit_values())
        .status_code
        == 302
    )
    monitor = _client("mona")
    url = _page(study, "audit")
    hers = monitor.get(url, {"participant": person.code}).text
    body = hers.split("<tbody>", 1)[1]
    assert f">{person.code} visit 2</td>" in body and f">{person.code}</td>" in body
    assert other.code not in body
    by_rita = monitor.get(url, {"user": "rita"}).text.split("<tbody>", 1)[1]
    assert "<td>rita</td>" in by_rita and "<td>system (test)</td>" not in by_rita
    later = monitor.get(url, {"since": "2099-01-01"}).text
    assert "No entries." in later
    bad = monitor.get(url, {"since": "soon"})
    assert bad.status_code == 422 and "From: Enter a valid date." in bad.text
    nobody = monitor.get(url, {"participant": "NOBODY"})
    assert "No participant NOBODY in demo." in nobody.text


def test_guessing_the_password_at_the_unblinding_form_stops_after_five(study: Study) -> None:
    """The password typed again to sign had no attempt limit: a session left open let
    anyone guess it there. Five wrong ones in 15 minutes stop even the right one."""
    from datetime import timedelta

    import time_machine

    from ldntrial.web.accounts.reentry import REFUSAL_WINDOW, REFUSALS_ALLOWED

    person = Participant.objects.get(site__code="a")
    url = _page(study, "unblind", participant=person.code)
    investigator = _client("ivan")
    for _ in range(REFUSALS_ALLOWED):
        wrong = investigator.post(url, {"password": "guess", "reason": "curious"})
        assert wrong.status_code == 422 and "does not match your password" in wrong.text
    stopped = investigator.post(url, {"password": PASSWORD, "reason": "anaphylaxis"})
    assert stopped.status_code == 422 and "5 wrong passwords in 15 minutes" in stopped.text
    assert not person.unblindings.exists()
    refused = AuditEntry.objects.filter(action="sign", reason__startswith="signature refused")
    assert refused.count() == REFUSALS_ALLOWED and refused.first().actor.endswith(":ivan")
    with time_machine.travel(timezone.now() + REFUSAL_WINDOW + timedelta(seconds=1)):
        done = _client("ivan").post(url, {"password": PASSWORD, "reason": "anaphylaxis"})
    assert done.status_code == 302 and person.unblindings.exists()


def test_every_page_says_only_the_sites_own_scripts_may_run(study: Study) -> None:
    """Content-Security-Policy on staff pages, the sign-in and the diary (they had none)."""
    pages = {
        "dashboard": _client("cora").get(_page(study, "dashboard")),
        "sign-in": Client().get(reverse("login")),
        "diary": Client().get("/diary/"),
    }
    for name, response in pages.items():
        policy = response["Content-Security-Policy"]
        assert "script-src 'self'" in policy and "object-src 'none'" in policy, name
        assert "unsafe-inline" not in policy, name


def _sign_in(client: Client, name: str, password: str = PASSWORD, address: str = "10.0.0.1"):  # type: ignore[no-untyped-def]
    return client.post(
        reverse("login"), {"username": name, "password": password}, REMOTE_ADDR=address
    )


def test_guessing_from_many_addresses_stops_at_the_accounts_limit(study: Study) -> None:
    """Counted per address only, a guesser with many addresses had no limit."""
    for k in range(5):
        _sign_in(Client(), "ivan", "guess", address=f"203.0.113.{k}")
    late = _sign_in(Client(), "ivan", address="203.0.113.99")  # the right password, too late
    assert late.status_code == 429 and "Signing in is paused" in late.text


def test_her_own_browser_signs_in_while_an_attacker_hammers_her_account(study: Study) -> None:
    """The investigator must reach an emergency unblinding even while her account is attacked."""
    hers = Client()
    assert _sign_in(hers, "ivan").status_code == 302  # her browser, remembered from now on
    hers.post(reverse("logout"))
    for k in range(12):
        _sign_in(Client(), "ivan", "guess", address=f"198.51.100.{k}")
    assert _sign_in(Client(), "ivan", address="198.51.100.200").status_code == 429
    from axes.models import AccessAttempt

    typo = _sign_in(hers, "ivan", "correct horse", address="192.0.2.7")
    assert typo.status_code == 200  # a typo of hers counts for her browser alone
    assert AccessAttempt.objects.filter(ip_address__startswith="100::").exists()
    assert _sign_in(hers, "ivan", address="192.0.2.7").status_code == 302
    person = Participant.objects.get(site__code="a")
    page = hers.get(_page(study, "participant", participant=person.code))
    assert page.status_code == 200 and "Emergency unblinding" in page.text
    # Her cookie is hers: it opens no way around the limit for another account.
    forged = _sign_in(hers, "cora", "guess", address="192.0.2.7")
    assert forged.status_code == 200 and "Signing in is paused" not in forged.text


@pytest.mark.parametrize(
    ("proxies", "forwarded", "counted"),
    [
        (0, "198.51.100.1", "10.0.0.1"),  # no proxy: the header is anyone's to write
        (1, "198.51.100.1", "198.51.100.1"),  # nginx appended the client's address
        (1, "6.6.6.6, 198.51.100.1", "198.51.100.1"),  # what the client wrote is not believed
        (2, "6.6.6.6, 198.51.100.1, 10.1.1.1", "198.51.100.1"),
    ],
)
def test_the_address_is_read_through_the_proxies_the_site_says_it_has(
    settings, proxies, forwarded, counted
) -> None:
    from django.test import RequestFactory

    from ldntrial.web.accounts.lockout import client_address

    settings.LDNTRIAL_TRUSTED_PROXIES = proxies
    request = RequestFactory().post(
        "/accounts/login/", REMOTE_ADDR="10.0.0.1", HTTP_X_FORWARDED_FOR=forwarded
    )
    assert client_address(request) == counted
