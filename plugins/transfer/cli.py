"""``piis-bridge transfer list|show|consent|send|receive`` (and ``assess``, the new CPAS's review;
``redeliver``, the received drafts the case system did not take yet).

Why these five: a social worker's back office records the person's answer (``consent``), IT or the
nightly job sends what has consent (``send``), each bridge runs its receiving endpoint
(``receive``), and everybody needs to see where a hand-over stands (``list``, ``show``).  Output
never shows a NISS: cases are named by case id and contract id.

The human output is in the CPAS's ``language`` (or ``--lang``; docs/i18n.md): the social worker who
records a consent reads the answer in the words of the law of their region.  ``--json`` keeps its
keys, codes and texts exactly as before, in every language.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import date
from pathlib import Path
from types import MappingProxyType
from typing import Any

import typer

from piis_bridge.i18n import N_, Translator, translator
from piis_bridge.i18n.cli import LANG_HELP, cpas_translator
from piis_bridge.i18n.ops import code_text
from piis_bridge.identifiers import mask_niss

__all__ = ["register"]

_CONFIG_HELP = N_("Configuration file (default: $PIIS_CONFIG, else ./piis-bridge.toml).")

# Human labels of the keys of `transfer list` / `transfer show` (the JSON keys stay as they are).
_LABELS: Mapping[str, str] = MappingProxyType(
    {
        "case_id": N_("case"),
        "package_id": N_("package"),
        "from": N_("from"),
        "contract": N_("contract"),
        "draft": N_("draft"),
        "case_system": N_("case system"),
        "state": N_("state"),
        "to_ins": N_("to (INS)"),
        "moved_on": N_("moved on"),
        "ends_on": N_("ends on"),
        "eligibility": N_("eligibility"),
        "attempts": N_("attempts"),
        "moved_to_ins": N_("moved to (INS)"),
        "legal_end_date": N_("legal end date"),
        "reason": N_("reason"),
        "rules": N_("rules"),
        "receiver_bce": N_("receiver (BCE)"),
        "ack": N_("acknowledgement"),
        "draft_at_receiver": N_("draft at the receiver"),
        "last_error": N_("last error"),
        "task": N_("task"),
        "assessment": N_("assessment"),
        "consents": N_("consents"),
        "history": N_("history"),
        "old_contract": N_("old contract"),
        "draft_status": N_("draft status"),
        "case_system_ref": N_("in the case system"),
        "beneficiary": N_("beneficiary"),
        "consent": N_("consent"),
        "commitments_to_review": N_("commitments to review"),
        "continuing_sanctions": N_("continuing sanctions"),
        "subsidies": N_("subsidies"),
        "contacts": N_("contacts"),
    }
)
# Values that are codes, shown in words in the human output (context of piis_bridge.i18n.ops.CODES).
_CODE_KEYS = MappingProxyType(
    {
        "state": "transfer state",
        "eligibility": "transfer eligibility",
        "ack": "delivery status",
    }
)


def _label(key: str, t: Translator) -> str:
    """The key in words; English keeps the key itself (the output ``transfer show`` always had)."""
    return t.gettext(_LABELS[key]) if key in _LABELS and t.language != "en" else key


def _lang(host: Any, cpas_id: str, option: str | None) -> Translator:
    """``--lang``, the root ``--lang``, else this CPAS's ``language`` setting."""
    return cpas_translator(option, host.settings.cpas[cpas_id].language)


def _host(config: Path | None) -> Any:
    from piis_bridge.config import ConfigError, load_settings
    from piis_bridge.hooks.manager import PluginHost

    try:
        settings = load_settings(config)
        host = PluginHost(settings)
    except ConfigError as exc:
        from piis_bridge.i18n.cli import settings_translator
        from piis_bridge.i18n.text import error_text, say

        typer.echo(
            f"piis-bridge transfer: {say(error_text(exc), settings_translator(None))}", err=True
        )
        raise typer.Exit(2) from None
    host.startup()
    return host


