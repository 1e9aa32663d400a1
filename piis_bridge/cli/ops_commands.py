"""``piis-bridge forms list``: the federal forms of a CPAS from the ledger, with every answer code.

Why: "which forms of Gent were refused in November, and why?" is the first question of the morning;
``forms status`` gave two counts.  The query is :func:`piis_bridge.ops.queries.forms_list`, shared
with the console; ``--json`` is documented in docs/ops.md.
"""

from __future__ import annotations

import json
import sys

import typer
from rich.console import Console
from rich.table import Table

from piis_bridge.cli._registry import CommandRegistry
from piis_bridge.i18n import N_
from piis_bridge.i18n.cli import LANG_HELP, cli_translator, cpas_translator
from piis_bridge.i18n.ops import code_text

__all__ = ["register"]

_STATUSES = ("built", "sent", "accepted", "partially_accepted", "refused", "blocked", "superseded")
_STATUS_HELP = N_(
    "Only this status: built, sent, accepted, partially_accepted, refused, blocked, superseded."
)  # the codes of _STATUSES, written out for the extractor (tests/i18n/test_cli_help.py)


def register(cli: CommandRegistry) -> None:
    forms = cli.group(
        "forms", help="Federal forms B, C, D: build, submit, status, statement, list."
    )

    @forms.command("list")
    def forms_list(
        cpas: str = typer.Option(..., "--cpas", help="CPAS id from the configuration."),
        status: str | None = typer.Option(None, "--status", help=_STATUS_HELP),
        month: str | None = typer.Option(
            None, "--month", metavar="YYYY-MM", help="Only forms sent that month."
        ),
        limit: int = typer.Option(1000, "--limit", "-n", min=1),
        as_json: bool = typer.Option(False, "--json", help="The stable JSON shape of docs/ops.md."),
        lang: str | None = typer.Option(None, "--lang", help=LANG_HELP),
    ) -> None:
        """Forms of a CPAS with dossier, form, status and every code and message of the federal answer."""
        from datetime import date

        from piis_bridge.cli.pipeline_commands import cli_runtime
        from piis_bridge.ops.queries import forms_list as query

        if month is not None:
            try:
                date.fromisoformat(month + "-01")
            except ValueError:
                raise typer.BadParameter(
                    f"expected YYYY-MM, got {month!r}", param_hint="--month"
                ) from None
        rt = cli_runtime()
        if cpas not in rt.settings.cpas:
            tr = cli_translator(lang)
            typer.echo(
                tr.gettext(
                    "unknown CPAS {cpas}; configured: {ids}",
                    cpas=repr(cpas),
                    ids=", ".join(sorted(rt.settings.cpas)) or tr.gettext("none"),
                ),
                err=True,
            )
            raise typer.Exit(2)
        with rt.session() as s:
            data = query(
                s, cpas, status=status.lower() if status else None, month=month, limit=limit
            )
        if as_json:
            typer.echo(json.dumps(data))
            return
        # the CPAS's language (docs/i18n.md); the federal answer's messages are the federal service's own
        tr = cpas_translator(lang, rt.settings.cpas[cpas].language)
        what = (
            tr.gettext("forms of {cpas}", cpas=cpas)
            + (", " + code_text("form status", status.lower(), tr) if status else "")
            + (f", {month}" if month else "")
        )
        if not data["forms"]:
            typer.echo(tr.gettext("{title}: none", title=what))
            return
        t = Table(title=what)
        for col in (
            tr.gettext("dossier"),
            tr.gettext("form"),
            tr.gettext("status"),
            tr.gettext("sent (UTC)"),
            tr.gettext("code"),
            tr.gettext("field"),
            tr.gettext("message"),
        ):
            t.add_column(col, overflow="fold")
        for f in data["forms"]:
            issues = f["issues"] or [{"code": "-", "field": None, "rubric": None, "message": ""}]
            for issue in issues:
                t.add_row(
                    f["dossier"],
                    f["form"],
                    code_text("form status", f["status"], tr),
                    (f["sent_at"] or "-")[:19].replace("T", " "),
                    issue["code"] or "-",
                    issue["rubric"] or issue["field"] or "",
                    issue["message"] or "",
                )
        (Console() if sys.stdout.isatty() else Console(width=160)).print(t)
