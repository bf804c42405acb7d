"""A participant's casebook: the forms the site recorded about her, and their newest change.

The casebook is what the site entered (her enrolment record, visits, labs,
adverse events, deviations, dose orders), not her own diary, which she keeps
every day and which no monitor verifies against a source. Each form is named
by its audit key, and its newest audit entry says when it last changed.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import Max

from ldntrial.web.audit.models import AuditEntry
from ldntrial.web.trial.models import (
    AdverseEvent,
    DoseReduction,
    LabResult,
    Participant,
    ProtocolDeviation,
    Visit,
)

__all__ = ["Form", "casebook_forms", "casebook_records", "newest_entries", "newest_entry"]


@dataclass(frozen=True)
class Form:
    """One form of her casebook."""

    record: str  # the audit key, e.g. trial.Visit:12
    label: str  # as people read it: visit 2 (2026-03-16)
    kind: str  # visit, lab, adverse event, ...


def casebook_forms(participant: Participant) -> list[Form]:
    """Her forms that a monitor verifies and a query can be about, in a reading order."""
    forms = [Form(_key(participant), "her enrolment record", "enrolment")]
    forms += [
        Form(_key(v), f"visit {v.number} ({v.held_on:%Y-%m-%d})", "visit")
        for v in participant.visits.order_by("number")
    ]
    forms += [
        Form(_key(r), f"{r.analyte} of {r.sampled_on:%Y-%m-%d}", "lab")
        for r in participant.lab_results.order_by("sampled_on", "analyte")
    ]
    forms += [
        Form(_key(e), f"adverse event: {e.term} ({e.onset:%Y-%m-%d})", "adverse event")
        for e in participant.adverse_events.order_by("onset", "pk")
    ]
    return forms


def casebook_records(participant: Participant) -> list[str]:
    """Every record of her casebook, the forms and what the site decided about her."""
    records = [form.record for form in casebook_forms(participant)]
    for model in (ProtocolDeviation, DoseReduction):
        records += [_key(row) for row in model.objects.filter(participant=participant)]
    return records


def newest_entry(records: list[str]) -> int:
    """The id of the newest audit entry about any of ``records`` (0 if none)."""
    return AuditEntry.objects.filter(record__in=records).aggregate(newest=Max("id"))["newest"] or 0


def newest_entries(records: list[str]) -> dict[str, int]:
    """Each record's newest audit entry id, in one query."""
    rows = (
        AuditEntry.objects.filter(record__in=records)
        .values("record")
        .annotate(newest=Max("id"))
        .values_list("record", "newest")
    )
    return dict(rows)


def _key(
    row: Participant | Visit | LabResult | AdverseEvent | ProtocolDeviation | DoseReduction,
) -> str:
    return f"{row._meta.label}:{row.pk}"
