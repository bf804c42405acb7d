"""The demo: every login works, DEMO-001 is in a blinded phase, the locked study analyses."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from ldntrial.simulate.demo import demo_trial
from ldntrial.stats import analyze
from ldntrial.web.analysis.models import DatabaseLock
from ldntrial.web.audit.chain import verify_chain
from ldntrial.web.demo import DEMO_LOGINS, DEMO_PASSWORD, build_demo_study
from ldntrial.web.diary.models import DiaryEntry
from ldntrial.web.studies.models import Study
from ldntrial.web.trial.models import AdverseEvent, Participant

pytestmark = pytest.mark.django_db


def test_the_demo_runs_one_study_and_hands_a_locked_one_to_the_statistician() -> None:
    study, built = build_demo_study()
    assert built and build_demo_study() == (study, False)
    today = timezone.localdate()
    # The running study: DEMO-001 active in a blinded phase, diaries up to yesterday.
    first = Participant.objects.get(study=study, code="DEMO-001")
    study_day = (today - first.enrolled_on).days + 1
    assert first.status == "active" and 15 <= study_day <= 126
    entries = DiaryEntry.objects.filter(participant__study=study)
    assert entries.filter(diary_date=today - timedelta(days=1)).exists()
    assert not entries.filter(diary_date__gte=today).exists()
    statuses = set(Participant.objects.filter(study=study).values_list("status", flat=True))
    assert {"active", "completed"} <= statuses
    assert AdverseEvent.objects.filter(participant__study=study, serious=True).exists()
    # Every login signs in through the form and reaches its studies.
    for login in DEMO_LOGINS:
        client = Client()
        response = client.post(
            reverse("login"), {"username": login.username, "password": DEMO_PASSWORD}
        )
        assert response.status_code == 302, login.username
        assert "demo-locked" in client.get(reverse("staff:studies")).text
    # The locked study: the statistician unblinds it and gets the simulation's own answer.
    locked = Study.objects.get(code="demo-locked")
    assert (
        locked.locked_at is not None
        and DatabaseLock.objects.get(study=locked).rows["participants"] == 31
    )
    statistician = Client()
    statistician.post(reverse("login"), {"username": "statistician", "password": DEMO_PASSWORD})
    page = reverse("staff:analysis", kwargs={"code": "demo-locked"})
    done = statistician.post(page, {"password": DEMO_PASSWORD, "reason": "demo"})
    assert done.status_code == 302
    stored = DatabaseLock.objects.get(study=locked).analysis["primary"]
    assert stored == analyze(demo_trial()).to_dict()["primary"]
    # The N-of-1 trial: the investigator, as the physician, ends it and releases the report.
    physician = Client()
    physician.post(reverse("login"), {"username": "investigator", "password": DEMO_PASSWORD})
    trial_page = reverse("staff:nof1", kwargs={"code": "nof1-demo"})
    assert (
        physician.post(trial_page, {"step": "end", "password": DEMO_PASSWORD}).status_code == 302
    )
    assert physician.post(trial_page, {"step": "release"}).status_code == 302
    assert "released to her on" in physician.get(trial_page).text
    assert verify_chain().intact
