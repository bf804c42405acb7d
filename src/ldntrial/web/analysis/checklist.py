"""What stands open before a database lock, for the study administrator to see first.

A lock is final (AUD-8), so what is still open is listed before signing:
participants still active, serious adverse events not ended (and any whose
alert reached no one), screenings without a decision, visits whose window
has passed unrecorded while she was in the study, queries not closed,
casebooks not signed and forms not verified (or changed since). Locking past any of
them needs a reason, kept in the lock's statement. Nothing here reads an
allocation: the list is the same whatever the arms.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from django.utils import timezone

from ldntrial.protocol.eligibility import Outcome
from ldntrial.protocol.schedule import site_visit_plan
from ldntrial.web.quality.models import DataQuery
from ldntrial.web.quality.signing import current_signature, verification_status
from ldntrial.web.studies.models import Study
from ldntrial.web.trial.models import AdverseEvent, Participant, Visit, calendar_from

__all__ = ["OpenItem", "lock_checklist"]


@dataclass(frozen=True)
class OpenItem:
    """One kind of open business, with what it is about."""

    label: str
    examples: list[str] = field(default_factory=list)
    about_adverse_events: bool = False  # names or counts them: not for the blinded rater

    hidden: int = 0  # examples withheld from this reader, counted all the same

    @property
    def count(self) -> int:
        return len(self.examples) + self.hidden

    def counted_only(self) -> OpenItem:
        """The same item with its examples withheld (how many, not which)."""
        return OpenItem(self.label, [], self.about_adverse_events, hidden=self.count)


def lock_checklist(study: Study, today: date | None = None) -> list[OpenItem]:
    """The open items of ``study`` (empty lists included, so the page shows them checked)."""
    today = today or timezone.localdate()
    people = list(Participant.objects.filter(study=study).order_by("code"))
    events = AdverseEvent.objects.filter(participant__study=study, serious=True).select_related(
        "participant"
    )
    open_serious = [e for e in events if e.outcome not in AdverseEvent.ENDED]
    screenings = study.screenings.select_related("participant").order_by("number")
    undecided = [
        f"screening {s.number}"
        for s in screenings
        if not hasattr(s, "participant")
        and not s.not_enrolled_reason
        and (s.may_enrol or (s.outcome == Outcome.NEEDS_REVIEW and not s.review))
    ]
    return [
        OpenItem(
            "participants still active (neither completed nor withdrawn)",
            [p.code for p in people if p.status == Participant.Status.ACTIVE],
        ),
        OpenItem(
            "serious adverse events not ended",
            [f"{e.participant.code}: {e.term}" for e in open_serious],
            about_adverse_events=True,
        ),
        OpenItem(
            "serious adverse events whose alert reached no one",
            [f"{e.participant.code}: {e.term}" for e in events if not e.alerted],
            about_adverse_events=True,
        ),
        OpenItem("screenings without a decision (enrol, not enrolled, review)", undecided),
        OpenItem(
            "visits not recorded whose window has passed", _missed_visits(study, people, today)
        ),
        OpenItem(
            "queries not closed",
            [
                f"{q.participant.code}: query {q.pk} ({q.status})"
                for q in DataQuery.objects.filter(participant__study=study)
                .exclude(status=DataQuery.Status.CLOSED)
                .select_related("participant")
                .order_by("pk")
            ],
        ),
        OpenItem(
            "casebooks not signed by the investigator (or changed since)",
            [p.code for p in people if not current_signature(p)[1]],
        ),
        OpenItem(
            "forms not verified against their source (or changed since)",
            [
                f"{p.code}: {record}"
                for p in people
                for record, check in verification_status(p).items()
                if check is None
            ],
            about_adverse_events=True,  # her forms include her adverse events
        ),
    ]


def _missed_visits(study: Study, people: list[Participant], today: date) -> list[str]:
    """Unrecorded visits whose window closed before today, up to her withdrawal if she left."""
    protocol = study.protocol
    plan = site_visit_plan(protocol)
    recorded = set(
        Visit.objects.filter(participant__study=study).values_list("participant_id", "number")
    )
    missed = []
    for person in people:
        for visit in calendar_from(person.enrolled_on, protocol, plan):
            if (person.pk, visit["visit"]) in recorded or visit["latest"] >= today:
                continue
            if person.withdrawn_on is None or visit["date"] <= person.withdrawn_on:
                missed.append(f"{person.code}, visit {visit['visit']}")
    return missed
