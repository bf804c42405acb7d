"""The part of the audit trail that belongs to one study, for the monitor to read and export.

Entries name their record as ``<app>.<Model>:<pk>``; a study's entries are
those whose record is the study itself or an object that belongs to it. The
scope is built as database subqueries (no list of ids in Python), so it
stays one query however large the study.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator

from django.db.models import CharField, Q, QuerySet, Value
from django.db.models.functions import Cast, Concat

from ldntrial.web.audit.models import AuditEntry
from ldntrial.web.studies.models import Membership, Site, Study
from ldntrial.web.trial.models import (
    AdverseEvent,
    AllocationListVersion,
    AllocationSlot,
    Kit,
    Participant,
    ProtocolDeviation,
    Screening,
    Unblinding,
    Visit,
)

__all__ = ["CSV_COLUMNS", "csv_rows", "study_entries"]

CSV_COLUMNS = ["id", "at", "actor", "action", "record", "field", "old", "new", "reason", "hash"]
BY_STUDY = (Site, Membership, Screening, AllocationListVersion, AllocationSlot, Kit, Participant)
BY_PARTICIPANT = (Unblinding, AdverseEvent, Visit, ProtocolDeviation)


def _records(queryset: QuerySet) -> QuerySet:
    label = queryset.model._meta.label
    return queryset.annotate(
        record_key=Concat(Value(f"{label}:"), Cast("pk", CharField()), output_field=CharField())
    ).values("record_key")


def study_entries(study: Study) -> QuerySet[AuditEntry]:
    """Every audit entry about ``study`` or anything in it, oldest first."""
    scope = Q(record=f"{study._meta.label}:{study.pk}")
    for model in BY_STUDY:
        scope |= Q(record__in=_records(model.objects.filter(study=study)))
    for model in BY_PARTICIPANT:
        scope |= Q(record__in=_records(model.objects.filter(participant__study=study)))
    return AuditEntry.objects.filter(scope).order_by("id")


def csv_rows(entries: QuerySet[AuditEntry]) -> Iterator[str]:
    """The entries as CSV text, one line per changed field (AUD-4: a readable export)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)

    def flush() -> str:
        text = buffer.getvalue()
        buffer.seek(0)
        buffer.truncate()
        return text

    writer.writerow(CSV_COLUMNS)
    yield flush()
    for entry in entries.iterator(chunk_size=2000):
        changes = entry.changes.items() or [("", [None, None])]
        for field, (old, new) in changes:
            writer.writerow(
                [entry.id, entry.at.isoformat(), entry.actor, entry.action, entry.record, field,
                 "" if old is None else old, "" if new is None else new, entry.reason, entry.hash]
            )  # fmt: skip
        yield flush()
