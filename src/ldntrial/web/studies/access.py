"""Who may do what, where: the object-level checks every view calls (SEC-AZ-2).

An :class:`Access` is built once per request from the user's memberships in
one study; it answers "may she do P at site S?" and "which sites may she do
P at?", so a coordinator of site A sees nothing of site B.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import QuerySet

from ldntrial.web.studies.models import Membership, Site, Study
from ldntrial.web.studies.roles import DATA_ENTRY, PERMISSIONS, Permission, Role

__all__ = ["Access"]


@dataclass(frozen=True)
class Access:
    """One user's roles in one study: (role, site id or None for every site)."""

    study: Study
    grants: frozenset[tuple[Role, int | None]]

    @classmethod
    def of(cls, user, study: Study) -> Access:
        if not user.is_authenticated or not user.is_active or user.pk is None:
            return cls(study, frozenset())
        rows = Membership.objects.filter(user=user, study=study).values_list("role", "site_id")
        return cls(study, frozenset((Role(role), site) for role, site in rows))

    @property
    def roles(self) -> frozenset[Role]:
        return frozenset(role for role, _site in self.grants)

    @property
    def blinded(self) -> bool:
        """True unless one of her roles may see allocations (BLD-1); no role is blinded."""
        return not any(Permission.VIEW_ALLOCATION in PERMISSIONS[role] for role in self.roles)

    @property
    def locked(self) -> bool:
        """The study's database is locked: nothing more is entered (AUD-8)."""
        return self.study.locked_at is not None

    def can(self, permission: Permission, site: Site | None = None) -> bool:
        """May she do ``permission`` at ``site`` (or, without a site, at some site)?

        No one may enter data once the study is locked, whatever her roles.
        """
        if permission in DATA_ENTRY and self.locked:
            return False
        for role, granted_site in self.grants:
            if permission not in PERMISSIONS[role]:
                continue
            if site is None or granted_site is None or granted_site == site.pk:
                return True
        return False

    def sites(self, permission: Permission) -> QuerySet[Site]:
        """The study's sites where she may do ``permission``."""
        granted = [s for r, s in self.grants if permission in PERMISSIONS[r]]
        sites = Site.objects.filter(study=self.study)
        if None in granted:
            return sites
        return sites.filter(pk__in=granted)
