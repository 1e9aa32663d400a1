"""The filedrop plugin: nightly export files (CSV / XML) as a case-system change feed.

How a drop directory becomes pages (the cursor is JSON, opaque to the core)::

    {"file": <name in processing/>, "sha": <content hash>, "next": <row offset>, "eof": <bool>}

* A page never spans two files.  The last page of a file says ``has_more = true``; the next call
  (made only after the core has processed and persisted that page) moves the file to ``done/``.
  So a file reaches ``done/`` only once all its rows are processed, and a crash replays at most
  the page being processed.
* A file claimed but never finished (crash) stays in ``processing/`` and is resumed first, from
  the row the persisted cursor names (or from its first row).
* Re-dropping a file with the same bytes changes nothing: its hash is known, it goes to ``done/``
  with a ``duplicate`` report and yields no record.
* A file that cannot be trusted (undecodable, missing columns, malformed XML) goes to ``failed/``
  with ``<name>.report.json``; the next file is read.
* A single bad row (wrong number of fields) is a ``row_error`` record: quarantined with its file
  and line number by :func:`piis_case_map_record`; the other rows go through.

Push-back: tasks and statuses go to ``outbox/`` (one file per key); a received draft contract goes
to ``outgoing/`` when the package imports drafts from there (``outgoing_drafts``, see
:mod:`.outgoing`), else it is answered ``failed`` so the transfer plugin sends a review task.

``piis_case_fetch_record`` is deliberately not implemented: a file drop cannot be asked for one
dossier as it is *now*; the only copy the bridge could return is the row of the last export, which
the nightly run processes anyway.  The host therefore refuses ``run --dossier`` for this plugin.
"""

from __future__ import annotations

import threading
from importlib.resources import files
from importlib.resources.abc import Traversable
from typing import Any

import orjson
from piis_plugins.filedrop.settings import FiledropSettings
from piis_plugins.support import MappingCache

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
from piis_bridge.identifiers import is_valid_niss
from piis_bridge.mapping import Mapping
from piis_bridge.model import PIISContract

__all__ = ["PLUGIN_NAME", "FiledropPlugin"]

PLUGIN_NAME = "filedrop"


def _shipped(fmt: str) -> Traversable:
    return files("piis_mappings.filedrop") / f"{fmt}_contract.yaml"


def _settings(cpas: CpasContext) -> FiledropSettings:
    return FiledropSettings.model_validate(cpas.settings)


# -- change feed ------------------------------------------------------------------------------------


def _decode(cursor: str | None) -> dict[str, Any]:
    if not cursor:
        return {"file": None}
    try:
        state = orjson.loads(cursor)
    except orjson.JSONDecodeError:
        raise ValueError("filedrop cursor is not valid JSON") from None
    return state if isinstance(state, dict) else {"file": None}


def _encode(state: dict[str, Any]) -> str:
    return orjson.dumps(state, option=orjson.OPT_SORT_KEYS).decode()


def _format_of(name: str) -> str:
    return "xml" if name.lower().endswith(".xml") else "csv"


def _report(claimed: Any, parsed: Any) -> dict[str, Any] | None:
    errors = [{"line": r.line, "reason": r.error} for r in parsed.rows if r.error]
    if not errors:
        return None
    return {
        "file": claimed.name,
        "status": "done_with_quarantined_rows",
        "sha256": claimed.sha256,
        "records": len(parsed.rows),
        "quarantined_rows": errors,
    }


def _record(claimed: Any, row: Any, fmt: str, id_path: str | None) -> SourceRecord:
    rid = str(row.data.get(id_path) or "") if id_path and not row.error else ""
    if not rid or is_valid_niss(rid):
        rid = f"{claimed.name}#L{row.line}"
    meta = {"_format": fmt, "_file": claimed.name, "_line": row.line}
    if row.error:
        return SourceRecord(
            source=PLUGIN_NAME,
            record_id=rid,
            kind="row_error",
            modified_at=claimed.modified_at,
            version=f"{claimed.sha256[:16]}:{row.line}",
            payload={**meta, "_error": row.error},
        )
    bce, ins = _tenant(row.data)
    return SourceRecord(
        source=PLUGIN_NAME,
        record_id=rid,
        kind="piis_contract",
        modified_at=claimed.modified_at,
        version=f"{claimed.sha256[:16]}:{row.line}",
        payload={**row.data, **meta},
        cpas_bce=bce,
        cpas_ins=ins,
    )


