"""Writing and checking the hash chains of the audit trail.

An entry's hash is an HMAC-SHA256, under the site's audit key
(web/audit/sealing.py), of the previous entry's hash and a canonical JSON
of its own fields (id, time, actor, action, record, changes, reason, and
its chain). Editing an entry breaks its own hash; removing one breaks the
next entry's link; without the key nobody can compute the hashes a forgery
would need. Removing the newest entries leaves a shorter chain that still
checks, so each chain's head (:class:`Head`: its last entry's id and hash)
is witnessed outside the database (web/studies/notices.py, a lock's record)
and checked by ``verify_audit --head``.

Each study's entries form a chain of their own, and everything else (sign-in
signatures, second factors) the site's chain, so a writer waits only for
writers of the same study: on PostgreSQL each chain has its own advisory lock,
and adding app servers adds throughput instead of queueing every audited write
of the site behind one lock (issue 17). Entry ids still come from one sequence,
so they order the whole trail; within a chain they rise in the order written.
Entries written before chains existed are all on the site's chain, which
hashes as it always did (its canonical content has no ``chain`` field).
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from django.db import connection, models, transaction
from django.utils import timezone

from ldntrial.web.audit.models import Action, AuditEntry, ConcealedValue
from ldntrial.web.audit.sealing import as_json_stored, concealed_digest, keyed_hash
from ldntrial.web.rows import insert_row

__all__ = [
    "GENESIS",
    "SITE_CHAIN",
    "ChainReport",
    "Head",
    "chain_of",
    "current_head",
    "current_heads",
    "entry_hash",
    "record_event",
    "record_of",
    "study_chain",
    "verify_chain",
]

GENESIS = "0" * 64
SITE_CHAIN = ""
# Any fixed number: the first key of every chain's PostgreSQL advisory lock.
CHAIN_LOCK = 7_531_002


def study_chain(study_id: int) -> str:
    """The chain holding every entry about study ``study_id`` and anything in it."""
    return f"study:{study_id}"


def chain_of(instance: models.Model) -> str:
    """The chain an entry about ``instance`` joins: its study's, if it names one
    (``audit_chain()``, web/studies/models.py), else the site's (a user account)."""
    audit_chain = getattr(instance, "audit_chain", None)
    return audit_chain() if audit_chain is not None else SITE_CHAIN


def record_of(instance: models.Model) -> str:
    """How an entry names its record: ``<app>.<Model>:<primary key>``."""
    return f"{instance._meta.label}:{instance.pk}"


@dataclass(frozen=True)
class Head:
    """The newest entry of a chain: keep it elsewhere to notice a chain cut short.

    Written ``<entry id>:<hash>``, the form ``verify_audit --head`` reads (ids
    are unique across chains, so the id says which chain it ends).
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


def current_head(chain: str) -> Head | None:
    """The newest entry of ``chain``, or None before its first (read without the ORM's
    overhead: every audited write asks)."""
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT id, hash FROM {AuditEntry._meta.db_table} WHERE chain = %s "
            "ORDER BY id DESC LIMIT 1",
            [chain],
        )
        last = cursor.fetchone()
    return Head(last[0], last[1]) if last else None


def current_heads() -> list[Head]:
    """The newest entry of every chain, in the order written: what a notice asks to keep."""
    newest = AuditEntry.objects.values("chain").annotate(last=models.Max("id")).values("last")
    return [
        Head(entry, digest)
        for entry, digest in AuditEntry.objects.filter(id__in=newest)
        .order_by("id")
        .values_list("id", "hash")
    ]


@dataclass(frozen=True)
class ChainReport:
    """The outcome of a check: how many entries, each chain's head, the first break if any."""

    entries: int
    heads: tuple[Head, ...]
    broken_at: int | None = None
    problem: str = ""

    @property
    def intact(self) -> bool:
        return self.broken_at is None


def record_event(
    *,
    actor: str,
    action: Action | str,
    about: models.Model,
    changes: dict[str, list[Any]] | None = None,
    reason: str = "",
    concealed: Mapping[str, str] | None = None,
) -> AuditEntry:
    """Append one entry about ``about`` to its chain (in the caller's transaction, if any).

    ``concealed`` maps each concealed field the entry writes (shown as
    ``<concealed>`` in ``changes``) to its canonical value, kept only as a
    keyed digest bound to this entry (:class:`ConcealedValue`).
    """
    chain = chain_of(about)
    with transaction.atomic(savepoint=False):
        entry_id, previous_hash = _next_link(chain)
        entry = AuditEntry(
            id=entry_id,
            at=timezone.now(),
            actor=actor,
            action=str(action),
            record=record_of(about),
            changes=as_json_stored(changes or {}),
            reason=reason,
            chain=chain,
            previous_hash=previous_hash,
        )
        entry.hash = entry_hash(entry)
        insert_row(entry)
        for field, value in sorted((concealed or {}).items()):
            digest = concealed_digest(entry.hash, field, value)
            ConcealedValue.objects.create(entry=entry.id, field=field, digest=digest)
    return entry


