"""The participant API over HTTP: session from her link, entries 201/200/409/422, her own only."""

from __future__ import annotations

import json
import secrets
from datetime import date, timedelta
from uuid import uuid4

import pytest
from django.test import Client
from django.utils import timezone

from ldntrial.web.audit.tracking import because
from ldntrial.web.diary.links import issue_diary_link, revoke_devices
from ldntrial.web.diary.models import DiaryEntry
from ldntrial.web.diary.throttle import REFUSAL_WINDOW, REFUSALS_ALLOWED, too_many_refusals
from ldntrial.web.trial.dates import local_today
from ldntrial.web.trial.models import Participant
from ldntrial.web.trial.status import withdraw_participant

pytestmark = pytest.mark.django_db

ITEMS = {
    "pain": 62,
    "fatigue": 55,
    "sleep_quality": 40,
    "mood": 50,
    "satisfaction": 45,
    "symptoms": 58,
}


@pytest.fixture
def recent(enrolled: Participant) -> Participant:
    """Her study started 20 days ago, so today's diary is a real day of it."""
    with because("test: enrolled 20 days ago"):
        enrolled.enrolled_on = timezone.localdate() - timedelta(days=20)
        enrolled.save(actor="system:test")
    return enrolled


def _link(person: Participant) -> str:
    return issue_diary_link(person, now=timezone.now(), actor="user:3:cora")[1]


def _session(client: Client, code: str):  # type: ignore[no-untyped-def]
    return client.post(
        "/api/v1/participant/session", json.dumps({"code": code}), content_type="application/json"
    )


def _device(person: Participant) -> Client:
    token = _session(Client(), _link(person)).json()["token"]
    return Client(HTTP_AUTHORIZATION=f"Bearer {token}")


def _evening(person: Participant) -> tuple[date, str]:
    """The report day open now, and a device time inside its window."""
    from zoneinfo import ZoneInfo

    from ldntrial.protocol.diary_timing import open_report_day
    from ldntrial.protocol.schedule import diary_window

    zone = ZoneInfo(person.timezone)
    diary = person.study.protocol.diary
    day = open_report_day(diary, timezone.now(), person.timezone)
    if day is None:  # between windows now: yesterday's window, recorded in it
        day = timezone.now().astimezone(zone).date() - timedelta(days=1)
    opens = diary_window(diary, day, zone)[0]
    now = timezone.now().astimezone(zone)
    at = max(opens, min(opens + timedelta(hours=1), now - timedelta(seconds=1)))
    return day, at.isoformat()


def _send(device: Client, person: Participant, **changes):  # type: ignore[no-untyped-def]
    day, at = _evening(person)
    body = {"client_id": str(uuid4()), "diary_date": str(day), "recorded_at": at, "items": ITEMS}
    body.update(changes)
    return device.post("/api/v1/diary/entries", json.dumps(body), content_type="application/json")


def test_a_link_is_traded_once_for_a_token(recent: Participant) -> None:
    code = _link(recent)
    first = _session(Client(), code)
    assert first.status_code == 201 and first["Cache-Control"] == "no-store"
    assert first.json()["participant"] == recent.code and len(first.json()["token"]) >= 43
    again = _session(Client(), code)
    assert again.status_code == 401 and "used or has expired" in again.json()["detail"]
    assert _session(Client(), "x" * 43).status_code == 401  # unknown: the same answer


def test_an_address_that_keeps_sending_bad_codes_is_paused_and_others_are_not(recent) -> None:
    script = Client(REMOTE_ADDR="203.0.113.9")
    for _ in range(REFUSALS_ALLOWED):
        assert _session(script, secrets.token_urlsafe(32)).status_code == 401
    paused = _session(script, _link(recent))  # even a good code waits: no oracle for guesses
    assert paused.status_code == 429 and paused["Retry-After"] == "3600"
    assert "try again in an hour" in paused.json()["detail"]
    assert _session(Client(REMOTE_ADDR="198.51.100.4"), _link(recent)).status_code == 201
    later = timezone.now() + REFUSAL_WINDOW + timedelta(seconds=1)
    assert not too_many_refusals(script.get("/").wsgi_request, now=later)


