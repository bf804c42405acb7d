"""The record-status grid: every participant's visits at a glance, with a participant search.

A page at a time (:data:`PARTICIPANTS_PER_PAGE`), so a study of thousands costs one page.
"""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render

from ldntrial.web.staff.views.common import study_access
from ldntrial.web.studies.roles import Permission
from ldntrial.web.trial.dates import local_today
from ldntrial.web.trial.models import Participant
from ldntrial.web.trial.record_status import record_grid

PARTICIPANTS_PER_PAGE = 100
"""Rows of the grid per page, in code order: a search (``q``) narrows the pages too."""


@login_required
def records(request: HttpRequest, code: str) -> HttpResponse:
    access = study_access(request, code, Permission.VIEW_PARTICIPANTS)
    people = Participant.objects.filter(
        study=access.study, site__in=access.sites(Permission.VIEW_PARTICIPANTS)
    ).order_by("code")
    query = request.GET.get("q", "").strip()
    if query:
        people = people.filter(code__icontains=query)
        found = list(people[:2])
        if len(found) == 1:  # one match: straight to her page
            return redirect("staff:participant", code=code, participant=found[0].code)
    # A page number that is not one (text, too large) shows the first or the last page.
    page = Paginator(people, PARTICIPANTS_PER_PAGE).get_page(request.GET.get("page"))
    visits, rows = record_grid(access.study, list(page), local_today())
    return render(
        request,
        "staff/records.html",
        {"study": access.study, "visits": visits, "rows": rows, "query": query, "page": page},
    )
