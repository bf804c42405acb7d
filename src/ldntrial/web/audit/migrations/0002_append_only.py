"""The audit table refuses UPDATE and DELETE, whoever asks (standards.md D5, AUD-1).

Plain SQL triggers, one set per engine, so that the guarantee holds on SQLite
and PostgreSQL alike and no ORM call, admin action or raw statement can
change history.
"""

from django.db import migrations

MESSAGE = "audit entries are append-only"

SQLITE_CREATE = [
    f"""CREATE TRIGGER audit_no_update BEFORE UPDATE ON audit_auditentry
        BEGIN SELECT RAISE(ABORT, '{MESSAGE}'); END""",
    f"""CREATE TRIGGER audit_no_delete BEFORE DELETE ON audit_auditentry
        BEGIN SELECT RAISE(ABORT, '{MESSAGE}'); END""",
]
SQLITE_DROP = ["DROP TRIGGER audit_no_update", "DROP TRIGGER audit_no_delete"]

POSTGRES_CREATE = [
    f"""CREATE FUNCTION audit_refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN RAISE EXCEPTION '{MESSAGE}'; END $$""",
    """CREATE TRIGGER audit_no_change BEFORE UPDATE OR DELETE ON audit_auditentry
        FOR EACH ROW EXECUTE FUNCTION audit_refuse_change()""",
    # TRUNCATE removes rows without row triggers; refuse it unless the table is already
    # empty (emptying an empty table loses nothing, and test databases are flushed so).
    f"""CREATE FUNCTION audit_refuse_truncate() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
          IF EXISTS (SELECT 1 FROM audit_auditentry) THEN RAISE EXCEPTION '{MESSAGE}'; END IF;
          RETURN NULL;
        END $$""",
    """CREATE TRIGGER audit_no_truncate BEFORE TRUNCATE ON audit_auditentry
        FOR EACH STATEMENT EXECUTE FUNCTION audit_refuse_truncate()""",
]
POSTGRES_DROP = [
    "DROP TRIGGER audit_no_truncate ON audit_auditentry",
    "DROP TRIGGER audit_no_change ON audit_auditentry",
    "DROP FUNCTION audit_refuse_truncate()",
    "DROP FUNCTION audit_refuse_change()",
]


def _run(statements_by_vendor):
    def run(apps, schema_editor):
        statements = statements_by_vendor.get(schema_editor.connection.vendor)
        if statements is None:
            raise RuntimeError(
                f"no append-only triggers for {schema_editor.connection.vendor}; "
                "ldntrial supports SQLite and PostgreSQL"
            )
        for statement in statements:
            schema_editor.execute(statement)

    return run


class Migration(migrations.Migration):
    dependencies = [("audit", "0001_initial")]

    operations = [
        migrations.RunPython(
            _run({"sqlite": SQLITE_CREATE, "postgresql": POSTGRES_CREATE}),
            _run({"sqlite": SQLITE_DROP, "postgresql": POSTGRES_DROP}),
        )
    ]
