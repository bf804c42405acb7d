"""One patient's N-of-1 trial: its physician, its pharmacy, and the report released to her."""

from __future__ import annotations

from django.conf import settings
from django.db import models

from ldntrial.web.audit.tracking import AuditedModel
from ldntrial.web.studies.models import OfAStudy, Study


class Nof1Trial(OfAStudy, AuditedModel):
    """A study of one patient, set up by her physician; the pharmacy is outside the site.

    The compounding pharmacy gets the kit list (codes and contents) by email;
    the physician never sees it. The report is the patient's plain-language
    page, kept as it was released; it tells her which blocks were LDN, so
    the trail records that it was stored, not what it says.
    """

    audit_concealed = frozenset({"report_html"})

    study = models.OneToOneField(Study, on_delete=models.PROTECT, related_name="nof1")
    physician = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    pharmacy_email = models.EmailField(help_text="Where the blinded kit list goes")
    kit_list_sent_at = models.DateTimeField(null=True, blank=True)
    report_html = models.TextField(blank=True, help_text="Her report, as released to her")
    released_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = "N-of-1 trial"
        permissions = [("start_nof1", "Can start an N-of-1 trial for a patient")]

    def __str__(self) -> str:
        return f"N-of-1 {self.study.code}"
