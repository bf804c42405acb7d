"""One adverse event's page: the event, its history as the audit trail keeps it, its follow-up."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render

from ldntrial.web.audit.tracking import actor_for
from ldntrial.web.form_errors import show_errors
from ldntrial.web.staff.forms import CorrectEventForm, FollowUpForm
from ldntrial.web.staff.views.common import participant_for
from ldntrial.web.studies.audit_trail import history_of
from ldntrial.web.studies.roles import Permission
from ldntrial.web.trial.models import AdverseEvent
from ldntrial.web.trial.safety import correct_adverse_event, follow_up_adverse_event


@login_required
def adverse_event(request: HttpRequest, code: str, participant: str, number: int) -> HttpResponse:
    # Reading needs the safety view; a follow-up or correction (a POST) reporting rights.
    needed = (
        Permission.REPORT_ADVERSE_EVENT if request.method == "POST" else Permission.VIEW_SAFETY
    )
    access, person = participant_for(request, code, participant, needed)
    event = get_object_or_404(person.adverse_events, pk=number)
    may_change = not access.locked and access.can(Permission.REPORT_ADVERSE_EVENT, person.site)
    step = request.POST.get("step") if request.method == "POST" else None
    # The forms validate copies: the services compare what is stored with what is asked.
    follow_up = correction = None
    if may_change:
        follow_up = FollowUpForm(
            request.POST if step == "follow_up" else None,
            instance=AdverseEvent.objects.get(pk=event.pk),
        )
        correction = CorrectEventForm(
            request.POST if step == "correct" else None,
            instance=AdverseEvent.objects.get(pk=event.pk),
        )
    form = {"follow_up": follow_up, "correct": correction}.get(step or "")
    service = follow_up_adverse_event if step == "follow_up" else correct_adverse_event
    if form is not None and form.is_valid():
        try:
            service(event, **form.cleaned_data, actor=actor_for(request.user))
        except ValidationError as error:
            show_errors(form, error)
        else:
            said = _confirmation(event) if step == "follow_up" else _corrected(event)
            messages.success(request, said)
            return redirect("staff:participant", code=code, participant=person.code)
    return render(
        request,
        "staff/adverse_event.html",
        {
            "study": access.study,
            "participant": person,
            "event": event,
            "history": history_of(event),
            "form": follow_up,
            "correction": correction,
        },
        status=422 if form is not None and form.errors else 200,
    )


def _corrected(event: AdverseEvent) -> str:
    return (
        f"Adverse event corrected: {event.term}, onset {event.onset:%Y-%m-%d}, "
        f"{'serious' if event.serious else 'not serious'}, {event.get_related_display()}."
    )


def _confirmation(event: AdverseEvent) -> str:
    ended = f", ended {event.resolved_on:%Y-%m-%d}" if event.resolved_on else ""
    told = ""
    if event.serious:
        told = (
            f"; the serious-event alert went to {len(event.alerted)} people"
            if event.alerted
            else "; NO ONE could be alerted by email: telephone the investigator now"
        )
    return (
        f"Follow-up of {event.term} saved: {event.get_outcome_display().lower()}{ended}, "
        f"{event.get_action_taken_display()}{told}."
    )
