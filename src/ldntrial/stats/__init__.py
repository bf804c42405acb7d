"""Statistics on TrialData: the pre-specified analyses, the N-of-1 answer and their results.

:func:`analyze` runs everything the protocol pre-specifies; the pieces are
usable on their own (each returns an :class:`AnalysisResult`).
"""

from ldntrial.protocol.design import Design, classify_design
from ldntrial.stats.analyze import TrialAnalysis, analyze
from ldntrial.stats.daily_model import fit_daily_model
from ldntrial.stats.endpoints import condition_endpoints, summarise_endpoints
from ldntrial.stats.mixed import fit_mixed_model
from ldntrial.stats.nof1 import Nof1Spec, answer_for_participant, pool_nof1
from ldntrial.stats.primary import analyse_endpoint
from ldntrial.stats.responders import classify_responders
from ldntrial.stats.results import AnalysisResult

__all__ = [
    "AnalysisResult",
    "Design",
    "Nof1Spec",
    "TrialAnalysis",
    "analyse_endpoint",
    "analyze",
    "answer_for_participant",
    "classify_design",
    "classify_responders",
    "condition_endpoints",
    "fit_daily_model",
    "fit_mixed_model",
    "pool_nof1",
    "summarise_endpoints",
]
