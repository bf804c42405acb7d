"""An uploaded allocation list: accepted as given, or every broken rule named by row and column."""

from __future__ import annotations

import pandas as pd
import pytest

from ldntrial.errors import RandomisationError
from ldntrial.protocol.allocation_upload import allocation_list_from_table
from ldntrial.protocol.kits import prepare_kits
from ldntrial.protocol.loader import builtin_protocol_text, load_protocol, parse_protocol

CROSSOVER = load_protocol("crossover-2013")


def test_a_good_list_keeps_its_order_and_numbers() -> None:
    table = pd.DataFrame(
        {
            "randomisation_number": ["R1", "R2", "R3"],
            "sequence": ["placebo-first", "ldn-first", "ldn-first"],
        }
    )
    allocations = allocation_list_from_table(CROSSOVER, table)
    assert allocations.table[["randomisation_number", "stratum", "position", "sequence"]].to_dict(
        "records"
    ) == [
        {
            "randomisation_number": "R1",
            "stratum": "all",
            "position": 1,
            "sequence": "placebo-first",
        },
        {"randomisation_number": "R2", "stratum": "all", "position": 2, "sequence": "ldn-first"},
        {"randomisation_number": "R3", "stratum": "all", "position": 3, "sequence": "ldn-first"},
    ]
    assert allocations.sequences_in("all") == ["placebo-first", "ldn-first", "ldn-first"]
    kits = prepare_kits(
        CROSSOVER, allocations, seed=1
    )  # the core makes its kits as for a drawn list
    assert set(kits.table["randomisation_number"]) == {"R1", "R2", "R3"}


def test_numbers_are_made_when_the_list_has_none() -> None:
    allocations = allocation_list_from_table(
        CROSSOVER, pd.DataFrame({"sequence": ["ldn-first"] * 2})
    )
    assert allocations.table["randomisation_number"].tolist() == ["U01-0001", "U01-0002"]


def test_every_broken_rule_is_named_by_row_and_column() -> None:
    table = pd.DataFrame(
        {
            "randomisation_number": ["R1", "R1", "", "R-0123456789ABC"],
            "sequence": ["ldn-frist", "ldn-first", "placebo-first", "ldn-first"],
        }
    )
    with pytest.raises(RandomisationError) as raised:
        allocation_list_from_table(CROSSOVER, table)
    assert str(raised.value).splitlines() == [
        "the allocation list has errors:",
        "row 1: sequence: 'ldn-frist' is not a sequence of crossover-2013 "
        "(ldn-first, placebo-first)",
        "row 3: randomisation_number: empty",
        "row 4: randomisation_number: at most 14 characters",
        "row 2: randomisation_number: 'R1' is used twice",
    ]


def test_a_stratified_protocol_needs_ldntrial_stratum_labels() -> None:
    text = builtin_protocol_text("crossover-2013").replace(
        "block_sizes = [2, 4]\n",
        'block_sizes = [2, 4]\n[[allocation.strata]]\nname = "esr"\n'
        'variable = "esr_baseline"\nabove = 20\n',
    )
    protocol = parse_protocol(text, source="stratified.toml")
    good = pd.DataFrame(
        {"stratum": ["esr=above_20", "esr=at_most_20"], "sequence": ["ldn-first"] * 2}
    )
    assert allocation_list_from_table(protocol, good).strata == {"esr": ["above_20", "at_most_20"]}
    bad = pd.DataFrame({"stratum": ["esr=high", "site=a"], "sequence": ["ldn-first"] * 2})
    with pytest.raises(RandomisationError) as raised:
        allocation_list_from_table(protocol, bad)
    assert str(raised.value).splitlines()[1:] == [
        "row 1: stratum: esr is above_20 or at_most_20, got 'high'",
        "row 2: stratum: 'site=a' is not of the form esr=...",
    ]
    with pytest.raises(RandomisationError, match="needs a 'stratum' column"):
        allocation_list_from_table(protocol, pd.DataFrame({"sequence": ["ldn-first"]}))


@pytest.mark.parametrize(
    ("table", "message"),
    [
        (pd.DataFrame({"arm": ["ldn-first"]}), "needs a 'sequence' column"),
        (pd.DataFrame({"sequence": []}), "has no rows"),
    ],
)
def test_a_list_without_sequences_is_refused(table, message) -> None:
    with pytest.raises(RandomisationError, match=message):
        allocation_list_from_table(CROSSOVER, table)
