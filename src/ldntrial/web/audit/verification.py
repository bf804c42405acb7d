"""Everything ``verify_audit`` checks, in one report: the chains, the kept heads, the tables.

1. The chains (:func:`~ldntrial.web.audit.chain.verify_chain`): no entry
   edited, removed or forged without the audit key.
2. The heads kept outside the database (from a notice, web/studies/notices.py,
   or a lock's record), given on the command line: each must still be in
   the trail with the same hash; a chain cut short has no entry there, a
   rewritten one another hash.
3. The tables (:func:`~ldntrial.web.audit.reconcile.reconcile_with_trail`):
   every audited row is what the trail says.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from ldntrial.web.audit.chain import ChainReport, Head, verify_chain
from ldntrial.web.audit.models import AuditEntry
from ldntrial.web.audit.reconcile import Discrepancy, reconcile_with_trail

__all__ = ["TrailCheck", "verify_trail"]


@dataclass(frozen=True)
class TrailCheck:
    """What :func:`verify_trail` found; intact when every list is empty and the chain holds."""

    chain: ChainReport
    heads_checked: int
    head_problems: list[str]
    discrepancies: list[Discrepancy]

    @property
    def intact(self) -> bool:
        return self.chain.intact and not self.head_problems and not self.discrepancies

    def problems(self) -> list[str]:
        """Each problem as one line, the chain's first."""
        chain = (
            []
            if self.chain.intact
            else [
                f"audit entry {self.chain.broken_at}: {self.chain.problem}; the trail after it "
                "cannot be trusted"
            ]
        )
        return [*chain, *self.head_problems, *map(str, self.discrepancies)]


def verify_trail(kept: Sequence[Head] = ()) -> TrailCheck:
    """Check the whole trail against itself, the kept heads and the tables."""
    chain = verify_chain()
    problems = [problem for head in kept if (problem := _check_head(head))]
    return TrailCheck(chain, len(kept), problems, reconcile_with_trail())


def _check_head(head: Head) -> str:
    stored = AuditEntry.objects.filter(id=head.entry).values_list("hash", flat=True).first()
    if stored is None:
        return (
            f"kept head {head}: the trail has no entry {head.entry}: entries were cut off the "
            "end of its chain"
        )
    if stored != head.hash:
        return f"kept head {head}: entry {head.entry} has another hash: the trail was rewritten"
    return ""
