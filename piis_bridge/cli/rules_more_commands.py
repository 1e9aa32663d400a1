"""`piis-bridge rules agenda`, `piis-bridge rules subsidy` and `piis-bridge rules share`: the morning agenda
across many contract files (and, with ``--by-month``, the signing wave), the month-by-month subsidy schedule
of a file, and a CPAS's PIIS share with its subsidy tier (R-SUB-17).

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
from piis_bridge.i18n import N_, Msg, Translator
from piis_bridge.i18n.cli import LANG_HELP, cli_translator
from piis_bridge.i18n.ops import code_text
from piis_bridge.model import PIISContract, Problem, load_file

__all__ = ["SUBSIDY_FORMAT", "register", "rules_agenda", "rules_share", "rules_subsidy"]

SUBSIDY_FORMAT = "piis-bridge/subsidy-schedule"
RULES_HELP = N_(
    "PIIS rules: check contracts, list the rules, the agenda of legal dates, the subsidy schedule."
)


def register(cli: CommandRegistry) -> None:
    group = cli.group("rules", help=RULES_HELP)
    group.command("agenda")(rules_agenda)
    group.command("subsidy")(rules_subsidy)
    group.command("share")(rules_share)


def _day(value: str, option: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise typer.BadParameter(
            f"expected a date YYYY-MM-DD, got {value!r}", param_hint=option
        ) from None


def _euros(cents: int, t: Translator) -> str:
    """Integer cents in EUR (no symbol: the column says EUR), in the language's format."""
    if t.language != "en":
        return t.format_amount(cents, symbol=False)
    sign = "-" if cents < 0 else ""
    cents = abs(cents)
    return f"{sign}{cents // 100:,}.{cents % 100:02d}"


def _contracts(files: list[Path], problems: list[Problem]) -> Iterator[PIISContract]:
    """Contracts of every file, one file in memory at a time; problems are collected, not raised."""
    for path in files:
        result = load_file(path)
        problems.extend(result.problems)
        yield from result.contracts


def _report_problems(problems: list[Problem], t: Translator) -> None:
    for p in problems:  # the problem itself (file, record, field, reason) is the loader's English
        typer.echo("piis-bridge: " + t.gettext("skipped: {problem}", problem=p), err=True)


def rules_agenda(
    files: list[Path] = typer.Argument(None, help="Canonical contract files (JSON); or --cpas."),
    cpas: str | None = typer.Option(
        None,
        "--cpas",
        help="Instead of files: the contracts the bridge holds for "
        "this CPAS (the latest version of each record it processed).",
    ),
    start: str = typer.Option(
        ..., "--from", help="First day of the agenda (YYYY-MM-DD), included."
    ),
    end: str = typer.Option(..., "--to", help="Last day of the agenda (YYYY-MM-DD), included."),
    lang: str | None = typer.Option(None, "--lang", help=LANG_HELP),
    as_json: bool = typer.Option(
        False, "--json", help="Print the stable JSON form (docs/rules-more.md)."
    ),
    limit: int | None = typer.Option(None, "--limit", min=1, help="Only the first N items."),
    overdue: bool = typer.Option(
        False, "--overdue", help="Also list deadlines before --from that are still not met."
    ),
    by_month: bool = typer.Option(
        False,
        "--by-month",
        help="Per month: PIIS signatures due and how many are at risk (the signing wave).",
    ),
    on: str | None = typer.Option(
        None, "--on", help="With --by-month: the day risk is judged on (default: today)."
    ),
) -> None:
    """Every legal deadline and event of every contract between two dates, sorted, with the rule behind it."""
    from piis_bridge.i18n.labels import translate_label
    from piis_bridge.i18n.rules import agenda_kind_text, localize_agenda_json
    from piis_bridge.rules.agenda import agenda, agenda_json

    t = cli_translator(lang)
    first, last = _day(start, "--from"), _day(end, "--to")
    if last < first:
        raise typer.BadParameter("--to is before --from", param_hint="--to")
    if bool(files) == bool(cpas):
        raise typer.BadParameter(
            "give contract files or --cpas ID (one of them)", param_hint="FILES / --cpas"
        )
    problems: list[Problem] = []
    if by_month:
        _signing_wave(
            files, first, last, _day(on, "--on") if on else date.today(), as_json, problems, t
        )
        return
    contracts = _contracts(files, problems) if files else _held(cpas or "", t)
    items = agenda(contracts, first, last, limit=limit, overdue=overdue)
    if as_json:
        typer.echo(
            json.dumps(
                localize_agenda_json(agenda_json(items, first, last), t),
                ensure_ascii=False,
                indent=2,
            )
        )
    elif not items:
        typer.echo(t.gettext("agenda {start} to {end}: none", start=first, end=last))
    else:
        console = Console(highlight=False)
        table = Table(
            title=t.gettext(
                "Agenda {start} to {end}: {count} item(s)", start=first, end=last, count=len(items)
            )
        )
        columns = (
            t.gettext("date"),
            t.gettext("contract"),
            t.gettext("CPAS"),
            t.gettext("rule"),
            t.gettext("kind"),
            t.gettext("what"),
        )
        for i, column in enumerate(columns):
            table.add_column(column, overflow="fold", no_wrap=i in (0, 3))
        for item in items:
            table.add_row(
                t.format_date(item.date),
                item.contract_id,
                item.cpas_ins,
                item.rule_id,
                agenda_kind_text(item.kind, t),
                translate_label(item.label, t),
            )
        console.print(table)
    _report_problems(problems, t)
    raise typer.Exit(1 if problems else 0)


