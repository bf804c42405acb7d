"""ldntrial: run and analyse blinded, placebo-controlled trials of low-dose naltrexone.

The core is plain Python (no Django): protocols and schedules
(:mod:`ldntrial.protocol`), the TrialData contract and bundles
(:mod:`ldntrial.data`), virtual trials (:mod:`ldntrial.simulate`) and
endpoints (:mod:`ldntrial.stats`).
"""

__version__ = "0.1.0"