def test_an_entry_is_stored_then_recognised_then_refused_if_changed(recent) -> None:
    device = _device(recent)
    key = str(uuid4())
    day, at = _evening(recent)
    body = {"client_id": key, "diary_date": str(day), "recorded_at": at, "items": ITEMS}
    post = lambda b: device.post(  # noqa: E731
        "/api/v1/diary/entries", json.dumps(b), content_type="application/json"
    )
    created = post(body)
    assert created.status_code == 201, created.content
    assert created.json()["version"] == 1 and created.json()["items"]["pain"] == 62.0
    retry = post(body)
    assert retry.status_code == 200 and retry.json() == created.json()
    changed = post({**body, "items": {**ITEMS, "pain": 10}})
    assert changed.status_code == 409 and "client_id" in changed.json()["detail"]
    assert DiaryEntry.objects.count() == 1
    listed = device.get("/api/v1/diary/entries")
    assert [entry["client_id"] for entry in listed.json()] == [key]


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"items": {**ITEMS, "pain": 101}}, "items.pain", "from 0 to 100"),
        ({"items": {**ITEMS, "pain": True}}, "items.pain.int", "valid integer"),
        ({"items": {**ITEMS, "pain": "50"}}, "items.pain.int", "valid integer"),
        ({"client_id": "not-a-uuid"}, "client_id", "UUID"),
        ({"recorded_at": "2026-04-06T21:00:00"}, "recorded_at", "timezone"),
        ({"side_effects": ["hiccups"]}, "side_effects", "not on the checklist"),
        # Found by fuzzing: each was a 500.
        ({"recorded_at": "0001-01-01T00:30:00+14:00"}, "recorded_at", "before the server"),
        ({"recorded_at": "9999-12-31T23:59:59-12:00"}, "recorded_at", "after the server"),
        ({"items": {**ITEMS, "pain": 10**400}}, "items.pain", "from 0 to 100"),
    ],
)
def test_a_bad_entry_is_a_422_naming_the_field(recent, changes, field, message) -> None:
    response = _send(_device(recent), recent, **changes)
    assert response.status_code == 422, response.content
    problems = {p["field"]: p["message"] for p in response.json()["errors"]}
    assert field in problems and message in problems[field], problems
    assert DiaryEntry.objects.count() == 0


def test_a_phone_cannot_backdate_a_day_weeks_ago_by_its_own_clock(recent) -> None:
    """The window is judged on the phone's clock (EPRO-11), so that clock is bounded by the
    server's: an entry must reach the server within a week of being recorded, and cannot
    have been recorded after it arrived."""
    from zoneinfo import ZoneInfo

    from ldntrial.protocol.schedule import diary_window

    device = _device(recent)
    weeks_ago = timezone.localdate() - timedelta(days=15)
    opens = diary_window(recent.study.protocol.diary, weeks_ago, ZoneInfo(recent.timezone))[0]
    body = {"client_id": str(uuid4()), "diary_date": str(weeks_ago), "items": ITEMS}
    sent = device.post(
        "/api/v1/diary/entries",
        json.dumps({**body, "recorded_at": (opens + timedelta(hours=1)).isoformat()}),
        content_type="application/json",
    )
    assert sent.status_code == 422, sent.content
    problems = {p["field"]: p["message"] for p in sent.json()["errors"]}
    assert "more than 7 days before the server received it" in problems["recorded_at"]
    assert DiaryEntry.objects.count() == 0
    on_time = _send(device, recent)  # yesterday evening's entry, sent now: fine
    assert on_time.status_code == 201, on_time.content


def test_a_body_too_large_gets_the_api_s_json_and_every_answer_is_documented(recent) -> None:
    from django.conf import settings

    from ldntrial.web.participant_api import api

    huge = json.dumps({"code": "x" * (settings.DATA_UPLOAD_MAX_MEMORY_SIZE + 10)})
    response = Client().post("/api/v1/participant/session", huge, content_type="application/json")
    assert response.status_code == 413 and response["Content-Type"].startswith("application/json")
    assert "larger than" in response.json()["detail"]
    not_json = _device(recent).post(
        "/api/v1/diary/entries", "{not json", content_type="application/json"
    )
    assert not_json.status_code == 400 and not_json.json()["detail"].startswith("body:")
    documented = {
        (path, method): {str(status) for status in call["responses"]}
        for path, calls in api.get_openapi_schema()["paths"].items()
        for method, call in calls.items()
    }
    assert {"400", "401", "413", "422"} <= documented[("/api/v1/diary/entries", "post")]
    assert {"400", "413", "422", "429"} <= documented[("/api/v1/participant/session", "post")]
    assert "401" in documented[("/api/v1/participant/me", "get")]


def test_without_a_live_token_nothing_is_read_or_written(recent: Participant) -> None:
    assert Client().get("/api/v1/diary/entries").status_code == 401
    assert Client(HTTP_AUTHORIZATION="Bearer nope").get("/api/v1/diary/entries").status_code == 401
    device = _device(recent)
    assert device.get("/api/v1/participant/me").status_code == 200
    revoke_devices(recent, now=timezone.now(), reason="she lost her phone", actor="user:3:cora")
    assert device.get("/api/v1/participant/me").status_code == 401
    assert _send(device, recent).status_code == 401


def test_a_withdrawn_participant_keeps_her_entries_and_her_diary_closes(recent) -> None:
    device = _device(recent)
    assert _send(device, recent).status_code == 201
    withdraw_participant(
        recent,
        on=local_today(recent.timezone),
        reason="other",
        detail="moved away",
        actor="user:3:cora",
    )
    assert device.get("/api/v1/diary/entries").status_code == 401
    assert DiaryEntry.objects.count() == 1


