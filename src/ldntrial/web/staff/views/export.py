"""The export page: the study's data for analysts, de-identified and blinded as her role says."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from ldntrial.errors import LdnTrialError
from ldntrial.web.analysis.exports import export_archive
from ldntrial.web.staff.forms import ExportForm
from ldntrial.web.staff.views.common import study_access
from ldntrial.web.studies.roles import Permission


@login_required
def export(request: HttpRequest, code: str) -> HttpResponse:
    """The form, and on POST the zip file (recorded in the audit trail)."""
    access = study_access(request, code, Permission.EXPORT_DATA)
    may_identify = access.can(Permission.EXPORT_IDENTIFIED)
    form = ExportForm(request.POST or None, may_identify=may_identify)
    problem = ""
    if request.method == "POST" and form.is_valid():
        format = form.cleaned_data["format"]
        try:
            body = export_archive(
                access,
                request.user,
                format=format,
                identified=form.cleaned_data.get("identified", False),
            )
        except ValidationError as error:
            problem = " ".join(error.messages)
        except LdnTrialError as error:
            problem = str(error)
        else:
            response = HttpResponse(body, content_type="application/zip")
            response["Content-Disposition"] = f'attachment; filename="{code}-{format}.zip"'
            response["Cache-Control"] = "no-store"
            return response
    return render(
        request,
        "staff/export.html",
        {"study": access.study, "form": form, "problem": problem, "blinded": access.blinded},
        status=422 if form.errors or problem else 200,
    )
