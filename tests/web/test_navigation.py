"""Every staff page says where one is and how to go back; errors are pages with a way back."""

from __future__ import annotations

import pytest
from django.test import RequestFactory
from django.views.defaults import server_error

from ldntrial.web.trial.models import Participant

from .test_staff_pages import _client, _page
from .test_staff_pages import study as study  # the fixture

pytestmark = pytest.mark.django_db


def _crumbs(html: str) -> str:
    return html.split('aria-label="Where you are"', 1)[1].split("</nav>", 1)[0]


def _menu(html: str) -> str:
    return html.split('aria-label="Study menu"', 1)[1].split("</nav>", 1)[0]


def test_a_participants_page_shows_the_way_back_and_only_the_menu_her_roles_allow(study) -> None:
    person = Participant.objects.get(site__code="a")
    page = _client("cora").get(_page(study, "visit", participant=person.code, number=2)).text
    crumbs = _crumbs(page)
    assert ">Your studies</a>" in crumbs and f">{study.code}</a>" in crumbs
    assert f'/participants/{person.code}/">{person.code}</a>' in crumbs
    menu = _menu(page)
    assert ">Dashboard</a>" in menu and ">Screen</a>" in menu
    for hidden in ("Pharmacy", "Team", "Analysis", "Audit trail"):
        assert f">{hidden}</a>" not in menu, hidden
    pharmacist = _menu(_client("phil").get(_page(study, "pharmacy")).text)
    assert 'aria-current="page">Pharmacy</a>' in pharmacist


def test_not_found_and_not_allowed_are_pages_with_the_reason_and_a_way_back(study) -> None:
    missing = _client("cora").get(_page(study, "participant", participant="NOBODY"))
    assert missing.status_code == 404 and "<h1>Not found</h1>" in missing.text
    assert ">Back to your studies</a>" in missing.text
    person = Participant.objects.get(site__code="a")
    refused = _client("cora").post(_page(study, "unblind", participant=person.code), {})
    assert refused.status_code == 403 and "<h1>Not allowed</h1>" in refused.text
    assert "Your role here does not allow emergency_unblind." in refused.text
    assert ">Back to your studies</a>" in refused.text


def test_a_server_error_is_a_page_that_says_nothing_was_half_saved() -> None:
    response = server_error(RequestFactory().get("/"))
    body = response.content.decode()
    assert response.status_code == 500 and "Nothing you sent was half-saved" in body
    assert '<a href="/">Back to your studies</a>' in body
