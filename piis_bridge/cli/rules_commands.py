"""``piis-bridge rules check | list | docs``: the rules engine on the command line.

``rules agenda`` and ``rules subsidy`` are registered into the same group by the part-2 module.
Output never carries a NISS: contracts are named by id, invalid records by position and id.
"""

from __future__ import annotations

import json
import sys
from datetime import date
from pathlib import Path
from typing import Any

import typer

from piis_bridge.cli._registry import CommandRegistry
from piis_bridge.i18n import N_
from piis_bridge.i18n.cli import LANG_HELP, cli_translator

__all__ = ["RULES_HELP", "register"]

RULES_HELP = N_("PIIS rules: check contracts, list the rules, generate docs/rules.md.")


def _parse_day(value: str | None) -> date:
    if value is None:
        return date.today()
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise typer.BadParameter(f"{value!r} is not a date (YYYY-MM-DD)") from None


def _load_settings(path: Path | None) -> tuple[Any, dict[str, Any]]:
    """The base settings and per-INS overrides from a JSON settings file."""
    from pydantic import ValidationError

    from piis_bridge.rules.settings import RuleSettings

    if path is None:
        return RuleSettings(), {}
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise typer.BadParameter(f"cannot read settings file {path}: {exc}") from None
    if not isinstance(raw, dict):
        raise typer.BadParameter(f"{path}: expected a JSON object")
    per_cpas = raw.pop("cpas", {}) or {}
    try:
        return RuleSettings(**raw), dict(per_cpas)
    except ValidationError as exc:
        raise typer.BadParameter(
            f"{path}: {exc.errors(include_input=False)[0]['loc']}: "
            f"{exc.errors(include_input=False)[0]['msg']}"
        ) from None


def _plugin_host(enabled: bool) -> Any:
    if not enabled:
        return None
    try:
        from piis_bridge.config import load_settings
        from piis_bridge.hooks.manager import PluginHost

        return PluginHost(load_settings(), strict=False)
    except Exception as exc:  # noqa: BLE001 - the core rules still run
        typer.echo(
            f"piis-bridge: plugin rules not loaded ({type(exc).__name__}); core rules only",
            err=True,
        )
        return None


def _settings_for(base: Any, per_ins: dict[str, Any], host: Any):  # noqa: ANN202
    """Per contract: the base settings, the file's overrides for its CPAS, then plugin parameters."""
    cache: dict[str, Any] = {}
    cpas_ids: dict[str, str] = {}
    if host is not None:
        try:
            cpas_ids = {c.ins_code: cid for cid, c in host.settings.cpas.items()}
        except AttributeError:
            cpas_ids = {}

    def pick(contract: Any) -> Any:
        ins = contract.cpas.ins_code
        if ins not in cache:
            chosen = base.with_parameters(per_ins[ins]) if ins in per_ins else base
            if host is not None and ins in cpas_ids:
                params = host.rule_parameters(cpas_ids[ins])
                if params:
                    chosen = chosen.with_parameters(params)
            cache[ins] = chosen
        return cache[ins]

    return pick


