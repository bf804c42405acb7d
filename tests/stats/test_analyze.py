"""analyze() end to end: every built-in design, the JSON document, and refusals."""

from __future__ import annotations

import json

import pytest

import ldntrial
from ldntrial.errors import AnalysisError
from ldntrial.protocol.loader import builtin_protocol_ids
from ldntrial.stats.results import ESTIMATE_COLUMNS

EXPECTED_DESIGNS = {
    "crossover-2013": "crossover",
    "crossover-washout-2023": "crossover",
    "cytokine-2017": "single_arm",
    "dose-finding-2020": "dose_finding",
    "nof1": "nof1",
    "nof1-dose": "nof1",
    "nof1-titration": "nof1",
    "parallel-2024": "parallel",
    "pilot-2009": "fixed_order",
}


@pytest.mark.parametrize("protocol", builtin_protocol_ids())
def test_every_builtin_protocol_analyses_to_strict_json(protocol):
    trial = ldntrial.simulate_trial(protocol, n=24, seed=8)
    document = json.loads(json.dumps(ldntrial.analyze(trial).to_dict(), allow_nan=False))
    assert document["design"] == EXPECTED_DESIGNS[protocol]
    assert document["primary"]["n"] > 0
    for key in ("primary", "responders", "safety"):
        terms = document[key]["terms"]
        assert terms and set(ESTIMATE_COLUMNS) <= set(terms[0])
    for key, value in document.items():
        if value is None:
            assert key in document["not_applicable"], key


def test_crossover_document_has_the_mixed_model_terms_the_issue_names():
    trial = ldntrial.simulate_trial("crossover-2013", n=31, seed=2)
    document = ldntrial.analyze(trial).to_dict()
    terms = {t["term"]: t for t in document["mixed_model"]["terms"]}
    ldn = terms["condition[ldn]"]
    assert ldn["ci_lower"] < ldn["estimate"] < ldn["ci_upper"] < 0  # less pain on LDN
    assert "period[2]" in terms
    assert {"fatigue", "sleep_quality", "mood", "satisfaction"} <= set(document["secondary"])
    assert document["carryover"]["terms"][-1]["term"] == "sequence[placebo-first]"
    assert document["flow"]["randomised"] == 31


def test_nof1_series_gives_answers_and_a_pooled_estimate():
    analysis = ldntrial.analyze(ldntrial.simulate_trial("nof1", n=12, seed=3))
    assert len(analysis.nof1) == 12
    assert analysis.nof1_pooled.n == sum(len(a.result.estimates) > 0 for a in analysis.nof1)
    assert 0 <= analysis.nof1_pooled.values["share_benefiting"] <= 1


def test_blinded_data_is_refused(small_trial):
    with pytest.raises(AnalysisError, match="unblinded"):
        ldntrial.analyze(small_trial.blinded_view())


def test_a_secondary_item_without_data_is_skipped_with_its_reason_not_fatal():
    trial = ldntrial.simulate_trial("crossover-2013", n=12, seed=4)
    diary = trial.diary[trial.diary["item"] != "mood"]
    trial = ldntrial.TrialData.from_tables(
        trial.protocol, truth=trial.truth, **{**trial.tables(), "diary": diary}
    )
    analysis = ldntrial.analyze(trial)
    assert "mood" not in analysis.secondary
    assert "mood" in analysis.not_applicable["secondary.mood"]
    assert {"fatigue", "sleep_quality"} <= set(analysis.secondary)


def test_the_json_keeps_small_p_values_at_full_precision():
    from ldntrial.stats.results import json_safe

    frame = ldntrial.stats.results.estimates_frame(
        [{"term": "x", "estimate": 1.0, "p_value": 3.87e-15}]
    )
    (row,) = json_safe(frame)
    assert row["p_value"] == 3.87e-15
