"""A kit's label tells her how to take it and nothing about her arm."""

from __future__ import annotations

from dataclasses import asdict, replace
from datetime import date

from ldntrial.protocol.kit_label import CLINICAL_TRIAL_USE, kit_label, label_use_by
from ldntrial.protocol.loader import builtin_protocol_text, load_protocol, parse_protocol

CROSSOVER = load_protocol("crossover-2013")


def _label(protocol, condition: str, *, blinded: bool = True, quantity: int = 17):  # type: ignore[no-untyped-def]
    return kit_label(
        protocol,
        study="LDN crossover",
        kit_code="ABCD-EFGH-J",
        participant="A-001 (V1-R1)",
        condition=condition,
        blinded=blinded,
        quantity=quantity,
        use_by=date(2026, 3, 31),
    )


def test_an_ldn_kit_and_a_placebo_kit_carry_the_same_label() -> None:
    ldn, placebo = _label(CROSSOVER, "ldn"), _label(CROSSOVER, "placebo")
    assert ldn == placebo
    assert ldn.contents == "LDN 4.5 mg or Placebo (identical capsule)"
    assert ldn.quantity == "17 capsules"
    assert ldn.directions == "Take 1 capsule at bedtime every day"
    assert ldn.caution == CLINICAL_TRIAL_USE and ldn.storage is None


def test_a_kit_of_an_open_phase_says_what_it_holds() -> None:
    titration = load_protocol("nof1-titration")
    label = _label(titration, "titration", blinded=False)
    assert label.contents == "LDN rising from 1.5 mg by 0.5 mg a week (open)"
    blinded = _label(titration, "ldn")
    assert blinded.contents == "LDN 4.5 mg or Placebo (identical capsule)"


def test_a_liquid_label_gives_the_volume_and_an_unpreserved_one_asks_for_the_fridge() -> None:
    text = (
        builtin_protocol_text("crossover-2013")
        .replace(
            "capsules_per_day = 1\nspare_days = 3",
            'form = "liquid"\nml_per_day = 5\npreserved = false\nspare_days = 3',
        )
        .replace("interval_days = 14", "interval_days = 7", 1)
    )  # kits must keep under 14 days
    liquid = parse_protocol(text)
    label = _label(liquid, "ldn", quantity=50)
    assert (label.quantity, label.directions) == ("50 mL", "Take 5 mL at bedtime every day")
    assert label.storage == "Keep in a refrigerator (2 to 8 °C)"
    assert asdict(label) == asdict(replace(_label(liquid, "placebo", quantity=50)))


def test_the_use_by_date_is_her_kits_last_day_and_its_spare_days() -> None:
    # enrolled 2 March (day 1): day 28 is 29 March, and 3 spare days reach 1 April
    assert label_use_by(CROSSOVER, date(2026, 3, 2), 28) == date(2026, 4, 1)
