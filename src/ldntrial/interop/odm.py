"""A TrialData as CDISC ODM 1.3.2: the study's metadata from its protocol, and its data.

One Snapshot file (standards.md §5.1, INT-O1, INT-O2): ``Study`` with
``MetaDataVersion`` (two study events, enrolment and study; a form per
table, the diary one instance per day with an item per diary item; an
``ItemDef`` per column with its data type and description; a ``CodeList``
for every column with a fixed set of values) and ``ClinicalData``
(``SubjectData`` per participant, nested StudyEventData, FormData,
ItemGroupData and ItemData, repeating forms keyed by ``FormRepeatKey``).
The file is valid against the ODM 1.3.2 XSD (tested with the schema that
odmlib ships). A TrialData carries no audit trail; the site passes its own
(:class:`AuditNote`) for an identified export by a role that may read the
trail, and it goes into ``ClinicalData/AuditRecords`` (one ``AuditRecord``
per entry: UserRef, LocationRef, DateTimeStamp, ReasonForChange, SourceID
naming the action and the record, in the XSD's order, INT-O4), with the
users and the study as a location in ``AdminData``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from xml.etree import ElementTree as ET

import pandas as pd

from ldntrial.data.tables import Column
from ldntrial.data.trialdata import TrialData
from ldntrial.interop.forms import diary_by_day, exact_number, form_columns
from ldntrial.version import __version__

__all__ = ["ODM_FILE", "ODM_NAMESPACE", "AuditNote", "odm_document", "write_odm"]

ODM_FILE = "odm.xml"
ODM_NAMESPACE = "http://www.cdisc.org/ns/odm/v1.3"
XML_LANG = "{http://www.w3.org/XML/1998/namespace}lang"
# table -> (form OID suffix, form name, repeating, event)
FORMS = {
    "participants": ("PARTICIPANT", "Participant", "No", "ENROLMENT"),
    "diary": ("DIARY", "Daily diary", "Yes", "STUDY"),
    "visits": ("VISIT", "Visit measurement", "Yes", "STUDY"),
    "labs": ("LAB", "Lab result", "Yes", "STUDY"),
    "adverse_events": ("AE", "Adverse event", "Yes", "STUDY"),
    "blinding_guesses": ("GUESS", "Blinding guess", "Yes", "STUDY"),
}
EVENTS = {"ENROLMENT": "Enrolment", "STUDY": "Study"}
_DATA_TYPES = {
    "text": "text",
    "category": "text",
    "int": "integer",
    "float": "float",
    "bool": "boolean",
    "date": "date",
    "instant": "datetime",
}


@dataclass(frozen=True)
class AuditNote:
    """One audit-trail entry as ODM carries it."""

    actor: str  # user:<id>:<name>, participant:<code> or system:<what>
    at: datetime
    action: str
    record: str
    reason: str = ""


def write_odm(
    trial: TrialData,
    folder: Path,
    *,
    created: datetime | None = None,
    audit: Sequence[AuditNote] = (),
) -> Path:
    path = folder / ODM_FILE
    tree = ET.ElementTree(odm_document(trial, created=created, audit=audit))
    ET.indent(tree)
    tree.write(path, encoding="utf-8", xml_declaration=True)
    return path


def odm_document(
    trial: TrialData, *, created: datetime | None = None, audit: Sequence[AuditNote] = ()
) -> ET.Element:
    """The ODM root element for ``trial`` (with ``audit`` as its AuditRecords)."""
    ET.register_namespace("", ODM_NAMESPACE)
    protocol = trial.protocol
    stamp = (created or datetime.now(UTC)).isoformat(timespec="seconds")
    root = _el(
        None,
        "ODM",
        ODMVersion="1.3.2",
        FileType="Snapshot",
        Granularity="All",
        FileOID=f"ldntrial.{protocol.id}.{stamp}",
        CreationDateTime=stamp,
        SourceSystem="ldntrial",
        SourceSystemVersion=__version__,
    )
    study_oid = f"ST.{protocol.id}"
    study = _el(root, "Study", OID=study_oid)
    variables = _el(study, "GlobalVariables")
    _el(variables, "StudyName").text = protocol.id
    _el(variables, "StudyDescription").text = protocol.title
    _el(variables, "ProtocolName").text = protocol.id
    _metadata(trial, _el(study, "MetaDataVersion", OID="MDV.1", Name=f"{protocol.id} data"))
    users = {actor: f"USR.{n}" for n, actor in enumerate(dict.fromkeys(a.actor for a in audit))}
    if audit:
        _admin_data(root, users, study_oid, stamp[:10])
    clinical = _el(root, "ClinicalData", StudyOID=study_oid, MetaDataVersionOID="MDV.1")
    _clinical_data(trial, clinical)
    if audit:
        _audit_records(clinical, audit, users)
    return root


def _admin_data(root: ET.Element, users: dict[str, str], study_oid: str, day: str) -> None:
    admin = _el(root, "AdminData", StudyOID=study_oid)
    for actor, oid in users.items():
        _el(_el(admin, "User", OID=oid), "LoginName").text = actor
    location = _el(admin, "Location", OID="LOC.STUDY", Name="the study's site")
    _el(
        location,
        "MetaDataVersionRef",
        StudyOID=study_oid,
        MetaDataVersionOID="MDV.1",
        EffectiveDate=day,
    )


def _audit_records(
    clinical: ET.Element, audit: Sequence[AuditNote], users: dict[str, str]
) -> None:
    records = _el(clinical, "AuditRecords")
    for n, note in enumerate(audit, start=1):
        record = _el(records, "AuditRecord", ID=f"AR.{n}", EditPoint="DBAudit")
        _el(record, "UserRef", UserOID=users[note.actor])
        _el(record, "LocationRef", LocationOID="LOC.STUDY")
        _el(record, "DateTimeStamp").text = note.at.astimezone(UTC).isoformat()
        if note.reason:
            _el(record, "ReasonForChange").text = note.reason
        _el(record, "SourceID").text = f"{note.action} {note.record}"


# -- metadata ------------------------------------------------------------------


def _item_oid(form: str, name: str) -> str:
    return f"IT.{form}.{name.upper()}"


def _metadata(trial: TrialData, version: ET.Element) -> None:
    protocol = _el(version, "Protocol")
    for order, event in enumerate(EVENTS, start=1):
        _el(
            protocol,
            "StudyEventRef",
            StudyEventOID=f"SE.{event}",
            OrderNumber=str(order),
            Mandatory="Yes",
        )
    for event, name in EVENTS.items():
        definition = _el(
            version,
            "StudyEventDef",
            OID=f"SE.{event}",
            Name=name,
            Repeating="No",
            Type="Scheduled",
        )
        for form, _name, _repeating, form_event in FORMS.values():
            if form_event == event:
                _el(definition, "FormRef", FormOID=f"F.{form}", Mandatory="No")
    for form, name, repeating, _event in FORMS.values():
        definition = _el(version, "FormDef", OID=f"F.{form}", Name=name, Repeating=repeating)
        _el(definition, "ItemGroupRef", ItemGroupOID=f"IG.{form}", Mandatory="Yes")
    items = trial.protocol.diary.items
    for table, (form, name, _repeating, _event) in FORMS.items():
        group = _el(version, "ItemGroupDef", OID=f"IG.{form}", Name=name, Repeating="No")
        for column in form_columns(table):
            _el(group, "ItemRef", ItemOID=_item_oid(form, column.name), Mandatory="No")
        if table == "diary":
            for item in items:
                _el(group, "ItemRef", ItemOID=_item_oid(form, f"item_{item.id}"), Mandatory="No")
    code_lists = []
    for table, (form, *_rest) in FORMS.items():
        for column in form_columns(table):
            oid = _item_oid(form, column.name)
            definition = _el(
                version, "ItemDef", OID=oid, Name=column.name, DataType=_DATA_TYPES[column.kind]
            )
            _translated(_el(definition, "Description"), _description(column))
            if column.allowed:
                _el(definition, "CodeListRef", CodeListOID=f"CL.{oid}")
                code_lists.append((f"CL.{oid}", column))
        if table == "diary":
            for item in items:
                definition = _el(
                    version,
                    "ItemDef",
                    OID=_item_oid(form, f"item_{item.id}"),
                    Name=item.id,
                    DataType="float",
                )
                _translated(
                    _el(definition, "Description"),
                    f"{item.label}: {item.min} = {item.low_anchor}, "
                    f"{item.max} = {item.high_anchor}",
                )
                checks = _el(definition, "RangeCheck", Comparator="GE", SoftHard="Hard")
                _el(checks, "CheckValue").text = str(item.min)
                checks = _el(definition, "RangeCheck", Comparator="LE", SoftHard="Hard")
                _el(checks, "CheckValue").text = str(item.max)
    for oid, column in code_lists:
        code_list = _el(version, "CodeList", OID=oid, Name=column.name, DataType="text")
        for value in column.allowed or ():
            coded = _el(code_list, "CodeListItem", CodedValue=value)
            _translated(_el(coded, "Decode"), value)


def _description(column: Column) -> str:
    return column.description + (f" ({column.unit})" if column.unit else "")


# -- clinical data ---------------------------------------------------------------


def _clinical_data(trial: TrialData, clinical: ET.Element) -> None:
    forms = {table: _form_rows(trial, table) for table in FORMS}
    for person in trial.participants["participant_id"].astype("str"):
        subject = _el(clinical, "SubjectData", SubjectKey=person)
        for event in EVENTS:
            event_data = None
            for table, (form, _name, repeating, form_event) in FORMS.items():
                if form_event != event:
                    continue
                for key, values in enumerate(forms[table].get(person, []), start=1):
                    if event_data is None:
                        event_data = _el(subject, "StudyEventData", StudyEventOID=f"SE.{event}")
                    attributes = {"FormRepeatKey": str(key)} if repeating == "Yes" else {}
                    form_data = _el(event_data, "FormData", FormOID=f"F.{form}", **attributes)
                    group = _el(form_data, "ItemGroupData", ItemGroupOID=f"IG.{form}")
                    for name, value in values:
                        _el(group, "ItemData", ItemOID=_item_oid(form, name), Value=value)


def _form_rows(trial: TrialData, table: str) -> dict[str, list[list[tuple[str, str]]]]:
    """Per participant, each instance of the table's form as (column, value) pairs."""
    frame = getattr(trial, table)
    if not len(frame):
        return {}
    columns = form_columns(table)
    if table == "diary":
        frame = diary_by_day(frame)
    out: dict[str, list[list[tuple[str, str]]]] = {}
    items = [item.id for item in trial.protocol.diary.items] if table == "diary" else []
    for row in frame.to_dict("records"):
        values = [(c.name, _text(row[c.name], c)) for c in columns if _present(row[c.name])]
        values += [(f"item_{i}", exact_number(row[i])) for i in items if _present(row.get(i))]
        out.setdefault(str(row["participant_id"]), []).append(values)
    return out


def _present(value: Any) -> bool:  # a cell of a table's records: any type
    return value is not None and not pd.isna(value)


def _text(value: Any, column: Column) -> str:
    if column.kind == "bool":
        return "true" if value else "false"
    if column.kind == "date":
        return f"{value:%Y-%m-%d}"
    if column.kind == "instant":
        return pd.Timestamp(value).tz_convert("UTC").strftime("%Y-%m-%dT%H:%M:%S+00:00")
    if column.kind in ("int", "float"):
        return exact_number(value)
    return str(value)


def _el(parent: ET.Element | None, tag: str, **attributes: str) -> ET.Element:
    name = f"{{{ODM_NAMESPACE}}}{tag}"
    if parent is None:
        return ET.Element(name, attributes)
    return ET.SubElement(parent, name, attributes)


def _translated(parent: ET.Element, text: str) -> None:
    translated = _el(parent, "TranslatedText", **{XML_LANG: "en"})
    translated.text = text
