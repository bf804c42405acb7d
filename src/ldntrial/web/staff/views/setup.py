"""The site administrator creates a study from a protocol file (a Django superuser)."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render

from ldntrial.web.audit.tracking import actor_for
from ldntrial.web.form_errors import show_errors
from ldntrial.web.staff.team_forms import NewStudyForm
from ldntrial.web.studies.setup import create_study


@login_required
def study_new(request: HttpRequest) -> HttpResponse:
    if not request.user.is_superuser:
        raise PermissionDenied("only the site's administrator creates studies")
    form = NewStudyForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            study = create_study(
                code=data["code"],
                title=data["title"],
                protocol_text=data["protocol_text"],
                sites=form.site_specs(),
                admin=request.user,
                actor=actor_for(request.user),
            )
        except ValidationError as error:
            show_errors(form, error)
        else:
            messages.success(
                request,
                f"Study {study.code} created with {study.sites.count()} site(s); you are its "
                "study administrator. Next: invite the team (Team and access review), then "
                "the pharmacist makes the allocation list.",
            )
            return redirect("staff:dashboard", code=study.code)
    return render(
        request, "staff/study_new.html", {"form": form}, status=422 if form.errors else 200
    )
