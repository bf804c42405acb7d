"""Anti-automation on trading link codes (standards.md SEC-RL-1): many refusals, then a pause.

A code is 256 random bits, so guessing one is hopeless anyway; the limit
stops a script from trying, without getting in the way of a woman who taps
her used link again, or of a clinic whose patients share one address: it
counts refusals only, per address, over an hour. The address is read as the
staff sign-in limit reads it, through the proxies the site says it has
(:func:`ldntrial.web.accounts.lockout.network_address`).
"""

from __future__ import annotations

from datetime import datetime, timedelta

from django.http import HttpRequest

from ldntrial.web.accounts.lockout import network_address
from ldntrial.web.diary.models import RefusedLink

__all__ = ["REFUSALS_ALLOWED", "REFUSAL_WINDOW", "note_refusal", "too_many_refusals"]

REFUSALS_ALLOWED = 20
REFUSAL_WINDOW = timedelta(hours=1)


def too_many_refusals(request: HttpRequest, *, now: datetime) -> bool:
    """True once this address has had ``REFUSALS_ALLOWED`` codes refused within the window."""
    recent = RefusedLink.objects.filter(
        address=network_address(request), at__gt=now - REFUSAL_WINDOW
    )
    return recent.count() >= REFUSALS_ALLOWED


def note_refusal(request: HttpRequest, *, now: datetime) -> None:
    RefusedLink.objects.filter(at__lte=now - REFUSAL_WINDOW).delete()
    RefusedLink.objects.create(address=network_address(request), at=now)
