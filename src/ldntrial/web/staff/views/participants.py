"""A participant's page and what staff do there: visits, events, labs, her diary, unblinding."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST

from ldntrial.protocol.liver_test import LIVER_PANEL
from ldntrial.protocol.schedule import site_visit_plan
from ldntrial.web.audit.tracking import AuditError, actor_for
from ldntrial.web.diary.links import issue_diary_link, link_path, revoke_devices
from ldntrial.web.diary.reminders import set_reminders
from ldntrial.web.form_errors import show_errors
from ldntrial.web.qr import qr_svg
from ldntrial.web.staff.forms import (
    NOT_DONE,
    AdverseEventForm,
    DiarySettingsForm,
    DoseReductionForm,
    EsrForm,
    LiverTestForm,
    RevokeForm,
    UnblindForm,
    visit_form_class,
)
from ldntrial.web.staff.views.common import participant_for, study_access, visible_participant
from ldntrial.web.staff.views.participant_page import her_page
from ldntrial.web.studies.roles import Permission
from ldntrial.web.trial.dates import local_today
from ldntrial.web.trial.dose import order_dose_reduction
from ldntrial.web.trial.labs import record_esr, record_lab_result
from ldntrial.web.trial.safety import report_adverse_event
from ldntrial.web.trial.unblinding import code_break, emergency_unblind
from ldntrial.web.trial.visits import planned_visit, record_visit


@login_required
def participant_detail(request: HttpRequest, code: str, participant: str) -> HttpResponse:
    access = study_access(request, code, Permission.VIEW_PARTICIPANTS)
    return her_page(request, access, visible_participant(access, participant))


@login_required
@require_POST
def participant_unblind(request: HttpRequest, code: str, participant: str) -> HttpResponse:
    """Record the code break, then show it on its own page (a reload never unblinds twice)."""
    access, person = participant_for(request, code, participant, Permission.EMERGENCY_UNBLIND)
    form = UnblindForm(request.POST)
    if form.is_valid():
        try:
            unblinding = emergency_unblind(person, request.user, **form.cleaned_data)
        except ValidationError as error:
            show_errors(form, error)
        else:
            request.session[_CODE_BREAK_TO_SHOW] = unblinding.pk  # the number, never the arm
            return redirect(
                "staff:code_break", code=code, participant=person.code, number=unblinding.pk
            )
    return her_page(request, access, person, status=422, unblind_form=form)


_CODE_BREAK_TO_SHOW = "code_break_to_show"


@login_required
def participant_code_break(
    request: HttpRequest, code: str, participant: str, number: int
) -> HttpResponse:
    """The allocation, once, to the investigator who unblinded; afterwards, that it was shown."""
    access, person = participant_for(request, code, participant, Permission.EMERGENCY_UNBLIND)
    unblinding = get_object_or_404(person.unblindings, pk=number, by=request.user)
    first_view = request.session.get(_CODE_BREAK_TO_SHOW) == unblinding.pk
    if first_view:
        del request.session[_CODE_BREAK_TO_SHOW]
    response = render(
        request,
        "staff/unblinded.html",
        {
            "study": access.study,
            "participant": person,
            "unblinding": unblinding,
            "code_break": code_break(unblinding) if first_view else None,
        },
    )
    response["Cache-Control"] = "no-store"  # shown once, never from a cache
    return response


@login_required
@require_POST
def participant_adverse_event(request: HttpRequest, code: str, participant: str) -> HttpResponse:
    access, person = participant_for(request, code, participant, Permission.REPORT_ADVERSE_EVENT)
    form = AdverseEventForm(request.POST)
    if form.is_valid():
        try:
            event = report_adverse_event(
                person, **form.cleaned_data, actor=actor_for(request.user)
            )
        except ValidationError as error:
            show_errors(form, error)
        else:
            messages.success(
                request,
                f"Adverse event recorded: {event.term}, onset "
                f"{event.onset:%Y-%m-%d}" + _alert_said(event) + ".",
            )
            return redirect("staff:participant", code=code, participant=person.code)
    return her_page(request, access, person, status=422, ae_form=form)


def _alert_said(event) -> str:
    if not event.serious:
        return ""
    if event.alerted:
        return f" (serious: the alert went to {len(event.alerted)} people)"
    return (
        " (serious, but NO ONE could be alerted by email: no investigator or study "
        "administrator has an address; telephone the investigator now)"
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
    measures = [m for m in protocol.visits.measures if m.id in wanted] if protocol.visits else []
    existing = person.visits.filter(number=number).first()
    form_class = visit_form_class(measures, correcting=existing is not None)
    initial = (
        {
            "held_on": existing.held_on,
            "medications": "\n".join(existing.medications),
            **existing.values,
            **{m + NOT_DONE: why for m, why in existing.not_done.items()},
        }
        if existing
        else {"held_on": min(plan["date"], local_today(person.timezone))}  # never a future day
    )
    form = form_class(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        values, not_done = form.split()  # the reason is read by the audit middleware
        text = form.cleaned_data["medications"]
        try:
            visit = record_visit(
                person,
                number,
                held_on=form.cleaned_data["held_on"],
                values=values,
                not_done=not_done,
                medications=[line.strip() for line in text.splitlines() if line.strip()],
                actor=actor_for(request.user),
            )
        except (ValidationError, AuditError) as error:
            show_errors(
                form, error if isinstance(error, ValidationError) else _reason_error(error)
            )
        else:
            messages.success(
                request,
                f"Visit {number} {'corrected' if existing else 'recorded'}: held on "
                f"{visit.held_on:%Y-%m-%d}"
                + (" (outside its window: a deviation is raised)" if visit.out_of_window else "")
                + ".",
            )
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
            messages.success(
                request, "Dose reduction ordered: the pharmacy applies it to her next kits."
            )
            return redirect("staff:participant", code=code, participant=person.code)
    return her_page(request, access, person, status=422, dose_form=form)


@login_required
@require_POST
def participant_esr(request: HttpRequest, code: str, participant: str) -> HttpResponse:
    access, person = participant_for(request, code, participant, Permission.ENTER_LABS)
    form = EsrForm(request.POST)
    if form.is_valid():
        try:
            result = record_esr(
                person,
                form.cleaned_data["sampled_on"],
                form.cleaned_data["value"],
                actor=actor_for(request.user),
            )
        except ValidationError as error:
            show_errors(form, error)
        else:
            messages.success(
                request,
                f"ESR recorded: {result.value:g} mm/hr, drawn on {result.sampled_on:%Y-%m-%d}.",
            )
            return redirect("staff:participant", code=code, participant=person.code)
    return her_page(request, access, person, status=422, esr_form=form)


@login_required
@require_POST
def participant_liver_test(request: HttpRequest, code: str, participant: str) -> HttpResponse:
    """Her liver test (ALT and AST of one draw), both stored or neither."""
    access, person = participant_for(request, code, participant, Permission.ENTER_LABS)
    form = LiverTestForm(request.POST)
    if form.is_valid():
        drawn = form.cleaned_data["sampled_on"]
        try:
            with transaction.atomic():
                for analyte in LIVER_PANEL.analytes:
                    record_lab_result(
                        person, sampled_on=drawn, panel=LIVER_PANEL.id, analyte=analyte,
                        value=form.cleaned_data[analyte], unit=LIVER_PANEL.unit,
                        actor=actor_for(request.user),
                    )  # fmt: skip
        except ValidationError as error:
            show_errors(form, error)
        else:
            messages.success(
                request,
                f"Liver test recorded: ALT {form.cleaned_data['alt']:g} U/L, "
                f"AST {form.cleaned_data['ast']:g} U/L, drawn on {drawn:%Y-%m-%d}.",
            )
            return redirect("staff:participant", code=code, participant=person.code)
    return her_page(request, access, person, status=422, liver_form=form)


@login_required
@require_POST
def participant_diary_link(request: HttpRequest, code: str, participant: str) -> HttpResponse:
    """A new personal diary link, shown once with her calendar to print for her."""
    access, person = participant_for(request, code, participant, Permission.ENROL)
    try:
        link, secret = issue_diary_link(person, now=timezone.now(), actor=actor_for(request.user))
    except ValidationError as error:
        raise PermissionDenied(" ".join(error.messages)) from None
    url = request.build_absolute_uri(link_path(secret))
    response = render(
        request,
        "staff/diary_link.html",
        {
            "study": access.study,
            "participant": person,
            "link": link,
            "url": url,
            "qr_code": qr_svg(url, title=f"QR code of {person.code}'s diary link"),
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
                person.save(actor=actor_for(request.user))
            if data["email"]:
                set_reminders(
                    person,
                    email=data["email"],
                    remind_at=data["remind_at"],
                    actor=actor_for(request.user),
                )
            elif hasattr(person, "reminders"):
                set_reminders(
                    person,
                    email=person.reminders.email,
                    remind_at=person.reminders.remind_at,
                    active=False,
                    actor=actor_for(request.user),
                )
        messages.success(request, "Her diary settings are saved.")
        return redirect("staff:participant", code=code, participant=person.code)
    return her_page(request, access, person, status=422, diary_form=form)


@login_required
@require_POST
def participant_revoke_devices(request: HttpRequest, code: str, participant: str) -> HttpResponse:
    """Every device and unused link of hers stops working at once (SIG-6)."""
    access, person = participant_for(request, code, participant, Permission.ENROL)
    form = RevokeForm(request.POST)
    if not form.is_valid():
        return her_page(request, access, person, status=422, revoke_form=form)
    revoke_devices(
        person,
        now=timezone.now(),
        reason=form.cleaned_data["reason"],
        actor=actor_for(request.user),
    )
    messages.success(request, "Her phones and unused links no longer open her diary.")
    return redirect("staff:participant", code=code, participant=person.code)
