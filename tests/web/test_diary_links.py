"""Her personal diary link: random, shown once, kept hashed, one at a time (D3, SEC-AU-6)."""

from __future__ import annotations

import hashlib
import io
import re

import pytest
from django.core.management import CommandError, call_command

from ldntrial.web.audit.models import AuditEntry
from ldntrial.web.diary.models import DiaryLink
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
    (url,) = re.findall(r"http://testserver/diary/link/([A-Za-z0-9_\-]+)", response.text)
    assert len(url) >= 43  # 32 random bytes
    link = DiaryLink.objects.get()
    assert link.code_sha256 == hashlib.sha256(url.encode()).hexdigest()
    assert url not in str(list(AuditEntry.objects.values_list("changes", flat=True)))
    assert (link.expires_at - link.created_at).total_seconds() == 72 * 3600
    assert "Her visits" in response.text and "2026-03-02" in response.text
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
    code = out.getvalue().strip().removeprefix("https://ldn.example/diary/link/")
    assert DiaryLink.objects.get().code_sha256 == hashlib.sha256(code.encode()).hexdigest()
    assert "valid until" in err.getvalue()
    entry = AuditEntry.objects.get(record__startswith="diary.DiaryLink:")
    assert entry.actor == "system:manage participant_link"
    with pytest.raises(CommandError, match="no participant NOBODY-1"):
        call_command("participant_link", "NOBODY-1")
