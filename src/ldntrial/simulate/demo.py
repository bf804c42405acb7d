"""The demo's trial: the 2013 crossover simulated with 31 women, as `ldntrial demo` shows it.

One definition for the report the demo writes and the locked study it
builds, so the two show the same women and the same numbers. It started in
January 2025, so every woman has finished by the time the demo is built.
"""

from __future__ import annotations

from datetime import date

from ldntrial.data.trialdata import TrialData
from ldntrial.simulate.engine import simulate_trial

__all__ = ["DEMO_TRIAL_SEED", "DEMO_TRIAL_WOMEN", "demo_trial"]

DEMO_TRIAL_SEED = 2013
DEMO_TRIAL_WOMEN = 31  # as many as the 2013 trial analysed
DEMO_TRIAL_START = date(2025, 1, 6)


def demo_trial() -> TrialData:
    """The simulated 2013 crossover of the demo (scenario 'stanford')."""
    return simulate_trial(
        "crossover-2013", n=DEMO_TRIAL_WOMEN, seed=DEMO_TRIAL_SEED, start_date=DEMO_TRIAL_START
    )
