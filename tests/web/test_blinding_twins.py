"""BLD-1 proven by attack: a crossover-2013 study run twice, arms swapped, every role compared.

Two women are screened, enrolled, given kits, visited with every measure,
reduced in dose, sent lab results, reported with adverse events (one
serious), write their diary every evening, one is unblinded in an emergency,
one withdraws, and the database is locked: all through the site's own
pages and API, as the staff and the women would (withdrawal and completion
through the site's functions: no page does them yet). In world A the first
woman takes LDN first; in world B placebo first. Twice, while the study
runs (day 50: one woman is on LDN and the other on placebo, whatever the
world) and once locked, every blinded role walks every page it can reach,
downloads every export in every format, and the participants read all
their API. Nothing may differ but the investigator's emergency-unblinding
answer; the pharmacist, who is not blind, is the proof that the worlds do
differ and that the comparison sees it.
"""

from __future__ import annotations

import itertools
import json
import re
from datetime import UTC, date, datetime, time, timedelta
from uuid import UUID
from zoneinfo import ZoneInfo

import pytest
from django.contrib.auth import get_user_model
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse

from ldntrial.protocol.loader import builtin_protocol_text
from ldntrial.protocol.schedule import site_visit_plan
from ldntrial.web.participant_api import api
from ldntrial.web.studies.models import Membership, Site, Study
from ldntrial.web.studies.roles import Role
from ldntrial.web.trial.concealed import contents_of
from ldntrial.web.trial.models import DoseReduction, Kit, Participant

from .twin_worlds import World, crawl, differences, run_world

pytestmark = pytest.mark.django_db

PASSWORD = "correct horse battery staple"
ZONE = ZoneInfo("Europe/Madrid")
ENROLLED = date(2026, 3, 2)
CAST = {
    "cora": Role.COORDINATOR,
    "ivan": Role.INVESTIGATOR,
    "rita": Role.BLINDED_RATER,
    "phil": Role.PHARMACIST,
    "stan": Role.STATISTICIAN,
    "mona": Role.MONITOR,
    "adam": Role.STUDY_ADMIN,
    "olga": None,  # an account with no role in the study
}
BLINDED = ["cora", "ivan", "rita", "stan", "mona", "adam", "olga"]
# Pages each role reached (200) while the study ran, as measured; a walk that shrinks fails.
PAGES_REACHED = {"cora": 30, "ivan": 30, "rita": 28, "stan": 6, "mona": 11, "adam": 8, "olga": 2}
WORLD_A = "randomisation_number,sequence\nR1,ldn-first\nR2,placebo-first\n"
WORLD_B = "randomisation_number,sequence\nR1,placebo-first\nR2,ldn-first\n"


@pytest.fixture
def study() -> Study:
    study = Study.objects.create(
        code="twins",
        title="LDN crossover",
        protocol_text=builtin_protocol_text("crossover-2013"),
        actor="system:test",
    )
    site = Site.objects.create(study=study, code="a", name="Site A", actor="system:test")
    for name, role in CAST.items():
        user = get_user_model().objects.create_user(
            name, email=f"{name}@example.org", password=PASSWORD
        )
        if role:
            needs_site = role in (Role.COORDINATOR, Role.BLINDED_RATER, Role.PHARMACIST)
            Membership.objects.create(
                user=user,
                study=study,
                site=site if needs_site else None,
                role=role,
                actor="system:test",
            )
    return study


class People:
    """The study's people at work: each action is a request, as the person would make it."""

    def __init__(self, study: Study, world: World, clock) -> None:  # type: ignore[no-untyped-def]
        self.study, self.world, self.clock = study, world, clock
        self.codes: list[str] = []
        self.devices: dict[str, Client] = {}
        self.signed_in: dict[str, Client] = {}

    def at(self, day: date, hour: int, minute: int = 0) -> None:
        """Move the clock; everyone signs in afresh (a session does not last for weeks)."""
        self.clock.move_to(datetime.combine(day, time(hour, minute), ZONE))
        self.signed_in.clear()

    def as_(self, name: str) -> Client:
        if name not in self.signed_in:
            self.signed_in[name] = Client()
            self.signed_in[name].force_login(get_user_model().objects.get(username=name))
        return self.signed_in[name]

    def url(self, name: str, **kwargs) -> str:
        return reverse(f"staff:{name}", kwargs={"code": self.study.code, **kwargs})

    def post(self, who: str, url: str, data: dict, *, expect=(302,), see: str | None = None):  # type: ignore[no-untyped-def]
        with _on_commit():
            response = self.as_(who).post(url, data)
        assert response.status_code in expect, (who, url, response.status_code, _said(response))
        if see:
            self.world.see(see, response)
        return response