def _held(cpas: str, t: Translator) -> Iterator[PIISContract]:
    """The contracts the bridge holds for *cpas* (:func:`piis_bridge.ops.queries.held_contracts`)."""
    from piis_bridge.cli.pipeline_commands import cli_runtime
    from piis_bridge.ops.queries import held_contracts

    rt = cli_runtime()
    if cpas not in rt.settings.cpas:
        typer.echo(
            t.gettext(
                "unknown CPAS {cpas}; configured: {ids}",
                cpas=repr(cpas),
                ids=", ".join(sorted(rt.settings.cpas)) or t.gettext("none"),
            ),
            err=True,
        )
        raise typer.Exit(2)
    try:
        yield from held_contracts(rt, cpas)
    finally:
        rt.close()


def rules_subsidy(
    file: Path = typer.Argument(..., help="A canonical contract file (JSON)."),
    as_json: bool = typer.Option(
        False, "--json", help="Print the stable JSON form (docs/rules-more.md)."
    ),
    lang: str | None = typer.Option(None, "--lang", help=LANG_HELP),
) -> None:
    """The month-by-month 10% subsidy schedule of each contract (amounts in EUR, computed in cents)."""
    from piis_bridge.rules.subsidies import ROUNDING, plan_json, subsidy_plans

    t = cli_translator(lang)
    problems: list[Problem] = []
    plans = list(subsidy_plans(_contracts([file], problems)))
    if as_json:
        body = {
            "format": SUBSIDY_FORMAT,
            "version": 1,
            "rounding": ROUNDING,
            "language": t.language,
            "plans": [plan_json(p) for p in plans],
        }
        typer.echo(json.dumps(body, ensure_ascii=False, indent=2))
    else:
        console = Console(highlight=False)
        for plan in plans:
            window = (
                t.gettext(
                    "{start} to {end}",
                    start=plan.window_start.isoformat()[:7],
                    end=plan.window_end.isoformat()[:7],
                )
                if plan.window_start and plan.window_end
                else plan.window_start.isoformat()[:7]
                if plan.window_start
                else "-"
            )
            lines = [
                t.gettext("type {type}", type=plan.type.value if plan.type else "-"),
                t.gettext("window {window}", window=window),
                t.gettext(
                    "total EUR {amount}", amount=t.format_amount(plan.total_cents, symbol=False)
                ),
            ]
            if plan.remaining_months is not None:
                lines.append(t.gettext("remaining months {count}", count=plan.remaining_months))
            if plan.budget_article:
                lines.append(t.gettext("budget article {article}", article=plan.budget_article))
            table = Table(
                title=t.gettext(
                    "Contract {contract}: {details}",
                    contract=plan.contract_id,
                    details=", ".join(lines),
                )
            )
            columns = (
                t.gettext("month"),
                t.gettext("subsidy"),
                t.gettext("covered"),
                t.gettext("running"),
                t.gettext("RI (EUR)"),
                t.gettext("10% (EUR)"),
                t.gettext("excluded because"),
            )
            for i, column in enumerate(columns):
                table.add_column(
                    column, overflow="fold", justify="right" if i in (4, 5) else "left"
                )
            yes, no = t.gettext("yes"), t.gettext("no")
            for m in plan.months:
                table.add_row(
                    m.month.isoformat()[:7],
                    m.subsidy_type.value if m.subsidy_type else "-",
                    yes if m.covered_by_piis else no,
                    yes if m.project_running else no,
                    t.format_amount(m.ri_amount_cents, symbol=False),
                    t.format_amount(m.subsidy_cents, symbol=False),
                    _said(m.excluded_message, m.excluded_reason, t),
                )
            console.print(table)
            note_prefix = t.gettext("note")
            for i, note in enumerate(plan.notes):
                message = plan.note_messages[i] if i < len(plan.note_messages) else None
                console.print(f"  {note_prefix}: {_said(message, note, t)}")
        console.print(
            t.gettext(
                "{count} contract(s); rounding: {rounding}", count=len(plans), rounding=ROUNDING
            )
        )
    _report_problems(problems, t)
    raise typer.Exit(1 if problems else 0)


