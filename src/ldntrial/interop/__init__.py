"""Getting trial data in and out, de-identified unless asked otherwise (no Django here).

Exports (:func:`export_trial`): CSV and Parquet bundles, Stata, SPSS and SAS
files, a REDCap project, a FHIR R4 Bundle and CDISC ODM 1.3.2, each with a
data dictionary. Imports: a REDCap project (:func:`read_redcap`) and
laboratory files (:func:`read_lab_file`).
"""

from ldntrial.interop.deidentify import Deidentified, deidentify
from ldntrial.interop.dictionary import data_dictionary
from ldntrial.interop.export import EXPORT_FORMATS, Export, export_trial
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
