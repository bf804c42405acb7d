"""Many patients' N-of-1 verdicts at once equal each patient's full answer."""

from __future__ import annotations

import numpy as np
import pytest

from ldntrial.errors import AnalysisError
from ldntrial.simulate import simulate_diaries, simulate_trial
from ldntrial.stats.nof1 import Verdict, answer_every_participant
from ldntrial.stats.nof1_batch import nof1_verdicts


@pytest.mark.parametrize("protocol_id", ["nof1", "nof1-titration", "nof1-dose"])
@pytest.mark.parametrize("scenario", ["stanford", "null"])
def test_the_batched_verdicts_are_each_patients_full_answer(protocol_id, scenario) -> None:
    # Missed days and dropouts included (the scenario's), so run-ins start on her first
    # entered day and some patients have too few days.
    overrides = {"missing_day_rate": 0.15, "dropout_rate": 0.15}
    arguments = {"n": 30, "seed": 11, "scenario": scenario, "overrides": overrides}
    full = answer_every_participant(simulate_trial(protocol_id, tables=("diary",), **arguments))
    batch = nof1_verdicts(simulate_diaries(protocol_id, **arguments))
    assert list(batch.verdict) == [answer.verdict for answer in full]
    for k, answer in enumerate(full):
        rows = answer.result.estimates
        condition = rows[rows["term"].str.startswith("condition[")]
        if condition.empty:  # too few days: no estimate on either side
            assert np.isnan(batch.difference[k]) and np.isnan(batch.std_error[k])
            continue
        # Both search rho to about 1e-8 (scipy's bounded Brent stops at sqrt(eps) x rho).
        assert batch.difference[k] == pytest.approx(condition["estimate"].iloc[0], abs=1e-5)
        assert batch.std_error[k] == pytest.approx(condition["std_error"].iloc[0], abs=1e-5)
    assert len(set(batch.verdict)) >= 2  # the comparison is not one of all-alike answers


def test_a_patient_who_left_before_her_blocks_cannot_be_told() -> None:
    batch = nof1_verdicts(simulate_diaries("nof1", n=4, seed=2, overrides={"dropout_rate": 1.0}))
    assert list(batch.verdict) == [Verdict.CANNOT_TELL] * 4
    assert np.isnan(batch.difference).all()


def test_only_an_n_of_1_design_is_answered_patient_by_patient() -> None:
    with pytest.raises(AnalysisError, match="crossover-2013 is not an N-of-1 design"):
        nof1_verdicts(simulate_diaries("crossover-2013", n=4, seed=2))
