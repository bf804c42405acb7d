"""`ldntrial manage reset_second_factor USER --reason "..."`: for a user who lost her phone."""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from ldntrial.web.accounts.second_factor import confirmed_device, forget_devices


class Command(BaseCommand):
    help = (
        "Remove a user's authenticator so that she can set up a new one, after checking who "
        "she is outside the site (she lost her phone); recorded in the audit trail."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument("username")
        parser.add_argument(
            "--reason", required=True, help="How her identity was checked, for the audit trail"
        )
        parser.add_argument("--by", required=True, help="Who resets it (your name)")

    def handle(self, *args, username: str, reason: str, by: str, **options) -> None:
        user = get_user_model().objects.filter(username=username).first()
        if user is None:
            raise CommandError(f"username: no user '{username}'")
        if not reason.strip() or not by.strip():
            raise CommandError("--reason and --by: say who resets it and how she was identified")
        if confirmed_device(user) is None:
            raise CommandError(f"username: '{username}' has no authenticator set up")
        forget_devices(user, actor=f"admin:{by.strip()}", reason=f"reset: {reason.strip()}")
        self.stdout.write(
            f"removed the authenticator of {username}; at her next sign-in she sets up a new one"
        )
