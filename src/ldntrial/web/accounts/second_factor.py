"""A second factor for staff sign-in: a TOTP authenticator app (standards.md SEC-AU-4).

django-otp keeps the device, checks codes against the server clock within
one 30-second step either way, refuses a code used before, and slows down
guessing after each failure. A user who has confirmed a device must give a
code after her password in every new session; with ``LDNTRIAL_REQUIRE_TOTP``
every staff user must set one up before reaching any page. Adding or
removing a device is recorded in the audit trail (GCP-1: account changes).
"""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import transaction
from django_otp import login as otp_login
from django_otp.plugins.otp_totp.models import TOTPDevice

from ldntrial.web.accounts.reentry import password_problem
from ldntrial.web.audit.chain import record_event
from ldntrial.web.audit.models import Action
from ldntrial.web.audit.tracking import actor_for
from ldntrial.web.qr import qr_svg

__all__ = [
    "confirm_device",
    "confirmed_device",
    "forget_devices",
    "pending_device",
    "qr_code_svg",
    "remove_device",
    "verify_code",
]

ISSUER = "ldntrial"


def confirmed_device(user) -> TOTPDevice | None:
    return TOTPDevice.objects.filter(user=user, confirmed=True).first()


def pending_device(user) -> TOTPDevice:
    """Her device being set up (made once, until she confirms it with a first code)."""
    device = TOTPDevice.objects.filter(user=user, confirmed=False).first()
    return device or TOTPDevice.objects.create(user=user, name="authenticator", confirmed=False)


def qr_code_svg(device: TOTPDevice) -> str:
    """The device's otpauth:// address as an inline SVG QR code, for the authenticator app."""
    return qr_svg(device.config_url, title="QR code for your app")


def confirm_device(request, device: TOTPDevice, code: str) -> TOTPDevice:
    """Her first code confirms the device, and this session counts as verified."""
    if not device.verify_is_allowed()[0]:
        raise ValidationError({"code": "too many wrong codes; wait a little and try again"})
    if not device.verify_token(code.strip()):
        raise ValidationError({"code": "does not match: type the 6 digits your app shows now"})
    with transaction.atomic():
        device.confirmed = True
        device.save()
        record_event(
            actor=actor_for(request.user),
            action=Action.UPDATE,
            about=request.user,
            changes={"second_factor": [None, "TOTP authenticator"]},
            reason="second factor set up by the user",
        )
    otp_login(request, device)
    return device


def verify_code(request, code: str) -> TOTPDevice:
    """Check a sign-in code against her confirmed device; the session is verified if it holds."""
    device = confirmed_device(request.user)
    if device is None:
        raise ValidationError({"code": "you have no authenticator set up"})
    allowed, _details = device.verify_is_allowed()
    if not allowed:
        raise ValidationError({"code": "too many wrong codes; wait a little and try again"})
    if not device.verify_token(code.strip()):
        raise ValidationError({"code": "does not match, or was used already: type the new one"})
    otp_login(request, device)
    return device


def remove_device(request, password: str, code: str) -> None:
    """Remove her authenticator: her password and a code from it; recorded in the trail.

    The code proves she holds the authenticator: with the password alone, a
    session half signed in with a stolen password could remove the second
    factor (and, where it is required, enrol the thief's own). Without her
    phone an administrator resets it (``ldntrial manage reset_second_factor``).
    """
    device = confirmed_device(request.user)
    # The password before the code, so as not to spend the code on a wrong password.
    if problem := password_problem(request.user, password, signing="removing a second factor"):
        raise ValidationError({"password": problem})
    if device is None:
        raise ValidationError({"code": "you have no authenticator set up"})
    if not device.verify_is_allowed()[0]:
        raise ValidationError({"code": "too many wrong codes; wait a little and try again"})
    if not device.verify_token(code.strip()):
        raise ValidationError({"code": "does not match, or was used already: type the new one"})
    forget_devices(request.user, actor=actor_for(request.user), reason="removed by the user")


def forget_devices(user, *, actor: str, reason: str) -> None:
    """Delete every authenticator of ``user``, in the trail as ``actor`` with ``reason``."""
    with transaction.atomic():
        TOTPDevice.objects.filter(user=user).delete()
        record_event(
            actor=actor,
            action=Action.UPDATE,
            about=user,
            changes={"second_factor": ["TOTP authenticator", None]},
            reason=f"second factor {reason}",
        )
