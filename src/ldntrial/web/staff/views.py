"""Staff pages. Every view checks the user's access to the study and the site on the server.

A study the user has no role in, or an object at a site she cannot see, is a
404 (its existence is not confirmed); a permitted study but a forbidden action
is a 403. No view for a blinded role reads an allocation (BLD-1).
"""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db.models import Count
from django.http import Http404, HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST

from ldntrial.errors import LdnTrialError
from ldntrial.protocol.schedule import site_visit_plan
from ldntrial.web.audit.chain import record_event
from ldntrial.web.audit.models import Action
from ldntrial.web.audit.tracking import AuditError, actor_for
from ldntrial.web.staff.audit_trail import csv_rows, study_entries
from ldntrial.web.staff.forms import (
    AdverseEventForm,
    AllocationForm,
    DispenseForm,
    EnrolForm,
    ReturnForm,
    ScreeningForm,
    SignOffForm,
    UnblindForm,
    visit_form_class,
)
from ldntrial.web.studies.access import Access
from ldntrial.web.studies.models import Study
from ldntrial.web.studies.roles import Permission
from ldntrial.web.trial.dispensing import dispense_visit_kits, record_return
from ldntrial.web.trial.enrolment import enrol
from ldntrial.web.trial.models import (
    AdverseEvent,
    AllocationSlot,
    Kit,
    Participant,
    Screening,
    Visit,
    calendar_from,
)
from ldntrial.web.trial.pharmacy import generate_allocation
from ldntrial.web.trial.safety import report_adverse_event
from ldntrial.web.trial.screening import record_screening, sign_off
from ldntrial.web.trial.unblinding import emergency_unblind
from ldntrial.web.trial.visits import planned_visit, record_visit


def _access(request: HttpRequest, code: str, permission: Permission) -> Access:
    study = Study.objects.filter(code=code).first()
    access = Access.of(request.user, study) if study else None
    if access is None or not access.roles:
        raise Http404("no such study")
    if not access.can(permission):
        raise PermissionDenied(f"your role here does not allow {permission.value}")
    return access


def _apply(form, error: ValidationError) -> None:  # type: ignore[no-untyped-def]
    """Put a service's field errors on the form's fields (or on the form when not a field)."""
    for field, messages in error.message_dict.items():
        form.add_error(field if field in form.fields else None, messages)


@login_required
def studies(request: HttpRequest) -> HttpResponse:
    mine = Study.objects.filter(memberships__user=request.user).distinct().order_by("code")
    return render(request, "staff/studies.html", {"studies": mine})


@login_required
def dashboard(request: HttpRequest, code: str) -> HttpResponse:
    access = _access(request, code, Permission.VIEW_PARTICIPANTS)
    sites = access.sites(Permission.VIEW_PARTICIPANTS)
    participants = (
        Participant.objects.filter(study=access.study, site__in=sites)
        .select_related("site")
        .order_by("code")
    )
    by_site = sites.annotate(enrolled=Count("participants")).order_by("code")
    today = timezone.localdate()
    active = participants.filter(status=Participant.Status.ACTIVE)
    due, overdue = _visits_due(access.study, active, today)
    open_events = (
        AdverseEvent.objects.filter(participant__in=participants)
        .exclude(outcome__in=[AdverseEvent.Outcome.RECOVERED, AdverseEvent.Outcome.FATAL])
        .select_related("participant")
        .order_by("onset")
    )
    screenings = Screening.objects.filter(study=access.study, site__in=sites).order_by("-number")
    return render(
        request,
        "staff/dashboard.html",
        {
            "access": access,
            "study": access.study,
            "by_site": by_site,
            "participants": participants,
            "screenings": screenings[:20],
            "due": due,
            "overdue": overdue,
            "open_events": open_events,
            "can_screen": access.can(Permission.SCREEN),
            "can_audit": access.can(Permission.VIEW_AUDIT),
            "can_pharmacy": access.can(Permission.MANAGE_KITS),
        },
    )


def _visits_due(study: Study, participants, today):  # type: ignore[no-untyped-def]
    """(due now, overdue): unrecorded visits whose window holds today, or has passed."""
    protocol = study.protocol  # parsed once, not once per participant
    site_plan = site_visit_plan(protocol)
    done = set(
        Visit.objects.filter(participant__in=participants).values_list("participant_id", "number")
    )
    due, overdue = [], []
    for person in participants:
        for visit in calendar_from(person.enrolled_on, protocol, site_plan):
            if (person.pk, visit["visit"]) in done or visit["earliest"] > today:
                continue
            row = {"participant": person, **visit}
            (due if today <= visit["latest"] else overdue).append(row)
    return due, overdue


