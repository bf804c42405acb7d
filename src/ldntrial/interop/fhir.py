"""A TrialData as one FHIR R4 Bundle, every resource validated (fhir.resources, R4B models).

What the Bundle (type ``collection``) holds (standards.md §5.3):

- a ``ResearchStudy`` for the protocol, a ``Patient`` and a
  ``ResearchSubject`` per participant, with the pseudonymous ids only (no
  name, no birth date);
- a ``Questionnaire`` for the diary, built from the protocol's items
  (``linkId`` = item id), and a ``QuestionnaireResponse`` per participant and
  day with an answer per item rated (INT-F1, INT-F2);
- an ``Observation`` per lab value and per visit measurement, with LOINC
  where the terminology table (``reference/loinc.csv``, editable data, INT-L1)
  has a code, and a UCUM ``valueQuantity`` (INT-F3);
- an ``AdverseEvent`` per adverse event, with HL7 seriousness and severity.

fhir.resources checks structure but not code bindings (INT-F5), so this
module checks the codes it writes itself: statuses against the R4 value
sets and every unit with a UCUM parser (ucumvert, offline); a unit that is
not UCUM is an :class:`ExportError` naming it.
"""

from __future__ import annotations

import csv
import json
import uuid
from collections.abc import Iterable
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

import pandas as pd
from fhir.resources.R4B.bundle import Bundle
from ucumvert import get_ucum_parser

from ldntrial.data.trialdata import TrialData
from ldntrial.errors import ExportError

__all__ = ["FHIR_FILE", "fhir_bundle", "loinc_codes", "write_fhir"]

FHIR_FILE = "fhir_bundle.json"
UCUM = "http://unitsofmeasure.org"
LOINC = "http://loinc.org"
LOCAL = "urn:ldntrial:code"  # the protocol's own ids (measures, analytes without LOINC)
SERIOUSNESS = "http://terminology.hl7.org/CodeSystem/adverse-event-seriousness"
SEVERITY = "http://terminology.hl7.org/CodeSystem/adverse-event-severity"
# R4 value sets of the statuses written here (INT-F5: not checked by fhir.resources).
STATUSES = {
    "QuestionnaireResponse": {
        "in-progress",
        "completed",
        "amended",
        "entered-in-error",
        "stopped",
    },
    "Observation": {
        "registered",
        "preliminary",
        "final",
        "amended",
        "corrected",
        "cancelled",
        "entered-in-error",
        "unknown",
    },
    "Questionnaire": {"draft", "active", "retired", "unknown"},
    "ResearchStudy": {
        "active",
        "administratively-completed",
        "approved",
        "closed-to-accrual",
        "closed-to-accrual-and-intervention",
        "completed",
        "disapproved",
        "in-review",
        "temporarily-closed-to-accrual",
        "temporarily-closed-to-accrual-and-intervention",
        "withdrawn",
    },
    "ResearchSubject": {
        "candidate",
        "eligible",
        "follow-up",
        "ineligible",
        "not-registered",
        "off-study",
        "on-study",
        "on-study-intervention",
        "on-study-observation",
        "pending-on-study",
        "potential-candidate",
        "screening",
        "withdrawn",
    },
}
_SUBJECT_STATUS = {
    "enrolled": "on-study",
    "active": "on-study",
    "completed": "off-study",
    "withdrawn": "withdrawn",
}


def write_fhir(trial: TrialData, folder: Path) -> Path:
    path = folder / FHIR_FILE
    path.write_text(json.dumps(fhir_bundle(trial), indent=1) + "\n", encoding="utf-8")
    return path


def fhir_bundle(trial: TrialData) -> dict[str, Any]:
    """The Bundle as JSON-ready data, validated as a whole by the R4B models."""
    protocol = trial.protocol
    questionnaire_url = f"urn:ldntrial:questionnaire:{protocol.id}:diary"
    version = str(protocol.format)
    resources_: list[dict[str, Any]] = [
        {
            "resourceType": "ResearchStudy",
            "id": _id(protocol.id),
            "status": "completed"
            if (trial.participants["status"] != "active").all()
            else "active",
            "title": protocol.title,
        },
        _questionnaire(trial, questionnaire_url, version),
    ]
    for person in trial.participants.itertuples():
        pid = _id(str(person.participant_id))
        resources_.append({"resourceType": "Patient", "id": pid, "gender": person.sex})
        resources_.append(
            {
                "resourceType": "ResearchSubject",
                "id": f"{pid}-subject",
                "status": _SUBJECT_STATUS[str(person.status)],
                "period": {"start": f"{person.enrolled_on:%Y-%m-%d}"},
                "study": _ref("ResearchStudy", _id(protocol.id)),
                "individual": _ref("Patient", pid),
            }
        )
    resources_ += _responses(trial, f"{questionnaire_url}|{version}")
    resources_ += _lab_observations(trial.labs)
    resources_ += _visit_observations(trial.visits)
    resources_ += _adverse_events(trial.adverse_events)
    for resource in resources_:
        _check_codes(resource)
    bundle = {
        "resourceType": "Bundle",
        "type": "collection",
        "entry": [{"fullUrl": f"urn:uuid:{_uuid(r)}", "resource": r} for r in resources_],
    }
    Bundle.model_validate(bundle)
    return bundle


