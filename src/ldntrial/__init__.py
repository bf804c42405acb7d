"""ldntrial: run and analyse blinded, placebo-controlled trials of low-dose naltrexone.

The core is plain Python (no Django): protocols and schedules
(:mod:`ldntrial.protocol`), the TrialData contract and bundles
(:mod:`ldntrial.data`), virtual trials (:mod:`ldntrial.simulate`) and
the analyses (:mod:`ldntrial.stats`). The most used entry points are
re-exported here.
"""

__version__ = "0.1.0"

from ldntrial.data import TrialData, load_bundle, save_bundle
from ldntrial.protocol import build_schedule, load_protocol
from ldntrial.simulate import simulate_trial
from ldntrial.stats import analyze

__all__ = [
    "TrialData",
    "__version__",
    "analyze",
    "build_schedule",
    "load_bundle",
    "load_protocol",
    "save_bundle",
    "simulate_trial",
]
