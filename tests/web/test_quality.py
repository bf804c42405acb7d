"""Data quality on the site: queries raised, answered by correction and closed; forms verified
against their source until they change; the investigator's signature voided by a later change."""

from __future__ import annotations

import re

import pytest

from ldntrial.web.quality.models import DataQuery
from ldntrial.web.trial.models import Participant

from .test_staff_pages import PASSWORD, _client, _page, _visit_values
from .test_staff_pages import study as study  # the fixture

pytestmark = pytest.mark.django_db


def _her_page(name: str, study, person) -> str:  # type: ignore[no-untyped-def]
    return _client(name).get(_page(study, "participant", participant=person.code)).text


def test_a_query_is_raised_answered_by_a_correction_and_closed(study) -> None:
    person = Participant.objects.get(site__code="a")
    visit_url = _page(study, "visit", participant=person.code, number=2)
    assert _client("rita").post(visit_url, _visit_values()).status_code == 302
    visit = person.visits.get(number=2)
    monitor = _client("mona")
    raised = monitor.post(
        _page(study, "query_raise", participant=person.code),
        {"query-record": f"trial.Visit:{visit.pk}", "query-field": "heat_threshold",
         "query-text": "44.5 °C is above the source worksheet's 43.5"},
        follow=True,
    )  # fmt: skip
    query = DataQuery.objects.get()
    assert f"Query {query.pk} raised" in raised.text
    assert "visit 2 (2026-03-16): heat_threshold" in raised.text
    empty = monitor.post(
        _page(study, "query_raise", participant=person.code),
        {"query-record": f"trial.Visit:{visit.pk}", "query-text": ""},
    )
    assert empty.status_code == 422 and "The question: This field is required." in empty.text

    # The coordinator corrects the value (with its reason) and answers the query.
    corrected = _client("rita").post(
        visit_url, _visit_values(heat_threshold="43.5", reason="query: transcription")
    )
    assert corrected.status_code == 302
    step = _page(study, "query_step", participant=person.code, number=query.pk)
    assert _client("rita").post(step, {"step": "answer", "answer": "x"}).status_code == 403
    answered = _client("cora").post(
        step, {"step": "answer", "answer": "corrected to 43.5 from the worksheet"}, follow=True
    )
    assert f"Query {query.pk} answered; the monitor closes it." in answered.text
    assert _client("cora").post(step, {"step": "close"}).status_code == 403
    closed = monitor.post(step, {"step": "close"}, follow=True)
    assert f"Query {query.pk} closed." in closed.text
    query.refresh_from_db()
    assert query.status == "closed" and query.answer.startswith("corrected to 43.5")
    again = monitor.post(step, {"step": "close"})
    assert again.status_code == 422 and "already closed" in again.text


def test_protocol_checks_raise_queries_themselves(study) -> None:
    person = Participant.objects.get(site__code="a")
    late = _client("rita").post(
        _page(study, "visit", participant=person.code, number=2),
        _visit_values(held_on="2026-03-25"),
    )
    assert late.status_code == 302
    (query,) = DataQuery.objects.filter(automatic=True)
    assert (
        query.field == "held_on" and "outside its window (2026-03-13 to 2026-03-19)" in query.text
    )
    assert "by a protocol check" in _her_page("cora", study, person)
    assert "1 queries not closed" in _client("adam").get(_page(study, "lock")).text


def test_a_verified_form_stays_verified_until_it_changes(study) -> None:
    person = Participant.objects.get(site__code="a")
    visit_url = _page(study, "visit", participant=person.code, number=2)
    _client("rita").post(visit_url, _visit_values())
    visit = person.visits.get(number=2)
    verify = _page(study, "verify", participant=person.code)
    assert _client("cora").post(verify, {"record": f"trial.Visit:{visit.pk}"}).status_code == 403
    done = _client("mona").post(verify, {"record": f"trial.Visit:{visit.pk}"}, follow=True)
    assert "Verified against its source: visit 2 (2026-03-16)." in done.text
    assert re.search(r"Source data verification: 1 of \d+ forms", done.text)
    _client("rita").post(visit_url, _visit_values(heat_threshold="43.0", reason="re-read"))
    page = _her_page("mona", study, person)
    assert re.search(r"Source data verification: 0 of \d+ forms", page)


