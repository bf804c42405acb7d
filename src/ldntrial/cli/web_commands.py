"""`ldntrial manage` and `ldntrial serve`: the staff site from the command line."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import typer
from rich.console import Console

from ldntrial.errors import LdnTrialError

SETTINGS = "ldntrial.web.settings"
console = Console(highlight=False, soft_wrap=True)


class SiteConfigurationError(LdnTrialError):
    """A setting of the site breaks its rule (the message names the variable)."""


def setup_django() -> None:
    """Configure Django from the environment; a bad setting becomes one clear message.

    The site is an extra (`pip install 'ldntrial[web]'`): a core-only install
    hears how to add it, not an ImportError.
    """
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", SETTINGS)
    try:
        import django
    except ImportError:
        raise SiteConfigurationError(
            "the staff site is not installed: pip install 'ldntrial[web]' "
            "(the core commands, such as simulate, analyze and power, work without it)"
        ) from None
    from django.core.exceptions import ImproperlyConfigured

    try:
        django.setup()
    except ImproperlyConfigured as error:
        raise SiteConfigurationError(str(error)) from None


def migrate_database() -> None:
    """Create or bring the database up to date (quietly)."""
    from django.core.management import call_command

    call_command("migrate", verbosity=0, interactive=False)


def run_server(port: int, workers: int = 2) -> None:
    """Serve the site with gunicorn on 127.0.0.1:``port`` (this process becomes gunicorn)."""
    from django.conf import settings

    console.print(f"serving {settings.DATABASES['default']['NAME']} at http://127.0.0.1:{port}/")
    command = [
        sys.executable,
        "-m",
        "gunicorn",
        "ldntrial.web.wsgi",
        "--bind",
        f"127.0.0.1:{port}",
        "--workers",
        str(workers),
        "--access-logfile",
        "-",
    ]
    sys.stdout.flush()
    # gunicorn takes this process's place, so Ctrl-C and signals reach it directly.
    os.execv(sys.executable, command)


def manage(ctx: typer.Context) -> None:
    """Run a Django management command, e.g. `ldntrial manage migrate` or `verify_audit`."""
    setup_django()
    from django.core.management import execute_from_command_line

    execute_from_command_line(["ldntrial manage", *ctx.args])


def serve(
    port: int = typer.Option(8000, "--port", min=1, max=65535, help="Port on 127.0.0.1."),
    workers: int = typer.Option(2, "--workers", min=1, max=64, help="gunicorn processes."),
) -> None:
    """Serve the staff site from the database of LDNTRIAL_DATA_DIR or DATABASE_URL."""
    setup_django()
    check_static_files()
    migrate_database()
    run_server(port, workers)


def check_static_files() -> None:
    """In production the pages name their static files by a manifest collectstatic writes;
    without it every page would answer 500, so the server does not start."""
    from django.conf import settings

    if (
        not settings.WHITENOISE_USE_FINDERS
        and not (Path(settings.STATIC_ROOT) / "staticfiles.json").is_file()
    ):
        raise SiteConfigurationError(
            f"no static files in {settings.STATIC_ROOT}: run "
            "`ldntrial manage collectstatic --noinput` once (and after each upgrade), "
            "then `ldntrial serve` again"
        )
