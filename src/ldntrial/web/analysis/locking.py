"""Locking a study's database, and unblinding the locked snapshot for the pre-specified analyses.

Two signed steps (21 CFR 11.50, SIG-1 and SIG-4: the signer re-enters her
password and the record shows who, when and what it means):

1. :func:`lock_database`, by the study admin: inside one transaction that
   holds the study row, every write in flight has finished and none can
   follow (:class:`~ldntrial.web.studies.models.StudyData`); the data are
   read into a TrialData, zipped as a bundle with its SHA-256, and stored.
   The lock is final.
2. :func:`unblind_snapshot`, by the statistician: the planned end-of-study
   unblinding (BLD-5 allows it only after the lock). The pre-specified
   analyses and the trial report run on the stored bundle, whose checksums
   are verified on the way in, and are kept with it.

Both are recorded in the audit trail (GCP-3: lock and unblind are workflow
actions), without the allocation.
"""

from __future__ import annotations

import hashlib

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from ldntrial.data.archive import bundle_archive, load_bundle_archive
from ldntrial.data.trialdata import TrialData
from ldntrial.errors import LdnTrialError
from ldntrial.report import render_trial_report
from ldntrial.stats import analyze
from ldntrial.web.accounts.reentry import password_problem
from ldntrial.web.analysis.checklist import lock_checklist
from ldntrial.web.analysis.flow import screened
from ldntrial.web.analysis.models import DatabaseLock
from ldntrial.web.analysis.snapshot import trial_data_from_database
from ldntrial.web.audit.chain import chain_of, current_head, record_event
from ldntrial.web.audit.models import Action
from ldntrial.web.audit.tracking import CONCEALED, actor_for, because
from ldntrial.web.diary.models import DiaryEntry
from ldntrial.web.studies.models import Study
from ldntrial.web.studies.notices import send_audit_head_notice
from ldntrial.web.trial.models import AdverseEvent, LabResult, Participant, Visit

__all__ = [
    "LOCK_MEANING",
    "blinded_snapshot",
    "lock_database",
    "locked_snapshot",
    "records_to_freeze",
    "unblind_snapshot",
]

LOCK_MEANING = "database lock: the data are complete and final for the pre-specified analyses"


def lock_database(
    study: Study, user, *, password: str, statement: str, past_checklist: str = ""
) -> DatabaseLock:
    """Lock ``study`` and store its snapshot; ValidationError names what stands in the way.

    Anything still open (:func:`lock_checklist`) needs ``past_checklist``, the reason to lock
    all the same, which the lock's statement keeps with what was open.
    """
    actor = actor_for(user)
    _check_signature(user, password, statement, "statement")
    with transaction.atomic():
        # Waits for every write holding the study row's share lock, and keeps new ones out.
        study = Study.objects.select_for_update().get(pk=study.pk)
        if study.locked_at is not None:
            raise ValidationError({"study": "the database of this study is already locked"})
        statement = _past_the_checklist(study, statement, past_checklist)
        trial = trial_data_from_database(study)
        archive = bundle_archive(trial)
        digest = hashlib.sha256(archive).hexdigest()
        now = timezone.now()
        head = current_head(chain_of(study))
        lock = DatabaseLock.objects.create(
            study=study,
            locked_by=user,
            locked_at=now,
            statement=statement.strip(),
            bundle=archive,
            bundle_sha256=digest,
            rows=records_to_freeze(study),
            audit_head=str(head) if head else "",
            actor=actor,
        )
        with because(f"{LOCK_MEANING}: {statement.strip()}"):
            study.locked_at = now
            study.save(actor=actor)
        record_event(
            actor=actor_for(user),
            action=Action.LOCK,
            about=study,
            changes={"bundle_sha256": [None, CONCEALED]},
            concealed={"bundle_sha256": digest},
            reason=statement.strip(),
        )
        transaction.on_commit(
            lambda: send_audit_head_notice(occasion=f"the database of {study.code} was locked")
        )
    return lock


