"""Virtual trials: simulate a protocol before the study to see what it can tell."""

from ldntrial.simulate.engine import (
    ExpectedDiary,
    expected_diary,
    simulate_diaries,
    simulate_trial,
)
from ldntrial.simulate.scenarios import SCENARIOS, Scenario, get_scenario

__all__ = [
    "SCENARIOS",
    "ExpectedDiary",
    "Scenario",
    "expected_diary",
    "get_scenario",
    "simulate_diaries",
    "simulate_trial",
]
