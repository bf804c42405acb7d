"""Her Bayesian N-of-1 answer: the conjugate case by hand, and calibration over simulated women."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from scipy import stats

import ldntrial
from ldntrial.stats.evidence import synthesise
from ldntrial.stats.nof1 import Verdict, answer_every_participant
from ldntrial.stats.nof1_priors import (
    FINAL_SD_POINTS,
    Prior,
    evidence_prior,
    posterior,
    sceptical_prior,
)

PATIENTS_PER_TRIAL, TRIALS = 50, 7  # 350 simulated women per scenario
BANDS = [0.0, 0.2, 0.4, 0.6, 0.8, 1.0]


def test_the_conjugate_normal_case_by_hand():
    # Prior N(2, 15^2), her diary 8 points better with SE 4:
    # precision 1/225 + 1/16 = 0.066944..., mean (2/225 + 8/16) / 0.066944... = 7.6017...
    prior = Prior("test", 2.0, 15.0, "hand")
    answer = posterior(8.0, 4.0, prior, meaningful_points=10, relative_threshold=15)
    precision = 1 / 225 + 1 / 16
    assert answer.sd == pytest.approx(math.sqrt(1 / precision), rel=1e-12)
    assert answer.mean == pytest.approx((2 / 225 + 8 / 16) / precision, rel=1e-12)
    assert answer.mean == pytest.approx(7.6017, abs=1e-4)
    assert answer.probability_meaningful == pytest.approx(
        stats.norm.sf((10 - 7.601659751037344) / 3.864939779), abs=1e-8
    )
    flat = posterior(
        8.0, 4.0, Prior("flat", 0, None, ""), meaningful_points=10, relative_threshold=15
    )
    assert (flat.mean, flat.sd) == (8.0, 4.0)


def test_the_sceptical_prior_gives_a_meaningful_benefit_a_5_percent_chance():
    prior = sceptical_prior(10)
    assert prior.mean == 0
    assert stats.norm.sf(10 / prior.sd) == pytest.approx(0.05, abs=1e-12)


def test_the_evidence_prior_is_the_synthesis_in_points():
    pooled = synthesise().pooled
    prior = evidence_prior()
    assert pytest.approx(14.7826, abs=1e-4) == FINAL_SD_POINTS  # 0.34 / 0.23 x 10
    assert prior.mean == pytest.approx(pooled.estimate * FINAL_SD_POINTS, rel=1e-12)
    spread = math.sqrt(pooled.std_error**2 + pooled.tau2 + 1.0)
    assert prior.sd == pytest.approx(spread * FINAL_SD_POINTS, rel=1e-12)
    assert "could not tell LDN from placebo" in prior.plain


def _cohort(scenario: str) -> pd.DataFrame:
    """Simulated N-of-1 women (3 pairs of 4-week blocks): their truth and their answers."""
    rows = []
    for seed in range(1, TRIALS + 1):
        trial = ldntrial.simulate_trial(
            "nof1", n=PATIENTS_PER_TRIAL, seed=seed, scenario=scenario, tables=("diary",)
        )
        truth = trial.truth["participants"]
        for answer in answer_every_participant(trial):
            informed = answer.posterior("evidence")
            if informed is None:
                continue  # too few days: "cannot tell", with no probability to calibrate
            person = truth[answer.participant_id]
            rows.append(
                {
                    "truly_benefits": person["primary_level"] * person["ldn_effect"] >= 10,
                    "stated": informed.probability_meaningful,
                    "bayes_helped": informed.probability_meaningful >= 0.8,
                    "flat_helped": answer.verdict == Verdict.HELPED,
                }
            )
    return pd.DataFrame(rows)


def calibration_table(cohort: pd.DataFrame) -> pd.DataFrame:
    """Per band of the stated probability: how many women, the mean stated, the share truly."""
    bands = pd.cut(cohort["stated"], BANDS, include_lowest=True)
    return cohort.groupby(bands, observed=True).agg(
        women=("stated", "size"),
        stated=("stated", "mean"),
        truly=("truly_benefits", "mean"),
    )


@pytest.mark.parametrize("scenario", ["stanford", "null"])
def test_the_evidence_informed_answer_is_calibrated(scenario):
    cohort = _cohort(scenario)
    assert len(cohort) >= 300
    table = calibration_table(cohort)
    for band, row in table.iterrows():
        if row["women"] < 25:
            continue  # too few women in the band to judge it
        error = math.sqrt(max(row["stated"] * (1 - row["stated"]), 0.01) / row["women"])
        assert abs(row["truly"] - row["stated"]) <= 2.5 * error + 0.05, (band, row.to_dict())
    # Over everyone, the stated chances add up to about as many women as truly benefit.
    assert abs(cohort["stated"].mean() - cohort["truly_benefits"].mean()) < 0.05
    if scenario == "null":
        assert cohort["truly_benefits"].sum() == 0
        # It says "likely helped" no more often than today's flat answer does.
        assert cohort["bayes_helped"].sum() <= cohort["flat_helped"].sum()
        assert np.mean(cohort["bayes_helped"]) <= 0.01
