"""Small named fixtures shared by the whole suite."""

from __future__ import annotations

import pytest

from ldntrial.data import TrialData
from ldntrial.protocol.loader import builtin_protocol_text, load_protocol
from ldntrial.protocol.model import Protocol
from ldntrial.simulate import simulate_trial


@pytest.fixture
def crossover_protocol() -> Protocol:
    return load_protocol("crossover-2013")


@pytest.fixture
def crossover_text() -> str:
    return builtin_protocol_text("crossover-2013")


@pytest.fixture(scope="session")
def small_trial() -> TrialData:
    """Twelve simulated participants of the 2013 crossover, always the same."""
    return simulate_trial("crossover-2013", n=12, seed=7)
