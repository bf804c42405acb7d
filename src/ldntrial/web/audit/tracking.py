"""Every save and delete of an :class:`AuditedModel` writes its audit entry, in one transaction.

The write and its entry commit together or not at all (AUD-1), and the entry
holds every changed field's old and new value (AUD-2, AUD-3). Who acts is
an argument of every write: ``save(actor=...)``, ``delete(actor=...)``,
``Model.objects.create(actor=..., ...)``, passed down from the action a
person or a command took (each action takes ``actor`` by keyword), never
taken from the surroundings, so a write cannot be credited to whoever
happened to be signed in. A write with no actor is refused rather than
recorded as nobody's. Why comes from :func:`because` (a workflow step's
reason, or the reason a person typed); a change to data already saved needs
one (AUD-9; the first entry needs none).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any, ClassVar

from django.db import models, transaction

from ldntrial.web.audit.chain import record_event
from ldntrial.web.audit.models import Action
from ldntrial.web.audit.sealing import canonical_value

__all__ = [
    "CONCEALED",
    "AuditError",
    "AuditedManager",
    "AuditedModel",
    "AuditedQuerySet",
    "actor_for",
    "because",
    "concealed_fields",
    "record_created",
]

_REASON: ContextVar[str] = ContextVar("audit_reason", default="")


class AuditError(Exception):
    """A write that the audit trail cannot accept (no actor, or no reason for a change)."""


@contextmanager
def because(reason: str) -> Iterator[None]:
    """Writes inside the block carry ``reason``, by whoever is acting (a workflow step's why)."""
    token = _REASON.set(reason)
    try:
        yield
    finally:
        _REASON.reset(token)


def actor_for(user: Any) -> str:
    """The audit name of a signed-in user: stable id plus the username at the time."""
    return f"user:{user.pk}:{user.get_username()}"


CONCEALED = "<concealed>"


class AuditedQuerySet(models.QuerySet):
    """Refuses the bulk writes that go around :meth:`AuditedModel.save` and ``delete``.

    ``update()``, ``bulk_create()``, ``bulk_update()`` and ``delete()`` on a
    queryset write rows without calling the model's methods, so without an
    audit entry, a reason or the lock check: each is refused with a message
    that says what to do instead. Django's own machinery (``save()``'s UPDATE,
    cascades) uses other, internal paths and is unaffected.
    """

    def update(self, **kwargs: Any) -> int:
        raise self._refused("update()", "change each row and save() it")

    def bulk_create(self, *args: Any, **kwargs: Any) -> list[Any]:
        raise self._refused("bulk_create()", "save() each new row")

    def bulk_update(self, *args: Any, **kwargs: Any) -> int:
        raise self._refused("bulk_update()", "change each row and save() it")

    def delete(self) -> tuple[int, dict[str, int]]:
        raise self._refused("delete()", "delete() each row, with its reason")

    def create(self, *, actor: str = "", **fields: Any) -> Any:
        """A new row, written as ``actor``'s: Django's ``create()`` with the actor its entry
        needs (related managers, ``participant.visits.create(...)``, come here too)."""
        row = self.model(**fields)
        row.save(force_insert=True, using=self.db, actor=actor)
        return row

    def get_or_create(self, *args: Any, **kwargs: Any) -> Any:
        raise self._refused(
            "get_or_create()", "get() the row, or create(actor=...) it", "cannot say who acts"
        )

    def update_or_create(self, *args: Any, **kwargs: Any) -> Any:
        raise self._refused(
            "update_or_create()", "get() the row and save(actor=...) it", "cannot say who acts"
        )

    def _refused(
        self, method: str, instead: str, why: str = "would skip the audit trail"
    ) -> AuditError:
        return AuditError(f"{method} on {self.model._meta.verbose_name} rows {why}: {instead}")


AuditedManager = models.Manager.from_queryset(AuditedQuerySet, "AuditedManager")


class AuditedModel(models.Model):
    """A model whose every save and delete is audited with old and new values.

    ``audit_concealed`` names fields that reveal an allocation (a sequence, a
    kit's contents). The trail, which blinded monitors read, must read the
    same whatever their values (BLD-1), null included: every entry of such a
    model lists every concealed field, as ``[null, "<concealed>"]`` when the
    row is made, ``["<concealed>", "<concealed>"]`` when it is saved again
    (changed or not) and ``["<concealed>", null]`` when it is deleted. The
    values themselves are kept only as keyed digests bound to the entry
    (web/audit/sealing.py), for ``verify_audit`` to check the table against.
    """

    audit_concealed: ClassVar[frozenset[str]] = frozenset()

    objects = AuditedManager()

    class Meta:
        abstract = True

    def save(self, *args: Any, actor: str = "", **kwargs: Any) -> None:
        actor, reason = _required(actor, self, "save"), _REASON.get()
        before = None
        if not self._state.adding and self.pk is not None:
            before = type(self)._base_manager.filter(pk=self.pk).first()
        changed = before is not None and _differs(before, self)
        changes = _changes(before, self) if changed else {}
        if changed and not reason.strip():
            raise AuditError(
                f"reason: required to change saved {self._meta.verbose_name} data "
                f"({', '.join(sorted(changes))})"
            )
        # The write and its entry in one transaction: the caller's, if it has one, with no
        # savepoint of their own (the diary's evening rush writes many rows). A failure in
        # here therefore fails the caller's transaction too, as it should.
        with transaction.atomic(savepoint=False):
            super().save(*args, **kwargs)
            if before is None:
                changes = _changes(None, self)  # now with the primary key
            if before is None or changed:
                record_event(
                    actor=actor,
                    action=Action.CREATE if before is None else Action.UPDATE,
                    about=self,
                    changes=changes,
                    reason=reason if before is not None else "",
                    concealed=_concealed_values(self),
                )

    def delete(self, *args: Any, actor: str = "", **kwargs: Any) -> tuple[int, dict[str, int]]:
        actor, reason = _required(actor, self, "delete"), _REASON.get()
        if not reason.strip():
            raise AuditError(f"reason: required to delete {self._meta.verbose_name} data")
        with transaction.atomic(savepoint=False):
            record_event(
                actor=actor,
                action=Action.DELETE,
                about=self,
                changes={k: [old, None] for k, (old, _new) in _changes(self, None).items()},
                reason=reason,
            )
            return super().delete(*args, **kwargs)


def record_created(instance: AuditedModel, *, actor: str) -> None:
    """The audit entry of a row its model inserted itself, as :meth:`AuditedModel.save` writes
    it for a new row (a hot path's own INSERT, :meth:`DiaryEntry.insert_as_next_version`)."""
    record_event(
        actor=_required(actor, instance, "insert"),
        action=Action.CREATE,
        about=instance,
        changes=_changes(None, instance),
        concealed=_concealed_values(instance),
    )


def _required(actor: str, instance: models.Model, write: str) -> str:
    if not actor:
        raise AuditError(
            f"actor: required to {write} {instance._meta.verbose_name} data: "
            f"pass who acts (actor=...), as every action does"
        )
    return actor


def _changes(
    before: models.Model | None, after: models.Model | None
) -> dict[str, list[str | None]]:
    """{column: [old, new]} as text for every concrete field that differs, and every concealed
    field whatever its value: the same placeholders for every value, null included.

    Entries name each field by its column, which a field's Python name may differ from
    (the trial's ``concealed_*`` fields) and which outlives a rename of it."""
    row = after if after is not None else before
    assert row is not None, "a change has a row before it or after it"
    model = type(row)
    concealed = concealed_fields(model)
    changes = {}
    for field in model._meta.concrete_fields:
        if field.name in concealed:
            changes[field.column] = [
                None if before is None else CONCEALED,
                None if after is None else CONCEALED,
            ]
            continue
        old, new = _text(field, before), _text(field, after)
        if old != new:
            changes[field.column] = [old, new]
    return changes


def _differs(before: models.Model, after: models.Model) -> bool:
    """Whether any concrete field, concealed or not, holds another value."""
    return any(
        _text(field, before) != _text(field, after) for field in type(after)._meta.concrete_fields
    )


def _concealed_values(instance: models.Model) -> dict[str, str]:
    """{column: canonical value} of the concealed fields, for their keyed digests."""
    concealed = concealed_fields(type(instance))
    return {
        field.column: canonical_value(field, field.value_from_object(instance))
        for field in instance._meta.concrete_fields
        if field.name in concealed
    }


def concealed_fields(model: type[models.Model]) -> frozenset[str]:
    """The fields of ``model`` whose values the trail conceals (none for most models)."""
    names: frozenset[str] = getattr(model, "audit_concealed", frozenset())
    return names


def _text(field: models.Field, instance: models.Model | None) -> str | None:
    if instance is None or field.value_from_object(instance) is None:
        return None
    return field.value_to_string(instance)
