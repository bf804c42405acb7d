"""N-of-1 in the clinic: a physician sets it up, the pharmacy alone gets the contents, she
ends it blind and releases the patient's report."""

from __future__ import annotations

import csv
import html
import io
import json
from datetime import date

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Permission as DjangoPermission
from django.urls import reverse

from ldntrial.protocol.loader import builtin_protocol_text
from ldntrial.simulate import simulate_trial
from ldntrial.stats import analyze
from ldntrial.stats.nof1_outlook import POWER_FILE
from ldntrial.web.analysis.trial_import import import_trial
from ldntrial.web.audit.models import AuditEntry
from ldntrial.web.audit.tracking import because
from ldntrial.web.nof1.clinic import start_nof1_trial
from ldntrial.web.nof1.models import Nof1Trial
from ldntrial.web.studies.models import Site, Study
from ldntrial.web.trial.concealed import sequence_of
from ldntrial.web.trial.models import Kit, Participant

from .test_staff_pages import PASSWORD, _client
from .test_trial import ELIGIBLE

pytestmark = pytest.mark.django_db


@pytest.fixture
def physician():  # type: ignore[no-untyped-def]
    user = get_user_model().objects.create_user("nina", password=PASSWORD)
    user.user_permissions.add(DjangoPermission.objects.get(codename="start_nof1"))
    get_user_model().objects.create_user("cora", password=PASSWORD)
    return user


def _start(client, **changes):  # type: ignore[no-untyped-def]
    form = {"name": "mr-2026", "pharmacy_email": "rx@pharmacy.example", **changes}
    return client.post(reverse("staff:nof1_start"), form)


def test_a_physician_sets_up_a_trial_in_one_step(physician) -> None:
    nina = _client("nina")
    assert "Start an N-of-1 trial" in nina.get(reverse("staff:studies")).text
    response = _start(nina)
    assert response.status_code == 302 and response["Location"] == "/studies/nof1-mr-2026/nof1/"
    trial = Nof1Trial.objects.get()
    assert trial.study.protocol.id == "nof1" and trial.physician == physician
    roles = set(trial.study.memberships.values_list("role", flat=True))
    assert roles == {"investigator", "study_admin", "statistician"}
    slots = trial.study.allocation_slots.all()
    # One bottle per fortnight between visits: 12 over the six blocks.
    assert len(slots) == 1 and Kit.objects.filter(slot=slots[0]).count() == 12
    page = nina.get(response["Location"]).text
    assert "screen her" in page and "after enrolment" in page
    assert sequence_of(slots[0]) not in page  # her block order, e.g. AB-BA-AB, is never shown


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"name": "Maria Rodríguez"}, "name", "Enter a valid “slug”"),
        ({"pharmacy_email": "pharmacy"}, "pharmacy_email", "Enter a valid email address."),
        (
            {"protocol_text": builtin_protocol_text("crossover-2013")},
            "protocol_text",
            "allocation.method must be randomised_pairs",
        ),
        ({"protocol_text": "format = 1\nid = 3"}, "protocol_text", "protocol: "),
        # Found by fuzzing: a 500 (RecursionError), and on PostgreSQL a 500 for the NUL.
        ({"protocol_text": "a = " + "[" * 3000 + "]" * 3000}, "protocol_text", "nested too"),
        (
            {
                "protocol_text": builtin_protocol_text("nof1").replace(
                    'title = "', 'title = "\\u0000'
                )
            },
            "protocol_text",
            "contains a NUL character",
        ),
    ],
)
def test_a_bad_setup_names_the_field(physician, changes, field, message) -> None:
    response = _start(_client("nina"), **changes)
    assert response.status_code == 422 and message in response.text
    assert not Study.objects.exists()


def test_before_she_starts_the_physician_reads_the_evidence_and_what_her_trial_can_tell(
    physician,
) -> None:
    nina = _client("nina")
    start = nina.get(reverse("staff:nof1_start")).text
    assert "Before she starts" in start and "cannot tell LDN from placebo on average" in start
    figures = json.loads(POWER_FILE.read_text(encoding="utf-8"))["designs"]
    right = figures["nof1-dose"]["stanford"]["p_correct"]
    assert f"gave a right answer to {right:.0%}" in html.unescape(start)
    response = _start(nina, design="nof1-dose")
    trial = Nof1Trial.objects.get()
    assert trial.study.protocol.id == "nof1-dose"
    page = html.unescape(nina.get(response["Location"]).text)
    assert "No controlled trial compared two doses of LDN" in page
    assert "ldntrial power nof1-dose --pairs 3" in page


def test_only_a_physician_with_the_permission_may_start_one(physician) -> None:
    assert _client("cora").get(reverse("staff:nof1_start")).status_code == 403
    assert "Start an N-of-1 trial" not in _client("cora").get(reverse("staff:studies")).text


@pytest.fixture
def finished(physician):  # type: ignore[no-untyped-def]
    """Her whole trial done: her simulated diary entered with its own block order."""
    trial = start_nof1_trial(
        physician, name="mr-2026", pharmacy_email="rx@pharmacy.example", allocate=False
    )
    simulated = simulate_trial(
        "nof1", n=1, seed=11, start_date=date(2025, 2, 3), recruitment_days=1
    )
    study = trial.study
    import_trial(
        study,
        simulated,
        sites={"site-1": Site.objects.get(study=study)},
        answers={**ELIGIBLE, "pain_areas": ELIGIBLE["pain_areas"]},
        timezone="Europe/Madrid",
        actor="system:test",
    )
    return trial, simulated


