"""Her personal diary link and her devices: codes and tokens shown once, kept only hashed.

Staff make the link at the visit (:func:`issue_diary_link`): ``/diary/#code=<code>``.
The code is in the fragment, which a browser never sends, so it reaches no
server's or proxy's access log; the page's script trades it once for a
device token (:func:`exchange_link`) and drops it from the address (D3). The
token then opens the diary API for as long as she is in the study, unless
staff revoke it (:func:`revoke_devices`). Both secrets are 256 random bits
and stored only as SHA-256 (SEC-SM-6).
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime, timedelta
from functools import cache

from django.core.exceptions import ValidationError
from django.db import connection, transaction

from ldntrial.web.audit.tracking import because
from ldntrial.web.diary.models import Device, DiaryLink
from ldntrial.web.rows import instance_from_row, select_list
from ldntrial.web.studies.models import Study
from ldntrial.web.trial.models import Participant

__all__ = [
    "LINK_LIFETIME",
    "LinkRefused",
    "code_sha256",
    "device_for",
    "exchange_link",
    "issue_diary_link",
    "link_path",
    "revoke_devices",
]

LINK_LIFETIME = timedelta(hours=72)  # handed over at the visit (standards.md D3)


def code_sha256(code: str) -> str:
    """The stored form of a code or token. Any text hashes (as UTF-8): one that no code
    could be, a non-ASCII one found by fuzzing, then matches nothing, as a wrong one does."""
    return hashlib.sha256(code.encode("utf-8")).hexdigest()


def link_path(code: str) -> str:
    """Her link's path: the code in the fragment, never sent in a request."""
    return f"/diary/#code={code}"


def issue_diary_link(
    participant: Participant, *, actor: str, now: datetime
) -> tuple[DiaryLink, str]:
    """A fresh link for her (earlier unused ones revoked); returns the record and the code."""
    if participant.status != Participant.Status.ACTIVE:
        raise ValidationError({"participant": f"she is {participant.status}: her diary is closed"})
    code = secrets.token_urlsafe(32)
    with transaction.atomic():
        with because("a new diary link was made"):
            for old in DiaryLink.objects.filter(
                participant=participant, used_at__isnull=True, revoked_at__isnull=True
            ):
                old.revoked_at = now
                old.save(actor=actor)
        link = DiaryLink.objects.create(
            participant=participant,
            code_sha256=code_sha256(code),
            created_at=now,
            expires_at=now + LINK_LIFETIME,
            actor=actor,
        )
    return link, code


class LinkRefused(Exception):
    """A link that cannot be traded: unknown, used, revoked or expired (one answer for all)."""

    message = "this link has been used or has expired; ask your study team for a new one"


def exchange_link(code: str, *, now: datetime) -> tuple[Device, str]:
    """Trade a personal link's code, once, for a device token; returns the device and token."""
    with transaction.atomic():
        link = (
            DiaryLink.objects.select_for_update()
            .select_related("participant__study")
            .filter(code_sha256=code_sha256(code))
            .first()
        )
        if link is None or not (
            link.used_at is None
            and link.revoked_at is None
            and link.expires_at > now
            and link.participant.status == Participant.Status.ACTIVE
        ):
            raise LinkRefused
        token = secrets.token_urlsafe(32)
        actor = f"participant:{link.participant.code}"  # she exchanges her own link
        with because("the link was used"):
            link.used_at = now
            link.save(actor=actor)
            device = Device.objects.create(
                participant=link.participant,
                link=link,
                token_sha256=code_sha256(token),
                created_at=now,
                actor=actor,
            )
    return device, token


def device_for(token: str) -> Device | None:
    """The live device holding ``token`` (not revoked, her diary open), else None.

    Every API call asks this first, so it is one plain query (device, her
    participant row and her study's), not the ORM's compiled join.
    """
    with connection.cursor() as cursor:
        cursor.execute(_device_sql(connection.vendor), [code_sha256(token)])
        row = cursor.fetchone()
    if row is None:
        return None
    device_end, participant_end = _row_split()
    device = instance_from_row(Device, row[:device_end])
    participant = instance_from_row(Participant, row[device_end:participant_end])
    participant.study = instance_from_row(Study, row[participant_end:])
    device.participant = participant
    if participant.status != Participant.Status.ACTIVE:
        return None
    return device


@cache
def _device_sql(vendor: str) -> str:
    return (
        f"SELECT {select_list(Device, 'd')}, {select_list(Participant, 'p')}, "
        f"{select_list(Study, 's')} FROM {Device._meta.db_table} d "
        f"JOIN {Participant._meta.db_table} p ON p.id = d.participant_id "
        f"JOIN {Study._meta.db_table} s ON s.id = p.study_id "
        "WHERE d.token_sha256 = %s AND d.revoked_at IS NULL"
    )


@cache
def _row_split() -> tuple[int, int]:
    devices = len(Device._meta.concrete_fields)
    return devices, devices + len(Participant._meta.concrete_fields)


def revoke_devices(participant: Participant, *, actor: str, now: datetime, reason: str) -> int:
    """Revoke every device and unused link of hers at once (a lost phone: SIG-6)."""
    count = 0
    with transaction.atomic(), because(reason):
        for device in Device.objects.filter(participant=participant, revoked_at__isnull=True):
            device.revoked_at = now
            device.save(actor=actor)
            count += 1
        for link in DiaryLink.objects.filter(
            participant=participant, used_at__isnull=True, revoked_at__isnull=True
        ):
            link.revoked_at = now
            link.save(actor=actor)
    return count