@login_required
def screen(request: HttpRequest, code: str) -> HttpResponse:
    access = _access(request, code, Permission.SCREEN)
    form = ScreeningForm(request.POST or None, sites=access.sites(Permission.SCREEN))
    if request.method == "POST" and form.is_valid():
        try:
            screening = record_screening(
                form.cleaned_data["site"], form.answers(), form.cleaned_data["consent_on"]
            )
        except ValidationError as error:
            _apply(form, error)
        else:
            return redirect("staff:screening", code=code, number=screening.number)
    return render(request, "staff/screen.html", {"study": access.study, "form": form})


def _screening(access: Access, number: int) -> Screening:
    visible = access.sites(Permission.VIEW_PARTICIPANTS) | access.sites(Permission.SCREEN)
    return get_object_or_404(
        Screening, study=access.study, number=number, site__in=visible.distinct()
    )


@login_required
def screening_detail(request: HttpRequest, code: str, number: int) -> HttpResponse:
    access = _access(request, code, Permission.VIEW_PARTICIPANTS)
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
    access = _access(request, code, Permission.ENROL)
    screening = _screening(access, number)
    if not access.can(Permission.ENROL, screening.site):
        raise PermissionDenied("you cannot enrol at this site")
    form = EnrolForm(request.POST)
    if form.is_valid():
        try:
            enrolment = enrol(screening, **form.cleaned_data)
        except ValidationError as error:
            _apply(form, error)
        else:
            request.session["first_kit_code"] = enrolment.first_kit_code
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
    access = _access(request, code, Permission.SIGN_OFF_SCREENING)
    screening = _screening(access, number)
    if not access.can(Permission.SIGN_OFF_SCREENING, screening.site):
        raise PermissionDenied("you cannot sign off at this site")
    form = SignOffForm(request.POST)
    if form.is_valid():
        try:
            sign_off(screening, request.user, approve=form.cleaned_data["decision"] == "approve")
        except ValidationError as error:
            _apply(form, error)
        else:
            return redirect("staff:screening", code=code, number=number)
    return render(
        request,
        "staff/screening.html",
        {"study": access.study, "screening": screening, "sign_off_form": form},
        status=422,
    )


def _participant(access: Access, code: str) -> Participant:
    return get_object_or_404(
        Participant.objects.select_related("site"),
        study=access.study,
        code=code,
        site__in=access.sites(Permission.VIEW_PARTICIPANTS),
    )


@login_required
def participant_detail(request: HttpRequest, code: str, participant: str) -> HttpResponse:
    access = _access(request, code, Permission.VIEW_PARTICIPANTS)
    person = _participant(access, participant)
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
            "recorded": {v.number: v for v in person.visits.all()},
            "deviations": person.deviations.order_by("raised_at"),
            "can_record_visits": access.can(Permission.RECORD_VISIT, person.site),
            "ae_form": AdverseEventForm()
            if access.can(Permission.REPORT_ADVERSE_EVENT, person.site)
            else None,
            "first_kit_code": request.session.pop("first_kit_code", None),
        },
    )


@login_required
@require_POST
def participant_unblind(request: HttpRequest, code: str, participant: str) -> HttpResponse:
    access = _access(request, code, Permission.EMERGENCY_UNBLIND)
    person = _participant(access, participant)
    if not access.can(Permission.EMERGENCY_UNBLIND, person.site):
        raise PermissionDenied("you cannot unblind at this site")
    form = UnblindForm(request.POST)
    if form.is_valid():
        try:
            code_break = emergency_unblind(person, request.user, **form.cleaned_data)
        except ValidationError as error:
            _apply(form, error)
        else:
            response = render(
                request,
                "staff/unblinded.html",
                {"study": access.study, "participant": person, "code_break": code_break},
            )
            response["Cache-Control"] = "no-store"  # shown once, never from a cache
            return response
    return render(
        request,
        "staff/participant.html",
        {"study": access.study, "participant": person, "unblind_form": form},
        status=422,
    )


@login_required
@require_POST
def participant_adverse_event(request: HttpRequest, code: str, participant: str) -> HttpResponse:
    access = _access(request, code, Permission.REPORT_ADVERSE_EVENT)
    person = _participant(access, participant)
    if not access.can(Permission.REPORT_ADVERSE_EVENT, person.site):
        raise PermissionDenied("you cannot report adverse events at this site")
    form = AdverseEventForm(request.POST)
    if form.is_valid():
        try:
            report_adverse_event(person, **form.cleaned_data)
        except ValidationError as error:
            _apply(form, error)
        else:
            return redirect("staff:participant", code=code, participant=person.code)
    return render(
        request,
        "staff/participant.html",
        {
            "study": access.study,
            "participant": person,
            "adverse_events": person.adverse_events.order_by("onset", "pk"),
            "ae_form": form,
        },
        status=422,
    )