def register(cli: CommandRegistry) -> None:
    rules = cli.group("rules", help=RULES_HELP)

    @rules.command("check")
    def check(
        files: list[Path] = typer.Argument(..., help="Canonical contract files (JSON)."),
        on: str | None = typer.Option(
            None, "--on", help="Reference date YYYY-MM-DD (default: today)."
        ),
        as_json: bool = typer.Option(False, "--json", help="Stable JSON output (docs/rules.md)."),
        settings_file: Path | None = typer.Option(
            None, "--settings", help="JSON file of rule settings."
        ),
        plugins: bool = typer.Option(
            True, "--plugins/--no-plugins", help="Include plugin (local) rules."
        ),
        show_info: bool = typer.Option(
            False, "--info", help="Also show info findings in the table."
        ),
        inspection: bool = typer.Option(
            False, "--inspection", help="Also show the SPP IS inspection checklist."
        ),
        lang: str | None = typer.Option(None, "--lang", help=LANG_HELP),
    ) -> None:
        """Judge every contract of FILE... as of --on; exit 1 when a legal error is found."""
        from piis_bridge.i18n.rules import localize_report_json
        from piis_bridge.model import load_file
        from piis_bridge.rules.docs import CHECK_FORMAT, CHECK_VERSION
        from piis_bridge.rules.engine import evaluate
        from piis_bridge.rules.registry import build_registry
        from piis_bridge.rules.report import Level

        t = cli_translator(lang)
        day = _parse_day(on)
        base, per_ins = _load_settings(settings_file)
        host = _plugin_host(plugins)
        registry = build_registry(host)
        pick = _settings_for(base, per_ins, host)
        reports, problems = [], []
        for path in files:
            loaded = load_file(path)
            problems.extend(loaded.problems)
            for contract in loaded.contracts:
                reports.append(
                    evaluate(contract, on=day, settings=pick(contract), registry=registry)
                )
        errors = sum(len(r.errors) for r in reports)
        summary = {
            "contracts": len(reports),
            "contracts_with_errors": sum(1 for r in reports if r.has_errors),
            "errors": errors,
            "warnings": sum(len(r.warnings) for r in reports),
            "problems": len(problems),
        }
        if as_json:
            body = {
                "format": CHECK_FORMAT,
                "version": CHECK_VERSION,
                "reference_date": day.isoformat(),
                "summary": summary,
                "problems": [p.as_dict() for p in problems],
                "language": t.language,
                "reports": [
                    localize_report_json(r.to_json_dict(), registry, t, report=r) for r in reports
                ],
            }
            sys.stdout.write(json.dumps(body, ensure_ascii=False, indent=2) + "\n")
        else:
            _print_human(reports, problems, summary, day, show_info, Level, registry, t, inspection)
        if summary["contracts_with_errors"]:
            raise typer.Exit(1)
        if problems:
            raise typer.Exit(2)

    @rules.command("list")
    def list_rules(
        as_json: bool = typer.Option(False, "--json", help="JSON list of the rules."),
        plugins: bool = typer.Option(
            True, "--plugins/--no-plugins", help="Include plugin (local) rules."
        ),
        lang: str | None = typer.Option(None, "--lang", help=LANG_HELP),
    ) -> None:
        """Every rule with its id, severity, citation and whether it is checked automatically."""
        from piis_bridge.i18n.rules import rule_title
        from piis_bridge.rules.registry import build_registry

        t = cli_translator(lang)
        registry = build_registry(_plugin_host(plugins))
        if as_json:
            rows = [
                {
                    "id": r.id,
                    "title": r.title,
                    "severity": r.severity.value,
                    "citation": r.citation,
                    "automated": r.automated,
                    "era": r.era.value,
                    "source": r.source,
                    "parameters": list(r.parameters),
                }
                for r in registry
            ]
            if t.language != "en":  # the English title is "title"
                for row, r in zip(rows, registry, strict=True):
                    row["title_text"] = rule_title(r, t)
            sys.stdout.write(json.dumps(rows, ensure_ascii=False, indent=2) + "\n")
            return
        from rich.console import Console
        from rich.table import Table

        table = Table(
            title=t.gettext("PIIS rules ({count})", count=len(registry)), show_lines=False
        )
        for col in (
            t.gettext("Id"),
            t.gettext("Sev"),
            t.gettext("Checked"),
            t.gettext("Title"),
            t.gettext("Citation"),
        ):
            table.add_column(col, overflow="fold")
        yes, no = t.gettext("yes"), t.gettext("no")
        for r in registry:
            table.add_row(
                r.id, r.severity.value, yes if r.automated else no, rule_title(r, t), r.citation
            )
        Console(width=max(120, _console_width())).print(table)

    @rules.command("docs")
    def docs() -> None:
        """Print docs/rules.md, generated from the registry (core rules only)."""
        from piis_bridge.rules.docs import render_markdown
        from piis_bridge.rules.registry import build_registry

        sys.stdout.write(render_markdown(build_registry()))


def _console_width() -> int:
    import shutil

    return shutil.get_terminal_size((120, 40)).columns


