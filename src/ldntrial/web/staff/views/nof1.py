"""The physician's pages of an N-of-1 trial: start it, follow its steps, release her report."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required, permission_required
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render

from ldntrial.protocol.loader import load_protocol
from ldntrial.stats.nof1_outlook import Outlook, outlook_for
from ldntrial.web.form_errors import show_errors
from ldntrial.web.headers import REPORT_POLICY
from ldntrial.web.nof1.clinic import (
    end_nof1_trial,
    patient_of,
    preview_report,
    release_report,
    send_kit_list,
    start_nof1_trial,
)
from ldntrial.web.nof1.models import Nof1Trial
from ldntrial.web.staff.forms import NOF1_DESIGNS, EndNof1Form, Nof1StartForm
from ldntrial.web.staff.views.common import study_access
from ldntrial.web.studies.roles import Permission
from ldntrial.web.trial.dates import local_today
from ldntrial.web.trial.status import last_planned_day

STEPS = {"send_kits": send_kit_list, "release": release_report}


@login_required
@permission_required("nof1.start_nof1", raise_exception=True)
def nof1_start(request: HttpRequest) -> HttpResponse:
    form = Nof1StartForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            trial = start_nof1_trial(request.user, **form.cleaned_data)
        except ValidationError as error:
            show_errors(form, error)
        else:
            return redirect("staff:nof1", code=trial.study.code)
    context = {
        "form": form,
        "evidence": outlook_for("nof1").evidence,
        "outlooks": [
            (label, outlook_for(key, dose_comparison=_compares_doses(key)).her_trial)
            for key, label in NOF1_DESIGNS.items()
        ],
    }
    return render(request, "staff/nof1_start.html", context, status=422 if form.errors else 200)


def _compares_doses(protocol_id: str) -> bool:
    return load_protocol(protocol_id).comparison.dose_comparison


@login_required
def nof1_trial(request: HttpRequest, code: str) -> HttpResponse:
    """Her trial's steps, each done or to do, and the buttons for the next."""
    access = study_access(request, code, Permission.VIEW_PARTICIPANTS)
    trial = Nof1Trial.objects.filter(study=access.study).select_related("physician").first()
    if trial is None:
        raise Http404("not an N-of-1 trial")
    password_form = EndNof1Form(request.POST if request.POST.get("step") == "end" else None)
    problem = ""
    if request.method == "POST":
        if request.user != trial.physician:
            raise Http404("not your trial")  # the same answer as for a stranger
        step = request.POST.get("step", "")
        try:
            if step == "end":
                if password_form.is_valid():
                    end_nof1_trial(trial, request.user, **password_form.cleaned_data)
                    return redirect("staff:nof1", code=code)
            elif step in STEPS:
                STEPS[step](trial, request.user)
                return redirect("staff:nof1", code=code)
            else:
                problem = f"no step '{step}'"
        except ValidationError as error:
            if step == "end":
                show_errors(password_form, error)
            else:
                problem = " ".join(error.messages)
    lock = getattr(access.study, "database_lock", None)
    answer = _answer(lock)
    patient = patient_of(trial)
    last_day = last_planned_day(patient) if patient else None
    context = {
        "study": access.study,
        "trial": trial,
        "patient": patient,
        "last_day": last_day,
        "ending_early": patient is not None
        and last_day is not None
        and local_today(patient.timezone) < last_day,
        "lock": lock,
        "answer": answer,
        "password_form": password_form,
        "problem": problem,
        "is_physician": request.user == trial.physician,
        "outlook": None if lock else _outlook(access.study.protocol),
    }
    status = 422 if problem or password_form.errors else 200
    response = render(request, "staff/nof1.html", context, status=status)
    response["Cache-Control"] = "no-store"
    return response


def _outlook(protocol) -> Outlook:
    """What the trials predict and what her trial can tell, read before she starts."""
    return outlook_for(protocol.id, dose_comparison=protocol.comparison.dose_comparison)


def _answer(lock) -> dict | None:
    """Her answer from the unblinded analysis (verdict and paragraph), or None."""
    if lock is None or not lock.unblinded or not lock.analysis:
        return None
    answers = (lock.analysis.get("nof1") or {}).get("participants") or []
    return answers[0] if answers else None


@login_required
def nof1_report_preview(request: HttpRequest, code: str) -> HttpResponse:
    """Her report as it would be released, for the physician to read first."""
    access = study_access(request, code, Permission.VIEW_PARTICIPANTS)
    trial = Nof1Trial.objects.filter(study=access.study).first()
    lock = getattr(access.study, "database_lock", None)
    if trial is None or request.user != trial.physician or lock is None or not lock.unblinded:
        raise Http404("no report to preview")
    try:
        html = preview_report(trial)
    except ValidationError as error:
        raise Http404(" ".join(error.messages)) from None
    response = HttpResponse(html)
    response["Content-Security-Policy"] = REPORT_POLICY
    response["Cache-Control"] = "no-store"
    return response


@login_required
def nof1_report(request: HttpRequest, code: str) -> HttpResponse:
    """Her report as released (the physician's copy, to print or send)."""
    access = study_access(request, code, Permission.VIEW_PARTICIPANTS)
    trial = Nof1Trial.objects.filter(study=access.study).first()
    if trial is None or request.user != trial.physician or not trial.released_at:
        raise Http404("no released report")
    response = HttpResponse(trial.report_html)
    response["Content-Security-Policy"] = REPORT_POLICY
    response["Cache-Control"] = "no-store"
    return response
