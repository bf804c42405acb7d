"""Recording a diary entry: checked against the protocol, idempotent, a correction a new version.

The device gives every entry its own id (``client_id``). Sent again with the
same content (a retry after a lost answer), the stored entry comes back and
nothing new is written; the same id with other content is a conflict, never
an overwrite (standards.md EPRO-6, EPRO-7). A second entry for a day, inside
the window, is its next version (AUD-3). The window is judged on the
device's clock in her time zone (:mod:`ldntrial.protocol.diary_timing`).
"""

from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from uuid import UUID

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from ldntrial.protocol.diary_timing import EntryTiming, Timing, judge_entry_time
from ldntrial.web.diary.models import DiaryEntry
from ldntrial.web.studies.models import StudyLocked
from ldntrial.web.trial.models import Participant

__all__ = ["OTHER_SIDE_EFFECT", "DiaryConflict", "DiarySubmission", "Recorded", "record_entry"]

OTHER_SIDE_EFFECT = "other"


@dataclass(frozen=True)
class DiarySubmission:
    """What the device sends for one entry."""

    client_id: UUID
    diary_date: date
    recorded_at: datetime  # the device's clock, with its UTC offset
    items: Mapping[str, float]
    side_effects: Sequence[str] = field(default_factory=tuple)

    def fingerprint(self) -> str:
        """SHA-256 of the canonical content: equal for a retry, different for anything else."""
        content = {
            "diary_date": self.diary_date.isoformat(),
            "recorded_at": self.recorded_at.isoformat(),
            "items": {key: _as_float(value) for key, value in sorted(self.items.items())},
            "side_effects": sorted(self.side_effects),
        }
        text = json.dumps(content, sort_keys=True, separators=(",", ":"))
        return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _as_float(value: float) -> float | str:
    """The number as stored, or as written when no float holds it (it is refused later)."""
    try:
        return float(value)
    except OverflowError:
        return str(value)


@dataclass(frozen=True)
class Recorded:
    """The stored entry, and whether this call stored it (False: a retry of one already in)."""

    entry: DiaryEntry
    created: bool


# The phone's clock, bounded by the server's (see _clock_problem).
SYNC_LIMIT = timedelta(days=7)
CLOCK_TOLERANCE = timedelta(minutes=5)


class DiaryConflict(ValidationError):
    """The entry's ``client_id`` is already stored with other content."""

    def __init__(self, stored: DiaryEntry) -> None:
        super().__init__(
            {"client_id": "already used for other content; a new entry needs a new id"}
        )
        self.stored = stored


