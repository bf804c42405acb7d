"""Kits that say what they are: lots on the pharmacy's list, labels that tell no arm.

The pharmacist records the lot each kit was filled from; a kit without a lot,
or with a lot that expires before its label's use-by date, does not go out.
Two women in different arms receive labels that differ only in their kit
code and their own number, and the lot never reaches a blinded role.
"""

from __future__ import annotations

import re
from datetime import date

import pytest
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError

from ldntrial.protocol.loader import builtin_protocol_text
from ldntrial.web.audit.tracking import because
from ldntrial.web.studies.models import Site, Study
from ldntrial.web.trial.concealed import KitLot, contents_of, lot_of, sequence_of
from ldntrial.web.trial.dispensing import dispense_visit_kits
from ldntrial.web.trial.dose import apply_dose_reduction, order_dose_reduction
from ldntrial.web.trial.enrolment import enrol
from ldntrial.web.trial.kit_lots import kit_use_by, record_lot
from ldntrial.web.trial.models import Kit, Participant
from ldntrial.web.trial.pharmacy import generate_allocation
from ldntrial.web.trial.screening import record_screening

from .test_staff_pages import _client, _page
from .test_staff_pages import study as study  # the fixture
from .test_trial import ELIGIBLE

pytestmark = pytest.mark.django_db


def _one_of_each_arm(study: Study) -> tuple[Participant, Participant]:
    """Two women of site a whose sequences differ (more are enrolled until there are)."""
    site = study.sites.get(code="a")
    while True:
        people = list(Participant.objects.filter(site=site).select_related("slot"))
        by_sequence = {sequence_of(person): person for person in people}
        if len(by_sequence) == 2:
            return by_sequence["ldn-first"], by_sequence["placebo-first"]
        screening = record_screening(site, ELIGIBLE, date(2026, 3, 1), actor="system:test")
        enrol(
            screening, enrolled_on=date(2026, 3, 2), timezone="Europe/Madrid", actor="system:test"
        )


def _refused(study: Study, codes: list[str], **dates) -> dict[str, list[str]]:  # type: ignore[no-untyped-def]
    before = list(
        Kit.objects.order_by("pk").values_list("concealed_lot", "concealed_beyond_use_on")
    )
    with pytest.raises(ValidationError) as caught:
        record_lot(
            study,
            codes,
            "L-9",
            dates.pop("compounded_on", date(2026, 3, 9)),
            **dates,
            actor="user:4:phil",
        )
    assert (
        list(Kit.objects.order_by("pk").values_list("concealed_lot", "concealed_beyond_use_on"))
        == before
    )
    return caught.value.message_dict


def test_a_lot_is_one_preparation_that_keeps_until_the_label_says(study: Study) -> None:
    ldn, placebo = _one_of_each_arm(study)
    first_ldn = ldn.slot.kits.get(dispense_visit=2)  # day 15: her first treated phase
    first_placebo = placebo.slot.kits.get(dispense_visit=2)
    mixed = _refused(study, [first_ldn.code, first_placebo.code])
    assert (
        "one lot is one preparation, and these kits hold ldn 4.5 mg and placebo"
        in (mixed["kits"][0])
    )
    assert _refused(study, ["0000-0000-0"])["kits"] == [
        "no kit with code 0000-0000-0 in the study"
    ]
    assert _refused(study, [first_ldn.code], compounded_on=date(2099, 1, 1))["compounded_on"] == [
        "in the future"
    ]
    too_long = _refused(study, [first_ldn.code], beyond_use_on=date(2026, 9, 6))
    assert too_long["beyond_use_on"][0].startswith(
        "at most 180 days after compounding (2026-09-05)"
    )
    # her kit of days 15 to 28 with 3 spare days: used by day 31, 1 April
    assert kit_use_by(first_ldn) == date(2026, 4, 1)
    too_soon = _refused(study, [first_ldn.code], beyond_use_on=date(2026, 3, 31))
    assert too_soon["beyond_use_on"] == [
        f"kit {first_ldn.code} must keep until 2026-04-01 (its last day and spare days): "
        "use a lot that keeps that long"
    ]
    (filled,) = record_lot(
        study, [first_ldn.code], "L-1", date(2026, 3, 9), date(2026, 4, 1), actor="user:4:phil"
    )
    assert lot_of(filled) == KitLot("L-1", date(2026, 4, 1))
    dispense_visit_kits(ldn, 2, date(2026, 3, 16), actor="user:4:phil")
    assert _refused(study, [first_ldn.code])["kits"] == [f"already dispensed: {first_ldn.code}"]


