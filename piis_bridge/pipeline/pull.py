"""Stage 1, pull: the changed records of one CPAS, page by page, items and cursor committed together."""

from __future__ import annotations

import time
from collections.abc import Sequence
from datetime import datetime
from functools import partial
from typing import Any

import orjson
from sqlalchemy import and_, select, tuple_
from sqlalchemy.orm import Session

from piis_bridge.hooks.manager import PluginCallError
from piis_bridge.hooks.types import RecordProblem, SourceRecord
from piis_bridge.logging import get_logger, redact
from piis_bridge.pipeline.models import (
    SyncCursor,
    SyncRun,
    SyncRunCpas,
    WorkItem,
    utcnow,
)
from piis_bridge.pipeline.outbox import (
    PULL,
    Enqueuer,
    again,
    call,
    circuit_open,
    claim,
    describe,
    insert_ignore,
    quarantine,
    record_stat,
    refresh_statistics,
    release,
    renew,
)
from piis_bridge.pipeline.reliability import is_transient
from piis_bridge.pipeline.runs import maybe_finish
from piis_bridge.pipeline.runtime import Runtime
from piis_bridge.retention import PURGED

_log = get_logger("piis_bridge.pipeline.pull")


def _pull_dossier(
    rt: Runtime, run_id: str, cpas_id: str, dossier: str, enq: Enqueuer, attempt: int
) -> None:
    """The record as the case system holds it now (``piis_case_fetch_record``), processed like a fetched one.

    A plugin without the hook, or a failure, stops the run with a message naming the plugin and the
    record (never read as "no such record"); ``None`` means the case system has no such record.
    Transient failures are retried like a page of the change feed.
    """
    host = rt.host
    remote = f"casesystem:{cpas_id}"
    with rt.session() as s:
        if circuit_open(rt, s, remote, partial(_hold_off, s, enq, run_id, cpas_id, attempt)):
            return
    error: str | None = None
    record: SourceRecord | None = None
    try:
        record = host.case_fetch_record(cpas_id, dossier, run_id=run_id)
    except PluginCallError as exc:
        f = exc.failure
        if f.error_type == "NotImplementedError":
            error = (
                f"the case-system plugin {f.plugin!r} of {cpas_id} cannot fetch one record "
                f"(it does not implement piis_case_fetch_record): --dossier is not available for this CPAS"
            )
        else:
            if is_transient(f) and not rt.retry.exhausted(attempt + 1):
                with rt.session() as s:
                    rt.breaker.failure(s, remote)
                    _release_pull(s, run_id, cpas_id)
                delay = rt.retry.delay(attempt + 1)
                _log.warning(
                    "case system unavailable, retrying",
                    cpas=cpas_id,
                    run_id=run_id,
                    attempt=attempt + 1,
                    delay=round(delay, 2),
                    error=str(exc),
                )
                enq.pull(run_id, cpas_id, countdown=delay, attempt=attempt + 1)
                return
            error = (
                f"fetching dossier {dossier} from the case system of {cpas_id} failed: plugin {f.plugin!r} "
                f"failed in {f.hook}: {f.error_type}: {f.message}"
            )
    if record is None and error is None:
        error = f"the case system of {cpas_id} has no record {dossier} (deleted, or never existed)"
    ids: list[int] = []
    with rt.session() as s:
        rc = s.get_one(SyncRunCpas, (run_id, cpas_id))
        if error is not None:
            rc.state, rc.error = "failed", redact(error)
        else:
            assert record is not None
            rt.breaker.success(s, remote)
            ids = insert_ignore(
                s,
                WorkItem,
                [
                    dict(
                        run_id=run_id,
                        cpas_id=cpas_id,
                        record_id=record.record_id,
                        version=record.version or "",
                        payload=record.model_dump_json(),
                        state="pending",
                        updated_at=utcnow(),
                    )
                ],
                returning=WorkItem.id,
            )
            rc.state, rc.fetched, rc.pages = "pulled", len(ids), 1
        s.commit()
    if ids:
        enq.process(run_id, ids)
    maybe_finish(rt, run_id, enq)