def test_once_the_study_is_locked_a_new_entry_is_refused_kindly_and_a_resend_is_recognised(
    recent: Participant,
) -> None:
    device = _device(recent)
    day, at = _evening(recent)
    sent = {"client_id": str(uuid4()), "diary_date": str(day), "recorded_at": at, "items": ITEMS}

    def post(body: dict):  # type: ignore[no-untyped-def]
        return device.post(
            "/api/v1/diary/entries", json.dumps(body), content_type="application/json"
        )

    assert post(sent).status_code == 201
    study = recent.study
    with because("locked as lock_database does, without the snapshot"):
        study.locked_at = timezone.now()
        study.save(actor="system:test")
    resent = post(sent)
    assert resent.status_code == 200 and resent.json()["version"] == 1
    refused = post({**sent, "client_id": str(uuid4())})
    assert refused.status_code == 422
    assert refused.json()["errors"][0]["field"] == "study"
    assert "locked for analysis" in refused.json()["errors"][0]["message"]
    assert DiaryEntry.objects.count() == 1


def test_her_page_data_tells_nothing_of_her_arm(recent: Participant) -> None:
    me = _device(recent).get("/api/v1/participant/me").json()
    from zoneinfo import ZoneInfo

    her_today = timezone.now().astimezone(ZoneInfo(recent.timezone)).date()
    assert me["participant"] == recent.code
    assert me["study_day"] == (her_today - recent.enrolled_on).days + 1
    assert me["periods"] is None  # crossover-2013: period lengths differ between the arms
    assert [item["id"] for item in me["items"]][:2] == ["pain", "fatigue"]
    assert "other" in me["side_effects"]
    text = json.dumps(me)
    for secret in ("ldn-first", "placebo-first", "LDN 4.5", "Placebo"):
        assert secret not in text


def test_the_openapi_document_is_published() -> None:
    schema = Client().get("/api/v1/openapi.json").json()
    assert {"/api/v1/participant/session", "/api/v1/diary/entries"} <= set(schema["paths"])
    assert set(schema["paths"]["/api/v1/diary/entries"]["post"]["responses"]) == {
        "200", "201", "400", "401", "409", "413", "422",
    }  # fmt: skip


def test_she_never_sees_another_participants_entries(recent: Participant) -> None:
    from ldntrial.web.trial.enrolment import enrol
    from ldntrial.web.trial.screening import record_screening

    from .test_trial import ELIGIBLE

    screening = record_screening(recent.site, ELIGIBLE, recent.enrolled_on, actor="user:3:cora")
    other = enrol(
        screening, enrolled_on=recent.enrolled_on, timezone=recent.timezone, actor="user:3:cora"
    ).participant
    assert _send(_device(other), other).status_code == 201
    mine = _device(recent)
    assert _send(mine, recent).status_code == 201
    listed = mine.get("/api/v1/diary/entries").json()
    assert len(listed) == 1 and DiaryEntry.objects.count() == 2
    assert listed[0]["client_id"] == str(DiaryEntry.objects.get(participant=recent).client_id)


def test_her_token_opens_no_staff_page(recent: Participant) -> None:
    """A participant's device reaches her diary API and nothing of the staff site (SEC-ML-3)."""
    from django.urls import reverse

    from ldntrial.web.staff.urls import urlpatterns

    device = _device(recent)
    values = {"code": recent.study.code, "participant": recent.code, "number": 1, "what": "x"}
    for pattern in urlpatterns:
        kwargs = {k: values[k] for k in pattern.pattern.converters}
        response = device.get(reverse(f"staff:{pattern.name}", kwargs=kwargs))
        assert response.status_code in {302, 405}, pattern.name  # to the sign-in page
        if response.status_code == 302:
            assert response["Location"].startswith("/accounts/login/"), pattern.name
    assert device.get("/admin/").status_code == 302


def test_postgresql_plans_the_entry_statements_once_and_each_version_still_counts(recent) -> None:
    """The evening rush's statements are prepared on the connection after five runs (issue
    17): PostgreSQL plans the diary INSERT once, and versions computed by the prepared
    statement still rise one by one."""
    from django.db import connection

    if connection.vendor != "postgresql":
        pytest.skip("prepared statements are PostgreSQL's; the PostgreSQL pass of CI runs this")
    device = _device(recent)
    versions = [_send(device, recent).json()["version"] for _ in range(7)]
    assert versions == [1, 2, 3, 4, 5, 6, 7]
    with connection.cursor() as cursor:
        cursor.execute("SELECT statement FROM pg_prepared_statements")
        prepared = [row[0] for row in cursor.fetchall()]
    assert any(text.startswith("INSERT INTO diary_diaryentry") for text in prepared), prepared
    assert any("pg_advisory_xact_lock" in text for text in prepared), prepared
