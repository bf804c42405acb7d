"""The tables checked against the trail: every audited row must be what its entries say.

A chain that checks proves only that the trail itself is whole. Someone with
the database can still change a diary value, multiply a lab value by ten,
delete an entry or flip an allocation in the tables and leave the trail
alone. So the trail is replayed (AUD-3: the value history of every field can
be rebuilt from the trail alone) and the state it ends in is compared with
every row of every audited table, field by field:

- a row the trail never made is *added*;
- a row the trail made and never deleted, missing from its table, is *deleted*;
- a field whose value is not the trail's last value for it is *changed*;
- a concealed field (an allocation) is checked against the keyed digest its
  newest entry sealed (web/audit/sealing.py), so a flipped sequence is found
  without the trail ever showing it.

Values are compared through :func:`~ldntrial.web.audit.sealing.canonical_value`,
so a time written with the phone's offset and read back in UTC agrees.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from django.apps import apps
from django.db import models

from ldntrial.web.audit.models import AuditEntry, ConcealedValue
from ldntrial.web.audit.sealing import canonical_value, concealed_digest
from ldntrial.web.audit.tracking import CONCEALED, AuditedModel, concealed_fields

__all__ = ["Discrepancy", "reconcile_with_trail"]


@dataclass(frozen=True, order=True)
class Discrepancy:
    """A row or field of a table that the trail does not account for."""

    table: str
    key: str
    field: str
    problem: str

    def __str__(self) -> str:
        where = f"{self.table} row {self.key}" + (f", field {self.field}" if self.field else "")
        return f"{where}: {self.problem}"


@dataclass
class _Record:
    """One record's state as the trail leaves it."""

    values: dict[str, Any] = field(default_factory=dict)
    deleted: bool = False
    sealed_by: tuple[int, str] | None = None  # (entry id, entry hash) of its concealed values


def reconcile_with_trail() -> list[Discrepancy]:
    """Every difference between the audited tables and the trail, table by table."""
    audited = {
        model._meta.label: model
        for model in apps.get_models()
        if issubclass(model, AuditedModel) and not model._meta.abstract
    }
    states = _replay(audited)
    digests = {
        (entry, name): digest
        for entry, name, digest in ConcealedValue.objects.values_list("entry", "field", "digest")
    }
    found: list[Discrepancy] = []
    for label, model in sorted(audited.items()):
        found.extend(_compare(model, states.get(label, {}), digests))
    return sorted(found)


def _replay(audited: dict[str, type[AuditedModel]]) -> dict[str, dict[str, _Record]]:
    """{model label: {primary key: state}} after every create, update and delete entry."""
    states: dict[str, dict[str, _Record]] = {}
    entries = (
        AuditEntry.objects.filter(action__in=("create", "update", "delete"))
        .order_by("id")
        .values_list("id", "hash", "action", "record", "changes")
        .iterator(chunk_size=5000)
    )
    for entry_id, entry_hash, action, record, changes in entries:
        label, _, key = record.rpartition(":")
        if label not in audited:
            continue  # a user account's change, recorded for GCP-1 but not a table row here
        state = states.setdefault(label, {})
        if action == "create":
            state[key] = _Record()
        current = state.setdefault(key, _Record())
        if action == "delete":
            current.deleted = True
            continue
        current.deleted = False
        for name, (_old, new) in changes.items():
            if new is None:
                current.values.pop(name, None)
            else:
                current.values[name] = new
        if any(new == CONCEALED for _old, new in changes.values()):
            current.sealed_by = (entry_id, entry_hash)
    return states


def _compare(
    model: type[models.Model],
    state: dict[str, _Record],
    digests: dict[tuple[int, str], str],
) -> Iterator[Discrepancy]:
    table = model._meta.db_table
    concealed = concealed_fields(model)
    fields = model._meta.concrete_fields
    for row in model._base_manager.order_by("pk").iterator(chunk_size=2000):
        key = str(row.pk)
        record = state.pop(key, None)
        if record is None or record.deleted:
            problem = "deleted in the trail" if record else "never written in the trail"
            yield Discrepancy(
                table, key, "", f"in the table but {problem} (added outside ldntrial)"
            )
            continue
        for model_field in fields:
            name = model_field.column  # as the trail names it
            value = canonical_value(model_field, model_field.value_from_object(row))
            if model_field.name in concealed:
                problem = _check_sealed(record, name, value, digests)
            elif value != canonical_value(model_field, record.values.get(name)):
                problem = "not the value the trail last recorded (changed outside ldntrial)"
            else:
                continue
            if problem:
                yield Discrepancy(table, key, name, problem)
    for key, record in state.items():
        if not record.deleted:
            yield Discrepancy(
                table,
                key,
                "",
                "written in the trail but missing from the table (deleted outside ldntrial)",
            )


def _check_sealed(
    record: _Record, name: str, value: str, digests: dict[tuple[int, str], str]
) -> str:
    """Why a concealed value does not check against its sealed digest ('' when it does)."""
    if record.sealed_by is None:
        return "no entry of the trail sealed this concealed value"
    entry_id, entry_hash = record.sealed_by
    stored = digests.get((entry_id, name))
    if stored is None:
        return f"the digest entry {entry_id} sealed for this concealed value is missing"
    if concealed_digest(entry_hash, name, value) != stored:
        return "not the concealed value the trail sealed (changed outside ldntrial)"
    return ""
