"""`ldntrial manage verify_audit`: check the audit trail's hash chain end to end."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from ldntrial.web.audit.chain import verify_chain


class Command(BaseCommand):
    help = "Recompute the audit trail's hash chain; fail naming the first entry that breaks it."

    def handle(self, *args, **options) -> None:
        report = verify_chain()
        if not report.intact:
            raise CommandError(
                f"audit entry {report.broken_at}: {report.problem}; the trail after it cannot "
                "be trusted"
            )
        self.stdout.write(
            f"audit trail intact: {report.entries} entries, head {report.head} "
            "(keep this line: a shorter trail with an older head means entries were removed)"
        )
