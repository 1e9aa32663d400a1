"""`piis-bridge rules agenda` and `piis-bridge rules subsidy`: the morning agenda across many contract
files, and the month-by-month 10% subsidy schedule of a file.

Both read canonical contract files; a record that does not validate is reported on stderr (file,
record, field, reason -- never a value) and the others are still processed; the exit code is then 1.
``--json`` output is stable and documented in docs/rules-more.md.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import typer
from rich.console import Console
from rich.table import Table

from piis_bridge.cli._registry import CommandRegistry
from piis_bridge.model import PIISContract, Problem, load_file

__all__ = ["register", "rules_agenda", "rules_subsidy", "SUBSIDY_FORMAT"]

SUBSIDY_FORMAT = "piis-bridge/subsidy-schedule"
RULES_HELP = "PIIS rules: check contracts, list the rules, the agenda of legal dates, the subsidy schedule."


def register(cli: CommandRegistry) -> None:
    group = cli.group("rules", help=RULES_HELP)
    group.command("agenda")(rules_agenda)
    group.command("subsidy")(rules_subsidy)


def _day(value: str, option: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise typer.BadParameter(f"expected a date YYYY-MM-DD, got {value!r}", param_hint=option) from None


def _euros(cents: int) -> str:
    sign = "-" if cents < 0 else ""
    cents = abs(cents)
    return f"{sign}{cents // 100:,}.{cents % 100:02d}"


def _contracts(files: list[Path], problems: list[Problem]) -> Iterator[PIISContract]:
    """Contracts of every file, one file in memory at a time; problems are collected, not raised."""
    for path in files:
        result = load_file(path)
        problems.extend(result.problems)
        yield from result.contracts


def _report_problems(problems: list[Problem]) -> None:
    for p in problems:
        typer.echo(f"piis-bridge: skipped: {p}", err=True)


def rules_agenda(
    files: list[Path] = typer.Argument(None, help="Canonical contract files (JSON); or --cpas."),
    cpas: str | None = typer.Option(None, "--cpas", help="Instead of files: the contracts the bridge holds for "
                                                         "this CPAS (the latest version of each record it processed)."),
    start: str = typer.Option(..., "--from", help="First day of the agenda (YYYY-MM-DD), included."),
    end: str = typer.Option(..., "--to", help="Last day of the agenda (YYYY-MM-DD), included."),
    as_json: bool = typer.Option(False, "--json", help="Print the stable JSON form (docs/rules-more.md)."),
    limit: int | None = typer.Option(None, "--limit", min=1, help="Only the first N items."),
    overdue: bool = typer.Option(False, "--overdue", help="Also list deadlines before --from that are still not met."),
) -> None:
    """Every legal deadline and event of every contract between two dates, sorted, with the rule behind it."""
    from piis_bridge.rules.agenda import agenda, agenda_json

    first, last = _day(start, "--from"), _day(end, "--to")
    if last < first:
        raise typer.BadParameter("--to is before --from", param_hint="--to")
    if bool(files) == bool(cpas):
        raise typer.BadParameter("give contract files or --cpas ID (one of them)", param_hint="FILES / --cpas")
    problems: list[Problem] = []
    contracts = _contracts(files, problems) if files else _held(cpas)
    items = agenda(contracts, first, last, limit=limit, overdue=overdue)
    if as_json:
        typer.echo(json.dumps(agenda_json(items, first, last), ensure_ascii=False, indent=2))
    elif not items:
        typer.echo(f"agenda {first.isoformat()} to {last.isoformat()}: none")
    else:
        console = Console(highlight=False)
        table = Table(title=f"Agenda {first.isoformat()} to {last.isoformat()}: {len(items)} item(s)")
        for column in ("date", "contract", "CPAS", "rule", "kind", "what"):
            table.add_column(column, overflow="fold", no_wrap=column in ("date", "rule"))
        for item in items:
            table.add_row(item.date.isoformat(), item.contract_id, item.cpas_ins, item.rule_id, item.kind, item.label)
        console.print(table)
    _report_problems(problems)
    raise typer.Exit(1 if problems else 0)


def _held(cpas: str) -> Iterator[PIISContract]:
    """The contracts the bridge holds for *cpas* (:func:`piis_bridge.ops.queries.held_contracts`)."""
    from piis_bridge.cli.pipeline_commands import _runtime
    from piis_bridge.ops.queries import held_contracts

    rt = _runtime()
    if cpas not in rt.settings.cpas:
        typer.echo(f"unknown CPAS {cpas!r}; configured: {', '.join(sorted(rt.settings.cpas)) or 'none'}", err=True)
        raise typer.Exit(2)
    try:
        yield from held_contracts(rt, cpas)
    finally:
        rt.close()


def rules_subsidy(
    file: Path = typer.Argument(..., help="A canonical contract file (JSON)."),
    as_json: bool = typer.Option(False, "--json", help="Print the stable JSON form (docs/rules-more.md)."),
) -> None:
    """The month-by-month 10% subsidy schedule of each contract (amounts in EUR, computed in cents)."""
    from piis_bridge.rules.subsidies import ROUNDING, plan_json, subsidy_plans

    problems: list[Problem] = []
    plans = list(subsidy_plans(_contracts([file], problems)))
    if as_json:
        body = {"format": SUBSIDY_FORMAT, "version": 1, "rounding": ROUNDING, "plans": [plan_json(p) for p in plans]}
        typer.echo(json.dumps(body, ensure_ascii=False, indent=2))
    else:
        console = Console(highlight=False)
        for plan in plans:
            window = (f"{plan.window_start.isoformat()[:7]} to {plan.window_end.isoformat()[:7]}"
                      if plan.window_start and plan.window_end else
                      plan.window_start.isoformat()[:7] if plan.window_start else "-")
            lines = [f"type {plan.type.value if plan.type else '-'}", f"window {window}",
                     f"total EUR {_euros(plan.total_cents)}"]
            if plan.remaining_months is not None:
                lines.append(f"remaining months {plan.remaining_months}")
            if plan.budget_article:
                lines.append(f"budget article {plan.budget_article}")
            table = Table(title=f"Contract {plan.contract_id}: " + ", ".join(lines))
            for column in ("month", "subsidy", "covered", "running", "RI (EUR)", "10% (EUR)", "excluded because"):
                table.add_column(column, overflow="fold",
                                 justify="right" if "EUR" in column else "left")
            for m in plan.months:
                table.add_row(m.month.isoformat()[:7], m.subsidy_type.value if m.subsidy_type else "-",
                              "yes" if m.covered_by_piis else "no", "yes" if m.project_running else "no",
                              _euros(m.ri_amount_cents), _euros(m.subsidy_cents), m.excluded_reason or "")
            console.print(table)
            for note in plan.notes:
                console.print(f"  note: {note}")
        console.print(f"{len(plans)} contract(s); rounding: {ROUNDING}")
    _report_problems(problems)
    raise typer.Exit(1 if problems else 0)
