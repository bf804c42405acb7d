"""Staff with a confirmed authenticator give its code in every new session before any page."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse

from ldntrial.web.accounts.second_factor import confirmed_device


class SecondFactorMiddleware:
    """After django-otp's OTPMiddleware: sends an unverified session to the code page.

    With ``LDNTRIAL_REQUIRE_TOTP`` a user without a device is sent to set one up.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        user = request.user
        if not user.is_authenticated or _verified(user) or _exempt(request.path):
            return self.get_response(request)
        if confirmed_device(user) is not None:
            return redirect(f"{reverse('second_factor_verify')}?next={request.path}")
        if settings.LDNTRIAL_REQUIRE_TOTP:
            return redirect("second_factor_setup")
        return self.get_response(request)


def _verified(user: Any) -> bool:
    """Whether this session passed its second factor (``is_verified`` is django-otp's, set on
    the user by its OTPMiddleware, which runs before this one)."""
    return bool(user.is_verified())


def _exempt(path: str) -> bool:
    """The pages a half-signed-in user may reach: the code, the set-up, sign-out, static."""
    if path.startswith("/" + settings.STATIC_URL.lstrip("/")):
        return True
    return path in {reverse(name) for name in EXEMPT}


EXEMPT = ("second_factor_verify", "second_factor_setup", "logout")
