"""``piis-bridge transfer list|show|consent|send|receive`` (and ``assess``, the new CPAS's review;
``redeliver``, the received drafts the case system did not take yet).

Why these five: a social worker's back office records the person's answer (``consent``), IT or the
nightly job sends what has consent (``send``), each bridge runs its receiving endpoint
(``receive``), and everybody needs to see where a hand-over stands (``list``, ``show``).  Output
never shows a NISS: cases are named by case id and contract id.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import typer

from piis_bridge.identifiers import mask_niss

__all__ = ["register"]

_CONFIG_HELP = "Configuration file (default: $PIIS_CONFIG, else ./piis-bridge.toml)."


def _host(config: Path | None) -> Any:
    from piis_bridge.config import ConfigError, load_settings
    from piis_bridge.hooks.manager import PluginHost

    try:
        settings = load_settings(config)
        host = PluginHost(settings)
    except ConfigError as exc:
        typer.echo(f"piis-bridge transfer: {exc}", err=True)
        raise typer.Exit(2) from None
    host.startup()
    return host


def _cpas(host: Any, cpas_id: str | None) -> str:
    routed = [cid for cid, c in host.settings.cpas.items() if c.transfer]
    if cpas_id is None:
        if len(routed) != 1:
            typer.echo(
                f"piis-bridge transfer: give --cpas (one of: {', '.join(routed) or 'none configured'})",
                err=True,
            )
            raise typer.Exit(2)
        return routed[0]
    if cpas_id not in routed:
        typer.echo(
            f"piis-bridge transfer: cpas {cpas_id!r} has no transfer plugin configured", err=True
        )
        raise typer.Exit(2)
    return cpas_id


def _service(host: Any, cpas_id: str) -> Any:
    from piis_plugins.transfer.plugin import service_for

    return service_for(host.context(cpas_id, host.route(cpas_id, "transfer")))


def register(cli: Any) -> None:
    app = cli.group(
        "transfer", help="Hand a PIIS over to another CPAS when the beneficiary moves (R-TRF)."
    )

    @app.command("list")
    def list_(
        cpas: str | None = typer.Option(None, "--cpas", help="CPAS id from the configuration."),
        state: str | None = typer.Option(None, "--state", help="Only cases in this state."),
        received: bool = typer.Option(
            False, "--received", help="List packages received from other CPAS."
        ),
        as_json: bool = typer.Option(False, "--json"),
        config: Path | None = typer.Option(None, "--config", "-c", help=_CONFIG_HELP),
    ) -> None:
        """Transfer cases of a CPAS (or, with --received, the packages it received)."""
        host = _host(config)
        service = _service(host, _cpas(host, cpas))
        if received:
            rows = [
                {
                    "package_id": r.package_id,
                    "from": f"{r.sender_name} ({r.sender_bce})",
                    "contract": r.contract_id,
                    "draft": r.draft_contract_id,
                    "case_system": r.draft_ref,
                    "state": r.state,
                }
                for r in service.list_received()
            ]
        else:
            rows = [
                {
                    "case_id": c.case_id,
                    "contract": c.contract_id,
                    "to_ins": c.to_ins_code,
                    "moved_on": str(c.residence_change_date),
                    "ends_on": str(c.legal_end_date or "-"),
                    "eligibility": c.eligibility,
                    "state": c.state,
                    "attempts": c.attempts,
                }
                for c in service.list_cases(state)
            ]
        _print_rows(rows, as_json, "received packages" if received else "transfer cases")

    @app.command("show")
    def show(
        ident: str = typer.Argument(..., help="A case id, or a received package id."),
        cpas: str | None = typer.Option(None, "--cpas"),
        as_json: bool = typer.Option(False, "--json"),
        config: Path | None = typer.Option(None, "--config", "-c", help=_CONFIG_HELP),
    ) -> None:
        """A case with its consent records and history, or a received package with its draft."""
        from piis_bridge.transfer import TransferError

        host = _host(config)
        service = _service(host, _cpas(host, cpas))
        try:
            doc = _case_doc(service, ident)
        except TransferError:
            if service.received(ident) is None:
                typer.echo(f"piis-bridge transfer: no case or received package {ident}", err=True)
                raise typer.Exit(1) from None
            doc = _received_doc(service, ident)
        if as_json:
            typer.echo(json.dumps(doc, indent=2, default=str))
            return
        for key, value in doc.items():
            if isinstance(value, list):
                typer.echo(f"{key}:")
                for item in value:
                    typer.echo(f"  - {item}")
            else:
                typer.echo(f"{key}: {value}")

    @app.command("consent")
    def consent(
        case_id: str = typer.Argument(...),
        given: bool = typer.Option(
            False, "--given", help="The person asks for the hand-over and consents."
        ),
        refused: bool = typer.Option(
            False, "--refused", help="The person refuses: nothing is sent."
        ),
        not_expressed: bool = typer.Option(
            False, "--not-expressed", help="Asked, no answer (not consent, Q-09)."
        ),
        by: str = typer.Option(..., "--by", help="Who recorded the answer."),
        channel: str = typer.Option(
            ..., "--channel", help="How: interview, signed form, letter..."
        ),
        note: str = typer.Option("", "--note"),
        cpas: str | None = typer.Option(None, "--cpas"),
        config: Path | None = typer.Option(None, "--config", "-c", help=_CONFIG_HELP),
    ) -> None:
        """Record the person's answer (R-TRF-05).  Append-only: a later answer is a new record."""
        from piis_bridge.model import Consent
        from piis_bridge.transfer import InvalidTransition, TransferError

        if sum((given, refused, not_expressed)) != 1:
            typer.echo(
                "piis-bridge transfer consent: give exactly one of --given, --refused, --not-expressed",
                err=True,
            )
            raise typer.Exit(2)
        value = Consent.GIVEN if given else Consent.REFUSED if refused else Consent.NOT_EXPRESSED
        host = _host(config)
        service = _service(host, _cpas(host, cpas))
        try:
            case = service.record_consent(case_id, value, by=by, channel=channel, note=note)
        except (TransferError, InvalidTransition) as exc:
            typer.echo(f"piis-bridge transfer consent: {exc}", err=True)
            raise typer.Exit(1) from None
        typer.echo(f"{case_id}: consent {value.value} recorded; state {case.state}")

    @app.command("send")
    def send(
        case_ids: list[str] = typer.Argument(
            None, help="Cases to send (default: every case ready to send)."
        ),
        cpas: str | None = typer.Option(None, "--cpas"),
        config: Path | None = typer.Option(None, "--config", "-c", help=_CONFIG_HELP),
    ) -> None:
        """Build, sign and deliver packages; a failed delivery stays ready and is retried next time."""
        from piis_plugins.transfer.plugin import send_case

        from piis_bridge.transfer import CaseState, TransferError

        host = _host(config)
        cpas_id = _cpas(host, cpas)
        service = _service(host, cpas_id)
        if not case_ids:
            case_ids = [
                c.case_id
                for c in service.list_cases()
                if c.state in (CaseState.CONSENT_GIVEN, CaseState.PACKAGE_BUILT)
            ]
        failed = 0
        for case_id in case_ids:
            try:
                receipt = send_case(host, cpas_id, case_id)
            except TransferError as exc:
                failed += 1
                typer.echo(f"{case_id}: {exc}", err=True)
                continue
            failed += receipt.status in ("failed", "rejected")
            typer.echo(
                f"{case_id}: {receipt.status} (state {receipt.state}, attempts {receipt.attempts})"
                + (f": {receipt.detail}" if receipt.detail else "")
            )
        if not case_ids:
            typer.echo("nothing to send")
        raise typer.Exit(1 if failed else 0)

    @app.command("assess")
    def assess(
        package_id: str = typer.Argument(..., help="A received package id."),
        take: list[str] = typer.Option([], "--take", help="A commitment id taken over (repeat)."),
        not_taken: list[str] = typer.Option(
            [], "--not", help="ID=reason for a commitment not taken over (repeat)."
        ),
        by: str = typer.Option(..., "--by", help="Who reviewed the draft."),
        new_contract: str | None = typer.Option(
            None, "--new-contract", help="Our new contract's reference."
        ),
        cpas: str | None = typer.Option(None, "--cpas"),
        config: Path | None = typer.Option(None, "--config", "-c", help=_CONFIG_HELP),
    ) -> None:
        """Tell the old CPAS which commitments we take over (R-TRF-06); it acknowledges, signed."""
        from piis_plugins.transfer.plugin import send_assessment

        from piis_bridge.transfer import EnvelopeError, InvalidTransition, TransferError

        reasons: dict[str, str] = {}
        for item in not_taken:
            cid, sep, why = item.partition("=")
            if not sep or not why.strip():
                typer.echo(
                    f"piis-bridge transfer assess: --not {item!r}: expected ID=reason", err=True
                )
                raise typer.Exit(2)
            reasons[cid.strip()] = why.strip()
        host = _host(config)
        cpas_id = _cpas(host, cpas)
        try:
            ack = send_assessment(
                host,
                cpas_id,
                package_id,
                taken_over=list(take),
                not_taken_over=reasons,
                by=by,
                new_contract_ref=new_contract,
            )
        except (TransferError, InvalidTransition, EnvelopeError) as exc:
            typer.echo(f"piis-bridge transfer assess: {exc}", err=True)
            raise typer.Exit(1) from None
        typer.echo(f"{package_id}: assessment {ack.status} by BCE {ack.receiver_bce}")

    @app.command("redeliver")
    def redeliver(
        cpas: str | None = typer.Option(None, "--cpas"),
        config: Path | None = typer.Option(None, "--config", "-c", help=_CONFIG_HELP),
    ) -> None:
        """Hand received drafts the case system did not take (it was down) to it again, once each."""
        from piis_plugins.transfer.plugin import draft_sink

        host = _host(config)
        cpas_id = _cpas(host, cpas)
        done = _service(host, cpas_id).retry_draft_delivery(draft_sink(host, cpas_id))
        if not done:
            typer.echo("nothing to hand over")
            return
        for package_id, ref in done:
            typer.echo(
                f"{package_id}: "
                + (
                    f"in the case system as {ref}"
                    if ref
                    else "still not taken by the case system (see transfer show)"
                )
            )
        raise typer.Exit(1 if any(ref is None for _, ref in done) else 0)

    @app.command("receive")
    def receive(
        cpas: str | None = typer.Option(None, "--cpas"),
        host_name: str | None = typer.Option(
            None, "--host", help="Listen address (default: listen_host)."
        ),
        port: int | None = typer.Option(None, "--port", help="Listen port (default: listen_port)."),
        config: Path | None = typer.Option(None, "--config", "-c", help=_CONFIG_HELP),
    ) -> None:
        """Run this CPAS's receiving endpoint (foreground) until interrupted."""
        from piis_plugins.transfer.plugin import endpoint_for

        host = _host(config)
        cpas_id = _cpas(host, cpas)
        endpoint = endpoint_for(host, cpas_id, host_name=host_name, port=port)
        typer.echo(
            f"piis-bridge transfer: cpas {cpas_id} receiving on {endpoint.url}"
            + (
                " (mutual TLS)"
                if endpoint.tls is not None and endpoint.tls.verify_mode == 2
                else ""
            )
        )
        try:
            endpoint.serve_forever()
        except KeyboardInterrupt:
            pass
        finally:
            endpoint.stop()


