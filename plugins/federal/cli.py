"""``piis-bridge forms build|submit|status|statement`` and ``piis-bridge sim federal``.

The human output of ``forms`` is in the language of the CPAS of ``--cpas`` (the root ``--lang``
first; docs/i18n.md); form keys, kinds, references, issue codes, the federal service's messages and
a reconciliation difference's detail (the ledger's words) stay as written, and ``forms status
--key``'s history lines (the ledger's record, field by field, read by scripts) are codes only.
"""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path
from typing import Any

import typer

from piis_bridge.i18n import Translator
from piis_bridge.i18n.cli import cli_translator, cpas_translator, settings_translator
from piis_bridge.i18n.ops import code_text

__all__ = ["register"]


def _context(cpas_id: str, config: Path | None, database_url: str | None) -> Any:
    from piis_bridge.config import load_settings
    from piis_bridge.hooks.types import CpasContext

    settings = load_settings(config)
    if cpas_id not in settings.cpas:
        t = settings_translator(settings)
        raise typer.BadParameter(
            t.gettext(
                "unknown CPAS {cpas}; configured: {ids}",
                cpas=repr(cpas_id),
                ids=", ".join(sorted(settings.cpas)) or t.gettext("none"),
            )
        )
    cpas = settings.cpas[cpas_id]
    plugin_settings = dict(settings.plugin_settings(cpas_id, "federal"))
    plugin_settings.setdefault("database_url", database_url or settings.database_url)
    return CpasContext(
        cpas_id=cpas_id,
        name=cpas.name,
        ins_code=cpas.ins_code,
        bce=cpas.bce,
        settings=plugin_settings,
        state_dir=settings.state_dir_for(cpas_id, "federal"),
        plugin="federal",
        language=cpas.language,
    )


def _t(ctx: Any) -> Translator:
    """The language of a command about the CPAS of *ctx*: the root ``--lang``, else its setting."""
    return cpas_translator(None, getattr(ctx, "language", None))


def _t_for(cpas_id: str, config: Path | None) -> Translator:
    """The same for a command that holds only the CPAS id (its configuration is read again: cheap)."""
    from piis_bridge.config import load_settings

    known = load_settings(config).cpas.get(cpas_id)
    return cpas_translator(None, known.language if known is not None else None)


def _answer(code: str, t: Translator) -> str:
    from piis_bridge.i18n.push import FEDERAL_ANSWERS

    return t.pgettext("federal answer", code) if code in FEDERAL_ANSWERS else code


def _print_outcomes(outcomes: list[Any], t: Translator | None = None) -> None:
    from rich.console import Console
    from rich.table import Table

    t = t or cli_translator(None)
    table = Table(
        t.gettext("key"),
        t.gettext("form"),
        t.gettext("status"),
        t.gettext("evaluation"),
        t.gettext("reference"),
        t.gettext("issues (rubric)"),
    )
    for o in outcomes:
        issues = "; ".join(f"{i.code} {i.rubric or i.field or ''}".strip() for i in o.issues)
        table.add_row(
            o.client_reference,
            o.kind.value,
            code_text("form status", o.status.value, t),
            _answer(o.evaluation.value, t),
            o.reference or "",
            issues,
        )
    Console().print(table)


