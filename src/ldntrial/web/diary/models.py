"""Diary entries: one row per version of one day's entry, exactly as the device sent it.

Standards.md EPRO-3 and GCP-5: each entry keeps the device's identifier for
it (``client_id``, the idempotency key), the report day, the time it was
recorded on the phone with the phone's UTC offset, and the server's own
receive time; a correction later in the window is a new version (AUD-3),
so nothing sent is ever overwritten. The entry that counts for a day is its
highest version.
"""

from __future__ import annotations

from functools import cache

from django.db import connection, models, transaction

from ldntrial.web.audit.tracking import record_created
from ldntrial.web.rows import column_list, row_values
from ldntrial.web.studies.models import Study, StudyData
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

    def _study_row_query(self) -> tuple[str, list[int]]:
        """The study row, and on PostgreSQL her participant row held too: her entries are
        stored one at a time (two phones at once), so version numbers never collide."""
        sql = (
            f"SELECT s.locked_at FROM {Study._meta.db_table} s "
            f"JOIN {Participant._meta.db_table} p ON p.study_id = s.id WHERE p.id = %s"
        )
        if connection.vendor == "postgresql":
            sql += " FOR SHARE OF s FOR UPDATE OF p"
        return sql, [self.participant_id]

    def insert_as_next_version(self, *, actor: str) -> None:
        """Store this new entry as its day's next version: what save() does, with plain SQL.

        The lock check (which holds her row), then one INSERT that takes the
        version number from the rows already there, then the audit entry. The
        ORM's save and a separate count of versions cost several times more,
        and this runs for every entry of the evening rush (issue 5).
        """
        fields = _fields_but_version()
        with transaction.atomic(savepoint=False), connection.cursor() as cursor:
            self._refuse_if_locked()
            cursor.execute(
                _next_version_sql(connection.vendor),
                [*row_values(self, fields), self.participant_id, self.diary_date],
            )
            self.pk, self.version = cursor.fetchone()
            self._state.adding = False
            record_created(self, actor=actor)


@cache
def _fields_but_version() -> tuple[models.Field, ...]:
    return tuple(
        field
        for field in DiaryEntry._meta.concrete_fields
        if not field.primary_key and field.name != "version"
    )


@cache
def _next_version_sql(vendor: str) -> str:
    fields = _fields_but_version()
    table = DiaryEntry._meta.db_table
    placeholders = ", ".join(["%s"] * len(fields))
    return (
        f"INSERT INTO {table} ({column_list(fields)}, version) VALUES ({placeholders}, "
        f"(SELECT COALESCE(MAX(version), 0) + 1 FROM {table} "
        "WHERE participant_id = %s AND diary_date = %s)) RETURNING id, version"
    )


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


class RefusedLink(models.Model):
    """One refused trade of a link code, by network address: the anti-automation count (SEC-RL-1).

    Not study data (no participant is known for a wrong code), so not audited;
    rows older than the counting window are removed as new ones come in.
    """

    address = models.GenericIPAddressField(null=True)
    at = models.DateTimeField()

    class Meta:
        indexes = [models.Index(fields=["address", "at"])]