def test_the_pharmacy_alone_gets_the_contents(
    finished, mailoutbox, django_capture_on_commit_callbacks
) -> None:
    trial, _simulated = finished
    nina = _client("nina")
    with django_capture_on_commit_callbacks(execute=True):
        response = nina.post(reverse("staff:nof1", args=[trial.study.code]), {"step": "send_kits"})
    assert response.status_code == 302
    (mail,) = mailoutbox
    assert mail.to == ["rx@pharmacy.example"] and mail.cc == [] and mail.bcc == []
    _name, content, _kind = mail.attachments[0]
    rows = content.splitlines()
    assert rows[0] == (
        "kit_code,kit,contents,dose_mg,mg_per_ml,from,to,"
        "label_contents,label_quantity,label_directions,label_use_by"
    )
    assert len(rows) == 13
    table = list(csv.DictReader(io.StringIO(content)))
    assert {row["contents"] for row in table} == {"LDN 4.5 mg", "Placebo (identical capsule)"}
    # What goes on a bottle is the same whatever it holds.
    assert {row["label_contents"] for row in table} == {
        "LDN 4.5 mg or Placebo (identical capsule)"
    }
    assert {row["label_directions"] for row in table} == {"Take 1 capsule at bedtime every day"}
    assert "For clinical trial use only" in mail.body
    page = nina.get(reverse("staff:nof1", args=[trial.study.code])).text
    assert "Placebo (identical capsule)" not in page and "sent on" in page
    assert AuditEntry.objects.filter(action="export", record=f"nof1.Nof1Trial:{trial.pk}").exists()


def test_she_ends_the_trial_and_releases_the_honest_answer(finished) -> None:
    trial, simulated = finished
    # Her diary is in Spanish: so is the report she gets.
    with because("she reads Spanish"):
        patient = Participant.objects.get(study=trial.study)
        patient.language = "es"
        patient.save(actor="system:test")
    nina = _client("nina")
    url = reverse("staff:nof1", args=[trial.study.code])
    wrong = nina.post(url, {"step": "end", "password": "not it"})
    assert wrong.status_code == 422 and "does not match your password" in wrong.text
    assert nina.post(url, {"step": "end", "password": PASSWORD}).status_code == 302
    expected = analyze(simulated).nof1[0]  # the answer of the simulation itself
    page = nina.get(url).text
    assert expected.paragraph in page
    assert nina.get(reverse("staff:nof1_report", args=[trial.study.code])).status_code == 404
    assert "Read it first, as she will" in page
    preview = nina.get(reverse("staff:nof1_report_preview", args=[trial.study.code]))
    assert preview.status_code == 200 and "sandbox" in preview["Content-Security-Policy"]
    mean = expected.result.values["treatment_mean"]
    assert "not yet released to her" in preview.text
    assert f"Con la LDN, su dolor medio fue {mean:.0f} de 100" in preview.text
    assert _client("cora").get(preview.request["PATH_INFO"]).status_code == 404
    assert nina.post(url, {"step": "release"}).status_code == 302
    trial.refresh_from_db()
    assert trial.released_at is not None and '<html lang="es">' in trial.report_html
    assert f"Con la LDN, su dolor medio fue {mean:.0f} de 100" in trial.report_html
    report = nina.get(reverse("staff:nof1_report", args=[trial.study.code]))
    assert report.status_code == 200 and "sandbox" in report["Content-Security-Policy"]
    again = nina.post(url, {"step": "release"})
    assert again.status_code == 422 and "already released" in again.text
    person = Participant.objects.get(study=trial.study)
    assert person.study.locked_at is not None


def test_ending_before_her_last_block_needs_its_reason(physician) -> None:
    """ "End the trial" on day 1 locked it for good with no diary: now it asks why first."""
    from ldntrial.web.trial.dates import local_today
    from ldntrial.web.trial.enrolment import enrol
    from ldntrial.web.trial.screening import record_screening

    nina = _client("nina")
    _start(nina)
    trial = Nof1Trial.objects.get()
    today = local_today("Europe/Madrid")
    screening = record_screening(trial.study.sites.get(), ELIGIBLE, today, actor="system:test")
    enrol(screening, enrolled_on=today, timezone="Europe/Madrid", actor="system:test")
    url = reverse("staff:nof1", args=[trial.study.code])
    assert "Her last block is not over yet" in nina.get(url).text
    refused = nina.post(url, {"step": "end", "password": PASSWORD})
    assert refused.status_code == 422 and "her last block ends on" in refused.text
    assert trial.study.locked_at is None and not hasattr(trial.study, "database_lock")
    ended = nina.post(
        url, {"step": "end", "password": PASSWORD, "early_reason": "she moved abroad"}
    )
    assert ended.status_code == 302
    trial.study.refresh_from_db()
    assert "early" in trial.study.database_lock.statement
    assert "she moved abroad" in trial.study.database_lock.statement
