"""Screening, the investigator's sign-off and enrolment."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from ldntrial.web.audit.tracking import actor_for
from ldntrial.web.form_errors import show_errors
from ldntrial.web.staff.forms import (
    EnrolForm,
    NotEnrolledForm,
    ScreeningForm,
    SignOffForm,
)
from ldntrial.web.staff.views.common import study_access
from ldntrial.web.studies.access import Access
from ldntrial.web.studies.roles import Permission
from ldntrial.web.trial.enrolment import enrol
from ldntrial.web.trial.models import (
    Participant,
    Screening,
)
from ldntrial.web.trial.screening import record_not_enrolled, record_screening, sign_off


@login_required
def screen(request: HttpRequest, code: str) -> HttpResponse:
    access = study_access(request, code, Permission.SCREEN)
    form = ScreeningForm(request.POST or None, sites=access.sites(Permission.SCREEN))
    if request.method == "POST" and form.is_valid():
        try:
            screening = record_screening(
                form.cleaned_data["site"],
                form.answers(),
                form.cleaned_data["consent_on"],
                actor=actor_for(request.user),
            )
        except ValidationError as error:
            show_errors(form, error)
        else:
            messages.success(
                request,
                f"Screening {screening.number} recorded: {screening.outcome.replace('_', ' ')}.",
            )
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
    return _screening_page(request, access, _screening(access, number))


def _screening_page(
    request: HttpRequest, access: Access, screening: Screening, **forms: object
) -> HttpResponse:
    """The screening's page; ``forms`` (a refused one, by name) replace the blank ones (422)."""
    participant = Participant.objects.filter(screening=screening).first()
    open_to_enrol = (
        screening.may_enrol
        and participant is None
        and not screening.not_enrolled_reason
        and access.can(Permission.ENROL, screening.site)
        and not access.locked
    )
    context = {
        "study": access.study,
        "screening": screening,
        "participant": participant,
        "enrol_form": EnrolForm(initial={"timezone": screening.site.timezone})
        if open_to_enrol
        else None,
        "not_enrolled_form": NotEnrolledForm() if open_to_enrol else None,
        "sign_off_form": SignOffForm()
        if screening.outcome == "needs_review"
        and not screening.review
        and access.can(Permission.SIGN_OFF_SCREENING, screening.site)
        and not access.locked
        else None,
    }
    context.update(forms)
    return render(request, "staff/screening.html", context, status=422 if forms else 200)


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
            enrolment = enrol(screening, **form.cleaned_data, actor=actor_for(request.user))
        except ValidationError as error:
            show_errors(form, error)
        else:
            request.session["first_kit_code"] = enrolment.first_kit_code
            request.session["just_enrolled"] = True
            return redirect("staff:participant", code=code, participant=enrolment.participant.code)
    return _screening_page(request, access, screening, enrol_form=form)


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
            messages.success(
                request,
                f"Screening {number} {screening.review} by you: recorded with your reason.",
            )
            return redirect("staff:screening", code=code, number=number)
    return _screening_page(request, access, screening, sign_off_form=form)


@login_required
@require_POST
def screening_not_enrolled(request: HttpRequest, code: str, number: int) -> HttpResponse:
    """She could have been enrolled and will not be: a screen failure, with its reason."""
    access = study_access(request, code, Permission.ENROL)
    screening = _screening(access, number)
    if not access.can(Permission.ENROL, screening.site):
        raise PermissionDenied("you cannot enrol at this site")
    form = NotEnrolledForm(request.POST)
    if form.is_valid():
        try:
            record_not_enrolled(screening, **form.cleaned_data, actor=actor_for(request.user))
        except ValidationError as error:
            show_errors(form, error)
        else:
            messages.success(
                request,
                f"Screening {number} recorded as not enrolled "
                f"({screening.get_not_enrolled_reason_display()}).",
            )
            return redirect("staff:screening", code=code, number=number)
    return _screening_page(request, access, screening, not_enrolled_form=form)
