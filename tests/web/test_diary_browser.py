"""Her diary on a phone-sized screen in Debian's Chromium: link, entry, offline, Spanish, axe.

Her time zone is chosen so that it is evening where she is whenever the
test runs: the window (18:00 to noon) is then open, whatever the hour here.
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone
from playwright.sync_api import Browser, Page, expect

from ldntrial.protocol.loader import builtin_protocol_text
from ldntrial.web.audit.tracking import because
from ldntrial.web.diary.links import issue_diary_link
from ldntrial.web.diary.models import DiaryEntry
from ldntrial.web.studies.models import Site, Study
from ldntrial.web.trial.enrolment import enrol
from ldntrial.web.trial.models import Participant
from ldntrial.web.trial.pharmacy import generate_allocation
from ldntrial.web.trial.screening import record_screening

from .live_diary import evening_zone
from .test_browser import _axe_violations
from .test_browser import browser as browser  # the module's Chromium (a fixture)
from .test_trial import ELIGIBLE

PHONE = {"width": 390, "height": 844}


@pytest.fixture
def participant(transactional_db, audit_cleared_after) -> Participant:
    zone = evening_zone()
    study = Study.objects.create(
        code="diary",
        title="LDN",
        protocol_text=builtin_protocol_text("crossover-2013"),
        actor="system:test",
    )
    site = Site.objects.create(study=study, code="a", name="Site A", actor="system:test")
    generate_allocation(study, per_stratum=2, seed=3, actor="system:test")
    started = timezone.now().astimezone(ZoneInfo(zone)).date()
    screening = record_screening(site, ELIGIBLE, started - timedelta(days=30), actor="system:test")
    return enrol(
        screening, enrolled_on=started - timedelta(days=20), timezone=zone, actor="system:test"
    ).participant


def _open(browser: Browser, live_server, person: Participant, code: str = "") -> Page:
    """Her link opened on a fresh phone (a new link unless ``code`` is given)."""
    if not code:
        code = issue_diary_link(person, now=timezone.now(), actor="user:3:cora")[1]
    page = browser.new_context(viewport=PHONE).new_page()
    addresses: list[str] = []
    page.on("request", lambda request: addresses.append(request.url))
    page.goto(f"{live_server.url}/diary/#code={code}")
    expect(page).to_have_url(re.compile(r"/diary/$"))  # the code left the address bar
    # It was never in an address the server saw (an access log keeps those): only in
    # the body of the one request that trades it.
    assert addresses and not [url for url in addresses if code in url.split("#")[0]]
    return page


def _fill(page: Page) -> None:
    expect(page.get_by_label("Overall pain today")).to_be_visible()  # her diary has loaded
    for slider in page.locator("input[type=range]").all():
        slider.focus()
        slider.press("ArrowRight")  # a real touch of each slider, by keyboard


def test_she_opens_her_link_fills_the_diary_and_it_is_sent(browser, live_server, participant):
    page = _open(browser, live_server, participant)
    expect(page.get_by_role("heading", name="Your daily diary")).to_be_visible()
    page.get_by_role("button", name="Send").click()
    expect(page.get_by_text("Move this slider first").first).to_be_visible()  # none moved yet
    _fill(page)
    page.get_by_label("Vivid dreams").check()
    page.get_by_role("button", name="Send").click()
    expect(page.get_by_role("status")).to_have_text("Sent. Thank you.")
    entry = DiaryEntry.objects.get(participant=participant)
    assert entry.side_effects == ["vivid_dreams"] and entry.items["pain"] == 51.0
    expect(page.get_by_text("You have filled in today's diary. Thank you.")).to_be_visible()
    assert _axe_violations(page) == []
    page.context.close()


def test_an_entry_made_offline_waits_on_the_phone_and_is_sent_once(
    browser, live_server, participant
):
    page = _open(browser, live_server, participant)
    expect(page.get_by_label("Overall pain today")).to_be_visible()  # her diary, now kept
    page.evaluate("navigator.serviceWorker.ready.then(() => true)")
    page.reload()  # now the service worker controls the page and has kept it
    expect(page.get_by_label("Overall pain today")).to_be_visible()
    page.context.set_offline(True)
    page.reload()  # opens with no connection, from the phone
    expect(page.get_by_role("heading", name="Your daily diary")).to_be_visible()
    _fill(page)
    page.get_by_role("button", name="Send").click()
    expect(page.get_by_role("status")).to_contain_text("Waiting to send")
    expect(page.get_by_text("Entries waiting to be sent: 1")).to_be_visible()
    assert not DiaryEntry.objects.filter(participant=participant).exists()
    page.context.set_offline(False)  # the connection returns: the page sends it
    expect(page.get_by_role("status")).to_have_text("Sent. Thank you.", timeout=10_000)
    page.reload()  # sends again whatever is left: nothing is
    expect(page.get_by_text("You have filled in today's diary. Thank you.")).to_be_visible()
    expect(page.get_by_text("Entries waiting to be sent")).to_be_hidden()
    assert DiaryEntry.objects.filter(participant=participant).count() == 1
    page.context.close()


def test_her_diary_speaks_spanish_when_that_is_her_language(browser, live_server, participant):
    with because("she reads Spanish"):
        participant.language = "es"
        participant.save(actor="user:3:cora")
    page = _open(browser, live_server, participant)
    expect(page.get_by_role("heading", name="Su diario")).to_be_visible()
    assert page.evaluate("document.documentElement.lang") == "es"
    expect(page.get_by_role("button", name="Enviar")).to_be_visible()
    assert _axe_violations(page) == []
    page.context.close()


def test_a_used_link_says_so_kindly(browser, live_server, participant):
    code = issue_diary_link(participant, now=timezone.now(), actor="user:3:cora")[1]
    first = _open(browser, live_server, participant, code)
    expect(first.get_by_role("heading", name="Your daily diary")).to_be_visible()
    second = _open(browser, live_server, participant, code)  # another phone, the same link
    expect(second.get_by_role("status")).to_have_text(
        "This link has been used or has expired. Ask your study team for a new one."
    )
    first.context.close()
    second.context.close()


def test_a_network_paused_for_refused_codes_is_told_to_wait(browser, live_server, participant):
    from ldntrial.web.diary.models import RefusedLink
    from ldntrial.web.diary.throttle import REFUSALS_ALLOWED

    now = timezone.now()
    RefusedLink.objects.bulk_create(
        [RefusedLink(address="127.0.0.1", at=now) for _ in range(REFUSALS_ALLOWED)]
    )
    code = issue_diary_link(participant, now=now, actor="user:3:cora")[1]
    page = _open(browser, live_server, participant, code)
    expect(page.get_by_role("status")).to_contain_text("Please try again in an hour")
    page.context.close()


def test_the_first_load_is_under_60_kb(live_server, transactional_db) -> None:
    """The page, its script, its style and the service worker, as a phone first fetches them."""
    import urllib.request

    from django.templatetags.static import static

    paths = ["/diary/", static("diary/app.js"), static("diary/app.css"), "/diary/sw.js"]
    sizes = {}
    for path in paths:
        with urllib.request.urlopen(live_server.url + path) as response:
            assert response.status == 200, path
            sizes[path] = len(response.read())
    assert sum(sizes.values()) < 60 * 1024, sizes
    assert sizes["/diary/"] > 1000 and sizes[static("diary/app.js")] > 5000  # really them


def test_outside_the_window_the_page_says_when_it_opens(browser, live_server, participant):
    """At 14:00 her time the day's window has closed and the next opens at 18:00: no form."""
    code = issue_diary_link(participant, now=timezone.now(), actor="user:3:cora")[1]
    page = browser.new_context(viewport=PHONE).new_page()
    afternoon = datetime.now(ZoneInfo(participant.timezone)).replace(hour=14, minute=0)
    page.clock.set_fixed_time(afternoon)
    page.goto(f"{live_server.url}/diary/#code={code}")
    expect(page.get_by_text("The next diary opens on")).to_contain_text("at 18:00")
    expect(page.get_by_role("button", name="Send", exact=True)).to_be_hidden()
    page.context.close()


