"""`ldntrial manage`: Django's management commands for the staff site."""

from __future__ import annotations

import os

import typer
from django.core.exceptions import ImproperlyConfigured

from ldntrial.errors import LdnTrialError

SETTINGS = "ldntrial.web.settings"


class SiteConfigurationError(LdnTrialError):
    """A setting of the site breaks its rule (the message names the variable)."""


def manage(ctx: typer.Context) -> None:
    """Run a Django management command, e.g. `ldntrial manage migrate` or `verify_audit`."""
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", SETTINGS)
    from django.core.management import execute_from_command_line

    try:
        execute_from_command_line(["ldntrial manage", *ctx.args])
    except ImproperlyConfigured as error:
        raise SiteConfigurationError(str(error)) from None