def test_a_kit_whose_lot_expires_too_soon_does_not_go_out(study: Study) -> None:
    ldn, _ = _one_of_each_arm(study)
    kit = ldn.slot.kits.get(dispense_visit=2)
    record_lot(study, [kit.code], "L-1", date(2026, 3, 9), actor="user:4:phil")
    stale = Kit.objects.get(pk=kit.pk)
    stale.concealed_beyond_use_on = date(2026, 3, 30)
    with because("the lot's beyond-use date corrected"):
        stale.save(actor="user:4:phil")
    with pytest.raises(ValidationError) as caught:
        dispense_visit_kits(ldn, 2, date(2026, 3, 16), actor="user:4:phil")
    assert caught.value.message_dict["visit"] == [
        f"kit {kit.code}'s lot L-1 is beyond use on 2026-03-30, before the label's use-by "
        "date 2026-04-01: fill it from a newer lot"
    ]


def _labels(html: str, person: Participant, kit: Kit) -> str:
    """The label sections, her kit code and her own number replaced by placeholders."""
    sections = "".join(re.findall(r'<section class="kit-label".*?</section>', html, re.S))
    assert sections, html
    return (
        sections.replace(kit.code, "<code>")
        .replace(person.code, "<her>")
        .replace(person.slot.randomisation_number, "<number>")
    )


def test_labels_of_two_arms_differ_only_in_the_kit_code_and_her_number(study: Study) -> None:
    ldn, placebo = _one_of_each_arm(study)
    pharmacist = _client("phil")
    seen = []
    for person in (ldn, placebo):
        kit = person.slot.kits.get(dispense_visit=2)
        assert contents_of(kit).condition == ("ldn" if person is ldn else "placebo")
        page = pharmacist.get(_page(study, "kit_labels", participant=person.code, number=2))
        assert page.status_code == 200
        seen.append(_labels(page.text, person, kit))
    assert seen[0] == seen[1]
    for text in (
        "LDN crossover", "Kit <code>", "<her> (<number>)",
        "LDN 4.5 mg or Placebo (identical capsule)", "17 capsules",
        "Take 1 capsule at bedtime every day", "2026-04-01", "For clinical trial use only",
    ):  # fmt: skip
        assert text in seen[0], text
    # The label page is the pharmacy's: no blinded role opens it.
    url = _page(study, "kit_labels", participant=ldn.code, number=2)
    for name in ("cora", "ivan", "rita", "mona", "stan"):
        assert _client(name).get(url).status_code == 403, name


def test_the_lot_and_its_dates_stay_off_what_blinded_roles_read(study: Study) -> None:
    ldn, _ = _one_of_each_arm(study)
    kit = ldn.slot.kits.get(dispense_visit=2)
    pharmacist = _client("phil")
    answer = pharmacist.post(
        _page(study, "pharmacy"),
        {"form": "lot", "kits": kit.code, "lot": "LDN-4.5-0309", "compounded_on": "2026-03-09"},
    )
    assert answer.status_code == 302
    assert f"Lot LDN-4.5-0309 recorded for {kit.code}." in pharmacist.get(answer["Location"]).text
    for name in ("mona", "adam"):
        trail = _client(name).get(_page(study, "audit") + "?record=trial.Kit").text
        assert "lot recorded" in trail
        for secret in ("LDN-4.5-0309", "2026-09-05", "2026-03-09"):
            assert secret not in trail, (name, secret)
    response = _client("mona").get(_page(study, "audit_csv"))
    csv = b"".join(response.streaming_content).decode()
    assert "lot recorded" in csv and "LDN-4.5-0309" not in csv and "2026-09-05" not in csv


