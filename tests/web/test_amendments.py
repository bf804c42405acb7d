"""Protocol amendments: checked against the data already collected, each woman keeping the
version she was enrolled under, the analysis and exports saying which versions the data
came from."""

from __future__ import annotations

import csv
import io
import zipfile
from datetime import date, datetime, time, timedelta
from uuid import uuid4
from zoneinfo import ZoneInfo

import pytest
from django.contrib.auth import get_user_model
from django.core.files.uploadedfile import SimpleUploadedFile

from ldntrial.protocol.loader import builtin_protocol_text
from ldntrial.web.diary.entries import DiarySubmission, record_entry
from ldntrial.web.studies.models import Membership, Study
from ldntrial.web.studies.roles import Role
from ldntrial.web.studies.setup import SiteSpec, create_study
from ldntrial.web.trial.enrolment import enrol
from ldntrial.web.trial.pharmacy import generate_allocation
from ldntrial.web.trial.screening import record_screening

from .test_staff_pages import PASSWORD, _client, _page
from .test_trial import ELIGIBLE

pytestmark = pytest.mark.django_db

ORIGINAL = builtin_protocol_text("crossover-2013")
RETITLED = ORIGINAL.replace('title = "LDN vs placebo', 'title = "Amendment 1: LDN vs placebo', 1)
NO_MOOD = ORIGINAL.replace('id = "mood"', 'id = "mood_today"').replace(
    '"sleep_quality", "mood",', '"sleep_quality", "mood_today",'
)


@pytest.fixture
def study():  # type: ignore[no-untyped-def]
    adam = get_user_model().objects.create_user("adam", password=PASSWORD)
    study = create_study(
        code="amend",
        title="Amended",
        protocol_text=ORIGINAL,
        sites=[SiteSpec("a", "Site A", "Europe/Madrid")],
        admin=adam,
        actor="system:test",
    )
    cora = get_user_model().objects.create_user("cora", password=PASSWORD)
    Membership.objects.create(user=cora, study=study, role=Role.COORDINATOR, actor="system:test")
    generate_allocation(study, per_stratum=4, seed=2, actor="system:test")
    person = enrol(
        record_screening(study.sites.get(), ELIGIBLE, date(2026, 3, 1), actor="system:test"),
        enrolled_on=date(2026, 3, 2),
        timezone="Europe/Madrid",
        actor="system:test",
    ).participant
    recorded = datetime.combine(date(2026, 3, 2), time(20), ZoneInfo("Europe/Madrid"))
    record_entry(
        person,
        DiarySubmission(
            client_id=uuid4(),
            diary_date=date(2026, 3, 2),
            recorded_at=recorded,
            items={item.id: 40.0 for item in study.protocol.diary.items},
        ),
        received_at=recorded + timedelta(minutes=2),
        actor=f"participant:{person.code}",
    )
    return study


def _amend(text: str, reason: str = "ethics approval of amendment 1"):  # type: ignore[no-untyped-def]
    upload = SimpleUploadedFile("amended.toml", text.encode())
    return _client("adam").post(
        "/studies/amend/protocol/", {"protocol_file": upload, "reason": reason}, follow=True
    )


def test_an_amendment_cannot_drop_what_the_data_use(study) -> None:
    refused = _amend(NO_MOOD)
    assert refused.status_code == 422
    assert "diary item &#x27;mood&#x27; has entries" in refused.text
    study = Study.objects.get(pk=study.pk)
    assert study.protocol_text == ORIGINAL and study.protocol_version == 1
    broken = _amend("title = 3")
    assert broken.status_code == 422 and "line 1: title: must be text" in broken.text
    assert _amend(RETITLED, reason="").status_code == 422
    assert _client("cora").post("/studies/amend/protocol/", {}).status_code == 403


def test_each_woman_keeps_her_version_and_the_exports_say_which_versions(study) -> None:
    done = _amend(RETITLED)
    assert "Protocol version 2 is in force" in done.text
    assert "ethics approval of amendment 1" in done.text
    study = Study.objects.get(pk=study.pk)
    assert study.protocol.title.startswith("Amendment 1") and study.protocol_version == 2
    later = enrol(
        record_screening(study.sites.get(), ELIGIBLE, date(2026, 4, 1), actor="system:test"),
        enrolled_on=date(2026, 4, 2),
        timezone="Europe/Madrid",
        actor="system:test",
    ).participant
    first = study.participants.exclude(pk=later.pk).get()
    assert (first.protocol_version, later.protocol_version) == (1, 2)
    original = _client("cora").get("/studies/amend/protocol/v1.toml")
    assert original.content.decode() == ORIGINAL
    exported = _client("adam").post(_page(study, "export"), {"format": "csv"})
    with zipfile.ZipFile(io.BytesIO(exported.content)) as archive:
        rows = list(csv.DictReader(io.StringIO(archive.read("protocol-versions.csv").decode())))
    assert [(r["version"], r["participants_enrolled"]) for r in rows] == [("1", "1"), ("2", "1")]