def _print_human(
    reports: list[Any],
    problems: list[Any],
    summary: dict[str, int],
    day: date,
    show_info: bool,
    level_enum: Any,
    registry: Any,
    t: Any,
    inspection: bool = False,
) -> None:
    """The report as tables, in the translator's language (rule ids, citations and fields unchanged)."""
    from rich.console import Console
    from rich.markup import escape
    from rich.table import Table

    from piis_bridge.i18n.labels import translate_label
    from piis_bridge.i18n.rules import finding_text, level_text, status_text

    console = Console(width=max(120, _console_width()))
    style = {"error": "bold red", "warning": "yellow", "info": "dim"}
    rule_failed = t.gettext("rule failed")
    for report in reports:
        contract = "[bold]" + escape(report.contract_id) + "[/bold]"
        head = t.gettext(
            "{contract}  CPAS {ins}  as of {date}  rules {rule_set}",
            contract=contract,
            ins=report.cpas_ins,
            date=day,
            rule_set=report.rule_set,
        )
        console.rule(head)
        for ob in report.obligations:
            state = t.gettext("mandatory") if ob.mandatory else t.gettext("optional")
            if ob.exempted:
                state = t.gettext("{state} (exempted)", state=state)
            bases = ", ".join(b.value for b in ob.bases) or "-"
            due = t.gettext(", sign by {date}", date=ob.deadline) if ob.deadline else ""
            person = t.pgettext("person", ob.person)
            console.print(
                "  "
                + escape(
                    t.gettext(
                        "{person}: PIIS {state} [{bases}]{due}; age {age}",
                        person=person,
                        state=state,
                        bases=bases,
                        due=due,
                        age=ob.age,
                    )
                )
            )
        content = report.sections.get("content", {})
        if content:
            console.print(
                "  "
                + (
                    t.gettext("content: complete")
                    if content.get("complete")
                    else t.gettext("content: incomplete")
                )
            )
        shown = [f for f in report.findings if show_info or f.level is not level_enum.INFO]
        if shown:
            table = Table(show_header=True, header_style="bold")
            for col in (
                t.gettext("Level"),
                t.gettext("Rule"),
                t.gettext("Finding"),
                t.gettext("Fields"),
                t.gettext("Citation"),
            ):
                table.add_column(col, overflow="fold")
            for f in shown:
                text = escape(finding_text(f, registry, t)[0])
                table.add_row(
                    f"[{style[f.level.value]}]{level_text(f.level.value, t)}[/]",
                    f.rule_id,
                    text,
                    ", ".join(f.fields),
                    f.citation,
                )
            console.print(table)
        if report.dates:
            dates = Table(show_header=True, header_style="bold")
            for col in (
                t.gettext("Date"),
                t.gettext("Status"),
                t.gettext("Rule"),
                t.gettext("What"),
            ):
                dates.add_column(col, overflow="fold")
            for d in sorted(report.dates, key=lambda x: x.date):
                dates.add_row(
                    t.format_date(d.date),
                    status_text(d.status.value, t),
                    d.rule_id,
                    translate_label(d.label, t),
                )
            console.print(dates)
        checklist = report.sections.get("inspection") if inspection else None
        if isinstance(checklist, dict):
            _print_checklist(console, checklist, t)
        for failure in report.rule_failures:
            console.print(f"  [bold red]{rule_failed}[/]: {failure}")
    invalid = t.gettext("invalid input")
    for p in problems:
        console.print(f"[bold red]{invalid}[/]: {p}")
    console.print(
        t.gettext(
            "{contracts} contract(s), {with_errors} with legal errors, {errors} error(s), "
            "{warnings} warning(s), {problems} input problem(s)",
            contracts=summary["contracts"],
            with_errors=summary["contracts_with_errors"],
            errors=summary["errors"],
            warnings=summary["warnings"],
            problems=summary["problems"],
        )
    )


def _print_checklist(console: Any, checklist: dict[str, Any], t: Any) -> None:
    """The inspection checklist of one report, item by item, in the translator's language."""
    from rich.markup import escape
    from rich.table import Table

    from piis_bridge.i18n.evidence import translate_evidence
    from piis_bridge.i18n.rules import checklist_question, checklist_status_text

    table = Table(show_header=True, header_style="bold", title=t.gettext("Inspection checklist"))
    for col in (
        t.gettext("Item"),
        t.gettext("Question"),
        t.gettext("Status"),
        t.gettext("Evidence found"),
        t.gettext("Evidence missing"),
    ):
        table.add_column(col, overflow="fold")
    for item in checklist.get("items", ()):
        table.add_row(
            item["item"],
            escape(checklist_question(item["item"], item["question"], t)),
            checklist_status_text(str(item["status"]), t),
            escape("; ".join(translate_evidence(e, t) for e in item.get("evidence_found", ()))),
            escape("; ".join(translate_evidence(e, t) for e in item.get("evidence_missing", ()))),
        )
    console.print(table)
