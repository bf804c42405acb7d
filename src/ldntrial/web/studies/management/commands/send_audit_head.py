"""`ldntrial manage send_audit_head`: email the audit trail's heads to the study admins (cron)."""

from __future__ import annotations

from django.core.management.base import BaseCommand

from ldntrial.web.audit.chain import current_heads
from ldntrial.web.studies.notices import send_audit_head_notice


class Command(BaseCommand):
    help = (
        "Email the audit trail's heads (each chain's newest entry and hash) to every study "
        "administrator, to keep outside the database; run daily."
    )

    def handle(self, *args, **options) -> None:
        sent = send_audit_head_notice(occasion="the daily notice")
        heads = current_heads()
        self.stdout.write(
            "audit trail heads " + (" ".join(map(str, heads)) or "none (empty trail)")
        )
        if sent:
            self.stdout.write(f"sent to {len(sent)} study administrator(s)")
        else:
            self.stderr.write(
                "sent to nobody: no study administrator has an email address; keep the heads "
                "above yourself"
            )
