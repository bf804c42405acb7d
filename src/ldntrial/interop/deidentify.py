"""A de-identified TrialData: pseudonymous ids, shifted dates, ages top-coded, no free text.

What an export holds unless an authorised user asks for the identified data
(standards.md §2):

- participant ids become pseudonyms from an HMAC of the code under a key
  for this study (PRV-4, PRV-12): stable across exports of one study, unlike
  between studies, and not derivable without the key;
- site codes become ``site 1``, ``site 2``... (no place names: PRV-1 (2));
- every date and instant of a participant moves back by her own offset of 1
  to 364 days, also from the HMAC, so intervals within her record are real
  and calendar dates are not (PRV-7); study days are unchanged;
- ages of 90 and over are given as 90, one category "90 or over" (PRV-3);
- adverse-event terms outside the protocol's coded side-effect list are
  free text and are withheld (PRV-5); columns outside the data contract are
  dropped, as they could hold anything (PRV-14); a simulation's truth is
  dropped.

Shifted dates keep day and month detail, so the policy this module reports
calls the result de-identified with shifted dates, not "Safe Harbor"
(PRV-8); :func:`deidentify` returns that policy for the export's manifest,
without the key (PRV-9).
"""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from ldntrial.data.tables import TABLES
from ldntrial.data.trialdata import TrialData
from ldntrial.errors import ExportError

__all__ = [
    "AGE_TOP_CODE",
    "MAX_SHIFT_DAYS",
    "WITHHELD_TERM",
    "Deidentified",
    "date_shift_days",
    "deidentify",
    "pseudonym",
]

AGE_TOP_CODE = 90
MAX_SHIFT_DAYS = 364
WITHHELD_TERM = "other (free text withheld)"
MIN_KEY_BYTES = 16

# Dated columns of each table, and whether each holds a date or an instant.
_DATED = {
    name: [column.name for column in columns if column.kind in ("date", "instant")]
    for name, columns in TABLES.items()
}


@dataclass(frozen=True)
class Deidentified:
    """The de-identified data and what was done to it (for the manifest; the key is not in it)."""

    trial: TrialData
    policy: dict[str, Any]


def deidentify(trial: TrialData, *, key: bytes, study: str) -> Deidentified:
    """The data of ``trial`` with nothing that identifies a participant (see the module doc).

    ``key`` is the site's export secret (at least 16 bytes, kept outside the
    database); ``study`` names the study, so the same key gives each study
    its own pseudonyms and offsets.
    """
    if len(key) < MIN_KEY_BYTES:
        raise ExportError(f"export key: must be at least {MIN_KEY_BYTES} bytes")
    if not study.strip():
        raise ExportError("study: a de-identified export needs the study's name")
    study_key = hmac.new(key, f"ldntrial-export:{study}".encode(), hashlib.sha256).digest()
    codes = trial.participants["participant_id"].astype("str")
    pseudonyms = {code: pseudonym(study_key, code) for code in codes}
    if len(set(pseudonyms.values())) != len(pseudonyms):
        raise ExportError("two participants got the same pseudonym; use another export key")
    shifts = {code: date_shift_days(study_key, code) for code in codes}
    sites = _site_labels(study_key, trial.participants["site"].astype("str"))
    side_effects = set(trial.protocol.diary.side_effects)

    tables = {}
    for name, table in trial.tables().items():
        table = table[[column.name for column in TABLES[name]]].copy()
        offsets = pd.to_timedelta(
            table["participant_id"].astype("str").map(shifts).astype("int64"), unit="D"
        )
        for column in _DATED[name]:
            table[column] = table[column] - offsets.to_numpy()
        table["participant_id"] = table["participant_id"].astype("str").map(pseudonyms)
        tables[name] = table
    participants = tables["participants"]
    participants["site"] = participants["site"].astype("str").map(sites)
    participants["age"] = np.minimum(participants["age"], AGE_TOP_CODE)
    events = tables["adverse_events"]
    events["term"] = events["term"].where(events["term"].isin(side_effects), WITHHELD_TERM)

    result = TrialData.from_tables(trial.protocol, blinded=trial.blinded, truth=None, **tables)
    policy = {
        "deidentified": True,
        "participant_ids": "pseudonyms: HMAC-SHA-256 of the study code under the study's "
        "export key (stable for this study and key)",
        "sites": "site 1, site 2, ... in an order from the same key",
        "dates": f"each participant's dates and times moved back by her own 1 to "
        f"{MAX_SHIFT_DAYS} days (from the same key): intervals are real, calendar dates "
        "are not; study days are unchanged",
        "ages": f"{AGE_TOP_CODE} means {AGE_TOP_CODE} or over",
        "free_text": f"adverse-event terms outside the protocol's side-effect list read "
        f"{WITHHELD_TERM!r}",
        "standard": "HIPAA Safe Harbor identifiers removed, except that shifted dates keep "
        "day and month: not Safe Harbor (standards.md PRV-8)",
        "blinded": trial.blinded,
    }
    return Deidentified(result, policy)


def pseudonym(study_key: bytes, code: str) -> str:
    """``P-`` and 12 hex digits of an HMAC of ``code``: 48 bits, no collision in practice."""
    digest = hmac.new(study_key, f"id:{code}".encode(), hashlib.sha256).hexdigest()
    return f"P-{digest[:12].upper()}"


def date_shift_days(study_key: bytes, code: str) -> int:
    """Her offset: 1 to ``MAX_SHIFT_DAYS`` days back, the same in every export of the study."""
    digest = hmac.new(study_key, f"shift:{code}".encode(), hashlib.sha256).digest()
    return int.from_bytes(digest[:8], "big") % MAX_SHIFT_DAYS + 1


def _site_labels(study_key: bytes, sites: pd.Series) -> dict[str, str]:
    def order(site: str) -> bytes:
        return hmac.new(study_key, f"site:{site}".encode(), hashlib.sha256).digest()

    return {site: f"site {n}" for n, site in enumerate(sorted(set(sites), key=order), start=1)}
