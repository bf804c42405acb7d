"""Only ``web/trial/concealed.py`` reaches an allocation (issue 17; standards.md BLD-1, BLD-9).

The models keep a participant's sequence, a kit's contents and lot and the
list's seed in fields named ``concealed_*``; these tests read every source
file and template of the site and fail on any other module that names one,
in Python (``kit.concealed_lot``), in an ORM lookup
(``"slot__concealed_sequence"``), in a template, or in raw SQL on the tables
that hold them.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from django.apps import apps

import ldntrial.web

SITE = Path(ldntrial.web.__file__).parent
ACCESS_MODULE = SITE / "trial" / "concealed.py"
MODELS = SITE / "trial" / "models.py"
CONCEALED_TABLES = ("trial_allocationslot", "trial_kit", "trial_allocationlistversion")


def _concealed_fields() -> set[str]:
    """The trial models' fields the audit trail conceals, as the models declare them."""
    return {
        field.name
        for model in apps.get_app_config("trial").get_models()
        for field in model._meta.concrete_fields
        if field.name in getattr(model, "audit_concealed", frozenset())
    }


def _reach(text: str, fields: set[str]) -> list[str]:
    """Every mention in ``text`` of a concealed field or of raw SQL on a table holding one."""
    names = "|".join(sorted(fields))
    field_use = re.compile(rf"(?<![A-Za-z0-9])(?:\w*__)?(?:{names})\b")
    table_use = re.compile(rf"\b(?:{'|'.join(CONCEALED_TABLES)})\b")
    return [match.group(0) for match in field_use.finditer(text)] + [
        match.group(0) for match in table_use.finditer(text)
    ]


def _site_sources() -> list[Path]:
    files = [*SITE.rglob("*.py"), *SITE.rglob("*.html"), *SITE.rglob("*.txt")]
    return [path for path in files if "migrations" not in path.parts]


def test_every_field_that_tells_an_arm_is_named_concealed() -> None:
    fields = _concealed_fields()
    assert fields == {
        "concealed_sequence",
        "concealed_seed",
        "concealed_condition",
        "concealed_dose_mg",
        "concealed_mg_per_ml",
        "concealed_lot",
        "concealed_beyond_use_on",
    }


@pytest.mark.django_db
def test_only_the_access_module_names_a_concealed_field() -> None:
    fields = _concealed_fields()
    sources = _site_sources()
    assert len(sources) > 100  # the scan reads the whole site, templates included
    assert _reach(ACCESS_MODULE.read_text(), fields)  # the pattern finds the real readers
    reached = {
        str(path.relative_to(SITE)): sorted(set(_reach(path.read_text(), fields)))
        for path in sources
        if path not in (ACCESS_MODULE, MODELS)
    }
    assert {path: names for path, names in reached.items() if names} == {}


@pytest.mark.parametrize(
    "reader",
    [
        "sequence = person.slot.concealed_sequence",
        "Kit.objects.filter(concealed_lot='')",
        'AllocationSlot.objects.values_list("concealed_sequence")',
        'Kit.objects.filter(slot__participant=p).values("slot__concealed_dose_mg")',
        "<td>{{ kit.concealed_condition }}</td>",
        "getattr(kit, 'concealed_beyond_use_on')",
        "cursor.execute('SELECT sequence FROM trial_allocationslot')",
    ],
)
def test_each_way_of_reading_an_arm_is_caught(reader: str) -> None:
    assert _reach(reader, _concealed_fields())


@pytest.mark.parametrize(
    "innocent",
    [
        "plan_sequence(protocol, sequence_of(person), dose_mg=nan)",
        "protocol.conditions[contents.condition].label",
        "kit.code, kit.kit_number, kit.dispensed_on",
        'audit_concealed = frozenset({"report_html"})',
    ],
)
def test_reading_through_the_access_module_is_not_flagged(innocent: str) -> None:
    assert _reach(innocent, _concealed_fields()) == []
