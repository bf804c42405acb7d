"""Data queries: a question about one recorded value, answered or corrected by the site, closed.

A monitor (or an investigator) raises a query on a form of her casebook; the
site answers it, or corrects the value (with the correction's own reason)
and says so; the monitor closes it. Protocol checks raise queries
themselves when a visit is recorded (a visit outside its window; capsules
returned above those dispensed). Every step is audited, and open queries
are counted on the dashboards and stand in the lock's checklist.
"""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.utils import timezone

from ldntrial.web.audit.tracking import actor_for, because
from ldntrial.web.quality.casebook import casebook_forms
from ldntrial.web.quality.models import DataQuery
from ldntrial.web.trial.models import Participant

__all__ = [
    "answer_query",
    "close_query",
    "raise_automatic_query",
    "raise_query",
    "raise_query_for_failed_check",
]


def raise_query(participant: Participant, *, record: str, field: str, text: str, by) -> DataQuery:
    """A person's query on one of her forms."""
    actor = actor_for(by)
    forms = {form.record for form in casebook_forms(participant)}
    errors = {}
    if record not in forms:
        errors["record"] = "choose one of her recorded forms"
    if not text.strip():
        errors["text"] = "required: what should be checked, and why"
    if errors:
        raise ValidationError(errors)
    return DataQuery.objects.create(
        participant=participant,
        record=record,
        field=field.strip(),
        text=text.strip(),
        raised_by=by,
        raised_at=timezone.now(),
        actor=actor,
    )


def raise_automatic_query(
    participant: Participant, *, actor: str, record: str, field: str, text: str
) -> DataQuery:
    """A protocol check's query (raised by no one); the same one is not raised twice."""
    existing = DataQuery.objects.filter(
        participant=participant, record=record, field=field, automatic=True
    ).exclude(status=DataQuery.Status.CLOSED)
    return existing.first() or DataQuery.objects.create(
        participant=participant,
        record=record,
        field=field,
        text=text,
        automatic=True,
        raised_at=timezone.now(),
        actor=actor,
    )


def raise_query_for_failed_check(sender, *, actor: str, participant, record, field, text, **_):
    """The receiver of ``trial.visits.check_failed``: the check's automatic query."""
    raise_automatic_query(participant, record=record, field=field, text=text, actor=actor)


def answer_query(query: DataQuery, *, answer: str, by) -> DataQuery:
    """The site's answer (or "corrected: ..."); the monitor closes it afterwards."""
    actor = actor_for(by)
    if query.status == DataQuery.Status.CLOSED:
        raise ValidationError({"answer": "the query is closed"})
    if not answer.strip():
        raise ValidationError({"answer": "required: the answer, or what was corrected"})
    with because(f"query answered: {answer.strip()}"):
        query.status, query.answer = DataQuery.Status.ANSWERED, answer.strip()
        query.answered_by, query.answered_at = by, timezone.now()
        query.save(actor=actor)
    return query


def close_query(query: DataQuery, *, by, note: str = "") -> DataQuery:
    """The monitor accepts the answer (or the correction) and closes the query."""
    actor = actor_for(by)
    if query.status == DataQuery.Status.CLOSED:
        raise ValidationError({"query": "already closed"})
    if query.status == DataQuery.Status.OPEN and not note.strip():
        raise ValidationError({"note": "required to close a query nobody has answered"})
    with because(f"query closed{': ' + note.strip() if note.strip() else ''}"):
        query.status, query.closed_by, query.closed_at = (
            DataQuery.Status.CLOSED,
            by,
            timezone.now(),
        )
        query.save(actor=actor)
    return query
