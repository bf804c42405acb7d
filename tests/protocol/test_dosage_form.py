"""Capsules or a compounded liquid: same volume in every arm, kits used before they expire."""

from __future__ import annotations

import math

import pytest

from ldntrial.errors import ProtocolError
from ldntrial.protocol.dosage_form import beyond_use_days, kit_units, longest_beyond_use_days
from ldntrial.protocol.kits import prepare_kits
from ldntrial.protocol.loader import builtin_protocol_text, parse_protocol
from ldntrial.protocol.randomisation import allocation_list

CAPSULES = "capsules_per_day = 1\nspare_days = 3"


def _crossover(dosing: str) -> str:
    text = builtin_protocol_text("crossover-2013")
    assert text.count(CAPSULES) == 1
    return text.replace(CAPSULES, dosing)


def _problem(dosing: str) -> str:
    with pytest.raises(ProtocolError) as caught:
        parse_protocol(_crossover(dosing), source="study.toml")
    return str(caught.value)


def test_usp_795_limits_by_form() -> None:
    liquid = parse_protocol(
        _crossover('form = "liquid"\nml_per_day = 5\npreserved = true\nspare_days = 3')
    )
    assert longest_beyond_use_days(liquid.dosing) == 35
    assert kit_units(liquid.dosing) == "mL"
    capsules = parse_protocol(_crossover(CAPSULES))
    assert longest_beyond_use_days(capsules.dosing) == 180
    assert kit_units(capsules.dosing) == "capsules"
    shorter = parse_protocol(_crossover(CAPSULES + "\nbeyond_use_days = 90"))
    assert beyond_use_days(shorter.dosing) == 90


@pytest.mark.parametrize(
    ("dosing", "expected"),
    [
        ('form = "liquid"\nspare_days = 3', "dosing.ml_per_day: a liquid needs the millilitres"),
        (
            CAPSULES + "\nml_per_day = 5",
            'dosing.ml_per_day: only a liquid has it (form = "liquid")',
        ),
        (CAPSULES + "\npreserved = true", "dosing.preserved: only a liquid has it"),
        (
            CAPSULES + "\nbeyond_use_days = 200",
            "dosing.beyond_use_days: at most 180 days for this form (USP General Chapter <795>",
        ),
        (
            # crossover-2013 sees her every 14 days: a kit keeps 14 days and 3 spare
            'form = "liquid"\nml_per_day = 5\nspare_days = 3',
            "must keep 17 days from its dispensing visit (spare days included), "
            "longer than the 14-day beyond-use period",
        ),
    ],
)
def test_a_dosing_mistake_is_named_with_its_field_and_rule(dosing: str, expected: str) -> None:
    assert expected in _problem(dosing)


def test_a_liquid_holds_the_dose_in_its_concentration_and_the_same_volume_in_every_arm() -> None:
    protocol = parse_protocol(
        _crossover('form = "liquid"\nml_per_day = 5\npreserved = true\nspare_days = 3')
    )
    kits = prepare_kits(protocol, allocation_list(protocol, n=4, seed=1), seed=2).table
    ldn = kits[kits["condition"] == "ldn"]
    placebo = kits[kits["condition"] == "placebo"]
    assert set(ldn["mg_per_ml"]) == {4.5 / 5}  # 4.5 mg in 5 mL
    assert set(placebo["mg_per_ml"]) == {0.0}
    # 14 days and 3 spare, 5 mL a day, whatever the bottle holds
    assert set(ldn["capsules"]) == set(placebo["capsules"]) == {17 * 5}
    capsules = parse_protocol(_crossover(CAPSULES))
    tablets = prepare_kits(capsules, allocation_list(capsules, n=4, seed=1), seed=2).table
    assert all(math.isnan(value) for value in tablets["mg_per_ml"])
    assert set(tablets["capsules"]) == {17}
