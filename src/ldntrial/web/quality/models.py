"""Queries on recorded values, forms verified against source, casebooks signed.

Each names the record it is about by its audit key (``trial.Visit:12``), so
a later change to that record is found in the audit trail: it makes a
verification stale and voids a signature (21 CFR 11.70: a signature is
linked to its record).
"""

from __future__ import annotations

from django.conf import settings
from django.db import models

from ldntrial.web.studies.models import StudyData
from ldntrial.web.trial.models import Participant


class DataQuery(StudyData):
    """A question about one recorded value: raised, answered (or corrected), closed."""

    study_via = "participant"

    class Status(models.TextChoices):
        OPEN = "open"
        ANSWERED = "answered"
        CLOSED = "closed"

    participant = models.ForeignKey(Participant, on_delete=models.PROTECT, related_name="queries")
    record = models.CharField(max_length=200, help_text="<app>.<Model>:<pk> of the form")
    field = models.CharField(max_length=100, blank=True, help_text="The value asked about")
    text = models.TextField(help_text="The question")
    automatic = models.BooleanField(default=False, help_text="Raised by a protocol check")
    raised_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    raised_at = models.DateTimeField()
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.OPEN)
    answer = models.TextField(blank=True)
    answered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    answered_at = models.DateTimeField(null=True, blank=True)
    closed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    closed_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"{self.participant.code} query {self.pk}"


class SourceVerification(StudyData):
    """A monitor checked one form against its source; ``entry`` dates what was checked."""

    study_via = "participant"

    participant = models.ForeignKey(
        Participant, on_delete=models.PROTECT, related_name="verifications"
    )
    record = models.CharField(max_length=200)
    entry = models.BigIntegerField(help_text="The record's newest audit entry when verified")
    verified_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    verified_at = models.DateTimeField()

    def __str__(self) -> str:
        return f"{self.participant.code} verified {self.record}"


class CasebookSignature(StudyData):
    """The investigator's signature on her whole casebook, up to audit entry ``entry``."""

    study_via = "participant"

    participant = models.ForeignKey(
        Participant, on_delete=models.PROTECT, related_name="signatures"
    )
    signed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    signed_at = models.DateTimeField()
    meaning = models.CharField(max_length=200)
    entry = models.BigIntegerField(help_text="The casebook's newest audit entry when signed")

    def __str__(self) -> str:
        return f"{self.participant.code} casebook signed {self.signed_at:%Y-%m-%d}"