def _said(message: Msg | None, english: str | None, t: Translator) -> str:
    """A subsidy note or exclusion reason in the reader's language (its English text without a
    template, or when the reader reads English)."""
    if message is None or t.language == "en":
        return english or ""
    from piis_bridge.i18n.findings import render_message

    return render_message(message.id, message.params, t)


def _signing_wave(
    files: list[Path],
    first: date,
    last: date,
    on: date,
    as_json: bool,
    problems: list[Problem],
    t: Translator,
) -> None:
    from piis_bridge.rules.agenda import signing_wave

    months = signing_wave(_contracts(files, problems), first, last, on)
    if as_json:
        body = {
            "format": "piis-bridge/signing-wave",
            "version": 1,
            "from": first.isoformat(),
            "to": last.isoformat(),
            "on": on.isoformat(),
            "months": [m.as_dict() for m in months],
        }
        typer.echo(json.dumps(body, ensure_ascii=False, indent=2))
    else:
        console = Console(highlight=False)
        table = Table(title=t.gettext("PIIS signatures due per month, at risk on {on}", on=on))
        columns = (t.gettext("month"), t.gettext("must be signed"), t.gettext("at risk"))
        for i, column in enumerate(columns):
            table.add_column(column, justify="right" if i else "left")
        for m in months:
            table.add_row(m.month.isoformat()[:7], str(m.must_sign), str(m.at_risk))
        console.print(table)
        console.print(
            t.gettext(
                "at risk: the deadline has passed, or no draft was handed over and the reflection "
                "period (R-DL-04) would end after it"
            )
        )
    _report_problems(problems, t)
    raise typer.Exit(1 if problems else 0)


