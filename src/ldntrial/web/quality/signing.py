"""Source data verification and the investigator's casebook signature, both kept current.

A form marked verified stays verified until it changes: the verification
keeps the form's newest audit entry, and a later entry shows it stale. The
investigator signs her whole casebook with her password and the meaning of
the signature (21 CFR 11.50, 11.200); any later change to the casebook voids
it, and the page says so.
"""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.utils import timezone

from ldntrial.web.accounts.reentry import password_problem
from ldntrial.web.audit.tracking import actor_for
from ldntrial.web.quality.casebook import (
    casebook_forms,
    casebook_records,
    newest_entries,
    newest_entry,
)
from ldntrial.web.quality.models import CasebookSignature, SourceVerification
from ldntrial.web.trial.models import Participant

__all__ = [
    "SIGNATURE_MEANING",
    "current_signature",
    "sign_casebook",
    "verification_status",
    "verify_form",
]

SIGNATURE_MEANING = (
    "I have reviewed this casebook and confirm that it is complete and accurate "
    "(investigator's approval)"
)


def verify_form(participant: Participant, record: str, by) -> SourceVerification:
    """Mark one of her forms as checked against its source, as it stands now."""
    actor = actor_for(by)
    if record not in {form.record for form in casebook_forms(participant)}:
        raise ValidationError({"record": "not a form of her casebook"})
    return SourceVerification.objects.create(
        participant=participant,
        record=record,
        entry=newest_entry([record]),
        verified_by=by,
        verified_at=timezone.now(),
        actor=actor,
    )


def verification_status(participant: Participant) -> dict[str, SourceVerification | None]:
    """Each form's current verification (None: never verified, or changed since)."""
    forms = [form.record for form in casebook_forms(participant)]
    newest = newest_entries(forms)
    latest = {}
    for verification in participant.verifications.order_by("verified_at"):
        latest[verification.record] = verification
    return {
        record: verification
        if (verification := latest.get(record)) and verification.entry >= newest.get(record, 0)
        else None
        for record in forms
    }


def sign_casebook(participant: Participant, by, *, password: str) -> CasebookSignature:
    """The investigator's signature on her casebook as it stands, with its meaning."""
    actor = actor_for(by)
    if problem := password_problem(by, password, signing=f"casebook of {participant.code}"):
        raise ValidationError({"password": f"{problem}; re-enter it to sign"})
    return CasebookSignature.objects.create(
        participant=participant,
        signed_by=by,
        signed_at=timezone.now(),
        meaning=SIGNATURE_MEANING,
        entry=newest_entry(casebook_records(participant)),
        actor=actor,
    )


def current_signature(participant: Participant) -> tuple[CasebookSignature | None, bool]:
    """(her newest signature, still valid?): a change after it voids it."""
    signature = participant.signatures.order_by("-signed_at").first()
    if signature is None:
        return None, False
    return signature, newest_entry(casebook_records(participant)) <= signature.entry