def _said(response) -> str:  # type: ignore[no-untyped-def]
    """The words of a page, without its markup, to say why an action was refused."""
    main = response.content.decode(errors="replace").split("<main", 1)[-1]
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", main))[:2500]


def _on_commit():  # type: ignore[no-untyped-def]
    """Callbacks registered for the commit (notices, emails) run as they would in production."""
    from django.test import TestCase

    return TestCase.captureOnCommitCallbacks(execute=True)


def _screening_form(site: Site) -> dict:
    from .test_trial import ELIGIBLE

    data = {key: value for key, value in ELIGIBLE.items() if key != "pain_areas"}
    data.update(
        site=site.pk,
        pain_areas=ELIGIBLE["pain_areas"],
        headaches="yes",
        lower_abdominal_pain="no",
        depression="no",
        consent_on=str(ENROLLED - timedelta(days=1)),
    )
    return data


def _visit_values(study: Study, number: int, held_on: date) -> dict:
    """Every measure the site's calendar asks at this visit, answered the same in both worlds."""
    wanted = next(v for v in site_visit_plan(study.protocol) if v["visit"] == number)["measures"]
    values: dict[str, str] = {"held_on": str(held_on), "medications": ""}
    for measure in study.protocol.visits.measures:
        if measure.id not in wanted:
            continue
        if measure.kind == "number":
            low = measure.min if measure.min is not None else 0
            high = measure.max if measure.max is not None else low + 10
            values[measure.id] = str(low + (high - low) / 4)
        elif measure.kind == "choice":
            values[measure.id] = "dont_know"
        else:
            values[measure.id] = "on"
    return values


