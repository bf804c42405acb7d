"""The lock and analysis pages with the role cast: who signs, who unblinds, what each one sees."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model

from ldntrial.data.archive import load_bundle_archive
from ldntrial.web.analysis.models import DatabaseLock
from ldntrial.web.audit.models import AuditEntry
from ldntrial.web.studies.models import Membership, Study
from ldntrial.web.studies.roles import Role
from ldntrial.web.trial.models import Participant

from .test_snapshot import _imported_study
from .test_staff_pages import PASSWORD, _client, _page

pytestmark = pytest.mark.django_db

CAST = {
    "adam": Role.STUDY_ADMIN,
    "stan": Role.STATISTICIAN,
    "cora": Role.COORDINATOR,
    "mona": Role.MONITOR,
    "phil": Role.PHARMACIST,
}


@pytest.fixture
def study() -> Study:
    """Six women of a simulated crossover-2013 trial, entered through the site's actions."""
    study = _imported_study("crossover-2013", n=6, seed=3)[0]
    for name, role in CAST.items():
        user = get_user_model().objects.create_user(name, password=PASSWORD)
        Membership.objects.create(user=user, study=study, role=role, actor="system:test")
    get_user_model().objects.create_user("olga", password=PASSWORD)
    return study


def _locked(study: Study, **changes: str) -> DatabaseLock:
    """Signed through the page, past a checklist these tests are not about."""
    form = {
        "password": PASSWORD,
        "statement": "data complete",
        "past_checklist": "test: casebooks reviewed on paper",
        **changes,
    }
    response = _client("adam").post(_page(study, "lock"), form)
    assert response.status_code == 302
    return DatabaseLock.objects.get(study=study)


def test_the_admin_sees_what_the_lock_freezes_and_signs_it(study: Study) -> None:
    page = _client("adam").get(_page(study, "lock"))
    assert page.status_code == 200
    assert "<td>diary days</td><td>832</td>" in page.text and "Lock the database" in page.text
    wrong = _client("adam").post(_page(study, "lock"), {"password": "no", "statement": "ok"})
    assert wrong.status_code == 422 and "does not match your password" in wrong.text
    assert not DatabaseLock.objects.exists()
    record = _locked(study)
    signed = _client("mona").get(_page(study, "lock")).text
    assert "Signed by <strong>adam</strong>" in signed
    assert record.bundle_sha256 not in signed  # a checksum of unblinded data is an oracle
    assert "Meaning: database lock: the data are complete and final" in signed


@pytest.mark.parametrize("name", ["cora", "stan", "mona"])
def test_only_the_study_admin_signs_the_lock(study: Study, name: str) -> None:
    page = _client(name).get(_page(study, "lock"))
    assert page.status_code == 200 and "Only the study admin locks" in page.text
    post = _client(name).post(_page(study, "lock"), {"password": PASSWORD, "statement": "x"})
    assert post.status_code == 403 and not DatabaseLock.objects.exists()


def test_after_the_lock_no_page_takes_data(study: Study) -> None:
    _locked(study)
    person = Participant.objects.filter(study=study).first()
    cora = _client("cora")
    assert cora.get(_page(study, "screen")).status_code == 403
    participant_page = cora.get(_page(study, "participant", participant=person.code)).text
    assert "Report an adverse event" not in participant_page
    event = {"term": "x", "onset": "2025-03-01", "severity": "mild", "related": "possible"}
    response = cora.post(_page(study, "adverse_event", participant=person.code), event)
    assert response.status_code == 403
    assert cora.post(_page(study, "esr", participant=person.code), {}).status_code == 403
    if (recorded := person.adverse_events.first()) is not None:
        follow_up = _page(
            study, "adverse_event_detail", participant=person.code, number=recorded.pk
        )
        assert "Save the follow-up" not in cora.get(follow_up).text
        assert cora.post(follow_up, {"outcome": "recovered"}).status_code == 403
    pharmacy = _client("phil").get(_page(study, "pharmacy"))
    assert pharmacy.status_code == 200 and "database of this study is locked" in pharmacy.text
    dispense = {"form": "dispense", "participant": person.code, "visit": 2, "on": "2025-03-01"}
    assert _client("phil").post(_page(study, "pharmacy"), dispense).status_code == 403


