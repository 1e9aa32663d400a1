"""The lino plugin: the case-system hooks over a Lino Welfare's web API (see docs/lino.md).

Why this split: :mod:`piis_connectors.lino.client` only speaks Lino's HTTP API; :mod:`.source`
decides what is read for a contract and how the feed moves; :mod:`.assemble` turns Lino's data into
the view the YAML mapping (``mappings/lino/contract.yaml``) reads; this module glues them to the
hooks, and writes federal answers and deadline alerts back as Lino notes and tasks.

Idempotent push: Lino has no idempotency key, so every note or task written carries a tag derived
from the push key (``[piis:<16 hex>]``) in its subject/summary.  Before creating, the plugin looks the
tag up; found means ``duplicate``.  A write whose answer was lost is found by the same look-up on
the next attempt, so it is never created twice.
"""

from __future__ import annotations

import hashlib
import threading
from datetime import UTC, date, datetime
from importlib.resources import files
from importlib.resources.abc import Traversable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import yaml
from piis_plugins.lino.settings import LinoSettings
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
    from piis_connectors.lino.client import LinoClient
    from piis_plugins.lino.state import HashStore

    from piis_bridge.config import Settings

__all__ = ["KIND", "PLUGIN_NAME", "LinoPlugin", "lino_gaps", "push_tag"]

PLUGIN_NAME = "lino"
KIND = "lino_isip_contract"
_log = get_logger("piis_plugins.lino")


def _shipped(name: str) -> Traversable:
    return files("piis_mappings.lino") / name


def _version(path: str) -> tuple[str, int]:
    return path, Path(path).stat().st_mtime_ns if path else 0


def _settings(cpas: CpasContext) -> LinoSettings:
    return LinoSettings.model_validate(cpas.settings)


# -- lifecycle ------------------------------------------------------------------------------------


# -- feed -----------------------------------------------------------------------------------------


def _record(
    reader: Any, row: dict[str, Any], payload: dict[str, Any] | None = None
) -> SourceRecord:
    from piis_plugins.lino.source import content_hash, record_id_of

    payload = payload if payload is not None else reader.payload(row)
    return SourceRecord(
        source=PLUGIN_NAME,
        record_id=record_id_of(int(row["id"])),
        kind=KIND,
        modified_at=reader.modified_at(row),
        version=content_hash(payload),
        payload=payload,
    )


def _scan_due(cursor: Any, settings: LinoSettings, now: datetime) -> bool:
    if settings.full_scan_hours is None or cursor.last_scan is None:
        return False
    last = datetime.fromisoformat(cursor.last_scan)
    return (now - last).total_seconds() >= settings.full_scan_hours * 3600


# -- mapping --------------------------------------------------------------------------------------


def lino_gaps(record: SourceRecord) -> list[str]:
    """What Lino cannot provide for this contract (see :func:`piis_plugins.lino.assemble.gaps`)."""
    from piis_plugins.lino.assemble import gaps

    return gaps(record.payload)


# -- push -----------------------------------------------------------------------------------------


def push_tag(key: str) -> str:
    """The tag written into a Lino note's subject or task's summary for a push key (its look-up key)."""
    return "[piis:" + hashlib.sha256(key.encode()).hexdigest()[:16] + "]"


_NOTE_KINDS = frozenset({"federal_answer", "status"})


def _lino_day(value: date) -> str:
    return value.strftime("%d.%m.%Y")


def _find(client: Any, app: str, table: str, field: str, tag: str) -> list[dict[str, Any]]:
    from piis_connectors.lino.client import grid_filter

    _, rows = client.list_rows(
        app, table, filters=[grid_filter(field, tag, kind="string")], limit=5
    )
    return [r for r in rows if tag in str(r.get(field) or "")]


def _task_user(client: Any, settings: LinoSettings) -> int | None:
    from piis_connectors.lino.client import grid_filter

    if not settings.task_user:
        return None
    _, rows = client.list_rows(
        "users",
        "AllUsers",
        filters=[grid_filter("username", settings.task_user, kind="string")],
        limit=20,
    )
    for row in rows:
        if row.get("username") == settings.task_user:
            return int(row["id"])
    raise LookupError(
        f"task_user {settings.task_user!r} is not a Lino user; fix the lino plugin setting task_user"
    )


