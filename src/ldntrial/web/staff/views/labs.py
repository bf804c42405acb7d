"""Importing a laboratory file: choose it, see the preview and every problem, then import."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from ldntrial.protocol.liver_test import lab_panels
from ldntrial.web.audit.tracking import actor_for
from ldntrial.web.form_errors import show_errors
from ldntrial.web.staff.forms import LabFileForm, uploaded_name
from ldntrial.web.staff.views.common import study_access
from ldntrial.web.studies.roles import Permission
from ldntrial.web.trial.lab_import import import_lab_file, preview_lab_file
from ldntrial.web.trial.models import Participant

# The previewed file waits in her session (stored server-side) until she imports it.
SESSION_KEY = "lab_file"
GONE = "The previewed file is no longer here (imported, or the session ended); choose it again."


@login_required
def lab_import(request: HttpRequest, code: str) -> HttpResponse:
    access = study_access(request, code, Permission.ENTER_LABS)
    study = access.study
    participants = list(
        Participant.objects.filter(
            study=study, site__in=access.sites(Permission.ENTER_LABS)
        ).select_related("screening")
    )
    panels = [(lab.id, lab.label) for lab in lab_panels(study.protocol)]
    form = LabFileForm(
        request.POST if request.method == "POST" else None, request.FILES or None, panels=panels
    )
    context = {"study": study, "form": form, "preview": None, "imported": None, "gone": ""}
    if request.method == "POST" and request.POST.get("step") == "import":
        held = request.session.get(SESSION_KEY)
        if not held or held["sha256"] != request.POST.get("sha256"):
            context = {**context, "form": LabFileForm(panels=panels), "gone": GONE}
            return render(request, "staff/lab_import.html", context, status=422)
        try:
            imported = import_lab_file(
                study,
                participants,
                held["panel"],
                held["text"],
                actor=actor_for(request.user),
                name=held["name"],
            )
        except ValidationError:
            preview = preview_lab_file(study, participants, held["panel"], held["text"])
            return render(
                request, "staff/lab_import.html", {**context, "preview": preview}, status=422
            )
        del request.session[SESSION_KEY]
        return render(request, "staff/lab_import.html", {**context, "imported": imported})
    if request.method == "POST" and form.is_valid():
        text, panel = form.cleaned_data["file"], form.cleaned_data["panel"]
        try:
            preview = preview_lab_file(study, participants, panel, text)
        except ValidationError as error:
            show_errors(form, error)
        else:
            if not preview.problems and preview.results:
                request.session[SESSION_KEY] = {
                    "text": text,
                    "panel": panel,
                    "sha256": preview.sha256,
                    "name": uploaded_name(request)[:200],
                }
            status = 422 if preview.problems else 200
            return render(
                request, "staff/lab_import.html", {**context, "preview": preview}, status=status
            )
    status = 422 if form.errors else 200
    return render(request, "staff/lab_import.html", context, status=status)