def register(cli: Any) -> None:
    forms = cli.group(
        "forms",
        help="Federal forms B/C/D: build, submit, follow up, reconcile the monthly statement.",
    )
    sim = cli.group("sim", help="Local simulators of remote systems.")

    cpas_opt = typer.Option(..., "--cpas", help="CPAS id from the configuration.")
    config_opt = typer.Option(
        None, "--config", help="Configuration file (default: $PIIS_CONFIG or ./piis-bridge.toml)."
    )
    db_opt = typer.Option(
        None, "--database-url", help="Ledger database (default: the configured database_url)."
    )

    @forms.command("build")
    def build(
        contracts: Path = typer.Argument(..., help="Canonical contract file (JSON)."),
        cpas: str = cpas_opt,
        config: Path | None = config_opt,
        database_url: str | None = db_opt,
        event: str = typer.Option("auto", help="auto | grant | change | end | recovery"),
        effective_date: str | None = typer.Option(
            None, help="EntryDate of a change (B) or end (C)."
        ),
        recovery_month: str | None = typer.Option(
            None, help="D: YYYY-MM the receipts were booked."
        ),
        recovery_type: str = typer.Option("01", help="D: type de récupération."),
        period_start: str | None = typer.Option(None),
        period_end: str | None = typer.Option(None),
        amount: int = typer.Option(0, help="D: amount recovered, cents (100 %)."),
    ) -> None:
        """Build forms from canonical contracts, validate them (XSD) and record them in the ledger."""
        from piis_plugins.federal import FederalPlugin
        from piis_plugins.federal.building import FormBuilder

        from piis_bridge.forms import ContractEvent, EventKind, RecoveryInfo
        from piis_bridge.model import load_file

        ctx = _context(cpas, config, database_url)
        t = _t(ctx)
        loaded = load_file(contracts)
        for problem in loaded.problems:
            typer.echo(t.gettext("problem: {problem}", problem=problem), err=True)
        built = []
        for contract in loaded.contracts:
            if event == "auto":
                ev = ContractEvent.from_contract(contract)
            elif event == "recovery":
                if not (recovery_month and period_start and period_end):
                    raise typer.BadParameter(
                        t.gettext("--recovery-month, --period-start and --period-end are required")
                    )
                ev = ContractEvent(
                    kind=EventKind.RECOVERY,
                    recovery=RecoveryInfo(
                        month=date.fromisoformat(recovery_month + "-01"),
                        recovery_type=recovery_type,
                        period_start=date.fromisoformat(period_start),
                        period_end=date.fromisoformat(period_end),
                        amount_cents=amount,
                    ),
                )
            else:
                ev = ContractEvent(
                    kind=EventKind(event),
                    effective_date=date.fromisoformat(effective_date) if effective_date else None,
                )
            built.append(FormBuilder().build(cpas, contract, ev))
        outcomes = FederalPlugin().service(ctx).record(built)
        _print_outcomes(outcomes, t)
        if any(o.status.value == "refused" for o in outcomes) or loaded.problems:
            raise typer.Exit(1)

    @forms.command("submit")
    def submit(
        cpas: str = cpas_opt,
        config: Path | None = config_opt,
        database_url: str | None = db_opt,
        mode: str | None = typer.Option(None, help="batch | online (default: the CPAS setting)."),
        wait: float = typer.Option(0.0, help="Seconds to wait for batch results."),
    ) -> None:
        """Send every built form (validated against our XSD and the SSDN XSDs before it leaves)."""
        from piis_plugins.federal import FederalPlugin

        service = FederalPlugin().service(_context(cpas, config, database_url))
        sent = service.send_built(mode=mode)
        if wait:
            service.fetch_results(wait=wait, collect=False)
        t = _t_for(cpas, config)
        counts = service.ledger.counts(cpas)
        typer.echo(
            t.ngettext(
                "sent {n} form(s); ledger: {counts}",
                "sent {n} form(s); ledger: {counts}",
                sent,
                counts=counts
                if t.language == "en"  # the dict English always printed; words elsewhere
                else ", ".join(f"{code_text('form status', k, t)}: {v}" for k, v in counts.items()),
            )
        )

    @forms.command("status")
    def status(
        cpas: str = cpas_opt,
        config: Path | None = config_opt,
        database_url: str | None = db_opt,
        key: str | None = typer.Option(None, help="One form: its versions and answers."),
        refresh: bool = typer.Option(
            False, help="Ask the federal service first (results, unknown outcomes)."
        ),
    ) -> None:
        """Ledger counts per status, or the history of one form."""
        from piis_plugins.federal import FederalPlugin

        service = FederalPlugin().service(_context(cpas, config, database_url))
        if refresh:
            service.resolve_unknown()
            service.fetch_results(collect=False)
        t = _t_for(cpas, config)
        if key:
            for entry in service.ledger.versions(key):
                codes = ",".join(e.get("code", "") for e in entry.errors or [])
                typer.echo(  # the ledger's record, field by field: codes, for scripts
                    f"v{entry.version} {entry.key} {entry.kind} {entry.period_key} {entry.status} "
                    f"{entry.reference or ''} {codes}"
                )
            return
        for name, count in sorted(service.ledger.counts(cpas).items()):
            typer.echo(f"{code_text('form status', name, t)}: {count}")

    @forms.command("statement")
    def statement(
        month: str = typer.Option(..., help="YYYY-MM"),
        cpas: str = cpas_opt,
        config: Path | None = config_opt,
        database_url: str | None = db_opt,
    ) -> None:
        """Fetch the monthly statement and reconcile it against the ledger; each difference is reported."""
        from piis_plugins.federal import FederalPlugin

        from piis_bridge.ledger.reconcile import reconcile

        service = FederalPlugin().service(_context(cpas, config, database_url))
        st = service.statement(date.fromisoformat(month + "-01"))
        t = _t_for(cpas, config)
        if st is None:
            typer.echo(
                t.gettext(
                    "statement {month} not available yet (first Sunday of the next month)",
                    month=month,
                )
            )
            raise typer.Exit(2)
        total = sum(line.signed_cents for line in st.lines)
        english_total = f"{total / 100:.2f}"
        typer.echo(
            t.ngettext(
                "statement {month}: {n} line(s), total {total} EUR at 100 %",
                "statement {month}: {n} line(s), total {total} EUR at 100 %",
                len(st.lines),
                month=month,
                total=english_total if t.language == "en" else t.format_amount(total, symbol=False),
            )
        )
        diffs = reconcile(st, service.ledger, cpas)
        for d in diffs:
            kind = code_text("difference kind", d.kind.value, t)
            typer.echo(f"{kind}: {d.client_reference or d.reference or '-'} {d.detail}")
        if not diffs:
            typer.echo(t.gettext("no differences"))
        raise typer.Exit(1 if any(d.kind.value != "notice" for d in diffs) else 0)

    @sim.command("federal")
    def sim_federal(
        port: int = typer.Option(8765, help="Port on 127.0.0.1 (0 = any free port)."),
        db: Path = typer.Option(Path("var/novaprima-sim.sqlite3"), help="SQLite state file."),
        clock: str | None = typer.Option(None, help="Set the simulated clock (ISO datetime)."),
        register_cpas: list[str] = typer.Option(
            [], "--cpas", help="KBO:INS[:name[:rate]] to register."
        ),
        batch_delay: float | None = typer.Option(
            None, help="Seconds before batch results are ready."
        ),
        require_signature: list[Path] = typer.Option(
            [],
            "--require-signature",
            help="Accept only WS-Security signed requests, signed by this certificate (PEM); repeatable.",
        ),
    ) -> None:
        """Run the NovaPrima/BCSS simulator (SOAP + admin API) until interrupted."""
        from piis_connectors.federal.simulator.app import check_config, cpas_from_spec
        from piis_connectors.federal.simulator.server import SimulatorServer

        t = cli_translator(None)
        try:  # refuse a wrong configuration before anything listens or is stored
            cpas_bodies = [cpas_from_spec(spec) for spec in register_cpas]
            try:
                now = datetime.fromisoformat(clock).isoformat() if clock else None
            except ValueError:
                raise ValueError(
                    t.gettext(
                        "--clock {clock}: not an ISO date-time (e.g. 2025-09-10T09:00:00)",
                        clock=repr(clock),
                    )
                ) from None
            if batch_delay is not None:
                check_config({"batch_delay": batch_delay})
        except ValueError as exc:
            typer.echo(t.gettext("error: {problem}", problem=exc), err=True)
            raise typer.Exit(2) from None
        server = SimulatorServer(db, port, require_signature=require_signature or None)
        for body in cpas_bodies:
            server.app.admin("POST", "cpas", body)
        if now:
            server.app.admin("POST", "clock", {"now": now})
        if batch_delay is not None:
            server.app.admin("POST", "config", {"batch_delay": batch_delay})
        admin = server.base_url + "/admin/"
        typer.echo(
            t.gettext(
                "NovaPrima simulator on {url}  WSDL: {wsdl}  admin: {admin}",
                url=server.base_url,
                wsdl=server.wsdl_url,
                admin=admin,
            )
        )
        try:
            server.serve_forever()
        except KeyboardInterrupt:
            pass
        finally:
            server.httpd.server_close()
            server.app.close()
