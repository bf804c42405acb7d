"""The lock of a study's database: who signed it, when, and the snapshot it froze.

The snapshot is the unblinded TrialData bundle built inside the lock's
transaction, kept zipped with its SHA-256, so every later analysis reads the
same bytes (and can show it does). It and its checksum are concealed in the
audit trail and opened only by the statistician's unblinding (standards.md
BLD-1, GCP-3).
"""

from __future__ import annotations

from django.conf import settings
from django.db import models

from ldntrial.web.audit.tracking import AuditedModel
from ldntrial.web.studies.models import OfAStudy, Study


class DatabaseLock(OfAStudy, AuditedModel):
    """One study's lock (a study is locked once) and, later, its unblinding for analysis."""

    # The snapshot's SHA-256 is concealed with it: the data and the protocol are known to
    # blinded roles, so a checksum of the unblinded snapshot would let them try each
    # possible allocation until one matches.
    audit_concealed = frozenset({"bundle", "bundle_sha256", "analysis", "report_html"})

    study = models.OneToOneField(Study, on_delete=models.PROTECT, related_name="database_lock")
    locked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    locked_at = models.DateTimeField()
    statement = models.TextField(help_text="What the signer confirms by locking (SIG-1)")
    bundle = models.BinaryField(help_text="The unblinded TrialData bundle, zipped")
    bundle_sha256 = models.CharField(max_length=64)
    rows = models.JSONField(help_text="{table: rows} of the snapshot")
    audit_head = models.CharField(
        max_length=90,
        blank=True,
        help_text="The head of the study's audit chain when the lock was signed (ID:HASH)",
    )
    unblinded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        null=True,
        blank=True,
    )
    unblinded_at = models.DateTimeField(null=True, blank=True)
    unblind_reason = models.TextField(blank=True)
    analysis = models.JSONField(null=True, blank=True, help_text="ldntrial analyze, as JSON")
    report_html = models.TextField(blank=True, help_text="The trial report, self-contained")
    analysis_error = models.TextField(blank=True, help_text="Why the analyses could not run")

    def __str__(self) -> str:
        return f"{self.study.code} locked {self.locked_at:%Y-%m-%d %H:%M}"

    @property
    def unblinded(self) -> bool:
        return self.unblinded_at is not None
