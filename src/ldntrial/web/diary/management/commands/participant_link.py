"""`ldntrial manage participant_link CODE [--study S]`: a fresh personal diary link, printed.

For staff who send the link themselves (a text message, an email). The
code is printed once and stored only hashed; earlier unused links of hers
stop working. The making of the link is audited as this command's.
"""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from ldntrial.web.diary.links import issue_diary_link, link_path
from ldntrial.web.trial.models import Participant


class Command(BaseCommand):
    help = "Print a fresh personal diary link for one participant (its code last in the URL)."

    def add_arguments(self, parser) -> None:
        parser.add_argument("participant", help="her participant code, e.g. DEMO-001")
        parser.add_argument("--study", help="the study's code, when two studies share hers")
        parser.add_argument(
            "--base-url", default="http://127.0.0.1:8000", help="the site's address"
        )

    def handle(self, *args, **options) -> None:
        people = Participant.objects.filter(code=options["participant"])
        if options["study"]:
            people = people.filter(study__code=options["study"])
        found = list(people.select_related("study")[:2])
        if not found:
            raise CommandError(f"no participant {options['participant']}")
        if len(found) > 1:
            raise CommandError(f"{options['participant']} is in more than one study: give --study")
        (person,) = found
        try:
            link, code = issue_diary_link(
                person, now=timezone.now(), actor="system:manage participant_link"
            )
        except ValidationError as error:
            raise CommandError(" ".join(error.messages)) from None
        self.stdout.write(options["base_url"].rstrip("/") + link_path(code))
        self.stderr.write(
            f"{person.code} ({person.study.code}): valid until {link.expires_at:%Y-%m-%d %H:%M} "
            "UTC, once; earlier unused links no longer work"
        )
