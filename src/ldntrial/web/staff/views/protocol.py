"""The study's protocol: every version with its reason, and the amendment form."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render

from ldntrial.web.form_errors import show_errors
from ldntrial.web.staff.forms import uploaded_text
from ldntrial.web.staff.views.common import study_access
from ldntrial.web.studies.roles import Permission
from ldntrial.web.trial.amendments import amend_protocol, protocol_history


class AmendmentForm(forms.Form):
    protocol_file = forms.FileField(label="The amended protocol file (TOML)")
    reason = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 2}),
        label="Why it is amended",
        help_text="e.g. ethics committee approval of amendment 2, 2027-01-10",
    )


@login_required
def protocol(request: HttpRequest, code: str) -> HttpResponse:
    access = study_access(request, code, Permission.VIEW_DASHBOARD)
    may_amend = access.can(Permission.AMEND_PROTOCOL)
    form = AmendmentForm(request.POST or None, request.FILES or None)
    if request.method == "POST":
        if not may_amend:
            raise PermissionDenied("your role here does not allow amend_protocol")
        text = None
        if form.is_valid():
            try:
                text = uploaded_text(form.cleaned_data["protocol_file"])
            except ValidationError as error:
                form.add_error("protocol_file", error)
        if text is not None:
            try:
                version = amend_protocol(
                    access.study, protocol_text=text, reason=form.cleaned_data["reason"],
                    by=request.user,
                )  # fmt: skip
            except ValidationError as error:
                show_errors(form, error)
            else:
                messages.success(
                    request,
                    f"Protocol version {version.version} is in force; women enrolled from now "
                    "on are enrolled under it.",
                )
                return redirect("staff:protocol", code=code)
    return render(
        request,
        "staff/protocol.html",
        {
            "study": access.study,
            "versions": protocol_history(access.study),
            "in_force": access.study.protocol_version,
            "form": form if may_amend and not access.locked else None,
        },
        status=422 if form.errors else 200,
    )


@login_required
def protocol_version(request: HttpRequest, code: str, number: int) -> HttpResponse:
    """One version's protocol file, as it was put in force."""
    access = study_access(request, code, Permission.VIEW_DASHBOARD)
    found = access.study.protocol_versions.filter(version=number).first()
    if found is None and number == 1:
        text = access.study.protocol_text  # never amended: the study's own text
    elif found is None:
        raise Http404("no such protocol version")
    else:
        text = found.protocol_text
    response = HttpResponse(text, content_type="application/toml; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{code}-protocol-v{number}.toml"'
    return response
