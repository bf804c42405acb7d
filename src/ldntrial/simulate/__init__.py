"""Virtual trials: simulate a protocol before the study to see what it can tell."""

from ldntrial.simulate.engine import simulate_trial
from ldntrial.simulate.scenarios import SCENARIOS, Scenario, get_scenario

__all__ = ["SCENARIOS", "Scenario", "get_scenario", "simulate_trial"]
