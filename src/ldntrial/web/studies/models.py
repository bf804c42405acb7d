"""A study runs one protocol at one or more sites; members hold roles at a site or at all."""

from __future__ import annotations

import math
from functools import cached_property, lru_cache
from typing import Any, ClassVar

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import connection, models, transaction

from ldntrial.errors import ProtocolError
from ldntrial.protocol.loader import parse_protocol
from ldntrial.protocol.model import Protocol
from ldntrial.protocol.schedule import plan_sequence
from ldntrial.web.audit.chain import study_chain
from ldntrial.web.audit.tracking import AuditedManager, AuditedModel, AuditError
from ldntrial.web.studies.roles import Role


class Study(AuditedModel):
    """A study and the protocol text it runs, frozen when the study is created."""

    code = models.SlugField(max_length=40, unique=True)
    title = models.CharField(max_length=300)
    protocol_text = models.TextField(help_text="The protocol file (TOML) the study runs")
    locked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name_plural = "studies"

    def __str__(self) -> str:
        return self.code

    def audit_chain(self) -> str:
        """Its audit entries, and those of everything in it, form its own chain."""
        return study_chain(self.pk)

    def clean(self) -> None:
        """The protocol text must be a valid protocol (every broken rule is named)."""
        try:
            parse_protocol(self.protocol_text, source=f"study {self.code}")
        except ProtocolError as error:
            raise ValidationError({"protocol_text": str(error)}) from None

    def save(self, *args: Any, **kwargs: Any) -> None:
        if self._state.adding:
            self.clean()  # a study never runs a protocol that does not load
        super().save(*args, **kwargs)

    @cached_property
    def protocol(self) -> Protocol:
        """The parsed protocol. The text is fixed when the study is made, so each process
        parses it once, not once per request (the diary API reads it on every entry)."""
        return _parsed_protocol(self.protocol_text, f"study {self.code}")

    @property
    def protocol_version(self) -> int:
        """The number of the protocol version in force (1 until the first amendment)."""
        last = self.protocol_versions.aggregate(last=models.Max("version"))["last"]
        return last or 1

    @property
    def calendar_length(self) -> int:
        """Days in the protocol's longest sequence: the length of anyone's calendar as far as
        anything shown or checked goes, since her own length could tell her arm."""
        return _calendar_length(self.protocol_text, f"study {self.code}")


@lru_cache(maxsize=128)
def _parsed_protocol(text: str, source: str) -> Protocol:
    return parse_protocol(text, source=source)


@lru_cache(maxsize=128)
def _calendar_length(text: str, source: str) -> int:
    protocol = _parsed_protocol(text, source)
    return max(
        plan_sequence(protocol, sequence.name, dose_mg=math.nan).total_days
        for sequence in protocol.all_sequences
    )


class OfAStudy:
    """Marks an audited model that belongs to a study without being its data.

    Such records (sites, roles, invitations, protocol versions, the lock, N-of-1
    set-ups) outlive the lock, unlike :class:`StudyData`, but their audit entries
    are part of the study's trail that the monitor reads
    (:func:`ldntrial.web.studies.audit_trail.study_entries`). Each has a ``study``.
    """

    study_id: int

    def audit_chain(self) -> str:
        """Its audit entries join its study's chain."""
        return study_chain(self.study_id)


class Site(OfAStudy, AuditedModel):
    """A place that screens and enrols participants of a study."""

    study = models.ForeignKey(Study, on_delete=models.PROTECT, related_name="sites")
    code = models.SlugField(max_length=40)
    name = models.CharField(max_length=200)
    timezone = models.CharField(
        max_length=64, default="UTC", help_text="IANA time zone; her enrolment starts from it"
    )

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["study", "code"], name="site_code_unique_in_study")
        ]

    def __str__(self) -> str:
        return f"{self.study.code}/{self.code}"


class CurrentMemberships(AuditedManager):
    """Roles held now: a removed role keeps its row (and its history) with ``ended_at`` set."""

    def get_queryset(self) -> models.QuerySet:
        return super().get_queryset().filter(ended_at__isnull=True)


