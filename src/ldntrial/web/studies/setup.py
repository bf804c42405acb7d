"""A new study from a protocol file: its code, title, sites (each with a time zone), its admin.

One path for every way a study is made (the administrator's page, ``ldntrial
manage create_study`` and the demo), so each is checked and audited alike:
the protocol text is parsed and every problem is named with its line and
field; nothing is stored unless all of it is right. The allocation list is
made afterwards by the pharmacy, as for any study.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from zoneinfo import available_timezones

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from ldntrial.errors import ProtocolError
from ldntrial.protocol.loader import parse_protocol
from ldntrial.web.studies.models import Membership, ProtocolVersion, Site, Study
from ldntrial.web.studies.roles import Role

__all__ = ["SiteSpec", "create_study", "parse_sites"]

_SLUG = re.compile(r"^[a-z0-9][a-z0-9-]{0,39}$")
RESERVED_CODES = frozenset({"new"})  # /studies/new/ is the page that creates a study


@dataclass(frozen=True)
class SiteSpec:
    """One site of a new study: a short code, its name and its IANA time zone."""

    code: str
    name: str
    timezone: str


def parse_sites(text: str) -> list[SiteSpec]:
    """Sites written one per line as ``code, name, time zone`` (the form's and CLI's syntax)."""
    sites, problems = [], []
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        parts = [part.strip() for part in line.split(",")]
        if len(parts) != 3:
            problems.append(f"line {number}: write 'code, name, time zone', got {line.strip()!r}")
            continue
        sites.append(SiteSpec(*parts))
    if problems:
        raise ValidationError({"sites": problems})
    return sites


def create_study(
    *,
    actor: str,
    code: str,
    title: str,
    protocol_text: str,
    sites: Sequence[SiteSpec],
    admin=None,
) -> Study:
    """Store the study and its sites; ``admin`` (a user) becomes its study administrator."""
    errors: dict[str, list[str]] = {}
    if not _SLUG.match(code):
        errors["code"] = ["lower-case letters, digits and hyphens, at most 40, e.g. ldn-2027"]
    elif code in RESERVED_CODES:
        errors["code"] = [f"'{code}' names a page of the site; choose another code"]
    elif Study.objects.filter(code=code).exists():
        errors["code"] = [f"a study {code} already exists; choose another code"]
    if not title.strip():
        errors["title"] = ["required: the study's full title"]
    try:
        parse_protocol(protocol_text, source="protocol")
    except ProtocolError as error:
        errors["protocol_text"] = str(error).splitlines()
    if site_problems := _site_problems(sites):
        errors["sites"] = site_problems
    if errors:
        raise ValidationError(errors)
    with transaction.atomic():
        study = Study.objects.create(
            code=code, title=title.strip(), protocol_text=protocol_text, actor=actor
        )
        for site in sites:
            Site.objects.create(
                study=study, code=site.code, name=site.name, timezone=site.timezone, actor=actor
            )
        ProtocolVersion.objects.create(
            study=study,
            version=1,
            protocol_text=protocol_text,
            reason="the protocol the study was created with",
            made_by=admin,
            made_at=timezone.now(),
            actor=actor,
        )
        if admin is not None:
            Membership.objects.create(user=admin, study=study, role=Role.STUDY_ADMIN, actor=actor)
    return study


def _site_problems(sites: Sequence[SiteSpec]) -> list[str]:
    if not sites:
        return ["at least one site: 'code, name, time zone', e.g. 'stanford, Stanford, "
                "America/Los_Angeles'"]  # fmt: skip
    problems = []
    zones = available_timezones()
    seen: set[str] = set()
    for site in sites:
        if not _SLUG.match(site.code):
            problems.append(f"{site.code!r}: a site code is lower-case letters, digits, hyphens")
        elif site.code in seen:
            problems.append(f"{site.code!r}: given twice")
        seen.add(site.code)
        if not site.name:
            problems.append(f"{site.code}: its name is missing")
        if site.timezone not in zones:
            problems.append(f"{site.code}: {site.timezone!r} is not an IANA time zone")
    return problems
