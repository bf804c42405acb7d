"""The study team's work in a real browser (Playwright driving Debian's Chromium, real HTTP).

A coordinator signs in, screens, enrols, records a visit and reports a
serious adverse event; the pharmacist dispenses the visit's kits; the study
admin locks the database and the statistician unblinds and analyses it:
every step through the pages a person uses, with axe-core on each page.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from django.contrib.auth import get_user_model
from playwright.sync_api import Browser, Locator, Page, expect, sync_playwright

from ldntrial.protocol.loader import builtin_protocol_text
from ldntrial.web.studies.models import Membership, Site, Study
from ldntrial.web.studies.roles import Role
from ldntrial.web.trial.models import AdverseEvent, Kit, Participant
from ldntrial.web.trial.pharmacy import generate_allocation

PASSWORD = "correct horse battery staple"
CHROMIUM = "/usr/bin/chromium"


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    # Playwright's sync API runs an event loop; the ORM calls in these tests are ours.
    # The switch is put back afterwards so that no other test (or process) inherits it.
    previous = os.environ.get("DJANGO_ALLOW_ASYNC_UNSAFE")
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    try:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(
                executable_path=CHROMIUM,
                headless=True,
                args=["--no-sandbox", "--disable-background-networking"],
            )
            yield browser
            browser.close()
    finally:
        if previous is None:
            os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
        else:
            os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = previous


@pytest.fixture
def study(transactional_db, audit_cleared_after) -> Study:
    study = Study.objects.create(
        code="demo",
        title="LDN crossover",
        protocol_text=builtin_protocol_text("crossover-2013"),
        actor="system:test",
    )
    site = Site.objects.create(study=study, code="stanford", name="Stanford", actor="system:test")
    user = get_user_model().objects.create_user("cora", password=PASSWORD)
    Membership.objects.create(
        user=user, study=study, site=site, role=Role.COORDINATOR, actor="system:test"
    )
    generate_allocation(study, per_stratum=4, seed=1, actor="system:test")
    return study


def _sign_in(page: Page, base: str, username: str = "cora") -> None:
    page.goto(f"{base}/accounts/login/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", name="Your studies")).to_be_visible()


def test_screen_enrol_record_a_visit_and_report_a_serious_event(
    browser: Browser, live_server, study: Study
) -> None:
    page = browser.new_page()
    _sign_in(page, live_server.url)
    _follow(page.get_by_role("link", name="LDN crossover"))
    _follow(page.get_by_role("link", name="Screen a new person"))

    page.get_by_label("Site").select_option(label="Stanford")
    page.get_by_label("Age").fill("44")
    for area in ("left shoulder girdle", "right shoulder girdle", "left hip", "right hip",
                 "left upper leg", "right upper leg", "upper back", "lower back", "neck",
                 "chest", "left upper arm", "right upper arm"):  # fmt: skip
        page.get_by_label(area, exact=True).check()
    page.get_by_label("Fatigue").select_option("3")
    page.get_by_label("Waking unrefreshed").select_option("3")
    page.get_by_label("Cognitive symptoms").select_option("2")
    page.get_by_label("Somatic symptoms").select_option("2")
    page.get_by_label("Months with symptoms").fill("24")
    page.get_by_label("ESR (mm/hr)").fill("21")
    page.get_by_label("Written consent given on").fill("2026-03-01")
    page.get_by_role("button", name="Record the screening").click()
    expect(page.get_by_text("Decision: eligible")).to_be_visible()

    page.get_by_label("Enrolled on").fill("2026-03-02")
    page.get_by_role("button", name="Enrol and allocate").click()
    expect(page.get_by_role("status")).to_contain_text("Hand out kit")
    participant = Participant.objects.get()
    assert participant.slot.kits.get(kit_number=1).code in page.get_by_role("status").inner_text()

    _follow(page.get_by_role("link", name="record visit 2"))
    page.get_by_label("Pressure pain threshold (kPa)").fill("240")
    page.get_by_label("Heat pain threshold (°C)").fill("44")
    page.get_by_label("Cold pain threshold (°C)").fill("11")
    page.get_by_label("Adverse events since the last visit reviewed", exact=True).check()
    page.get_by_role("button", name="Save the visit").click()
    expect(page.get_by_role("heading", name=participant.code, exact=True)).to_be_visible()
    assert participant.visits.get(number=2).values["pressure_threshold"] == 240.0

    page.get_by_label("Term").fill("syncope")
    page.get_by_label("Onset").fill("2026-03-20")
    page.get_by_label("Severity").select_option("moderate")
    page.get_by_label("Serious").check()
    page.get_by_label("Related to the study capsules").select_option("possible")
    page.get_by_label("Outcome").select_option("recovering")
    page.get_by_label("Action taken with the capsules").select_option("drug_interrupted")
    page.get_by_role("button", name="Record the adverse event").click()
    expect(page.get_by_role("status")).to_contain_text("Adverse event recorded: syncope")
    assert AdverseEvent.objects.get().serious
    # Followed to its end on its own page, which keeps its history.
    _follow(page.get_by_role("link", name="syncope"))
    page.get_by_label("Outcome").select_option("recovered")
    page.get_by_label("Ended on").fill("2026-03-22")
    page.get_by_label("What was learnt, and from whom").fill("discharged, her GP says")
    page.get_by_role("button", name="Save the follow-up").click()
    expect(page.get_by_role("status")).to_contain_text(
        "Follow-up of syncope saved: recovered, ended 2026-03-22"
    )
    assert _axe_violations(page) == []
    page.close()


def _follow(target: Locator) -> Page:
    """Clicks a link (or a button) that loads another page and waits for that page.

    A click returns before the browser has left the page; a check run then meets
    the old page or, mid-way, no document at all (a failure CI saw once).
    """
    page = target.page
    with page.expect_navigation():
        target.click()
    return page


AXE = Path(__file__).resolve().parents[2] / "node_modules" / "axe-core" / "axe.min.js"


def _axe_violations(page: Page) -> list[str]:
    # Evaluated through the browser's debugging protocol, which the page's
    # Content-Security-Policy (only the site's own scripts) does not govern.
    page.evaluate(AXE.read_text(encoding="utf-8") + "\n;undefined")
    result = page.evaluate("async () => await axe.run(document)")
    assert len(result["passes"]) > 10  # axe really ran its rules on this page
    return [
        f"{v['id']} ({v['impact']}): {v['help']} at {[n['target'] for n in v['nodes']][:3]}"
        for v in result["violations"]
    ]


def test_axe_finds_no_violation_on_the_main_pages(
    browser: Browser, live_server, study: Study
) -> None:
    from datetime import date

    from ldntrial.web.trial.enrolment import enrol
    from ldntrial.web.trial.screening import record_screening

    from .test_trial import ELIGIBLE

    screening = record_screening(
        study.sites.get(), ELIGIBLE, date(2026, 3, 1), actor="system:test"
    )
    code = enrol(
        screening, enrolled_on=date(2026, 3, 2), timezone="UTC", actor="system:test"
    ).participant.code
    page = browser.new_page()
    base = live_server.url
    page.goto(f"{base}/accounts/login/")
    assert _axe_violations(page) == []
    _sign_in(page, base)
    paths = [
        "/",
        "/studies/demo/",
        "/studies/demo/screen/",
        f"/studies/demo/screenings/{screening.number}/",
        f"/studies/demo/participants/{code}/",
        f"/studies/demo/participants/{code}/visits/2/",
    ]
    found = {}
    for path in paths:
        page.goto(base + path)
        violations = _axe_violations(page)
        if violations:
            found[path] = violations
    assert found == {}
    page.close()


def test_the_pharmacist_dispenses_a_visits_kits(browser: Browser, live_server, study) -> None:
    from datetime import date

    from ldntrial.web.trial.enrolment import enrol
    from ldntrial.web.trial.screening import record_screening

    from .test_trial import ELIGIBLE

    user = get_user_model().objects.create_user("phil", password=PASSWORD)
    Membership.objects.create(user=user, study=study, role=Role.PHARMACIST, actor="system:test")
    screening = record_screening(
        study.sites.get(), ELIGIBLE, date(2026, 3, 1), actor="system:test"
    )
    person = enrol(
        screening, enrolled_on=date(2026, 3, 2), timezone="UTC", actor="system:test"
    ).participant
    page = browser.new_page()
    _sign_in(page, live_server.url, "phil")
    _follow(page.get_by_role("link", name="LDN crossover"))
    _follow(page.get_by_role("link", name="Pharmacy (unblinded)"))
    assert _axe_violations(page) == []
    first = person.slot.kits.get(kit_number=1)
    # First the lot she filled the kit from; then its label, printed from the pharmacy list.
    page.get_by_label("Kit codes (separated by spaces or commas)").fill(first.code)
    page.get_by_label("Lot number").fill("L-0309")
    page.get_by_label("Compounded on").fill("2026-03-09")
    page.get_by_role("button", name="Record the lot for these kits").click()
    expect(page.get_by_role("status")).to_contain_text(f"Lot L-0309 recorded for {first.code}.")
    _follow(page.get_by_role("link", name="labels").first)
    label = page.get_by_role("region", name=f"Label of kit {first.code}")
    expect(label).to_contain_text("LDN 4.5 mg or Placebo (identical capsule)")
    expect(label).to_contain_text("Take 1 capsule at bedtime every day")
    assert "L-0309" not in label.inner_text()
    assert _axe_violations(page) == []
    _follow(page.get_by_role("link", name="Back to the pharmacy"))
    page.get_by_label("Participant code").fill(person.code)
    page.get_by_label("Visit").fill("2")  # the first capsules, after the 2-week baseline
    page.get_by_label("Dispensed on").fill("2026-03-16")
    page.get_by_role("button", name="Dispense the visit's kits").click()
    expect(page.get_by_role("cell", name=first.code, exact=True)).to_be_visible()
    first.refresh_from_db()
    assert first.dispense_visit == 2 and first.status == "dispensed"
    assert first.dispensed_on == date(2026, 3, 16)
    page.close()


def _record_lot_of_visit(pharmacy: Page, woman, visit: int) -> None:
    """Record, on the pharmacy page, the lot her kits of ``visit`` were filled from."""
    from datetime import timedelta

    from ldntrial.web.trial.dates import local_today
    from ldntrial.web.trial.kit_lots import kit_use_by

    kits = list(Kit.objects.filter(slot=woman.slot, dispense_visit=visit))
    compounded = min(min(kit_use_by(kit) for kit in kits) - timedelta(days=20), local_today())
    codes = " ".join(kit.code for kit in kits)
    pharmacy.get_by_label("Kit codes (separated by spaces or commas)").fill(codes)
    pharmacy.get_by_label("Lot number").fill(f"L-{woman.code}")
    pharmacy.get_by_label("Compounded on").fill(compounded.isoformat())
    pharmacy.get_by_role("button", name="Record the lot for these kits").click()
    expect(pharmacy.get_by_role("status")).to_contain_text(f"Lot L-{woman.code} recorded for")


def test_the_admin_locks_and_the_statistician_unblinds_and_analyses(
    browser: Browser, live_server, transactional_db, audit_cleared_after
) -> None:
    from .test_snapshot import _imported_study

    study = _imported_study("crossover-2013", n=6, seed=3)[0]
    for name, role in (("adam", Role.STUDY_ADMIN), ("stan", Role.STATISTICIAN)):
        user = get_user_model().objects.create_user(name, password=PASSWORD)
        Membership.objects.create(user=user, study=study, role=role, actor="system:test")
    base = live_server.url
    _lock(browser, base, study.code)
    statistician = _unblind(browser, base, study.code)
    expect(
        statistician.get_by_role(
            "heading", name="pain: % improvement from baseline, ldn vs placebo"
        )
    ).to_be_visible()
    assert _axe_violations(statistician) == []
    _follow(statistician.get_by_role("link", name="The trial report"))
    expect(statistician.get_by_text("Participant flow").first).to_be_visible()
    statistician.close()


def test_axe_finds_no_violation_on_the_newer_pages(
    browser: Browser, live_server, study: Study
) -> None:
    from django.contrib.auth.models import Permission

    cora = get_user_model().objects.get(username="cora")
    cora.user_permissions.add(Permission.objects.get(codename="start_nof1"))
    page = browser.new_page()
    _sign_in(page, live_server.url)
    found = {}
    for path in ("/studies/demo/labs/import/", "/nof1/new/", "/accounts/second-factor/"):
        page.goto(live_server.url + path)
        violations = _axe_violations(page)
        if violations:
            found[path] = violations
    assert found == {}
    page.close()


def test_a_dose_finding_study_runs_from_enrolment_to_its_analysis(
    browser: Browser, live_server, transactional_db, audit_cleared_after
) -> None:
    """Up and down: the pharmacist gives each woman her dose from the last response on
    the pharmacy page, the stopping rule closes enrolment, and the locked study is analysed."""
    from datetime import date

    from .test_up_and_down import (
        RESPONDED_PAIN,
        UNCHANGED_PAIN,
        enrol_woman,
        keep_diary,
        make_study,
    )

    # Stop at the first reversal, so that three women reach the end of the study.
    study = make_study(
        builtin_protocol_text("dose-finding-2020").replace(
            "stop_after_reversals = 10\nstop_after_pairs = 6\n", "stop_after_reversals = 1\n"
        )
    )
    for name, role in (
        ("phil", Role.PHARMACIST),
        ("cora", Role.COORDINATOR),
        ("adam", Role.STUDY_ADMIN),
        ("stan", Role.STATISTICIAN),
    ):
        user = get_user_model().objects.create_user(name, password=PASSWORD)
        site = study.sites.get() if role == Role.COORDINATOR else None
        Membership.objects.create(
            user=user, study=study, site=site, role=role, actor="system:test"
        )
    base = live_server.url
    pharmacy = browser.new_page()
    _sign_in(pharmacy, base, "phil")
    pharmacy.goto(f"{base}/studies/{study.code}/pharmacy/")
    women = []
    for month, pain, dose in ((6, UNCHANGED_PAIN, "0.75"), (7, RESPONDED_PAIN, "1.5")):
        woman = enrol_woman(study, date(2026, month, 1))
        women.append(woman)
        pharmacy.reload()
        pharmacy.get_by_role("button", name=f"Assign {woman.code}'s dose").click()
        expect(pharmacy.get_by_role("status")).to_contain_text(f"{woman.code} takes {dose} mg")
        assert _axe_violations(pharmacy) == []
        _record_lot_of_visit(pharmacy, woman, visit=2)
        pharmacy.get_by_label("Participant code").fill(woman.code)
        pharmacy.get_by_label("Visit").fill("2")  # after her 2-week baseline
        pharmacy.get_by_label("Dispensed on").fill(f"2026-{month:02d}-15")
        pharmacy.get_by_role("button", name="Dispense the visit's kits").click()
        expect(pharmacy.get_by_role("status")).to_contain_text(f"Dispensed to {woman.code}")
        keep_diary(woman, treated_pain=pain)
    pharmacy.reload()
    rows = pharmacy.get_by_role("table", name="Doses and responses").get_by_role("row")
    expect(rows.filter(has_text=women[0].code)).to_contain_text("did not respond")
    expect(rows.filter(has_text=women[1].code)).to_contain_text("responded")
    expect(pharmacy.get_by_text("The stopping rule is met")).to_be_visible()
    pharmacy.close()

    site = browser.new_page()  # the coordinator cannot enrol a third woman
    _sign_in(site, base, "cora")
    from ldntrial.web.trial.screening import record_screening

    from .test_trial import ELIGIBLE

    screening = record_screening(
        study.sites.get(), ELIGIBLE, date(2026, 11, 30), actor="user:3:cora"
    )
    site.goto(f"{base}/studies/{study.code}/screenings/{screening.number}/")
    assert not re.search(r"\bmg\b", site.inner_text("body"))  # blinded: no dose anywhere
    site.get_by_label("Enrolled on").fill("2026-12-01")
    site.get_by_role("button", name="Enrol and allocate").click()
    expect(site.get_by_role("alert")).to_contain_text("stopping rule is met")
    site.goto(f"{base}/studies/{study.code}/participants/{women[0].code}/")
    shown = site.inner_text("body")
    assert not re.search(r"\bmg\b", shown) and "0.75" not in shown
    site.close()

    from ldntrial.web.trial.status import complete_participant

    for woman in women:
        complete_participant(woman, actor="system:test")
    _lock(browser, base, study.code)
    statistician = _unblind(browser, base, study.code)
    expect(statistician.get_by_role("heading", name="Dose finding: ED50 and ED95")).to_be_visible()
    expect(statistician.get_by_text("ED50 (mg), centred isotonic").first).to_be_visible()
    assert _axe_violations(statistician) == []
    statistician.close()


def _lock(browser: Browser, base: str, code: str) -> None:
    """The study admin signs the database lock through its page."""
    admin = browser.new_page()
    _sign_in(admin, base, "adam")
    admin.goto(f"{base}/studies/{code}/")
    _follow(
        admin.get_by_role("navigation", name="Study menu").get_by_role(
            "link", name="Database lock"
        )
    )
    assert _axe_violations(admin) == []
    admin.get_by_label("Password").fill(PASSWORD)
    admin.get_by_label("What you confirm").fill("every query resolved")
    admin.get_by_label("Why lock with items still open").fill("monitored on paper")
    admin.get_by_role("button", name="Lock the database").click()
    expect(admin.get_by_role("heading", name="Locked")).to_be_visible()
    admin.close()


def _unblind(browser: Browser, base: str, code: str) -> Page:
    """The statistician unblinds the locked snapshot; her page shows the analyses."""
    statistician = browser.new_page()
    _sign_in(statistician, base, "stan")
    statistician.goto(f"{base}/studies/{code}/")
    _follow(statistician.get_by_role("link", name="Analysis of the locked data"))
    assert _axe_violations(statistician) == []
    statistician.get_by_label("Password").fill(PASSWORD)
    statistician.get_by_label("Reason").fill("SAP v1.0 final")
    statistician.get_by_role("button", name="Unblind and run the analyses").click()
    return statistician
