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

from django.apps import apps
from django.db.models import CharField, Q, QuerySet, Value
from django.db.models.functions import Cast, Concat

from ldntrial.web.audit.models import AuditEntry
from ldntrial.web.studies.models import OfAStudy, Study, StudyData

__all__ = [
    "CSV_COLUMNS",
    "csv_rows",
    "history_of",
    "participant_entries",
    "person_named",
    "record_names",
    "study_entries",
]

CSV_COLUMNS = ["id", "at", "actor", "action", "record", "field", "old", "new", "reason", "hash"]


def _records(queryset: QuerySet) -> QuerySet:
    label = queryset.model._meta.label
    return queryset.annotate(
        record_key=Concat(Value(f"{label}:"), Cast("pk", CharField()), output_field=CharField())
    ).values("record_key")


def study_entries(study: Study) -> QuerySet[AuditEntry]:
    """Every audit entry about ``study`` or anything in it, oldest first."""
    scope = Q(record=f"{study._meta.label}:{study.pk}")
    # Every kind of record of a study, found by its base class, so a new one is never left out.
    for model in apps.get_models():
        if issubclass(model, OfAStudy):
            scope |= Q(record__in=_records(model._base_manager.filter(study=study)))
        if issubclass(model, StudyData):
            owner = "study" if model.study_via == "study" else f"{model.study_via}__study"
            scope |= Q(record__in=_records(model.objects.filter(**{owner: study})))
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


def history_of(instance: StudyData) -> list[dict[str, object]]:
    """One record's changes, oldest first, as people read them: when, who, what, why.

    Field names are the model's own labels; the actor is the user name, not the stored key.
    """
    fields = {field.name: str(field.verbose_name) for field in instance._meta.fields}
    fields |= {field.column: label for field in instance._meta.fields
               if field.db_column and (label := fields[field.name])}  # fmt: skip
    entries = AuditEntry.objects.filter(record=f"{instance._meta.label}:{instance.pk}")
    return [
        {
            "at": entry.at,
            "who": person_named(entry.actor),
            "changes": [
                (fields.get(name, name), old, new)
                for name, (old, new) in entry.changes.items()
                if name not in {"id", "reported_at", "participant"}
            ],
            "reason": entry.reason,
        }
        for entry in entries.order_by("id")
    ]


def person_named(actor: str) -> str:
    """``user:12:cora`` reads as ``cora``; ``system:demo`` as ``system (demo)``."""
    kind, _, rest = actor.partition(":")
    if kind == "user":
        return rest.partition(":")[2] or rest
    return f"{kind} ({rest})" if rest else kind


def participant_entries(study: Study, participant) -> QuerySet[AuditEntry]:
    """Every audit entry about ``participant``: her own record and all recorded about her."""
    scope = Q(record=f"{participant._meta.label}:{participant.pk}")
    for model in apps.get_models():
        if issubclass(model, StudyData) and any(
            f.name == "participant" for f in model._meta.get_fields()
        ):
            about_her = {"participant": participant}  # a field each of these models has
            scope |= Q(record__in=_records(model._base_manager.filter(**about_her)))
    return study_entries(study).filter(scope)


def record_names(records: list[str]) -> dict[str, str]:
    """``trial.Visit:12`` as people read it (``DEMO-001 visit 5``), for a page of entries.

    A record holding a concealed field (a kit, a slot of the allocation list) keeps a
    neutral name, its kind and number: its own words could differ between the arms.
    Deleted records keep their key.
    """
    by_model: dict[str, list[int]] = {}
    for record in records:
        label, _, pk = record.partition(":")
        if pk.isdigit():
            by_model.setdefault(label, []).append(int(pk))
    names: dict[str, str] = {}
    for label, pks in by_model.items():
        try:
            model = apps.get_model(label)
        except (LookupError, ValueError):
            continue
        if getattr(model, "audit_concealed", frozenset()):
            names.update({f"{label}:{pk}": f"{model._meta.verbose_name} {pk}" for pk in pks})
            continue
        rows = model._base_manager.all()
        if any(f.name == "participant" for f in model._meta.get_fields()):
            rows = rows.select_related("participant")
        names.update({f"{label}:{pk}": str(row) for pk, row in rows.in_bulk(pks).items()})
    return names
