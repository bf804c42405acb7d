"""Queries, source data verification and the casebook signature, from her page.

Every action confirms what it did and comes back to her page; a refusal
names the field and the rule there (422).
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.views.decorators.http import require_POST

from ldntrial.web.form_errors import show_errors
from ldntrial.web.quality.casebook import casebook_forms
from ldntrial.web.quality.models import DataQuery
from ldntrial.web.quality.queries import answer_query, close_query, raise_query
from ldntrial.web.quality.signing import sign_casebook, verify_form
from ldntrial.web.staff.quality_forms import RaiseQueryForm, SignForm
from ldntrial.web.staff.views.common import participant_for
from ldntrial.web.staff.views.participant_page import her_page
from ldntrial.web.studies.roles import Permission


@login_required
@require_POST
def query_raise(request: HttpRequest, code: str, participant: str) -> HttpResponse:
    access, person = participant_for(request, code, participant, Permission.RAISE_QUERY)
    form = RaiseQueryForm(request.POST, person=person)
    if form.is_valid():
        try:
            raised = raise_query(person, **form.cleaned_data, by=request.user)
        except ValidationError as error:
            show_errors(form, error)
        else:
            messages.success(request, f"Query {raised.pk} raised; the site is asked to answer.")
            return redirect("staff:participant", code=code, participant=person.code)
    return her_page(request, access, person, status=422, query_form=form)


@login_required
@require_POST
def query_step(request: HttpRequest, code: str, participant: str, number: int) -> HttpResponse:
    """Answer a query (the site) or close it (who raises queries)."""
    step = request.POST.get("step")
    needed = Permission.ANSWER_QUERY if step == "answer" else Permission.RAISE_QUERY
    access, person = participant_for(request, code, participant, needed)
    query = get_object_or_404(DataQuery, pk=number, participant=person)
    try:
        if step == "answer":
            answer_query(query, answer=request.POST.get("answer", ""), by=request.user)
            done = f"Query {query.pk} answered; the monitor closes it."
        else:
            close_query(query, by=request.user, note=request.POST.get("note", ""))
            done = f"Query {query.pk} closed."
    except ValidationError as error:
        problem = f"Query {query.pk}: " + "; ".join(
            f"{field}: {' '.join(msgs)}" for field, msgs in error.message_dict.items()
        )
        return her_page(request, access, person, status=422, quality_problem=problem)
    messages.success(request, done)
    return redirect("staff:participant", code=code, participant=person.code)


@login_required
@require_POST
def verify(request: HttpRequest, code: str, participant: str) -> HttpResponse:
    access, person = participant_for(request, code, participant, Permission.VERIFY_SOURCE)
    try:
        verify_form(person, request.POST.get("record", ""), request.user)
    except ValidationError as error:
        return her_page(
            request, access, person, status=422, quality_problem=" ".join(error.messages)
        )
    label = next(f.label for f in casebook_forms(person) if f.record == request.POST["record"])
    messages.success(request, f"Verified against its source: {label}.")
    return redirect("staff:participant", code=code, participant=person.code)


@login_required
@require_POST
def sign(request: HttpRequest, code: str, participant: str) -> HttpResponse:
    access, person = participant_for(request, code, participant, Permission.SIGN_CASEBOOK)
    form = SignForm(request.POST)
    if form.is_valid():
        try:
            sign_casebook(person, request.user, **form.cleaned_data)
        except ValidationError as error:
            show_errors(form, error)
        else:
            messages.success(
                request, f"{person.code}'s casebook is signed; a later change voids the signature."
            )
            return redirect("staff:participant", code=code, participant=person.code)
    return her_page(request, access, person, status=422, sign_form=form)
