"""Diary entries: one row per version of one day's entry, exactly as the device sent it.

Standards.md EPRO-3 and GCP-5: each entry keeps the device's identifier for
it (``client_id``, the idempotency key), the report day, the time it was
recorded on the phone with the phone's UTC offset, and the server's own
receive time; a correction later in the window is a new version (AUD-3),
so nothing sent is ever overwritten. The entry that counts for a day is its
highest version.
"""

from __future__ import annotations

from django.db import models

from ldntrial.web.studies.models import StudyData
from ldntrial.web.trial.models import Participant


class DiaryEntry(StudyData):
    """One version of the entry for one report day."""

    class Source(models.TextChoices):
        DEVICE = "device", "her phone"
        IMPORT = "import", "imported from an earlier system"

    study_via = "participant"

    participant = models.ForeignKey(
        Participant, on_delete=models.PROTECT, related_name="diary_entries"
    )
    diary_date = models.DateField(help_text="The report day the entry is about (her local date)")
    version = models.PositiveIntegerField(help_text="1 for the first entry of the day")
    client_id = models.UUIDField(help_text="The device's id for this entry (idempotency key)")
    fingerprint = models.CharField(
        max_length=64, help_text="SHA-256 of the canonical content, to recognise a retry"
    )
    items = models.JSONField(help_text="{item id: rating}")
    side_effects = models.JSONField(default=list, help_text="Checklist terms ticked")
    recorded_at = models.DateTimeField(help_text="Device time of the entry (UTC)")
    recorded_offset_minutes = models.SmallIntegerField(
        help_text="The device's UTC offset when it recorded the entry"
    )
    received_at = models.DateTimeField(help_text="Server time the entry arrived (UTC)")
    late = models.BooleanField(default=False, help_text="Recorded after the window closed")
    lateness_hours = models.FloatField(null=True, blank=True)
    source = models.CharField(max_length=10, choices=Source.choices, default=Source.DEVICE)

    class Meta:
        verbose_name_plural = "diary entries"
        constraints = [
            models.UniqueConstraint(
                fields=["participant", "client_id"], name="diary_client_id_unique"
            ),
            models.UniqueConstraint(
                fields=["participant", "diary_date", "version"], name="diary_version_unique"
            ),
        ]
        indexes = [models.Index(fields=["participant", "diary_date"])]

    def __str__(self) -> str:
        return f"{self.participant.code} diary {self.diary_date:%Y-%m-%d} v{self.version}"


class DiaryLink(StudyData):
    """A one-time personal link to her diary; only the SHA-256 of its code is kept.

    Standards.md D3 and SEC-AU-6: the code is random (256 bits), single-use,
    stored hashed, and expires; it is handed over at the enrolment visit, so
    its life is 72 hours rather than ASVS's 10 minutes (a documented
    deviation, D3). Making a new link revokes her earlier unused ones.
    """

    study_via = "participant"

    participant = models.ForeignKey(
        Participant, on_delete=models.PROTECT, related_name="diary_links"
    )
    code_sha256 = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField()
    expires_at = models.DateTimeField()
    used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"{self.participant.code} diary link ({self.created_at:%Y-%m-%d %H:%M})"


class Device(StudyData):
    """Her phone (or browser), holding a long-lived token for the diary API; only its hash is kept.

    The token comes from trading a personal link (:class:`DiaryLink`) once; it
    lasts as long as she is in the study, so the diary keeps working offline
    for weeks, and staff can revoke it at once (SIG-6: a lost phone).
    """

    study_via = "participant"

    participant = models.ForeignKey(Participant, on_delete=models.PROTECT, related_name="devices")
    link = models.OneToOneField(DiaryLink, on_delete=models.PROTECT, related_name="device")
    token_sha256 = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField()
    revoked_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"{self.participant.code} device ({self.created_at:%Y-%m-%d})"


class ReminderSettings(StudyData):
    """Where and when to remind her (her email is identifying: it stays out of exports)."""

    study_via = "participant"

    participant = models.OneToOneField(
        Participant, on_delete=models.PROTECT, related_name="reminders"
    )
    email = models.EmailField()
    remind_at = models.TimeField(help_text="Her local time for the first reminder")
    active = models.BooleanField(default=True)

    def __str__(self) -> str:
        return f"{self.participant.code} reminders at {self.remind_at:%H:%M}"


class ReminderSent(StudyData):
    """One reminder or note sent, so that a command run every few minutes sends each once."""

    class Kind(models.TextChoices):
        FIRST = "first", "today's entry is missing"
        FOLLOW_UP = "follow_up", "the window closes soon"
        MISSED_TWO = "missed_two", "a note to the coordinators: two days missed in a row"

    study_via = "participant"

    participant = models.ForeignKey(
        Participant, on_delete=models.PROTECT, related_name="reminders_sent"
    )
    report_day = models.DateField()
    kind = models.CharField(max_length=12, choices=Kind.choices)
    sent_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["participant", "report_day", "kind"], name="reminder_once"
            )
        ]

    def __str__(self) -> str:
        return f"{self.participant.code} {self.kind} {self.report_day:%Y-%m-%d}"
