"""The audit trail sealed by a key kept outside the database, and no INSERT over history.

- ConcealedValue: keyed digests of concealed values (web/audit/sealing.py),
  append-only like the entries.
- An entry's hash becomes an HMAC under ``LDNTRIAL_AUDIT_KEY``. A trail
  written by an earlier version (plain SHA-256) is checked link by link first
  and sealed only if it is intact; a broken one stops the migration, since
  sealing it would launder the break. Its concealed values are digested as
  they stand, against each record's newest entry.
- SQLite's ``INSERT OR REPLACE`` deletes the row it replaces without firing
  the delete trigger; a BEFORE INSERT trigger now refuses an insert over an
  existing entry on both tables. (PostgreSQL's ``ON CONFLICT DO UPDATE``
  fires the update trigger, which already refuses.)
"""

import hashlib

from django.apps import apps as global_apps
from django.db import migrations, models

MESSAGE = "audit entries are append-only"

SQLITE_GUARDS = [
    f"""CREATE TRIGGER audit_no_replace BEFORE INSERT ON audit_auditentry
        WHEN EXISTS (SELECT 1 FROM audit_auditentry WHERE id = NEW.id OR hash = NEW.hash)
        BEGIN SELECT RAISE(ABORT, '{MESSAGE}'); END""",
    f"""CREATE TRIGGER concealed_no_update BEFORE UPDATE ON audit_concealedvalue
        BEGIN SELECT RAISE(ABORT, '{MESSAGE}'); END""",
    f"""CREATE TRIGGER concealed_no_delete BEFORE DELETE ON audit_concealedvalue
        BEGIN SELECT RAISE(ABORT, '{MESSAGE}'); END""",
    f"""CREATE TRIGGER concealed_no_replace BEFORE INSERT ON audit_concealedvalue
        WHEN EXISTS (SELECT 1 FROM audit_concealedvalue
                     WHERE id = NEW.id OR (entry = NEW.entry AND field = NEW.field))
        BEGIN SELECT RAISE(ABORT, '{MESSAGE}'); END""",
]
SQLITE_UNGUARDS = [
    "DROP TRIGGER audit_no_replace",
    "DROP TRIGGER concealed_no_update",
    "DROP TRIGGER concealed_no_delete",
    "DROP TRIGGER concealed_no_replace",
]
POSTGRES_GUARDS = [
    """CREATE TRIGGER concealed_no_change BEFORE UPDATE OR DELETE ON audit_concealedvalue
        FOR EACH ROW EXECUTE FUNCTION audit_refuse_change()""",
    f"""CREATE FUNCTION concealed_refuse_truncate() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
          IF EXISTS (SELECT 1 FROM audit_concealedvalue) THEN RAISE EXCEPTION '{MESSAGE}';
          END IF;
          RETURN NULL;
        END $$""",
    """CREATE TRIGGER concealed_no_truncate BEFORE TRUNCATE ON audit_concealedvalue
        FOR EACH STATEMENT EXECUTE FUNCTION concealed_refuse_truncate()""",
]
POSTGRES_UNGUARDS = [
    "DROP TRIGGER concealed_no_truncate ON audit_concealedvalue",
    "DROP TRIGGER concealed_no_change ON audit_concealedvalue",
    "DROP FUNCTION concealed_refuse_truncate()",
]


def _run(statements_by_vendor):
    def run(apps, schema_editor):
        for statement in statements_by_vendor[schema_editor.connection.vendor]:
            schema_editor.execute(statement)

    return run


def _unkeyed_hash(entry) -> str:
    """The hash an earlier version wrote: plain SHA-256 over the same content."""
    from ldntrial.web.audit.chain import canonical_content

    content = canonical_content(entry)
    return hashlib.sha256((entry.previous_hash + content).encode("utf-8")).hexdigest()


