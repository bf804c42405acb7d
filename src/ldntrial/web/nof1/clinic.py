"""The physician's steps of an N-of-1 trial, from setting it up to releasing her report.

1. :func:`start_nof1_trial`: a study of one patient on the ``nof1`` protocol
   (or the physician's own variant of it), one clinic site, the physician
   in every role that runs it (investigator, study admin, statistician) and
   a one-slot concealed list of block orders with its kits.
2. She screens and enrols her patient with the study's ordinary pages.
3. :func:`send_kit_list`: the compounding pharmacy gets the kit list, with
   the contents of each bottle, by email; the physician never sees it, so
   patient and physician stay blind (the pharmacy is the only unblinded party).
4. :func:`end_nof1_trial`: at the end the physician signs the lock and the
   planned unblinding with her password, and the pre-specified analysis runs.
5. :func:`release_report`: her plain-language report is stored as released,
   for her to see. The software supports the physician's decision; the
   report says what the diary shows, not what to take.
"""

from __future__ import annotations

import csv
import io
from datetime import timedelta

from django.core.exceptions import ValidationError
from django.core.mail import EmailMessage
from django.db import transaction
from django.utils import timezone

from ldntrial.errors import LdnTrialError, ProtocolError
from ldntrial.protocol.kit_label import CLINICAL_TRIAL_USE
from ldntrial.protocol.loader import builtin_protocol_text, parse_protocol
from ldntrial.report import render_participant_report
from ldntrial.report.patient_words import LANGUAGES
from ldntrial.vocab import AllocationMethod
from ldntrial.web.analysis.locking import lock_database, locked_snapshot, unblind_snapshot
from ldntrial.web.audit.chain import record_event
from ldntrial.web.audit.models import Action
from ldntrial.web.audit.tracking import actor_for, because
from ldntrial.web.nof1.models import Nof1Trial
from ldntrial.web.studies.models import Membership, Site, Study
from ldntrial.web.studies.roles import Role
from ldntrial.web.trial.concealed import contents_of
from ldntrial.web.trial.dates import local_today
from ldntrial.web.trial.kit_lots import label_of
from ldntrial.web.trial.models import Kit, Participant
from ldntrial.web.trial.pharmacy import generate_allocation
from ldntrial.web.trial.status import last_planned_day

__all__ = [
    "PHYSICIAN_ROLES",
    "end_nof1_trial",
    "patient_of",
    "preview_report",
    "release_report",
    "send_kit_list",
    "start_nof1_trial",
]

PHYSICIAN_ROLES = (Role.INVESTIGATOR, Role.STUDY_ADMIN, Role.STATISTICIAN)
CLINIC = "clinic"


def start_nof1_trial(
    physician,
    *,
    name: str,
    pharmacy_email: str,
    protocol_text: str = "",
    design: str = "nof1",
    allocate: bool = True,
) -> Nof1Trial:
    """A new N-of-1 study ``nof1-<name>``; ``protocol_text`` empty means the built-in ``design``.

    ``allocate=False`` leaves the block order to come with her data, when a
    finished trial is imported (:func:`ldntrial.web.analysis.trial_import.import_trial`).
    """
    actor = actor_for(physician)  # she starts it, and her team is herself
    text = protocol_text.strip() or builtin_protocol_text(design)
    code = f"nof1-{name}"
    try:
        protocol = parse_protocol(text, source="protocol")
    except ProtocolError as error:
        raise ValidationError({"protocol_text": str(error)}) from None
    if protocol.allocation.method != AllocationMethod.RANDOMISED_PAIRS:
        raise ValidationError(
            {"protocol_text": "an N-of-1 trial randomises pairs of blocks: "
             "allocation.method must be randomised_pairs (start from the nof1 protocol)"}
        )  # fmt: skip
    if Study.objects.filter(code=code).exists():
        raise ValidationError({"name": f"a study {code} already exists; choose another name"})
    with transaction.atomic():
        study = Study.objects.create(
            code=code, title=f"{protocol.title} ({name})", protocol_text=text, actor=actor
        )
        site = Site.objects.create(study=study, code=CLINIC, name="Clinic", actor=actor)
        for role in PHYSICIAN_ROLES:
            Membership.objects.create(
                user=physician, study=study, site=site, role=role, actor=actor
            )
        if allocate:
            generate_allocation(study, per_stratum=1, actor=actor)
        return Nof1Trial.objects.create(
            study=study, physician=physician, pharmacy_email=pharmacy_email, actor=actor
        )


def patient_of(trial: Nof1Trial) -> Participant | None:
    """Her participant record, once she is enrolled."""
    return Participant.objects.filter(study=trial.study).first()