def _tenant(data: dict[str, Any]) -> tuple[str | None, str | None]:
    """The CPAS a row is filed under (CSV ``ocmw_kbo``/``ocmw_nis``, XML ``cpas/bce``, ``cpas/ins``).

    Why: a vendor export can hold several OCMWs; the host refuses another CPAS's row before mapping."""
    raw = data.get("cpas")
    nested: dict[str, Any] = raw if isinstance(raw, dict) else {}
    bce = data.get("ocmw_kbo") or data.get("cpas.bce") or nested.get("bce")
    ins = data.get("ocmw_nis") or data.get("cpas.ins") or nested.get("ins")
    return (str(bce).strip() or None) if bce else None, (str(ins).strip() or None) if ins else None


def _push_draft(cpas: CpasContext, settings: FiledropSettings, item: PushItem) -> PushResult:
    """A received draft contract as ``outgoing/ontwerp-<hash of key>.json``, when the package imports it."""
    from piis_plugins.filedrop.outgoing import write_draft_once
    from pydantic import ValidationError

    from piis_bridge.transfer.handover import DraftHandover

    if not settings.outgoing_drafts:
        return PushResult(
            key=item.key,
            status="failed",
            detail=(
                f"cpas {cpas.cpas_id}: this file drop hands no draft contracts to the package (filedrop "
                "outgoing_drafts = false; set it once the package imports outgoing/)"
            ),
        )
    try:
        handover = DraftHandover.model_validate(item.data)
    except ValidationError as exc:
        fields = ", ".join(
            ".".join(str(p) for p in e["loc"]) or "(data)" for e in exc.errors(include_input=False)
        )
        return PushResult(
            key=item.key,
            status="failed",
            detail=f"item {item.key}: data is not a draft hand-over ({fields})",
        )
    data = handover.model_dump(mode="json")
    document = {
        "contractnr": item.record_id,
        "titel": item.title,
        "omschrijving": item.body,
        "contract": data.pop("draft_contract"),
        "overdracht": data,
    }
    try:
        path, created = write_draft_once(settings.directory / "outgoing", item.key, document)
    except OSError as exc:
        return PushResult(
            key=item.key, status="failed", detail=f"cannot write outgoing/: {exc.strerror}"
        )
    return PushResult(
        key=item.key, status="created" if created else "duplicate", remote_id=path.name
    )


