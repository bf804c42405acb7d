"""Where one is and how to go back: the breadcrumbs and the study menu of every staff page.

A context processor, so no view can forget them. The menu lists what the
person's roles in the study allow (never anything about an allocation:
the pharmacy appears for the pharmacist whatever the arms); the crumbs
follow the address (study, participant, screening, pharmacy).
"""

from __future__ import annotations

from django.http import HttpRequest
from django.urls import reverse

from ldntrial.web.studies.access import Access
from ldntrial.web.studies.models import Study
from ldntrial.web.studies.roles import Permission

__all__ = ["navigation"]

# (label, URL name, permission that shows it), in the order of a study's life.
MENU = (
    ("Dashboard", "dashboard", Permission.VIEW_DASHBOARD),
    ("Records", "records", Permission.VIEW_PARTICIPANTS),
    ("Screen", "screen", Permission.SCREEN),
    ("Pharmacy", "pharmacy", Permission.VIEW_ALLOCATION),
    ("Import labs", "lab_import", Permission.ENTER_LABS),
    ("Export", "export", Permission.EXPORT_DATA),
    ("Audit trail", "audit", Permission.VIEW_AUDIT),
    ("Team", "access_review", Permission.MANAGE_MEMBERS),
    ("Protocol", "protocol", Permission.VIEW_DASHBOARD),
    ("Database lock", "lock", Permission.VIEW_DASHBOARD),
    ("Analysis", "analysis", Permission.ANALYSE_LOCKED),
)
SCREENING_PAGES = frozenset({"screening", "enrol", "sign_off", "not_enrolled"})


def navigation(request: HttpRequest) -> dict[str, object]:
    match = request.resolver_match
    if match is None or not request.user.is_authenticated:
        return {}
    crumbs = [("Your studies", reverse("staff:studies"))]
    code = match.kwargs.get("code")
    study = Study.objects.filter(code=code).first() if code else None
    access = Access.of(request.user, study) if study is not None else None
    if study is None or access is None or not access.roles:
        return {"crumbs": crumbs}
    crumbs.append((study.code, reverse("staff:dashboard", kwargs={"code": study.code})))
    if match.url_name == "kit_labels":
        crumbs.append(("pharmacy", reverse("staff:pharmacy", kwargs={"code": study.code})))
    elif participant := match.kwargs.get("participant"):
        url = reverse("staff:participant", kwargs={"code": study.code, "participant": participant})
        crumbs.append((participant, url))
    elif match.url_name in SCREENING_PAGES:
        number = match.kwargs["number"]
        url = reverse("staff:screening", kwargs={"code": study.code, "number": number})
        crumbs.append((f"screening {number}", url))
    menu = [
        (label, reverse(f"staff:{name}", kwargs={"code": study.code}), name == match.url_name)
        for label, name, permission in MENU
        if access.can(permission)
    ]
    return {"crumbs": crumbs, "study_menu": menu}
