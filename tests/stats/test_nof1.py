"""The patient's answer and the pooled series, against the simulator's known truth."""

from __future__ import annotations

from collections import Counter

import numpy as np
import pytest

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