def _past_the_checklist(study: Study, statement: str, reason: str) -> str:
    """The statement, with what was still open and why the lock went ahead; refused
    without a reason."""
    still_open = [item for item in lock_checklist(study) if item.count]
    if not still_open:
        return statement
    listed = "; ".join(f"{item.count} {item.label}" for item in still_open)
    if not reason.strip():
        raise ValidationError(
            {"past_checklist": f"still open: {listed}. Close them, or say why to lock now"}
        )
    return f"{statement.strip()} (locked with {listed} open: {reason.strip()})"


def unblind_snapshot(lock: DatabaseLock, user, *, password: str, reason: str) -> DatabaseLock:
    """Open the locked snapshot for analysis and run the pre-specified analyses on it.

    The unblinding is recorded even when the analyses cannot run (too few
    data, say); the reason is kept in ``analysis_error`` for the page.
    """
    actor = actor_for(user)
    _check_signature(user, password, reason, "reason")
    with transaction.atomic():
        lock = DatabaseLock.objects.select_for_update().get(pk=lock.pk)
        if lock.unblinded:
            raise ValidationError({"lock": "the locked snapshot is already unblinded"})
        trial = locked_snapshot(lock)
        try:
            lock.analysis = analyze(trial).to_dict()
            lock.report_html = render_trial_report(trial, screened=screened(lock.study))
        except LdnTrialError as error:
            lock.analysis_error = str(error)
        lock.unblinded_by, lock.unblinded_at = user, timezone.now()
        lock.unblind_reason = reason.strip()
        with because(f"planned end-of-study unblinding: {reason.strip()}"):
            lock.save(actor=actor)
        record_event(
            actor=actor_for(user),
            action=Action.UNBLIND,
            about=lock,
            changes={"unblinded": [None, lock.study.code]},
            reason=reason.strip(),
        )
    return lock


def records_to_freeze(study: Study) -> dict[str, int]:
    """How many records of each kind the lock freezes, counted as they were entered.

    Counted in the tables, never in the unblinded TrialData: that one keeps
    only the blinding guesses a participant's own sequence asks for, so its
    counts would grow with a guess at one arm's visits and not the other's
    (an oracle any role reading the lock page could consult).
    """
    participants = Participant.objects.filter(study=study)
    values = Visit.objects.filter(participant__study=study).values_list("values", flat=True)
    return {
        "participants": participants.count(),
        "diary days": DiaryEntry.objects.filter(participant__study=study)
        .values("participant", "diary_date")
        .distinct()
        .count(),
        "diary entries, corrections included": DiaryEntry.objects.filter(
            participant__study=study
        ).count(),
        "visits": values.count(),
        "visit values": sum(
            sum(value is not None for value in recorded.values()) for recorded in values
        ),
        "lab results": LabResult.objects.filter(participant__study=study).count(),
        "adverse events": AdverseEvent.objects.filter(participant__study=study).count(),
    }


def locked_snapshot(lock: DatabaseLock) -> TrialData:
    """The stored snapshot, unblinded: checked against the lock's SHA-256 and its manifest.

    Callers decide who may see it: the statistician, once she has unblinded it.
    """
    data = bytes(lock.bundle)
    if hashlib.sha256(data).hexdigest() != lock.bundle_sha256:
        raise ValidationError({"bundle": "the stored snapshot does not match its SHA-256"})
    return load_bundle_archive(data)


def blinded_snapshot(lock: DatabaseLock) -> TrialData:
    """The snapshot as a blinded role may see it (:meth:`TrialData.blinded_view`)."""
    return locked_snapshot(lock).blinded_view()


def _check_signature(user, password: str, text: str, field: str) -> None:
    errors = {}
    if not text.strip():
        errors[field] = "required: say what you sign and why"
    elif problem := password_problem(user, password, signing=f"the {field} of a lock"):
        errors["password"] = f"{problem}; re-enter it to sign"
    if errors:
        raise ValidationError(errors)
