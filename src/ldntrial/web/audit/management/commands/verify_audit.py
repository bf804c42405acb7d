"""`ldntrial manage verify_audit [--head ID:HASH ...]`: the trail, its kept heads, the tables."""

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
        "Recompute the audit trail's keyed hash chains, check each kept head is still in it, "
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
        heads = " ".join(f"--head {head}" for head in check.chain.heads)
        self.stdout.write(
            f"audit trail intact: {check.chain.entries} entries in {len(check.chain.heads)} "
            f"chain(s); {check.heads_checked} kept head(s) found in it; every audited table "
            f"matches it\nKeep the heads: a later check with {heads or '--head ID:HASH'} finds "
            "a chain cut short or rewritten."
        )
