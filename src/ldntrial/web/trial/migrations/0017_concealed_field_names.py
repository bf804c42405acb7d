"""The concealed fields take ``concealed_*`` names in Python; their columns keep their names.

Only the models' state changes: no column is renamed, so nothing stored moves, the
audit trail's entries (which name columns) stay as they are, and SQLite's tables are
not rebuilt.
"""

from django.db import migrations, models

_RENAMED = {
    "allocationlistversion": {
        "seed": models.CharField(
            db_column="seed", help_text="Kept for the pharmacy and the audit", max_length=80
        ),
    },
    "allocationslot": {
        "sequence": models.CharField(db_column="sequence", max_length=100),
    },
    "kit": {
        "condition": models.CharField(db_column="condition", max_length=100),
        "dose_mg": models.FloatField(blank=True, db_column="dose_mg", null=True),
        "mg_per_ml": models.FloatField(
            blank=True,
            db_column="mg_per_ml",
            help_text="A liquid's concentration (placebo 0); none for capsules",
            null=True,
        ),
        "lot": models.CharField(
            blank=True, db_column="lot", help_text="The pharmacy's lot number", max_length=40
        ),
        "beyond_use_on": models.DateField(
            blank=True,
            db_column="beyond_use_on",
            help_text="The lot's beyond-use date (from its compounding)",
            null=True,
        ),
    },
}


def _state_operations() -> list[migrations.operations.base.Operation]:
    operations: list[migrations.operations.base.Operation] = []
    for model, fields in _RENAMED.items():
        for name, field in fields.items():
            operations += [
                migrations.RenameField(model, name, f"concealed_{name}"),
                migrations.AlterField(model, f"concealed_{name}", field),
            ]
    return operations


class Migration(migrations.Migration):
    dependencies = [
        ("trial", "0016_kit_lot"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(state_operations=_state_operations()),
    ]
