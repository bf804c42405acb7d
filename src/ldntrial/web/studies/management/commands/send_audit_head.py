"""`ldntrial manage send_audit_head`: email the audit trail's head to the study admins (cron)."""

from __future__ import annotations

from django.core.management.base import BaseCommand

from ldntrial.web.audit.chain import current_head
from ldntrial.web.studies.notices import send_audit_head_notice


class Command(BaseCommand):
    help = (
        "Email the audit trail's head (newest entry and hash) to every study administrator, "
        "to keep outside the database; run daily."
    )

    def handle(self, *args, **options) -> None:
        sent = send_audit_head_notice(occasion="the daily notice")
        head = current_head()
        self.stdout.write(f"audit trail head {head or 'none (empty trail)'}")
        if sent:
            self.stdout.write(f"sent to {len(sent)} study administrator(s)")
        else:
            self.stderr.write(
                "sent to nobody: no study administrator has an email address; keep the head "
                "above yourself"
            )
