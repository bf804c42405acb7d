"""Screening, the concealed allocation list and enrolment (BLD-1, BLD-2, BLD-4, AUD-8)."""

from __future__ import annotations

import json
from datetime import date

import pytest
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError

from ldntrial.protocol.eligibility import PAIN_AREAS
from ldntrial.protocol.kits import is_valid_kit_code
from ldntrial.protocol.loader import builtin_protocol_text
from ldntrial.web.audit.models import AuditEntry
from ldntrial.web.audit.tracking import CONCEALED, because
from ldntrial.web.studies.models import Site, Study
from ldntrial.web.trial.enrolment import enrol
from ldntrial.web.trial.models import AllocationListVersion, AllocationSlot, Kit, Participant
from ldntrial.web.trial.pharmacy import generate_allocation
from ldntrial.web.trial.screening import record_screening, sign_off

pytestmark = pytest.mark.django_db

ELIGIBLE = {
    "age": 45,
    "sex": "female",
    "pain_areas": list(PAIN_AREAS[:12]),
    "fatigue": 3,
    "waking_unrefreshed": 3,
    "cognitive_symptoms": 2,
    "somatic_symptoms": 2,
    "headaches": True,
    "lower_abdominal_pain": False,
    "depression": False,
    "symptom_months": 24,
    "esr_mm_h": 22.0,
}
CONSENT = date(2026, 3, 2)


@pytest.fixture
def study() -> Study:
    study = Study.objects.create(
        code="demo",
        title="LDN",
        protocol_text=builtin_protocol_text("crossover-2013"),
        actor="system:test",
    )
    Site.objects.create(study=study, code="a", name="Site A", actor="system:test")
    generate_allocation(study, per_stratum=4, seed=11, actor="user:7:phil")
    return study


def _screen(study: Study, **changes) -> object:
    return record_screening(
        study.sites.get(), {**ELIGIBLE, **changes}, CONSENT, actor="user:3:cora"
    )


def _enrol(screening, **kwargs):
    return enrol(
        screening,
        enrolled_on=date(2026, 3, 2),
        timezone="America/Los_Angeles",
        **kwargs,
        actor="user:3:cora",
    )


def test_the_list_and_its_kits_are_made_once_per_version_by_the_core(study: Study) -> None:
    version = AllocationListVersion.objects.get(study=study)
    assert (version.version, version.method, version.concealed_seed) == (
        1,
        "permuted_blocks",
        "11/12",
    )
    slots = AllocationSlot.objects.filter(study=study)
    assert slots.count() >= 4
    assert set(slots.values_list("concealed_sequence", flat=True)) == {
        "ldn-first",
        "placebo-first",
    }
    kits = Kit.objects.filter(study=study)
    assert all(is_valid_kit_code(code) for code in kits.values_list("code", flat=True))
    # Every slot gets the same number of bottles whatever its sequence (no tell-tale count).
    assert len({slot.kits.count() for slot in slots}) == 1


def test_an_eligible_screening_with_consent_enrols_into_the_first_free_slot(study) -> None:
    screening = _screen(study)
    assert screening.outcome == "eligible" and screening.number == 1
    enrolment = _enrol(screening)
    participant = enrolment.participant
    first_slot = AllocationSlot.objects.filter(study=study).order_by("position").first()
    assert participant.code == "DEMO-001" and participant.slot == first_slot
    assert participant.randomisation_number == first_slot.randomisation_number
    assert enrolment.first_kit_code == first_slot.kits.get(kit_number=1).code
    second = _enrol(_screen(study)).participant
    assert second.code == "DEMO-002" and second.slot.position == 2


