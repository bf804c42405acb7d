"""The monitor's view of one study's audit trail, and its CSV export."""

from __future__ import annotations

from django import forms
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import render

from ldntrial.web.audit.chain import record_event
from ldntrial.web.audit.models import Action
from ldntrial.web.audit.tracking import actor_for
from ldntrial.web.staff.views.common import study_access
from ldntrial.web.studies.audit_trail import (
    csv_rows,
    participant_entries,
    person_named,
    record_names,
    study_entries,
)
from ldntrial.web.studies.roles import Permission
from ldntrial.web.trial.models import Participant

AUDIT_PAGE_SIZE = 100


class AuditFilterForm(forms.Form):
    """What the reader narrows the trail to: one participant, one person, dates, a kind."""

    participant = forms.CharField(required=False, max_length=20, label="Participant code")
    user = forms.CharField(required=False, max_length=150, label="Who (user name)")
    since = forms.DateField(
        required=False, label="From", widget=forms.DateInput(attrs={"type": "date"})
    )
    until = forms.DateField(
        required=False, label="To", widget=forms.DateInput(attrs={"type": "date"})
    )
    action = forms.ChoiceField(required=False, choices=[("", "all"), *Action.choices])


@login_required
def audit_list(request: HttpRequest, code: str) -> HttpResponse:
    """The trail, newest first, narrowed by the reader; records named as people read them."""
    access = study_access(request, code, Permission.VIEW_AUDIT)
    form = AuditFilterForm(request.GET or None)
    entries = study_entries(access.study).order_by("-id")
    problem = ""
    if form.is_valid():
        wanted = form.cleaned_data
        if wanted["participant"]:
            person = Participant.objects.filter(
                study=access.study, code=wanted["participant"].strip()
            ).first()
            if person is None:
                problem = f"no participant {wanted['participant']} in {access.study.code}"
                entries = entries.none()
            else:
                entries = participant_entries(access.study, person).order_by("-id")
        if wanted["user"]:
            entries = entries.filter(actor__iendswith=f":{wanted['user'].strip()}")
        if wanted["since"]:
            entries = entries.filter(at__date__gte=wanted["since"])
        if wanted["until"]:
            entries = entries.filter(at__date__lte=wanted["until"])
        if wanted["action"]:
            entries = entries.filter(action=wanted["action"])
    page = Paginator(entries, AUDIT_PAGE_SIZE).get_page(request.GET.get("page"))
    names = record_names([entry.record for entry in page])
    # The changes as (field, [old, new]) pairs: a template reading ``changes.items`` would
    # get a diary entry's own field called "items" instead of the dict's method.
    rows = [
        (entry, person_named(entry.actor), names.get(entry.record, entry.record),
         list(entry.changes.items()))
        for entry in page
    ]  # fmt: skip
    query = request.GET.copy()
    query.pop("page", None)
    return render(
        request,
        "staff/audit.html",
        {
            "study": access.study,
            "page": page,
            "rows": rows,
            "form": form,
            "problem": problem,
            "query": query.urlencode(),
        },
        status=422 if form.errors else 200,
    )


@login_required
def audit_csv(request: HttpRequest, code: str) -> StreamingHttpResponse:
    access = study_access(request, code, Permission.VIEW_AUDIT)
    record_event(
        actor=actor_for(request.user),
        action=Action.EXPORT,
        about=access.study,
        changes={"export": [None, "audit trail (CSV)"]},
    )
    response = StreamingHttpResponse(
        csv_rows(study_entries(access.study)), content_type="text/csv"
    )
    response["Content-Disposition"] = f'attachment; filename="{code}-audit-trail.csv"'
    return response
