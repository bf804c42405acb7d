"""The periodic access review (standards.md D1; 21 CFR 11.300(b)): who holds which role.

Passwords are not expired on a timer (ASVS 6.2.10 forbids it); instead the
study administrator reviews the accounts and signs the review off with the
principal investigator. Dormant accounts stand out by their last sign-in.
"""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from ldntrial.web.staff.views.common import study_access
from ldntrial.web.studies.models import Membership
from ldntrial.web.studies.roles import Permission


@login_required
def access_review(request: HttpRequest, code: str) -> HttpResponse:
    access = study_access(request, code, Permission.MANAGE_MEMBERS)
    members = (
        Membership.objects.filter(study=access.study)
        .select_related("user", "site")
        .order_by("user__username", "role")
    )
    return render(request, "staff/access_review.html", {"study": access.study, "members": members})