def _print_rows(rows: list[dict[str, Any]], as_json: bool, title: str) -> None:
    if as_json:
        typer.echo(json.dumps(rows, indent=2, default=str))
        return
    from rich.console import Console
    from rich.table import Table

    table = Table(title=title)
    for column in rows[0] if rows else {"-": ""}:
        table.add_column(column, overflow="fold")
    for row in rows:
        table.add_row(*(str(v) for v in row.values()))
    Console(width=200).print(table)


def _case_doc(service: Any, case_id: str) -> dict[str, Any]:
    case = service.get_case(case_id)
    return {
        "case_id": case.case_id,
        "contract": case.contract_id,
        "state": case.state,
        "moved_to_ins": case.to_ins_code,
        "moved_on": case.residence_change_date,
        "legal_end_date": case.legal_end_date,
        "eligibility": case.eligibility,
        "reason": case.eligibility_reason,
        "rules": case.rules,
        "package_id": case.package_id,
        "receiver_bce": case.to_bce,
        "ack": case.ack_status,
        "draft_at_receiver": case.remote_draft_ref,
        "attempts": case.attempts,
        "last_error": case.last_error,
        "task": case.task_ref,
        "assessment": _assessment_text(service.assessment_of(case_id)),
        "consents": [
            f"{c.recorded_at:%Y-%m-%d %H:%M} {c.consent} by {c.recorded_by} via {c.channel}"
            + (f" ({c.note})" if c.note else "")
            for c in service.consents(case_id)
        ],
        "history": _history(service.events(case_id=case_id)),
    }


