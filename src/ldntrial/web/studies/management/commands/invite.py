"""`ldntrial manage invite STUDY EMAIL ROLE [--site CODE] --by USER`: a one-time invitation.

The email goes out as from the page; the link is printed too, for a site
without email yet (hand it over as you would a password).
"""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from ldntrial.web.studies.invitations import invitation_path, invite
from ldntrial.web.studies.models import Study
from ldntrial.web.studies.roles import Role


class Command(BaseCommand):
    help = "Invite someone by email to a role in a study (a one-time link, valid 7 days)."

    def add_arguments(self, parser) -> None:
        parser.add_argument("study", help="the study's code")
        parser.add_argument("email")
        parser.add_argument("role", choices=[role.value for role in Role])
        parser.add_argument("--site", help="a site's code (every site when left out)")
        parser.add_argument("--by", required=True, help="user name of whoever invites")
        parser.add_argument(
            "--base-url", default="http://127.0.0.1:8000", help="the site's address"
        )

    def handle(self, *args, **options) -> None:
        study = Study.objects.filter(code=options["study"]).first()
        if study is None:
            raise CommandError(f"no study {options['study']!r}")
        site = None
        if options["site"]:
            site = study.sites.filter(code=options["site"]).first()
            if site is None:
                known = ", ".join(study.sites.values_list("code", flat=True))
                raise CommandError(
                    f"--site: {study.code} has no site {options['site']!r} ({known})"
                )
        by = get_user_model().objects.filter(username=options["by"]).first()
        if by is None:
            raise CommandError(f"--by: no account {options['by']!r}")
        try:
            with transaction.atomic():
                sent = invite(
                    study,
                    actor="system:manage invite",
                    email=options["email"],
                    role=options["role"],
                    site=site,
                    by=by,
                    base_url=options["base_url"],
                )
        except ValidationError as error:
            raise CommandError(" ".join(error.messages)) from None
        self.stdout.write(options["base_url"].rstrip("/") + invitation_path(sent.secret))
        self.stderr.write(
            f"{sent.invitation.email} invited as {sent.invitation.role} in {study.code}; "
            f"the link works once, until {sent.invitation.expires_at:%Y-%m-%d %H:%M} UTC"
        )
