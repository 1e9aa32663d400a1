"""The transfer plugin: glue between the transfer hooks, the core transfer service and the HTTPS
transport (``piis_connectors.transfer``).

- ``piis_transfer_export(cpas, transfer)``: ``transfer`` is a case id (or has ``case_id``); the case
  must have the person's consent.  Returns an :class:`ExportedPackage` (signed envelope + where to).
- ``piis_transfer_send(cpas, package, destination)``: delivers it with retries, checks the signed
  acknowledgement, closes the case.  Returns a :class:`DeliveryReceipt` (``failed`` = retry later).
- ``piis_transfer_import(cpas, package)``: ``package`` is the raw envelope (bytes) or an
  :class:`IncomingPackage`; verifies, imports once as a draft, returns the :class:`ReceiveOutcome`
  (whose ``ack_envelope`` goes back to the sender).

One service per (CPAS, database): the hooks are called for several CPAS in one process (and, in
tests, for two bridges at once), so nothing here is a process-wide singleton keyed by CPAS alone.
"""

from __future__ import annotations

import threading
from datetime import timedelta
from typing import Any

from piis_plugins.transfer.settings import TransferSettings
from sqlalchemy.engine import Engine

from piis_bridge.config import Settings
from piis_bridge.db import Base, make_engine, make_sessionmaker
from piis_bridge.hooks import hookimpl
from piis_bridge.hooks.types import CpasContext, PushItem
from piis_bridge.i18n.push import transfer_assessed, transfer_delivered
from piis_bridge.logging import get_logger
from piis_bridge.transfer import (
    CaseState,
    DeliveryReceipt,
    Destination,
    EnvelopeError,
    ExportedPackage,
    IncomingPackage,
    PackageParty,
    ReceiveOutcome,
    SigningKey,
    TransferError,
    TransferService,
    TrustList,
    draft_contract_item,
    review_task_item,
)
from piis_bridge.transfer import tables as _tables
from piis_bridge.transfer.service import bce_of_certificate

__all__ = [
    "PLUGIN_NAME",
    "TransferPlugin",
    "client_for",
    "destination_for",
    "draft_sink",
    "endpoint_for",
    "send_assessment",
    "send_case",
    "service_for",
    "settings_for",
]

PLUGIN_NAME = "transfer"
_log = get_logger("piis_plugins.transfer")
_TABLES = tuple(
    Base.metadata.tables[t.__tablename__]
    for t in (
        _tables.TransferCase,
        _tables.ConsentRecord,
        _tables.ReceivedPackage,
        _tables.RejectedEnvelope,
        _tables.TransferEvent,
    )
)


def settings_for(cpas: CpasContext) -> TransferSettings:
    return TransferSettings.model_validate(cpas.settings)


def service_for(host: Any, cpas_id: str) -> TransferService:
    """The transfer service of *cpas_id* over its database, from the plugin object its *host* routes the
    CPAS's transfers to (the CLI, the receiving endpoint and tests use it)."""
    name = host.route(cpas_id, "transfer")
    plugin = host.plugin(name)
    if not isinstance(plugin, TransferPlugin):
        raise TransferError(
            f"cpas.{cpas_id}.transfer = {name!r} is not piis-bridge's transfer plugin: its cases "
            "are not kept by piis-bridge's transfer service"
        )
    return plugin.service(host.context(cpas_id, name))


def _new_service(cpas: CpasContext, settings: TransferSettings, engine: Engine) -> TransferService:
    key = (
        SigningKey.from_file(cpas.bce, settings.signing_key_path)
        if settings.signing_key_path
        else None
    )
    trust = TrustList.from_files({bce: path for bce, path in settings.trust.items()})
    return TransferService(
        make_sessionmaker(engine),
        cpas_id=cpas.cpas_id,
        party=PackageParty(name=cpas.name, ins_code=cpas.ins_code, bce=cpas.bce),
        signing_key=key,
        trust=trust,
        not_expressed_counts=settings.not_expressed_counts_as_consent,
        max_package_age=timedelta(days=settings.max_package_age_days),
    )


def destination_for(cpas: CpasContext, ins_code: str) -> Destination:
    peer = settings_for(cpas).peers.get(ins_code)
    if peer is None:
        raise TransferError(
            f"cpas {cpas.cpas_id}: no peer bridge configured for INS {ins_code} "
            f"(cpas.{cpas.cpas_id}.plugins.transfer.peers.{ins_code})"
        )
    return Destination(
        party=PackageParty(name=peer.name, ins_code=ins_code, bce=peer.bce), url=peer.url
    )


