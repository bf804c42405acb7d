"""A study from nothing to its report, played by its team in a real browser (issue 15).

The site's administrator creates the study from a protocol file and invites a
coordinator, an investigator, a pharmacist, a monitor and a statistician, who
join by their emailed links. They screen (one ineligible, one who declines)
and enrol four women, record visits and labs, follow an adverse event to its
end and withdraw one woman; the monitor raises a query, the coordinator
answers it by a correction, the monitor verifies the forms and closes it; the
investigator signs; the administrator locks past the checklist; the
statistician unblinds, and the report's CONSORT flow shows the screened, the
excluded and the withdrawn with their reasons. axe-core checks every page on
the way. The suite runs it on SQLite and on PostgreSQL.
"""

from __future__ import annotations

import re
from datetime import date, datetime, time, timedelta
from uuid import uuid4
from zoneinfo import ZoneInfo

from django.contrib.auth import get_user_model
from django.core import mail
from playwright.sync_api import Browser, Page, expect

from ldntrial.protocol.schedule import plan_sequence
from ldntrial.web.diary.entries import DiarySubmission, record_entry
from ldntrial.web.studies.models import Study
from ldntrial.web.trial.concealed import sequence_of
from ldntrial.web.trial.models import Participant

from .test_browser import PASSWORD, _axe_violations, _follow, _sign_in
from .test_browser import browser as browser  # the fixture

CODE = "ldn-e2e"
ENROLLED = date(2026, 5, 1)  # her 154-day calendar is over by the time the test runs
WITHDRAWN_ON = date(2026, 8, 1)
TEAM = {  # user name: (role, site label)
    "cora": ("coordinator", "Stanford"),
    "ivan": ("investigator", "every site"),
    "phil": ("pharmacist", "every site"),
    "mona": ("monitor", "every site"),
    "stan": ("statistician", "every site"),
}
PAIN = {"none": 60.0, "ldn": 40.0, "placebo": 55.0}  # baseline and follow-up are "none"


def _checked(page: Page) -> Page:
    assert _axe_violations(page) == [], page.url
    return page


def _as(browser: Browser, base: str, name: str) -> Page:
    page = browser.new_page()
    _sign_in(page, base, name)
    page.goto(f"{base}/studies/{CODE}/")
    return page


def _create_the_study(browser: Browser, base: str) -> None:
    page = browser.new_page()
    _sign_in(page, base, "root")
    _follow(page.get_by_role("link", name="Create a study from a protocol file"))
    _checked(page)
    page.get_by_label("Code").fill(CODE)
    page.get_by_label("Title").fill("LDN end to end")
    page.get_by_label("Protocol", exact=True).select_option(label="built-in: crossover-2013")
    page.get_by_label("Sites").fill("stanford, Stanford, America/Los_Angeles")
    page.get_by_role("button", name="Create the study").click()
    expect(page.get_by_role("status")).to_contain_text(f"Study {CODE} created with 1 site(s)")
    _checked(page)
    _follow(page.get_by_role("navigation", name="Study menu").get_by_role("link", name="Team"))
    _checked(page)
    for name, (role, site) in TEAM.items():
        page.get_by_label("Email").fill(f"{name}@example.org")
        page.get_by_label("Role").select_option(role)
        page.get_by_label("Site").select_option(label=site)
        page.get_by_role("button", name="Send the invitation").click()
        expect(page.get_by_role("status")).to_contain_text(f"Invitation sent to {name}@")
    page.close()


def _join(browser: Browser, name: str) -> None:
    (invitation,) = [m for m in mail.outbox if m.to == [f"{name}@example.org"]]
    link = re.search(r"(http://\S+/accounts/invitations/\S+/)", invitation.body).group(1)
    page = browser.new_page()
    page.goto(link)
    _checked(page)
    page.get_by_label("User name").fill(name)
    page.get_by_label("Password", exact=True).fill(PASSWORD)
    page.get_by_label("The password again").fill(PASSWORD)
    page.get_by_role("button", name="Create my account and join").click()
    expect(page.get_by_role("status")).to_contain_text(f"Welcome: you are {TEAM[name][0]}")
    page.close()


def _screen(page: Page, base: str, *, medications: str = "") -> None:
    page.goto(f"{base}/studies/{CODE}/screen/")
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
    page.get_by_label("Medications").fill(medications)
    page.get_by_label("ESR (mm/hr)").fill("21")
    page.get_by_label("Written consent given on").fill(f"{ENROLLED - timedelta(days=1)}")
    page.get_by_role("button", name="Record the screening").click()
    expect(page.get_by_role("status")).to_contain_text("Screening")


