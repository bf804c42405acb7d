"""`ldntrial demo`: what ldntrial makes, shown on the Stanford crossover design.

It simulates the 2013 crossover and writes its report, then builds the demo
study in the staff site's database (data folder: LDNTRIAL_DATA_DIR, default
./data), prints the demo logins and serves the site.
"""

from __future__ import annotations

from pathlib import Path

import typer
from rich.console import Console
from rich.table import Table

from ldntrial.cli.web_commands import migrate_database, run_server, setup_django

console = Console(highlight=False, soft_wrap=True)


def demo(
    out: Path = typer.Option(Path("demo-output"), "--out", help="Folder for the demo bundle."),
    port: int = typer.Option(8000, "--port", min=1, max=65535, help="Port on 127.0.0.1."),
    serve: bool = typer.Option(True, "--serve/--no-serve", help="Serve the site afterwards."),
) -> None:
    """Simulate and report the 2013 crossover, build the demo study and serve the staff site."""
    setup_django()
    _simulated_trial(out)
    migrate_database()
    from ldntrial.web.demo import DEMO_LOGINS, DEMO_PASSWORD, build_demo_study

    study, built = build_demo_study()
    console.print(
        f"\n[bold]Staff site[/]: demo study '{study.code}' "
        f"({'built now' if built else 'already there'}); sign in at "
        f"http://127.0.0.1:{port}/ with password {DEMO_PASSWORD} as:"
    )
    logins = Table("username", "role", "site")
    for login in DEMO_LOGINS:
        logins.add_row(login.username, login.role.value, login.site or "all sites")
    console.print(logins)
    if serve:
        run_server(port)


def _simulated_trial(out: Path) -> None:
    from ldntrial.data.bundle import save_bundle
    from ldntrial.report import write_report
    from ldntrial.simulate.demo import DEMO_TRIAL_SEED, DEMO_TRIAL_WOMEN, demo_trial
    from ldntrial.stats import condition_endpoints, summarise_endpoints

    trial = demo_trial()
    path = save_bundle(trial, out / "crossover-2013", overwrite=True)
    console.print(f"[bold]Simulated[/] {trial.protocol.title}")
    console.print(
        f"{DEMO_TRIAL_WOMEN} participants, scenario 'stanford', seed {DEMO_TRIAL_SEED} "
        f"-> {path.resolve()}"
    )
    summary = summarise_endpoints(condition_endpoints(trial))
    results = Table("condition", "n", "mean % pain improvement", "improved >= 30 %")
    for row in summary.itertuples():
        results.add_row(
            row.condition,
            str(row.n),
            f"{row.mean_improvement_percent:.1f}",
            f"{row.share_improving_30:.0%}",
        )
    console.print(results)
    console.print(
        "Published (Younger 2013): 28.8 % on LDN vs 18.0 % on placebo. One trial of 31 "
        "varies by chance; averaged over many simulated trials the 'stanford' scenario "
        "gives those figures."
    )
    report = write_report(trial, out / "report.html")[0]
    console.print(f"The trial report (open it in a browser): {report.resolve()}")
    console.print(f"Open the data in Python: ldntrial.data.load_bundle('{path}')")