def _cpas(host: Any, cpas_id: str | None, lang: str | None = None) -> str:
    routed = [cid for cid, c in host.settings.cpas.items() if c.transfer]
    languages = {host.settings.cpas[cid].language for cid in routed}
    t = cpas_translator(lang, languages.pop() if len(languages) == 1 else None)
    if cpas_id is None:
        if len(routed) != 1:
            typer.echo(
                "piis-bridge transfer: "
                + t.gettext(
                    "give --cpas (one of: {ids})",
                    ids=", ".join(routed) or t.gettext("none configured"),
                ),
                err=True,
            )
            raise typer.Exit(2)
        return routed[0]
    if cpas_id not in routed:
        typer.echo(
            "piis-bridge transfer: "
            + t.gettext("cpas {cpas} has no transfer plugin configured", cpas=repr(cpas_id)),
            err=True,
        )
        raise typer.Exit(2)
    return cpas_id


def _service(host: Any, cpas_id: str) -> Any:
    from piis_plugins.transfer.plugin import service_for

    return service_for(host, cpas_id)


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
        lang: str | None = typer.Option(None, "--lang", help=LANG_HELP),
    ) -> None:
        """Transfer cases of a CPAS (or, with --received, the packages it received)."""
        host = _host(config)
        cpas_id = _cpas(host, cpas, lang)
        t = _lang(host, cpas_id, lang)
        service = _service(host, cpas_id)
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
        title = t.gettext("received packages") if received else t.gettext("transfer cases")
        _print_rows(rows, as_json, title, t)

    @app.command("show")
    def show(
        ident: str = typer.Argument(..., help="A case id, or a received package id."),
        cpas: str | None = typer.Option(None, "--cpas"),
        as_json: bool = typer.Option(False, "--json"),
        config: Path | None = typer.Option(None, "--config", "-c", help=_CONFIG_HELP),
        lang: str | None = typer.Option(None, "--lang", help=LANG_HELP),
    ) -> None:
        """A case with its consent records and history, or a received package with its draft."""
        from piis_bridge.transfer import TransferError

        host = _host(config)
        cpas_id = _cpas(host, cpas, lang)
        # --json: the JSON documents keep the (English) texts they always had, whatever the language
        t = translator("en") if as_json else _lang(host, cpas_id, lang)
        service = _service(host, cpas_id)
        try:
            doc = _case_doc(service, ident, t)
        except TransferError:
            if service.received(ident) is None:
                typer.echo(
                    "piis-bridge transfer: "
                    + t.gettext("no case or received package {id}", id=ident),
                    err=True,
                )
                raise typer.Exit(1) from None
            doc = _received_doc(service, ident, t)
        if as_json:
            typer.echo(json.dumps(doc, indent=2, default=str))
            return
        for key, value in doc.items():
            if key in _CODE_KEYS:
                value = code_text(_CODE_KEYS[key], value, t)
            elif isinstance(value, date):
                value = t.format_date(value)
            if isinstance(value, list):
                typer.echo(t.gettext("{label}:", label=_label(key, t)))
                for item in value:
                    typer.echo(f"  - {item}")
            else:
                typer.echo(t.gettext("{label}: {value}", label=_label(key, t), value=value))

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
        lang: str | None = typer.Option(None, "--lang", help=LANG_HELP),
    ) -> None:
        """Record the person's answer (R-TRF-05).  Append-only: a later answer is a new record."""
        from piis_bridge.model import Consent
        from piis_bridge.transfer import InvalidTransition, TransferError

        host = _host(config)
        cpas_id = _cpas(host, cpas, lang)
        t = _lang(host, cpas_id, lang)
        if sum((given, refused, not_expressed)) != 1:
            typer.echo(
                "piis-bridge transfer consent: "
                + t.gettext("give exactly one of --given, --refused, --not-expressed"),
                err=True,
            )
            raise typer.Exit(2)
        value = Consent.GIVEN if given else Consent.REFUSED if refused else Consent.NOT_EXPRESSED
        service = _service(host, cpas_id)
        try:
            case = service.record_consent(case_id, value, by=by, channel=channel, note=note)
        except (TransferError, InvalidTransition) as exc:
            typer.echo(f"piis-bridge transfer consent: {exc}", err=True)
            raise typer.Exit(1) from None
        typer.echo(
            t.gettext(
                "{case}: consent {consent} recorded; state {state}",
                case=case_id,
                consent=code_text("consent", value.value, t),
                state=code_text("transfer state", case.state, t),
            )
        )

    @app.command("send")
    def send(
        case_ids: list[str] = typer.Argument(
            None, help="Cases to send (default: every case ready to send)."
        ),
        cpas: str | None = typer.Option(None, "--cpas"),
        config: Path | None = typer.Option(None, "--config", "-c", help=_CONFIG_HELP),
        lang: str | None = typer.Option(None, "--lang", help=LANG_HELP),
    ) -> None:
        """Build, sign and deliver packages; a failed delivery stays ready and is retried next time."""
        from piis_plugins.transfer.plugin import send_case

        from piis_bridge.transfer import CaseState, TransferError

        host = _host(config)
        cpas_id = _cpas(host, cpas, lang)
        t = _lang(host, cpas_id, lang)
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
                t.gettext(
                    "{case}: {status} (state {state}, attempts {attempts})",
                    case=case_id,
                    status=code_text("delivery status", receipt.status, t),
                    state=code_text("transfer state", receipt.state, t),
                    attempts=receipt.attempts,
                )
                + (f": {receipt.detail}" if receipt.detail else "")
            )
        if not case_ids:
            typer.echo(t.gettext("nothing to send"))
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
        lang: str | None = typer.Option(None, "--lang", help=LANG_HELP),
    ) -> None:
        """Tell the old CPAS which commitments we take over (R-TRF-06); it acknowledges, signed."""
        from piis_plugins.transfer.plugin import send_assessment

        from piis_bridge.transfer import EnvelopeError, InvalidTransition, TransferError

        host = _host(config)
        cpas_id = _cpas(host, cpas, lang)
        t = _lang(host, cpas_id, lang)
        reasons: dict[str, str] = {}
        for item in not_taken:
            cid, sep, why = item.partition("=")
            if not sep or not why.strip():
                typer.echo(
                    "piis-bridge transfer assess: "
                    + t.gettext("--not {value}: expected ID=reason", value=repr(item)),
                    err=True,
                )
                raise typer.Exit(2)
            reasons[cid.strip()] = why.strip()
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
        typer.echo(
            t.gettext(
                "{package}: assessment {status} by BCE {bce}",
                package=package_id,
                status=code_text("delivery status", ack.status, t),
                bce=ack.receiver_bce,
            )
        )

    @app.command("redeliver")
    def redeliver(
        cpas: str | None = typer.Option(None, "--cpas"),
        config: Path | None = typer.Option(None, "--config", "-c", help=_CONFIG_HELP),
        lang: str | None = typer.Option(None, "--lang", help=LANG_HELP),
    ) -> None:
        """Hand received drafts the case system did not take (it was down) to it again, once each."""
        from piis_plugins.transfer.plugin import draft_sink

        host = _host(config)
        cpas_id = _cpas(host, cpas, lang)
        t = _lang(host, cpas_id, lang)
        done = _service(host, cpas_id).retry_draft_delivery(draft_sink(host, cpas_id))
        if not done:
            typer.echo(t.gettext("nothing to hand over"))
            return
        for package_id, ref in done:
            typer.echo(
                f"{package_id}: "
                + (
                    t.gettext("in the case system as {ref}", ref=ref)
                    if ref
                    else t.gettext("still not taken by the case system (see transfer show)")
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
        lang: str | None = typer.Option(None, "--lang", help=LANG_HELP),
    ) -> None:
        """Run this CPAS's receiving endpoint (foreground) until interrupted."""
        from piis_plugins.transfer.plugin import endpoint_for

        host = _host(config)
        cpas_id = _cpas(host, cpas, lang)
        t = _lang(host, cpas_id, lang)
        endpoint = endpoint_for(host, cpas_id, host_name=host_name, port=port)
        mutual = endpoint.tls is not None and endpoint.tls.verify_mode == 2
        typer.echo(
            "piis-bridge transfer: "
            + (
                t.gettext(
                    "cpas {cpas} receiving on {url} (mutual TLS)", cpas=cpas_id, url=endpoint.url
                )
                if mutual
                else t.gettext("cpas {cpas} receiving on {url}", cpas=cpas_id, url=endpoint.url)
            )
        )
        try:
            endpoint.serve_forever()
        except KeyboardInterrupt:
            pass
        finally:
            endpoint.stop()


def _print_rows(rows: list[dict[str, Any]], as_json: bool, title: str, t: Translator) -> None:
    if as_json:
        typer.echo(json.dumps(rows, indent=2, default=str))
        return
    from rich.console import Console
    from rich.table import Table

    table = Table(title=title)
    keys = list(rows[0]) if rows else []
    for key in keys or ["-"]:
        table.add_column(_label(key, t), overflow="fold")
    for row in rows:
        table.add_row(
            *(code_text(_CODE_KEYS[k], v, t) if k in _CODE_KEYS else str(v) for k, v in row.items())
        )
    Console(width=200).print(table)


def _case_doc(service: Any, case_id: str, t: Translator) -> dict[str, Any]:
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
        "assessment": _assessment_text(service.assessment_of(case_id), t),
        "consents": [
            t.gettext(
                "{at} {consent} by {by} via {channel}",
                at=c.recorded_at.strftime("%Y-%m-%d %H:%M"),
                consent=code_text("consent", c.consent, t),
                by=c.recorded_by,
                channel=c.channel,
            )
            + (f" ({c.note})" if c.note else "")
            for c in service.consents(case_id)
        ],
        "history": _history(service.events(case_id=case_id), t),
    }


