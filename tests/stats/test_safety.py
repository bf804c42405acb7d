"""Adverse events, tolerability and the blinding index against hand counts."""

from __future__ import annotations

import math

import pandas as pd
import pytest
from scipy import stats

from ldntrial.simulate import simulate_trial
from ldntrial.stats.safety import analyse_blinding, analyse_safety


def test_incidence_counts_participants_not_events(small_trial):
    result = analyse_safety(small_trial)
    events = small_trial.adverse_events
    exposed = small_trial.diary.loc[small_trial.diary["condition"] == "ldn", "participant_id"]
    had = set(events.loc[events["condition"] == "ldn", "participant_id"]) & set(exposed)
    row = result.term("any adverse event [ldn]")
    assert row["responders"] == len(had)
    assert row["estimate"] == pytest.approx(len(had) / exposed.nunique())


def test_bangs_index_by_hand(small_trial):
    guesses = pd.DataFrame(
        {
            "participant_id": ["P00001"] * 2 + ["P00002"] * 2 + ["P00003"] * 2,
            "phase": ["ldn", "placebo"] * 3,
            "period": [1, 2] * 3,
            "guess": ["ldn", "ldn", "ldn", "dont_know", "placebo", "placebo"],
        }
    )
    trial = small_trial.with_tables(blinding_guesses=guesses)
    result = analyse_blinding(trial)
    # LDN phases: 2 correct, 1 wrong of 3 -> (2 - 1) / 3; SE sqrt((2/3 + 1/3 - 1/9) / 3).
    row = result.term("blinding index [ldn]")
    assert row["estimate"] == pytest.approx(1 / 3)
    assert row["std_error"] == pytest.approx(math.sqrt((1 - 1 / 9) / 3))
    # Placebo phases: 1 correct, 1 wrong, 1 don't know -> 0.
    assert result.term("blinding index [placebo]")["estimate"] == 0.0


def test_exposure_adjusted_rates_and_their_ratio_by_hand():
    trial = simulate_trial("crossover-2013", n=31, seed=3)
    result = analyse_safety(trial)
    diary = trial.diary
    weeks = {}
    for condition in ("ldn", "placebo"):
        on = diary[diary["condition"] == condition].groupby("participant_id", observed=True)
        weeks[condition] = float((on["study_day"].max() - on["study_day"].min() + 1).sum()) / 7
    events = trial.adverse_events
    a = int((events["condition"] == "ldn").sum())
    b = int((events["condition"] == "placebo").sum())
    # 12 weeks of LDN against 4 of placebo: the exposures differ about three-fold.
    assert 2.5 < weeks["ldn"] / weeks["placebo"] < 3.5
    rate = result.term("any adverse event per participant-week [ldn]")
    assert rate["estimate"] == pytest.approx(a / weeks["ldn"])
    assert rate["ci_upper"] == pytest.approx(stats.chi2.ppf(0.975, 2 * a + 2) / 2 / weeks["ldn"])
    ratio = result.term("any adverse event rate ratio [ldn / placebo]")
    assert ratio["estimate"] == pytest.approx((a / weeks["ldn"]) / (b / weeks["placebo"]))
    share = weeks["ldn"] / (weeks["ldn"] + weeks["placebo"])
    assert ratio["p_value"] == pytest.approx(stats.binomtest(a, a + b, share).pvalue)
    low = stats.beta.ppf(0.025, a, b + 1)  # Clopper-Pearson lower limit of a / (a + b)
    assert ratio["ci_lower"] == pytest.approx(low / (1 - low) * weeks["placebo"] / weeks["ldn"])
