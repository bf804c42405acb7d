"""Who is told when something happens to a study, and the audit trail's head sent out to keep.

A chain whose newest entries were cut off still checks link by link, so the
head of each chain (each study's, and the site's) must be witnessed outside
the database: :func:`send_audit_head_notice` emails them to every study
administrator of the site, on each database lock and whenever ``ldntrial
manage send_audit_head`` runs (daily, by cron). Kept emails are what
``ldntrial manage verify_audit --head ID:HASH ...`` checks. The trail hides
allocations identically in every arm, so the heads tell a blinded reader
nothing.
"""

from __future__ import annotations

from collections.abc import Iterable

from django.contrib.auth import get_user_model
from django.core.mail import send_mail
from django.utils import timezone

from ldntrial.web.audit.chain import current_heads
from ldntrial.web.studies.models import Study
from ldntrial.web.studies.roles import Role

__all__ = ["recipients", "send_audit_head_notice"]


def recipients(roles: Iterable[Role], study: Study | None = None) -> list[str]:
    """The email addresses of active users holding one of ``roles`` (in ``study``, or any)."""
    # One filter() call: the same membership must hold the role, be current and be in the study.
    held = {"memberships__role__in": list(roles), "memberships__ended_at__isnull": True}
    if study is not None:
        held["memberships__study"] = study
    users = get_user_model().objects.filter(is_active=True, **held)
    return sorted({user.email for user in users if user.email})


def send_audit_head_notice(*, occasion: str) -> list[str]:
    """Email every chain's head to every study administrator; returns who was sent them."""
    heads = current_heads()
    to = recipients([Role.STUDY_ADMIN])
    if not heads or not to:
        return []
    kept = " ".join(f"--head {head}" for head in heads)
    send_mail(
        subject=f"ldntrial audit trail heads: entry {heads[-1].entry}",
        message=(
            f"On {timezone.now():%Y-%m-%d %H:%M} UTC ({occasion}) the audit trail of this "
            f"site ended at these entries, one per chain (each study's, and the site's):\n\n"
            + "".join(f"    {head}\n" for head in heads)
            + "\nKeep this message. To check later that no entry was cut off or rewritten, "
            f"run\n    ldntrial manage verify_audit {kept}\n"
        ),
        from_email=None,
        recipient_list=to,
    )
    return to
