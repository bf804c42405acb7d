"""Every built-in protocol loads, validates, simulates, saves and loads back identical."""

from __future__ import annotations

from pathlib import Path

import pytest

from ldntrial.data import load_bundle, save_bundle
from ldntrial.protocol.loader import (
    builtin_protocol_ids,
    builtin_protocol_text,
    load_protocol,
    parse_protocol,
    protocol_to_toml,
)
from ldntrial.simulate import simulate_trial

BUILTINS = [
    "crossover-2013",
    "crossover-washout-2023",
    "cytokine-2017",
    "dose-finding-2020",
    "nof1",
    "nof1-dose",
    "nof1-titration",
    "parallel-2024",
    "pilot-2009",
]


def test_the_published_designs_and_three_personal_ones_ship() -> None:
    assert builtin_protocol_ids() == BUILTINS


@pytest.mark.parametrize("protocol_id", BUILTINS)
def test_a_builtin_validates_and_names_its_source(protocol_id: str) -> None:
    protocol = load_protocol(protocol_id)
    assert protocol.id == protocol_id
    assert protocol.references, "every built-in names the publication it follows"
    personal = protocol_id.startswith("nof1")  # not a published study: says so instead
    text = builtin_protocol_text(protocol_id)
    assert ("Not a published study" in text) if personal else ("UNCONFIRMED" in text)


@pytest.mark.parametrize("protocol_id", BUILTINS)
@pytest.mark.parametrize("format", ["parquet", "csv"])
def test_a_builtin_simulates_saves_and_loads_back_identical(
    protocol_id: str, format: str, tmp_path: Path
) -> None:
    trial = simulate_trial(protocol_id, n=10, seed=5)
    assert len(trial.participants) == 10
    assert len(trial.diary) > 0
    loaded = load_bundle(save_bundle(trial, tmp_path / protocol_id, format=format))
    assert loaded.equals(trial)


@pytest.mark.parametrize("protocol_id", BUILTINS)
def test_a_protocol_written_field_by_field_reads_back_equal(protocol_id: str) -> None:
    protocol = load_protocol(protocol_id)
    changed = protocol.model_copy(update={"title": "Our local variant"})
    text = protocol_to_toml(changed)
    assert "Our local variant" in text
    assert parse_protocol(text) == changed


def test_saving_a_builtin_keeps_its_comments() -> None:
    text = protocol_to_toml(load_protocol("crossover-2013"))
    assert text == builtin_protocol_text("crossover-2013")


@pytest.mark.parametrize(
    ("protocol_id", "weeks"),
    [
        ("pilot-2009", 14),  # 2 + 2 + 8 + 2
        ("crossover-2013", 22),  # 2 + 12 + 4 + 4
        ("cytokine-2017", 10),  # 2 + 8
        ("nof1", 26),  # 2 + 3 x (4 + 4)
    ],
)
def test_published_lengths(protocol_id: str, weeks: int) -> None:
    protocol = load_protocol(protocol_id)
    for sequence in protocol.all_sequences:
        assert sum(protocol.phase(name).days for name in sequence.phases) == weeks * 7


def test_two_files_of_the_same_protocol_each_keep_their_own_text() -> None:
    """Comments belong to their file: an equal protocol read from a stripped copy must not
    lend its text to the built-in one (nor the other way), whichever was read last."""
    text = builtin_protocol_text("crossover-2013")
    bare = "\n".join(line for line in text.splitlines() if not line.lstrip().startswith("#"))
    copy = parse_protocol(bare, source="copy.toml")
    builtin = load_protocol("crossover-2013")
    assert copy == builtin
    assert protocol_to_toml(copy) == bare and protocol_to_toml(builtin) == text
    assert protocol_to_toml(parse_protocol(bare)) == bare
    assert protocol_to_toml(builtin) == text


def test_a_protocol_finds_its_diary_items_by_id_and_its_derived_rules() -> None:
    """The lookups the analyses share, each defined once on the protocol."""
    crossover, dose_finding = load_protocol("crossover-2013"), load_protocol("dose-finding-2020")
    pain = crossover.diary_item("pain")
    assert pain.id == "pain" and pain.higher_is_better is False
    with pytest.raises(KeyError, match="pian"):
        crossover.diary_item("pian")
    assert crossover.up_and_down is None and crossover.response_rule is None
    assert crossover.strata == []  # permuted blocks, no strata given
    ladder = dose_finding.up_and_down
    assert ladder is not None and ladder.start_mg in ladder.doses_mg
    assert dose_finding.response_rule is not None
    assert dose_finding.response_rule.id == ladder.response_rule
    assert dose_finding.strata == []


def test_a_protocol_derives_its_design_once_and_an_updated_copy_its_own() -> None:
    """The design families of studies.md, each derived once per protocol; a copy with a
    changed allocation is judged afresh, not by its original's answer."""
    from ldntrial.protocol.design import Design
    from ldntrial.protocol.model import FixedAllocation

    expected = {
        "crossover-2013": Design.CROSSOVER,
        "crossover-washout-2023": Design.CROSSOVER,
        "pilot-2009": Design.FIXED_ORDER,
        "parallel-2024": Design.PARALLEL,
        "cytokine-2017": Design.SINGLE_ARM,
        "dose-finding-2020": Design.DOSE_FINDING,
        "nof1": Design.NOF1,
    }
    for protocol_id, design in expected.items():
        protocol = load_protocol(protocol_id)
        assert protocol.design is protocol.design == design, protocol_id
    crossover = load_protocol("crossover-2013")
    assert crossover.comparison.comparator == "placebo" and crossover.design == "crossover"
    one_order = crossover.model_copy(
        update={
            "allocation": FixedAllocation(method="fixed"),
            "sequences": crossover.sequences[:1],
        }
    )
    assert one_order.design == Design.FIXED_ORDER and crossover.design == Design.CROSSOVER
