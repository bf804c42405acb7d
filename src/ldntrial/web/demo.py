"""The demo: a running crossover-2013 study, a finished one locked for analysis, an N-of-1 trial.

Built by `ldntrial demo` into the data folder's database, once (a second run
finds it and leaves it as it is). Every account shares one demo password,
printed by the command; the demo serves on 127.0.0.1 only.

- ``demo``, running at two sites: twelve women of a simulated trial entered
  through the site's own actions up to yesterday (diaries, visits with kits
  dispensed, labs, adverse events), so some have finished and some are in
  the middle. DEMO-001 is always active in a blinded phase. Three
  screenings wait at every stage, and one serious adverse event is open.
- ``nof1-demo``: the investigator's N-of-1 trial for one patient, who has
  finished her six blocks; the physician ends it, reads the answer and
  releases the patient's report.
- ``demo-locked``: the 31 women of the simulated 2013 trial the demo report
  shows (:func:`ldntrial.simulate.demo.demo_trial`), complete and locked by
  the study admin, so the statistician can unblind it and run the
  pre-specified analyses.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

import pandas as pd
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Permission
from django.db import transaction
from django.utils import timezone

from ldntrial.data.trialdata import TrialData
from ldntrial.protocol.eligibility import PAIN_AREAS
from ldntrial.protocol.loader import builtin_protocol_text, load_protocol
from ldntrial.simulate import simulate_trial
from ldntrial.simulate.demo import DEMO_TRIAL_WOMEN, demo_trial
from ldntrial.web.analysis.locking import lock_database
from ldntrial.web.analysis.trial_import import import_trial
from ldntrial.web.audit.tracking import because
from ldntrial.web.nof1.clinic import start_nof1_trial
from ldntrial.web.nof1.models import Nof1Trial
from ldntrial.web.studies.invitations import accept_invitation, invite
from ldntrial.web.studies.models import Site, Study
from ldntrial.web.studies.roles import Role
from ldntrial.web.studies.setup import SiteSpec, create_study
from ldntrial.web.trial.pharmacy import generate_allocation
from ldntrial.web.trial.safety import report_adverse_event
from ldntrial.web.trial.screening import record_screening, sign_off

__all__ = ["DEMO_LOGINS", "DEMO_PASSWORD", "DemoLogin", "build_demo_study"]

DEMO_CODE = "demo"
LOCKED_CODE = "demo-locked"
DEMO_PASSWORD = "ldntrial-demo-2026"
TIMEZONE = "America/Los_Angeles"
SITES = {"stanford": "Stanford", "second-site": "Second site"}
RUNNING_SEED, RUNNING_WOMEN, RECRUITING_DAYS = 26, 12, 190
NOF1_SEED = 11


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
    """The demo studies, built now if they do not exist yet; (the running study, built_now)."""
    existing = Study.objects.filter(code=DEMO_CODE).first()
    if existing is not None:
        return existing, False
    today = today or timezone.localdate()
    actor = "system:demo"
    with transaction.atomic():
        users = _team()
        study = _running_study(today, users, actor=actor)
        _locked_study(users, actor=actor)
        _nof1_trial(users["investigator"], actor=actor)
    return study, True


def _team() -> dict:
    """The accounts: the site's administrator (as ``createsuperuser`` makes her); the rest
    join the first study through its invitations, as a real team does."""
    admin = get_user_model().objects.create_superuser(
        "admin", email="admin@example.org", password=DEMO_PASSWORD
    )
    return {"admin": admin}


def _study(code: str, users: dict, note: str, *, actor: str) -> tuple[Study, dict[str, Site]]:
    """A crossover-2013 study made as the administrator makes one, its team invited.

    Everyone has an address, so the serious-event and unblinding notices reach
    someone (written to the data folder's sent-email/ outside production).
    """
    protocol = load_protocol("crossover-2013")
    study = create_study(
        code=code,
        title=f"{protocol.title}: {note}",
        protocol_text=builtin_protocol_text("crossover-2013"),
        sites=[SiteSpec(key, name, TIMEZONE) for key, name in SITES.items()],
        admin=users["admin"],
        actor=actor,
    )
    sites = {site.code: site for site in study.sites.all()}
    for login in DEMO_LOGINS:
        if login.role == Role.STUDY_ADMIN:
            continue  # made by create_study
        sent = invite(
            study,
            email=f"{login.username}@example.org",
            role=login.role,
            site=sites[login.site] if login.site else None,
            by=users["admin"],
            base_url="http://127.0.0.1:8000",
            actor=actor,
        )
        known = users.get(login.username)
        users[login.username] = (
            accept_invitation(sent.secret, user=known)
            if known
            else accept_invitation(sent.secret, username=login.username, password=DEMO_PASSWORD)
        )
    return study, sites


def _running_study(today: date, users: dict, *, actor: str) -> Study:
    study, sites = _study(DEMO_CODE, users, "running", actor=actor)
    simulated = simulate_trial(
        "crossover-2013",
        n=RUNNING_WOMEN,
        seed=RUNNING_SEED,
        start_date=today - timedelta(days=RECRUITING_DAYS + 10),
        recruitment_days=RECRUITING_DAYS,
        sites=tuple(SITES),
    )
    imported = import_trial(
        study,
        _demo_codes(simulated, today),
        sites=sites,
        answers=ELIGIBLE,
        timezone=TIMEZONE,
        through=today - timedelta(days=1),
        ae_outcome="recovered",
        actor=actor,
    )
    generate_allocation(study, per_stratum=24, actor=actor)  # for the women enrolled from now on
    # One serious event still open, so the alert and the dashboard have something to show.
    newest = max(imported.participants, key=lambda person: person.enrolled_on)
    report_adverse_event(
        newest,
        term="syncope",
        onset=today - timedelta(days=2),
        severity="moderate",
        serious=True,
        related="possible",
        outcome="recovering",
        actor=actor,
    )
    # Every other stage: eligible and waiting, needs review, ineligible (an opioid).
    record_screening(sites["stanford"], ELIGIBLE, today, actor=actor)
    review = record_screening(
        sites["stanford"], {**ELIGIBLE, "medications": ["methotrexate"]}, today, actor=actor
    )
    record_screening(
        sites["second-site"], {**ELIGIBLE, "medications": ["tramadol"]}, today, actor=actor
    )
    with because("demo: the investigator has reviewed the methotrexate"):
        sign_off(review, users["investigator"], approve=True)
    return study


def _demo_codes(trial: TrialData, today: date) -> TrialData:
    """The simulated women renamed DEMO-001, DEMO-002...; DEMO-001 is in a blinded phase today.

    She is the woman whose study day today is closest to 20 among those in the
    blinded treatment days (15 to 126 in both sequences) who never withdraw;
    the others follow in order of enrolment.
    """
    people = trial.participants.sort_values("enrolled_on", kind="stable")
    study_day = (pd.Timestamp(today) - people["enrolled_on"]).dt.days + 1
    stays = people["status"] != "withdrawn"
    blinded = people[(study_day >= 15) & (study_day <= 126) & stays]
    first = (study_day[blinded.index] - 20).abs().idxmin()
    order = [people.loc[first, "participant_id"]] + [
        code for code in people["participant_id"] if code != people.loc[first, "participant_id"]
    ]
    names = {code: f"DEMO-{k:03d}" for k, code in enumerate(order, start=1)}
    tables: dict[str, Any] = {
        name: table.assign(participant_id=table["participant_id"].astype(str).map(names))
        for name, table in trial.tables().items()
    }
    return TrialData.from_tables(trial.protocol, **tables)


def _locked_study(users: dict, *, actor: str) -> Study:
    study, sites = _study(LOCKED_CODE, users, "finished, locked for analysis", actor=actor)
    import_trial(
        study,
        demo_trial(),
        sites={"site-1": sites["stanford"]},
        answers=ELIGIBLE,
        timezone=TIMEZONE,
        ae_outcome="recovered",
        actor=actor,
    )
    lock_database(
        study,
        users["admin"],
        password=DEMO_PASSWORD,
        statement=f"demo: the {DEMO_TRIAL_WOMEN} women of the simulated 2013 trial, complete",
        past_checklist="demo: a simulated trial, imported whole",
    )
    return study


def _nof1_trial(physician, *, actor: str) -> Nof1Trial:
    """The investigator as a physician: her patient has finished all six blocks."""
    physician.user_permissions.add(Permission.objects.get(codename="start_nof1"))
    trial = start_nof1_trial(
        physician, name="demo", pharmacy_email="compounding-pharmacy@example.org", allocate=False
    )
    import_trial(
        trial.study,
        simulate_trial("nof1", n=1, seed=NOF1_SEED, start_date=date(2025, 3, 3)),
        sites={"site-1": trial.study.sites.get()},
        answers=ELIGIBLE,
        timezone=TIMEZONE,
        ae_outcome="recovered",
        actor=actor,
    )
    return trial
