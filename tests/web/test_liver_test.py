"""Methotrexate at screening: her record asks for a liver test before her first dose."""

from __future__ import annotations

from datetime import date

import pytest
from django.contrib.auth import get_user_model

from ldntrial.web.audit.tracking import because
from ldntrial.web.studies.models import Study
from ldntrial.web.trial.enrolment import enrol
from ldntrial.web.trial.liver_test import liver_test_of
from ldntrial.web.trial.models import LabResult, Participant
from ldntrial.web.trial.screening import record_screening, sign_off

from .test_staff_pages import _client, _page
from .test_staff_pages import study as study  # the fixture
from .test_trial import ELIGIBLE

pytestmark = pytest.mark.django_db


def _on_methotrexate(study: Study) -> Participant:
    screening = record_screening(
        study.sites.get(code="a"),
        {**ELIGIBLE, "medications": ["Trexall"]},
        date(2026, 3, 1),
        actor="user:3:cora",
    )
    assert screening.outcome == "needs_review"
    with because("methotrexate 15 mg weekly for years; liver test asked"):
        sign_off(screening, get_user_model().objects.get(username="ivan"), approve=True)
    return enrol(
        screening, enrolled_on=date(2026, 3, 2), timezone="Europe/Madrid", actor="user:3:cora"
    ).participant


def test_her_record_asks_for_the_test_and_takes_alt_and_ast_of_one_draw(study: Study) -> None:
    person = _on_methotrexate(study)
    test = liver_test_of(person)
    # crossover-2013: 14 days of baseline, first capsule on day 15 (16 March): due by 15 March
    assert test is not None and test.due_by == date(2026, 3, 15) and test.done_on is None
    assert "'Trexall' (methotrexate" in test.why
    assert test.state_on(date(2026, 3, 10)) == "due" and test.state_on(date(2026, 3, 16)) == (
        "overdue"
    )
    cora, url = _client("cora"), _page(study, "participant", participant=person.code)
    page = cora.get(url).text
    assert (
        "Liver test (ALT, AST) before her first dose:" in page and "overdue by 2026-03-15" in page
    )
    post = _page(study, "liver_test", participant=person.code)
    bad = cora.post(post, {"liver-sampled_on": "2026-03-12", "liver-alt": "-3", "liver-ast": "30"})
    assert bad.status_code == 422 and "must be a number of at least 0, got -3.0" in bad.text
    assert not LabResult.objects.filter(participant=person).exists()  # neither is stored
    done = cora.post(
        post, {"liver-sampled_on": "2026-03-12", "liver-alt": "24", "liver-ast": "30"}
    )
    assert done.status_code == 302
    assert "Liver test recorded: ALT 24 U/L, AST 30 U/L, drawn on 2026-03-12." in (
        cora.get(done["Location"]).text
    )
    assert liver_test_of(person).done_on == date(2026, 3, 12)
    assert "done, drawn on 2026-03-12" in cora.get(url).text


def test_a_woman_on_no_liver_stressing_drug_is_not_asked(study: Study) -> None:
    person = Participant.objects.get(site__code="a")
    assert liver_test_of(person) is None
    assert (
        "Liver test"
        not in _client("cora").get(_page(study, "participant", participant=person.code)).text
    )
