"""ldntrial: run and analyse blinded, placebo-controlled trials of low-dose naltrexone.

The core is plain Python (no Django): protocols and schedules
(:mod:`ldntrial.protocol`), the TrialData contract and bundles
(:mod:`ldntrial.data`), virtual trials (:mod:`ldntrial.simulate`) and
the analyses (:mod:`ldntrial.stats`). The most used entry points are
re-exported here, imported on first use so that ``import ldntrial.protocol``
and the command line's ``--help`` load neither SciPy nor statsmodels.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ldntrial.lazy_exports import lazy_exports
from ldntrial.version import __version__

if TYPE_CHECKING:
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

__getattr__, __dir__ = lazy_exports(
    __name__,
    {
        "TrialData": "ldntrial.data",
        "load_bundle": "ldntrial.data",
        "save_bundle": "ldntrial.data",
        "build_schedule": "ldntrial.protocol",
        "load_protocol": "ldntrial.protocol",
        "simulate_trial": "ldntrial.simulate",
        "analyze": "ldntrial.stats",
    },
)