@login_required
def visit_record(request: HttpRequest, code: str, participant: str, number: int) -> HttpResponse:
    access = _access(request, code, Permission.RECORD_VISIT)
    person = _participant(access, participant)
    if not access.can(Permission.RECORD_VISIT, person.site):
        raise PermissionDenied("you cannot record visits at this site")
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
        else {"held_on": plan["date"]}
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
            _apply(form, error if isinstance(error, ValidationError) else _reason_error(error))
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


AUDIT_PAGE_SIZE = 100


@login_required
def audit_list(request: HttpRequest, code: str) -> HttpResponse:
    access = _access(request, code, Permission.VIEW_AUDIT)
    entries = study_entries(access.study)
    action = request.GET.get("action", "")
    if action:
        entries = entries.filter(action=action)
    page = Paginator(entries, AUDIT_PAGE_SIZE).get_page(request.GET.get("page"))
    return render(
        request,
        "staff/audit.html",
        {"study": access.study, "page": page, "action": action, "actions": Action.choices},
    )


@login_required
def audit_csv(request: HttpRequest, code: str) -> StreamingHttpResponse:
    access = _access(request, code, Permission.VIEW_AUDIT)
    record_event(
        actor=actor_for(request.user),
        action=Action.EXPORT,
        record=f"studies.Study:{access.study.pk}",
        changes={"export": [None, "audit trail (CSV)"]},
    )
    response = StreamingHttpResponse(
        csv_rows(study_entries(access.study)), content_type="text/csv"
    )
    response["Content-Disposition"] = f'attachment; filename="{code}-audit-trail.csv"'
    return response


@login_required
def pharmacy(request: HttpRequest, code: str) -> HttpResponse:
    """The unblinded pharmacy view: list versions, slots in use, kits by contents."""
    access = _access(request, code, Permission.MANAGE_KITS)
    study = access.study
    posted = request.POST.get("form") if request.method == "POST" else None
    form = AllocationForm(request.POST if posted == "allocation" else None)
    dispense = DispenseForm(request.POST if posted == "dispense" else None)
    back = ReturnForm(request.POST if posted == "return" else None)
    if posted == "allocation" and form.is_valid():
        try:
            generate_allocation(study, per_stratum=form.cleaned_data["per_stratum"])
        except LdnTrialError as error:
            form.add_error(None, str(error))
        else:
            return redirect("staff:pharmacy", code=code)
    if posted == "dispense" and dispense.is_valid():
        person = Participant.objects.filter(
            study=study, code=dispense.cleaned_data["participant"]
        ).first()
        if person is None:
            dispense.add_error("participant", "no participant with this code in the study")
        else:
            try:
                dispense_visit_kits(
                    person, dispense.cleaned_data["visit"], dispense.cleaned_data["on"]
                )
            except ValidationError as error:
                _apply(dispense, error)
            else:
                return redirect("staff:pharmacy", code=code)
    if posted == "return" and back.is_valid():
        kit = Kit.objects.filter(
            study=study, code=back.cleaned_data["kit"].strip().upper()
        ).first()
        if kit is None:
            back.add_error("kit", "no kit with this code in the study")
        else:
            try:
                record_return(kit, back.cleaned_data["on"], back.cleaned_data["capsules"])
            except ValidationError as error:
                _apply(back, error)
            else:
                return redirect("staff:pharmacy", code=code)
    kits = (
        Kit.objects.filter(study=study)
        .values("condition", "dose_mg")
        .annotate(kits=Count("pk"))
        .order_by("condition", "dose_mg")
    )
    slots = AllocationSlot.objects.filter(study=study)
    return render(
        request,
        "staff/pharmacy.html",
        {
            "study": study,
            "form": form,
            "versions": study.allocation_lists.order_by("version"),
            "slots_total": slots.count(),
            "slots_used": slots.filter(participant__isnull=False).count(),
            "kits": kits,
            "dispense_form": dispense,
            "return_form": back,
            "handed_out": Kit.objects.filter(study=study, dispensed_on__isnull=False)
            .select_related("slot__participant")
            .order_by("-dispensed_on", "code")[:50],
        },
        status=422 if form.errors or dispense.errors or back.errors else 200,
    )
