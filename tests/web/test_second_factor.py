"""The optional second factor (TOTP, django-otp): set up, asked in every new session, removed."""

from __future__ import annotations

import time

import pytest
from django.contrib.auth import get_user_model
from django.test import Client
from django.urls import reverse
from django_otp.oath import TOTP
from django_otp.plugins.otp_totp.models import TOTPDevice

from ldntrial.web.audit.models import AuditEntry

pytestmark = pytest.mark.django_db

PASSWORD = "correct horse battery staple"


@pytest.fixture
def user():  # type: ignore[no-untyped-def]
    return get_user_model().objects.create_user("ivan", password=PASSWORD)


def _code(device: TOTPDevice, steps_ahead: int = 0) -> str:
    totp = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift)
    totp.time = time.time() + steps_ahead * device.step
    return f"{totp.token():06d}"


def _signed_in(password: str = PASSWORD) -> Client:
    client = Client()
    response = client.post(reverse("login"), {"username": "ivan", "password": password})
    assert response.status_code == 302
    return client


def _set_up(client: Client) -> TOTPDevice:
    page = client.get(reverse("second_factor_setup"))
    assert page.status_code == 200 and "<svg" in page.text and page["Cache-Control"] == "no-store"
    device = TOTPDevice.objects.get(confirmed=False)
    done = client.post(reverse("second_factor_setup"), {"step": "confirm", "code": _code(device)})
    assert done.status_code == 302
    device.refresh_from_db()
    return device


def test_setting_it_up_needs_a_right_first_code_and_is_audited(user) -> None:
    client = _signed_in()
    client.get(reverse("second_factor_setup"))
    wrong = client.post(reverse("second_factor_setup"), {"step": "confirm", "code": "000000"})
    assert wrong.status_code == 422 and "does not match" in wrong.text
    assert not TOTPDevice.objects.filter(confirmed=True).exists()
    TOTPDevice.objects.get().throttle_reset()  # each failure makes her wait before the next try
    device = _set_up(client)
    assert device.confirmed
    entry = AuditEntry.objects.get(record=f"auth.User:{user.pk}")
    assert entry.changes == {"second_factor": [None, "TOTP authenticator"]}
    assert "is set up" in client.get(reverse("second_factor_setup")).text


def test_every_new_session_asks_for_the_code_and_a_code_works_once(user) -> None:
    device = _set_up(_signed_in())
    client = _signed_in()
    blocked = client.get(reverse("staff:studies"))
    assert blocked.status_code == 302 and blocked["Location"].startswith(
        reverse("second_factor_verify")
    )
    assert client.get("/admin/").status_code == 302  # the admin too
    wrong = client.post(reverse("second_factor_verify"), {"code": "123456"})
    assert wrong.status_code == 422
    too_soon = client.post(reverse("second_factor_verify"), {"code": _code(device, 1)})
    assert too_soon.status_code == 422 and "wait a little" in too_soon.text  # throttled
    TOTPDevice.objects.get().throttle_reset()  # as if she waited
    code = _code(device, steps_ahead=1)  # the first code was spent by the set-up
    done = client.post(reverse("second_factor_verify"), {"code": code, "next": "/"})
    assert done.status_code == 302 and client.get(reverse("staff:studies")).status_code == 200
    other = _signed_in()
    replay = other.post(reverse("second_factor_verify"), {"code": code})
    assert replay.status_code == 422 and "used already" in replay.text


def test_a_next_address_off_the_site_is_not_followed(user) -> None:
    device = _set_up(_signed_in())
    client = _signed_in()
    response = client.post(
        reverse("second_factor_verify"),
        {"code": _code(device, steps_ahead=1), "next": "https://evil.example/"},
    )
    assert response["Location"] == reverse("staff:studies")


def test_removing_it_needs_the_password_and_a_code_from_it(user, settings) -> None:
    """A stolen password alone, in a half-signed-in session, once removed the factor; with
    LDNTRIAL_REQUIRE_TOTP the thief then enrolled her own authenticator."""
    settings.LDNTRIAL_REQUIRE_TOTP = True
    device = _set_up(_signed_in())
    thief = _signed_in()  # the password, and no phone
    url = reverse("second_factor_setup")
    for attempt in ({"password": PASSWORD}, {"password": PASSWORD, "code": "123456"}):
        refused = thief.post(url, {"step": "remove", **attempt})
        assert refused.status_code == 422 and TOTPDevice.objects.filter(confirmed=True).exists()
        assert "Code from your authenticator app:" in refused.text
    device.refresh_from_db()
    device.throttle_reset()
    owner = _signed_in()
    wrong = owner.post(url, {"step": "remove", "password": "no", "code": _code(device, 1)})
    assert wrong.status_code == 422 and TOTPDevice.objects.exists()
    right = owner.post(url, {"step": "remove", "password": PASSWORD, "code": _code(device, 1)})
    assert right.status_code == 302 and not TOTPDevice.objects.exists()
    entry = AuditEntry.objects.filter(record=f"auth.User:{user.pk}").latest("id")
    assert entry.changes == {"second_factor": ["TOTP authenticator", None]}


def test_an_administrator_resets_a_lost_authenticator_on_the_record(user) -> None:
    from django.core.management import CommandError, call_command

    _set_up(_signed_in())
    with pytest.raises(CommandError, match="--reason"):
        call_command("reset_second_factor", "ivan", "--by", "Ana")
    call_command(
        "reset_second_factor", "ivan", "--reason", "ID checked in person", "--by", "Ana Ruiz"
    )
    assert not TOTPDevice.objects.exists()
    entry = AuditEntry.objects.filter(record=f"auth.User:{user.pk}").latest("id")
    assert entry.actor == "admin:Ana Ruiz" and entry.reason.endswith("ID checked in person")


def test_when_required_a_user_without_one_is_sent_to_set_it_up(user, settings) -> None:
    settings.LDNTRIAL_REQUIRE_TOTP = True
    client = _signed_in()
    response = client.get(reverse("staff:studies"))
    assert response.status_code == 302 and response["Location"] == reverse("second_factor_setup")
    _set_up(client)
    assert client.get(reverse("staff:studies")).status_code == 200
