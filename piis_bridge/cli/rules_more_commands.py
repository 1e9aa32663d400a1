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
from piis_bridge.i18n.cli import LANG_HELP, cli_translator
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
    files: list[Path] = typer.Argument(..., help="Canonical contract files (JSON)."),
    start: str = typer.Option(..., "--from", help="First day of the agenda (YYYY-MM-DD), included."),
    end: str = typer.Option(..., "--to", help="Last day of the agenda (YYYY-MM-DD), included."),
    lang: str | None = typer.Option(None, "--lang", help=LANG_HELP),
    as_json: bool = typer.Option(False, "--json", help="Print the stable JSON form (docs/rules-more.md)."),
    limit: int | None = typer.Option(None, "--limit", min=1, help="Only the first N items."),
    overdue: bool = typer.Option(False, "--overdue", help="Also list deadlines before --from that are still not met."),
) -> None:
    """Every legal deadline and event of every contract between two dates, sorted, with the rule behind it."""
    from piis_bridge.i18n.labels import translate_label
    from piis_bridge.i18n.rules import agenda_kind_text, localize_agenda_json
    from piis_bridge.rules.agenda import agenda, agenda_json

    t = cli_translator(lang)
    first, last = _day(start, "--from"), _day(end, "--to")
    if last < first:
        raise typer.BadParameter("--to is before --from", param_hint="--to")
    problems: list[Problem] = []
    items = agenda(_contracts(files, problems), first, last, limit=limit, overdue=overdue)
    if as_json:
        typer.echo(json.dumps(localize_agenda_json(agenda_json(items, first, last), t), ensure_ascii=False, indent=2))
    else:
        console = Console(highlight=False)
        table = Table(title=t.gettext("Agenda {start} to {end}: {count} item(s)", start=first, end=last,
                                      count=len(items)))
        columns = (t.gettext("date"), t.gettext("contract"), t.gettext("CPAS"), t.gettext("rule"), t.gettext("kind"),
                   t.gettext("what"))
        for i, column in enumerate(columns):
            table.add_column(column, overflow="fold", no_wrap=i in (0, 3))
        for item in items:
            table.add_row(t.format_date(item.date), item.contract_id, item.cpas_ins, item.rule_id,
                          agenda_kind_text(item.kind, t), translate_label(item.label, t))
        console.print(table)
    _report_problems(problems)
    raise typer.Exit(1 if problems else 0)


def rules_subsidy(
    file: Path = typer.Argument(..., help="A canonical contract file (JSON)."),
    as_json: bool = typer.Option(False, "--json", help="Print the stable JSON form (docs/rules-more.md)."),
    lang: str | None = typer.Option(None, "--lang", help=LANG_HELP),
) -> None:
    """The month-by-month 10% subsidy schedule of each contract (amounts in EUR, computed in cents)."""
    from piis_bridge.rules.subsidies import ROUNDING, plan_json, subsidy_plans

    t = cli_translator(lang)
    problems: list[Problem] = []
    plans = list(subsidy_plans(_contracts([file], problems)))
    if as_json:
        body = {"format": SUBSIDY_FORMAT, "version": 1, "rounding": ROUNDING, "language": t.language,
                "plans": [plan_json(p) for p in plans]}
        typer.echo(json.dumps(body, ensure_ascii=False, indent=2))
    else:
        console = Console(highlight=False)
        for plan in plans:
            window = (t.gettext("{start} to {end}", start=plan.window_start.isoformat()[:7],
                                end=plan.window_end.isoformat()[:7])
                      if plan.window_start and plan.window_end else
                      plan.window_start.isoformat()[:7] if plan.window_start else "-")
            lines = [t.gettext("type {type}", type=plan.type.value if plan.type else "-"),
                     t.gettext("window {window}", window=window),
                     t.gettext("total EUR {amount}", amount=t.format_amount(plan.total_cents, symbol=False))]
            if plan.remaining_months is not None:
                lines.append(t.gettext("remaining months {count}", count=plan.remaining_months))
            if plan.budget_article:
                lines.append(t.gettext("budget article {article}", article=plan.budget_article))
            table = Table(title=t.gettext("Contract {contract}: {details}", contract=plan.contract_id,
                                          details=", ".join(lines)))
            columns = (t.gettext("month"), t.gettext("subsidy"), t.gettext("covered"), t.gettext("running"),
                       t.gettext("RI (EUR)"), t.gettext("10% (EUR)"), t.gettext("excluded because"))
            for i, column in enumerate(columns):
                table.add_column(column, overflow="fold", justify="right" if i in (4, 5) else "left")
            yes, no = t.gettext("yes"), t.gettext("no")
            for m in plan.months:
                table.add_row(m.month.isoformat()[:7], m.subsidy_type.value if m.subsidy_type else "-",
                              yes if m.covered_by_piis else no, yes if m.project_running else no,
                              t.format_amount(m.ri_amount_cents, symbol=False),
                              t.format_amount(m.subsidy_cents, symbol=False), m.excluded_reason or "")
            console.print(table)
            note_prefix = t.gettext("note") if t.language == "en" else t.gettext("note (English)")
            for note in plan.notes:
                console.print(f"  {note_prefix}: {note}")
        console.print(t.gettext("{count} contract(s); rounding: {rounding}", count=len(plans), rounding=ROUNDING))
    _report_problems(problems)
    raise typer.Exit(1 if problems else 0)
