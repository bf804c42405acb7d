"""Her personal diary link: made by staff at enrolment, the code shown once, kept only hashed.

The link's page (the diary, which trades the code for a device token) is
``/diary/link/<code>``; the code is the last part of the address.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime, timedelta

from django.core.exceptions import ValidationError
from django.db import transaction

from ldntrial.web.audit.tracking import because
from ldntrial.web.diary.models import DiaryLink
from ldntrial.web.trial.models import Participant

__all__ = ["LINK_LIFETIME", "code_sha256", "issue_diary_link", "link_path"]

LINK_LIFETIME = timedelta(hours=72)  # handed over at the visit (standards.md D3)


def code_sha256(code: str) -> str:
    return hashlib.sha256(code.encode("ascii")).hexdigest()


def link_path(code: str) -> str:
    return f"/diary/link/{code}"


def issue_diary_link(participant: Participant, *, now: datetime) -> tuple[DiaryLink, str]:
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
                old.save()
        link = DiaryLink.objects.create(
            participant=participant,
            code_sha256=code_sha256(code),
            created_at=now,
            expires_at=now + LINK_LIFETIME,
        )
    return link, code
