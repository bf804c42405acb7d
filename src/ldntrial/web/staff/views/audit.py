"""The monitor's view of one study's audit trail, and its CSV export."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import render

from ldntrial.web.audit.chain import record_event
from ldntrial.web.audit.models import Action
from ldntrial.web.audit.tracking import actor_for
from ldntrial.web.staff.audit_trail import csv_rows, study_entries
from ldntrial.web.staff.views.common import study_access
from ldntrial.web.studies.roles import Permission

AUDIT_PAGE_SIZE = 100


@login_required
def audit_list(request: HttpRequest, code: str) -> HttpResponse:
    access = study_access(request, code, Permission.VIEW_AUDIT)
    entries = study_entries(access.study)
    action = request.GET.get("action", "")
    if action:
        entries = entries.filter(action=action)
    page = Paginator(entries, AUDIT_PAGE_SIZE).get_page(request.GET.get("page"))
    # The changes as (field, [old, new]) pairs: a template reading ``changes.items`` would
    # get a diary entry's own field called "items" instead of the dict's method.
    rows = [(entry, list(entry.changes.items())) for entry in page]
    return render(
        request,
        "staff/audit.html",
        {
            "study": access.study,
            "page": page,
            "rows": rows,
            "action": action,
            "actions": Action.choices,
        },
    )


@login_required
def audit_csv(request: HttpRequest, code: str) -> StreamingHttpResponse:
    access = study_access(request, code, Permission.VIEW_AUDIT)
    record_event(
        actor=actor_for(request.user),
        action=Action.EXPORT,
        record=f"studies.Study:{access.study.pk}",
        changes={"export": [None, "audit trail (CSV)"]},
    )
    response = StreamingHttpResponse(
        csv_rows(study_entries(access.study)), content_type="text/csv"
    )
    response["Content-Disposition"] = f'attachment; filename="{code}-audit-trail.csv"'
    return response
