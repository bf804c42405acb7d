"""`ldntrial manage verify_audit [--head ID:HASH]`: the trail, its kept heads, the tables."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError, CommandParser

from ldntrial.web.audit.chain import Head
from ldntrial.web.audit.verification import verify_trail


def _head(text: str) -> Head:
    try:
        return Head.parse(text)
    except ValueError as error:
        raise CommandError(f"--head: {error}") from None


class Command(BaseCommand):
    help = (
        "Recompute the audit trail's keyed hash chain, check each kept head is still in it, "
        "and check every audited table against the trail; fail naming every problem."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--head",
            action="append",
            default=[],
            metavar="ID:HASH",
            help="a head kept outside the database (a notice, a lock's record); repeatable",
        )

    def handle(self, *args, **options) -> None:
        kept = [_head(text) for text in options["head"]]
        check = verify_trail(kept)
        if not check.intact:
            problems = check.problems()
            raise CommandError(
                f"the audit trail does not account for the data ({len(problems)} "
                "problem(s)):\n  " + "\n  ".join(problems)
            )
        head = Head(check.chain.entries, check.chain.head)
        self.stdout.write(
            f"audit trail intact: {check.chain.entries} entries, head {head}; "
            f"{check.heads_checked} kept head(s) found in it; every audited table matches it\n"
            "Keep the head: a later check with --head finds a trail cut short or rewritten."
        )
