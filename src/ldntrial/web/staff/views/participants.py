"""A participant's page and what staff do there: visits, events, labs, her diary, unblinding."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST

from ldntrial.protocol.schedule import site_visit_plan
from ldntrial.web.audit.tracking import AuditError
from ldntrial.web.diary.links import issue_diary_link, link_path, revoke_devices
from ldntrial.web.diary.reminders import set_reminders
from ldntrial.web.staff.forms import (
    AdverseEventForm,
    DiarySettingsForm,
    DoseReductionForm,
    EsrForm,
    RevokeForm,
    UnblindForm,
    visit_form_class,
)
from ldntrial.web.staff.views.common import (
    participant_for,
    show_errors,
    study_access,
    visible_participant,
)
from ldntrial.web.studies.roles import Permission
from ldntrial.web.trial.dates import local_today
from ldntrial.web.trial.dose import order_dose_reduction
from ldntrial.web.trial.labs import record_esr
from ldntrial.web.trial.safety import report_adverse_event
from ldntrial.web.trial.unblinding import emergency_unblind
from ldntrial.web.trial.visits import planned_visit, record_visit


@login_required
def participant_detail(request: HttpRequest, code: str, participant: str) -> HttpResponse:
    access = study_access(request, code, Permission.VIEW_PARTICIPANTS)
    person = visible_participant(access, participant)
    return render(
        request,
        "staff/participant.html",
        {
            "study": access.study,
            "participant": person,
            "unblindings": person.unblindings.select_related("by").order_by("at"),
            "unblind_form": UnblindForm()
            if access.can(Permission.EMERGENCY_UNBLIND, person.site)
            else None,
            "adverse_events": person.adverse_events.order_by("onset", "pk"),
            "sees_adverse_events": access.can(Permission.VIEW_SAFETY),
            "dose_reductions": person.dose_reductions.order_by("ordered_at"),
            "lab_results": person.lab_results.order_by("sampled_on", "analyte"),
            "esr_form": EsrForm() if access.can(Permission.ENTER_LABS, person.site) else None,
            "dose_form": DoseReductionForm()
            if access.can(Permission.ORDER_DOSE_REDUCTION, person.site)
            and not person.dose_reductions.exists()
            else None,
            "recorded": {v.number: v for v in person.visits.all()},
            "deviations": person.deviations.order_by("raised_at"),
            "can_record_visits": access.can(Permission.RECORD_VISIT, person.site),
            "ae_form": AdverseEventForm()
            if access.can(Permission.REPORT_ADVERSE_EVENT, person.site)
            else None,
            "first_kit_code": request.session.pop("first_kit_code", None),
            "just_enrolled": request.session.pop("just_enrolled", False),
            "can_link": access.can(Permission.ENROL, person.site)
            and person.status == person.Status.ACTIVE,
            "diary_form": DiarySettingsForm(initial=_diary_initial(person))
            if access.can(Permission.ENROL, person.site)
            else None,
            "revoke_form": RevokeForm() if access.can(Permission.ENROL, person.site) else None,
            "devices": person.devices.filter(revoked_at__isnull=True).count(),
        },
    )


def _refused(request: HttpRequest, access, person, **forms) -> HttpResponse:  # type: ignore[no-untyped-def]
    """Her page again, with the form that was refused and its field errors (422)."""
    context = {"study": access.study, "participant": person, **forms}
    return render(request, "staff/participant.html", context, status=422)


def _diary_initial(person) -> dict:  # type: ignore[no-untyped-def]
    reminders = getattr(person, "reminders", None)
    active = reminders is not None and reminders.active
    return {
        "language": person.language,
        "email": reminders.email if active else "",
        "remind_at": reminders.remind_at if active else None,
    }


@login_required
@require_POST
def participant_unblind(request: HttpRequest, code: str, participant: str) -> HttpResponse:
    access, person = participant_for(request, code, participant, Permission.EMERGENCY_UNBLIND)
    form = UnblindForm(request.POST)
    if form.is_valid():
        try:
            code_break = emergency_unblind(person, request.user, **form.cleaned_data)
        except ValidationError as error:
            show_errors(form, error)
        else:
            response = render(
                request,
                "staff/unblinded.html",
                {"study": access.study, "participant": person, "code_break": code_break},
            )
            response["Cache-Control"] = "no-store"  # shown once, never from a cache
            return response
    return _refused(request, access, person, unblind_form=form)


@login_required
@require_POST
def participant_adverse_event(request: HttpRequest, code: str, participant: str) -> HttpResponse:
    access, person = participant_for(request, code, participant, Permission.REPORT_ADVERSE_EVENT)
    form = AdverseEventForm(request.POST)
    if form.is_valid():
        try:
            report_adverse_event(person, **form.cleaned_data)
        except ValidationError as error:
            show_errors(form, error)
        else:
            return redirect("staff:participant", code=code, participant=person.code)
    return _refused(
        request,
        access,
        person,
        adverse_events=person.adverse_events.order_by("onset", "pk"),
        sees_adverse_events=True,
        ae_form=form,
    )


@login_required
def visit_record(request: HttpRequest, code: str, participant: str, number: int) -> HttpResponse:
    access, person = participant_for(request, code, participant, Permission.RECORD_VISIT)
    try:
        plan = planned_visit(person, number)
    except ValidationError:
        raise Http404("no such visit") from None
    protocol = access.study.protocol
    wanted = set(next(v for v in site_visit_plan(protocol) if v["visit"] == number)["measures"])
    measures = [m for m in protocol.visits.measures if m.id in wanted]
    existing = person.visits.filter(number=number).first()
    form_class = visit_form_class(measures, correcting=existing is not None)
    initial = (
        {
            "held_on": existing.held_on,
            "medications": "\n".join(existing.medications),
            **existing.values,
        }
        if existing
        else {"held_on": min(plan["date"], local_today(person.timezone))}  # never a future day
    )
    form = form_class(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        data = dict(form.cleaned_data)
        held_on, text = data.pop("held_on"), data.pop("medications")
        data.pop("reason", None)  # read by the audit middleware from the request
        try:
            record_visit(
                person,
                number,
                held_on=held_on,
                values=data,
                medications=[line.strip() for line in text.splitlines() if line.strip()],
            )
        except (ValidationError, AuditError) as error:
            show_errors(
                form, error if isinstance(error, ValidationError) else _reason_error(error)
            )
        else:
            return redirect("staff:participant", code=code, participant=person.code)
    return render(
        request,
        "staff/visit.html",
        {"study": access.study, "participant": person, "plan": plan, "form": form},
        status=422 if form.errors else 200,
    )


def _reason_error(error: AuditError) -> ValidationError:
    return ValidationError({"reason": str(error).removeprefix("reason: ")})


@login_required
@require_POST
def participant_dose_reduction(request: HttpRequest, code: str, participant: str) -> HttpResponse:
    access, person = participant_for(request, code, participant, Permission.ORDER_DOSE_REDUCTION)
    form = DoseReductionForm(request.POST)
    if form.is_valid():
        try:
            order_dose_reduction(person, request.user, form.cleaned_data["reason"])
        except ValidationError as error:
            show_errors(form, error)
        else:
            return redirect("staff:participant", code=code, participant=person.code)
    return _refused(request, access, person, dose_form=form)


@login_required
@require_POST
def participant_esr(request: HttpRequest, code: str, participant: str) -> HttpResponse:
    access, person = participant_for(request, code, participant, Permission.ENTER_LABS)
    form = EsrForm(request.POST)
    if form.is_valid():
        try:
            record_esr(person, form.cleaned_data["sampled_on"], form.cleaned_data["value"])
        except ValidationError as error:
            show_errors(form, error)
        else:
            return redirect("staff:participant", code=code, participant=person.code)
    return _refused(request, access, person, esr_form=form)


@login_required
@require_POST
def participant_diary_link(request: HttpRequest, code: str, participant: str) -> HttpResponse:
    """A new personal diary link, shown once with her calendar to print for her."""
    access, person = participant_for(request, code, participant, Permission.ENROL)
    try:
        link, secret = issue_diary_link(person, now=timezone.now())
    except ValidationError as error:
        raise PermissionDenied(" ".join(error.messages)) from None
    response = render(
        request,
        "staff/diary_link.html",
        {
            "study": access.study,
            "participant": person,
            "link": link,
            "url": request.build_absolute_uri(link_path(secret)),
        },
    )
    response["Cache-Control"] = "no-store"  # the code is on this page, once
    response["Referrer-Policy"] = "no-referrer"
    return response


@login_required
@require_POST
def participant_diary_settings(request: HttpRequest, code: str, participant: str) -> HttpResponse:
    """Her diary's language and reminders (a reason is asked: the change is audited)."""
    access, person = participant_for(request, code, participant, Permission.ENROL)
    form = DiarySettingsForm(request.POST)
    if form.is_valid():
        data = form.cleaned_data
        with transaction.atomic():
            if person.language != data["language"]:
                person.language = data["language"]
                person.save()
            if data["email"]:
                set_reminders(person, email=data["email"], remind_at=data["remind_at"])
            elif hasattr(person, "reminders"):
                set_reminders(
                    person,
                    email=person.reminders.email,
                    remind_at=person.reminders.remind_at,
                    active=False,
                )
        return redirect("staff:participant", code=code, participant=person.code)
    return _refused(request, access, person, diary_form=form)


@login_required
@require_POST
def participant_revoke_devices(request: HttpRequest, code: str, participant: str) -> HttpResponse:
    """Every device and unused link of hers stops working at once (SIG-6)."""
    access, person = participant_for(request, code, participant, Permission.ENROL)
    form = RevokeForm(request.POST)
    if not form.is_valid():
        return _refused(request, access, person, revoke_form=form)
    revoke_devices(person, now=timezone.now(), reason=form.cleaned_data["reason"])
    return redirect("staff:participant", code=code, participant=person.code)
