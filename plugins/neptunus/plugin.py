"""The neptunus plugin: glue between the core hooks and the NeptunusWeb-like REST connector.

Why this split: the connector (:mod:`piis_connectors.casesystem`) only speaks the vendor's HTTP
API; the mapping file (``mappings/neptunus/contract.yaml``) only knows the vocabulary; this module
turns feed pages into :class:`SourceRecord` pages, mapping results into :class:`MappingOutcome`,
and :class:`PushItem` into vendor tasks / federal statuses / draft contracts, idempotently.  The
reverse mapping of a received draft (canonical -> vendor) lives in :mod:`.drafts`.

Cursor: the vendor's opaque keyset token of the last record of the page.  The core persists it
after the page is processed, so a crash replays one page at most and a record modified during
paging comes back later in its new version (see the simulator's store for the ordering argument).
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from importlib.resources import files
from importlib.resources.abc import Traversable
from typing import TYPE_CHECKING, Any

from piis_plugins.neptunus.settings import NeptunusSettings
from piis_plugins.support import ClientPool, MappingCache, configured_settings

from piis_bridge.hooks import hookimpl
from piis_bridge.hooks.types import (
    ChangePage,
    CpasContext,
    MappingOutcome,
    PushItem,
    PushResult,
    RecordProblem,
    SourceRecord,
)
from piis_bridge.logging import get_logger
from piis_bridge.mapping import Mapping
from piis_bridge.model import PIISContract

if TYPE_CHECKING:
    from piis_connectors.casesystem.client import CaseSystemClient

    from piis_bridge.config import Settings

__all__ = ["PLUGIN_NAME", "NeptunusPlugin"]

PLUGIN_NAME = "neptunus"
_log = get_logger("piis_plugins.neptunus")


def _shipped_mapping() -> Traversable:
    return files("piis_mappings.neptunus") / "contract.yaml"


def _settings(cpas: CpasContext) -> NeptunusSettings:
    return NeptunusSettings.model_validate(cpas.settings)


# -- lifecycle ------------------------------------------------------------------------------------


# -- case-system hooks ----------------------------------------------------------------------------


def _modified_at(item: dict[str, Any]) -> datetime:
    from piis_connectors.casesystem.vocab import parse_timestamp

    micros = parse_timestamp(str(item["laatst_gewijzigd"]))
    return datetime.fromtimestamp(micros / 1_000_000, tz=UTC)


def _source_record(item: dict[str, Any], index: int) -> SourceRecord:
    """Never let one malformed feed item block its page: a missing or unusable id or timestamp gets
    a stand-in, and the mapping then quarantines the record with the field at fault."""
    from piis_bridge.identifiers import is_valid_niss

    rid = str(item.get("contractnummer") or "").strip()
    if not rid or is_valid_niss(rid):
        rid = f"feed-item-{item.get('etag') or index}".replace('"', "")
    try:
        modified = _modified_at(item)
    except (KeyError, ValueError, TypeError):
        modified = datetime.now(UTC)
    raw = item.get("ocmw")
    ocmw: dict[str, Any] = raw if isinstance(raw, dict) else {}
    return SourceRecord(
        source=PLUGIN_NAME,
        record_id=rid,
        kind="piis_contract",
        modified_at=modified,
        version=str(item.get("versie")),
        payload=item,
        cpas_bce=str(ocmw.get("kbo") or "") or None,
        cpas_ins=str(ocmw.get("nis") or "") or None,
    )


_STATUS_KINDS = frozenset({"federal_answer", "status"})
#: Requests of one push batch in flight at once: the vendor API has no batch endpoint, and a
#: request's time is mostly waiting for the vendor.  Four, like a clerk with four browser tabs:
#: enough to hide the latency, well below the client's pool (10) and any sane vendor rate limit
#: (a 429 is still honoured per request with its Retry-After).
_PUSH_THREADS = 4


def _task_body(item: PushItem) -> dict[str, Any]:
    from piis_connectors.casesystem.vocab import format_date

    body: dict[str, Any] = {
        "contractnummer": item.record_id,
        "titel": item.title,
        "omschrijving": item.body,
        "soort": {"deadline_alert": "TERMIJN", "transfer_notice": "VERHUIS"}.get(item.kind, "INFO"),
    }
    if item.due is not None:
        body["vervaldatum"] = format_date(item.due)
    if item.data:
        body["gegevens"] = item.data
    return body


# -- CLI ------------------------------------------------------------------------------------------


class NeptunusPlugin:
    """The neptunus plugin object (registered by the host as ``neptunus``, one per process): the pooled
    HTTP clients and the mapping caches live here; the pool and the caches lock their own state, since
    the hosts of the process's threads share this object."""

    # One NeptunusWeb instance serves several OCMWs: the host requires ``ocmw_kbo`` (= the CPAS's BCE)
    # wherever this plugin is routed, and refuses any record filed under another OCMW (tenancy).
    PIIS_TENANT_FILTER = "ocmw_kbo"

    def __init__(self) -> None:
        from piis_connectors.casesystem.drafts import Ontwerpcontract

        self.clients: ClientPool[CaseSystemClient] = ClientPool()
        self.mappings = MappingCache(PIISContract)
        self.draft_mappings = MappingCache(Ontwerpcontract)
        # Located once: importlib.resources.files() costs ~40 us a call, a sixth of a record's mapping
        # when it was looked up for every record (piis_case_map_record).
        self.shipped_mapping = _shipped_mapping()

    def draft_mapping(self, path: str | None = None) -> Mapping:
        """The reverse (draft) mapping: the CPAS's ``draft_mapping_file`` or the shipped one, validated
        once per version of the file (a local file is reloaded when it changes)."""
        from piis_plugins.neptunus.drafts import shipped_draft_mapping

        return self.draft_mappings.get(path, shipped_draft_mapping())

    def _mapping(self, settings: NeptunusSettings | None = None) -> Mapping:
        """The loaded mapping (the CPAS's ``mapping_file`` or the shipped one), validated once per version."""
        return self.mappings.get(settings.mapping_file if settings else None, self.shipped_mapping)

    def _client(self, cpas: CpasContext) -> CaseSystemClient:
        from piis_connectors.casesystem.client import CaseSystemClient

        s = _settings(cpas)
        return self.clients.get(
            (cpas.cpas_id, s.base_url, s.client_id),
            lambda: CaseSystemClient(
                s.base_url,
                s.client_id,
                s.client_secret.get_secret_value(),
                timeout=s.timeout,
                max_retries=s.max_retries,
                max_retry_after=s.max_retry_after,
            ),
        )

    def close(self) -> None:
        """Close every pooled HTTP client (process shutdown: ``PluginInstances.close``; tests)."""
        self.clients.close()

    @hookimpl
    def piis_plugin_settings(self) -> type[NeptunusSettings]:
        return NeptunusSettings

    @hookimpl
    def piis_startup(self, config: Settings) -> None:
        """Load and validate the mapping files now: an invalid mapping stops startup, naming the file."""
        self._mapping()
        self.draft_mapping()
        for raw in configured_settings(config, PLUGIN_NAME):
            if raw.get("mapping_file"):
                self._mapping(NeptunusSettings.model_validate(raw))
            if raw.get("draft_mapping_file"):
                self.draft_mapping(str(raw["draft_mapping_file"]))

    @hookimpl
    def piis_mapping_files(self) -> list[Traversable]:
        from piis_plugins.neptunus.drafts import shipped_draft_mapping

        return [_shipped_mapping(), shipped_draft_mapping()]

    @hookimpl
    def piis_case_fetch_changes(
        self, cpas: CpasContext, cursor: str | None, page_size: int
    ) -> ChangePage:
        s = _settings(cpas)
        # The keyset cursor carries the position; the modified-since filter only bounds the first sync
        # (every later record has a stamp above the cursor anyway).
        since = s.initial_modified_since if cursor is None else None
        page = self._client(cpas).fetch_changes(
            cursor, min(page_size, s.max_page_size), ocmw=s.ocmw_kbo, modified_since=since
        )
        records = [_source_record(item, i) for i, item in enumerate(page.items)]
        _log.debug(
            "neptunus page fetched", cpas=cpas.cpas_id, records=len(records), has_more=page.has_more
        )
        return ChangePage(records=records, cursor=page.cursor, has_more=page.has_more)

    @hookimpl
    def piis_case_fetch_record(self, cpas: CpasContext, record_id: str) -> SourceRecord | None:
        """The contract as the vendor holds it now: the one-contract endpoint serves the very document the
        feed serves (same ``versie``, ``laatst_gewijzigd`` and fields), so this is the feed's record.
        A contract of another OCMW (``ocmw_kbo``) or a draft not yet activated is not a contract here: None."""
        from piis_connectors.casesystem.client import CaseSystemHTTPError

        s = _settings(cpas)
        try:
            doc, _etag = self._client(cpas).get_contract(record_id, ocmw=s.ocmw_kbo)
        except CaseSystemHTTPError as exc:
            if exc.status == 404:
                return None
            raise
        if doc is None:  # pragma: no cover - only an If-None-Match request answers 304
            return None
        return _source_record(doc, 0)

    @hookimpl
    def piis_case_map_record(self, cpas: CpasContext, record: SourceRecord) -> MappingOutcome:
        if record.kind != "piis_contract":
            return MappingOutcome(
                record_id=record.record_id,
                skip_reason=f"record kind {record.kind!r} is not a contract",
            )
        # The mapping file is all this hook reads of the settings (validated at start-up): read it
        # without validating the whole NeptunusSettings for every record (~2% of the process stage,
        # py-spy); a value that is not a path goes the validating way and fails as before.
        path = cpas.settings.get("mapping_file")
        if path is None or isinstance(path, str):
            mapping = self.mappings.get(path, self.shipped_mapping)
        else:
            mapping = self._mapping(_settings(cpas))
        result = mapping.apply(record.payload, record_id=record.record_id)
        contract = result.value_as(PIISContract) if result.ok else None
        if contract is not None:
            return MappingOutcome(record_id=record.record_id, contract=contract)
        problems = result.problems or []
        return MappingOutcome(
            record_id=record.record_id,
            problems=[
                RecordProblem(record_id=record.record_id, field=p.field, reason=p.reason)
                for p in problems
            ]
            or [
                RecordProblem(
                    record_id=record.record_id,
                    field="(record)",
                    reason="mapping produced no contract",
                )
            ],
        )

    @hookimpl
    def piis_case_push(self, cpas: CpasContext, items: list[PushItem]) -> list[PushResult]:
        """Federal answers/statuses go to the contract's federal-status list, alerts become tasks, a
        received draft becomes a draft contract (``POST /api/v1/gpmi/ontwerpcontracten``).

        Every write carries the item's key as ``Idempotency-Key``: a retry after a timeout, or a
        second run, answers ``duplicate`` instead of creating a second task or draft.  A draft the
        vendor's fields cannot hold (an unknown code), a vendor refusal (422, 409) or ``draft_contracts =
        false`` answers ``failed`` with the reason, so the transfer plugin falls back to a review task.
        """
        from piis_connectors.casesystem.client import CaseSystemHTTPError, CaseSystemUnavailable
        from piis_plugins.neptunus.drafts import vendor_draft

        client = self._client(cpas)
        settings = _settings(cpas)

        def push_one(item: PushItem) -> tuple[PushResult, bool]:
            """One item -> (its result, whether the case system was unavailable for it)."""
            try:
                if item.kind == "draft_contract":
                    if not settings.draft_contracts:
                        return PushResult(
                            key=item.key,
                            status="failed",
                            detail=(
                                f"cpas {cpas.cpas_id}: this case system does not take draft contracts "
                                "(neptunus draft_contracts = false)"
                            ),
                        ), False
                    doc, why = vendor_draft(
                        item,
                        self.draft_mapping(settings.draft_mapping_file),
                        language=cpas.language,
                    )
                    if doc is None:
                        return PushResult(key=item.key, status="failed", detail=why), False
                    remote, created = client.create_draft_contract(item.key, doc)
                elif item.kind in _STATUS_KINDS:
                    status = {"status": item.title, "toelichting": item.body, "gegevens": item.data}
                    remote, created = client.put_federal_status(item.key, item.record_id, status)
                else:
                    remote, created = client.create_task(item.key, _task_body(item))
            except CaseSystemHTTPError as exc:
                what = "draft contract refused" if item.kind == "draft_contract" else "refused"
                return PushResult(key=item.key, status="failed", detail=f"{what}: {exc}"), False
            except CaseSystemUnavailable as exc:
                return PushResult(key=item.key, status="failed", detail=str(exc)), True
            return PushResult(
                key=item.key, status="created" if created else "duplicate", remote_id=str(remote)
            ), False

        # The vendor API takes one item per request; the requests of a batch overlap on the client's
        # keep-alive pool (each carries its own Idempotency-Key, so order and retries do not matter).
        # Measured: 335 -> 476 requests/s serial -> 4 threads against the simulator (docs/pipeline.md); 8
        # threads measured no better than 4 once the client moved to urllib3 (client and vendor share 2 cores).
        if len(items) > 1:
            with ThreadPoolExecutor(
                max_workers=min(_PUSH_THREADS, len(items)), thread_name_prefix="neptunus-push"
            ) as pool:
                answers = list(pool.map(push_one, items))
        else:
            answers = [push_one(item) for item in items]
        results = [result for result, _ in answers]
        unavailable = sum(1 for _, down in answers if down)
        if items and unavailable == len(items):
            raise CaseSystemUnavailable(
                f"case system unavailable: none of {len(items)} items pushed"
            )
        return results

    @hookimpl
    def piis_register_commands(self, cli: Any) -> None:
        from piis_plugins.neptunus.cli import register

        register(cli.group("sim", help="Local simulators of the systems piis-bridge talks to."))