def test_the_trail_never_shows_an_allocation(study: Study) -> None:
    _enrol(_screen(study))
    # The protocol names its sequences; what must not show is who got which.
    entries = AuditEntry.objects.filter(record__startswith="trial.")
    trail = json.dumps(list(entries.values("changes", "reason", "record")))
    assert entries.count() > 10
    for secret in ("ldn-first", "placebo-first", '"ldn"', '"placebo"', '"11/12"'):
        assert secret not in trail, secret
    slot_entry = AuditEntry.objects.filter(record__startswith="trial.AllocationSlot:").first()
    assert slot_entry.changes["sequence"] == [None, CONCEALED]
    kit_entry = AuditEntry.objects.filter(record__startswith="trial.Kit:").first()
    assert kit_entry.changes["condition"] == [None, CONCEALED]


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"age": 150}, "age", "less than or equal to 120"),
        ({"fatigue": "very"}, "fatigue", "valid integer"),
        ({"pain_areas": ["left_elbow"]}, "pain_areas", "unknown areas left_elbow"),
    ],
)
def test_bad_screening_answers_name_the_field(study, changes, field, message) -> None:
    with pytest.raises(ValidationError) as caught:
        _screen(study, **changes)
    assert field in caught.value.message_dict
    assert message in " ".join(caught.value.message_dict[field])


def test_steps_out_of_order_are_refused(study: Study) -> None:
    ineligible = _screen(study, age=70)
    with pytest.raises(ValidationError, match="screening 1 is ineligible"):
        _enrol(ineligible)
    no_consent = record_screening(study.sites.get(), ELIGIBLE, None, actor="user:3:cora")
    with pytest.raises(ValidationError, match="record the date of written consent"):
        _enrol(no_consent)
    opioid = _screen(study, medications=["tramadol"])
    with pytest.raises(ValidationError, match="is ineligible"):
        _enrol(opioid)
    enrolled = _enrol(_screen(study))
    with pytest.raises(ValidationError, match="already enrolled"):
        _enrol(enrolled.participant.screening)
    assert Participant.objects.count() == 1


def test_a_screening_for_review_enrols_only_after_an_investigator_approves(study) -> None:
    screening = _screen(study, medications=["methotrexate"])  # hepatotoxic: review (label)
    assert screening.outcome == "needs_review"
    with pytest.raises(ValidationError, match="waits for an investigator's sign-off"):
        _enrol(screening)
    investigator = get_user_model().objects.create_user("ivan", password="x" * 14)
    with because("reviewed the other diagnosis"):
        sign_off(screening, investigator, approve=True)
    assert _enrol(screening).participant.code == "DEMO-001"


def test_when_the_list_runs_out_the_pharmacist_is_asked_to_extend_it(study: Study) -> None:
    slots = AllocationSlot.objects.filter(study=study).count()
    for _ in range(slots):
        _enrol(_screen(study))
    with pytest.raises(ValidationError, match="no allocation left in stratum all"):
        _enrol(_screen(study))
    assert generate_allocation(study, per_stratum=2, seed=12, actor="user:7:phil") == 2
    assert _enrol(_screen(study)).participant.randomisation_number.startswith("V2-")


def test_a_bad_time_zone_is_named_and_nothing_is_written(study: Study) -> None:
    screening = _screen(study)
    with pytest.raises(ValidationError, match="not an IANA time zone"):
        enrol(
            screening, enrolled_on=date(2026, 3, 2), timezone="Mars/Olympus", actor="user:3:cora"
        )
    assert not Participant.objects.exists()


@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("audit_cleared_after")
def test_simultaneous_enrolments_never_share_an_allocation() -> None:
    from concurrent.futures import ThreadPoolExecutor

    from django.db import connection

    study = Study.objects.create(
        code="rush",
        title="LDN",
        protocol_text=builtin_protocol_text("crossover-2013"),
        actor="system:test",
    )
    Site.objects.create(study=study, code="a", name="Site A", actor="system:test")
    generate_allocation(study, per_stratum=8, seed=3, actor="user:7:phil")
    screenings = [_screen(study) for _ in range(8)]

    def enrol_one(screening):
        try:
            return _enrol(screening).participant.slot_id
        finally:
            connection.close()  # each thread has its own connection

    with ThreadPoolExecutor(max_workers=4) as pool:
        slots = list(pool.map(enrol_one, screenings))
    assert len(set(slots)) == 8
    positions = sorted(
        AllocationSlot.objects.filter(pk__in=slots).values_list("position", flat=True)
    )
    assert positions == list(range(1, 9))
