"""`piis-bridge schema` and `piis-bridge validate`: the canonical contract file, for vendors.

The human output is in the configured language (the root ``--lang``, else the CPAS's ``language``;
docs/i18n.md); the schema and ``--json`` stay as written, and so does a problem's text (the loader's
words) except pydantic's common messages ("Field required"), said in the language
(:func:`piis_bridge.i18n.text.validation_message`).
"""

from __future__ import annotations

import json
from pathlib import Path

import typer
from rich.console import Console
from rich.table import Table

from piis_bridge.cli._registry import CommandRegistry
from piis_bridge.i18n.cli import cli_translator
from piis_bridge.i18n.text import say
from piis_bridge.model import contract_file_schema, load_file


def register(cli: CommandRegistry) -> None:
    cli.root.command("schema")(schema)
    cli.root.command("validate")(validate)


def schema(
    output: Path | None = typer.Option(
        None, "--output", "-o", help="Write to this file instead of stdout."
    ),
) -> None:
    """Print the JSON Schema of the canonical contract file (what vendor exports map to)."""
    text = json.dumps(contract_file_schema(), indent=2, ensure_ascii=False) + "\n"
    if output:
        output.write_text(text, encoding="utf-8")
        typer.echo(cli_translator(None).gettext("wrote {path}", path=output), err=True)
    else:
        typer.echo(text, nl=False)


def validate(
    files: list[Path] = typer.Argument(..., help="Canonical contract files (JSON)."),
    as_json: bool = typer.Option(False, "--json", help="Print problems as JSON lines."),
) -> None:
    """Validate canonical contract files; report every problem with file, record and field.

    Every record of every file is checked, never stopping at the first bad one; the exit code is 1
    when any problem was found.
    """
    console = Console(stderr=False, highlight=False)
    t = cli_translator(None)
    total_records = total_valid = 0
    problems = []
    for path in files:
        result = load_file(path)
        total_records += result.records_seen
        total_valid += len(result.contracts)
        problems.extend(result.problems)
    if as_json:
        for problem in problems:
            typer.echo(json.dumps(problem.as_dict(), ensure_ascii=False))
    elif problems:
        table = Table(title=t.gettext("Problems"), show_lines=False)
        for column in (
            t.gettext("file"),
            t.gettext("record"),
            t.gettext("field"),
            t.gettext("problem"),
        ):
            table.add_column(column, overflow="fold")
        for p in problems:
            table.add_row(p.source, p.record, p.field, say(p.reason, t))
        console.print(table)
    summary = t.gettext(
        "{files} file(s), {records} record(s): {valid} valid, {invalid} invalid, "
        "{problems} problem(s)",
        files=len(files),
        records=total_records,
        valid=total_valid,
        invalid=total_records - total_valid,
        problems=len(problems),
    )
    typer.echo(summary, err=as_json)
    raise typer.Exit(1 if problems else 0)
