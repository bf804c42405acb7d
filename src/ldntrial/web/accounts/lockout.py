"""Who is guessing a password: the client's address, her own browsers, and the account.

django-axes counts failed sign-ins. Counted only per address (as before), a
guesser with many addresses had no limit, and behind the HTTPS proxy every
client had the proxy's address, so anyone could lock everyone out. Now:

- the address is the client's, read through the proxies the site says it
  has (``LDNTRIAL_TRUSTED_PROXIES``), never from a header anyone can write;
- a browser that has signed in as her before carries a signed cookie, and
  its failures count for that browser alone;
- from any other browser failures count per address and per account, so
  guessing from many addresses stops at the account's limit too.

An attacker hammering the investigator's account thus locks it for every
browser but her own, from which an emergency unblinding stays reachable.
"""

from __future__ import annotations

import hashlib

from django.conf import settings
from django.core import signing
from django.http import HttpRequest, HttpResponse

__all__ = [
    "DEVICE_COOKIE",
    "client_address",
    "lockout_parameters",
    "network_address",
    "remember_browser",
]

DEVICE_COOKIE = "ldntrial_browser"
_SALT = "ldntrial.accounts.browser"
_DEVICE_AGE = 365 * 24 * 3600


def client_address(request: HttpRequest) -> str:
    """The address failures count on: her browser's, else the client's address.

    axes keeps it in an IP address column (PostgreSQL's inet), so a known browser
    is written as an address in the discard-only prefix 100::/64 (RFC 6666),
    which no real client has.
    """
    browser = _known_browser(request)
    if browser is None:
        return network_address(request)
    groups = [browser[k : k + 4] for k in range(0, 16, 4)]
    return "100::" + ":".join(groups)


def lockout_parameters(request: HttpRequest, credentials: dict | None = None) -> list:
    """Per browser for her known browsers; per address and per account for any other."""
    if _known_browser(request, credentials):
        return [["username", "ip_address"]]
    return [["username", "ip_address"], "username"]


def remember_browser(response: HttpResponse, username: str) -> None:
    """After she signs in: this browser is hers from now on (a signed, HTTP-only cookie)."""
    response.set_cookie(
        DEVICE_COOKIE,
        signing.dumps(username, salt=_SALT),
        max_age=_DEVICE_AGE,
        httponly=True,
        secure=settings.SESSION_COOKIE_SECURE,
        samesite="Lax",
    )


def _known_browser(request: HttpRequest, credentials: dict | None = None) -> str | None:
    """A digest of the cookie if it was signed for the username now being tried."""
    cookie = request.COOKIES.get(DEVICE_COOKIE)
    username = (credentials or {}).get("username") or request.POST.get("username")
    if not cookie or not username:
        return None
    try:
        signed_for = signing.loads(cookie, salt=_SALT, max_age=_DEVICE_AGE)
    except signing.BadSignature:
        return None
    if signed_for != username:
        return None
    return hashlib.sha256(cookie.encode()).hexdigest()[:16]


def network_address(request: HttpRequest) -> str:
    """REMOTE_ADDR, or behind N trusted proxies the address the outermost one received from."""
    remote = request.META.get("REMOTE_ADDR", "")
    proxies = settings.LDNTRIAL_TRUSTED_PROXIES
    if not proxies:
        return remote
    forwarded = [a.strip() for a in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")]
    forwarded = [address for address in forwarded if address]
    # Each trusted proxy appends the address it received from; what the client wrote
    # herself stands further left and is not believed.
    return forwarded[-proxies] if len(forwarded) >= proxies else remote
