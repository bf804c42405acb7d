"""Screening, the investigator's sign-off and enrolment."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from ldntrial.web.staff.forms import (
    EnrolForm,
    ScreeningForm,
    SignOffForm,
)
from ldntrial.web.staff.views.common import show_errors, study_access
from ldntrial.web.studies.access import Access
from ldntrial.web.studies.roles import Permission
from ldntrial.web.trial.enrolment import enrol
from ldntrial.web.trial.models import (
    Participant,
    Screening,
)
from ldntrial.web.trial.screening import record_screening, sign_off


@login_required
def screen(request: HttpRequest, code: str) -> HttpResponse:
    access = study_access(request, code, Permission.SCREEN)
    form = ScreeningForm(request.POST or None, sites=access.sites(Permission.SCREEN))
    if request.method == "POST" and form.is_valid():
        try:
            screening = record_screening(
                form.cleaned_data["site"], form.answers(), form.cleaned_data["consent_on"]
            )
        except ValidationError as error:
            show_errors(form, error)
        else:
            return redirect("staff:screening", code=code, number=screening.number)
    return render(
        request,
        "staff/screen.html",
        {"study": access.study, "form": form},
        status=422 if form.errors else 200,
    )


def _screening(access: Access, number: int) -> Screening:
    visible = access.sites(Permission.VIEW_PARTICIPANTS) | access.sites(Permission.SCREEN)
    return get_object_or_404(
        Screening, study=access.study, number=number, site__in=visible.distinct()
    )


@login_required
def screening_detail(request: HttpRequest, code: str, number: int) -> HttpResponse:
    access = study_access(request, code, Permission.VIEW_PARTICIPANTS)
    screening = _screening(access, number)
    participant = Participant.objects.filter(screening=screening).first()
    return render(
        request,
        "staff/screening.html",
        {
            "study": access.study,
            "screening": screening,
            "participant": participant,
            "enrol_form": EnrolForm()
            if screening.may_enrol
            and participant is None
            and access.can(Permission.ENROL, screening.site)
            else None,
            "sign_off_form": SignOffForm()
            if screening.outcome == "needs_review"
            and not screening.review
            and access.can(Permission.SIGN_OFF_SCREENING, screening.site)
            else None,
        },
    )


@login_required
@require_POST
def screening_enrol(request: HttpRequest, code: str, number: int) -> HttpResponse:
    access = study_access(request, code, Permission.ENROL)
    screening = _screening(access, number)
    if not access.can(Permission.ENROL, screening.site):
        raise PermissionDenied("you cannot enrol at this site")
    form = EnrolForm(request.POST)
    if form.is_valid():
        try:
            enrolment = enrol(screening, **form.cleaned_data)
        except ValidationError as error:
            show_errors(form, error)
        else:
            request.session["first_kit_code"] = enrolment.first_kit_code
            request.session["just_enrolled"] = True
            return redirect("staff:participant", code=code, participant=enrolment.participant.code)
    return render(
        request,
        "staff/screening.html",
        {"study": access.study, "screening": screening, "enrol_form": form},
        status=422,
    )


@login_required
@require_POST
def screening_sign_off(request: HttpRequest, code: str, number: int) -> HttpResponse:
    access = study_access(request, code, Permission.SIGN_OFF_SCREENING)
    screening = _screening(access, number)
    if not access.can(Permission.SIGN_OFF_SCREENING, screening.site):
        raise PermissionDenied("you cannot sign off at this site")
    form = SignOffForm(request.POST)
    if form.is_valid():
        try:
            sign_off(screening, request.user, approve=form.cleaned_data["decision"] == "approve")
        except ValidationError as error:
            show_errors(form, error)
        else:
            return redirect("staff:screening", code=code, number=number)
    return render(
        request,
        "staff/screening.html",
        {"study": access.study, "screening": screening, "sign_off_form": form},
        status=422,
    )
