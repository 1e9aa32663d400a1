"""``piis-bridge health``, ``monitor serve|metrics|trace`` and ``alerts check|test`` (docs/operations.md).

``health`` follows the Nagios plugin convention (exit 0 ok, 1 warning, 2 critical) so that any
monitoring system can run it as is; ``--json`` prints the same report for machines.

The human output is in the CPAS's language (the root ``--lang``, else the configured ``language``;
docs/i18n.md).  Language-neutral by design: ``health``'s first line (``piis-bridge OK``, read by
Nagios-style monitors with the exit code), ``monitor metrics`` (the Prometheus exposition), every
``--json`` (a check's summary and an alert's title and text in English, with their message ids and
values).  A check's summary and an alert's title are written by :mod:`piis_bridge.observability` as
:class:`~piis_bridge.i18n.text.Text` and said here in the reader's language.
"""

from __future__ import annotations

import json
import sys
from typing import Any

import typer

from piis_bridge.cli._registry import CommandRegistry
from piis_bridge.i18n.cli import settings_translator
from piis_bridge.i18n.ops import code_text
from piis_bridge.i18n.text import error_text, say

__all__ = ["register"]


def _settings() -> Any:
    from piis_bridge.config import ConfigError, load_settings

    try:
        return load_settings()
    except ConfigError as exc:
        typer.echo(say(error_text(exc), settings_translator(None)), err=True)
        raise typer.Exit(2) from None


