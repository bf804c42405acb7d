"""One lab result's page: its value, its history, and its correction with a reason."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render

from ldntrial.web.audit.tracking import actor_for
from ldntrial.web.form_errors import show_errors
from ldntrial.web.staff.views.common import participant_for
from ldntrial.web.studies.audit_trail import history_of
from ldntrial.web.studies.roles import Permission
from ldntrial.web.trial.labs import correct_lab_result


class LabCorrectionForm(forms.Form):
    sampled_on = forms.DateField(
        label="Blood drawn on", widget=forms.DateInput(attrs={"type": "date"})
    )
    value = forms.FloatField()
    reason = forms.CharField(
        label="Why it is corrected", help_text="e.g. the laboratory's amended report"
    )


@login_required
def lab_result(request: HttpRequest, code: str, participant: str, number: int) -> HttpResponse:
    needed = Permission.ENTER_LABS if request.method == "POST" else Permission.VIEW_PARTICIPANTS
    access, person = participant_for(request, code, participant, needed)
    result = get_object_or_404(person.lab_results, pk=number)
    may_correct = access.can(Permission.ENTER_LABS, person.site)
    form = LabCorrectionForm(
        request.POST or None, initial={"sampled_on": result.sampled_on, "value": result.value}
    )
    if request.method == "POST" and form.is_valid():
        before = result.value
        try:
            correct_lab_result(result, **form.cleaned_data, actor=actor_for(request.user))
        except ValidationError as error:
            show_errors(form, error)
        else:
            messages.success(
                request,
                f"{result.analyte} corrected: {before:g} → {result.value:g} {result.unit}, "
                f"drawn on {result.sampled_on:%Y-%m-%d}.",
            )
            return redirect("staff:participant", code=code, participant=person.code)
    return render(
        request,
        "staff/lab_result.html",
        {
            "study": access.study,
            "participant": person,
            "result": result,
            "history": history_of(result),
            "form": form if may_correct else None,
        },
        status=422 if form.errors else 200,
    )
