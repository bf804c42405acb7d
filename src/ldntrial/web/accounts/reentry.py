"""The password typed again to sign (unblind, lock, remove a second factor), with a limit.

Without one, a session left open would let anyone guess the password at the
signature forms as fast as she could type. Each refused password is an
entry in the audit trail (a monitor sees them), and the count of recent ones
there stops the guessing: the trail is shared by every server process,
where a count kept in memory would not be.
"""

from __future__ import annotations

from datetime import timedelta

from django.utils import timezone

from ldntrial.web.audit.chain import record_event, record_of
from ldntrial.web.audit.models import Action, AuditEntry
from ldntrial.web.audit.tracking import actor_for

__all__ = ["REFUSALS_ALLOWED", "REFUSAL_WINDOW", "password_problem"]

REFUSALS_ALLOWED = 5
REFUSAL_WINDOW = timedelta(minutes=15)
_REFUSED = "signature refused: the password did not match"


def password_problem(user, password: str, *, signing: str) -> str | None:
    """None when ``password`` is hers; else what to say under the password field.

    ``signing`` names what she was signing, for the trail. After
    :data:`REFUSALS_ALLOWED` wrong passwords within :data:`REFUSAL_WINDOW`
    the password is not even checked until the oldest of them is that old.
    """
    recent = AuditEntry.objects.filter(
        record=record_of(user),
        action=Action.SIGN,
        reason=_REFUSED,
        at__gte=timezone.now() - REFUSAL_WINDOW,
    ).count()
    if recent >= REFUSALS_ALLOWED:
        minutes = int(REFUSAL_WINDOW.total_seconds() // 60)
        return (
            f"{REFUSALS_ALLOWED} wrong passwords in {minutes} minutes: wait {minutes} minutes, "
            "or ask a colleague (every attempt is in the audit trail)"
        )
    if user.check_password(password):
        return None
    record_event(
        actor=actor_for(user),
        action=Action.SIGN,
        about=user,
        changes={"signature": [None, signing]},
        reason=_REFUSED,
    )
    return "does not match your password"