def client_for(cpas: CpasContext, url: str) -> Any:
    from piis_connectors.transfer import TransferClient, client_tls_context

    settings = settings_for(cpas)
    tls = None
    if url.startswith("https://"):
        tls = client_tls_context(
            settings.tls_ca_path, settings.tls_cert_path, settings.tls_key_path
        )
    return TransferClient(
        url, tls=tls, retries=settings.retries, backoff=settings.backoff, timeout=settings.timeout
    )


def _case_id(transfer: Any) -> str:
    if isinstance(transfer, str):
        return transfer
    case_id = getattr(transfer, "case_id", None) or getattr(transfer, "transfer_id", None)
    if not case_id:
        raise TransferError("piis_transfer_export needs a transfer case id")
    return str(case_id)


# -- wiring used by the CLI, the pipeline and the tests ---------------------------------------------


def draft_sink(host: Any, cpas_id: str) -> Any:
    """A :data:`DraftSink` that creates the received draft in the CPAS's case system, through the hook.

    First a ``draft_contract`` item (the case system creates a draft contract the social worker
    reviews, then activates or discards; never an active contract, R-TRF-06).  A case system that
    cannot create drafts answers it ``failed`` with a reason; the draft then travels as before, as a
    review task carrying the draft in its data, on the configured inbox record (``draft_record_id``)
    or on the draft's own id.  Returns ``draft_contract:<id>`` or ``task:<id>``, so ``transfer show``
    tells which way it went.  Raises when neither could be pushed (the draft stays stored and is
    handed over again later).
    """
    ctx = host.context(cpas_id, host.route(cpas_id, "transfer"))
    inbox = settings_for(ctx).draft_record_id

    def deliver(draft: Any, package: Any) -> str | None:
        (result,) = host.case_push(cpas_id, [draft_contract_item(draft, package)])
        if result.status != "failed":
            return f"draft_contract:{result.remote_id or result.key}"
        _log.warning(
            "case system did not create the draft contract; pushing a review task instead",
            cpas=cpas_id,
            package_id=package.package_id,
            detail=result.detail,
        )
        task = review_task_item(
            draft, package, record_id=inbox or draft.contract_id, why_no_draft=result.detail
        )
        (fallback,) = host.case_push(cpas_id, [task])
        if fallback.status == "failed":
            raise TransferError(
                f"package {package.package_id}: the case system took neither the draft contract "
                f"({result.detail}) nor the review task ({fallback.detail})"
            )
        return f"task:{fallback.remote_id or fallback.key}"

    return deliver


def endpoint_for(
    host: Any, cpas_id: str, *, host_name: str | None = None, port: int | None = None
) -> Any:
    """The receiving HTTPS endpoint of one CPAS, wired to ``piis_transfer_import`` through the host."""
    from piis_connectors.transfer import HandlerResult, TransferEndpoint, server_tls_context

    ctx = host.context(cpas_id, host.route(cpas_id, "transfer"))
    settings = settings_for(ctx)
    tls = None
    if settings.tls_cert_path and settings.tls_key_path:
        tls = server_tls_context(
            settings.tls_cert_path, settings.tls_key_path, settings.tls_ca_path
        )
    sink = (
        draft_sink(host, cpas_id)
        if settings_for(ctx).draft_record_id or _has_case_system(host, cpas_id)
        else None
    )

    def handle(body: bytes, peer: dict[str, Any]) -> HandlerResult:
        # Over mutual TLS the client certificate's BCE must be the package signer's (checked by the service).
        outcome = host.transfer_import(
            cpas_id,
            IncomingPackage(
                envelope=body,
                deliver_draft=sink,
                tls_peer_bce=bce_of_certificate(peer.get("certificate")),
            ),
        )
        if not isinstance(outcome, ReceiveOutcome):
            raise TransferError("piis_transfer_import failed; see the plugin failures")
        return HandlerResult(outcome.status, outcome.ack_envelope)

    def handle_assessment(body: bytes, peer: dict[str, Any]) -> HandlerResult:
        service = service_for(host, cpas_id)
        outcome = service.receive_assessment(
            body, tls_peer_bce=bce_of_certificate(peer.get("certificate"))
        )
        if outcome.status == "accepted" and _has_case_system(host, cpas_id):
            _tell_assessment(host, cpas_id, service, outcome.package_id)
        return HandlerResult(outcome.status, outcome.ack_envelope)

    return TransferEndpoint(
        handle,
        host=host_name or settings.listen_host,
        port=settings.listen_port if port is None else port,
        tls=tls,
        assessment_handler=handle_assessment,
    )


