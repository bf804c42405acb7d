"""The staff export page: permitted roles only, de-identified, blinded, audited (issue 6)."""

from __future__ import annotations

import io
import zipfile

import pandas as pd
import pytest
from django.urls import reverse

from ldntrial.interop.export import EXPORT_FORMATS
from ldntrial.web.audit.models import AuditEntry
from ldntrial.web.staff.forms import ExportForm
from ldntrial.web.studies.models import Study
from ldntrial.web.trial.models import Participant

from .test_staff_pages import _client, study  # noqa: F401 (the fixture)

pytestmark = pytest.mark.django_db


def _export(name: str, study: Study, **fields) -> tuple[int, dict[str, bytes]]:  # noqa: F811
    response = _client(name).post(reverse("staff:export", args=[study.code]), fields)
    if response.get("Content-Type") != "application/zip":
        return response.status_code, {}
    with zipfile.ZipFile(io.BytesIO(response.content)) as archive:
        return response.status_code, {n: archive.read(n) for n in archive.namelist()}


def _table(files: dict[str, bytes], name: str) -> pd.DataFrame:
    return pd.read_csv(io.BytesIO(files[f"{name}.csv"]), dtype="str", keep_default_na=False)


def test_an_investigator_gets_a_blinded_deidentified_export_and_it_is_audited(study) -> None:  # noqa: F811
    status, files = _export("ivan", study, format="csv")
    assert status == 200
    assert {"participants.csv", "diary.csv", "data_dictionary.csv", "export.json"} <= set(files)
    people = _table(files, "participants")
    codes = set(Participant.objects.filter(study=study).values_list("code", flat=True))
    assert len(people) == len(codes) == 2
    assert not set(people["participant_id"]) & codes
    assert set(people["sequence"]) == {"blinded"}
    assert set(people["site"]) <= {"site 1", "site 2"}
    text = b"".join(files.values())
    assert all(code.encode() not in text for code in codes)
    assert set(_table(files, "diary")["condition"]) <= {"none", "blinded"}
    entry = AuditEntry.objects.filter(action="export").latest("id")
    assert entry.actor.endswith(":ivan") and entry.changes["export"][1] == (
        "csv, de-identified, blinded"
    )


def test_the_study_admins_identified_odm_carries_the_audit_trail(study) -> None:  # noqa: F811
    from xml.etree import ElementTree as ET

    _, files = _export("adam", study, format="odm", identified="on")
    root = ET.fromstring(files["odm.xml"])
    ns = {"odm": "http://www.cdisc.org/ns/odm/v1.3"}
    records = root.findall("odm:ClinicalData/odm:AuditRecords/odm:AuditRecord", ns)
    assert len(records) > 10  # the study's creation, sites, members, enrolments...
    sources = [r.find("odm:SourceID", ns).text for r in records]
    assert f"create studies.Study:{study.pk}" in sources
    _, monitor = _export("mona", study, format="odm", identified="on")  # may not identify
    assert b"AuditRecords" not in monitor["odm.xml"]
    _, ivan = _export("ivan", study, format="odm", identified="on")  # does not read the trail
    assert b"AuditRecords" not in ivan["odm.xml"]


def test_only_the_investigator_may_have_real_codes_and_dates(study) -> None:  # noqa: F811
    codes = set(Participant.objects.filter(study=study).values_list("code", flat=True))
    _, identified = _export("ivan", study, format="csv", identified="on")
    assert set(_table(identified, "participants")["participant_id"]) == codes
    _, monitor = _export("mona", study, format="csv", identified="on")  # not offered: ignored
    assert not set(_table(monitor, "participants")["participant_id"]) & codes
    assert "identified" not in ExportForm(may_identify=False).fields


@pytest.mark.parametrize("name", ["cora", "rita", "phil", "olga"])
def test_roles_without_the_export_permission_get_nothing(study, name: str) -> None:  # noqa: F811
    status, files = _export(name, study, format="csv")
    assert status in (403, 404) and not files


@pytest.mark.parametrize("format", ["stata", "spss", "sas", "parquet"])
def test_every_format_downloads_with_its_dictionary(study, format: str) -> None:  # noqa: F811
    status, files = _export("stan", study, format=format)
    assert status == 200 and "data_dictionary.csv" in files and "export.json" in files
    assert len([n for n in files if n.startswith("diary.")]) == 1


def test_a_bad_format_is_named_and_nothing_is_sent(study) -> None:  # noqa: F811
    response = _client("ivan").post(reverse("staff:export", args=[study.code]), {"format": "xls"})
    assert response.status_code == 422 and "Select a valid choice" in response.text
    assert not AuditEntry.objects.filter(action="export").exists()


def test_the_form_offers_every_export_format() -> None:
    choices = [value for value, _label in ExportForm(may_identify=True).fields["format"].choices]
    assert choices == list(EXPORT_FORMATS)
