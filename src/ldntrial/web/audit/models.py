"""One audit entry per event, chained by keyed hashes so that an edit or a removal shows.

21 CFR 11.10(e) and standards.md AUD-1 to AUD-3: who (actor), when (server
UTC), what (action, record, field changes with old and new values) and why
(reason). Each entry's ``hash`` is an HMAC, under the site's audit key, of
its own content and the hash of the previous entry of its chain (a study's
entries form one chain, the site's own another);
:func:`ldntrial.web.audit.chain.verify_chain` recomputes them. The tables
refuse UPDATE, DELETE and an INSERT over an existing row at the database
(triggers installed by migrations 0002 and 0004 on SQLite and PostgreSQL,
standards.md D5), so no code path, the admin and raw SQL included, can
change history.
"""

from __future__ import annotations

from django.db import models


class Action(models.TextChoices):
    """What happened to a record (AUD-2)."""

    CREATE = "create"
    UPDATE = "update"
    DELETE = "delete"
    SIGN = "sign"
    LOCK = "lock"
    EXPORT = "export"
    IMPORT = "import"
    UNBLIND = "unblind"


class AuditEntry(models.Model):
    """An event in the trail; never updated, never deleted."""

    at = models.DateTimeField(help_text="Server time (UTC) of the event")
    actor = models.CharField(
        max_length=200, help_text="user:<id>:<username>, participant:<code> or system"
    )
    action = models.CharField(max_length=20, choices=Action.choices)
    record = models.CharField(max_length=200, help_text="<app>.<model>:<primary key>")
    changes = models.JSONField(default=dict, help_text="{field: [old, new]}")
    reason = models.TextField(blank=True)
    chain = models.CharField(
        max_length=40,
        blank=True,
        default="",
        help_text="study:<id> for a study's entries, empty for the site's (web/audit/chain.py)",
    )
    previous_hash = models.CharField(max_length=64, help_text="The hash of its chain's last entry")
    hash = models.CharField(max_length=64, unique=True)

    class Meta:
        ordering = ["id"]
        verbose_name_plural = "audit entries"
        indexes = [models.Index(fields=["chain", "id"], name="audit_chain_head")]

    def __str__(self) -> str:
        return f"#{self.pk} {self.at:%Y-%m-%d %H:%M:%S} {self.actor} {self.action} {self.record}"


class ConcealedValue(models.Model):
    """The keyed digest of one concealed value an entry wrote (web/audit/sealing.py).

    The entry itself shows ``<concealed>`` for the field, the same for every
    value, so the trail reads alike in every arm; this row lets
    ``verify_audit`` check the value in the table against what was written.
    No page shows it. Append-only, like the entries.
    """

    entry = models.BigIntegerField(db_index=True, help_text="The AuditEntry that wrote the value")
    field = models.CharField(max_length=100)
    digest = models.CharField(max_length=64)

    class Meta:
        ordering = ["entry", "field"]
        constraints = [
            models.UniqueConstraint(fields=["entry", "field"], name="concealed_value_once")
        ]

    def __str__(self) -> str:
        return f"entry {self.entry} {self.field}"
