"""The CDISC ODM 1.3.2 export: valid against the ODM XSD, metadata from the protocol, the data."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from xml.etree import ElementTree as ET

import pytest
from odmlib.odm_parser import ODMSchemaValidator
from xmlschema import XMLSchemaValidationError

from ldntrial.errors import ExportError
from ldntrial.interop.export import export_trial
from ldntrial.interop.odm import ODM_FILE, ODM_NAMESPACE, AuditNote, odm_document
from ldntrial.protocol.loader import builtin_protocol_ids
from ldntrial.simulate import simulate_trial

NS = {"odm": ODM_NAMESPACE}


@pytest.fixture(scope="module")
def validator() -> ODMSchemaValidator:
    return ODMSchemaValidator(standard="odm", version="1.3.2")


@pytest.mark.parametrize("protocol", builtin_protocol_ids())
def test_every_builtin_protocol_exports_a_file_valid_against_the_odm_xsd(
    protocol: str, tmp_path: Path, validator: ODMSchemaValidator
) -> None:
    trial = simulate_trial(protocol, n=3, seed=8)
    out = export_trial(trial, tmp_path / "o", format="odm", study="s", identified=True).path
    validator.validate_file(str(out / ODM_FILE))  # raises on any violation
    root = ET.parse(out / ODM_FILE).getroot()
    subjects = root.findall("odm:ClinicalData/odm:SubjectData", NS)
    assert [s.get("SubjectKey") for s in subjects] == list(trial.participants["participant_id"])
    days = root.findall(".//odm:FormData[@FormOID='F.DIARY']", NS)
    assert len(days) == trial.diary.groupby(["participant_id", "date"], observed=True).ngroups
    labs = root.findall(".//odm:FormData[@FormOID='F.LAB']", NS)
    assert len(labs) == len(trial.labs)


def test_an_xsd_violation_is_caught(validator: ODMSchemaValidator, tmp_path: Path) -> None:
    root = odm_document(simulate_trial("nof1", n=1, seed=1))
    root.set("FileType", "Bogus")
    path = tmp_path / "bad.xml"
    ET.ElementTree(root).write(path, encoding="utf-8", xml_declaration=True)
    with pytest.raises(XMLSchemaValidationError, match=r"Bogus"):
        validator.validate_file(str(path))


def test_metadata_comes_from_the_protocol_and_values_from_the_data() -> None:
    trial = simulate_trial("crossover-2013", n=2, seed=3)
    root = odm_document(trial, created=datetime(2026, 12, 2, 12, 0, tzinfo=UTC))
    assert root.get("ODMVersion") == "1.3.2" and root.get("FileType") == "Snapshot"
    assert root.get("CreationDateTime") == "2026-12-02T12:00:00+00:00"
    version = root.find("odm:Study/odm:MetaDataVersion", NS)
    pain = version.find("odm:ItemDef[@OID='IT.DIARY.ITEM_PAIN']", NS)
    assert pain.get("DataType") == "float"
    checks = [c.find("odm:CheckValue", NS).text for c in pain.findall("odm:RangeCheck", NS)]
    assert checks == ["0", "100"]
    sex = version.find("odm:CodeList[@OID='CL.IT.PARTICIPANT.SEX']", NS)
    assert [i.get("CodedValue") for i in sex.findall("odm:CodeListItem", NS)] == ["female", "male"]
    first = trial.diary.iloc[0]
    subject = root.find(
        f"odm:ClinicalData/odm:SubjectData[@SubjectKey='{first['participant_id']}']", NS
    )
    day = subject.find(".//odm:FormData[@FormOID='F.DIARY'][@FormRepeatKey='1']", NS)
    values = {i.get("ItemOID"): i.get("Value") for i in day.iter(f"{{{ODM_NAMESPACE}}}ItemData")}
    assert values["IT.DIARY.DATE"] == f"{first['date']:%Y-%m-%d}"
    assert float(values[f"IT.DIARY.ITEM_{str(first['item']).upper()}"]) == first["value"]


def test_an_identified_export_carries_the_audit_trail_in_xsd_order(
    tmp_path: Path, validator: ODMSchemaValidator
) -> None:
    trial = simulate_trial("nof1", n=1, seed=2)
    first, second = datetime(2026, 3, 2, 9, tzinfo=UTC), datetime(2026, 3, 3, 20, tzinfo=UTC)
    notes = [
        AuditNote("user:3:cora", first, "create", "trial.Participant:1"),
        AuditNote("participant:a-001", second, "update", "diary.DiaryEntry:4", reason="a slip"),
    ]
    out = export_trial(
        trial, tmp_path / "o", format="odm", study="s", identified=True, audit=notes
    )
    validator.validate_file(str(out.path / ODM_FILE))
    root = ET.parse(out.path / ODM_FILE).getroot()
    users = {
        u.get("OID"): u.find("odm:LoginName", NS).text for u in root.iterfind(".//odm:User", NS)
    }
    records = root.findall("odm:ClinicalData/odm:AuditRecords/odm:AuditRecord", NS)
    assert [users[r.find("odm:UserRef", NS).get("UserOID")] for r in records] == [
        "user:3:cora", "participant:a-001",
    ]  # fmt: skip
    children = [child.tag.split("}")[1] for child in records[1]]
    assert children == ["UserRef", "LocationRef", "DateTimeStamp", "ReasonForChange", "SourceID"]
    assert records[1].find("odm:SourceID", NS).text == "update diary.DiaryEntry:4"
    with pytest.raises(ExportError, match="only an identified ODM export"):
        export_trial(trial, tmp_path / "x", format="odm", study="s", key=b"k" * 32, audit=notes)