def pull(rt: Runtime, run_id: str, cpas_id: str, enq: Enqueuer, attempt: int = 0) -> None:
    """Fetch every changed record page by page; items and cursor are committed together."""
    o = rt.options
    remote = f"casesystem:{cpas_id}"
    with rt.session() as s:
        won, _ = claim(s, PULL, _this_pull(run_id, cpas_id), o.lease_seconds)
        if not won:
            return
        dossier = s.scalar(select(SyncRun.dossier).where(SyncRun.id == run_id))
    if dossier is not None:
        _pull_dossier(rt, run_id, cpas_id, dossier, enq, attempt)
        return
    host = rt.host
    while True:
        t0 = time.perf_counter()
        with rt.session() as s:
            if circuit_open(rt, s, remote, partial(_hold_off, s, enq, run_id, cpas_id, attempt)):
                return
            row = s.get(SyncCursor, cpas_id)
            cursor = row.cursor if row else None
        fetched = call(host, "case_fetch_changes", cpas_id, cursor, o.page_size, run_id=run_id)
        page = fetched.value
        if page is None:
            failures = list(fetched.failures)
            with rt.session() as s:
                if failures and is_transient(failures[-1]) and not rt.retry.exhausted(attempt + 1):
                    rt.breaker.failure(s, remote)
                    _release_pull(s, run_id, cpas_id)
                    delay = rt.retry.delay(attempt + 1)
                    _log.warning(
                        "case system unavailable, retrying",
                        cpas=cpas_id,
                        run_id=run_id,
                        attempt=attempt + 1,
                        delay=round(delay, 2),
                        error=describe(failures),
                    )
                    enq.pull(run_id, cpas_id, countdown=delay, attempt=attempt + 1)
                    return
                rc = s.get_one(SyncRunCpas, (run_id, cpas_id))
                rc.state, rc.error = "failed", describe(failures)
                s.commit()
            maybe_finish(rt, run_id, enq)
            return
        attempt = 0
        now = utcnow()
        rows, rejected, repeats = admit(rt, run_id, cpas_id, page.records, now)
        with rt.session() as s:
            rt.breaker.success(s, remote)
            ids = insert_ignore(s, WorkItem, rows, returning=WorkItem.id)
            for q in rejected:
                quarantine(s, run_id=run_id, cpas_id=cpas_id, **q)
            if page.cursor is not None or cursor is not None:
                row = s.get(SyncCursor, cpas_id)
                if row is None:
                    s.add(
                        SyncCursor(
                            cpas_id=cpas_id, cursor=page.cursor, run_id=run_id, updated_at=now
                        )
                    )
                else:
                    row.cursor, row.run_id, row.updated_at = page.cursor, run_id, now
            rc = s.get_one(SyncRunCpas, (run_id, cpas_id))
            rc.pages += 1
            rc.fetched += len(ids)
            rc.received += len(page.records)
            # a row lost to a concurrent insert of the same (record, version) is an identical repeat too
            rc.repeats += repeats + (len(rows) - len(ids))
            rc.rejected += len(rejected)
            renew(s, PULL, _this_pull(run_id, cpas_id), o.lease_seconds)
            if not page.has_more:
                rc.state = "pulled"
            record_stat(s, run_id, "pull", len(page.records), time.perf_counter() - t0)
            s.commit()
        ids.sort()
        for start in range(0, len(ids), o.chunk_size):
            enq.process(run_id, ids[start : start + o.chunk_size])
        if not page.has_more:
            break
    with rt.session() as s:
        refresh_statistics(s)
    maybe_finish(rt, run_id, enq)


def _this_pull(run_id: str, cpas_id: str) -> Any:
    return and_(SyncRunCpas.run_id == run_id, SyncRunCpas.cpas_id == cpas_id)


def _release_pull(s: Session, run_id: str, cpas_id: str) -> None:
    release(s, PULL, _this_pull(run_id, cpas_id), "pending")


