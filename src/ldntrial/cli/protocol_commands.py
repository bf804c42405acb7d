"""`ldntrial protocol ...`: list, show, validate and copy protocol files."""

from __future__ import annotations

import re
from pathlib import Path

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from ldntrial.errors import ProtocolError, ProtocolIssue

app = typer.Typer(help="Protocol files: the built-ins, checking your own, starting a new one.")
console = Console(highlight=False, soft_wrap=True)


@app.command("list")
def list_protocols() -> None:
    """List the built-in protocols."""
    from ldntrial.protocol.loader import builtin_protocol_ids, load_protocol

    table = Table("id", "title", "days", "sequences")
    for protocol_id in builtin_protocol_ids():
        protocol = load_protocol(protocol_id)
        lengths = sorted(
            {sum(protocol.phase(p).days for p in s.phases) for s in protocol.all_sequences}
        )
        days = "/".join(str(length) for length in lengths)
        table.add_row(protocol_id, protocol.title, days, str(len(protocol.all_sequences)))
    console.print(table)


@app.command("show")
def show(
    protocol_id: str = typer.Argument(..., metavar="ID", help="A built-in id or a protocol file."),
    toml: bool = typer.Option(False, "--toml", help="Print the TOML text instead of a summary."),
) -> None:
    """Show a protocol: phases, sequences, allocation, diary and end points."""
    from ldntrial.protocol.loader import builtin_protocol_text, load_protocol, read_protocol_text

    if toml:
        path = Path(protocol_id)
        text = read_protocol_text(path) if path.is_file() else builtin_protocol_text(protocol_id)
        typer.echo(text, nl=False)
        return
    protocol = load_protocol(protocol_id)
    console.print(f"[bold]{protocol.id}[/]: {escape(protocol.title)}")
    if protocol.summary:
        console.print(protocol.summary, markup=False)
    for reference in protocol.references:
        console.print(f"  source: {reference.citation}", markup=False)
    phases = Table("phase", "days", "condition", "blinding", title="Phases")
    for phase in protocol.phases:
        condition = protocol.conditions[phase.condition]
        phases.add_row(
            phase.name, str(phase.days), condition.label or phase.condition, phase.blinding
        )
    console.print(phases)
    console.print(f"Allocation: {protocol.allocation.method}")
    for sequence in protocol.all_sequences:
        console.print(f"  {sequence.name}: {' > '.join(sequence.phases)}")
    console.print(f"Diary items: {', '.join(protocol.diary_item_ids)}")
    endpoints = protocol.endpoints
    window = f"final {endpoints.endpoint_days} days" if endpoints.endpoint_days else "whole phase"
    console.print(
        f"Primary end point: {endpoints.primary_item}, % improvement from "
        f"'{endpoints.baseline_phase}' to the {window} of each condition"
    )


@app.command("validate")
def validate(file: Path = typer.Argument(..., help="The protocol file to check.")) -> None:
    """Check a protocol file; every broken rule is listed with its line and field."""
    from ldntrial.protocol.loader import parse_protocol, read_protocol_text

    if not file.is_file():
        raise ProtocolError([ProtocolIssue("", "no such file")], source=str(file))
    protocol = parse_protocol(read_protocol_text(file), source=str(file))
    sequences = len(protocol.all_sequences)
    console.print(
        f"{file}: valid protocol '{protocol.id}' "
        f"({len(protocol.phases)} phases, {sequences} sequences)"
    )


@app.command("new")
def new(
    file: Path = typer.Argument(..., help="Where to write the new protocol (.toml)."),
    from_id: str = typer.Option(..., "--from", help="The built-in protocol to start from."),
) -> None:
    """Start a protocol of your own from a built-in one (comments and all)."""
    from ldntrial.protocol.loader import builtin_protocol_text, parse_protocol

    if file.exists():
        raise ProtocolError(
            [ProtocolIssue("", "already exists; choose another file name")], source=str(file)
        )
    text = builtin_protocol_text(from_id)
    new_id = re.sub(r"[^a-z0-9_-]+", "-", file.stem.lower()).strip("-") or "my-protocol"
    if not new_id[0].isalpha():
        new_id = f"p-{new_id}"
    text = re.sub(r'(?m)^id = ".*"$', f'id = "{new_id}"', text, count=1)
    text = f"# Started from the built-in protocol '{from_id}'.\n" + text
    parse_protocol(text, source=str(file))
    file.write_text(text, encoding="utf-8")
    console.print(
        f"wrote {file} (id '{new_id}', from '{from_id}'); "
        f"edit it, then run: ldntrial protocol validate {file}"
    )
