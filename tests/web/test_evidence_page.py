"""The evidence page: the published synthesis for anyone signed in, a study's own result
pooled only by the statistician who unblinded it, and its download in the audit trail."""

from __future__ import annotations

import json
from html import escape

import pytest
from django.test import Client
from django.urls import reverse

from ldntrial.stats.evidence import synthesise
from ldntrial.web.analysis.models import DatabaseLock
from ldntrial.web.audit.models import AuditEntry
from ldntrial.web.studies.models import Study

from .test_analysis_pages import _locked
from .test_analysis_pages import study as study  # the fixture
from .test_staff_pages import PASSWORD, _client, _page

pytestmark = pytest.mark.django_db
PAGE = reverse("staff:evidence")


def _unblinded(study: Study) -> DatabaseLock:
    _locked(study)
    done = _client("stan").post(_page(study, "analysis"), {"password": PASSWORD, "reason": "SAP"})
    assert done.status_code == 302
    return DatabaseLock.objects.get(study=study)


def test_anyone_signed_in_reads_the_published_synthesis(study: Study) -> None:
    assert Client().get(PAGE).status_code == 302  # signed out: to the sign-in page
    page = _client("olga").get(PAGE)  # no role in any study
    assert page.status_code == 200
    text = page.text
    for label in ("Younger 2013", "Bested 2023", "Bruun 2024 (FINAL)", "INNOVA 2025"):
        assert label in text
    assert "cannot tell LDN from placebo on pain" in text
    assert "not pooled: its outcome is overall symptom severity" in text
    assert "data:image/png;base64," in text and "Back to your studies" in text
    pooled = synthesise().pooled
    assert f"{pooled.estimate:.2f} (95 % CI {pooled.ci_lower:.2f}" in text
    assert "Add your own unblinded studies" not in text


def test_a_locked_but_blinded_study_is_offered_to_no_one(study: Study) -> None:
    _locked(study)
    for name in ("stan", "adam", "cora", "mona"):
        page = _client(name).get(PAGE, {"add": study.code})
        assert f"({study.code}, this site)" not in page.text, name
        assert "Together the 4 trials" in page.text


def test_the_statistician_pools_her_unblinded_study_and_others_cannot(study: Study) -> None:
    record = _unblinded(study)
    analysis_page = _client("stan").get(_page(study, "analysis")).text
    assert f"{PAGE}?add={study.code}" in analysis_page
    pooled = _client("stan").get(PAGE, {"add": study.code}).text
    assert "Together the 5 trials" in pooled and f"({study.code}, this site)" in pooled
    for name in ("cora", "mona", "phil", "olga"):  # blinded roles, or none here
        page = _client(name).get(PAGE, {"add": study.code}).text
        assert f"({study.code}, this site)" not in page and "Together the 4 trials" in page, name
    download = _client("stan").get(reverse("staff:evidence_json"), {"add": study.code})
    document = json.loads(download.content)
    assert document["pooled"]["k"] == 5 and document["trials"][-1]["id"] == f"own:{study.code}"
    exports = AuditEntry.objects.filter(
        action="export", record=f"analysis.DatabaseLock:{record.pk}"
    )
    assert [entry.changes["export"][1] for entry in exports] == ["ldn-evidence.json"]
    plain = _client("stan").get(reverse("staff:evidence_json"))
    assert json.loads(plain.content)["pooled"]["k"] == 4
    assert exports.count() == 1  # the published synthesis alone carries nothing of the study


def test_a_study_whose_analyses_could_not_run_is_refused_by_name_not_pooled(
    study: Study,
) -> None:
    """Unblinded with nothing to analyse (no diary): asking to pool it says why it cannot."""
    from django.contrib.auth import get_user_model

    from ldntrial.web.studies.models import Membership

    from .test_analysis_pages import CAST

    empty = Study.objects.create(
        code="empty", title="x", protocol_text=study.protocol_text, actor="system:test"
    )
    for name in ("adam", "stan"):
        user = get_user_model().objects.get(username=name)
        Membership.objects.create(user=user, study=empty, role=CAST[name], actor="system:test")
    lock = _unblinded(empty)
    assert lock.analysis is None and lock.analysis_error
    page = _client("stan").get(PAGE, {"add": "empty"})
    assert page.status_code == 200
    assert escape(f"empty: no analysis to pool ({lock.analysis_error})") in page.text
    assert "Together the 4 trials" in page.text
    download = _client("stan").get(reverse("staff:evidence_json"), {"add": "empty"})
    assert download.status_code == 200 and json.loads(download.content)["pooled"]["k"] == 4
