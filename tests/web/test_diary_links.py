"""Her personal diary link: random, shown once, kept hashed, one at a time (D3, SEC-AU-6)."""

from __future__ import annotations

import hashlib
import io
import re

import pytest
from django.core.management import CommandError, call_command

from ldntrial.web.audit.models import AuditEntry
from ldntrial.web.diary.models import DiaryLink
from ldntrial.web.qr import qr_svg
from ldntrial.web.trial.models import Participant

from .test_staff_pages import _client, _page
from .test_staff_pages import study as study  # the cast's study (a fixture)

pytestmark = pytest.mark.django_db


def test_the_coordinator_makes_a_link_shown_once_with_her_calendar(study) -> None:
    person = Participant.objects.get(site__code="a")
    page = _client("cora").get(_page(study, "participant", participant=person.code))
    assert "Make her personal diary link" in page.text
    response = _client("cora").post(_page(study, "diary_link", participant=person.code))
    assert response.status_code == 200 and response["Cache-Control"] == "no-store"
    (url,) = re.findall(r"http://testserver/diary/#code=([A-Za-z0-9_\-]+)", response.text)
    assert len(url) >= 43  # 32 random bytes
    link = DiaryLink.objects.get()
    assert link.code_sha256 == hashlib.sha256(url.encode()).hexdigest()
    assert url not in str(list(AuditEntry.objects.values_list("changes", flat=True)))
    assert (link.expires_at - link.created_at).total_seconds() == 72 * 3600
    assert "Her visits" in response.text and "2026-03-02" in response.text
    # The QR code beside the link encodes that very link (segno draws the same code for it).
    expected_qr = qr_svg(f"http://testserver/diary/#code={url}", title="x").split("</title>")[1]
    assert expected_qr in response.text and f"QR code of {person.code}" in response.text
    again = _client("cora").post(_page(study, "diary_link", participant=person.code))
    assert again.status_code == 200
    old, new = DiaryLink.objects.order_by("pk")
    assert old.revoked_at is not None and new.revoked_at is None


@pytest.mark.parametrize("name", ["carl", "rita", "mona", "stan", "phil"])
def test_other_roles_and_sites_cannot_make_one(study, name: str) -> None:
    person = Participant.objects.get(site__code="a")
    response = _client(name).post(_page(study, "diary_link", participant=person.code))
    assert response.status_code in {403, 404} and not DiaryLink.objects.exists()


def test_the_command_prints_a_link_and_names_a_missing_participant(study) -> None:
    person = Participant.objects.get(site__code="a")
    out, err = io.StringIO(), io.StringIO()
    call_command(
        "participant_link",
        person.code,
        "--base-url",
        "https://ldn.example/",
        stdout=out,
        stderr=err,
    )
    code = out.getvalue().strip().removeprefix("https://ldn.example/diary/#code=")
    assert DiaryLink.objects.get().code_sha256 == hashlib.sha256(code.encode()).hexdigest()
    assert "valid until" in err.getvalue()
    entry = AuditEntry.objects.get(record__startswith="diary.DiaryLink:")
    assert entry.actor == "system:manage participant_link"
    with pytest.raises(CommandError, match="no participant NOBODY-1"):
        call_command("participant_link", "NOBODY-1")


def test_the_coordinator_sets_her_language_and_reminders_with_a_reason(study) -> None:
    person = Participant.objects.get(site__code="a")
    url = _page(study, "diary_settings", participant=person.code)
    form = {"language": "es", "email": "her@example.org", "remind_at": "20:30", "reason": "asked"}
    half = _client("cora").post(url, {**form, "remind_at": ""})
    assert half.status_code == 422 and "give both an email and a time" in half.text
    assert _client("cora").post(url, form).status_code == 302
    person.refresh_from_db()
    assert person.language == "es" and f"{person.reminders.remind_at:%H:%M}" == "20:30"
    entry = AuditEntry.objects.filter(record=f"trial.Participant:{person.pk}").latest("id")
    assert entry.changes["language"] == ["en", "es"] and entry.reason == "asked"
    assert _client("rita").post(url, form).status_code == 403


def test_revoking_stops_her_phones_and_unused_links_at_once(study) -> None:
    from django.test import Client
    from django.utils import timezone

    from ldntrial.web.diary.links import exchange_link, issue_diary_link

    person = Participant.objects.get(site__code="a")
    _device, token = exchange_link(
        issue_diary_link(person, now=timezone.now(), actor="user:3:cora")[1], now=timezone.now()
    )
    unused = issue_diary_link(person, now=timezone.now(), actor="user:3:cora")[0]
    phone = Client(HTTP_AUTHORIZATION=f"Bearer {token}")
    assert phone.get("/api/v1/participant/me").status_code == 200
    url = _page(study, "revoke_devices", participant=person.code)
    assert _client("cora").post(url, {"reason": "she lost her phone"}).status_code == 302
    assert phone.get("/api/v1/participant/me").status_code == 401
    unused.refresh_from_db()
    assert unused.revoked_at is not None
