"""``piis-bridge run``, ``runs``, ``quarantine``, ``worker``, ``beat`` and ``db upgrade``.

For IT staff: ``run`` is the whole nightly job in one command (embedded by default: SQLite, a
filesystem broker and a worker started for the duration of the run); ``runs`` and ``quarantine``
read the application database, so they work the same whether the run happened embedded or on a
Redis/RabbitMQ + PostgreSQL cluster.

The human output of ``run``, ``runs`` and ``quarantine`` is written in the CPAS's language (``--lang``,
the root ``--lang``, else the configured ``language``; docs/i18n.md): every text goes through ``t``
(its English msgid is the text these commands always printed).  ``--json`` stays language-neutral:
codes, ids and ISO dates, the same in every language.  ``db`` speaks the configured language too
(the root ``--lang``, else the CPAS's ``language``), except ``db new-key``'s key line, which is read
by a machine (put as is in a key file); ``worker`` and ``beat`` print nothing of their own (the
preflight's and celery's output).
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import Any

import typer
from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from piis_bridge.cli._registry import CommandRegistry
from piis_bridge.i18n import Translator, translator
from piis_bridge.i18n.cli import LANG_HELP, cli_translator, cpas_translator, settings_translator
from piis_bridge.i18n.ops import code_text
from piis_bridge.i18n.text import say_stored
from piis_bridge.logging import mask_text

__all__ = ["register"]


def _con() -> Console:
    """A stdout console, wide when not a terminal so ids are never cut in logs and pipes."""
    return Console() if sys.stdout.isatty() else Console(width=160)


def _settings() -> Any:
    from piis_bridge.config import ConfigError, load_settings

    try:
        return load_settings()
    except ConfigError as exc:
        from piis_bridge.i18n.cli import settings_translator
        from piis_bridge.i18n.text import error_text, say

        typer.echo(say(error_text(exc), settings_translator(None)), err=True)
        raise typer.Exit(2) from None


def _english() -> Translator:
    """The English texts: the default of the helpers below (tests and other commands call them)."""
    return translator("en")


def _safe_url(url: str) -> str:
    from sqlalchemy.engine import make_url

    return make_url(url).render_as_string(hide_password=True)


def cli_runtime() -> Any:
    """The pipeline :class:`Runtime` a command works with: the configuration loaded and the database
    migrated first, so that every command (run, ops, rules) sees the same schema and settings."""
    from piis_bridge.migrations import upgrade_database
    from piis_bridge.pipeline.runtime import Runtime

    settings = _settings()
    upgrade_database(settings.database_url)
    return Runtime(settings)


def embedded_wanted(settings: Any, flag: bool | None) -> bool:
    """``--embedded/--no-embedded`` when given, else the ``deployment`` setting.

    Why: on a scale-out installation an operator typing ``piis-bridge run`` must not get a second,
    embedded worker (on SQLite and a filesystem broker) next to the real ones."""
    return flag if flag is not None else settings.deployment == "embedded"


class RunProgress:
    """Rich progress while a run goes on: one bar per stage, totals growing as records arrive."""

    def __init__(self, console: Console, t: Translator | None = None) -> None:
        t = t or _english()
        self.progress = Progress(
            TextColumn("{task.description:<22}"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            console=console,
            transient=False,
        )
        self.tasks = {
            "fetched": self.progress.add_task(t.gettext("fetched from case system"), total=None),
            "processed": self.progress.add_task(t.gettext("mapped + rules + forms"), total=0),
            "forms": self.progress.add_task(t.gettext("federal forms answered"), total=0),
            "pushed": self.progress.add_task(t.gettext("pushed back"), total=0),
        }

    def __call__(self, summary: Any) -> None:
        c = summary.counts
        done_items = (
            c.get("processed", 0)
            + c.get("skipped", 0)
            + c.get("items_quarantined", 0)
            + c.get("rejected", 0)
            + c.get("repeats", 0)
        )  # fetched counts these too (issue #12)
        p = self.progress
        p.update(
            self.tasks["fetched"], completed=c.get("fetched", 0), total=c.get("fetched", 0) or None
        )
        p.update(self.tasks["processed"], completed=done_items, total=c.get("fetched", 0))
        p.update(
            self.tasks["forms"],
            completed=c.get("forms_answered", 0) + c.get("forms_quarantined", 0),
            total=c.get("forms", 0),
        )
        pushes = c.get("pushed", 0) + c.get("push_open", 0) + c.get("push_quarantined", 0)
        p.update(
            self.tasks["pushed"],
            completed=c.get("pushed", 0) + c.get("push_quarantined", 0),
            total=pushes,
        )


def summary_table(summary: Any, t: Translator | None = None) -> Table:
    """A run's counts as the operator reads them after ``run`` (also the demo's closing table)."""
    t = t or _english()
    c = summary.counts
    table = Table(
        title=t.gettext(
            "Run {run} — {status} in {seconds} s",
            run=summary.run_id,
            status=code_text("run status", summary.status, t),
            seconds=t.format_number(summary.elapsed_seconds, 1),
        )
    )
    table.add_column(t.gettext("What"))
    table.add_column(t.gettext("Count"), justify="right", overflow="fold")
    rows = [
        (t.gettext("records fetched"), c.get("fetched", 0)),
        (t.gettext("records processed"), c.get("processed", 0)),
        (t.gettext("records skipped"), c.get("skipped", 0)),
        (t.gettext("records quarantined"), c.get("items_quarantined", 0)),
        (t.gettext("records refused before storage"), c.get("rejected", 0)),
        (t.gettext("identical repeats"), c.get("repeats", 0)),
        (t.gettext("forms built"), c.get("forms", 0)),
        (t.gettext("forms answered"), c.get("forms_answered", 0)),
        (t.gettext("forms awaiting answer"), c.get("forms_waiting", 0)),
        (t.gettext("forms quarantined"), c.get("forms_quarantined", 0)),
        (t.gettext("items pushed back"), c.get("pushed", 0)),
        (t.gettext("push-backs quarantined"), c.get("push_quarantined", 0)),
    ]
    for answer, n in sorted((c.get("answers") or {}).items()):
        rows.append(
            (
                "  "
                + t.gettext("federal answer {answer}", answer=t.pgettext("federal answer", answer)),
                n,
            )
        )
    for name, value in rows:
        table.add_row(name, str(value))
    for cpas_id, error in (c.get("pull_errors") or {}).items():
        table.add_row(
            "[red]" + t.gettext("pull failed: {cpas}", cpas=cpas_id) + "[/red]", mask_text(error)
        )  # in full (the table folds it)
    return table


def stages_table(summary: Any, t: Translator | None = None) -> Table:
    """Per stage: units, tasks and busy seconds, so a slow stage shows without a profiler."""
    t = t or _english()
    table = Table(title=t.gettext("Stages"))
    columns = (
        t.gettext("stage"),
        t.gettext("units"),
        t.gettext("tasks"),
        t.gettext("busy s"),
        t.gettext("units / busy s"),
    )
    for i, col in enumerate(columns):
        table.add_column(col, justify="right" if i else "left")
    for stage, st in summary.stages.items():
        per_second = st.get("units_per_busy_second")
        table.add_row(
            stage,
            str(st["units"]),
            str(st["tasks"]),
            t.format_number(st["busy_seconds"], 2),
            "-"
            if not per_second
            else str(per_second)
            if t.language == "en"
            else t.format_number(per_second),
        )
    return table


def statement_tables(summary: Any, tr: Translator | None = None) -> list[Table]:
    """A statement run: per CPAS the statement's figures, then every difference with the ledger."""
    tr = tr or _english()
    t = Table(
        title=tr.gettext(
            "Monthly statement — run {run} — {status}",
            run=summary.run_id,
            status=code_text("run status", summary.status, tr),
        )
    )
    columns = (
        tr.gettext("cpas"),
        tr.gettext("month"),
        tr.gettext("state"),
        tr.gettext("lines"),
        tr.gettext("total (EUR)"),
        tr.gettext("differences"),
        tr.gettext("note"),
    )
    for i, col in enumerate(columns):
        t.add_column(col, justify="right" if i in (3, 4, 5) else "left")
    diffs = Table(title=tr.gettext("Differences with the form ledger"))
    for col in (
        tr.gettext("cpas"),
        tr.gettext("kind"),
        tr.gettext("form key"),
        tr.gettext("reference"),
        tr.gettext("expected (EUR)"),
        tr.gettext("stated (EUR)"),
        tr.gettext("detail"),
    ):
        diffs.add_column(col)

    def euros(cents: int | None) -> str:
        if cents is None:
            return "-"
        return (
            f"{cents / 100:.2f}" if tr.language == "en" else tr.format_amount(cents, symbol=False)
        )

    for st in summary.statements:
        t.add_row(
            st["cpas_id"],
            st["month"],
            st["state"],
            str(st["lines"] if st["lines"] is not None else "-"),
            euros(st["total_cents"]),
            str(len(st["differences"])),
            (st["error"] or "")[:60],
        )
        for d in st["differences"]:
            diffs.add_row(
                st["cpas_id"],
                d["kind"],
                d.get("client_reference") or "-",
                d.get("reference") or "-",
                euros(d.get("expected_cents")),
                euros(d.get("stated_cents")),
                d.get("detail") or "",
            )
    return [t, diffs] if any(st["differences"] for st in summary.statements) else [t]