def _keep_diary(person: Participant, until: date | None) -> None:
    """Her diary to ``until`` (or her calendar's end), sent as her phone sends it; the test
    knows her arm, the site does not."""
    plan = plan_sequence(person.study.protocol, sequence_of(person))
    zone = ZoneInfo(person.timezone)
    last = until or person.enrolled_on + timedelta(days=plan.total_days - 1)
    items = [item.id for item in person.study.protocol.diary.items]
    for day in range((last - person.enrolled_on).days + 1):
        on = person.enrolled_on + timedelta(days=day)
        kind = str(plan.kind[day])
        recorded = datetime.combine(on, time(20, 0), zone)
        pain = PAIN[kind] + (day % 5)
        record_entry(
            person,
            DiarySubmission(
                client_id=uuid4(),
                diary_date=on,
                recorded_at=recorded,
                items={item: pain if item == "pain" else 50.0 for item in items},
            ),
            received_at=recorded + timedelta(minutes=5),
            actor=f"participant:{person.code}",
        )


def test_a_team_runs_its_own_study_from_nothing_to_its_report(
    browser: Browser, live_server, transactional_db, audit_cleared_after
) -> None:
    base = live_server.url
    get_user_model().objects.create_superuser("root", "root@example.org", PASSWORD)
    _create_the_study(browser, base)
    for name in TEAM:
        _join(browser, name)
    study = Study.objects.get(code=CODE)

    pharmacy = _as(browser, base, "phil")
    _follow(
        pharmacy.get_by_role("navigation", name="Study menu").get_by_role("link", name="Pharmacy")
    )
    pharmacy.get_by_label("Allocations per stratum (whole blocks)").fill("4")
    pharmacy.get_by_role("button", name="Make a new version of the list").click()
    expect(pharmacy.get_by_role("status")).to_contain_text("Version 1 of the allocation list")
    _checked(pharmacy).close()

    cora = _as(browser, base, "cora")
    _screen(cora, base, medications="tramadol")
    expect(cora.get_by_text("Decision: ineligible")).to_be_visible()
    _screen(cora, base)
    cora.get_by_label("Why she is not enrolled").select_option("declined")
    cora.get_by_role("button", name="Record that she is not enrolled").click()
    expect(cora.get_by_role("status")).to_contain_text("recorded as not enrolled")
    _checked(cora)
    for _ in range(4):
        _screen(cora, base)
        cora.get_by_label("Enrolled on").fill(f"{ENROLLED}")
        cora.get_by_role("button", name="Enrol and allocate").click()
        expect(cora.get_by_role("status")).to_contain_text("Enrolled. Hand out kit")
    first, _second, _third, fourth = Participant.objects.filter(study=study).order_by("code")
    _checked(cora)

    # Her visit, an ESR, and an adverse event followed to its end.
    cora.goto(f"{base}/studies/{CODE}/participants/{first.code}/")
    _follow(cora.get_by_role("link", name="record visit 2"))
    cora.get_by_label("Pressure pain threshold (kPa)").fill("240")
    cora.get_by_label("Heat pain threshold (°C)").fill("44")
    cora.get_by_label("Cold pain threshold (°C)").fill("11")
    cora.get_by_label("Adverse events since the last visit reviewed", exact=True).check()
    _checked(cora)
    cora.get_by_role("button", name="Save the visit").click()
    expect(cora.get_by_role("status")).to_contain_text("Visit 2 recorded: held on 2026-05-15")
    cora.get_by_label("Blood drawn on").fill("2026-05-15")
    cora.get_by_label("ESR (mm/hr)").fill("18")
    cora.get_by_role("button", name="Record the ESR").click()
    expect(cora.get_by_role("status")).to_contain_text("ESR recorded: 18 mm/hr")
    cora.get_by_label("Term").fill("vivid dreams")
    cora.get_by_label("Onset").fill("2026-05-20")
    cora.get_by_label("Severity").select_option("mild")
    cora.get_by_label("Related to the study capsules").select_option("possible")
    cora.get_by_label("Outcome").select_option("recovering")
    cora.get_by_label("Action taken with the capsules").select_option("dose_not_changed")
    cora.get_by_role("button", name="Record the adverse event").click()
    expect(cora.get_by_role("status")).to_contain_text("Adverse event recorded: vivid dreams")
    _follow(cora.get_by_role("link", name="vivid dreams"))
    _checked(cora)
    cora.get_by_label("Outcome").select_option("recovered")
    cora.get_by_label("Ended on").fill("2026-05-30")
    cora.get_by_label("What was learnt, and from whom").fill("she says they stopped")
    cora.get_by_role("button", name="Save the follow-up").click()
    expect(cora.get_by_role("status")).to_contain_text("recovered, ended 2026-05-30")

    # Their diaries, as their phones send them; the fourth woman's until she withdraws.
    for person in Participant.objects.filter(study=study):
        _keep_diary(person, until=WITHDRAWN_ON if person == fourth else None)
    cora.goto(f"{base}/studies/{CODE}/participants/{fourth.code}/")
    cora.get_by_label("Her last day in the study").fill(f"{WITHDRAWN_ON}")
    cora.get_by_label("Why she left").select_option("consent_withdrawn")
    cora.get_by_label("What may still be collected").select_option("nothing")
    cora.get_by_role("button", name=f"Withdraw {fourth.code}").click()
    expect(cora.get_by_role("status")).to_contain_text(f"{fourth.code} withdrew on 2026-08-01")
    _checked(cora)

    # The monitor queries the visit; the coordinator corrects it and answers.
    mona = _as(browser, base, "mona")
    mona.goto(f"{base}/studies/{CODE}/participants/{first.code}/")
    mona.get_by_label("About which form").select_option(label="visit 2 (2026-05-15)")
    mona.get_by_label("Which value").fill("heat_threshold")
    mona.get_by_label("The question").fill("the worksheet says 43")
    mona.get_by_role("button", name="Raise the query").click()
    expect(mona.get_by_role("status")).to_contain_text("raised")
    _checked(mona)
    cora.goto(f"{base}/studies/{CODE}/participants/{first.code}/")
    _follow(cora.get_by_role("link", name="correct visit 2"))
    cora.get_by_label("Heat pain threshold (°C)").fill("43")
    cora.get_by_label("Reason for the correction").fill("query: the worksheet says 43")
    cora.get_by_role("button", name="Save the visit").click()
    expect(cora.get_by_role("status")).to_contain_text("Visit 2 corrected")
    cora.get_by_label("Answer", exact=True).fill("corrected to 43 from the worksheet")
    cora.get_by_role("button", name=re.compile(r"Answer query \d+")).click()
    expect(cora.get_by_role("status")).to_contain_text("answered; the monitor closes it")
    cora.close()

    mona.reload()
    for _ in range(mona.get_by_role("button", name=re.compile("^Verified: ")).count()):
        mona.get_by_role("button", name=re.compile("^Verified: ")).first.click()
        expect(mona.get_by_role("status")).to_contain_text("Verified against its source")
    expect(
        mona.get_by_text(re.compile(r"Source data verification: (\d+) of \1 forms"))
    ).to_be_visible()
    mona.get_by_role("button", name=re.compile(r"Close query \d+")).click()
    expect(mona.get_by_role("status")).to_contain_text("closed")
    _checked(mona)
    for page in ("records", "audit", "protocol"):  # the pages no step above went through
        mona.goto(f"{base}/studies/{CODE}/{page}/")
        _checked(mona)
    mona.goto(f"{base}/studies/{CODE}/audit/?participant={first.code}")
    expect(mona.get_by_role("cell", name=f"{first.code} visit 2").first).to_be_visible()
    _checked(mona)
    mona.goto(
        f"{base}/studies/{CODE}/participants/{first.code}/labs/{first.lab_results.get().pk}/"
    )
    _checked(mona)
    mona.close()

    ivan = _as(browser, base, "ivan")
    ivan.goto(f"{base}/studies/{CODE}/participants/{first.code}/")
    signing = ivan.locator("form", has=ivan.get_by_role("button", name=re.compile("casebook")))
    signing.get_by_label("Password").fill(PASSWORD)
    ivan.get_by_role("button", name=f"Sign {first.code}'s casebook").click()
    expect(ivan.get_by_role("status")).to_contain_text("casebook is signed")
    expect(ivan.get_by_text("The casebook has not changed since.")).to_be_visible()
    _checked(ivan).close()

    # The administrator locks past what is still open; the statistician unblinds.
    root = _as(browser, base, "root")
    _follow(
        root.get_by_role("navigation", name="Study menu").get_by_role("link", name="Database lock")
    )
    expect(root.get_by_text(re.compile(r"3 participants still active"))).to_be_visible()
    _checked(root)
    root.get_by_label("Password").fill(PASSWORD)
    root.get_by_label("What you confirm").fill("the data are complete")
    root.get_by_label("Why lock with items still open").fill("the sponsor closed the study")
    root.get_by_role("button", name="Lock the database").click()
    expect(root.get_by_role("heading", name="Locked")).to_be_visible()
    root.close()

    stan = _as(browser, base, "stan")
    _follow(stan.get_by_role("link", name="Analysis of the locked data"))
    stan.get_by_label("Password").fill(PASSWORD)
    stan.get_by_label("Reason").fill("SAP v1.0 final")
    _follow(stan.get_by_role("button", name="Unblind and run the analyses"))
    _checked(stan)
    _follow(stan.get_by_role("link", name="The trial report"))
    flow = stan.locator(".flow").inner_text()
    assert "Assessed for eligibility: 6" in flow
    assert "Excluded: 2" in flow and "not eligible (opioid): 1" in flow
    assert "she declined to take part: 1" in flow
    assert "she withdrew her consent: 1" in flow
    # Her study beside the published trials, on a page that passes axe too.
    stan.goto(f"{base}/studies/{CODE}/analysis/")
    _follow(stan.get_by_role("link", name="This study pooled with the published trials"))
    expect(stan.get_by_role("heading", name="The evidence on LDN in fibromyalgia")).to_be_visible()
    expect(stan.get_by_role("checkbox", name=re.compile(CODE))).to_be_checked()
    _checked(stan)
    stan.close()
