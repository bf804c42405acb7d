"""Allocation lists: balanced blocks, seeded, stratified, N-of-1 pairs, up-and-down."""

from __future__ import annotations

from collections import Counter

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ldntrial.errors import RandomisationError
from ldntrial.protocol.loader import builtin_protocol_text, load_protocol, parse_protocol
from ldntrial.protocol.randomisation import (
    allocation_list,
    count_reversals,
    count_up_and_down_pairs,
    next_up_and_down_dose,
    stratum_of,
)

CROSSOVER = load_protocol("crossover-2013")
STRATIFIED = parse_protocol(
    builtin_protocol_text("crossover-2013").replace(
        "block_sizes = [2, 4]",
        """block_sizes = [2, 4, 6]

[[allocation.strata]]
name = "site"

[[allocation.strata]]
name = "esr_high"
variable = "esr_baseline"
above = 20""",
    )
)


@settings(max_examples=60, deadline=None)
@given(n=st.integers(1, 120), seed=st.integers(0, 2**62))
def test_every_block_holds_each_sequence_equally_often(n: int, seed: int) -> None:
    table = allocation_list(CROSSOVER, n=n, seed=seed).table
    assert len(table) >= n
    for _block, rows in table.groupby("block"):
        counts = Counter(rows["sequence"])
        assert counts["ldn-first"] == counts["placebo-first"] == len(rows) // 2
        assert rows["block_size"].iloc[0] == len(rows)
    assert table["randomisation_number"].is_unique


@settings(max_examples=30, deadline=None)
@given(n=st.integers(1, 60), seed=st.integers(0, 2**62))
def test_the_same_seed_gives_the_same_list(n: int, seed: int) -> None:
    first = allocation_list(CROSSOVER, n=n, seed=seed)
    again = allocation_list(CROSSOVER, n=n, seed=seed)
    assert first.table.equals(again.table)
    assert first.seed == seed


def test_different_seeds_give_different_lists() -> None:
    lists = {tuple(allocation_list(CROSSOVER, n=40, seed=s).table["sequence"]) for s in range(20)}
    assert len(lists) == 20


def test_block_sizes_vary_so_the_last_allocation_cannot_be_predicted() -> None:
    sizes = set(allocation_list(CROSSOVER, n=200, seed=3).table["block_size"])
    assert sizes == {2, 4}


def test_an_unseeded_list_records_the_seed_it_drew() -> None:
    first = allocation_list(CROSSOVER, n=10)
    again = allocation_list(CROSSOVER, n=10, seed=first.seed)
    assert first.table.equals(again.table)


def test_a_stratified_list_is_balanced_within_each_stratum() -> None:
    result = allocation_list(STRATIFIED, n=30, seed=11, strata={"site": ["stanford", "uab"]})
    strata = sorted(result.table["stratum"].unique())
    assert strata == [
        "site=stanford|esr_high=above_20",
        "site=stanford|esr_high=at_most_20",
        "site=uab|esr_high=above_20",
        "site=uab|esr_high=at_most_20",
    ]
    for stratum in strata:
        sequences = result.sequences_in(stratum)
        assert len(sequences) >= 30
        for _block, rows in result.table[result.table["stratum"] == stratum].groupby("block"):
            assert Counter(rows["sequence"])["ldn-first"] * 2 == len(rows)


def test_a_participant_falls_in_her_stratum() -> None:
    assert (
        stratum_of(STRATIFIED, {"site": "uab", "esr_baseline": 34.0})
        == "site=uab|esr_high=above_20"
    )
    assert (
        stratum_of(STRATIFIED, {"site": "uab", "esr_baseline": 20.0})
        == "site=uab|esr_high=at_most_20"
    )
    with pytest.raises(RandomisationError, match="'esr_baseline' is needed"):
        stratum_of(STRATIFIED, {"site": "uab"})


def test_strata_levels_must_be_given_and_known() -> None:
    with pytest.raises(RandomisationError, match="give the levels of stratum 'site'"):
        allocation_list(STRATIFIED, n=4, seed=1)
    with pytest.raises(RandomisationError, match="not stratified by country"):
        allocation_list(CROSSOVER, n=4, seed=1, strata={"country": ["US"]})


@settings(max_examples=40, deadline=None)
@given(n=st.integers(1, 50), seed=st.integers(0, 2**62))
def test_nof1_randomises_the_order_within_each_pair(n: int, seed: int) -> None:
    protocol = load_protocol("nof1")
    table = allocation_list(protocol, n=n, seed=seed).table
    for name in table["sequence"]:
        sequence = protocol.sequence(name)
        assert sequence.phases[0] == "baseline"
        pairs = [sequence.phases[k : k + 2] for k in range(1, 7, 2)]
        assert all(sorted(pair) == ["ldn", "placebo"] for pair in pairs)


def test_nof1_orders_are_all_used_about_equally() -> None:
    table = allocation_list(load_protocol("nof1"), n=8000, seed=1).table
    counts = Counter(table["sequence"])
    assert len(counts) == 8
    assert all(abs(count - 1000) < 120 for count in counts.values())  # about 4 SD of 1000


def test_a_fixed_design_gives_everyone_the_one_sequence() -> None:
    table = allocation_list(load_protocol("pilot-2009"), n=10, seed=1).table
    assert set(table["sequence"]) == {"fixed"}


def test_up_and_down_steps_down_after_a_response_and_up_after_none() -> None:
    protocol = load_protocol("dose-finding-2020")
    assert next_up_and_down_dose(protocol, []) == 0.75  # the start_mg
    assert next_up_and_down_dose(protocol, [(4.5, True)]) == 3.75
    assert next_up_and_down_dose(protocol, [(4.5, True), (3.75, False)]) == 4.5
    assert next_up_and_down_dose(protocol, [(0.75, True)]) == 0.75  # the ladder's floor
    assert next_up_and_down_dose(protocol, [(6.0, False)]) == 6.0  # and its ceiling
    with pytest.raises(RandomisationError, match="not on the ladder"):
        next_up_and_down_dose(protocol, [(5.0, True)])
    # Its list holds places in enrolment order on the one sequence; doses come later.
    places = allocation_list(protocol, n=5, seed=1).table
    assert places["sequence"].tolist() == ["single-dose"] * 5
    assert places["position"].tolist() == [1, 2, 3, 4, 5]


def test_reversals_count_the_changes_of_direction() -> None:
    history = [(4.5, True), (3.75, True), (3.0, False), (3.75, True), (3.0, False), (3.75, False)]
    assert count_reversals(history) == 3
    # Up-and-down pairs: a non-response then a response (3.0 -> 3.75 once).
    assert count_up_and_down_pairs(history) == 1
    assert count_up_and_down_pairs([(1.0, False), (2.0, True), (1.0, False), (2.0, True)]) == 2