def test_the_statistician_reviews_blind_then_unblinds_and_reads_the_results(study) -> None:
    stan = _client("stan")
    assert "not locked yet" in stan.get(_page(study, "analysis")).text
    record = _locked(study)
    page = stan.get(_page(study, "analysis")).text
    assert "Download the blinded snapshot" in page and record.bundle_sha256 not in page
    blinded = stan.get(_page(study, "analysis_download", what="blinded-bundle.zip"))
    trial = load_bundle_archive(blinded.content)
    assert trial.blinded and set(trial.participants["sequence"]) == {"blinded"}
    for what in ("bundle.zip", "analysis.json"):
        assert stan.get(_page(study, "analysis_download", what=what)).status_code == 404
    assert stan.get(_page(study, "report")).status_code == 404
    wrong = stan.post(_page(study, "analysis"), {"password": "no", "reason": "SAP v1"})
    assert wrong.status_code == 422 and "does not match your password" in wrong.text
    done = stan.post(_page(study, "analysis"), {"password": PASSWORD, "reason": "SAP v1"})
    assert done.status_code == 302
    results = stan.get(_page(study, "analysis")).text
    assert record.bundle_sha256 in results  # unblinded, she may check the bytes she reads
    assert "pain: % improvement from baseline, ldn vs placebo" in results
    assert "<td>ldn - placebo</td>" in results
    report = stan.get(_page(study, "report"))
    assert report.status_code == 200 and "sandbox" in report["Content-Security-Policy"]
    bundle = stan.get(_page(study, "analysis_download", what="bundle.zip"))
    assert load_bundle_archive(bundle.content).participants["sequence"].nunique() == 2
    exports = AuditEntry.objects.filter(
        action="export", record=f"analysis.DatabaseLock:{record.pk}"
    )
    assert [entry.changes["export"][1] for entry in exports.order_by("id")] == [
        "blinded-bundle.zip",
        "bundle.zip",
    ]


@pytest.mark.parametrize(("name", "status"), [("cora", 403), ("mona", 403), ("olga", 404)])
def test_no_other_role_reaches_the_analysis(study: Study, name: str, status: int) -> None:
    _locked(study)
    client = _client(name)
    assert client.get(_page(study, "analysis")).status_code == status
    download = _page(study, "analysis_download", what="blinded-bundle.zip")
    assert client.get(download).status_code == status


def test_a_lock_with_nothing_to_analyse_is_unblinded_and_says_why(study: Study) -> None:
    """An empty diary still locks; the unblinding is recorded and the page says what failed."""
    empty = Study.objects.create(
        code="empty", title="x", protocol_text=study.protocol_text, actor="system:test"
    )
    for name in ("adam", "stan"):
        user = get_user_model().objects.get(username=name)
        Membership.objects.create(user=user, study=empty, role=CAST[name], actor="system:test")
    _locked(empty)
    response = _client("stan").post(
        _page(empty, "analysis"), {"password": PASSWORD, "reason": "x"}
    )
    assert response.status_code == 302
    page = _client("stan").get(_page(empty, "analysis")).text
    assert "The analyses could not run:" in page
    assert DatabaseLock.objects.get(study=empty).unblinded_by.username == "stan"


def test_the_statistician_exports_blinded_until_she_unblinds_the_locked_data(study) -> None:
    """Her export is the live data blinded, then the locked snapshot unblinded (issue 6)."""
    import io
    import zipfile

    import pandas as pd

    def people() -> pd.DataFrame:
        response = _client("stan").post(_page(study, "export"), {"format": "csv"})
        assert response.status_code == 200, response.content[:300]
        with zipfile.ZipFile(io.BytesIO(response.content)) as archive:
            return pd.read_csv(archive.open("participants.csv"), dtype=str)

    assert set(people()["sequence"]) == {"blinded"}
    _locked(study)
    assert set(people()["sequence"]) == {"blinded"}
    signed = _client("stan").post(
        _page(study, "analysis"), {"password": PASSWORD, "reason": "SAP"}
    )
    assert signed.status_code == 302
    unblinded = people()
    assert set(unblinded["sequence"]) == {"ldn-first", "placebo-first"}
    codes = set(Participant.objects.filter(study=study).values_list("code", flat=True))
    assert len(unblinded) == 6 and not set(unblinded["participant_id"]) & codes
    kinds = AuditEntry.objects.filter(action="export", actor__endswith=":stan")
    assert [e.changes["export"][1] for e in kinds.order_by("id")] == [
        "csv, de-identified, blinded",
        "csv, de-identified, blinded",
        "csv, de-identified, unblinded",
    ]