def _print_summary(
    summary: Any, t: Translator | None = None, reason_text: dict[str, Any] | None = None
) -> None:
    """The run's figures and, when it was closed as stalled or abandoned, why: from its stored
    message id + values (*reason_text*) in *t*'s language, else the stored English."""
    t = t or _english()
    if summary.statements:
        for table in statement_tables(summary, t):
            _con().print(table)
        return
    _con().print(summary_table(summary, t))
    _con().print(stages_table(summary, t))
    if getattr(summary, "reason", None):  # stalled or abandoned: why (issue #12)
        _con().print(
            t.gettext(
                "{status}: {reason}",
                status=code_text("run status", summary.status, t),
                reason=say_stored(summary.reason, reason_text, t),
            ),
            markup=False,
        )


def _print_quarantine(
    entries: list[dict[str, Any]], title: str, t: Translator | None = None
) -> None:
    t = t or _english()
    if not entries:
        typer.echo(t.gettext("{title}: none", title=title))
        return
    table = Table(title=title)
    for col in (
        t.gettext("id"),
        t.gettext("cpas"),
        t.gettext("record"),
        t.gettext("stage"),
        t.gettext("status"),
        t.gettext("reason"),
    ):
        table.add_column(col, overflow="fold")
    for e in entries:
        table.add_row(
            str(e["id"]),
            e["cpas_id"],
            mask_text(e["record_id"]),
            e["stage"],
            code_text("quarantine status", e["status"], t),
            mask_text(say_stored(e["reason"], e.get("reason_text"), t)),
        )
    _con().print(table)