def record_entry(
    participant: Participant,
    submission: DiarySubmission,
    *,
    actor: str,
    received_at: datetime,
    source: str = DiaryEntry.Source.DEVICE,
) -> Recorded:
    """Store ``submission`` as her entry (or recognise it as a retry); field-named errors.

    A retry is recognised when storing fails (the ``client_id`` is taken, or
    the study has been locked since) or the entry breaks a rule (her window
    has closed since she first sent it), so the common case, a new entry,
    reads nothing before its INSERT. A new entry to a locked study raises
    :class:`StudyLocked`.
    """
    fingerprint = submission.fingerprint()
    try:
        timing = _check(participant, submission, received_at)
    except ValidationError:
        stored = _stored(participant, submission.client_id)
        if stored is None:
            raise
        return _retry(stored, fingerprint)
    offset = submission.recorded_at.utcoffset() or timedelta(0)
    entry = DiaryEntry(
        participant=participant,
        diary_date=submission.diary_date,
        client_id=submission.client_id,
        fingerprint=fingerprint,
        # + 0.0 turns a -0.0 into 0.0, as PostgreSQL's jsonb would store it anyway.
        items={key: float(value) + 0.0 for key, value in submission.items.items()},
        side_effects=sorted(set(submission.side_effects)),
        recorded_at=submission.recorded_at,
        recorded_offset_minutes=int(offset.total_seconds() // 60),
        received_at=received_at,
        late=timing.timing == Timing.LATE,
        lateness_hours=timing.lateness_hours if timing.timing == Timing.LATE else None,
        source=source,
    )
    try:
        with transaction.atomic():
            entry.insert_as_next_version(actor=actor)
    except (IntegrityError, StudyLocked):
        # Already stored: sent twice at once (the other request stored it first), or sent
        # again after the study was locked, when the answer to the first try was lost.
        stored = _stored(participant, submission.client_id)
        if stored is None:
            raise
        return _retry(stored, fingerprint)
    return Recorded(entry, created=True)


def _stored(participant: Participant, client_id: UUID) -> DiaryEntry | None:
    return DiaryEntry.objects.filter(participant=participant, client_id=client_id).first()


def _retry(stored: DiaryEntry, fingerprint: str) -> Recorded:
    if stored.fingerprint != fingerprint:
        raise DiaryConflict(stored)
    return Recorded(stored, created=False)


def _check(participant: Participant, submission: DiarySubmission, received_at: datetime):
    """Every rule the entry must meet, all reported at once; the window's verdict if it does.

    The window is judged on the device's clock, but a day whose window has not
    opened by the server's clock cannot be entered either, whatever the
    phone's clock says (no forward-filling, EPRO-12).
    """
    protocol = participant.study.protocol
    diary = protocol.diary
    errors: dict[str, list[str]] = {}
    if participant.status != Participant.Status.ACTIVE:
        errors.setdefault("participant", []).append(
            f"her diary is closed: she is {participant.status} (entries already made are kept)"
        )
    items = {item.id: item for item in diary.items}
    for key, value in submission.items.items():
        item = items.get(key)
        if item is None:
            errors.setdefault(f"items.{key}", []).append("not an item of this diary")
        elif not _is_number(value) or not item.min <= value <= item.max:
            errors.setdefault(f"items.{key}", []).append(
                f"must be a number from {item.min} to {item.max}, got {value!r}"
            )
    for key, item in items.items():
        if item.required and key not in submission.items:
            errors.setdefault(f"items.{key}", []).append("required")
    allowed = {*diary.side_effects, OTHER_SIDE_EFFECT}
    unknown = sorted(set(submission.side_effects) - allowed)
    if unknown:
        errors.setdefault("side_effects", []).append(
            f"not on the checklist: {', '.join(unknown)} "
            f"(the list is {', '.join(sorted(allowed))})"
        )
    if submission.recorded_at.tzinfo is None:
        errors.setdefault("recorded_at", []).append("must carry the device's UTC offset")
    elif problem := _clock_problem(submission.recorded_at, received_at):
        errors.setdefault("recorded_at", []).append(problem)
    study_day = (submission.diary_date - participant.enrolled_on).days + 1
    total_days = participant.study.calendar_length
    if not 1 <= study_day <= total_days:
        errors.setdefault("diary_date", []).append(
            f"not a day of her diary ({participant.enrolled_on:%Y-%m-%d} to "
            f"{participant.enrolled_on + timedelta(days=total_days - 1):%Y-%m-%d})"
        )
    if errors:
        raise ValidationError(errors)
    timing = judge_entry_time(
        diary, submission.diary_date, submission.recorded_at, participant.timezone
    )
    if timing.accepted and timing.opens > received_at:
        timing = EntryTiming(Timing.TOO_EARLY, timing.opens, timing.closes)
    if not timing.accepted:
        raise ValidationError({"diary_date": timing.message})
    return timing


def _clock_problem(recorded_at: datetime, received_at: datetime) -> str | None:
    """What is wrong with the phone's clock, judged by the server's; None if nothing.

    The window is judged on the phone's clock (EPRO-11), so a phone that says it
    recorded a day weeks ago in that day's window would be on time. The
    server's clock bounds it: an entry reaches the server within
    :data:`SYNC_LIMIT` of being made (an iPhone may purge unsent entries after
    7 days anyway, EPRO-5), and it cannot have been made after it arrived.
    """
    try:
        lag = received_at - recorded_at
    except OverflowError:  # a year 1 or 9999 that UTC cannot hold
        lag = timedelta.max if recorded_at.year < received_at.year else timedelta.min
    if lag > SYNC_LIMIT:
        return (
            f"more than {SYNC_LIMIT.days} days before the server received it "
            f"({received_at:%Y-%m-%d %H:%M} UTC): an entry must be sent within "
            f"{SYNC_LIMIT.days} days of being made"
        )
    if lag < -CLOCK_TOLERANCE:
        return (
            "after the server received it: the phone's clock is ahead; set it right and send again"
        )
    return None


def _is_number(value: object) -> bool:
    if not isinstance(value, int | float) or isinstance(value, bool):
        return False
    try:
        return math.isfinite(float(value))
    except OverflowError:  # an integer too large for a float: 1 and 400 zeros
        return False