def send_kit_list(trial: Nof1Trial, user) -> int:
    """Email the pharmacy her kits with their contents and what each label says.

    The list (unblinded) has each kit's contents, and for a liquid its
    concentration; the label columns say what may be written on the bottle,
    the same for both conditions (:mod:`ldntrial.protocol.kit_label`). The
    pharmacy keeps each bottle's lot and beyond-use date on its own record.
    Returns how many kits.
    """
    actor = actor_for(user)
    patient = patient_of(trial)
    if patient is None:
        raise ValidationError({"kits": "enrol her first: her kits are bound at enrolment"})
    kits = list(Kit.objects.filter(slot=patient.slot).order_by("kit_number"))
    protocol = trial.study.protocol
    table = io.StringIO()
    writer = csv.writer(table)
    writer.writerow([
        "kit_code", "kit", "contents", "dose_mg", "mg_per_ml", "from", "to",
        "label_contents", "label_quantity", "label_directions", "label_use_by",
    ])  # fmt: skip
    for kit in kits:
        first = patient.enrolled_on + timedelta(days=kit.first_day - 1)
        last = patient.enrolled_on + timedelta(days=kit.last_day - 1)
        held = contents_of(kit)
        contents = protocol.conditions[held.condition].label or held.condition
        label = label_of(kit)
        writer.writerow([
            kit.code, kit.kit_number, contents, held.dose_mg or "",
            "" if held.mg_per_ml is None else f"{held.mg_per_ml:g}", first, last,
            label.contents, label.quantity, label.directions, label.use_by,
        ])  # fmt: skip
    form = "liquids of the same volume" if protocol.dosing.form == "liquid" else "capsules"
    message = EmailMessage(
        subject=f"[{trial.study.code}] Blinded kit list: {len(kits)} bottles",
        body=(
            f"Kit list of the N-of-1 trial {trial.study.code} for patient {patient.code}, "
            f"prescribed by {trial.physician.get_username()}.\n"
            f"Prepare identical {form}. Label each bottle with its kit code, the label "
            f'columns of the list and "{CLINICAL_TRIAL_USE}", and nothing else. '
            "Keep each bottle's lot and beyond-use date on your own record; the "
            "beyond-use date must not come before the label's use-by date. "
            "Do not share the contents with the patient or her physician: the trial is "
            "double-blind through the pharmacy.\n"
        ),
        to=[trial.pharmacy_email],
    )
    message.attach(f"{trial.study.code}-kits.csv", table.getvalue(), "text/csv")
    with transaction.atomic(), because("the kit list was sent to the pharmacy"):
        trial.kit_list_sent_at = timezone.now()
        trial.save(actor=actor)
        record_event(
            actor=actor_for(user),
            action=Action.EXPORT,
            about=trial,
            changes={"kit_list": [None, f"{len(kits)} kits to {trial.pharmacy_email}"]},
        )
        transaction.on_commit(message.send)
    return len(kits)


def end_nof1_trial(trial: Nof1Trial, user, *, password: str, early_reason: str = "") -> None:
    """Lock her data and unblind them for the analysis, both signed with her password.

    Before her last block is over the lock is final all the same, so ending then
    needs its reason, which the lock's statement keeps.
    """
    patient = patient_of(trial)
    if patient is None:
        raise ValidationError({"trial": "nobody is enrolled in this trial"})
    last = last_planned_day(patient)
    early = local_today(patient.timezone) < last
    if early and not early_reason.strip():
        raise ValidationError(
            {
                "early_reason": f"her last block ends on {last:%Y-%m-%d}: to end the trial "
                "before, say why (the lock is final and her analysis has fewer blocks)"
            }
        )
    statement = "end of the N-of-1 trial" + (
        f", early (her last block ends on {last:%Y-%m-%d}): {early_reason.strip()}"
        if early
        else ""
    )
    with transaction.atomic():
        lock = lock_database(
            trial.study,
            user,
            password=password,
            statement=statement,
            past_checklist="her physician ended her N-of-1 trial",
        )
        unblind_snapshot(lock, user, password=password, reason="planned end of the N-of-1 trial")


def release_report(trial: Nof1Trial, user) -> Nof1Trial:
    """Store her report as released to her (after the trial has been ended and unblinded)."""
    actor = actor_for(user)
    lock = getattr(trial.study, "database_lock", None)
    if lock is None or not lock.unblinded:
        raise ValidationError({"report": "end the trial first: the report needs her whole diary"})
    if trial.released_at is not None:
        raise ValidationError({"report": "already released"})
    html = _report_html(lock, trial)
    with transaction.atomic(), because("her report was released to her"):
        trial.report_html, trial.released_at = html, timezone.now()
        trial.save(actor=actor)
        record_event(
            actor=actor_for(user),
            action=Action.EXPORT,
            about=trial,
            changes={"report": [None, "released to the patient"]},
        )
    return trial


PREVIEW_BANNER = (
    '<p role="status" style="border:2px solid #b00;padding:0.5em;font-weight:bold">'
    "Preview for the physician: not yet released to her.</p>"
)


def preview_report(trial: Nof1Trial) -> str:
    """Her report as :func:`release_report` would release it, marked as a preview."""
    lock = getattr(trial.study, "database_lock", None)
    if lock is None or not lock.unblinded:
        raise ValidationError({"report": "end the trial first: the report needs her whole diary"})
    return _report_html(lock, trial).replace("<body>", f"<body>{PREVIEW_BANNER}", 1)


def _report_html(lock, trial: Nof1Trial) -> str:
    try:
        patient = patient_of(trial)
        if patient is None:
            raise ValidationError({"report": "enrol her first: the report is about her diary"})
        # Her report in the language of her diary (English or Spanish).
        language = patient.language if patient.language in LANGUAGES else "en"
        return render_participant_report(locked_snapshot(lock), patient.code, language=language)
    except LdnTrialError as error:
        raise ValidationError({"report": str(error)}) from None
