"""The data contract: TrialData, its tables, and bundles on disk."""

from ldntrial.data.bundle import load_bundle, save_bundle
from ldntrial.data.tables import TABLES, Column, conform
from ldntrial.data.trialdata import TABLE_NAMES, TrialData

__all__ = ["TABLES", "TABLE_NAMES", "Column", "TrialData", "conform", "load_bundle", "save_bundle"]
