"""Bad input at the site: a 4xx naming the field and the rule, nothing stored, never a 500.

Each case was found by fuzzing or by hand on the demo, where it answered 500
or stored a wrong value quietly (a lab value 1,5 as 15, a consent in 2099).
"""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from ldntrial.web.trial.dates import local_today
from ldntrial.web.trial.models import Kit, LabResult, Participant, Screening, Visit

from .test_staff_pages import _client, _form, _page, _visit_values, study  # noqa: F401

pytestmark = pytest.mark.django_db

TODAY = timezone.localdate()


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"consent_on": "2099-03-05"}, "in the future"),
        ({"consent_on": "1900-03-05"}, "before 2000: a typing error?"),
        ({"esr_mm_h": "999"}, "less than or equal to 200"),
        ({"symptom_months": str(10**30)}, "less than or equal to 1440"),
    ],
)
def test_a_screening_with_an_impossible_answer_is_refused(study, changes, message) -> None:  # noqa: F811
    before = Screening.objects.count()
    response = _client("cora").post(
        _page(study, "screen"), {**_form(study.sites.get(code="a").pk), **changes}
    )
    assert response.status_code == 422 and message in response.text, response.text[-2000:]
    assert Screening.objects.count() == before


def _screened(study) -> int:  # noqa: F811
    made = _client("cora").post(
        _page(study, "screen"),
        {**_form(study.sites.get(code="a").pk), "consent_on": str(TODAY - timedelta(days=3))},
    )
    assert made.status_code == 302, made.content[-1500:]
    return int(made["Location"].rstrip("/").split("/")[-1])


@pytest.mark.parametrize(
    ("enrolled_on", "message"),
    [
        ("1900-03-06", "before her consent"),
        ("2100-03-06", "in the future"),
        (str(TODAY - timedelta(days=5)), "before her consent"),
    ],
)
def test_an_enrolment_dated_before_consent_or_in_the_future_is_refused(
    study,  # noqa: F811
    enrolled_on,
    message,
) -> None:
    number = _screened(study)
    before = Participant.objects.count()
    response = _client("cora").post(
        _page(study, "enrol", number=number),
        {"enrolled_on": enrolled_on, "timezone": "Europe/Madrid"},
    )
    assert response.status_code == 422 and message in response.text
    assert Participant.objects.count() == before


def _woman_enrolled_today(study) -> Participant:  # noqa: F811
    number = _screened(study)
    done = _client("cora").post(
        _page(study, "enrol", number=number),
        {"enrolled_on": str(local_today("Europe/Madrid")), "timezone": "Europe/Madrid"},
    )
    assert done.status_code == 302
    return Participant.objects.get(screening__number=number, study=study)


def test_a_visit_in_the_future_is_refused_and_its_form_never_offers_a_future_day(study) -> None:  # noqa: F811
    person = _woman_enrolled_today(study)
    url = _page(study, "visit", participant=person.code, number=2)  # two weeks ahead
    form = _client("rita").get(url)
    assert form.status_code == 200
    # her today (Madrid), not the planned day: the server's date differs near midnight
    assert f'value="{local_today("Europe/Madrid"):%Y-%m-%d}"' in form.text
    planned = person.enrolled_on + timedelta(days=14)
    response = _client("rita").post(url, _visit_values(held_on=str(planned)))
    assert response.status_code == 422 and "in the future" in response.text
    assert not Visit.objects.filter(participant=person, number=2).exists()


def test_a_capsule_count_beyond_any_kit_is_refused(study) -> None:  # noqa: F811
    person = Participant.objects.filter(study=study).order_by("code").first()
    url = _page(study, "visit", participant=person.code, number=3)
    values = _visit_values(held_on="2026-03-30", capsule_count="1e30", tolerability="50")
    response = _client("rita").post(url, values)
    assert response.status_code == 422 and "Capsules returned" in response.text
    assert not Visit.objects.filter(participant=person, number=3).exists()


@pytest.mark.parametrize(
    ("on", "message"),
    [
        ("2999-01-01", "in the future"),
        ("2026-03-03", "before visit 2&#x27;s window opens"),  # visit 2 is due 2026-03-16
    ],
)
def test_a_kit_dispensed_in_the_future_or_long_before_its_visit_is_refused(
    study,  # noqa: F811
    on,
    message,
) -> None:
    person = Participant.objects.filter(study=study).order_by("code").first()
    dispense = {"form": "dispense", "participant": person.code, "visit": "2", "on": on}
    response = _client("phil").post(_page(study, "pharmacy"), dispense)
    assert response.status_code == 422 and message in response.text
    assert not Kit.objects.filter(slot=person.slot, dispensed_on__isnull=False).exists()


@pytest.mark.parametrize("order", ["abc", "999", ""])
def test_an_unknown_dose_reduction_order_is_named_not_a_500(study, order) -> None:  # noqa: F811
    response = _client("phil").post(
        _page(study, "pharmacy"), {"form": "apply_reduction", "order": order}
    )
    assert response.status_code == 422
    assert "Order: no dose reduction waiting with number" in response.text


@pytest.mark.parametrize(
    ("cell", "message"),
    [
        ('"1,5"', "has a comma: write decimals with a point"),  # as a decimal-comma
        ('"12,5"', "has a comma: write decimals with a point"),  # spreadsheet quotes it
        ("9" * 140_000, "cannot be read as CSV: field larger than field limit"),
    ],
)
def test_a_lab_value_that_cannot_be_read_exactly_is_refused(study, cell, message) -> None:  # noqa: F811
    person = Participant.objects.filter(study=study).order_by("code").first()
    plate = f"participant_id,sampled_on,esr (mm/h)\n{person.code},2026-03-10,{cell}\n"
    upload = SimpleUploadedFile("esr.csv", plate.encode(), content_type="text/csv")
    response = _client("cora").post(
        _page(study, "lab_import"), {"step": "preview", "panel": "esr", "file": upload}
    )
    assert response.status_code in (200, 422) and message in response.text
    assert "nothing will be imported until the file is corrected" in response.text
    assert not LabResult.objects.filter(participant=person).exists()


def test_a_nul_in_an_address_is_a_404_not_a_500(study) -> None:  # noqa: F811
    for url in (
        f"/studies/{study.code}/participants/A%00B/",
        "/diary/abc%00def",
        f"/studies/{study.code}/audit/?action=%00",
    ):
        response = _client("mona").get(url)
        assert response.status_code == 400 and b"NUL character" in response.content, url


def test_dates_are_checked_on_every_path_not_only_the_forms(study) -> None:  # noqa: F811
    from django.core.exceptions import ValidationError

    from ldntrial.web.trial.screening import record_screening

    from .test_trial import ELIGIBLE

    with pytest.raises(ValidationError, match="in the future"):
        record_screening(
            study.sites.get(code="a"), ELIGIBLE, date(2099, 1, 1), actor="system:test"
        )