class LinoPlugin:
    """The lino plugin object (registered by the host as ``lino``, one per process): the pooled HTTP
    clients, the mapping and code-list caches and the hash files' locks live here, each behind a lock,
    since the hosts of the process's threads share this object."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.clients: ClientPool[LinoClient] = ClientPool()
        self.mappings = MappingCache(PIISContract)
        # located once: files() costs ~32 us, paid per mapped record before (timeit)
        self.shipped_mapping = _shipped("contract.yaml")
        self.codes: dict[tuple[str, int], dict[str, dict[str, Any]]] = {}
        # One lock per hash file: two stores of one CPAS's state directory must not interleave writes.
        self.hash_locks: dict[str, threading.Lock] = {}

    def _mapping(self, settings: LinoSettings | None = None) -> Mapping:
        """The contract mapping, validated once per version of the file (a local file is reloaded when changed)."""
        return self.mappings.get(settings.mapping_file if settings else None, self.shipped_mapping)

    def _code_lists(self, settings: LinoSettings | None = None) -> dict[str, dict[str, Any]]:
        """``aid_type`` and ``study_type`` of codes.yaml (string keys), checked at load."""
        key = _version((settings.codes_file if settings else None) or "")
        with self.lock:
            if key not in self.codes:
                source = Path(key[0]) if key[0] else _shipped("codes.yaml")
                doc = yaml.safe_load(source.read_text(encoding="utf-8")) or {}
                lists = doc.get("code_lists") if isinstance(doc, dict) else None
                if not isinstance(lists, dict) or not all(
                    isinstance(lists.get(n), dict) for n in ("aid_type", "study_type")
                ):
                    raise ValueError(
                        f"invalid code file {source}: code_lists.aid_type and code_lists.study_type are required"
                    )
                kinds = {str(v) for v in lists["aid_type"].values()}
                if "RI" not in kinds or not kinds <= {"RI", "NOT_DIS", "OTHER"}:
                    raise ValueError(
                        f"invalid code file {source}: aid_type values must be RI, NOT_DIS or OTHER, "
                        "with at least one RI (integration income)"
                    )
                self.codes[key] = {
                    name: {str(k): v for k, v in lists[name].items()}
                    for name in ("aid_type", "study_type")
                }
            return self.codes[key]

    def _client(self, cpas: CpasContext) -> LinoClient:
        from piis_connectors.lino.client import LinoClient

        s = _settings(cpas)
        return self.clients.get(
            (cpas.cpas_id, s.url, s.user),
            lambda: LinoClient(
                s.url,
                s.user,
                s.password.get_secret_value(),
                timeout=s.timeout,
                max_retries=s.max_retries,
                session_check_interval=s.session_check_interval,
            ),
        )

    def _reader(self, cpas: CpasContext) -> Any:
        from piis_plugins.lino.source import LinoReader

        return LinoReader(self._client(cpas), page_size=_settings(cpas).page_size)

    def _hashes(self, state_dir: Path) -> HashStore:
        """The CPAS's hash store, sharing one lock per file with every other store of that file."""
        from piis_plugins.lino.state import HashStore

        path = Path(state_dir) / HashStore.FILE
        with self.lock:
            lock = self.hash_locks.setdefault(str(path), threading.Lock())
        return HashStore(state_dir, lock)

    def close(self) -> None:
        """Close every pooled HTTP client (tests, process shutdown)."""
        self.clients.close()

    @hookimpl
    def piis_plugin_settings(self) -> type[LinoSettings]:
        return LinoSettings

    @hookimpl
    def piis_startup(self, config: Settings) -> None:
        """Load and check the mapping and code files now: an invalid one stops startup, naming the file."""
        self._mapping()
        self._code_lists()
        for raw in configured_settings(config, PLUGIN_NAME):
            if raw.get("mapping_file") or raw.get("codes_file"):
                local = LinoSettings.model_validate(raw)
                self._mapping(local)
                self._code_lists(local)

    @hookimpl
    def piis_mapping_files(self) -> list[Traversable]:
        return [_shipped("contract.yaml")]

    @hookimpl
    def piis_case_fetch_changes(
        self, cpas: CpasContext, cursor: str | None, page_size: int
    ) -> ChangePage:
        from piis_plugins.lino.source import LOG_WINDOW, Cursor, content_hash, record_id_of

        settings = _settings(cpas)
        reader = self._reader(cpas)
        store = self._hashes(cpas.state_dir)
        committed = store.advance(cursor)
        now = datetime.now(UTC)
        if cursor is None:
            pos = Cursor(
                mode="scan", log=reader.last_change_id(), scan_after=0, scan_started=now.isoformat()
            )
        else:
            pos = Cursor.load(cursor)
            if pos.mode == "log" and _scan_due(pos, settings, now):
                pos = Cursor(
                    mode="scan",
                    log=reader.last_change_id(),
                    scan_after=0,
                    scan_started=now.isoformat(),
                    last_scan=pos.last_scan,
                )
        records: list[SourceRecord] = []
        hashes: dict[str, str] = {}
        if pos.mode == "scan":
            done = False
            while len(records) < page_size and not done:
                batch = min(settings.page_size, page_size)
                rows = reader.contracts_after(pos.scan_after, batch)
                done = len(rows) < batch
                for row in rows:
                    pos.scan_after = int(row["id"])
                    payload = reader.payload(row)
                    digest = content_hash(payload)
                    rid = record_id_of(int(row["id"]))
                    if committed.get(rid) != digest:
                        records.append(_record(reader, row, payload))
                        hashes[rid] = digest
                        if len(records) == page_size:
                            done = done and row is rows[-1]
                            break
            if done:  # the scan is complete: follow the change log from where it stood when the scan began
                pos = Cursor(mode="log", log=pos.log, last_scan=pos.scan_started or now.isoformat())
            has_more = True if pos.mode == "scan" else bool(reader.changes_after(pos.log, limit=1))
        else:
            changes = reader.changes_after(pos.log)
            last = reader.affected(changes)
            ordered = sorted(last.items(), key=lambda kv: (kv[1], kv[0]))
            taken = ordered[:page_size]
            if len(ordered) > page_size:
                pos.log = taken[-1][1]
                has_more = True
            else:
                pos.log = int(changes[-1]["id"]) if changes else pos.log
                has_more = len(changes) >= LOG_WINDOW
            for pk, _change in taken:
                row = reader.contract_row(pk)
                if row is None:  # deleted in Lino since: nothing to hand over
                    continue
                payload = reader.payload(row)
                digest = content_hash(payload)
                rid = record_id_of(pk)
                if committed.get(rid) == digest:  # a change of something piis-bridge does not read
                    continue
                records.append(_record(reader, row, payload))
                hashes[rid] = digest
        next_cursor = pos.dump()
        store.stage(next_cursor, hashes)
        _log.debug(
            "lino page fetched",
            cpas=cpas.cpas_id,
            mode=pos.mode,
            records=len(records),
            has_more=has_more,
        )
        return ChangePage(records=records, cursor=next_cursor, has_more=has_more)

    @hookimpl
    def piis_case_fetch_record(self, cpas: CpasContext, record_id: str) -> SourceRecord | None:
        """The contract as Lino holds it now, exactly as the feed would hand it over; None if there is none."""
        from piis_plugins.lino.source import pk_of

        pk = pk_of(record_id)
        if pk is None:
            return None
        reader = self._reader(cpas)
        row = reader.contract_row(pk)
        return None if row is None else _record(reader, row)

    @hookimpl
    def piis_case_map_record(self, cpas: CpasContext, record: SourceRecord) -> MappingOutcome:
        from piis_plugins.lino.assemble import assemble

        rid = record.record_id
        if record.kind != KIND:
            return MappingOutcome(
                record_id=rid,
                skip_reason=f"record kind {record.kind!r} is not a Lino ISIP contract",
            )
        settings = _settings(cpas)
        codes = self._code_lists(settings)
        info = {"name": cpas.name, "ins_code": cpas.ins_code, "bce": cpas.bce}
        view, decision_problems = assemble(
            record.payload, info, rid, codes["aid_type"], settings.missing_decision_date
        )
        problems = [RecordProblem(record_id=rid, field=f, reason=r) for f, r in decision_problems]
        study = (record.payload.get("contract") or {}).get("study_typeHidden")
        if study is not None and str(study) not in codes["study_type"]:
            problems.append(
                RecordProblem(
                    record_id=rid,
                    field="contract.study_type",
                    reason=f"unknown code {str(study)!r} (code list study_type)",
                )
            )
        result = self._mapping(settings).apply(view, record_id=rid)
        problems.extend(
            RecordProblem(record_id=rid, field=p.field, reason=p.reason)
            for p in result.problems or []
            if not (decision_problems and p.field.startswith("decision"))
        )
        contract = result.value_as(PIISContract) if result.ok else None
        if problems or contract is None:
            return MappingOutcome(
                record_id=rid,
                problems=problems
                or [
                    RecordProblem(
                        record_id=rid, field="(record)", reason="mapping produced no contract"
                    )
                ],
            )
        _log.info(
            "lino contract mapped", cpas=cpas.cpas_id, record=rid, gaps=len(lino_gaps(record))
        )
        return MappingOutcome(record_id=rid, contract=contract)

    @hookimpl
    def piis_case_push(self, cpas: CpasContext, items: list[PushItem]) -> list[PushResult]:
        """Federal answers and statuses become Lino notes on the contract, alerts and notices become tasks
        for the social worker; a draft contract is refused (Lino has no drafts): the transfer plugin then
        pushes its review task as a ``transfer_notice``, which becomes a Lino task."""
        from piis_connectors.lino.client import LinoError, LinoHTTPError, LinoUnavailable
        from piis_plugins.lino.source import pk_of

        client = self._client(cpas)
        settings = _settings(cpas)
        results: list[PushResult] = []
        unavailable = 0
        contracts: dict[int, dict[str, Any] | None] = {}
        assignee: list[int | None] = []
        for item in items:
            if item.kind == "draft_contract":
                results.append(
                    PushResult(
                        key=item.key,
                        status="failed",
                        detail=(
                            "Lino Welfare has no draft contracts: the hand-over goes to the social worker as a review task"
                        ),
                    )
                )
                continue
            tag = push_tag(item.key)
            note = item.kind in _NOTE_KINDS
            app, table, field = (
                ("notes", "Notes", "subject") if note else ("cal", "Tasks", "summary")
            )
            try:
                found = _find(client, app, table, field, tag)
                if found:
                    results.append(
                        PushResult(
                            key=item.key,
                            status="duplicate",
                            remote_id=f"{app}.{table}:{found[0]['id']}",
                        )
                    )
                    continue
                pk = pk_of(item.record_id)
                if pk is not None and pk not in contracts:
                    contracts[pk] = client.get_row("isip", "Contracts", pk)
                contract = contracts.get(pk) if pk is not None else None
                values: dict[str, Any] = {field: f"{item.title[:170]} {tag}"}
                body = "\n".join(filter(None, [item.body, f"piis-bridge key: {item.key}"]))
                if contract is not None:
                    values.update(
                        projectHidden=contract.get("clientHidden"),
                        owner_idHidden=int(contract["id"]),
                        owner_typeHidden=self._reader(cpas).content_type("isip", "contract"),
                    )
                if note:
                    values.update(
                        body=body.replace("\n", "<br>"),
                        date=_lino_day(datetime.now(UTC).date()),
                    )
                else:
                    values["description"] = body.replace("\n", "<br>")
                    if item.due is not None:
                        values["due_date"] = _lino_day(item.due)
                    if not assignee:
                        assignee.append(_task_user(client, settings))
                    user = (
                        assignee[0]
                        if assignee[0] is not None
                        else (contract or {}).get("userHidden")
                    )
                    if user is not None:
                        values["userHidden"] = user
                row = client.create_row(app, table, values)
            except LinoUnavailable as exc:
                unavailable += 1
                results.append(PushResult(key=item.key, status="failed", detail=str(exc)))
                continue
            except (LinoHTTPError, LinoError, LookupError) as exc:
                results.append(PushResult(key=item.key, status="failed", detail=f"refused: {exc}"))
                continue
            results.append(
                PushResult(key=item.key, status="created", remote_id=f"{app}.{table}:{row['id']}")
            )
        if items and unavailable == len(items):
            raise LinoUnavailable(f"Lino unavailable: none of {len(items)} items pushed")
        return results