def _received_doc(service: Any, package_id: str, t: Translator) -> dict[str, Any]:
    row = service.received(package_id)
    package = service.package_of(package_id)
    draft = service.draft_of(package_id)
    consent = package.consent
    return {
        "package_id": row.package_id,
        "from": t.gettext("{name} (BCE {bce})", name=row.sender_name, bce=row.sender_bce),
        "old_contract": row.contract_id,
        "state": row.state,
        "draft": draft.contract_id,
        "draft_status": draft.status.value,
        "case_system_ref": row.draft_ref,
        "assessment": _assessment_text(draft.transfer.assessment if draft.transfer else None, t),
        "beneficiary": mask_niss(draft.beneficiary.niss),
        "legal_end_date": package.legal_end_date,
        "consent": t.gettext(
            "{consent} by {by} via {channel}",
            consent=code_text("consent", consent.consent.value, t),
            by=consent.recorded_by,
            channel=consent.channel,
        ),
        "commitments_to_review": [
            f"{c.commitment_id} ({c.party.value}): {c.text}" for c in draft.commitments
        ],
        "continuing_sanctions": [
            t.ngettext(
                "{sanction}: {n} day, {start} .. {end} ({kind} {percentage}%)",
                "{sanction}: {n} days, {start} .. {end} ({kind} {percentage}%)",
                s.remaining_days,
                sanction=s.sanction_id,
                start=s.continue_from,
                end=s.continue_until,
                kind=s.kind.value,
                percentage=s.percentage,
            )
            for s in package.continuing_sanctions
        ],
        "subsidies": [
            t.gettext(
                "{type}: {used} used, {left} left (window ends {end})",
                type=s.type.value,
                used=s.months_consumed,
                left=s.months_remaining,
                end=s.window_end,
            )
            for s in package.subsidies
        ],
        "contacts": [
            f"{c.name} ({c.role.value}) {c.phone or ''} {c.email or ''}".strip()
            for c in package.contacts
        ],
        "history": _history(service.events(package_id=package_id), t),
    }


def _assessment_text(assessment: Any, t: Translator) -> str | None:
    if assessment is None:
        return None
    none = t.gettext("none")
    not_taken = ", ".join(
        f"{cid} ({why})" for cid, why in assessment.commitments_not_taken_over.items()
    )
    return t.gettext(
        "taken over: {taken}; not taken over: {not_taken}; new contract: {contract}",
        taken=", ".join(assessment.commitments_taken_over) or none,
        not_taken=not_taken or none,
        contract=assessment.new_contract_ref or "-",
    )


def _history(events: list[Any], t: Translator) -> list[str]:
    return [
        f"{e.at:%Y-%m-%d %H:%M:%S} "
        + t.gettext(
            "{from_state} -> {to_state}: {detail}",
            from_state=code_text("transfer state", e.from_state, t) if e.from_state else "-",
            to_state=code_text("transfer state", e.to_state, t),
            detail=e.detail,
        )
        for e in events
    ]
