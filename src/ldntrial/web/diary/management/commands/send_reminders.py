"""`ldntrial manage send_reminders`: the diary reminders due now, each sent once (run by cron)."""

from __future__ import annotations

from django.conf import settings
from django.core.management.base import BaseCommand
from django.utils import timezone

from ldntrial.web.diary.reminders import send_due_reminders


class Command(BaseCommand):
    help = "Send the diary reminders and coordinator notes due now; run every few minutes."

    def handle(self, *args, **options) -> None:
        sent = send_due_reminders(timezone.now(), site_url=settings.LDNTRIAL_SITE_URL)
        kinds: dict[str, int] = {}
        for due in sent:
            kinds[due.kind] = kinds.get(due.kind, 0) + 1
        summary = ", ".join(f"{count} {kind}" for kind, count in sorted(kinds.items()))
        self.stdout.write(f"sent {len(sent)}" + (f" ({summary})" if summary else ""))
