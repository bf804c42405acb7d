"""A chain per study: the ``chain`` column, its index, and ids from the table's sequence.

- The column is added with plain ``ALTER TABLE ... ADD COLUMN`` on both
  engines. Django would rebuild the SQLite table for a NOT NULL column with a
  default, dropping the append-only triggers with the old table; adding the
  column in place keeps them, and every existing row reads ``''``: the site's
  chain, which hashes as before (web/audit/chain.py).
- Entries used to be numbered one past the last; on PostgreSQL they now take
  the table's sequence (several chains write at once), which never moved while
  ids were given explicitly, so it starts past the last entry.
"""

from django.db import migrations, models

ADD_COLUMN = "ALTER TABLE audit_auditentry ADD COLUMN chain varchar(40) NOT NULL DEFAULT ''"
DROP_COLUMN = "ALTER TABLE audit_auditentry DROP COLUMN chain"


def _sequence_past_the_last_entry(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute(
        "SELECT setval(pg_get_serial_sequence('audit_auditentry', 'id'), "
        "COALESCE(MAX(id), 0) + 1, false) FROM audit_auditentry"
    )


class Migration(migrations.Migration):
    dependencies = [("audit", "0004_sealed")]

    operations = [
        migrations.SeparateDatabaseAndState(
            database_operations=[migrations.RunSQL(ADD_COLUMN, DROP_COLUMN)],
            state_operations=[
                migrations.AddField(
                    model_name="auditentry",
                    name="chain",
                    field=models.CharField(
                        blank=True,
                        default="",
                        help_text=(
                            "study:<id> for a study's entries, empty for the site's "
                            "(web/audit/chain.py)"
                        ),
                        max_length=40,
                    ),
                ),
            ],
        ),
        migrations.AlterField(
            model_name="auditentry",
            name="previous_hash",
            field=models.CharField(help_text="The hash of its chain's last entry", max_length=64),
        ),
        migrations.AddIndex(
            model_name="auditentry",
            index=models.Index(fields=["chain", "id"], name="audit_chain_head"),
        ),
        migrations.RunPython(_sequence_past_the_last_entry, migrations.RunPython.noop),
    ]
