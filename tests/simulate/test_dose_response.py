"""The simulator's dose-finding truth: half of women respond at the published ED50."""

import pytest

from ldntrial.errors import SimulationError
from ldntrial.protocol.loader import load_protocol
from ldntrial.simulate import get_scenario, simulate_trial
from ldntrial.simulate.dose_response import (
    calibrated_for_up_and_down,
    response_rates,
    true_effective_doses,
)

PROTOCOL = load_protocol("dose-finding-2020")


def _stanford():
    return calibrated_for_up_and_down(PROTOCOL, get_scenario("stanford").for_protocol(PROTOCOL.id))


def test_half_respond_at_3_88_mg_and_95_percent_at_5_40_mg() -> None:
    """Bruun-Plesner 2020's ED50 and ED95, reproduced by women simulated through their diaries."""
    rates = response_rates(PROTOCOL, _stanford(), [3.88, 5.40])
    assert rates[0] == pytest.approx(0.50, abs=0.01)
    assert rates[1] == pytest.approx(0.95, abs=0.01)
    doses = true_effective_doses(PROTOCOL, _stanford())
    assert doses[0.5] == pytest.approx(3.88, abs=0.02)
    assert doses[0.95] == pytest.approx(5.40, abs=0.02)


def test_with_no_ldn_effect_only_placebo_responders_remain_and_no_dose_reaches_half() -> None:
    null = get_scenario("null")
    assert calibrated_for_up_and_down(PROTOCOL, null) is null  # nothing to calibrate
    rates = response_rates(PROTOCOL, null, [0.75, 6.0])
    assert rates[0] == pytest.approx(rates[1])
    assert 0.08 < rates[0] < 0.25  # the placebo response and day-to-day noise
    assert true_effective_doses(PROTOCOL, null) == {0.5: None, 0.95: None}


def test_the_response_doses_are_the_parameter_a_user_changes() -> None:
    trial = simulate_trial(PROTOCOL, n=5, seed=1, overrides={"response_ed50_mg": 3.0})
    assert trial.truth["effective_doses_mg"]["ED50"] == pytest.approx(3.0, abs=0.02)
    with pytest.raises(SimulationError, match="response_ed95_mg must be above"):
        simulate_trial(PROTOCOL, n=5, seed=1, overrides={"response_ed95_mg": 3.0})
    with pytest.raises(SimulationError, match="given together"):
        simulate_trial(PROTOCOL, n=5, seed=1, overrides={"response_ed95_mg": None})
    with pytest.raises(SimulationError, match="placebo_response"):
        simulate_trial(PROTOCOL, n=5, seed=1, overrides={"placebo_response": 0.6})