def _hold_off(
    s: Session, enq: Enqueuer, run_id: str, cpas_id: str, attempt: int, wait: float
) -> None:
    """The case system's circuit is open: give the pull back and ask again when it may close."""
    _release_pull(s, run_id, cpas_id)
    again(enq.pull, run_id, cpas_id, attempt, wait)


# ====================================================================================== the storage boundary

_ID_MAX = 120  # sync_item.record_id / version, sync_quarantine.record_id
_RECORD_MAX_BYTES = 4 * 1024 * 1024  # one vendor record; a larger one is refused, not stored


def printable_id(value: object, limit: int = _ID_MAX) -> str:
    """A record id as it can always be stored and shown: control characters, NUL and unpaired
    surrogates escaped, cut to *limit* characters (the quarantine names the record even when its id
    is what is wrong with it)."""
    text = str(value)
    out = "".join(
        c if c.isprintable() and not 0xD800 <= ord(c) <= 0xDFFF else f"\\u{ord(c):04x}"
        for c in text
    )
    if len(out) > limit:
        out = out[: limit - 12] + f"...(+{len(out) - limit + 12})"
    return out


def _storable(value: str, field: str, limit: int) -> str | None:
    """Why *value* cannot be stored in a column of *limit* characters (None: it can)."""
    if len(value) > limit:
        return f"{field}: {len(value)} characters, at most {limit} can be stored"
    if "\x00" in value:
        return f"{field}: contains a NUL character, which the database cannot store"
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return (
            f"{field}: not valid Unicode (an unpaired surrogate), which the database cannot store"
        )
    return None


def _content(record: SourceRecord) -> bytes:
    """What identifies a record's content, for telling an identical repeat from a conflict."""
    return orjson.dumps([record.kind, record.payload], option=orjson.OPT_SORT_KEYS, default=str)


def _conflict(r: SourceRecord, where: str) -> dict[str, Any]:
    """The quarantine entry of a record whose (record, version) was received with other content."""
    rid = printable_id(r.record_id)
    reason = (
        f"version: a record {rid} with version {printable_id(r.version or '', 40)!r} and different "
        f"content was received before {where}; the first one is processed, this one is not (a "
        "changed record needs a new version)"
    )
    return dict(
        record_id=rid,
        stage="conflict",
        reason=reason,
        problems=[RecordProblem(record_id=rid, field="version", reason=reason)],
    )


def _stored_contents(
    rt: Runtime, run_id: str, cpas_id: str, candidates: Sequence[tuple[SourceRecord, str, bytes]]
) -> tuple[dict[tuple[str, str], bytes], dict[tuple[str, str], tuple[str, bytes]]]:
    """The content of each (record, version) of *candidates* already stored: by this run, and (the
    latest) by earlier runs, with that run's id.

    Why earlier runs too: a vendor that changes a record without a new version sends it on another
    night; compared within one run only, the second content was processed as if it were the first
    (issue #12's conflicts).  Only the slots of this page are read and decrypted."""
    slots = sorted({(r.record_id, r.version or "") for r, _, _ in candidates})
    this_run: dict[tuple[str, str], bytes] = {}
    other_runs: dict[tuple[str, str], tuple[str, bytes]] = {}
    if not slots:
        return this_run, other_runs
    latest: dict[tuple[bool, str, str], tuple[int, str]] = {}  # (this run?, slot) -> (item, run)
    with rt.session() as s:
        for i in range(0, len(slots), 500):
            some = slots[i : i + 500]
            # The slots themselves, not every stored version of these records: a record changed
            # every night has one row per night (ix_sync_item_cpas_record covers the pair).
            for item_id, item_run, rid, version in s.execute(
                select(WorkItem.id, WorkItem.run_id, WorkItem.record_id, WorkItem.version).where(
                    WorkItem.cpas_id == cpas_id,
                    WorkItem.record_id.in_(sorted({rid for rid, _ in some})),
                    tuple_(WorkItem.record_id, WorkItem.version).in_(some),
                )
            ):
                key = (item_run == run_id, rid, version)
                if key not in latest or latest[key][0] < item_id:
                    latest[key] = (item_id, item_run)
        wanted = {item_id: key for key, (item_id, _) in latest.items()}
        chunks = list(wanted)
        for i in range(0, len(chunks), 500):
            for item_id, stored in s.execute(
                select(WorkItem.id, WorkItem.payload).where(WorkItem.id.in_(chunks[i : i + 500]))
            ):
                same_run, rid, version = wanted[item_id]
                if stored == PURGED:
                    # Retention emptied it: nothing left to compare with, and an empty payload is
                    # not "other content" (taking it for one quarantined every old record resent).
                    continue
                try:
                    content = _content(SourceRecord.model_validate_json(stored))
                except Exception:  # noqa: BLE001 - unreadable: compare the stored JSON instead
                    content = stored.encode()
                if same_run:
                    this_run[(rid, version)] = content
                else:
                    other_runs[(rid, version)] = (latest[(False, rid, version)][1], content)
    return this_run, other_runs