def _tell_assessment(
    host: Any, cpas_id: str, service: TransferService, package_id: str | None
) -> None:
    """The old CPAS's social worker learns what the new CPAS took over (a task; best effort)."""
    case = next((c for c in service.list_cases() if c.package_id == package_id), None)
    if case is None:
        return
    assessment = service.assessment_of(case.case_id)
    if assessment is None:
        return
    title, body, message = transfer_assessed(
        list(assessment.commitments_taken_over),
        dict(assessment.commitments_not_taken_over),
        assessment.new_contract_ref,
    )
    host.case_push(
        cpas_id,
        [
            PushItem(
                key=f"{case.case_id}:assessed",
                record_id=case.record_id,
                kind="transfer_notice",
                title=title,
                body=body,
                data={
                    "transfer_case": case.case_id,
                    "assessment": assessment.model_dump(mode="json"),
                },
                message=message,
            )
        ],
    )


def send_assessment(
    host: Any,
    cpas_id: str,
    package_id: str,
    *,
    taken_over: list[str],
    not_taken_over: dict[str, str],
    by: str,
    new_contract_ref: str | None = None,
) -> Any:
    """Record the review of a received draft, sign it and deliver it to the old CPAS; returns its ack."""
    from piis_connectors.transfer import ASSESSMENTS_PATH, DeliveryError

    ctx = host.context(cpas_id, host.route(cpas_id, "transfer"))
    service = service_for(host, cpas_id)
    envelope = service.assess(
        package_id,
        taken_over=taken_over,
        not_taken_over=not_taken_over,
        by=by,
        new_contract_ref=new_contract_ref,
    )
    package = service.package_of(package_id)
    destination = destination_for(ctx, package.sender.ins_code)
    client = client_for(ctx, destination.url)
    try:
        result = client.send(envelope, path=ASSESSMENTS_PATH)
    except DeliveryError as exc:
        raise TransferError(
            f"package {package_id}: assessment recorded, not delivered yet: {exc}"
        ) from None
    finally:
        client.close()
    return service.assessment_delivered(package_id, result.ack)


def _has_case_system(host: Any, cpas_id: str) -> bool:
    return host.settings.cpas[cpas_id].case_system is not None


def send_case(host: Any, cpas_id: str, case_id: str) -> DeliveryReceipt:
    """Export and send one case through the hooks, then tell the social worker how it went."""
    exported = host.transfer_export(cpas_id, case_id)
    if not isinstance(exported, ExportedPackage):
        failure = host.failures[-1] if host.failures else None
        raise TransferError(
            f"case {case_id}: export failed"
            + (f" ({failure.error_type}: {failure.message})" if failure else "")
        )
    receipt = host.transfer_send(cpas_id, exported, exported.destination)
    if not isinstance(receipt, DeliveryReceipt):
        raise TransferError(f"case {case_id}: send failed")
    if receipt.state in (CaseState.ACKNOWLEDGED, CaseState.REJECTED) and _has_case_system(
        host, cpas_id
    ):
        case = service_for(host, cpas_id).get_case(case_id)
        title, body, message = transfer_delivered(
            exported.destination.party.name,
            receipt.state == CaseState.ACKNOWLEDGED,
            receipt.detail or f"package {receipt.package_id}",
        )
        host.case_push(
            cpas_id,
            [
                PushItem(
                    key=f"{case_id}:{receipt.state}",
                    record_id=case.record_id,
                    kind="transfer_notice",
                    title=title,
                    body=body,
                    data={
                        "transfer_case": case_id,
                        "package_id": receipt.package_id,
                        "status": receipt.status,
                    },
                    message=message,
                )
            ],
        )
    return receipt


