"""Kit codes: unique, checkable, and independent of what the kit holds."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from ldntrial.protocol.kits import is_valid_kit_code, kit_codes, prepare_kits
from ldntrial.protocol.loader import load_protocol
from ldntrial.protocol.randomisation import allocation_list

CROSSOVER = load_protocol("crossover-2013")


@settings(max_examples=40, deadline=None)
@given(count=st.integers(1, 3000), seed=st.integers(0, 2**62))
def test_codes_are_unique_and_carry_a_valid_check_character(count: int, seed: int) -> None:
    codes = kit_codes(count, np.random.default_rng(seed))
    assert len(set(codes)) == count
    assert all(is_valid_kit_code(code) for code in codes)


@settings(max_examples=40, deadline=None)
@given(
    seed=st.integers(0, 2**62),
    position=st.integers(0, 8),
    replacement=st.sampled_from("0123456789ABCDEFGHJKMNPQRSTVWXYZ"),
)
def test_a_mistyped_character_is_caught(seed: int, position: int, replacement: str) -> None:
    code = kit_codes(1, np.random.default_rng(seed))[0]
    body = code.replace("-", "")
    if position < 8 and body[position] != replacement:
        typo = body[:position] + replacement + body[position + 1 :]
        assert not is_valid_kit_code(f"{typo[:4]}-{typo[4:8]}-{code[-1]}")


@settings(max_examples=25, deadline=None)
@given(
    list_seed=st.integers(0, 2**62),
    other_seed=st.integers(0, 2**62),
    kit_seed=st.integers(0, 2**62),
)
def test_codes_depend_only_on_the_kit_seed_and_position_never_on_contents(
    list_seed: int, other_seed: int, kit_seed: int
) -> None:
    # Two different allocations with the same number of kits get the very same codes
    # in the same places: a code cannot tell what is inside.
    first = prepare_kits(CROSSOVER, allocation_list(CROSSOVER, n=8, seed=list_seed), seed=kit_seed)
    second = prepare_kits(
        CROSSOVER, allocation_list(CROSSOVER, n=8, seed=other_seed), seed=kit_seed
    )
    if len(first.table) == len(second.table):
        assert first.table["kit_code"].tolist() == second.table["kit_code"].tolist()


def test_the_pharmacy_list_is_the_only_place_that_pairs_code_and_contents() -> None:
    kits = prepare_kits(CROSSOVER, allocation_list(CROSSOVER, n=10, seed=4), seed=9)
    assert {"condition", "dose_mg"} <= set(kits.table.columns)
    blinded = kits.blinded()
    assert not {"condition", "dose_mg", "days"} & set(blinded.columns)
    assert "ldn" not in blinded.astype(str).to_numpy().ravel().tolist()
    assert blinded["kit_code"].is_unique


def test_every_slot_gets_its_bottles() -> None:
    allocations = allocation_list(CROSSOVER, n=4, seed=2)
    kits = prepare_kits(CROSSOVER, allocations, seed=3).table
    assert kits.groupby("randomisation_number").size().tolist() == [8, 8, 8, 8]
    ldn_per_slot = kits[kits["condition"] == "ldn"].groupby("randomisation_number").size()
    assert ldn_per_slot.tolist() == [6, 6, 6, 6]  # 12 weeks in 2-week bottles


def test_malformed_codes_are_rejected() -> None:
    for code in ["", "ABCD-EFGH", "ABCD-EFGH-", "ABCD-EFGI-0", "ABCDE-FGH-0", "abcd efgh 1"]:
        assert not is_valid_kit_code(code)
