"""Exports of a TrialData for analysts and registries, de-identified unless asked otherwise.

Every export is a folder with ``data_dictionary.csv`` (column, type, unit,
allowed values, description), the protocol, and ``export.json`` (what was
exported, how it was de-identified, the SHA-256 of every file). ``csv`` and
``parquet`` write the tidy tables, one file each, as a trial bundle (so
``ldntrial analyze`` and :func:`~ldntrial.data.bundle.load_bundle` read it
back); ``stata``, ``spss`` and ``sas`` write one labelled file per table
(:mod:`ldntrial.interop.stats_files`); ``redcap`` writes a REDCap project's
data dictionary, records and events (:mod:`ldntrial.interop.redcap`);
``fhir`` one FHIR R4 Bundle (:mod:`ldntrial.interop.fhir`); ``odm`` one
CDISC ODM 1.3.2 file (:mod:`ldntrial.interop.odm`). Who may ask for an identified
export is the caller's decision (the web site's permission, the command
line's explicit ``--identified``); a blinded TrialData is exported blinded.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ldntrial.data.blinding import BLINDED_VIEW_NOTE
from ldntrial.data.bundle import save_bundle
from ldntrial.data.trialdata import TrialData
from ldntrial.errors import ExportError
from ldntrial.interop.deidentify import deidentify
from ldntrial.interop.dictionary import data_dictionary
from ldntrial.interop.fhir import write_fhir
from ldntrial.interop.formats import BUNDLE_FORMATS, EXPORT_FORMATS
from ldntrial.interop.odm import AuditNote, write_odm
from ldntrial.interop.redcap import write_redcap
from ldntrial.interop.stats_files import write_stats_files
from ldntrial.protocol.loader import protocol_to_toml
from ldntrial.version import __version__

__all__ = [
    "BUNDLE_FORMATS",
    "DICTIONARY_FILE",
    "EXPORT_FILE",
    "EXPORT_FORMATS",
    "Export",
    "export_trial",
]

DICTIONARY_FILE = "data_dictionary.csv"
EXPORT_FILE = "export.json"
PROTOCOL_FILE = "protocol.toml"


@dataclass(frozen=True)
class Export:
    """Where an export was written and what it says about itself (``export.json``)."""

    path: Path
    description: dict[str, Any]


def export_trial(
    trial: TrialData,
    out: str | Path,
    *,
    format: str,
    study: str,
    key: bytes | None = None,
    identified: bool = False,
    overwrite: bool = False,
    audit: Sequence[AuditNote] = (),
) -> Export:
    """Write ``trial`` to the folder ``out`` in ``format``; de-identified with ``key`` unless
    ``identified``. ``audit`` (an identified ODM export only) goes in as its AuditRecords.
    The folder appears whole or not at all."""
    if format not in EXPORT_FORMATS:
        raise ExportError(f"format: must be one of {', '.join(EXPORT_FORMATS)}, got {format!r}")
    if audit and (format != "odm" or not identified):
        raise ExportError("audit: only an identified ODM export carries the audit trail")
    target = Path(out)
    if target.exists() and not overwrite:
        raise ExportError(f"{target}: already exists; choose another folder or --overwrite")
    if identified:
        data, policy = trial, {"deidentified": False, "blinded": trial.blinded}
    elif key is None:
        raise ExportError(
            "export key: a de-identified export needs the site's export secret "
            "(LDNTRIAL_EXPORT_KEY, at least 16 characters); an identified one needs "
            "--identified"
        )
    else:
        done = deidentify(trial, key=key, study=study)
        data, policy = done.trial, done.policy
    target.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{target.name}-", dir=target.parent))
    try:
        folder = staging / "export"
        dictionary = data_dictionary(data, deidentified=not identified)
        if format in BUNDLE_FORMATS:
            save_bundle(data, folder, format=format)
        else:
            folder.mkdir()
            (folder / PROTOCOL_FILE).write_text(protocol_to_toml(data.protocol), encoding="utf-8")
            if format == "redcap":
                write_redcap(data, folder)
            elif format == "fhir":
                write_fhir(data, folder)
            elif format == "odm":
                write_odm(data, folder, audit=audit)
            else:
                write_stats_files(data, folder, format, dictionary)
        dictionary.to_csv(folder / DICTIONARY_FILE, index=False)
        description = {
            "format": format,
            "study": study,
            "ldntrial_version": __version__,
            "protocol": trial.protocol.id,
            "participants": len(data.participants),
            "deidentification": policy,
            "audit_records": len(audit),
            **({"blinded_view": BLINDED_VIEW_NOTE} if data.blinded else {}),
            "sha256": {
                path.name: hashlib.sha256(path.read_bytes()).hexdigest()
                for path in sorted(folder.iterdir())
            },
        }
        text = json.dumps(description, indent=2, sort_keys=True)
        (folder / EXPORT_FILE).write_text(text + "\n", encoding="utf-8")
        if target.exists():
            shutil.rmtree(target)
        folder.rename(target)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return Export(target, description)
