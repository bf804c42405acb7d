"""A staff export: the study's data as she may see them, in a format, as one zip file.

What she gets follows her access, never the form alone: only the
participants of the sites where she may export; blinded unless she is the
statistician and has unblinded the locked snapshot (BLD-1); de-identified
unless she asked for real codes and dates and may have them (PRV-1). The
pseudonyms and date offsets come from the site's export key
(``LDNTRIAL_EXPORT_KEY``) and the study's code, so they are the same in
every export of the study. An identified ODM export by a role that may read
the audit trail carries the study's trail as ODM AuditRecords (INT-O4).
Each export is recorded in the audit trail (AUD-11).
"""

from __future__ import annotations

import csv
import io
import tempfile
import zipfile
from pathlib import Path

from django.conf import settings

from ldntrial.data.trialdata import TrialData
from ldntrial.interop.export import export_trial
from ldntrial.interop.odm import AuditNote
from ldntrial.web.analysis.locking import locked_snapshot
from ldntrial.web.analysis.models import DatabaseLock
from ldntrial.web.analysis.snapshot import trial_data_from_database
from ldntrial.web.audit.chain import record_event
from ldntrial.web.audit.models import Action
from ldntrial.web.audit.tracking import actor_for
from ldntrial.web.studies.access import Access
from ldntrial.web.studies.audit_trail import study_entries
from ldntrial.web.studies.roles import Permission
from ldntrial.web.trial.amendments import versions_of_the_data
from ldntrial.web.trial.models import Participant

__all__ = ["export_archive"]


def export_archive(access: Access, user, *, format: str, identified: bool) -> bytes:
    """The zipped export of ``access.study`` for ``user`` (who holds ``access``)."""
    if identified and not access.can(Permission.EXPORT_IDENTIFIED):
        identified = False  # the form offers it only to those who may; never trust it
    trial, blinded = _visible_data(access)
    with_trail = format == "odm" and identified and access.can(Permission.VIEW_AUDIT)
    audit = [
        AuditNote(e.actor, e.at, e.action, e.record, e.reason)
        for e in (study_entries(access.study) if with_trail else ())
    ]
    with tempfile.TemporaryDirectory(prefix="ldntrial-export-") as folder:
        done = export_trial(
            trial,
            Path(folder) / "export",
            format=format,
            study=access.study.code,
            key=settings.LDNTRIAL_EXPORT_KEY.encode(),
            identified=identified,
            audit=audit,
        )
        archive = io.BytesIO()
        with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as zipped:
            for path in sorted(done.path.iterdir()):
                zipped.write(path, path.name)
            zipped.writestr("protocol-versions.csv", _versions_csv(access))
    kind = f"{format}, {'identified' if identified else 'de-identified'}, "
    record_event(
        actor=actor_for(user),
        action=Action.EXPORT,
        about=access.study,
        changes={"export": [None, kind + ("blinded" if blinded else "unblinded")]},
    )
    return archive.getvalue()


def _visible_data(access: Access) -> tuple[TrialData, bool]:
    """Her sites' data, and whether it is blinded (always, but for the unblinded statistician)."""
    lock = DatabaseLock.objects.filter(study=access.study).first()
    if lock is not None and lock.unblinded and access.can(Permission.ANALYSE_LOCKED):
        trial, blinded = locked_snapshot(lock), False
    else:
        trial = trial_data_from_database(access.study).blinded_view()
        blinded = True
    sites = {site.code for site in access.sites(Permission.EXPORT_DATA)}
    if set(trial.participants["site"]) <= sites:
        return trial, blinded
    kept = trial.participants[trial.participants["site"].isin(sites)]
    ids = set(kept["participant_id"])
    tables = {
        name: table[table["participant_id"].astype("str").isin(ids)]
        for name, table in trial.tables().items()
    }
    return trial.with_tables(**tables), blinded


def _versions_csv(access: Access) -> str:
    """Which protocol versions the exported data came from (women enrolled under each)."""
    people = Participant.objects.filter(
        study=access.study, site__in=access.sites(Permission.EXPORT_DATA)
    )
    rows = versions_of_the_data(access.study, people)
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=list(rows[0]))
    writer.writeheader()
    writer.writerows(rows)
    return buffer.getvalue()