def register(cli: CommandRegistry) -> None:
    @cli.root.command("health")
    def health(
        as_json: bool = typer.Option(False, "--json", help="Print the report as JSON."),
        workers: bool = typer.Option(
            True, "--workers/--no-workers", help="Ask the celery workers (scale-out)."
        ),
    ) -> None:
        """Is the bridge working?  Exit 0 ok, 1 warning, 2 critical (Nagios convention)."""
        from piis_bridge.observability.health import Status, run_checks

        settings = _settings()
        t = settings_translator(settings)
        report = run_checks(settings, workers=workers)
        if as_json:
            typer.echo(json.dumps(report.to_json(), indent=2))
        else:
            typer.echo(f"piis-bridge {report.status.name}")  # Nagios: the status name, any language
            # columns as wide as the language's longest word (English: 8 and 13, as always)
            statuses = {
                c.status.name: code_text("health status", c.status.name, t) for c in report.checks
            }
            names = {c.name: code_text("health check", c.name, t) for c in report.checks}
            status_width = max(
                [8, *(len(code_text("health status", s, t)) for s in Status.__members__)]
            )
            name_width = max([13, *(len(n) for n in names.values())])
            for check in report.checks:
                status, name = statuses[check.status.name], names[check.name]
                summary = say(check.summary, t)
                typer.echo(f"  {status:<{status_width}} {name:<{name_width}} {summary}")
        raise typer.Exit(int(report.status))

    monitor = cli.group("monitor", help="Prometheus metrics and HTTP health checks.")

    @monitor.command("serve")
    def monitor_serve(
        host: str = typer.Option(
            None, "--host", help="Address to bind (default: monitoring.metrics_host)."
        ),
        port: int = typer.Option(None, "--port", help="Port (default: monitoring.metrics_port)."),
    ) -> None:
        """Serve /metrics, /healthz, /readyz and /health until interrupted."""
        from piis_bridge.observability.http import serve

        settings = _settings()
        t = settings_translator(settings)
        host = host or settings.monitoring.metrics_host
        port = port or settings.monitoring.metrics_port
        url, address = f"http://{host}:{port}/metrics", f"{host}:{port}"
        typer.echo(
            t.gettext("monitoring on {url} (and /healthz, /readyz, /health)", url=url),
            err=True,
        )
        try:
            serve(settings, host, port)
        except OSError as exc:
            typer.echo(
                t.gettext(
                    "cannot listen on {address}: {error}; set monitoring.metrics_port or --port",
                    address=address,
                    error=exc.strerror,
                ),
                err=True,
            )
            raise typer.Exit(3) from None
        except KeyboardInterrupt:
            pass

    @monitor.command("metrics")
    def monitor_metrics() -> None:
        """Print the Prometheus exposition once (what /metrics would answer)."""
        from piis_bridge.observability.metrics import exposition

        sys.stdout.write(exposition(_settings()).decode())

    @monitor.command("trace")
    def monitor_trace(
        run_id: str = typer.Argument(..., help="The run (piis-bridge runs list)."),
        cpas: str = typer.Option(None, "--cpas", help="The CPAS of the dossier."),
        record: str = typer.Option(
            None, "--record", help="The case system's record id of the dossier."
        ),
    ) -> None:
        """The trace ids to look up in the tracing UI: the run's, or one dossier's of that run.

        The record id is only looked up, never printed back (vendors' ids may embed a NISS)."""
        from sqlalchemy import select

        from piis_bridge.db import make_engine
        from piis_bridge.observability.tracing import dossier_trace_id
        from piis_bridge.pipeline.models import SyncRun, WorkItem

        settings = _settings()
        t = settings_translator(settings)
        if (cpas is None) != (record is None):
            typer.echo(
                t.gettext("give both --cpas and --record for a dossier's trace, or neither"),
                err=True,
            )
            raise typer.Exit(2)
        engine = make_engine(settings.database_url)
        try:
            with engine.connect() as conn:
                if conn.execute(select(SyncRun.id).where(SyncRun.id == run_id)).first() is None:
                    typer.echo(
                        t.gettext("no run {run} (piis-bridge runs list)", run=run_id), err=True
                    )
                    raise typer.Exit(1)
                if record is None:
                    label = t.gettext("run trace")
                    typer.echo(f"{label:<14} {run_id}")
                    return
                items = list(
                    conn.scalars(
                        select(WorkItem.id)
                        .where(
                            WorkItem.run_id == run_id,
                            WorkItem.cpas_id == cpas,
                            WorkItem.record_id == record,
                        )
                        .order_by(WorkItem.id)
                    )
                )
        finally:
            engine.dispose()
        if not items:
            typer.echo(
                t.gettext(
                    "that record of CPAS {cpas} was not part of run {run}", cpas=cpas, run=run_id
                ),
                err=True,
            )
            raise typer.Exit(1)
        for item_id in items:  # one per version of the record the run fetched
            trace = dossier_trace_id(run_id, item_id)
            item = t.gettext("(item {item})", item=item_id)
            label = t.gettext("dossier trace")
            typer.echo(f"{label:<14} {trace}  {item}")

    alerts = cli.group(
        "alerts", help="Alerts by e-mail and webhook (section alerts of the configuration)."
    )

    @alerts.command("check")
    def alerts_check(
        as_json: bool = typer.Option(False, "--json", help="Print what happened as JSON."),
    ) -> None:
        """Evaluate the alert rules now and send what is due (beat does this every five minutes)."""
        from piis_bridge.observability.alerts import check_and_send

        settings = _settings()
        t = settings_translator(settings)
        if not settings.alerts.channels:
            typer.echo(
                t.gettext(
                    "no alert channel configured ([alerts.email] or [alerts.webhook]): "
                    "nothing to send"
                ),
                err=True,
            )
            raise typer.Exit(2)
        deliveries = check_and_send(settings)
        if as_json:
            typer.echo(
                json.dumps(
                    [
                        {
                            **d.alert.to_json(),
                            "sent": d.sent,
                            "suppressed": d.suppressed,
                            "errors": d.errors,
                        }
                        for d in deliveries
                    ],
                    indent=2,
                )
            )
        elif not deliveries:
            typer.echo(t.gettext("no alert condition holds: none sent"))
        for d in deliveries if not as_json else []:
            state = (
                t.gettext("held back by the cap")
                if d.suppressed
                else t.gettext("sent")
                if d.sent
                else t.gettext("NOT delivered")
            )
            title = say(d.alert.title, t)
            typer.echo(f"{d.alert.rule:<22} {d.alert.cpas_id or '-':<12} {state}: {title}")
            for error in d.errors:
                typer.echo(f"    {error}")
        if any(not d.sent and not d.suppressed for d in deliveries):
            raise typer.Exit(1)

    @alerts.command("test")
    def alerts_test() -> None:
        """Send one test alert on every configured channel."""
        from piis_bridge.observability.alerts import AlertError, send_test

        settings = _settings()
        t = settings_translator(settings)
        try:
            errors = send_test(settings)
        except AlertError as exc:
            typer.echo(say(error_text(exc), t), err=True)
            raise typer.Exit(2) from None
        for channel in settings.alerts.channels:
            failed = [e for e in errors if e.startswith(channel)]
            typer.echo(
                f"{channel}: "
                + (t.gettext("FAILED {error}", error=failed[0]) if failed else t.gettext("sent"))
            )
        if errors:
            raise typer.Exit(1)