def admit(
    rt: Runtime, run_id: str, cpas_id: str, records: Sequence[SourceRecord], now: datetime
) -> tuple[list[dict[str, Any]], list[dict[str, Any]], int]:
    """Split one page into (rows to store, quarantine entries, identical repeats), record by record.

    Why: one record the database cannot hold (an id over 120 characters, a NUL byte, invalid Unicode,
    a payload over 4 MiB) used to fail the whole page insert, and the CPAS's feed stopped for good; a
    second record with the same (record, version) was silently dropped by the unique constraint.  Now
    such a record is quarantined at stage ``store`` (or ``conflict``: same record and version, other
    content, in this run or an earlier one) with its id, field and reason, and the rest of the page goes on; an identical repeat is
    counted (``repeats``)."""
    rows: list[dict[str, Any]] = []
    rejected: list[dict[str, Any]] = []
    repeats = 0
    seen: dict[tuple[str, str], bytes] = {}
    candidates: list[tuple[SourceRecord, str, bytes]] = []
    for r in records:
        version = r.version or ""
        problem = _storable(r.record_id, "record_id", _ID_MAX) or _storable(
            version, "version", _ID_MAX
        )
        payload = ""
        if problem is None:
            try:
                payload = r.model_dump_json()
            except Exception as exc:  # noqa: BLE001 - e.g. an unpaired surrogate inside the vendor data
                problem = f"payload: cannot be stored ({type(exc).__name__}: {str(exc)[:200]})"
            else:
                if len(payload) > _RECORD_MAX_BYTES:
                    problem = (
                        f"payload: {len(payload)} bytes, at most {_RECORD_MAX_BYTES} can be stored"
                    )
        if problem is not None:
            field = problem.split(":", 1)[0]
            rid = printable_id(r.record_id)
            rejected.append(
                dict(
                    record_id=rid,
                    stage="store",
                    reason=problem,
                    problems=[RecordProblem(record_id=rid, field=field, reason=problem)],
                )
            )
            continue
        try:
            content = _content(r)
        except Exception:  # noqa: BLE001 - unserialisable content: compare the stored JSON instead
            content = payload.encode()
        candidates.append((r, payload, content))
    # (record, version) already stored: in this run by an earlier page, or by an earlier run
    earlier, before = _stored_contents(rt, run_id, cpas_id, candidates)
    for r, payload, content in candidates:
        slot = (r.record_id, r.version or "")
        first = seen.get(slot, earlier.get(slot))
        if first is not None:
            if first == content:
                repeats += 1
            else:
                rejected.append(_conflict(r, "in the same run"))
            continue
        if slot in before and before[slot][1] != content:
            rejected.append(_conflict(r, f"in run {before[slot][0]}"))
            continue
        seen[slot] = content
        rows.append(
            dict(
                run_id=run_id,
                cpas_id=cpas_id,
                record_id=r.record_id,
                version=r.version or "",
                payload=payload,
                state="pending",
                updated_at=now,
            )
        )
    return rows, rejected, repeats
