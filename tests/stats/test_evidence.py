"""The shipped evidence table: every figure traced to its source, every conversion by hand."""

from __future__ import annotations

import json
import math
import re
from pathlib import Path

import numpy as np
import pytest

import ldntrial
from ldntrial.errors import AnalysisError
from ldntrial.stats.evidence import (
    EVIDENCE_FILE,
    effect_of,
    load_evidence,
    row_from_analysis,
    synthesise,
)

Z = 1.9599639845400536  # R: qnorm(0.975)
REQUIRED = {"younger-2009", "younger-2013", "bested-2023", "final-2024", "innova-2025"}


@pytest.fixture(scope="module")
def table():
    return load_evidence()


def _row(table, trial_id):
    (row,) = [row for row in table.rows if row.id == trial_id]
    return row


def test_the_table_holds_the_controlled_trials_the_docs_name(table):
    assert {row.id for row in table.rows} >= REQUIRED
    assert re.fullmatch(r"\d{4}-\d{2}-\d{2}", table.version)
    for row in table.rows:
        assert row.sources and all(s.startswith("http") for s in row.sources), row.id
        assert row.pooled or row.not_pooled_because, row.id


def test_every_input_is_a_figure_the_source_publishes(table):
    # What the conversion uses must be written in the row's published text (or be its n):
    # nothing invented. Signs may be turned so that positive favours LDN.
    for row in table.rows:
        figures = {abs(float(x)) for x in re.findall(r"\d+(?:\.\d+)?", row.published)}
        for name, value in row.inputs.items():
            if name == "direction":
                assert value in (1, -1)
            elif name == "n":
                assert value == row.n_analysed, row.id
            else:
                assert abs(value) in figures, (row.id, name, value)


def test_conversions_by_hand(table):
    # FINAL: d 0.23; the published CI of the difference (-0.95 to 0.27) on d's scale.
    final = effect_of(_row(table, "final-2024"))
    assert final.estimate == 0.23
    assert final.std_error == pytest.approx((0.27 + 0.95) / (2 * Z) * 0.23 / 0.34, rel=1e-12)
    # INNOVA: d 0.19 against LDN; SE from p = 0.236 (R: qnorm(1 - 0.236/2) = 1.18504...).
    innova = effect_of(_row(table, "innova-2025"))
    assert innova.estimate == -0.19
    assert innova.std_error == pytest.approx(0.19 / 1.1850441279078099, rel=1e-12)
    # Stanford 2013: t from p = 0.016 on 27 df (R: qt(0.992, 27) = 2.57017...), d_z = t / sqrt(28).
    stanford = effect_of(_row(table, "younger-2013"))
    d_z = 2.5701780157279042 / math.sqrt(28)
    assert stanford.estimate == pytest.approx(d_z, rel=1e-12)
    assert stanford.std_error == pytest.approx(math.sqrt(1 / 28 + d_z**2 / 56), rel=1e-12)
    assert stanford.kind == "d_z" and final.kind == "d"


def test_the_synthesis_pools_only_the_rows_marked_pooled(table):
    synthesis = synthesise(table)
    pooled_ids = [row.id for row in synthesis.rows_pooled()]
    assert "younger-2009" not in pooled_ids  # symptom severity, placebo always first
    assert synthesis.pooled.k == len(pooled_ids) == 4
    # With the 2013 crossover the evidence leans to LDN, but the interval spans no effect.
    assert synthesis.pooled.ci_lower < 0 < synthesis.pooled.ci_upper
    assert len(synthesis.without) == 4


def test_a_broken_table_names_the_trial_and_the_field(tmp_path):
    text = EVIDENCE_FILE.read_text(encoding="utf-8").replace("n_analysed = 99", "n_analysed = 1")
    broken = tmp_path / "evidence.toml"
    broken.write_text(text, encoding="utf-8")
    with pytest.raises(AnalysisError, match=r"trial 4, n_analysed: Input should be greater"):
        load_evidence(broken)
    missing = EVIDENCE_FILE.read_text(encoding="utf-8").replace(
        "inputs = { d = 0.13, p = 0.4 }", "inputs = { d = 0.13 }"
    )
    broken.write_text(missing, encoding="utf-8")
    with pytest.raises(
        AnalysisError, match="trial bested-2023: conversion d_and_p needs inputs p"
    ):
        load_evidence(broken)


def _analysed(tmp_path: Path, protocol: str, n: int) -> tuple[Path, dict]:
    trial = ldntrial.simulate_trial(protocol, n=n, seed=5)
    document = ldntrial.analyze(trial).to_dict()
    path = tmp_path / f"{protocol}.json"
    path.write_text(json.dumps(document), encoding="utf-8")
    return path, document


def test_a_crossover_ldntrial_analysed_joins_by_its_paired_differences(tmp_path, table):
    path, document = _analysed(tmp_path, "crossover-2013", 31)
    row = row_from_analysis(path, citation="Our clinic 2026", year=2026)
    # By hand from the per-woman table: LDN - placebo % improvement, then mean / SD.
    people = document["primary"]["tables"]["participants"]
    by_woman: dict[str, dict[str, float]] = {}
    for line in people:
        if line["improvement_percent"] is not None:
            by_woman.setdefault(line["participant_id"], {})[line["condition"]] = line[
                "improvement_percent"
            ]
    differences = np.array([w["ldn"] - w["placebo"] for w in by_woman.values() if len(w) == 2])
    effect = effect_of(row)
    d_z = differences.mean() / differences.std(ddof=1)
    assert effect.estimate == pytest.approx(d_z, rel=1e-9)
    assert row.n_analysed == len(differences)
    grown = synthesise(table, extra=[row])
    assert grown.pooled.k == 5 and grown.table.rows[-1].citation == "Our clinic 2026"


def test_a_parallel_trial_joins_by_its_ancova_t(tmp_path):
    path, document = _analysed(tmp_path, "parallel-2024", 40)
    row = row_from_analysis(path, citation="Our parallel trial", year=2026)
    (adjusted,) = [t for t in document["primary"]["terms"] if t["term"] == "condition[ldn]"]
    t = adjusted["estimate"] / adjusted["std_error"]
    d = -t * math.sqrt(1 / row.n_ldn + 1 / row.n_placebo)
    assert effect_of(row).estimate == pytest.approx(d, rel=1e-12)


def test_designs_without_a_placebo_contrast_and_other_files_are_refused(tmp_path):
    path, _ = _analysed(tmp_path, "cytokine-2017", 12)
    with pytest.raises(AnalysisError, match="a single_arm design has no LDN - placebo contrast"):
        row_from_analysis(path, citation="x", year=2026)
    stray = tmp_path / "notes.json"
    stray.write_text('{"hello": 1}', encoding="utf-8")
    with pytest.raises(AnalysisError, match="is not the JSON of `ldntrial analyze --json`"):
        row_from_analysis(stray, citation="x", year=2026)
