"""The simulator's expected diaries: the mean of what it records, without drawing noise."""

import numpy as np
import pytest

from ldntrial.simulate import expected_diary, simulate_trial
from ldntrial.simulate.outcomes import expected_ratings
from ldntrial.simulate.scenarios import SCENARIOS


def test_expected_ratings_are_the_mean_of_rounded_clipped_normal_ratings():
    scenario = SCENARIOS["stanford"]
    level = np.array([4.0, 62.0, 97.0])
    improvement = np.array([[0.0, 0.3]])
    rng = np.random.default_rng(4)
    draws = np.clip(
        np.rint(
            level[:, None, None] * (1 - improvement[0])[None, :, None]
            + rng.normal(0, 11, (3, 2, 400_000))
        ),
        0,
        100,
    ).mean(axis=2)
    expected = expected_ratings(level, improvement, scenario, higher_is_better=False)
    # Near the ends of the scale the clipping moves the mean by points, not hundredths.
    assert expected[0, 0] > 4.0 + 1.5 and expected[2, 0] < 97.0 - 1.5
    np.testing.assert_allclose(expected, draws, atol=0.05)
    flipped = expected_ratings(level, improvement, scenario, higher_is_better=True)
    np.testing.assert_allclose(flipped, 100 - expected)


def test_expected_diary_is_the_mean_of_simulated_diaries_of_the_same_women():
    """Same seed, same women and allocation: the simulated diary's day means sit within
    4 standard errors of the expected ones on every day."""
    n = 3000
    expected = expected_diary("crossover-2013", n=n, seed=7, scenario="stanford", items=["pain"])
    trial = simulate_trial(
        "crossover-2013",
        n=n,
        seed=7,
        scenario="stanford",
        overrides={"missing_day_rate": 0.0, "dropout_rate": 0.0},
        tables=("participants", "diary"),
    )
    assert list(trial.participants["sequence"]) == list(expected.sequence)
    diary = trial.diary[trial.diary["item"] == "pain"]
    for sequence in expected.plans:
        mine = expected.sequence == sequence
        table = diary[diary["participant_id"].isin(trial.participants["participant_id"][mine])]
        observed = table.pivot(index="participant_id", columns="study_day", values="value")
        means = expected.ratings[sequence]["pain"][mine]
        difference = observed.to_numpy() - means
        # Noise is AR(1) with SD 11 around each woman's own expected rating.
        z = difference.mean(axis=0) / (11 / np.sqrt(mine.sum()))
        assert np.abs(z).max() < 4.5, (sequence, np.abs(z).max())
        assert abs(difference.mean()) < 0.2
    assert sum(expected.shares.values()) == pytest.approx(1.0)


def test_expected_diary_refuses_an_up_and_down_design():
    from ldntrial.errors import SimulationError

    with pytest.raises(SimulationError, match="up-and-down"):
        expected_diary("dose-finding-2020", n=5, seed=1)
