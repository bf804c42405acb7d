"""The primary terms of many trials at once equal each trial's full analysis."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

from ldntrial.protocol.loader import load_protocol
from ldntrial.simulate import simulate_diaries, simulate_trial
from ldntrial.stats.endpoints import endpoint_arrays
from ldntrial.stats.primary import analyse_endpoint, one_sample_t, primary_term, primary_terms

# A crossover, a fixed order, a parallel trial (ANCOVA), a single arm and an N-of-1 series.
DESIGNS = ["crossover-2013", "pilot-2009", "parallel-2024", "cytokine-2017", "nof1"]


@pytest.mark.parametrize("protocol_id", DESIGNS)
def test_the_batched_primary_terms_equal_the_full_analysis_of_each_trial(
    protocol_id: str,
) -> None:
    protocol = load_protocol(protocol_id)
    seeds = [3, 14, 15, 92, 65]
    # The null scenario as well as the published one: p-values across the whole range.
    cases = [(seed, scenario) for seed in seeds for scenario in ("stanford", "null")]
    terms = primary_terms(
        protocol,
        [
            endpoint_arrays(simulate_diaries(protocol, n=14, seed=seed, scenario=scenario))
            for seed, scenario in cases
        ],
    )
    for k, (seed, scenario) in enumerate(cases):
        full = analyse_endpoint(
            simulate_trial(protocol, n=14, seed=seed, scenario=scenario, tables=("diary",))
        ).term(primary_term(protocol))
        assert terms.estimate[k] == pytest.approx(full["estimate"], rel=1e-12, abs=1e-12)
        assert terms.p_value[k] == pytest.approx(full["p_value"], rel=1e-9, abs=1e-12)


def test_one_sample_t_equals_scipys_row_by_row_and_leaves_out_missing_values() -> None:
    rng = np.random.default_rng(8)
    values = rng.normal(0.3, 1.0, (40, 12))
    values[rng.random(values.shape) < 0.2] = np.nan
    test = one_sample_t(values)
    for row, n, mean, p in zip(values, test.n, test.mean, test.p_value, strict=True):
        present = row[np.isfinite(row)]
        assert n == len(present)
        assert mean == pytest.approx(present.mean(), rel=1e-12)
        assert p == pytest.approx(stats.ttest_1samp(present, 0.0).pvalue, rel=1e-9)


def test_one_sample_t_has_no_p_value_without_two_values_or_without_spread() -> None:
    test = one_sample_t(np.array([[np.nan, np.nan], [4.0, np.nan], [2.0, 2.0]]))
    assert list(test.n) == [0, 1, 2]
    assert np.isnan(test.mean[0]) and test.mean[1] == 4.0 and test.mean[2] == 2.0
    assert np.isnan(test.p_value).all()
