"""Ending a participant's study from her page: she completes it, or withdraws with a reason.

Both need the enrolling permission (investigator, coordinator): whoever may
enrol her may record how her participation ends. Each confirms what it did.
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.views.decorators.http import require_POST

from ldntrial.web.audit.tracking import actor_for
from ldntrial.web.form_errors import show_errors
from ldntrial.web.staff.forms import CompleteForm, WithdrawForm
from ldntrial.web.staff.views.common import participant_for, refused_on_her_page
from ldntrial.web.studies.roles import Permission
from ldntrial.web.trial.status import complete_participant, withdraw_participant


@login_required
@require_POST
def participant_withdraw(request: HttpRequest, code: str, participant: str) -> HttpResponse:
    access, person = participant_for(request, code, participant, Permission.ENROL)
    form = WithdrawForm(request.POST)
    if form.is_valid():
        try:
            withdraw_participant(person, **form.cleaned_data, actor=actor_for(request.user))
        except ValidationError as error:
            show_errors(form, error)
        else:
            messages.success(
                request,
                f"{person.code} withdrew on {person.withdrawn_on:%Y-%m-%d} "
                f"({person.get_withdrawal_reason_display()}). Her diary is closed; "
                f"what may still be collected: {person.get_after_withdrawal_display()}.",
            )
            return redirect("staff:participant", code=code, participant=person.code)
    return refused_on_her_page(request, access, person, withdraw_form=form)


@login_required
@require_POST
def participant_complete(request: HttpRequest, code: str, participant: str) -> HttpResponse:
    access, person = participant_for(request, code, participant, Permission.ENROL)
    form = CompleteForm(request.POST)
    if form.is_valid():
        try:
            complete_participant(person, on=form.cleaned_data["on"], actor=actor_for(request.user))
        except ValidationError as error:
            show_errors(form, error)
        else:
            messages.success(
                request,
                f"{person.code} completed the study on {person.completed_on:%Y-%m-%d}. "
                "Her diary is closed.",
            )
            return redirect("staff:participant", code=code, participant=person.code)
    return refused_on_her_page(request, access, person, complete_form=form)