def rules_share(
    cpas: str = typer.Option(..., "--cpas", help="The CPAS's INS code."),
    files: list[Path] = typer.Argument(
        None, help="Canonical contract files to count from (optional)."
    ),
    year: int | None = typer.Option(
        None,
        "--year",
        min=2016,
        max=2100,
        help="Calendar year (default: the year of --on, and the next one).",
    ),
    on: str | None = typer.Option(
        None, "--on", help="Count 'so far' up to this day (default: today)."
    ),
    beneficiaries: int | None = typer.Option(
        None,
        "--beneficiaries",
        min=0,
        help="RI beneficiaries of the year (forms B, monthly statement).",
    ),
    with_piis: int | None = typer.Option(
        None, "--with-piis", min=0, help="Of them, how many have a PIIS."
    ),
    ri_base: int | None = typer.Option(
        None,
        "--ri-base-cents",
        min=0,
        help="RI of the subsidised months of the PIIS beneficiaries (cents).",
    ),
    as_json: bool = typer.Option(
        False, "--json", help="Print the stable JSON form (docs/rules-more.md)."
    ),
    lang: str | None = typer.Option(None, "--lang", help=LANG_HELP),
) -> None:
    """The CPAS's share of RI beneficiaries with a PIIS, its subsidy tier from 2028 (R-SUB-17, announced), how
    many more PIIS reach the next tier and the subsidy difference.  Counts given as options win over files."""
    from piis_bridge.rules.share import (
        SHARE_FORMAT,
        ShareCounts,
        counts_from_contracts,
        project_share,
    )

    t = cli_translator(lang)
    day = _day(on, "--on") if on else date.today()
    years = [year] if year is not None else [day.year, day.year + 1]
    if (beneficiaries is None) != (with_piis is None):
        raise typer.BadParameter(
            "give both --beneficiaries and --with-piis, or neither", param_hint="--with-piis"
        )
    if beneficiaries is None and not files:
        raise typer.BadParameter(
            "give contract files, or the counts (--beneficiaries and --with-piis)",
            param_hint="FILES",
        )
    problems: list[Problem] = []
    contracts = list(_contracts(files or [], problems))
    rows = []
    for y in years:
        counted = counts_from_contracts(contracts, cpas, y, on=day) if contracts else None
        if beneficiaries is not None and with_piis is not None:
            try:
                counts = ShareCounts(
                    cpas,
                    y,
                    beneficiaries,
                    with_piis,
                    ri_base
                    if ri_base is not None
                    else (counted.piis_ri_base_cents if counted else None),
                    source="given",
                )
            except ValueError as exc:
                raise typer.BadParameter(str(exc), param_hint="--with-piis") from None
        else:
            assert counted is not None
            counts = (
                counted
                if ri_base is None
                else ShareCounts(
                    cpas, y, counted.ri_beneficiaries, counted.with_piis, ri_base, counted.source
                )
            )
        rows.append(project_share(counts))
    if as_json:
        body = {
            "format": SHARE_FORMAT,
            "version": 1,
            "cpas_ins": cpas,
            "on": day.isoformat(),
            "years": [r.as_dict() for r in rows],
        }
        typer.echo(json.dumps(body, ensure_ascii=False, indent=2))
    else:
        console = Console(highlight=False)
        table = Table(
            title=t.gettext(
                "CPAS {cpas}: share of RI beneficiaries with a PIIS (R-SUB-17, counted up to {on})",
                cpas=cpas,
                on=day,
            )
        )
        columns = (
            t.gettext("year"),
            t.gettext("regime"),
            t.gettext("RI"),
            t.gettext("PIIS"),
            t.gettext("share"),
            t.gettext("rate"),
            t.gettext("next tier"),
            t.gettext("more PIIS"),
            t.gettext("subsidy (EUR)"),
            t.gettext("difference (EUR)"),
        )
        for i, column in enumerate(columns):
            table.add_column(column, justify="left" if i < 2 else "right")

        def pct(value: float, digits: int | None = None) -> str:
            return t.gettext("{value}%", value=t.format_number(value, digits))

        for r in rows:
            nxt = (
                t.gettext(
                    "{tier} -> {rate}",
                    tier=pct(r.next_tier_from_percent),
                    rate=pct(r.next_rate_percent),
                )
                if r.next_tier_from_percent is not None and r.next_rate_percent is not None
                else "-"
            )
            table.add_row(
                str(r.year),
                code_text("share regime", r.regime, t),
                str(r.ri_beneficiaries),
                str(r.with_piis),
                "-" if r.share_percent is None else pct(r.share_percent, 1),
                pct(r.rate_percent),
                nxt,
                "-" if r.more_piis_needed is None else str(r.more_piis_needed),
                "-" if r.subsidy_cents is None else _euros(r.subsidy_cents, t),
                "-" if r.difference_cents is None else _euros(r.difference_cents, t),
            )
        console.print(table)
        console.print(
            t.gettext(
                "regime 'announced': the tiers of the law of 2026-2028 until the implementing "
                "decree confirms them (docs/rules.md)"
            )
        )
    _report_problems(problems, t)
    raise typer.Exit(1 if problems else 0)
