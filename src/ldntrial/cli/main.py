"""The `ldntrial` command: argument parsing and printing; the work is done by the library.

Every expected failure is an :class:`~ldntrial.errors.LdnTrialError`; the
top-level group turns it into its message on stderr and exit code 2, in this
one place, so no command needs its own error handling.

Each command imports the library's work inside its function, not at the top
of its module: building this group imports every command module, and
``ldntrial --help`` should not wait for SciPy, statsmodels or Django
(tests/cli/test_startup.py holds it to that; ``make bench`` times it).
"""

from __future__ import annotations

import typer
from rich.console import Console
from rich.markup import escape
from typer.core import TyperGroup

from ldntrial.cli import (
    analyze_command,
    demo_command,
    evidence_command,
    export_command,
    import_command,
    power_command,
    protocol_commands,
    report_command,
    simulate_command,
    validate_command,
    web_commands,
)
from ldntrial.errors import LdnTrialError

__all__ = ["app", "run"]

EXIT_ERROR = 2


class _ReportingGroup(TyperGroup):
    """Reports ldntrial's own errors as a message, not a traceback."""

    def invoke(self, ctx):  # type: ignore[no-untyped-def]
        try:
            return super().invoke(ctx)
        except LdnTrialError as error:
            Console(stderr=True, highlight=False, soft_wrap=True).print(
                f"[bold red]error:[/] {escape(str(error))}"  # '[not done]' stays as written
            )
            raise typer.Exit(EXIT_ERROR) from None


app = typer.Typer(
    cls=_ReportingGroup,
    help="Run and analyse blinded, placebo-controlled trials of low-dose naltrexone.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
app.add_typer(protocol_commands.app, name="protocol")
app.command("simulate")(simulate_command.simulate)
app.command("analyze")(analyze_command.analyze_bundle)
app.command("power")(power_command.power)
app.command("evidence")(evidence_command.evidence)
app.command("validate")(validate_command.validate_command)
app.command("report")(report_command.report)
app.command("export")(export_command.export)
app.command("import-redcap")(import_command.import_redcap)
app.command("demo")(demo_command.demo)
app.command(
    "manage",
    context_settings={"allow_extra_args": True, "ignore_unknown_options": True},
    add_help_option=False,
)(web_commands.manage)
app.command("serve")(web_commands.serve)


def run() -> None:
    """Console entry point."""
    app()