class TransferPlugin:
    """The transfer plugin object (registered by the host as ``transfer``, one per process): the
    database each configured CPAS uses (learnt at start-up), one engine per database and one
    :class:`TransferService` per CPAS and database.  Shared by the hosts of the process's threads: a
    SQLAlchemy engine is a thread-safe pool meant to live as long as the process, and the maps are
    guarded by a lock."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._engines: dict[str, Engine] = {}
        self._services: dict[tuple[str, str], TransferService] = {}
        self._installation_db: dict[str, str] = {}  # cpas id -> the configuration's database_url

    @hookimpl
    def piis_plugin_settings(self) -> type[TransferSettings]:
        return TransferSettings

    @hookimpl
    def piis_transfer_export(self, cpas: CpasContext, transfer: Any) -> ExportedPackage:
        service = self.service(cpas)
        case_id = _case_id(transfer)
        case = service.get_case(case_id)
        destination = destination_for(cpas, case.to_ins_code)
        envelope = service.prepare_package(case_id, destination.party)
        case = service.get_case(case_id)
        assert case.package_id is not None
        return ExportedPackage(
            case_id=case_id, package_id=case.package_id, envelope=envelope, destination=destination
        )

    @hookimpl
    def piis_transfer_send(
        self, cpas: CpasContext, package: ExportedPackage, destination: Destination | None
    ) -> DeliveryReceipt:
        from piis_connectors.transfer import DeliveryError

        service = self.service(cpas)
        target = destination or package.destination
        client = client_for(cpas, target.url)
        try:
            result = client.send(package.envelope)
        except DeliveryError as exc:
            service.delivery_failed(package.case_id, str(exc))
            case = service.get_case(package.case_id)
            return DeliveryReceipt(
                case_id=package.case_id,
                package_id=package.package_id,
                status="failed",
                state=case.state,
                attempts=case.attempts,
                detail=str(exc),
            )
        finally:
            client.close()
        try:
            ack = service.delivered(package.case_id, result.ack)
        except EnvelopeError as exc:
            service.delivery_failed(package.case_id, f"acknowledgement not trusted: {exc}")
            case = service.get_case(package.case_id)
            return DeliveryReceipt(
                case_id=package.case_id,
                package_id=package.package_id,
                status="failed",
                state=case.state,
                attempts=case.attempts,
                detail=str(exc),
            )
        case = service.get_case(package.case_id)
        return DeliveryReceipt(
            case_id=package.case_id,
            package_id=package.package_id,
            status=ack.status,
            state=case.state,
            attempts=case.attempts,
            detail=ack.reason,
            draft_ref=ack.draft_ref,
        )

    @hookimpl
    def piis_transfer_import(self, cpas: CpasContext, package: Any) -> ReceiveOutcome:
        incoming = (
            package
            if isinstance(package, IncomingPackage)
            else IncomingPackage(envelope=bytes(package))
        )
        return self.service(cpas).receive(
            incoming.envelope,
            deliver_draft=incoming.deliver_draft,
            tls_peer_bce=incoming.tls_peer_bce,
        )

    @hookimpl
    def piis_startup(self, config: Settings) -> None:
        for cpas_id in config.cpas:
            self._installation_db[cpas_id] = config.database_url

    def engine(self, url: str) -> Engine:
        """One engine per database, its transfer tables created when missing."""
        with self._lock:
            engine = self._engines.get(url)
            if engine is None:
                engine = make_engine(url)
                # Alembic migration 0002 creates these tables; create_all covers a database never
                # migrated (a test, a first run) and does nothing when they exist.
                Base.metadata.create_all(engine, tables=_TABLES)
                self._engines[url] = engine
            return engine

    def service(self, cpas: CpasContext) -> TransferService:
        """The transfer service of this CPAS over its database (built once per CPAS and database)."""
        settings = settings_for(cpas)
        url = (
            settings.database_url
            or self._installation_db.get(cpas.cpas_id)
            or Settings().database_url
        )
        with self._lock:
            cached = self._services.get((cpas.cpas_id, url))
        if cached is not None:
            return cached
        service = _new_service(cpas, settings, self.engine(url))
        with self._lock:
            return self._services.setdefault((cpas.cpas_id, url), service)

    def close(self) -> None:
        """Dispose of the engines and forget the services (process shutdown; tests)."""
        with self._lock:
            engines, self._engines, self._services = list(self._engines.values()), {}, {}
        for engine in engines:
            engine.dispose()

    @hookimpl
    def piis_register_commands(self, cli: Any) -> None:
        from piis_plugins.transfer.cli import register

        register(cli)