class FiledropPlugin:
    """The filedrop plugin object (registered by the host as ``filedrop``, one per process): the
    mapping cache and the last few parsed files live here, each guarded by a lock, since the hosts of
    the process's threads share it."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.mappings = MappingCache(PIISContract)
        # located once per format: files() costs ~32 us, paid per mapped record before (timeit)
        self.shipped = {fmt: _shipped(fmt) for fmt in ("csv", "xml")}
        self.parsed: dict[str, Any] = {}  # sha256 -> ReadResult (last few files only)

    def _mapping(self, fmt: str, override: str | None = None) -> Mapping:
        """The mapping for a file format; a local override file is reloaded when it changes on disk."""
        return self.mappings.get(
            override, self.shipped[fmt] if fmt in self.shipped else _shipped(fmt)
        )

    def _parse(self, claimed: Any, settings: FiledropSettings) -> Any:
        from piis_connectors.filedrop.readers import Limits, read_csv, read_xml

        with self.lock:
            cached = self.parsed.get(claimed.sha256)
        if cached is not None:
            return cached
        limits = Limits(max_bytes=settings.max_file_bytes)
        if _format_of(claimed.name) == "xml":
            result = read_xml(claimed.path, settings.xml_record_tag, limits)
        else:
            required = [
                p for p in (self._mapping("csv", settings.csv_mapping_file).record_id_path,) if p
            ]
            result = read_csv(claimed.path, required=required, limits=limits)
        with self.lock:
            while len(self.parsed) >= 4:
                self.parsed.pop(next(iter(self.parsed)))
            self.parsed[claimed.sha256] = result
        return result

    @hookimpl
    def piis_plugin_settings(self) -> type[FiledropSettings]:
        return FiledropSettings

    @hookimpl
    def piis_startup(self, config: Any) -> None:
        """Validate the mapping files now: a broken mapping stops startup, naming the file."""
        self._mapping("csv")
        self._mapping("xml")
        for cpas_id in getattr(config, "cpas", {}) or {}:
            raw = (
                config.plugin_settings(cpas_id, PLUGIN_NAME)
                if hasattr(config, "plugin_settings")
                else {}
            )
            if raw.get("csv_mapping_file"):
                self._mapping("csv", raw["csv_mapping_file"])
            if raw.get("xml_mapping_file"):
                self._mapping("xml", raw["xml_mapping_file"])

    @hookimpl
    def piis_mapping_files(self) -> list[Traversable]:
        return [_shipped("csv"), _shipped("xml")]

    @hookimpl
    def piis_case_fetch_changes(
        self, cpas: CpasContext, cursor: str | None, page_size: int
    ) -> ChangePage:
        from piis_connectors.filedrop.directory import DropDirectory
        from piis_connectors.filedrop.readers import FileRejected

        s = _settings(cpas)
        drop = DropDirectory(s.directory, s.settle_seconds, suffixes=[f".{f}" for f in s.formats])
        state = _decode(cursor)
        current, offset = None, 0
        if state.get("file"):
            path = drop.processing / str(state["file"])
            if path.exists():
                claimed = drop.adopt(path)
                if claimed.sha256 == state.get("sha"):
                    if state.get("eof"):
                        drop.finish(claimed, _report(claimed, self._parse(claimed, s)))
                    else:
                        current, offset = claimed, int(state.get("next", 0))
        while current is None:
            orphans = drop.orphans()
            if orphans:
                current = drop.adopt(orphans[0])
            else:
                ready = drop.ready()
                if not ready:
                    return ChangePage(records=[], cursor=_encode({"file": None}), has_more=False)
                current = drop.claim(ready[0])
                if current is None:
                    continue  # another worker claimed it first
            first = drop.is_processed(current.sha256)
            if first is not None:
                drop.skip_duplicate(current, first)
                current = None
                continue
            try:
                self._parse(current, s)
            except FileRejected as exc:
                drop.fail(current, {"reason": exc.reason, "line": exc.line, "records": 0})
                current = None
            except OSError as exc:
                drop.fail(
                    current, {"reason": f"cannot read: {exc.strerror}", "line": None, "records": 0}
                )
                current = None
        parsed = self._parse(current, s)
        fmt = _format_of(current.name)
        id_path = self._mapping(
            fmt, s.csv_mapping_file if fmt == "csv" else s.xml_mapping_file
        ).record_id_path
        rows = parsed.rows[offset : offset + page_size]
        nxt = offset + len(rows)
        records = [_record(current, row, fmt, id_path) for row in rows]
        new_state = {
            "file": current.path.name,
            "sha": current.sha256,
            "next": nxt,
            "eof": nxt >= len(parsed.rows),
        }
        return ChangePage(records=records, cursor=_encode(new_state), has_more=True)

    @hookimpl
    def piis_case_map_record(self, cpas: CpasContext, record: SourceRecord) -> MappingOutcome:
        p = record.payload
        where = f"{p.get('_file')} line {p.get('_line')}"
        if record.kind == "row_error":
            return MappingOutcome(
                record_id=record.record_id,
                problems=[
                    RecordProblem(
                        record_id=record.record_id,
                        field=f"line {p.get('_line')}",
                        reason=f"{where}: {p.get('_error')}",
                    )
                ],
            )
        if record.kind != "piis_contract":
            return MappingOutcome(
                record_id=record.record_id,
                skip_reason=f"record kind {record.kind!r} is not a contract",
            )
        s = _settings(cpas)
        fmt = str(p.get("_format", "csv"))
        mapping = self._mapping(fmt, s.csv_mapping_file if fmt == "csv" else s.xml_mapping_file)
        result = mapping.apply(p, record_id=record.record_id)
        contract = result.value_as(PIISContract) if result.ok else None
        if contract is not None:
            return MappingOutcome(record_id=record.record_id, contract=contract)
        return MappingOutcome(
            record_id=record.record_id,
            problems=[
                RecordProblem(
                    record_id=record.record_id, field=pr.field, reason=f"{where}: {pr.reason}"
                )
                for pr in result.problems
            ]
            or [
                RecordProblem(
                    record_id=record.record_id,
                    field=f"line {p.get('_line')}",
                    reason="no contract produced",
                )
            ],
        )

    @hookimpl
    def piis_case_push(self, cpas: CpasContext, items: list[PushItem]) -> list[PushResult]:
        """Each item becomes ``outbox/taak-<hash of key>.json`` for the package to import; same key, same file.
        A ``draft_contract`` item goes to ``outgoing/`` instead (or answers ``failed``, see :func:`_push_draft`)."""
        from piis_connectors.filedrop.outbox import Outbox

        settings = _settings(cpas)
        outbox = Outbox(settings.directory / "outbox")
        results = []
        for item in items:
            if item.kind == "draft_contract":
                results.append(_push_draft(cpas, settings, item))
                continue
            task = {
                "contractnr": item.record_id,
                "soort": item.kind,
                "titel": item.title,
                "omschrijving": item.body,
                "vervaldatum": item.due.strftime("%d/%m/%Y") if item.due else None,
                "gegevens": item.data,
            }
            try:
                path, created = outbox.put(item.key, task)
            except OSError as exc:
                results.append(
                    PushResult(
                        key=item.key,
                        status="failed",
                        detail=f"cannot write the outbox: {exc.strerror}",
                    )
                )
                continue
            results.append(
                PushResult(
                    key=item.key, status="created" if created else "duplicate", remote_id=path.name
                )
            )
        return results