def test_the_investigators_signature_is_voided_by_a_later_change(study) -> None:
    person = Participant.objects.get(site__code="a")
    sign = _page(study, "sign", participant=person.code)
    wrong = _client("ivan").post(sign, {"sign-password": "not mine"})
    assert wrong.status_code == 422 and "does not match your password" in wrong.text
    assert _client("cora").post(sign, {"sign-password": PASSWORD}).status_code == 403
    signed = _client("ivan").post(sign, {"sign-password": PASSWORD}, follow=True)
    assert f"{person.code}&#x27;s casebook is signed; a later change voids" in signed.text
    assert "The casebook has not changed since." in signed.text
    assert "complete and accurate (investigator&#x27;s approval)" in signed.text
    _client("rita").post(_page(study, "visit", participant=person.code, number=2), _visit_values())
    page = _her_page("ivan", study, person)
    assert "Void: the casebook changed after it was signed" in page


def test_the_blinded_rater_sees_no_data_quality_section(study) -> None:
    """Queries and forms name adverse events, which the rater must not see (BLD-9)."""
    person = Participant.objects.get(site__code="a")
    assert "Data quality" not in _her_page("rita", study, person)
    raise_url = _page(study, "query_raise", participant=person.code)
    assert _client("rita").post(raise_url, {"query-text": "x"}).status_code == 403


def test_open_queries_are_counted_per_participant_and_site_on_the_dashboard(study) -> None:
    person = Participant.objects.get(site__code="a")
    _client("rita").post(
        _page(study, "visit", participant=person.code, number=2),
        _visit_values(held_on="2026-03-25"),  # out of window: a query raises itself
    )
    dashboard = _client("ivan").get(_page(study, "dashboard")).text
    assert "<td>Site A</td><td>1</td><td>1</td>" in dashboard
    assert "<td>Site B</td><td>1</td><td>0</td>" in dashboard
    assert re.search(rf">{person.code}</a></td>.*?<td>active</td><td>1</td>", dashboard, re.S)


def test_a_measure_can_be_not_done_with_its_reason_instead_of_a_forced_value(study) -> None:
    person = Participant.objects.get(site__code="a")
    url = _page(study, "visit", participant=person.code, number=2)
    rater = _client("rita")
    neither = rater.post(url, _visit_values(cold_threshold=""))
    assert neither.status_code == 422
    assert "This field is required. Or say why it was not done." in neither.text
    both = rater.post(url, _visit_values(cold_threshold__not_done="device broken"))
    assert both.status_code == 422 and "a value was given: leave" in both.text
    saved = rater.post(
        url,
        _visit_values(cold_threshold="", cold_threshold__not_done="device broken"),
        follow=True,
    )
    assert "Visit 2 recorded" in saved.text
    visit = person.visits.get(number=2)
    assert "cold_threshold" not in visit.values
    assert visit.not_done == {"cold_threshold": "device broken"}
    grid = _client("cora").get(_page(study, "records")).text
    row = grid.split(f">{person.code}</a></th>", 1)[1].split("</tr>", 1)[0]
    assert re.findall(r'<td class="status-([a-z-]+)">', row)[1] == "done"
    again = rater.get(url).text
    assert 'value="device broken"' in again  # the correction form shows the reason


def test_a_deviation_is_corrected_with_a_reason_and_keeps_its_history(study) -> None:
    person = Participant.objects.get(site__code="a")
    _client("rita").post(
        _page(study, "visit", participant=person.code, number=2),
        _visit_values(held_on="2026-03-25"),
    )
    found = person.deviations.get(kind="visit_out_of_window")
    url = _page(study, "deviation", participant=person.code, number=found.pk)
    no_reason = _client("cora").post(url, {"description": "moved by the snow"})
    assert no_reason.status_code == 422 and "Why it is corrected: This field is required." in (
        no_reason.text
    )
    done = _client("cora").post(
        url, {"description": "visit 2 moved by a snowstorm", "reason": "PI note"}, follow=True
    )
    assert "The deviation&#x27;s description is corrected." in done.text
    page = _client("mona").get(url).text
    assert "correction: PI note" in page and "visit 2 moved by a snowstorm" in page
    assert _client("mona").post(url, {"description": "x", "reason": "y"}).status_code == 403
