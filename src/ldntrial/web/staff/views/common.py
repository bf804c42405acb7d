"""Shared checks of the staff views: study access and the visible participant."""

from __future__ import annotations

from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render

from ldntrial.web.studies.access import Access
from ldntrial.web.studies.models import Study
from ldntrial.web.studies.roles import DATA_ENTRY, Permission
from ldntrial.web.trial.models import Participant


def study_access(request: HttpRequest, code: str, permission: Permission) -> Access:
    """Her access to study ``code``: 404 without a role there, 403 without ``permission``."""
    study = Study.objects.filter(code=code).first()
    access = Access.of(request.user, study) if study else None
    if access is None or not access.roles:
        raise Http404("no such study")
    if permission in DATA_ENTRY and access.locked:
        raise PermissionDenied("the database of this study is locked: nothing more is entered")
    if not access.can(permission):
        raise PermissionDenied(f"your role here does not allow {permission.value}")
    return access


def visible_participant(access: Access, code: str) -> Participant:
    """Participant ``code`` if she is at a site ``access`` may see, else 404."""
    return get_object_or_404(
        Participant.objects.select_related("site"),
        study=access.study,
        code=code,
        site__in=access.sites(Permission.VIEW_PARTICIPANTS),
    )


def participant_for(
    request: HttpRequest, code: str, participant: str, permission: Permission
) -> tuple[Access, Participant]:
    """(her access, participant ``participant``) when she may do ``permission`` at that
    participant's site: 404 when the participant is not hers to see, 403 when she may see
    but not act."""
    access = study_access(request, code, permission)
    person = visible_participant(access, participant)
    if not access.can(permission, person.site):
        raise PermissionDenied(f"your role at this site does not allow {permission.value}")
    return access, person


def refused_on_her_page(
    request: HttpRequest, access: Access, person: Participant, **forms: object
) -> HttpResponse:
    """Her page again, with the form that was refused and its field errors (422)."""
    context = {"study": access.study, "participant": person, **forms}
    return render(request, "staff/participant.html", context, status=422)
