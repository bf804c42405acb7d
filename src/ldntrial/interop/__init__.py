"""Getting trial data in and out, de-identified unless asked otherwise (no Django here).

Exports (:func:`export_trial`): CSV and Parquet bundles, Stata, SPSS and SAS
files, a REDCap project, a FHIR R4 Bundle and CDISC ODM 1.3.2, each with a
data dictionary. Imports: a REDCap project (:func:`read_redcap`) and
laboratory files (:func:`read_lab_file`). The names below are imported on
first use: :mod:`ldntrial.interop.formats` alone must not load the writers.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ldntrial.lazy_exports import lazy_exports

if TYPE_CHECKING:
    from ldntrial.interop.deidentify import Deidentified, deidentify
    from ldntrial.interop.dictionary import data_dictionary
    from ldntrial.interop.export import Export, export_trial
    from ldntrial.interop.formats import EXPORT_FORMATS
    from ldntrial.interop.lab_files import LabFile, read_lab_file
    from ldntrial.interop.redcap import RedcapImport, read_redcap, read_redcap_files

__all__ = [
    "EXPORT_FORMATS",
    "Deidentified",
    "Export",
    "LabFile",
    "RedcapImport",
    "data_dictionary",
    "deidentify",
    "export_trial",
    "read_lab_file",
    "read_redcap",
    "read_redcap_files",
]

__getattr__, __dir__ = lazy_exports(
    __name__,
    {
        "EXPORT_FORMATS": "ldntrial.interop.formats",
        "Deidentified": "ldntrial.interop.deidentify",
        "deidentify": "ldntrial.interop.deidentify",
        "data_dictionary": "ldntrial.interop.dictionary",
        "Export": "ldntrial.interop.export",
        "export_trial": "ldntrial.interop.export",
        "LabFile": "ldntrial.interop.lab_files",
        "read_lab_file": "ldntrial.interop.lab_files",
        "RedcapImport": "ldntrial.interop.redcap",
        "read_redcap": "ldntrial.interop.redcap",
        "read_redcap_files": "ldntrial.interop.redcap",
    },
)
