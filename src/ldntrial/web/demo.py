"""The demo study: a crossover-2013 study with two sites, staff of every role and participants.

Built by `ldntrial demo` into the data folder's database, once (a second run
finds it and leaves it as it is). Every account shares one demo password,
printed by the command; the demo serves on 127.0.0.1 only. DEMO-001 is
always active in a blinded phase: she was enrolled 20 days ago, after the
14-day baseline.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils import timezone

from ldntrial.protocol.eligibility import PAIN_AREAS
from ldntrial.protocol.loader import builtin_protocol_text, load_protocol
from ldntrial.web.audit.tracking import acting_as
from ldntrial.web.studies.models import Membership, Site, Study
from ldntrial.web.studies.roles import Role
from ldntrial.web.trial.enrolment import enrol
from ldntrial.web.trial.pharmacy import generate_allocation
from ldntrial.web.trial.safety import report_adverse_event
from ldntrial.web.trial.screening import record_screening, sign_off

__all__ = ["DEMO_LOGINS", "DEMO_PASSWORD", "DemoLogin", "build_demo_study"]

DEMO_CODE = "demo"
DEMO_PASSWORD = "ldntrial-demo-2026"


@dataclass(frozen=True)
class DemoLogin:
    username: str
    role: Role
    site: str | None  # None: every site


DEMO_LOGINS = (
    DemoLogin("investigator", Role.INVESTIGATOR, None),
    DemoLogin("coordinator", Role.COORDINATOR, "stanford"),
    DemoLogin("coordinator-b", Role.COORDINATOR, "second-site"),
    DemoLogin("rater", Role.BLINDED_RATER, "stanford"),
    DemoLogin("pharmacist", Role.PHARMACIST, None),
    DemoLogin("statistician", Role.STATISTICIAN, None),
    DemoLogin("monitor", Role.MONITOR, None),
    DemoLogin("admin", Role.STUDY_ADMIN, None),
)

# Answers that meet the ACR criteria (WPI 12, SS 10) with nothing excluding.
ELIGIBLE = {
    "age": 46,
    "sex": "female",
    "pain_areas": list(PAIN_AREAS[:12]),
    "fatigue": 3,
    "waking_unrefreshed": 3,
    "cognitive_symptoms": 2,
    "somatic_symptoms": 2,
    "headaches": True,
    "lower_abdominal_pain": False,
    "depression": False,
    "symptom_months": 30,
    "esr_mm_h": 22.0,
}


def build_demo_study(today: date | None = None) -> tuple[Study, bool]:
    """The demo study, built now if it does not exist yet; (study, built_now)."""
    existing = Study.objects.filter(code=DEMO_CODE).first()
    if existing is not None:
        return existing, False
    today = today or timezone.localdate()
    protocol = load_protocol("crossover-2013")
    with transaction.atomic(), acting_as("system:demo"):
        study = Study.objects.create(
            code=DEMO_CODE,
            title=protocol.title,
            protocol_text=builtin_protocol_text("crossover-2013"),
        )
        sites = {
            "stanford": Site.objects.create(study=study, code="stanford", name="Stanford"),
            "second-site": Site.objects.create(
                study=study, code="second-site", name="Second site"
            ),
        }
        users = {}
        for login in DEMO_LOGINS:
            user = get_user_model().objects.create_user(login.username, password=DEMO_PASSWORD)
            users[login.username] = user
            Membership.objects.create(
                user=user,
                study=study,
                site=sites[login.site] if login.site else None,
                role=login.role,
            )
        generate_allocation(study, per_stratum=24)
        # Enrolled: DEMO-001 20 days ago (in a blinded phase), then others further back.
        enrolled = []
        for index, days_ago in enumerate([20, 45, 70, 95, 120, 150]):
            site = sites["stanford"] if index % 3 != 2 else sites["second-site"]
            enrolled_on = today - timedelta(days=days_ago)
            screening = record_screening(site, ELIGIBLE, enrolled_on - timedelta(days=7))
            enrolled.append(
                enrol(screening, enrolled_on=enrolled_on, timezone="America/Los_Angeles")
            )
        # The side effects the 2013 trial reported most (vivid dreams, headache), one serious.
        for enrolment, term, days_after, serious in [
            (enrolled[1], "vivid dreams", 20, False),
            (enrolled[2], "headache", 30, False),
            (enrolled[3], "syncope", 40, True),
        ]:
            participant = enrolment.participant
            report_adverse_event(
                participant,
                term=term,
                onset=participant.enrolled_on + timedelta(days=days_after),
                severity="moderate" if serious else "mild",
                serious=serious,
                related="possible",
                outcome="recovered",
            )
        # Every other stage: eligible and waiting, needs review, ineligible (an opioid).
        record_screening(sites["stanford"], ELIGIBLE, today)
        review = record_screening(
            sites["stanford"], {**ELIGIBLE, "medications": ["methotrexate"]}, today
        )
        record_screening(sites["second-site"], {**ELIGIBLE, "medications": ["tramadol"]}, today)
    with acting_as("system:demo", reason="demo: the investigator has reviewed the methotrexate"):
        sign_off(review, users["investigator"], approve=True)
    return study, True