def test_a_dose_reduction_sends_every_kit_back_to_be_filled_again(study: Study) -> None:
    ldn, _ = _one_of_each_arm(study)
    waiting = list(ldn.slot.kits.order_by("kit_number"))
    for kit in waiting:
        record_lot(study, [kit.code], f"L-{kit.kit_number}", date(2026, 3, 9), actor="user:4:phil")
    ivan = get_user_model().objects.get(username="ivan")
    order = order_dose_reduction(ldn, ivan, "vivid dreams since day 16")
    apply_dose_reduction(order, actor="user:4:phil")
    after = list(ldn.slot.kits.order_by("kit_number"))
    assert all(lot_of(kit) is None and kit.reduced for kit in after)
    assert {contents_of(kit).dose_mg for kit in after if contents_of(kit).condition == "ldn"} == {
        3.0
    }


@pytest.fixture
def liquid_study() -> Study:
    """crossover-2013 with a preserved liquid, 5 mL every evening at bedtime."""
    text = builtin_protocol_text("crossover-2013").replace(
        "capsules_per_day = 1\nspare_days = 3",
        'form = "liquid"\nml_per_day = 5\npreserved = true\nspare_days = 3',
    )
    liquid = Study.objects.create(
        code="liquid", title="LDN liquid", protocol_text=text, actor="system:test"
    )
    site = Site.objects.create(study=liquid, code="a", name="Site A", actor="system:test")
    generate_allocation(liquid, per_stratum=4, seed=3, actor="system:test")
    screening = record_screening(site, ELIGIBLE, date(2026, 3, 1), actor="system:test")
    enrol(screening, enrolled_on=date(2026, 3, 2), timezone="Europe/Madrid", actor="system:test")
    return liquid


def test_a_liquid_kit_holds_its_dose_in_its_concentration(liquid_study: Study) -> None:
    person = Participant.objects.get(study=liquid_study)
    kits = {contents_of(kit).condition: kit for kit in person.slot.kits.all()}
    assert (
        contents_of(kits["ldn"]).mg_per_ml == pytest.approx(0.9)
        and contents_of(kits["placebo"]).mg_per_ml == 0.0
    )
    assert kits["ldn"].capsules == kits["placebo"].capsules == 85  # 17 days of 5 mL
    with pytest.raises(ValidationError) as too_long:
        record_lot(
            liquid_study,
            [kits["ldn"].code],
            "L-1",
            date(2026, 3, 9),
            date(2026, 4, 14),
            actor="user:4:phil",
        )
    assert "at most 35 days after compounding (2026-04-13)" in str(too_long.value)
    kit = person.slot.kits.get(dispense_visit=2)
    page = _client_of(liquid_study).get(
        _page(liquid_study, "kit_labels", participant=person.code, number=2)
    )
    assert "85 mL" in page.text and "Take 5 mL at bedtime every day" in page.text
    assert "mg/mL" not in page.text.split("<section", 1)[1]  # the label shows no concentration
    pharmacy = _client_of(liquid_study).get(_page(liquid_study, "pharmacy")).text
    assert f"<td>{kit.code}</td>" in pharmacy and "mg/mL" in pharmacy and "85 mL" in pharmacy


def _client_of(study: Study):  # type: ignore[no-untyped-def]
    """The pharmacist of ``study`` (a new account: the fixture's cast belongs to another)."""
    from django.test import Client

    from ldntrial.web.studies.models import Membership
    from ldntrial.web.studies.roles import Role

    user, _ = get_user_model().objects.get_or_create(username=f"pharm-{study.code}")
    role = {"user": user, "study": study, "site": study.sites.get(code="a")}
    if not Membership.objects.filter(**role, role=Role.PHARMACIST).exists():
        Membership.objects.create(**role, role=Role.PHARMACIST, actor="system:test")
    client = Client()
    client.force_login(user)
    return client
