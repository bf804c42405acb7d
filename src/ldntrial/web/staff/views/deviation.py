"""One protocol deviation's page: what happened, its history, its correction with a reason."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render

from ldntrial.web.audit.tracking import actor_for, because
from ldntrial.web.form_errors import show_errors
from ldntrial.web.staff.views.common import participant_for
from ldntrial.web.studies.audit_trail import history_of
from ldntrial.web.studies.roles import Permission


class DeviationCorrectionForm(forms.Form):
    description = forms.CharField(widget=forms.Textarea(attrs={"rows": 3}))
    reason = forms.CharField(
        label="Why it is corrected", help_text="e.g. the visit's true date, from the source"
    )


@login_required
def deviation(request: HttpRequest, code: str, participant: str, number: int) -> HttpResponse:
    needed = Permission.RECORD_VISIT if request.method == "POST" else Permission.VIEW_PARTICIPANTS
    access, person = participant_for(request, code, participant, needed)
    found = get_object_or_404(person.deviations, pk=number)
    form = DeviationCorrectionForm(
        request.POST or None, initial={"description": found.description}
    )
    if request.method == "POST" and form.is_valid():
        try:
            with because(f"correction: {form.cleaned_data['reason']}"):
                found.description = form.cleaned_data["description"].strip()
                found.full_clean()
                found.save(actor=actor_for(request.user))
        except ValidationError as error:
            show_errors(form, error)
        else:
            messages.success(request, "The deviation's description is corrected.")
            return redirect("staff:participant", code=code, participant=person.code)
    return render(
        request,
        "staff/deviation.html",
        {
            "study": access.study,
            "participant": person,
            "deviation": found,
            "history": history_of(found),
            "form": form if access.can(Permission.RECORD_VISIT, person.site) else None,
        },
        status=422 if form.errors else 200,
    )