def _received_doc(service: Any, package_id: str) -> dict[str, Any]:
    row = service.received(package_id)
    package = service.package_of(package_id)
    draft = service.draft_of(package_id)
    return {
        "package_id": row.package_id,
        "from": f"{row.sender_name} (BCE {row.sender_bce})",
        "old_contract": row.contract_id,
        "state": row.state,
        "draft": draft.contract_id,
        "draft_status": draft.status.value,
        "case_system_ref": row.draft_ref,
        "assessment": _assessment_text(draft.transfer.assessment if draft.transfer else None),
        "beneficiary": mask_niss(draft.beneficiary.niss),
        "legal_end_date": package.legal_end_date,
        "consent": f"{package.consent.consent.value} by {package.consent.recorded_by} via {package.consent.channel}",
        "commitments_to_review": [
            f"{c.commitment_id} ({c.party.value}): {c.text}" for c in draft.commitments
        ],
        "continuing_sanctions": [
            f"{s.sanction_id}: {s.remaining_days} days, {s.continue_from} .. "
            f"{s.continue_until} ({s.kind.value} {s.percentage}%)"
            for s in package.continuing_sanctions
        ],
        "subsidies": [
            f"{s.type.value}: {s.months_consumed} used, {s.months_remaining} left (window ends "
            f"{s.window_end})"
            for s in package.subsidies
        ],
        "contacts": [
            f"{c.name} ({c.role.value}) {c.phone or ''} {c.email or ''}".strip()
            for c in package.contacts
        ],
        "history": _history(service.events(package_id=package_id)),
    }


def _assessment_text(assessment: Any) -> str | None:
    if assessment is None:
        return None
    not_taken = ", ".join(
        f"{cid} ({why})" for cid, why in assessment.commitments_not_taken_over.items()
    )
    return (
        f"taken over: {', '.join(assessment.commitments_taken_over) or 'none'}; not taken over: "
        f"{not_taken or 'none'}; new contract: {assessment.new_contract_ref or '-'}"
    )


def _history(events: list[Any]) -> list[str]:
    return [
        f"{e.at:%Y-%m-%d %H:%M:%S} {e.from_state or '-'} -> {e.to_state}: {e.detail}"
        for e in events
    ]
