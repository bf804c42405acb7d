"""The patient's answer and the pooled series, against the simulator's known truth."""

from __future__ import annotations

from collections import Counter

import numpy as np
import pytest
from scipy import stats

from ldntrial.errors import AnalysisError
from ldntrial.simulate import simulate_trial
from ldntrial.stats import answer_for_participant, pool_nof1


@pytest.fixture(scope="module")
def series():
    trial = simulate_trial("nof1", n=240, seed=31)
    answers = [answer_for_participant(trial, pid) for pid in trial.participants["participant_id"]]
    return trial, [a for a in answers if len(a.result.estimates)]


def _true_difference(trial, pid):
    truth = trial.truth["participants"][pid]
    return -truth["primary_level"] * truth["ldn_effect"]


def test_intervals_cover_each_patients_true_effect_about_95_percent(series):
    trial, answers = series
    covered = [
        a.result.term("condition[ldn]")["ci_lower"]
        <= _true_difference(trial, a.participant_id)
        <= a.result.term("condition[ldn]")["ci_upper"]
        for a in answers
    ]
    assert len(answers) > 200
    assert 0.90 <= np.mean(covered) <= 0.985


def test_verdicts_are_right_when_they_are_confident(series):
    trial, answers = series
    for answer in answers:
        truth = _true_difference(trial, answer.participant_id)
        if answer.verdict == "likely_helped":
            assert truth < -3  # never confidently "helped" when LDN did close to nothing
    counts = Counter(a.verdict for a in answers)
    assert counts["cannot_tell"] > 0  # the data cannot always tell, and it says so


def test_null_scenario_rarely_says_helped():
    trial = simulate_trial("nof1", n=120, seed=32, scenario="null")
    answers = [answer_for_participant(trial, p) for p in trial.participants["participant_id"]]
    helped = sum(a.verdict == "likely_helped" for a in answers)
    assert helped / len(answers) < 0.03


def test_paragraph_gives_the_numbers_and_the_caveat(series):
    _, answers = series
    text = answers[0].paragraph
    assert "95 % interval" in text and "not a prescription" in text and "doctor" in text


def test_too_few_days_says_we_cannot_tell():
    trial = simulate_trial("nof1", n=1, seed=3)
    short = trial.with_tables(diary=trial.diary[trial.diary["study_day"] <= 50])
    answer = answer_for_participant(short, "P00001")
    assert answer.verdict == "cannot_tell"
    assert "cannot tell yet" in answer.paragraph


def test_unknown_participant_is_refused(small_trial):
    with pytest.raises(AnalysisError, match="no participant 'nobody'"):
        answer_for_participant(small_trial, "nobody")


def test_pooling_recovers_the_population_mean_and_spread():
    rng = np.random.default_rng(4)
    true = rng.normal(-6.0, 4.0, 400)
    se = rng.uniform(2, 5, 400)
    pooled = pool_nof1(true + rng.normal(0, se), se)
    assert pooled.term("population mean")["estimate"] == pytest.approx(-6.0, abs=0.6)
    assert pooled.term("tau")["estimate"] == pytest.approx(4.0, abs=0.6)
    # Share whose true effect is at least 10 points better: Phi((-10 + 6) / 4) = 0.159.
    assert pooled.values["share_benefiting"] == pytest.approx(0.159, abs=0.05)


def test_pooling_without_heterogeneity_is_the_inverse_variance_mean():
    d = np.array([-2.0, -4.0, -3.0])
    se = np.array([1.0, 1.0, 1.0])
    pooled = pool_nof1(d, se)
    assert pooled.term("tau")["estimate"] == 0.0
    assert pooled.term("population mean")["estimate"] == pytest.approx(-3.0)
    assert pooled.term("population mean")["std_error"] == pytest.approx(1 / np.sqrt(3))


def test_pooled_interval_is_hartung_knapp_by_hand():
    d = np.array([-9.0, -1.0, -6.0, 2.0, -4.0])
    se = np.array([2.0, 3.0, 2.5, 4.0, 3.0])
    pooled = pool_nof1(d, se)
    tau2 = pooled.term("tau")["estimate"] ** 2
    w = 1 / (se**2 + tau2)
    mu = np.sum(w * d) / np.sum(w)
    q = np.sum(w * (d - mu) ** 2) / 4
    half = stats.t.ppf(0.975, 4) * np.sqrt(max(q, 1) / np.sum(w))
    row = pooled.term("population mean")
    assert row["estimate"] == pytest.approx(mu)
    assert (row["ci_lower"], row["ci_upper"]) == pytest.approx((mu - half, mu + half))


def test_pooled_interval_covers_the_population_mean_with_ten_patients():
    """2,000 series of 10 patients whose true effects spread with SD 3 around -5: the
    interval covers -5 in about 95 % (binomial SE 0.5 points); a normal interval with
    REML tau covers less often."""
    rng = np.random.default_rng(10)
    covered = normal = 0
    for _ in range(2000):
        se = rng.uniform(2, 5, 10)
        d = rng.normal(-5.0, 3.0, 10) + rng.normal(0, se)
        row = pool_nof1(d, se).term("population mean")
        covered += row["ci_lower"] <= -5.0 <= row["ci_upper"]
        z_half = 1.96 * np.sqrt(
            np.sum(1 / (se**2 + pool_nof1(d, se).term("tau")["estimate"] ** 2)) ** -1
        )
        normal += abs(row["estimate"] + 5.0) <= z_half
    assert 0.935 <= covered / 2000 <= 0.975
    assert normal / 2000 < covered / 2000 - 0.01  # 93.7 % against 95.x %
