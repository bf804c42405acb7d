"""The list of her studies and a study's dashboard."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.db.models import Count, Q
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone

from ldntrial.web.diary.compliance import diary_heatmap
from ldntrial.web.quality.models import DataQuery
from ldntrial.web.staff.views.common import study_access
from ldntrial.web.studies.models import Study
from ldntrial.web.studies.roles import Permission
from ldntrial.web.trial.models import (
    AdverseEvent,
    Participant,
    Screening,
)
from ldntrial.web.trial.record_status import SOON_DAYS, visits_to_hold
from ldntrial.web.trial.safety import alert_recipients

PARTICIPANTS_PER_PAGE = 50
"""Participants listed, and drawn in the diary heat map, per page of the dashboard: its cost
stays that of one page however large the study grows."""

VISIT_ROWS = 20
"""Rows of each visit list (due, overdue, coming) on the dashboard, the most pressing first;
the rest are counted and every one is on the records page."""


@login_required
def studies(request: HttpRequest) -> HttpResponse:
    mine = (
        Study.objects.filter(memberships__user=request.user.pk, memberships__ended_at__isnull=True)
        .select_related("nof1")
        .distinct()
        .order_by("code")
    )
    return render(request, "staff/studies.html", {"studies": mine})


@login_required
def dashboard(request: HttpRequest, code: str) -> HttpResponse:
    access = study_access(request, code, Permission.VIEW_DASHBOARD)
    # Counts by site for every dashboard role; the lists only where she may see participants.
    not_closed = [DataQuery.Status.OPEN, DataQuery.Status.ANSWERED]
    open_query = Q(participants__queries__status__in=not_closed)
    by_site = (
        access.sites(Permission.VIEW_DASHBOARD)
        .annotate(
            enrolled=Count("participants", distinct=True),
            open_queries=Count("participants__queries", filter=open_query, distinct=True),
        )
        .order_by("code")
    )
    sites = access.sites(Permission.VIEW_PARTICIPANTS)
    participants = (
        Participant.objects.filter(study=access.study, site__in=sites)
        .select_related("site")
        .annotate(
            open_queries=Count("queries", filter=Q(queries__status__in=not_closed), distinct=True)
        )
        .order_by("code")
    )
    today = timezone.localdate()
    active = participants.filter(status=Participant.Status.ACTIVE)
    to_hold = visits_to_hold(access.study, list(active), today)
    visit_lists = {"due": to_hold.due, "overdue": to_hold.overdue, "coming": to_hold.coming}
    open_events = (
        AdverseEvent.objects.filter(participant__in=participants)
        .exclude(outcome__in=[AdverseEvent.Outcome.RECOVERED, AdverseEvent.Outcome.FATAL])
        .select_related("participant")
        .order_by("onset")
    )
    # Serious events whose alert went to nobody stay here until the study has someone to tell.
    unalerted = [
        event
        for event in AdverseEvent.objects.filter(participant__in=participants, serious=True)
        .select_related("participant")
        .order_by("onset")
        if not event.alerted and access.can(Permission.VIEW_SAFETY)
    ]
    screenings = Screening.objects.filter(study=access.study, site__in=sites).order_by("-number")
    # A page number that is not one (text, too large) shows the first or the last page.
    page = Paginator(participants, PARTICIPANTS_PER_PAGE).get_page(request.GET.get("page"))
    diary_days, diary_rows = diary_heatmap(
        [person for person in page if person.status == Participant.Status.ACTIVE],
        access.study,
        now=timezone.now(),
        today=today,
    )
    return render(
        request,
        "staff/dashboard.html",
        {
            "access": access,
            "study": access.study,
            "by_site": by_site,
            "page": page,
            "screenings": screenings[:20],
            **{name: rows[:VISIT_ROWS] for name, rows in visit_lists.items()},
            **{f"{name}_count": len(rows) for name, rows in visit_lists.items()},
            "soon_days": SOON_DAYS,
            "open_events": open_events,
            "unalerted": unalerted,
            "nobody_to_alert": (
                access.can(Permission.VIEW_SAFETY) or access.can(Permission.MANAGE_MEMBERS)
            )
            and not alert_recipients(access.study),
            "diary_days": diary_days,
            "diary_rows": diary_rows,
            "can_screen": access.can(Permission.SCREEN),
            "sees_participants": access.can(Permission.VIEW_PARTICIPANTS),
            "sees_adverse_events": access.can(Permission.VIEW_SAFETY),
            "can_audit": access.can(Permission.VIEW_AUDIT),
            "can_pharmacy": access.can(Permission.VIEW_ALLOCATION),
            "can_review_access": access.can(Permission.MANAGE_MEMBERS),
            "can_analyse": access.can(Permission.ANALYSE_LOCKED),
            "can_import_labs": access.can(Permission.ENTER_LABS),
            "can_export": access.can(Permission.EXPORT_DATA),
            "locked": access.locked,
        },
    )
