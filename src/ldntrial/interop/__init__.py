"""Getting trial data in and out: laboratory files; exports, de-identified by default.

Exports: CSV and Parquet bundles, Stata, SPSS and SAS files, each with a data
dictionary. FHIR, ODM and REDCap exports and the REDCap import are still to
come (issue 6).
"""

from ldntrial.interop.deidentify import Deidentified, deidentify
from ldntrial.interop.dictionary import data_dictionary
from ldntrial.interop.export import EXPORT_FORMATS, Export, export_trial
from ldntrial.interop.lab_files import LabFile, read_lab_file

__all__ = [
    "EXPORT_FORMATS",
    "Deidentified",
    "Export",
    "LabFile",
    "data_dictionary",
    "deidentify",
    "export_trial",
    "read_lab_file",
]