def _questionnaire(trial: TrialData, url: str, version: str) -> dict[str, Any]:
    protocol = trial.protocol
    return {
        "resourceType": "Questionnaire",
        "id": _id(f"{protocol.id}-diary"),
        "url": url,
        "version": version,
        "status": "active",
        "title": f"Daily diary of {protocol.title}",
        "copyright": f"Items defined by the study protocol {protocol.id}; no licensed "
        "instrument is reproduced.",
        "item": [
            {
                "linkId": item.id,
                "text": f"{item.label} ({item.min} = {item.low_anchor}, "
                f"{item.max} = {item.high_anchor})",
                "type": "decimal",
                "required": item.required,
            }
            for item in protocol.diary.items
        ],
    }


def _responses(trial: TrialData, questionnaire: str) -> list[dict[str, Any]]:
    diary = trial.diary
    if not len(diary):
        return []
    order = {item.id: n for n, item in enumerate(trial.protocol.diary.items)}
    out = []
    frame = diary.assign(
        pid=diary["participant_id"].astype("str"), key=diary["item"].astype("str")
    )
    for (pid, day), rows in frame.groupby(["pid", "date"], sort=True):
        rows = rows.sort_values("key", key=lambda keys: keys.map(order))
        out.append(
            {
                "resourceType": "QuestionnaireResponse",
                "id": _id(f"{pid}-{day:%Y%m%d}"),
                "questionnaire": questionnaire,
                "status": "completed",
                "authored": f"{day:%Y-%m-%d}",
                "subject": _ref("Patient", _id(str(pid))),
                "item": [
                    {"linkId": key, "answer": [{"valueDecimal": float(value)}]}
                    for key, value in zip(rows["key"], rows["value"], strict=True)
                ],
            }
        )
    return out


def _lab_observations(labs: pd.DataFrame) -> list[dict[str, Any]]:
    codes = loinc_codes()
    out = []
    rows: Iterable[Any] = labs.itertuples()  # a table's cells are of any type to the checker
    for n, row in enumerate(rows):
        known = codes.get(str(row.analyte))
        coding = (
            {"system": LOINC, "code": known["loinc"], "display": known["display"]}
            if known
            else {"system": LOCAL, "code": f"{row.panel}:{row.analyte}"}
        )
        out.append(
            _observation(
                f"lab-{n}",
                row,
                coding,
                str(row.analyte),
                effective=row.sampled_at.isoformat(),
            )
        )
    return out


def _visit_observations(visits: pd.DataFrame) -> list[dict[str, Any]]:
    out = []
    for n, row in enumerate(visits.itertuples()):
        coding = {"system": LOCAL, "code": f"visit:{row.measure}"}
        out.append(
            _observation(
                f"visit-{n}", row, coding, str(row.measure), effective=f"{row.date:%Y-%m-%d}"
            )
        )
    return out


def _observation(
    key: str, row: Any, coding: dict[str, str], text: str, *, effective: str
) -> dict[str, Any]:
    unit = str(row.unit)
    _check_ucum(unit)
    return {
        "resourceType": "Observation",
        "id": _id(f"{row.participant_id}-{key}"),
        "status": "final",
        "code": {"coding": [coding], "text": text},
        "subject": _ref("Patient", _id(str(row.participant_id))),
        "effectiveDateTime": effective,
        "valueQuantity": {"value": float(row.value), "unit": unit, "system": UCUM, "code": unit},
    }


def _adverse_events(events: pd.DataFrame) -> list[dict[str, Any]]:
    out = []
    for n, row in enumerate(events.itertuples()):
        serious = "serious" if row.serious else "non-serious"
        out.append(
            {
                "resourceType": "AdverseEvent",
                "id": _id(f"{row.participant_id}-ae-{n}"),
                "actuality": "actual",
                "event": {"text": str(row.term)},
                "subject": _ref("Patient", _id(str(row.participant_id))),
                "date": f"{row.onset:%Y-%m-%d}",
                "seriousness": {"coding": [{"system": SERIOUSNESS, "code": serious}]},
                "severity": {"coding": [{"system": SEVERITY, "code": str(row.severity)}]},
            }
        )
    return out


@cache
def loinc_codes() -> dict[str, dict[str, str]]:
    """The terminology table: analyte name -> its LOINC code, display, UCUM unit, source."""
    text = resources.files("ldntrial.interop").joinpath("reference/loinc.csv").read_text("utf-8")
    return {row["analyte"]: row for row in csv.DictReader(text.splitlines())}


def _check_codes(resource: dict[str, Any]) -> None:
    allowed = STATUSES.get(resource["resourceType"])
    if allowed is not None and resource["status"] not in allowed:
        raise ExportError(
            f"FHIR {resource['resourceType']}.status: {resource['status']!r} is not in the R4 "
            "value set"
        )


@cache
def _check_ucum(unit: str) -> None:
    try:
        get_ucum_parser().parse(unit)
    except Exception:  # lark's errors for text that is not UCUM
        raise ExportError(f"unit: {unit!r} is not a UCUM code (e.g. mm/h, pg/mL, kPa)") from None


def _id(text: str) -> str:
    """A FHIR id (letters, digits, '-' and '.', up to 64) for one of ours."""
    cleaned = "".join(c if c.isalnum() or c in "-." else "-" for c in str(text))
    return cleaned[:64]


def _uuid(resource: dict[str, Any]) -> uuid.UUID:
    return _uuid_of(resource["resourceType"], resource["id"])


def _uuid_of(kind: str, id_: str) -> uuid.UUID:
    """Every entry's fullUrl is a urn:uuid derived from its type and id, so references
    inside the collection resolve to it without a server."""
    return uuid.uuid5(uuid.NAMESPACE_URL, f"ldntrial:{kind}/{id_}")


def _ref(kind: str, id_: str) -> dict[str, str]:
    return {"reference": f"urn:uuid:{_uuid_of(kind, id_)}", "type": kind}
