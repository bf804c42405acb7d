"""The study's team and its periodic access review (standards.md D1; 21 CFR 11.300(b)).

The study administrator invites staff by email to a role at a site, withdraws
invitations, and removes roles no longer needed (with a reason); every change
is audited and listed here with who made it and why. Passwords are not
expired on a timer (ASVS 6.2.10 forbids it); instead the administrator
reviews the accounts and signs the review off with the principal
investigator. Dormant accounts stand out by their last sign-in.
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render

from ldntrial.web.audit.models import AuditEntry
from ldntrial.web.audit.tracking import actor_for
from ldntrial.web.form_errors import show_errors
from ldntrial.web.staff.team_forms import InviteForm, ReasonForm
from ldntrial.web.staff.views.common import study_access
from ldntrial.web.studies.access import Access
from ldntrial.web.studies.audit_trail import person_named
from ldntrial.web.studies.invitations import invite, remove_membership, revoke_invitation
from ldntrial.web.studies.models import Invitation, Membership
from ldntrial.web.studies.roles import Permission


@login_required
def access_review(request: HttpRequest, code: str) -> HttpResponse:
    access = study_access(request, code, Permission.MANAGE_MEMBERS)
    invite_form = InviteForm(study=access.study)
    action = request.POST.get("form") if request.method == "POST" else None
    if action == "invite":
        invite_form = InviteForm(request.POST, study=access.study)
        if invite_form.is_valid():
            try:
                sent = invite(
                    access.study,
                    **invite_form.cleaned_data,
                    by=request.user,
                    base_url=request.build_absolute_uri("/"),
                    actor=actor_for(request.user),
                )
            except ValidationError as error:
                show_errors(invite_form, error)
            else:
                messages.success(
                    request,
                    f"Invitation sent to {sent.invitation.email} as {sent.invitation.role}; "
                    "the link works once, for 7 days.",
                )
                return redirect("staff:access_review", code=code)
    elif action in {"remove", "withdraw"}:
        problem = _remove_or_withdraw(request, access, action)
        if problem is None:
            return redirect("staff:access_review", code=code)
        messages.error(request, problem)
    return render(
        request,
        "staff/access_review.html",
        _context(access, invite_form),
        status=422 if invite_form.errors or action in {"remove", "withdraw"} else 200,
    )


def _remove_or_withdraw(request: HttpRequest, access: Access, action: str) -> str | None:
    """Remove a role or withdraw an invitation; the problem in words, or None when done."""
    form = ReasonForm(request.POST)
    if not form.is_valid():
        return "Say why (the reason is kept in the audit trail)."
    reason = form.cleaned_data["reason"]
    try:
        if action == "remove":
            membership = get_object_or_404(
                Membership, pk=request.POST.get("id"), study=access.study
            )
            remove_membership(membership, reason=reason, actor=actor_for(request.user))
            done = f"{membership.user.get_username()} no longer holds {membership.role}."
        else:
            invitation = get_object_or_404(
                Invitation, pk=request.POST.get("id"), study=access.study
            )
            revoke_invitation(invitation, reason=reason, actor=actor_for(request.user))
            done = f"The invitation of {invitation.email} is withdrawn; its link no longer works."
    except ValidationError as error:
        return " ".join(error.messages)
    messages.success(request, done)
    return None


def _context(access: Access, invite_form: InviteForm) -> dict[str, object]:
    study = access.study
    members = (
        Membership.objects.filter(study=study)
        .select_related("user", "site")
        .order_by("user__username", "role")
    )
    pending = [
        i for i in Invitation.objects.filter(study=study).order_by("-created_at") if i.pending
    ]
    return {
        "study": study,
        "members": members,
        "pending": pending,
        "invite_form": invite_form,
        "history": _history(study),
    }


def _history(study) -> list[dict[str, object]]:
    """Every change to the study's roles and invitations, newest first, as people read them."""
    described = {
        f"studies.Membership:{m.pk}": f"{m.user.get_username()}: {m.role} at {_where(m)}"
        for m in Membership.every.filter(study=study).select_related("user", "site")
    } | {
        f"studies.Invitation:{i.pk}": f"{i.email}: {i.role} at {_where(i)}"
        for i in Invitation.objects.filter(study=study).select_related("site")
    }
    entries = AuditEntry.objects.filter(record__in=list(described)).order_by("-id")
    return [
        {
            "at": entry.at,
            "who": person_named(entry.actor),
            "event": _event(entry),
            "what": described[entry.record],
            "reason": entry.reason,
        }
        for entry in entries
    ]


def _where(row: Membership | Invitation) -> str:
    return row.site.name if row.site else "every site"


def _event(entry: AuditEntry) -> str:
    if entry.record.startswith("studies.Membership:"):
        return "role removed" if "ended_at" in entry.changes else "role given"
    if entry.action == "create":
        return "invited"
    return "invitation accepted" if "accepted_at" in entry.changes else "invitation withdrawn"
