"""The database lock (study admin) and the analysis of the locked data (statistician).

Before the statistician unblinds, she can download the blinded snapshot
(conditions and sequences masked) for blind data review; afterwards the
pre-specified results, the trial report and the unblinded bundle. Every
download is recorded in the audit trail (AUD-11), and every page that shows
results says which locked snapshot (SHA-256) they come from.
"""

from __future__ import annotations

import json

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render

from ldntrial.data.archive import bundle_archive
from ldntrial.web.analysis.checklist import lock_checklist
from ldntrial.web.analysis.locking import (
    LOCK_MEANING,
    blinded_snapshot,
    lock_database,
    records_to_freeze,
    unblind_snapshot,
)
from ldntrial.web.analysis.models import DatabaseLock
from ldntrial.web.analysis.snapshot import trial_data_from_database
from ldntrial.web.audit.chain import record_event
from ldntrial.web.audit.models import Action
from ldntrial.web.audit.tracking import actor_for
from ldntrial.web.form_errors import show_errors
from ldntrial.web.headers import REPORT_POLICY
from ldntrial.web.staff.forms import LockForm, UnblindSnapshotForm
from ldntrial.web.staff.views.common import study_access
from ldntrial.web.studies.roles import Permission
from ldntrial.web.trial.amendments import versions_of_the_data

# The results shown on the page; the report and the JSON hold every one.
SHOWN = ("primary", "dose_finding", "mixed_model", "responders", "safety", "blinding")


@login_required
def lock(request: HttpRequest, code: str) -> HttpResponse:
    """What the lock will freeze, the signing form, and once signed, the lock's record."""
    access = study_access(request, code, Permission.VIEW_DASHBOARD)
    study = access.study
    form = LockForm(request.POST or None)
    if request.method == "POST":
        if not access.can(Permission.LOCK_DATABASE):
            raise PermissionDenied("your role here does not allow lock_database")
        if form.is_valid():
            try:
                lock_database(study, request.user, **form.cleaned_data)
            except ValidationError as error:
                show_errors(form, error)
            else:
                return redirect("staff:lock", code=code)
    record = DatabaseLock.objects.filter(study=study).select_related("locked_by").first()
    return render(
        request,
        "staff/lock.html",
        {
            "study": study,
            "record": record,
            "meaning": LOCK_MEANING,
            "form": form if access.can(Permission.LOCK_DATABASE) else None,
            "counts": None if record else _counts_for(access),
            "frozen": _shown_to(access, record.rows) if record else None,
            "checklist": None if record else _checklist_for(access),
        },
        status=422 if form.errors else 200,
    )


def _checklist_for(access) -> list:
    """The lock's checklist as her role may read it. Adverse events are named only to roles
    shown them; the study admin who signs sees how many; any other role (the blinded
    rater above all, BLD-9) sees no item that names or counts them."""
    items = lock_checklist(access.study)
    if access.can(Permission.VIEW_SAFETY):
        return items
    if access.can(Permission.LOCK_DATABASE):
        return [item.counted_only() if item.about_adverse_events else item for item in items]
    return [item for item in items if not item.about_adverse_events]


def _single_patient_answer(results: dict | None) -> dict | None:
    """An N-of-1 study of one patient: her answer, which is the whole result for her
    (models across participants mean nothing with one)."""
    if not results or results.get("design") != "nof1":
        return None
    answers = (results.get("nof1") or {}).get("participants") or []
    return answers[0] if len(answers) == 1 else None


def _counts_for(access) -> dict[str, int | str]:
    """What the lock would freeze, as her role may read it."""
    return _shown_to(access, _counts(access.study))


def _shown_to(access, counts: dict[str, int | str]) -> dict[str, int | str]:
    """Record counts without the adverse events for a role not shown them (BLD-9)."""
    if access.can(Permission.VIEW_SAFETY) or access.can(Permission.LOCK_DATABASE):
        return counts
    return {table: rows for table, rows in counts.items() if table != "adverse events"}


def _counts(study) -> dict[str, int | str]:
    """What the lock would freeze, for the admin to check before she signs, or what stops it
    (as ``problem``)."""
    try:
        trial_data_from_database(study)
    except ValidationError as error:
        return {"problem": " ".join(error.messages)}
    return {**records_to_freeze(study)}


@login_required
def analysis(request: HttpRequest, code: str) -> HttpResponse:
    """The statistician's page: the lock, the unblinding form, then the results."""
    access = study_access(request, code, Permission.ANALYSE_LOCKED)
    record = DatabaseLock.objects.filter(study=access.study).select_related("locked_by").first()
    form = UnblindSnapshotForm(request.POST or None)
    if request.method == "POST":
        if record is None:
            raise PermissionDenied("the database is not locked yet")
        if form.is_valid():
            try:
                unblind_snapshot(record, request.user, **form.cleaned_data)
            except ValidationError as error:
                show_errors(form, error)
            else:
                return redirect("staff:analysis", code=code)
    results = record.analysis if record is not None and record.unblinded else None
    answer = _single_patient_answer(results)
    response = render(
        request,
        "staff/analysis.html",
        {
            "study": access.study,
            "record": record,
            "versions": versions_of_the_data(access.study, access.study.participants.all()),
            "form": form,
            "answer": answer,
            "results": []
            if answer is not None
            else [results[key] for key in SHOWN if results is not None and results.get(key)],
        },
        status=422 if form.errors else 200,
    )
    response["Cache-Control"] = "no-store"
    return response


@login_required
def analysis_report(request: HttpRequest, code: str) -> HttpResponse:
    record = _unblinded_lock(request, code)
    if not record.report_html:
        raise Http404("no report: the analyses could not run")
    response = HttpResponse(record.report_html)
    response["Content-Security-Policy"] = REPORT_POLICY
    response["Cache-Control"] = "no-store"
    return response


@login_required
def analysis_download(request: HttpRequest, code: str, what: str) -> HttpResponse:
    """The blinded bundle once locked; the unblinded bundle and results once unblinded."""
    access = study_access(request, code, Permission.ANALYSE_LOCKED)
    if what == "blinded-bundle.zip":
        record = DatabaseLock.objects.filter(study=access.study).first()
        if record is None:
            raise Http404("the database is not locked yet")
        body, kind = bundle_archive(blinded_snapshot(record)), "application/zip"
    else:
        record = _unblinded_lock(request, code)
        if what == "bundle.zip":
            body, kind = bytes(record.bundle), "application/zip"
        elif what == "analysis.json":
            body, kind = json.dumps(record.analysis, indent=2).encode(), "application/json"
        else:
            raise Http404("no such download")
    record_event(
        actor=actor_for(request.user),
        action=Action.EXPORT,
        about=record,
        changes={"export": [None, what]},
    )
    response = HttpResponse(body, content_type=kind)
    response["Content-Disposition"] = f'attachment; filename="{code}-{what}"'
    response["Cache-Control"] = "no-store"
    return response


def _unblinded_lock(request: HttpRequest, code: str) -> DatabaseLock:
    access = study_access(request, code, Permission.ANALYSE_LOCKED)
    record = DatabaseLock.objects.filter(study=access.study).first()
    if record is None or not record.unblinded:
        raise Http404("the locked data are not unblinded yet")
    return record
