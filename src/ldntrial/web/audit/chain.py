"""Writing and checking the hash chain of the audit trail.

An entry's hash is SHA-256 over the previous entry's hash and a canonical
JSON of its own fields (id, time, actor, action, record, changes, reason).
Editing an entry breaks its own hash; removing one breaks the next entry's
link. Removing the newest entries leaves a shorter chain that still checks,
so :func:`verify_chain` also reports the head (count and last hash): keep it
outside the database (a printed report, the monitor's export) to detect that.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from typing import Any

from django.db import connection, transaction
from django.utils import timezone

from ldntrial.web.audit.models import Action, AuditEntry
from ldntrial.web.rows import insert_row

__all__ = ["GENESIS", "ChainReport", "record_event", "verify_chain"]

GENESIS = "0" * 64
# Any fixed number: every writer of the chain takes this PostgreSQL advisory lock.
CHAIN_LOCK = 7_531_002


@dataclass(frozen=True)
class ChainReport:
    """The outcome of a check: how many entries, the head, and the first break if any."""

    entries: int
    head: str
    broken_at: int | None = None
    problem: str = ""

    @property
    def intact(self) -> bool:
        return self.broken_at is None


def record_event(
    *,
    actor: str,
    action: Action | str,
    record: str,
    changes: dict[str, list[Any]] | None = None,
    reason: str = "",
) -> AuditEntry:
    """Append one entry to the chain (in the caller's transaction, if there is one)."""
    with transaction.atomic(savepoint=False):
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_advisory_xact_lock(%s)", [CHAIN_LOCK])
        # SQLite transactions are IMMEDIATE (settings), so writers are already serialised.
        with connection.cursor() as cursor:  # the head, read without the ORM's overhead
            cursor.execute(
                f"SELECT id, hash FROM {AuditEntry._meta.db_table} ORDER BY id DESC LIMIT 1"
            )
            last = cursor.fetchone()
        entry = AuditEntry(
            id=(last[0] + 1) if last else 1,
            at=timezone.now(),
            actor=actor,
            action=str(action),
            record=record,
            changes=_as_stored(changes or {}),
            reason=reason,
            previous_hash=last[1] if last else GENESIS,
        )
        entry.hash = entry_hash(entry)
        insert_row(entry)
    return entry


def _as_stored(value: Any) -> Any:
    """``value`` as every database gives it back: PostgreSQL's jsonb has no negative zero.

    The hash covers what is stored, so a value the database would change
    (-0.0 read back as 0.0) is changed first, or the chain would not check.
    """
    if isinstance(value, float) and value == 0.0:
        return 0.0
    if isinstance(value, dict):
        return {key: _as_stored(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_as_stored(item) for item in value]
    return value


def entry_hash(entry: AuditEntry) -> str:
    """SHA-256 of the previous hash and the entry's canonical content."""
    content = json.dumps(
        {
            "id": entry.id,
            "at": entry.at.isoformat(timespec="microseconds"),
            "actor": entry.actor,
            "action": entry.action,
            "record": entry.record,
            "changes": entry.changes,
            "reason": entry.reason,
        },
        sort_keys=True,
        separators=(",", ":"),
        ensure_ascii=False,
    )
    return hashlib.sha256((entry.previous_hash + content).encode("utf-8")).hexdigest()


def verify_chain() -> ChainReport:
    """Recompute every link; the first entry that does not check is reported by id."""
    expected_previous, expected_id, count = GENESIS, 1, 0
    for entry in AuditEntry.objects.order_by("id").iterator(chunk_size=2000):
        count += 1
        if entry.id != expected_id:
            return ChainReport(count, expected_previous, expected_id, "entry missing (removed)")
        if entry.previous_hash != expected_previous:
            return ChainReport(
                count, expected_previous, entry.id, "does not link to the entry before it"
            )
        if entry_hash(entry) != entry.hash:
            return ChainReport(count, expected_previous, entry.id, "content changed after writing")
        expected_previous, expected_id = entry.hash, entry.id + 1
    return ChainReport(count, expected_previous)
