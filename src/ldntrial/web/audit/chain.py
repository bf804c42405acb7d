"""Writing and checking the hash chain of the audit trail.

An entry's hash is an HMAC-SHA256, under the site's audit key
(web/audit/sealing.py), of the previous entry's hash and a canonical JSON
of its own fields (id, time, actor, action, record, changes, reason).
Editing an entry breaks its own hash; removing one breaks the next entry's
link; without the key nobody can compute the hashes a forgery would need.
Removing the newest entries leaves a shorter chain that still checks, so
the head (:class:`Head`: the last entry's id and hash) is witnessed outside
the database (web/audit/witness.py) and checked by ``verify_audit --head``.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from django.db import connection, transaction
from django.utils import timezone

from ldntrial.web.audit.models import Action, AuditEntry, ConcealedValue
from ldntrial.web.audit.sealing import as_json_stored, concealed_digest, keyed_hash
from ldntrial.web.rows import insert_row

__all__ = [
    "GENESIS",
    "ChainReport",
    "Head",
    "current_head",
    "entry_hash",
    "record_event",
    "verify_chain",
]

GENESIS = "0" * 64
# Any fixed number: every writer of the chain takes this PostgreSQL advisory lock.
CHAIN_LOCK = 7_531_002


@dataclass(frozen=True)
class Head:
    """The newest entry of the trail: keep it elsewhere to notice a trail cut short.

    Written ``<entry id>:<hash>``, the form ``verify_audit --head`` reads.
    """

    entry: int
    hash: str

    def __str__(self) -> str:
        return f"{self.entry}:{self.hash}"

    @classmethod
    def parse(cls, text: str) -> Head:
        """A head from its written form; ValueError says what is wrong with it."""
        match = re.fullmatch(r"\s*(\d+):([0-9a-f]{64})\s*", text)
        if match is None:
            raise ValueError(
                f"{text!r} is not a head: write it as <entry id>:<64 hex digits>, as "
                "verify_audit and the notices print it"
            )
        return cls(int(match.group(1)), match.group(2))


def current_head() -> Head | None:
    """The newest entry's id and hash, or None for an empty trail (read without the ORM's
    overhead: every audited write asks)."""
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT id, hash FROM {AuditEntry._meta.db_table} ORDER BY id DESC LIMIT 1"
        )
        last = cursor.fetchone()
    return Head(last[0], last[1]) if last else None


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
    concealed: Mapping[str, str] | None = None,
) -> AuditEntry:
    """Append one entry to the chain (in the caller's transaction, if there is one).

    ``concealed`` maps each concealed field the entry writes (shown as
    ``<concealed>`` in ``changes``) to its canonical value, kept only as a
    keyed digest bound to this entry (:class:`ConcealedValue`).
    """
    with transaction.atomic(savepoint=False):
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_advisory_xact_lock(%s)", [CHAIN_LOCK])
        # SQLite transactions are IMMEDIATE (settings), so writers are already serialised.
        last = current_head()
        entry = AuditEntry(
            id=(last.entry + 1) if last else 1,
            at=timezone.now(),
            actor=actor,
            action=str(action),
            record=record,
            changes=as_json_stored(changes or {}),
            reason=reason,
            previous_hash=last.hash if last else GENESIS,
        )
        entry.hash = entry_hash(entry)
        insert_row(entry)
        for field, value in sorted((concealed or {}).items()):
            digest = concealed_digest(entry.hash, field, value)
            ConcealedValue.objects.create(entry=entry.id, field=field, digest=digest)
    return entry


def entry_hash(entry: AuditEntry) -> str:
    """The keyed hash of the previous hash and the entry's canonical content.

    The hash covers what is stored, so ``changes`` holds values as the
    database gives them back (PostgreSQL's jsonb: no negative zero, big floats as integers).
    """
    return keyed_hash(entry.previous_hash + canonical_content(entry))


def canonical_content(entry: AuditEntry) -> str:
    """The entry's content as the chain hashes it: sorted, compact JSON of its fields.

    The recipe is public (the migration that sealed older trails and the tampering
    tests use it too); only the key keeps a forger from recomputing the chain.
    """
    return json.dumps(
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
            return ChainReport(
                count,
                expected_previous,
                entry.id,
                "does not match its keyed hash (changed after writing, or written without "
                "this site's audit key)",
            )
        expected_previous, expected_id = entry.hash, entry.id + 1
    return ChainReport(count, expected_previous)