class Membership(OfAStudy, AuditedModel):
    """A user's role in a study, at one site or (site empty) at every site.

    Removing a role ends it (``ended_at``) rather than deleting the row, so the study's
    audit trail and its access review keep who held which role, and until when.
    Lookups across the user relation (``memberships__...``) must say
    ``memberships__ended_at__isnull=True`` in the same ``filter()``.
    """

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="memberships"
    )
    study = models.ForeignKey(Study, on_delete=models.PROTECT, related_name="memberships")
    site = models.ForeignKey(Site, on_delete=models.PROTECT, null=True, blank=True)
    role = models.CharField(max_length=20, choices=[(r.value, r.value) for r in Role])
    ended_at = models.DateTimeField(null=True, blank=True, help_text="When the role was removed")

    objects: ClassVar[CurrentMemberships] = CurrentMemberships()
    every = AuditedManager()  # removed roles too: the history

    class Meta:
        base_manager_name = "every"
        constraints = [
            models.UniqueConstraint(
                fields=["user", "study", "site", "role"],
                condition=models.Q(ended_at__isnull=True),
                name="membership_unique",
            )
        ]

    def __str__(self) -> str:
        where = self.site.code if self.site else "all sites"
        return f"{self.user} {self.role} in {self.study.code} ({where})"


class Invitation(OfAStudy, AuditedModel):
    """A one-time invitation to hold ``role`` in a study (at ``site``, or every site).

    Only a hash of the link's secret is stored (and it is concealed in the audit
    trail): the link itself exists in the email alone.
    """

    audit_concealed = frozenset({"secret_hash"})

    study = models.ForeignKey(Study, on_delete=models.PROTECT, related_name="invitations")
    site = models.ForeignKey(Site, on_delete=models.PROTECT, null=True, blank=True)
    role = models.CharField(max_length=20, choices=[(r.value, r.value) for r in Role])
    email = models.EmailField()
    secret_hash = models.CharField(max_length=64, unique=True)
    invited_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField()
    expires_at = models.DateTimeField()
    accepted_at = models.DateTimeField(null=True, blank=True)
    accepted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    revoked_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        where = self.site.code if self.site else "all sites"
        return f"{self.email} invited as {self.role} in {self.study.code} ({where})"

    @property
    def pending(self) -> bool:
        return self.accepted_at is None and self.revoked_at is None


class ProtocolVersion(OfAStudy, AuditedModel):
    """One version of a study's protocol: the first, then each amendment with its reason."""

    study = models.ForeignKey(Study, on_delete=models.PROTECT, related_name="protocol_versions")
    version = models.PositiveIntegerField()
    protocol_text = models.TextField()
    reason = models.TextField(help_text="Why the protocol was amended (the first: its origin)")
    made_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    made_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["study", "version"], name="protocol_version_unique")
        ]

    def __str__(self) -> str:
        return f"{self.study.code} protocol v{self.version}"


class StudyLocked(AuditError):
    """A write to the data of a study whose database is locked (AUD-8: no entry on locked data)."""


class StudyData(AuditedModel):
    """Audited data of one study, frozen once its database is locked.

    ``study_via`` names the field that leads to the study: ``"study"`` itself
    or ``"participant"``. The check runs inside the write's transaction and,
    on PostgreSQL, holds a share lock on the study row until it commits, so a
    lock (an UPDATE of that row) waits for writes in flight and every write
    after it sees the lock: the locked snapshot is the whole of the data.
    SQLite runs one writer at a time, which gives the same guarantee.
    """

    study_via: ClassVar[str] = "study"

    class Meta:
        abstract = True

    def save(self, *args: Any, **kwargs: Any) -> None:
        with transaction.atomic(savepoint=False):
            self._refuse_if_locked()
            super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> tuple[int, dict[str, int]]:
        with transaction.atomic(savepoint=False):
            self._refuse_if_locked()
            return super().delete(*args, **kwargs)

    def audit_chain(self) -> str:
        """Its audit entries join its study's chain."""
        return study_chain(self._study_id())

    def _study_id(self) -> int:
        owner: Any = self if self.study_via == "study" else getattr(self, self.study_via)
        return int(owner.study_id)

    def _study_row_query(self) -> tuple[str, list[int]]:
        """The statement that reads the study's ``locked_at`` (share-locked on PostgreSQL)."""
        sql = f"SELECT locked_at FROM {Study._meta.db_table} WHERE id = %s"
        if connection.vendor == "postgresql":
            sql += " FOR SHARE"
        return sql, [self._study_id()]

    def _refuse_if_locked(self) -> None:
        sql, params = self._study_row_query()
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
            row = cursor.fetchone()
        if row is not None and row[0] is not None:
            raise StudyLocked(
                "study: the database of this study is locked for analysis; nothing more "
                "can be entered or changed"
            )