def _print_details(details: dict[str, Any], t: Translator | None = None) -> None:
    """Why a run is (or was) not moving, in words, then its quarantined records and the workers.

    The reasons and errors themselves come from :mod:`piis_bridge.ops.queries` and the remotes and
    are shown as written (English, or the remote's own words)."""
    t = t or _english()
    con = _con()
    run, waiting = details["run"], details["waiting"]
    none = t.gettext("none")
    if run["error"]:
        failed = t.gettext("run failed:")
        error = say_stored(run["error"], run.get("error_text"), t)
        con.print(f"[red]{escape(failed)}[/red] {escape(error)}", soft_wrap=True)
    if run["status"] == "running":
        why = t.gettext("Why it is waiting")
        con.print(
            f"[bold]{escape(why)}[/bold]: "
            + ("; ".join(waiting["reasons"]) or t.gettext("none (tasks are running)")),
            soft_wrap=True,
        )
    circuits = [
        t.gettext("{remote} until {until}", remote=c["remote"], until=c["open_until"])
        for c in waiting["open_circuits"]
    ]
    con.print(t.gettext("open circuits: {circuits}", circuits=", ".join(circuits) or none))
    retries = waiting["retries_scheduled"]
    if retries:
        table = Table(title=t.gettext("Retries scheduled"))
        for col in (
            t.gettext("kind"),
            t.gettext("cpas"),
            t.gettext("record"),
            t.gettext("attempts"),
            t.gettext("next attempt (UTC)"),
            t.gettext("last error"),
        ):
            table.add_column(col, overflow="fold")
        for r in retries:
            table.add_row(
                r["kind"],
                r["cpas_id"],
                r["record_id"],
                str(r["attempts"]),
                r["next_attempt_at"] or "-",
                r["last_error"] or "",
            )
        con.print(table)
    else:
        con.print(t.gettext("retries scheduled: none"))
    last = waiting["last_error"]
    con.print(
        t.gettext(
            "last error: {error}",
            error=t.gettext(
                "{where} at {at}: {error}",
                where=last["where"],
                at=last["at"] or "-",
                error=last["error"],
            )
            if last
            else none,
        ),
        soft_wrap=True,
    )
    _print_quarantine(details["quarantined"], t.gettext("quarantined records of this run"), t)
    cfg = details["configuration"]
    workers = ", ".join(
        t.gettext("{node} ({fingerprint})", node=w["node"], fingerprint=w["fingerprint"])
        if w["matches_run"]
        else t.gettext(
            "{node} ({fingerprint}, DIFFERENT: restart it)",
            node=w["node"],
            fingerprint=w["fingerprint"],
        )
        for w in cfg["workers"]
    ) or t.gettext("none recorded")
    con.print(
        t.gettext(
            "configuration: run {fingerprint}; workers: {workers}",
            fingerprint=cfg["run_fingerprint"] or "-",
            workers=workers,
        ),
        soft_wrap=True,
    )


