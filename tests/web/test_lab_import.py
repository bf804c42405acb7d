"""Importing a cytokine file at the site: preview, per-row problems, all or nothing (GCP-8)."""

from __future__ import annotations

from datetime import date

import pytest
from django.contrib.auth import get_user_model
from django.core.files.uploadedfile import SimpleUploadedFile

from ldntrial.web.audit.models import AuditEntry
from ldntrial.web.studies.models import Membership, Site, Study
from ldntrial.web.studies.roles import Role
from ldntrial.web.trial.enrolment import enrol
from ldntrial.web.trial.labs import record_lab_result
from ldntrial.web.trial.models import LabResult, Participant
from ldntrial.web.trial.pharmacy import generate_allocation
from ldntrial.web.trial.screening import record_screening

from .test_snapshot import _imported_study
from .test_staff_pages import PASSWORD, _client, _page
from .test_trial import ELIGIBLE

pytestmark = pytest.mark.django_db

PLATE = """participant_id,sampled_on,IL-6 (pg/mL),IL-10 (pg/mL),TNF-a (pg/mL)
P00001,2025-09-01,2.41,0.83,
P00002,2025-09-01,1.2,,1.5
"""


@pytest.fixture
def study() -> Study:
    """Three women of a simulated cytokine study at site-1, and one woman at site b."""
    study = _imported_study("cytokine-2017", n=3, seed=5)[0]
    other = Site.objects.create(study=study, code="b", name="Site B", actor="system:test")
    generate_allocation(study, per_stratum=2, seed=1, actor="system:test")
    screening = record_screening(
        other, {**ELIGIBLE, "esr_mm_h": 12.0}, date(2025, 6, 1), actor="system:test"
    )
    enrol(
        screening,
        enrolled_on=date(2025, 6, 2),
        timezone="Europe/Madrid",
        code="B-001",
        actor="system:test",
    )
    for name, role in (("cora", Role.COORDINATOR), ("mona", Role.MONITOR)):
        user = get_user_model().objects.create_user(name, password=PASSWORD)
        site = Site.objects.get(study=study, code="site-1")
        Membership.objects.create(
            user=user, study=study, site=site, role=role, actor="system:test"
        )
    return study


def _upload(client, study: Study, text: str, name: str = "plate.csv"):  # type: ignore[no-untyped-def]
    upload = SimpleUploadedFile(name, text.encode("utf-8"), content_type="text/csv")
    return client.post(
        _page(study, "lab_import"), {"step": "preview", "panel": "cytokines", "file": upload}
    )


def test_a_plate_is_previewed_then_imported_whole_and_the_transfer_recorded(study) -> None:
    before = LabResult.objects.count()
    cora = _client("cora")
    preview = _upload(cora, study, PLATE)
    assert preview.status_code == 200
    assert "wide layout; 4 results for 2 participants; 2 empty cells" in preview.text
    assert "IL-10 (1), IL-6 (2), TNF-a (1)" in preview.text
    assert LabResult.objects.count() == before  # nothing stored by a preview
    sha256 = preview.context["preview"].sha256
    done = cora.post(_page(study, "lab_import"), {"step": "import", "sha256": sha256})
    assert (
        done.status_code == 200 and "Imported 4 cytokines results for 2 participants" in done.text
    )
    new = LabResult.objects.filter(sampled_on=date(2025, 9, 1)).order_by(
        "participant__code", "analyte"
    )
    assert [(r.participant.code, r.analyte, r.value) for r in new] == [
        ("P00001", "IL-10", 0.83),
        ("P00001", "IL-6", 2.41),
        ("P00002", "IL-6", 1.2),
        ("P00002", "TNF-a", 1.5),
    ]
    transfer = AuditEntry.objects.get(action="import")
    assert transfer.changes["results"] == [None, "4"] and transfer.changes["sha256"] == [
        None,
        sha256,
    ]
    assert transfer.changes["lab_file"] == [None, "plate.csv"]
    again = cora.post(_page(study, "lab_import"), {"step": "import", "sha256": sha256})
    assert again.status_code == 422 and "no longer here" in again.text  # imported once only


def test_every_problem_is_shown_and_nothing_is_stored(study: Study) -> None:
    stored = LabResult.objects.filter(participant__code="P00003", panel="cytokines").first()
    text = (
        "participant_id,sampled_on,analyte,value,unit\n"
        "P00001,2025-09-01,IL-6,2.4,pg/mL\n"
        "B-001,2025-09-01,IL-6,2.4,pg/mL\n"  # another site's: unknown here
        "P09999,2025-09-01,IL-6,2.4,pg/mL\n"
        f"P00003,{stored.sampled_on:%Y-%m-%d},{stored.analyte},9.9,pg/mL\n"
        "P00001,2031-01-01,IL-6,2.4,pg/mL\n"
        "P00001,2025-09-02,IL-6,OOR <,pg/mL\n"
    )
    before = LabResult.objects.count()
    response = _upload(_client("cora"), study, text)
    assert response.status_code == 422
    problems = [str(p) for p in response.context["preview"].problems]
    assert problems == [
        "line 3: participant_id: no participant B-001 at your sites",
        "line 4: participant_id: no participant P09999 at your sites",
        f"line 5: analyte: {stored.analyte} of P00003 on {stored.sampled_on} is already stored",
        "line 6: sampled_on: in the future (her local date)",
        "line 7: value: 'OOR <' is not a number; resolve out-of-range readings at the laboratory",
    ]
    assert "nothing will be imported" in response.text and "Import all" not in response.text
    assert LabResult.objects.count() == before


def test_a_row_recorded_meanwhile_stops_the_whole_import(study: Study) -> None:
    cora = _client("cora")
    sha256 = _upload(cora, study, PLATE).context["preview"].sha256
    person = Participant.objects.get(code="P00002")
    record_lab_result(
        person, sampled_on=date(2025, 9, 1), panel="cytokines", analyte="TNF-a",
        value=1.5, unit="pg/mL", actor="user:1:elsewhere",
    )  # fmt: skip
    before = LabResult.objects.count()
    response = cora.post(_page(study, "lab_import"), {"step": "import", "sha256": sha256})
    assert response.status_code == 422 and "already stored" in response.text
    assert LabResult.objects.count() == before and not AuditEntry.objects.filter(action="import")


@pytest.mark.parametrize(
    ("content", "message"),
    [(b"\xff\xfe\x00b", "is not UTF-8 text"), (b"", "The submitted file is empty.")],
)
def test_a_file_that_is_no_text_is_a_field_error(study, content: bytes, message: str) -> None:
    upload = SimpleUploadedFile("plate.csv", content)
    response = _client("cora").post(
        _page(study, "lab_import"), {"step": "preview", "panel": "cytokines", "file": upload}
    )
    assert response.status_code == 422 and message in response.text


def test_a_read_only_role_cannot_import(study: Study) -> None:
    assert _client("mona").get(_page(study, "lab_import")).status_code == 403