def _next_link(chain: str) -> tuple[int, str]:
    """The new entry's id and the hash it follows, once this transaction holds ``chain``
    until it commits.

    On PostgreSQL the chain's advisory lock first (other chains write meanwhile),
    then one statement reads the table's sequence and the chain's newest hash:
    taken under the lock, ids rise along each chain in the order its entries are
    written, and the statement's snapshot, taken after the lock was granted, sees
    the entry its last holder committed. SQLite transactions are IMMEDIATE
    (settings), so one writer at a time holds the whole database and the next id
    is simply one past the last. Two statements, not three: every audited write
    of the site runs this (the diary's evening rush, issue 17).
    """
    table = AuditEntry._meta.db_table
    newest_hash = f"(SELECT hash FROM {table} WHERE chain = %s ORDER BY id DESC LIMIT 1)"
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SELECT pg_advisory_xact_lock(%s, hashtext(%s))", [CHAIN_LOCK, chain])
            next_id = f"nextval(pg_get_serial_sequence('{table}', 'id'))"
        else:
            next_id = f"(SELECT COALESCE(MAX(id), 0) + 1 FROM {table})"
        cursor.execute(f"SELECT {next_id}, {newest_hash}", [chain])
        entry_id, previous_hash = cursor.fetchone()
    return int(entry_id), previous_hash or GENESIS


def entry_hash(entry: AuditEntry) -> str:
    """The keyed hash of the previous hash and the entry's canonical content.

    The hash covers what is stored, so ``changes`` holds values as the
    database gives them back (PostgreSQL's jsonb: no negative zero, big floats as integers).
    """
    return keyed_hash(entry.previous_hash + canonical_content(entry))


def canonical_content(entry: AuditEntry) -> str:
    """The entry's content as the chain hashes it: sorted, compact JSON of its fields.

    The recipe is public (the migration that sealed older trails and the tampering
    tests use it too); only the key keeps a forger from recomputing the chain. An
    entry of the site's chain has no ``chain`` field, as before chains existed (the
    historical models of older migrations have no such field either).
    """
    content = {
        "id": entry.id,
        "at": entry.at.isoformat(timespec="microseconds"),
        "actor": entry.actor,
        "action": entry.action,
        "record": entry.record,
        "changes": entry.changes,
        "reason": entry.reason,
    }
    chain = getattr(entry, "chain", SITE_CHAIN)
    if chain != SITE_CHAIN:
        content["chain"] = chain
    return json.dumps(content, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def verify_chain() -> ChainReport:
    """Recompute every link of every chain; the first entry that does not check, by id.

    One pass in id order, keeping each chain's last hash: the chains are
    interleaved in the table as they were written.
    """
    last: dict[str, Head] = {}
    count = 0
    for entry in AuditEntry.objects.order_by("id").iterator(chunk_size=2000):
        count += 1
        before = last.get(entry.chain)
        if entry.previous_hash != (before.hash if before else GENESIS):
            return ChainReport(count, _heads(last), entry.id, _broken_link(entry, before))
        if entry_hash(entry) != entry.hash:
            return ChainReport(
                count,
                _heads(last),
                entry.id,
                "does not match its keyed hash (changed after writing, or written without "
                "this site's audit key)",
            )
        last[entry.chain] = Head(entry.id, entry.hash)
    return ChainReport(count, _heads(last))


def _heads(last: dict[str, Head]) -> tuple[Head, ...]:
    return tuple(sorted(last.values(), key=lambda head: head.entry))


def _broken_link(entry: AuditEntry, before: Head | None) -> str:
    """Why ``entry`` does not follow ``before``, the last entry of its chain found so far."""
    if entry.previous_hash == GENESIS:
        return "starts its chain again after other entries (entries before it were replaced)"
    if not AuditEntry.objects.filter(hash=entry.previous_hash).exists():
        return "the entry before it in its chain is missing (removed)"
    return "does not link to the entry before it in its chain"
