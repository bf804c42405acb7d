"""Staff join a study by invitation: a one-time link by email, a role per site, their own password.

The study administrator invites an address to a role (at one site or at all);
the link carries a random secret of which only a hash is stored, works once,
and expires after :data:`VALID_FOR`. Whoever opens it chooses a user name and
a password (Django's password validators apply) or, already signed in, adds
the role to her own account. A role is removed with a reason. Every step is
audited and listed on the access review page; a site that requires a second
factor asks for it at the first sign-in, as for everyone.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import timedelta

from django.contrib.auth import get_user_model
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.core.mail import send_mail
from django.core.validators import validate_email
from django.db import transaction
from django.utils import timezone

from ldntrial.web.audit.tracking import actor_for, because
from ldntrial.web.studies.models import Invitation, Membership, Site, Study
from ldntrial.web.studies.roles import Role

__all__ = [
    "VALID_FOR",
    "InvitationSent",
    "accept_invitation",
    "invitation_for",
    "invitation_path",
    "invite",
    "remove_membership",
    "revoke_invitation",
]

VALID_FOR = timedelta(days=7)


@dataclass(frozen=True)
class InvitationSent:
    """The stored invitation and its link's secret (in the email; never stored)."""

    invitation: Invitation
    secret: str


def invitation_path(secret: str) -> str:
    return f"/accounts/invitations/{secret}/"


def _hash(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def invite(
    study: Study, *, actor: str, email: str, role: str, site: Site | None, by, base_url: str
) -> InvitationSent:
    """Store an invitation and email its link once the save has committed.

    An earlier pending invitation of the same address to the same role and site is
    revoked: only the newest link works. ``by`` is who invites (on the invitation);
    ``actor`` who records it (the same person on the site, a command on the command line).
    """
    errors: dict[str, str] = {}
    try:
        validate_email(email)
    except ValidationError:
        errors["email"] = f"{email!r} is not an email address"
    if role not in {r.value for r in Role}:
        errors["role"] = "choose one of: " + ", ".join(Role)
    if site is not None and site.study_id != study.pk:
        errors["site"] = f"{site.code} is not a site of {study.code}"
    if errors:
        raise ValidationError(errors)
    secret = secrets.token_urlsafe(32)
    now = timezone.now()
    with transaction.atomic():
        earlier = Invitation.objects.filter(
            study=study, email__iexact=email, role=role, site=site
        ).filter(accepted_at__isnull=True, revoked_at__isnull=True)
        with because("a newer invitation replaces it"):
            for old in earlier:
                old.revoked_at = now
                old.save(actor=actor)
        invitation = Invitation.objects.create(
            study=study,
            site=site,
            role=role,
            email=email,
            secret_hash=_hash(secret),
            invited_by=by,
            created_at=now,
            expires_at=now + VALID_FOR,
            actor=actor,
        )
        link = base_url.rstrip("/") + invitation_path(secret)
        transaction.on_commit(lambda: _send(invitation, link))
    return InvitationSent(invitation, secret)


def _send(invitation: Invitation, link: str) -> None:
    where = f"at {invitation.site.name}" if invitation.site else "at every site"
    send_mail(
        subject=f"[{invitation.study.code}] You are invited to the study as {invitation.role}",
        message=(
            f"{invitation.invited_by.get_username()} invites you to {invitation.study.title} "
            f"as {invitation.role.replace('_', ' ')} {where}.\n\n"
            f"Open this link to choose your user name and password (once, before "
            f"{invitation.expires_at:%Y-%m-%d %H:%M} UTC):\n\n    {link}\n\n"
            "If you did not expect this, ignore it: nothing happens without the link."
        ),
        from_email=None,
        recipient_list=[invitation.email],
    )


def invitation_for(secret: str) -> Invitation:
    """The pending invitation of ``secret``; ValidationError saying why a link does not work."""
    invitation = (
        Invitation.objects.select_related("study", "site")
        .filter(secret_hash=_hash(secret))
        .first()
    )
    if invitation is None:
        raise ValidationError({"link": "this invitation link is not known"})
    if invitation.accepted_at is not None:
        raise ValidationError({"link": "this invitation was used already; sign in instead"})
    if invitation.revoked_at is not None:
        raise ValidationError({"link": "this invitation was withdrawn; ask for a new one"})
    if invitation.expires_at <= timezone.now():
        raise ValidationError({"link": "this invitation has expired; ask for a new one"})
    return invitation


def accept_invitation(secret: str, *, user=None, username: str = "", password: str = ""):
    """Give the invited role to ``user`` (signed in) or to a new account; returns the user."""
    invitation = invitation_for(secret)
    if user is None:
        user = _new_account(invitation, username, password)
    # The invited person acts for herself, signed in or not yet.
    actor = actor_for(user)
    with transaction.atomic(), because(f"accepted the invitation of {invitation.email}"):
        role = {"study": invitation.study, "site": invitation.site, "role": invitation.role}
        if not Membership.objects.filter(user=user, **role).exists():
            Membership.objects.create(user=user, **role, actor=actor)
        invitation.accepted_at, invitation.accepted_by = timezone.now(), user
        invitation.save(actor=actor)
    return user


def _new_account(invitation: Invitation, username: str, password: str):
    users = get_user_model()
    errors: dict[str, list[str]] = {}
    if not username.strip():
        errors["username"] = ["required"]
    elif users.objects.filter(username__iexact=username.strip()).exists():
        errors["username"] = [f"{username.strip()!r} is taken; choose another"]
    candidate = users(username=username.strip(), email=invitation.email)
    try:
        validate_password(password, user=candidate)
    except ValidationError as error:
        errors["password"] = list(error.messages)
    if errors:
        raise ValidationError(errors)
    return users.objects.create_user(username.strip(), email=invitation.email, password=password)


def revoke_invitation(invitation: Invitation, *, actor: str, reason: str) -> Invitation:
    """The link stops working at once."""
    if not invitation.pending:
        raise ValidationError({"invitation": "it is no longer pending"})
    if not reason.strip():
        raise ValidationError({"reason": "required: why the invitation is withdrawn"})
    with because(reason.strip()):
        invitation.revoked_at = timezone.now()
        invitation.save(actor=actor)
    return invitation


def remove_membership(membership: Membership, *, actor: str, reason: str) -> None:
    """She no longer holds this role (the row stays, ended, for the history); refused for the
    study's last study administrator."""
    if not reason.strip():
        raise ValidationError({"reason": "required: why the role is removed"})
    if (
        membership.role == Role.STUDY_ADMIN
        and Membership.objects.filter(study=membership.study, role=Role.STUDY_ADMIN).count() == 1
    ):
        raise ValidationError(
            {"membership": "the study's only study administrator: invite another one first"}
        )
    with because(reason.strip()):
        membership.ended_at = timezone.now()
        membership.save(actor=actor)
