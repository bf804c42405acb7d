"""`ldntrial manage create_study CODE TITLE --protocol P --site "code, name, zone" --admin USER`.

The same path as the administrator's page: the protocol (a built-in id or a
TOML file) is checked with every problem named by line and field, and
nothing is stored unless all is right. ``--admin`` names an existing
account (e.g. made with ``createsuperuser``) that becomes the study
administrator, who then invites the team (``ldntrial manage invite``).
"""

from __future__ import annotations

from pathlib import Path

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from ldntrial.protocol.loader import builtin_protocol_ids, builtin_protocol_text
from ldntrial.web.studies.setup import create_study, parse_sites


class Command(BaseCommand):
    help = "Create a study from a protocol file, with its sites and its study administrator."

    def add_arguments(self, parser) -> None:
        parser.add_argument("code", help="short code, e.g. ldn-2027")
        parser.add_argument("title", help="the study's full title")
        parser.add_argument(
            "--protocol", required=True, help=f"a TOML file, or one of {builtin_protocol_ids()}"
        )
        parser.add_argument(
            "--site",
            action="append",
            default=[],
            help='"code, name, time zone", once per site',
        )
        parser.add_argument("--admin", required=True, help="user name of the study administrator")

    def handle(self, *args, **options) -> None:
        admin = get_user_model().objects.filter(username=options["admin"]).first()
        if admin is None:
            raise CommandError(
                f"--admin: no account {options['admin']!r}; make one with createsuperuser"
            )
        try:
            study = create_study(
                code=options["code"],
                title=options["title"],
                protocol_text=_protocol_text(options["protocol"]),
                sites=parse_sites("\n".join(options["site"])),
                admin=admin,
                actor="system:manage create_study",
            )
        except ValidationError as error:
            raise CommandError(_problems(error)) from None
        self.stdout.write(
            f"Study {study.code} created with {study.sites.count()} site(s); "
            f"{admin.get_username()} is its study administrator."
        )


def _protocol_text(given: str) -> str:
    if given in builtin_protocol_ids():
        return builtin_protocol_text(given)
    path = Path(given)
    if not path.is_file():
        raise CommandError(f"--protocol: {given!r} is neither a file nor a built-in protocol")
    return path.read_text("utf-8")


def _problems(error: ValidationError) -> str:
    """Every problem, one per line, each under its field."""
    return "\n".join(
        f"{field}: {message}"
        for field, messages in error.message_dict.items()
        for message in messages
    )
