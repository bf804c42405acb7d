"""The names of the export formats and of a REDCap project's files.

Kept apart from the writers so that the command line can name them in its
help without importing pandas, pyreadstat or the FHIR models.
"""

__all__ = ["BUNDLE_FORMATS", "EXPORT_FORMATS", "REDCAP_FILES", "STATS_FORMATS"]

BUNDLE_FORMATS = ("csv", "parquet")
STATS_FORMATS = {"stata": ".dta", "spss": ".sav", "sas": ".xpt"}
EXPORT_FORMATS = (*BUNDLE_FORMATS, *STATS_FORMATS, "redcap", "fhir", "odm")
REDCAP_FILES = {
    "dictionary": "redcap_data_dictionary.csv",
    "records": "redcap_records.csv",
    "events": "redcap_events.csv",
    "designations": "redcap_instrument_designations.csv",
    "repeating": "redcap_repeating_instruments.csv",
}