def test_an_nof1_study_of_one_patient_shows_her_answer_not_a_multi_site_layout() -> None:
    study = _imported_study("nof1", n=1, seed=5)[0]
    for name in ("adam", "stan"):
        user = get_user_model().objects.create_user(name, password=PASSWORD)
        Membership.objects.create(user=user, study=study, role=CAST[name], actor="system:test")
    _locked(study)
    stan = _client("stan")
    done = stan.post(_page(study, "analysis"), {"password": PASSWORD, "reason": "her trial ended"})
    assert done.status_code == 302
    page = stan.get(_page(study, "analysis")).text
    assert "Her answer" in page and "discuss with your doctor" in page
    assert "% improvement from baseline, ldn vs placebo" not in page
    report = stan.get(_page(study, "report")).text
    assert "Your LDN trial" in report and "Participant flow" not in report


def test_the_reports_flow_shows_the_screened_the_excluded_and_the_withdrawn_with_reasons(
    study: Study,
) -> None:
    """Screen failures and a withdrawal recorded on the site's pages reach the CONSORT flow."""
    from datetime import date

    from ldntrial.web.trial.enrolment import enrol
    from ldntrial.web.trial.pharmacy import generate_allocation
    from ldntrial.web.trial.screening import record_screening

    from .test_trial import ELIGIBLE

    site = study.sites.first()
    record_screening(site, {**ELIGIBLE, "medications": ["tramadol"]}, None, actor="system:test")
    declined = record_screening(site, ELIGIBLE, None, actor="system:test")
    generate_allocation(study, per_stratum=2, seed=1, actor="system:test")
    consented = record_screening(site, ELIGIBLE, date(2026, 11, 1), actor="system:test")
    enrol(consented, enrolled_on=date(2026, 11, 2), timezone="Europe/Madrid", actor="system:test")
    cora = _client("cora")
    url = _page(study, "not_enrolled", number=declined.number)
    assert cora.post(url, {"not_enrolled-reason": "other"}).status_code == 422  # no detail
    saved = cora.post(url, {"not_enrolled-reason": "declined"}, follow=True)
    assert f"Screening {declined.number} recorded as not enrolled" in saved.text
    assert "Enrol and allocate" not in saved.text
    person = Participant.objects.get(study=study, status="active")
    withdrawn = cora.post(
        _page(study, "withdraw", participant=person.code),
        {
            "withdraw-on": str(person.enrolled_on),
            "withdraw-reason": "lost_to_follow_up",
            "withdraw-after": "nothing",
        },
    )
    assert withdrawn.status_code == 302
    lock_page = _client("adam").get(_page(study, "lock")).text
    assert "1 visits not recorded whose window has passed" in lock_page  # her day-1 visit
    refused = _client("adam").post(
        _page(study, "lock"), {"password": PASSWORD, "statement": "data complete"}
    )
    assert refused.status_code == 422 and "Close them, or say why to lock now" in refused.text
    _locked(study, past_checklist="her day-1 visit was never held")
    stan = _client("stan")
    stan.post(_page(study, "analysis"), {"password": PASSWORD, "reason": "SAP v1"})
    report = stan.get(_page(study, "report")).content.decode()
    assert f"Assessed for eligibility: {study.screenings.count()}</b>" in report
    assert "Excluded: 2</b>not eligible (opioid): 1<br>she declined to take part: 1" in report
    assert "lost to follow-up: 1" in report