def _diary_entry(study: Study, day: date, number: int) -> str:
    items = {item.id: (item.min + item.max) // 2 for item in study.protocol.diary.items}
    recorded = datetime.combine(day, time(20, 0), ZONE)
    return json.dumps(
        {
            "client_id": str(UUID(int=number)),
            "diary_date": str(day),
            "recorded_at": recorded.isoformat(),
            "items": items,
            "side_effects": ["headache"] if number % 9 == 0 else [],
        }
    )


def _the_study_runs(world: World, clock, *, allocation: str, study: Study) -> None:  # type: ignore[no-untyped-def]
    site = People(study, world, clock)
    here = Site.objects.get(study=study)
    day0 = ENROLLED - timedelta(days=1)
    site.at(day0, 9)
    upload = SimpleUploadedFile("list.csv", allocation.encode(), content_type="text/csv")
    site.post("phil", site.url("pharmacy"), {"form": "upload", "file": upload})
    numbers = []
    for _woman in range(2):
        made = site.post("cora", site.url("screen"), _screening_form(here))
        numbers.append(int(made["Location"].rstrip("/").split("/")[-1]))

    site.at(ENROLLED, 10)
    for k, number in enumerate(numbers, start=1):
        enrolled = site.post(
            "cora",
            site.url("enrol", number=number),
            {"enrolled_on": str(ENROLLED), "timezone": "Europe/Madrid"},
        )
        code = enrolled["Location"].rstrip("/").split("/")[-1]
        site.codes.append(code)
        shown = site.as_("cora").get(enrolled["Location"])  # the confirmation, kit code and all
        world.see(f"cora enrolled woman {k}", shown)
        link = site.post(
            "cora", site.url("diary_link", participant=code), {}, expect=(200,),
            see=f"cora diary link {k}",
        )  # fmt: skip
        secret = re.search(r"/diary/#code=([A-Za-z0-9_-]+)", link.text).group(1)
        session = Client().post(
            "/api/v1/participant/session",
            json.dumps({"code": secret}),
            content_type="application/json",
        )
        assert session.status_code == 201, session.content
        site.devices[code] = Client(HTTP_AUTHORIZATION=f"Bearer {session.json()['token']}")

    first, second = site.codes
    visits = {v["study_day"]: v["visit"] for v in site_visit_plan(study.protocol)}
    last_day = max(visits)
    entry = 0
    for study_day in range(1, last_day + 2):
        today = ENROLLED + timedelta(days=study_day - 1)
        if study_day in visits:
            site.at(today, 10)
            _visit(site, visits[study_day], today)
        if study_day == 20:
            site.at(today, 12)
            for code in site.codes:
                site.post("cora", site.url("adverse_event", participant=code), {
                    "term": "vivid dreams", "onset": str(today - timedelta(days=2)),
                    "severity": "mild", "related": "possible", "outcome": "recovering",
                    "action_taken": "dose_not_changed",
                })  # fmt: skip
        if study_day == 30:
            site.at(today, 11)
            for code in site.codes:
                site.post("ivan", site.url("dose_reduction", participant=code), {
                    "reason": "vivid dreams since week 2",
                })  # fmt: skip
                order = DoseReduction.objects.get(participant__code=code)
                site.post(
                    "phil", site.url("pharmacy"), {"form": "apply_reduction", "order": order.pk}
                )
        if study_day == 43:
            site.at(today, 15)
            plate = "participant_id,sampled_on,esr (mm/h)\n" + "".join(
                f"{code},{today},{18 + k}\n" for k, code in enumerate(site.codes)
            )
            upload = SimpleUploadedFile("esr.csv", plate.encode(), content_type="text/csv")
            preview = site.post(
                "cora", site.url("lab_import"),
                {"step": "preview", "panel": "esr", "file": upload},
                expect=(200,), see="cora lab preview",
            )  # fmt: skip
            sha256 = re.search(r'name="sha256" value="([0-9a-f]{64})"', preview.text).group(1)
            site.post(
                "cora", site.url("lab_import"), {"step": "import", "sha256": sha256},
                expect=(200,), see="cora lab import",
            )  # fmt: skip
        if study_day == 50:
            site.at(today, 13)
            _everyone_looks(site, "running")
        if study_day == 60:
            site.at(today, 9)
            site.post("cora", site.url("adverse_event", participant=second), {
                "term": "syncope", "onset": str(today - timedelta(days=1)), "severity": "severe",
                "serious": "on", "related": "unlikely", "outcome": "recovered",
                "resolved_on": str(today), "action_taken": "drug_interrupted",
            })  # fmt: skip
        if study_day == 70:
            site.at(today, 3)
            answer = site.post(
                "ivan", site.url("unblind", participant=first),
                {"password": PASSWORD, "reason": "anaphylaxis in A&E", "told_to": "Dr Ruiz"},
            )  # fmt: skip
            shown = site.as_("ivan").get(answer["Location"])
            site.world.see("ivan unblinding answer", shown)
            assert "Sequence <strong>" in shown.text and "Today is study day 70" in shown.text
            again = site.as_("ivan").get(answer["Location"])  # a reload shows nothing new
            assert "Sequence <strong>" not in again.text and "shown once" in again.text
            site.world.see("ivan reloads the code break", again)
        if study_day == 100:
            site.at(today, 11)
            site.post("cora", site.url("withdraw", participant=second), {
                "withdraw-on": str(today), "withdraw-reason": "lost_to_follow_up",
                "withdraw-detail": "moved away", "withdraw-after": "safety",
            })  # fmt: skip
        if study_day < last_day:  # the closing visit is the day after the last diary day
            site.at(today, 20, 30)
            for code, device in site.devices.items():
                if code == second and study_day >= 100:
                    continue
                entry += 1
                sent = device.post(
                    "/api/v1/diary/entries",
                    _diary_entry(study, today, entry),
                    content_type="application/json",
                )
                assert sent.status_code == 201, sent.content

    today = ENROLLED + timedelta(days=last_day + 1)
    site.at(today, 10)
    site.post("cora", site.url("complete", participant=first), {"complete-on": str(today)})
    site.post("adam", site.url("lock"), {
        "password": PASSWORD, "statement": "all queries closed",
        "past_checklist": "monitoring done on paper",
    })  # fmt: skip
    _everyone_looks(site, "locked")


def _fill(site: People, person: Participant, number: int, today: date) -> None:
    """The visit's kits filled from lots that differ as pharmacies' lots do: by contents.

    Each preparation has its own lot number and was compounded on its own day,
    so a lot, or a beyond-use date, anywhere a blinded role looks would tell
    the worlds apart.
    """
    for kit in Kit.objects.filter(slot=person.slot, dispense_visit=number, concealed_lot=""):
        held = contents_of(kit)
        placebo = held.condition == "placebo"
        site.post("phil", site.url("pharmacy"), {
            "form": "lot", "kits": kit.code,
            "lot": f"{held.condition.upper()}-{held.dose_mg or 0:g}{'-R' if kit.reduced else ''}",
            "compounded_on": str(today - timedelta(days=9 if placebo else 2)),
        })  # fmt: skip


def _visit(site: People, number: int, today: date) -> None:
    """The visit: kits back and counted, the visit's kits out, every measure recorded."""
    for code in site.codes:
        person = Participant.objects.get(code=code)
        if person.status != Participant.Status.ACTIVE and number > 1:
            continue
        for kit in Kit.objects.filter(
            slot=person.slot, dispensed_on__isnull=False, returned_on__isnull=True
        ).order_by("kit_number"):
            site.post("phil", site.url("pharmacy"), {
                "form": "return", "kit": kit.code, "on": str(today), "capsules": "3",
            })  # fmt: skip
        _fill(site, person, number, today)
        site.post(
            "phil", site.url("pharmacy"),
            {"form": "dispense", "participant": code, "visit": str(number), "on": str(today)},
            expect=(302, 422),  # 422: no kit is dispensed at this visit
        )  # fmt: skip
        assert not person.slot.kits.filter(dispense_visit=number, dispensed_on=None).exists()
        site.post(
            "rita",
            site.url("visit", participant=code, number=number),
            _visit_values(site.study, number, today),
        )


def _everyone_looks(site: People, stage: str) -> None:
    """Every role walks every page, posts every export and tries the errors; the women read."""
    world = site.world
    starts = _every_staff_url(site)
    for name in [*BLINDED, "phil"]:
        client = site.as_(name)
        crawl(world, f"{stage} {name}", client, starts)
        for format in ("csv", "parquet", "stata", "spss", "sas", "redcap", "fhir", "odm"):
            for identified in ({}, {"identified": "on"}):
                response = client.post(site.url("export"), {"format": format, **identified})
                world.see(f"{stage} {name} POST export {format} {identified}", response)
        for code in site.codes:
            probes = {
                "visit 99": site.url("visit", participant=code, number=99),
                "visit form": site.url("visit", participant=code, number=4),
                "unblind form": site.url("unblind", participant=code),
            }
            for what, url in probes.items():
                world.see(f"{stage} {name} {what} of {site.codes.index(code)}", client.get(url))
            bad = client.post(site.url("visit", participant=code, number=4), {"held_on": "soon"})
            world.see(f"{stage} {name} bad visit of {site.codes.index(code)}", bad)
    crawl(world, f"{stage} nobody", Client(), ["/", site.url("dashboard"), "/diary/"])
    reads = [p for p, calls in api.get_openapi_schema()["paths"].items() if "get" in calls]
    for k, device in enumerate(site.devices.values()):
        for path in [*(p.replace("/api/v1", "") for p in reads), "/diary/", "/diary/sw.js"]:
            url = path if path.startswith("/diary") else f"/api/v1{path}"
            world.see(f"{stage} woman {k} GET {url}", device.get(url))


def _every_staff_url(site: People) -> list[str]:
    """Every staff URL pattern, filled in with each woman, visit and screening, then the links.

    Built from the URL configuration, so a new page is walked without being listed here.
    """
    from ldntrial.web.staff.urls import urlpatterns

    visits = [v["visit"] for v in site_visit_plan(site.study.protocol)]
    values = {
        "code": [site.study.code],
        "participant": site.codes,
        "number": sorted({*visits, 1, 2}),  # visit numbers, and the two screenings
        "what": ["blinded-bundle.zip", "bundle.zip", "analysis.json", "report.pdf"],
    }
    urls = ["/"]
    for pattern in urlpatterns:
        wanted = list(pattern.pattern.converters)
        for filled in itertools.product(*(values[name] for name in wanted)):
            url = reverse(f"staff:{pattern.name}", kwargs=dict(zip(wanted, filled, strict=True)))
            if url not in urls:
                urls.append(url)
    return urls


def test_nothing_a_blinded_role_can_reach_tells_the_arm(study: Study) -> None:
    start = datetime(2026, 3, 1, 8, 0, tzinfo=UTC)
    a = run_world(_the_study_runs, start, allocation=WORLD_A, study=study)
    b = run_world(_the_study_runs, start, allocation=WORLD_B, study=study)

    # The worlds are real: the arms differ where they are meant to be seen.
    assert (
        "ivan unblinding answer" in a.seen
        and a.seen["ivan unblinding answer"] != b.seen["ivan unblinding answer"]
    )
    pharmacy = [key for key in a.seen if key.startswith("locked phil GET") and "pharmacy" in key]
    assert pharmacy and a.seen[pharmacy[0]] != b.seen[pharmacy[0]]
    # The walk is wide: every role reached many pages, every export was made.
    for stage in ("running", "locked"):
        for name in BLINDED:
            reached = [
                key
                for key, seen in a.seen.items()
                if key.startswith(f"{stage} {name} GET") and seen.status == 200
            ]
            least = PAGES_REACHED[name] if stage == "running" else min(PAGES_REACHED[name], 6)
            assert len(reached) >= least, (stage, name, reached)
    assert len(a.mail) >= 3  # the serious event, the unblinding notice, the lock's head

    allowed = {"ivan unblinding answer"} | {k for k in a.seen if " phil " in f" {k} "}
    print(
        f"twin worlds: {len(a.seen)} requests observed in each ({len(allowed)} allowed to "
        f"differ), {len(a.mail)} emails, {len(a.logs)} log lines"
    )
    found = differences(a, b, allowed=allowed)
    assert not found, (
        f"a blinded role can tell the arm ({len(found)} differences):\n"
        + "\n".join(f.splitlines()[0] for f in found)
        + "\n\n"
        + "\n\n".join(found[:6])
    )