def register(cli: CommandRegistry) -> None:
    app = cli.root

    @app.command("run")
    def run(
        cpas: list[str] = typer.Option(None, "--cpas", help="Only this CPAS id (repeatable)."),
        dossier: str | None = typer.Option(
            None,
            "--dossier",
            help="Process one dossier as the case system holds it now (needs --cpas).",
        ),
        embedded: bool | None = typer.Option(
            None,
            "--embedded/--no-embedded",
            help="Start a worker for this run (SQLite + filesystem broker), or use "
            "the configured broker and the workers running elsewhere "
            "(default: the 'deployment' setting).",
        ),
        wait: bool = typer.Option(
            True, "--wait/--no-wait", help="Follow the run until it ends (--no-embedded)."
        ),
        plugin: list[str] = typer.Option(
            None, "--plugin", help="Extra plugin 'name=module' for the worker."
        ),
        concurrency: int = typer.Option(
            2, "--concurrency", "-c", min=1, help="Worker processes (embedded)."
        ),
        timeout: float | None = typer.Option(
            None, "--timeout", help="Stop following after this many seconds."
        ),
        as_json: bool = typer.Option(False, "--json", help="Print the summary as JSON."),
        statement: str | None = typer.Option(
            None,
            "--statement",
            metavar="YYYY-MM",
            help="Instead of a sync: fetch the federal monthly statement of this "
            "month and reconcile it against the form ledger.",
        ),
        lang: str | None = typer.Option(None, "--lang", help=LANG_HELP),
    ) -> None:
        """Run the nightly synchronisation now, with a progress display and a summary at the end."""
        from datetime import date

        from piis_bridge.pipeline.runner import run_nightly

        t = cli_translator(lang)
        settings = _settings()
        if not settings.cpas:
            typer.echo(
                t.gettext("no CPAS configured: add a [cpas.<id>] table to piis-bridge.toml"),
                err=True,
            )
            raise typer.Exit(2)
        month = None
        if statement is not None:
            try:
                month = date.fromisoformat(statement + "-01")
            except ValueError:
                typer.echo(
                    "piis-bridge run: "
                    + t.gettext("--statement {value}: expected YYYY-MM", value=repr(statement)),
                    err=True,
                )
                raise typer.Exit(2) from None
            if dossier is not None:
                typer.echo(
                    "piis-bridge run: " + t.gettext("--statement and --dossier cannot be combined"),
                    err=True,
                )
                raise typer.Exit(2)
        display = None if (as_json or month is not None) else RunProgress(_con(), t)
        try:
            if display:
                display.progress.start()
            summary = run_nightly(
                settings,
                cpas=cpas or None,
                dossier=dossier,
                embedded=embedded_wanted(settings, embedded),
                wait=wait,
                extra_plugins=plugin or (),
                concurrency=concurrency,
                timeout=timeout,
                progress=display,
                statement=month,
            )
        except (KeyError, ValueError) as exc:
            typer.echo(f"piis-bridge run: {exc.args[0] if exc.args else exc}", err=True)
            raise typer.Exit(2) from None
        finally:
            if display:
                display.progress.stop()
        if as_json:
            typer.echo(
                json.dumps(
                    {
                        "run_id": summary.run_id,
                        "status": summary.status,
                        "counts": summary.counts,
                        "stages": summary.stages,
                        "elapsed_seconds": summary.elapsed_seconds,
                        "statements": summary.statements,
                    },
                    default=str,
                )
            )
        else:
            _print_summary(summary, t)
        if summary.error:
            typer.echo(f"piis-bridge run: {summary.error}", err=True)
        for cpas_id, error in sorted((summary.counts.get("pull_errors") or {}).items()):
            # In full: with --dossier this is the whole answer ("no such record", "cannot fetch one record").
            typer.echo(f"piis-bridge run: {cpas_id}: {error}", err=True)
        raise typer.Exit(0 if summary.status == "finished" else 1)

    runs = cli.group("runs", help="Past and current sync runs.")

    @runs.command("list")
    def runs_list(
        limit: int = typer.Option(20, "--limit", "-n"),
        as_json: bool = typer.Option(False, "--json", help="The stable JSON shape of docs/ops.md."),
        lang: str | None = typer.Option(None, "--lang", help=LANG_HELP),
    ) -> None:
        """The latest runs, newest first."""
        from sqlalchemy.engine import make_url

        from piis_bridge.config import config_file_path
        from piis_bridge.ops.queries import runs_list as query

        t = cli_translator(lang)
        settings = _settings()
        url = make_url(settings.database_url)
        where = t.gettext("database {url}", url=url.render_as_string(hide_password=True))
        origin = config_file_path() or t.gettext(
            "the embedded defaults (no piis-bridge.toml here, PIIS_CONFIG not set)"
        )
        if url.get_backend_name() == "sqlite" and url.database and not Path(url.database).exists():
            # never create an empty database just to list nothing
            typer.echo(
                t.gettext(
                    "runs: none ({where} does not exist, configuration: {origin}).\n"
                    "Run `piis-bridge run` with this configuration, or after `python3 dev.py demo` "
                    "use the PIIS_CONFIG it prints.",
                    where=where,
                    origin=origin,
                )
            )
            return
        rt = cli_runtime()
        with rt.session() as s:
            data = query(s, limit=limit)
        if as_json:
            typer.echo(json.dumps(data))
            return
        if not data["runs"]:
            typer.echo(
                t.gettext(
                    "runs: none ({where}, configuration: {origin})", where=where, origin=origin
                )
            )
            return
        table = Table()
        for col in (
            t.gettext("run"),
            t.gettext("trigger"),
            t.gettext("status"),
            t.gettext("started (UTC)"),
            t.gettext("seconds"),
            t.gettext("fetched"),
            t.gettext("forms"),
            t.gettext("quarantined"),
        ):
            table.add_column(col)
        for r in data["runs"]:
            table.add_row(
                r["id"],
                code_text("run trigger", r["trigger"], t),
                code_text("run status", r["status"], t),
                (r["started_at"] or "")[:19].replace("T", " "),
                "-" if r["seconds"] is None else t.format_number(r["seconds"], 1),
                *("-" if r[k] is None else str(r[k]) for k in ("fetched", "forms", "quarantined")),
            )
        _con().print(table)

    @runs.command("show")
    def runs_show(
        run_id: str,
        as_json: bool = typer.Option(False, "--json", help="The stable JSON shape of docs/ops.md."),
        lang: str | None = typer.Option(None, "--lang", help=LANG_HELP),
    ) -> None:
        """One run: counts, stage figures, why it is waiting, its quarantined records, the workers' configuration."""
        from piis_bridge.ops.queries import run_details
        from piis_bridge.pipeline.runner import run_summary

        t = cli_translator(lang)
        rt = cli_runtime()
        try:
            summary = run_summary(rt, run_id)
        except KeyError:
            typer.echo(t.gettext("no run {run}", run=run_id), err=True)
            raise typer.Exit(1) from None
        with rt.session() as s:
            details = run_details(s, run_id, counts=summary.counts)
        assert details is not None
        details.update(
            stages=summary.stages,
            elapsed_seconds=summary.elapsed_seconds,
            statements=summary.statements,
        )
        if as_json:
            typer.echo(json.dumps(details, default=str))
            return
        _print_summary(summary, t, details["run"].get("reason_text"))
        _print_details(details, t)

    quarantine = cli.group("quarantine", help="Records and side effects that failed permanently.")

    @quarantine.command("list")
    def q_list(
        all_: bool = typer.Option(False, "--all", help="Include replayed and resolved entries."),
        run_id: str | None = typer.Option(None, "--run"),
        cpas: str | None = typer.Option(None, "--cpas"),
        limit: int = typer.Option(100, "--limit", "-n"),
        as_json: bool = typer.Option(False, "--json", help="The stable JSON shape of docs/ops.md."),
        lang: str | None = typer.Option(None, "--lang", help=LANG_HELP),
    ) -> None:
        """Quarantined records (open ones by default), with their reason in full."""
        from piis_bridge.ops.queries import quarantine_list

        rt = cli_runtime()
        known = rt.settings.cpas.get(cpas) if cpas else None
        t = cpas_translator(lang, known.language) if known else cli_translator(lang)
        with rt.session() as s:
            data = quarantine_list(
                s, status=None if all_ else "open", run_id=run_id, cpas_id=cpas, limit=limit
            )
        if as_json:
            typer.echo(json.dumps(data))
            return
        title = t.gettext("quarantine") if all_ else t.gettext("quarantine (open)")
        if not data["entries"]:
            typer.echo(
                t.gettext(
                    "{title}: none (database {url})",
                    title=title,
                    url=_safe_url(rt.settings.database_url),
                )
            )
            return
        _print_quarantine(data["entries"], title, t)

    @quarantine.command("show")
    def q_show(
        entry_id: int, lang: str | None = typer.Option(None, "--lang", help=LANG_HELP)
    ) -> None:
        """One quarantined entry with every problem (record, field, reason)."""
        from piis_bridge.pipeline.models import QuarantineEntry

        rt = cli_runtime()
        with rt.session() as s:
            e = s.get(QuarantineEntry, entry_id)
            known = rt.settings.cpas.get(e.cpas_id) if e is not None else None
            t = cpas_translator(lang, known.language) if known else cli_translator(lang)
            if e is None:
                typer.echo(t.gettext("no quarantine entry {id}", id=entry_id), err=True)
                raise typer.Exit(1)
            con = _con()
            con.print(
                f"[bold]#{e.id}[/bold] "
                + escape(
                    t.gettext(
                        "cpas={cpas} record={record} stage={stage} status={status} run={run} at={at}",
                        cpas=e.cpas_id,
                        record=mask_text(e.record_id),
                        stage=e.stage,
                        status=code_text("quarantine status", e.status, t),
                        run=e.run_id,
                        at=e.created_at.strftime("%Y-%m-%d %H:%M:%S"),
                    )
                ),
            )
            con.print(
                t.gettext(
                    "reason: {reason}", reason=mask_text(say_stored(e.reason, e.reason_text, t))
                ),
                markup=False,
            )
            for p in e.problems:
                field = p.get("field") or t.gettext("(record)")
                con.print(
                    f"  - {mask_text(field)}: "
                    + mask_text(say_stored(str(p.get("reason")), p.get("text"), t))
                    + (f" [{p['rule']}]" if p.get("rule") else ""),
                    markup=False,
                )
            if e.replay_run_id:
                con.print(t.gettext("replayed in run {run}", run=e.replay_run_id))

    @quarantine.command("replay")
    def q_replay(
        entry_ids: list[int] = typer.Argument(None, help="Entry ids (default: every open entry)."),
        embedded: bool | None = typer.Option(
            None, "--embedded/--no-embedded", help="Default: the 'deployment' setting."
        ),
        plugin: list[str] = typer.Option(None, "--plugin", help="Extra plugin 'name=module'."),
        timeout: float | None = typer.Option(None, "--timeout"),
        lang: str | None = typer.Option(None, "--lang", help=LANG_HELP),
    ) -> None:
        """Put quarantined entries back into a new run (after the data was fixed at the source)."""
        from piis_bridge.pipeline.runner import replay

        t = cli_translator(lang)
        settings = _settings()
        summary = replay(
            entry_ids or None,
            settings,
            embedded=embedded_wanted(settings, embedded),
            extra_plugins=plugin or (),
            timeout=timeout,
        )
        if summary is None:
            typer.echo(t.gettext("nothing to replay"))
            return
        _con().print(summary_table(summary, t))

    @quarantine.command("dismiss")
    def q_dismiss(
        entry_id: int,
        reason: str = typer.Option(..., "--reason", help="Why it is closed (kept)."),
        lang: str | None = typer.Option(None, "--lang", help=LANG_HELP),
    ) -> None:
        """Close one open entry by hand, with the reason (kept; `quarantine list --all` shows it)."""
        from piis_bridge.pipeline.quarantine import QuarantineError, dismiss

        rt = cli_runtime()
        try:
            e = dismiss(rt, entry_id, reason)
        except QuarantineError as exc:
            typer.echo(str(exc), err=True)
            raise typer.Exit(1) from None
        known = rt.settings.cpas.get(e.cpas_id)
        t = cpas_translator(lang, known.language) if known else cli_translator(lang)
        typer.echo(
            t.gettext("quarantine entry {id} dismissed: {reason}", id=e.id, reason=e.closed_reason)
        )

    def _celery(args: list[str]) -> None:
        os.environ["PIIS_PREFLIGHT_DONE"] = (
            "1"  # checked just before; the worker need not check again
        )
        os.execv(
            sys.executable,
            [sys.executable, "-m", "celery", "-A", "piis_bridge.pipeline.worker:app", *args],
        )

    @app.command("worker")
    def worker(
        queues: str = typer.Option(
            "default,casesystem,federal",
            "--queues",
            "-Q",
            help="Queues to serve: default, casesystem, federal (named "
            "<PIIS_PIPELINE_QUEUE_PREFIX>.<queue>), or full queue names.",
        ),
        concurrency: int = typer.Option(2, "--concurrency", "-c", min=1),
        pool: str = typer.Option("prefork", "--pool", "-P"),
        hostname: str | None = typer.Option(
            None, "--hostname", "-n", help="Node name, e.g. default@%h."
        ),
        loglevel: str = typer.Option("INFO", "--loglevel", "-l"),
    ) -> None:
        """Run a celery worker for the pipeline (scale-out; see deploy/).

        Checks the configuration, the data directory, the database (migrated) and the broker first,
        and refuses to start with one paragraph naming what is wrong (exit 2 or 3)."""
        from piis_bridge.ops.preflight import preflight
        from piis_bridge.pipeline.runtime import PipelineOptions

        preflight(_settings())
        prefix = PipelineOptions().queue_prefix
        names = [
            q if "." in q else f"{prefix}.{q}"
            for q in (part.strip() for part in queues.split(","))
            if q
        ]
        args = [
            "worker",
            "-Q",
            ",".join(names),
            "-c",
            str(concurrency),
            "-P",
            pool,
            "-l",
            loglevel,
            "--without-gossip",
            "--without-mingle",
        ]
        _celery([*args, *(["-n", hostname] if hostname else [])])

    @app.command("beat")
    def beat(
        schedule_file: str = typer.Option("var/celerybeat-schedule", "--schedule", "-s"),
        loglevel: str = typer.Option("INFO", "--loglevel", "-l"),
    ) -> None:
        """Run the single celery beat (nightly dispatch + stale-work sweeper). Never run two."""
        from piis_bridge.ops.preflight import preflight

        preflight(_settings())
        os.makedirs(os.path.dirname(schedule_file) or ".", exist_ok=True)
        _celery(["beat", "-s", schedule_file, "-l", loglevel])

    db = cli.group("db", help="The application database.")

    @db.command("upgrade")
    def db_upgrade(revision: str = typer.Argument("head")) -> None:
        """Create or migrate the application database (alembic) to the latest schema."""
        from piis_bridge.migrations import current_revision, upgrade_database

        settings = _settings()
        upgrade_database(settings.database_url, revision)
        t = settings_translator(settings)
        typer.echo(
            t.gettext(
                "database at revision {revision}",
                revision=current_revision(settings.database_url),
            )
        )

    @db.command("new-key")
    def db_new_key(
        key_id: str = typer.Argument(..., help="A short id for the key, e.g. 2026a."),
    ) -> None:
        """Print a new AES-256 data key as '<id>:<base64>' (put it FIRST in PIIS_DATA_KEYS or its file)."""
        from piis_bridge.crypto import new_key

        typer.echo(f"{key_id}:{new_key()}")  # the key line, read by a machine: no words

    @db.command("rotate-key")
    def db_rotate_key() -> None:
        """Re-encrypt every encrypted column under the first key of the ring (and encrypt plaintext)."""
        from piis_bridge.crypto import CryptoError, encryption_status, rotate
        from piis_bridge.db import Base, make_engine

        settings = _settings()
        from piis_bridge.migrations import upgrade_database

        upgrade_database(settings.database_url)
        import piis_bridge.ledger.models  # noqa: F401 - every encrypted table in the metadata
        import piis_bridge.pipeline.models  # noqa: F401
        import piis_bridge.transfer.tables  # noqa: F401

        engine = make_engine(settings.database_url)
        t = settings_translator(settings)
        try:
            done = rotate(engine, Base.metadata)
        except CryptoError as exc:
            typer.echo(f"piis-bridge db rotate-key: {exc}", err=True)
            raise typer.Exit(2) from None
        for column, n in done.items():
            typer.echo(
                t.ngettext(
                    "{column}: {n} value(s) re-encrypted",
                    "{column}: {n} value(s) re-encrypted",
                    n,
                    column=column,
                )
            )
        for column, counts in encryption_status(engine, Base.metadata).items():
            typer.echo(
                f"{column}: "
                + (", ".join(f"{k}={v}" for k, v in sorted(counts.items())) or t.gettext("empty"))
            )
        engine.dispose()

    @db.command("rehash-niss")
    def db_rehash_niss(
        development: bool = typer.Option(
            False,
            "--from-development-key",
            help="The previous hashes were made with the public development key (a database "
            "upgraded before any key was configured).",
        ),
    ) -> None:
        """After a change of hash key: recompute the federal ledger's NISS hashes (stop the bridge first).

        The previous key comes from PIIS_PREVIOUS_HASH_KEY ('<id>:<base64>', as `db new-key` prints),
        never from an argument (shell history and the process list would keep it)."""
        import os

        from piis_bridge.crypto import DEV_HASH_KEY, CryptoError, KeyRing, hash_key
        from piis_bridge.db import make_engine
        from piis_bridge.ledger import rehash_niss
        from piis_bridge.migrations import upgrade_database

        settings = _settings()
        try:
            t = settings_translator(settings)
            if development:
                previous = DEV_HASH_KEY
            else:
                text = os.environ.get("PIIS_PREVIOUS_HASH_KEY", "")
                ring = KeyRing.parse(text, "PIIS_PREVIOUS_HASH_KEY")
                if ring.current is None or len(ring.keys) != 1:
                    raise CryptoError(
                        t.gettext(
                            "set PIIS_PREVIOUS_HASH_KEY to the one previous hash key "
                            "('<id>:<base64>'), or give --from-development-key"
                        )
                    )
                previous = ring.keys[ring.current]
            if previous == hash_key():
                raise CryptoError(
                    t.gettext(
                        "the previous hash key is the current one (PIIS_HASH_KEY): "
                        "nothing to recompute"
                    )
                )
        except CryptoError as exc:
            typer.echo(f"piis-bridge db rehash-niss: {exc}", err=True)
            raise typer.Exit(2) from None
        upgrade_database(settings.database_url)
        engine = make_engine(settings.database_url)
        try:
            counts = rehash_niss(engine, previous)
        finally:
            engine.dispose()
        for table, n in counts.items():
            typer.echo(f"{table}: {n}")

    @db.command("purge")
    def db_purge(
        days: int | None = typer.Option(
            None, "--days", help="Default: the retention_days setting."
        ),
    ) -> None:
        """Purge the payloads of finished work older than the retention (keys, states and hashes stay)."""
        from piis_bridge.retention import purge_finished

        rt = cli_runtime()
        chosen = days or rt.settings.retention_days
        t = settings_translator(rt.settings)
        if not chosen:
            typer.echo(
                "piis-bridge db purge: "
                + t.gettext("set retention_days in the configuration or pass --days"),
                err=True,
            )
            raise typer.Exit(2)
        for column, n in purge_finished(rt.engine, chosen).items():
            typer.echo(t.gettext("{column}: {n} purged", column=column, n=n))