def test_at_200_percent_zoom_nothing_needs_scrolling_sideways(browser, live_server, participant):
    """A 390-pixel phone at 200 % is a 195-pixel page: every control still fits its width."""
    page = _open(browser, live_server, participant)
    page.set_viewport_size({"width": 195, "height": 422})
    page.get_by_label("Overall pain today").wait_for()
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")
    slider = page.get_by_role("slider", name="Overall pain today")
    assert slider.get_attribute("aria-valuetext") == "not set"  # what a screen reader says
    page.context.close()


def test_a_pin_keeps_the_diary_shut_to_whoever_picks_up_her_phone(
    browser, live_server, participant
):
    page = _open(browser, live_server, participant)
    page.get_by_role("button", name="Ask for a PIN when the diary opens").click()
    page.get_by_label("Choose a PIN of 4 to 8 digits").fill("2468")
    page.get_by_role("button", name="Open", exact=True).click()
    expect(page.locator("#status")).to_have_text("From now on the diary asks for your PIN.")
    page.reload()
    expect(page.get_by_label("Your PIN")).to_be_visible()
    expect(page.get_by_label("Overall pain today")).to_be_hidden()
    page.get_by_label("Your PIN").fill("1357")
    page.get_by_role("button", name="Open", exact=True).click()
    expect(page.locator("#status")).to_have_text("That is not your PIN.")
    page.get_by_label("Your PIN").fill("2468")
    page.get_by_role("button", name="Open", exact=True).click()
    expect(page.get_by_label("Overall pain today")).to_be_visible()
    page.context.close()
