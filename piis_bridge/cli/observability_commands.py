"""``piis-bridge health``, ``monitor serve|metrics`` and ``alerts check|test`` (docs/operations.md).

``health`` follows the Nagios plugin convention (exit 0 ok, 1 warning, 2 critical) so that any
monitoring system can run it as is; ``--json`` prints the same report for machines.
"""

from __future__ import annotations

import json
import sys
from typing import Any

import typer

from piis_bridge.cli._registry import CommandRegistry

__all__ = ["register"]


def _settings() -> Any:
    from piis_bridge.config import ConfigError, load_settings

    try:
        return load_settings()
    except ConfigError as exc:
        typer.echo(str(exc), err=True)
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
        from piis_bridge.observability.health import run_checks

        report = run_checks(_settings(), workers=workers)
        if as_json:
            typer.echo(json.dumps(report.to_json(), indent=2))
        else:
            typer.echo(f"piis-bridge {report.status.name}")
            for check in report.checks:
                typer.echo(f"  {check.status.name:<8} {check.name:<13} {check.summary}")
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
        host = host or settings.monitoring.metrics_host
        port = port or settings.monitoring.metrics_port
        typer.echo(
            f"monitoring on http://{host}:{port}/metrics (and /healthz, /readyz, /health)", err=True
        )
        try:
            serve(settings, host, port)
        except OSError as exc:
            typer.echo(
                f"cannot listen on {host}:{port}: {exc.strerror}; set monitoring.metrics_port or --port",
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
        if not settings.alerts.channels:
            typer.echo(
                "no alert channel configured ([alerts.email] or [alerts.webhook]): nothing to send",
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
            typer.echo("no alert condition holds: none sent")
        for d in deliveries if not as_json else []:
            state = (
                "held back by the cap" if d.suppressed else "sent" if d.sent else "NOT delivered"
            )
            typer.echo(f"{d.alert.rule:<22} {d.alert.cpas_id or '-':<12} {state}: {d.alert.title}")
            for error in d.errors:
                typer.echo(f"    {error}")
        if any(not d.sent and not d.suppressed for d in deliveries):
            raise typer.Exit(1)

    @alerts.command("test")
    def alerts_test() -> None:
        """Send one test alert on every configured channel."""
        from piis_bridge.observability.alerts import AlertError, send_test

        settings = _settings()
        try:
            errors = send_test(settings)
        except AlertError as exc:
            typer.echo(str(exc), err=True)
            raise typer.Exit(2) from None
        for channel in settings.alerts.channels:
            failed = [e for e in errors if e.startswith(channel)]
            typer.echo(f"{channel}: {'FAILED ' + failed[0] if failed else 'sent'}")
        if errors:
            raise typer.Exit(1)