def seal_existing_trail(apps, schema_editor):
    """Check the trail as it was written, then re-hash it under the key, link by link."""
    from ldntrial.web.audit.chain import GENESIS, entry_hash

    AuditEntry = apps.get_model("audit", "AuditEntry")
    entries = list(AuditEntry.objects.order_by("id"))
    if not entries:
        return
    expected = GENESIS
    for number, entry in enumerate(entries, start=1):
        if entry.id != number or entry.previous_hash != expected:
            raise RuntimeError(
                f"audit entry {number}: the trail is broken (missing or out of order); it "
                "cannot be sealed. Restore it from a backup and migrate again."
            )
        if _unkeyed_hash(entry) != entry.hash:
            raise RuntimeError(
                f"audit entry {entry.id}: changed after writing; the trail cannot be sealed. "
                "Restore it from a backup and migrate again."
            )
        expected = entry.hash
    connection = schema_editor.connection
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("ALTER TABLE audit_auditentry DISABLE TRIGGER audit_no_change")
        else:
            cursor.execute("DROP TRIGGER audit_no_update")
        previous = GENESIS
        for entry in entries:
            entry.previous_hash = previous
            entry.hash = entry_hash(entry)
            cursor.execute(
                "UPDATE audit_auditentry SET previous_hash = %s, hash = %s WHERE id = %s",
                [entry.previous_hash, entry.hash, entry.id],
            )
            previous = entry.hash
        if connection.vendor == "postgresql":
            cursor.execute("ALTER TABLE audit_auditentry ENABLE TRIGGER audit_no_change")
        else:
            cursor.execute(
                f"""CREATE TRIGGER audit_no_update BEFORE UPDATE ON audit_auditentry
                    BEGIN SELECT RAISE(ABORT, '{MESSAGE}'); END"""
            )
    _digest_concealed_values(apps, {entry.id: entry for entry in entries})


def _digest_concealed_values(apps, entries) -> None:
    """Digests of the concealed values as they stand, bound to each record's newest entry."""
    from ldntrial.web.audit.sealing import canonical_value, concealed_digest

    ConcealedValue = apps.get_model("audit", "ConcealedValue")
    newest = {}
    for entry in entries.values():
        newest[entry.record] = entry
    for model in global_apps.get_models():
        concealed = getattr(model, "audit_concealed", frozenset())
        if not concealed:
            continue
        # By column: a concealed field's Python name may differ between the model of today
        # and the historical one (trial 0017 named them concealed_*), its column does not.
        columns = {f.column for f in model._meta.concrete_fields if f.name in concealed}
        historical = apps.get_model(model._meta.app_label, model._meta.model_name)
        fields = [f for f in historical._meta.concrete_fields if f.column in columns]
        for row in historical.objects.all():
            entry = newest.get(f"{model._meta.label}:{row.pk}")
            if entry is None or entry.action == "delete":
                continue  # reported by verify_audit: a row the trail does not know
            for field in fields:
                value = canonical_value(field, field.value_from_object(row))
                ConcealedValue.objects.create(
                    entry=entry.id,
                    field=field.column,
                    digest=concealed_digest(entry.hash, field.column, value),
                )


class Migration(migrations.Migration):
    # The concealed values are read from the tables of these apps' models.
    dependencies = [
        ("audit", "0003_import_action"),
        ("trial", "0010_language"),
        ("analysis", "0001_initial"),
        ("nof1", "0001_initial"),
    ]

    operations = [
        migrations.CreateModel(
            name="ConcealedValue",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                (
                    "entry",
                    models.BigIntegerField(
                        db_index=True, help_text="The AuditEntry that wrote the value"
                    ),
                ),
                ("field", models.CharField(max_length=100)),
                ("digest", models.CharField(max_length=64)),
            ],
            options={
                "ordering": ["entry", "field"],
                "constraints": [
                    models.UniqueConstraint(fields=("entry", "field"), name="concealed_value_once")
                ],
            },
        ),
        migrations.RunPython(seal_existing_trail, migrations.RunPython.noop),
        migrations.RunPython(
            _run({"sqlite": SQLITE_GUARDS, "postgresql": POSTGRES_GUARDS}),
            _run({"sqlite": SQLITE_UNGUARDS, "postgresql": POSTGRES_UNGUARDS}),
        ),
    ]
