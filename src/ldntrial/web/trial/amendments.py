"""Protocol amendments: a new version of the protocol file, with its reason, checked against
the data already collected.

An amendment may add and change; it may not silently drop what the data use:
a diary item with entries, a visit measure with values, a lab analyte with
results, a sequence or condition of the allocation list and kits, a phase of
a sequence someone follows. Each such problem is named; nothing is stored
until there is none. Every participant keeps the version in force at her
enrolment, and the analysis says which versions the data came from.
"""

from __future__ import annotations

from collections import Counter

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from ldntrial.errors import ProtocolError
from ldntrial.protocol.loader import parse_protocol
from ldntrial.protocol.model import Protocol
from ldntrial.web.audit.tracking import actor_for, because
from ldntrial.web.diary.models import DiaryEntry
from ldntrial.web.studies.models import ProtocolVersion, Study
from ldntrial.web.trial.concealed import conditions_in_kits, sequences_on_list
from ldntrial.web.trial.models import LabResult, Visit

__all__ = ["amend_protocol", "protocol_history", "versions_of_the_data"]


def protocol_history(study: Study) -> list[ProtocolVersion]:
    """Every version, first to last (the first is the study's own text until amended)."""
    return list(study.protocol_versions.order_by("version"))


def versions_of_the_data(study: Study, participants) -> list[dict[str, object]]:
    """Each protocol version with how many of ``participants`` were enrolled under it."""
    counts = Counter(participants.values_list("protocol_version", flat=True))
    known = {v.version: v for v in protocol_history(study)}
    numbers = sorted(set(known) | set(counts) | {1})
    return [
        {
            "version": number,
            "put_in_force": f"{known[number].made_at:%Y-%m-%d}" if number in known else "",
            "reason": known[number].reason if number in known else "the first protocol",
            "participants_enrolled": counts.get(number, 0),
        }
        for number in numbers
    ]


def amend_protocol(study: Study, *, protocol_text: str, reason: str, by) -> ProtocolVersion:
    """Put a new version in force after checking it against the data collected so far."""
    actor = actor_for(by)
    if study.locked_at is not None:
        raise ValidationError({"protocol_text": "the study is locked: its protocol is final"})
    if not reason.strip():
        raise ValidationError({"reason": "required: why the protocol is amended"})
    try:
        new = parse_protocol(protocol_text, source="amendment")
    except ProtocolError as error:
        raise ValidationError({"protocol_text": str(error).splitlines()}) from None
    if protocol_text == study.protocol_text:
        raise ValidationError({"protocol_text": "this is the version in force already"})
    if problems := _dropped_in_use(study, study.protocol, new):
        raise ValidationError({"protocol_text": problems})
    now = timezone.now()
    with transaction.atomic():
        if not study.protocol_versions.exists():  # a study made before versions were kept
            ProtocolVersion.objects.create(
                study=study,
                version=1,
                protocol_text=study.protocol_text,
                reason="the protocol the study was created with (kept at its first amendment)",
                made_at=now,
                actor=actor,
            )
        version = ProtocolVersion.objects.create(
            study=study,
            version=study.protocol_version + 1,
            protocol_text=protocol_text,
            reason=reason.strip(),
            made_by=by,
            made_at=now,
            actor=actor,
        )
        with because(f"protocol amendment v{version.version}: {reason.strip()}"):
            study.protocol_text = protocol_text
            study.save(actor=actor)
        study.__dict__.pop("protocol", None)  # the parsed protocol of this instance is stale
    return version


def _dropped_in_use(study: Study, old: Protocol, new: Protocol) -> list[str]:
    """What the new version drops that the collected data use, one sentence each."""
    problems = []
    new_items = {item.id for item in new.diary.items}
    used_items: set[str] = set()
    for items in (
        DiaryEntry.objects.filter(participant__study=study)
        .values_list("items", flat=True)
        .iterator(chunk_size=2000)
    ):
        used_items |= set(items)
    problems += [f"diary item '{i}' has entries" for i in sorted(used_items - new_items)]
    new_measures = {m.id for m in (new.visits.measures if new.visits else [])}
    used_measures: set[str] = set()
    for values in Visit.objects.filter(participant__study=study).values_list("values", flat=True):
        used_measures |= set(values)
    problems += [f"visit measure '{m}' has values" for m in sorted(used_measures - new_measures)]
    new_analytes = {(lab.id, a) for lab in new.labs for a in lab.analytes}
    used_analytes = set(
        LabResult.objects.filter(participant__study=study).values_list("panel", "analyte")
    )
    problems += [
        f"lab analyte '{a}' of the {p} panel has results"
        for p, a in sorted(used_analytes - new_analytes)
    ]
    new_sequences = {s.name: set(s.phases) for s in new.all_sequences}
    for sequence, followed in sorted(sequences_on_list(study).items()):
        if sequence not in new_sequences:
            problems.append(f"sequence '{sequence}' is on the allocation list")
            continue
        dropped = set(old.sequence(sequence).phases) - new_sequences[sequence]
        if followed and dropped:
            problems.append(
                f"phase(s) {', '.join(sorted(dropped))} of sequence '{sequence}' are followed "
                "by enrolled participants"
            )
    used_conditions = conditions_in_kits(study)
    problems += [
        f"condition '{c}' is in prepared kits"
        for c in sorted(used_conditions - set(new.conditions))
    ]
    return problems
