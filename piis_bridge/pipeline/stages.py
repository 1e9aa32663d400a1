"""The stages of the nightly run, as plain functions over the database and the plugin host.

The celery tasks (:mod:`piis_bridge.pipeline.tasks`) are thin wrappers around these, so the logic
can be read (and unit-tested) without a broker.  Every stage follows the same pattern:

1. claim its units in the database with a conditional UPDATE (state + lease owner + lease end), so
   two workers, a redelivered message or the sweeper can never process the same unit twice at once;
2. call the remote system through the plugin host (never ``pm.hook`` directly);
3. record the outcome in one transaction; the next stage's units are created in that same
   transaction (outbox), and only then are the next tasks enqueued (with ids only).

A lost message therefore never loses work: the row stays and the sweeper re-enqueues it.  A
duplicated message never duplicates a side effect: the claim fails, and every side effect carries
an idempotency key recorded before the call (the federal ``ClientReference``, the push key).
"""

from __future__ import annotations

import dataclasses
import hashlib
import importlib
import time
import uuid
from collections.abc import Iterable, Sequence
from datetime import date, datetime, timedelta, timezone
from typing import Any, Protocol

import orjson
from sqlalchemy import and_, exists, func, or_, select, text, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, aliased

from piis_bridge.forms import event_for_contract
from piis_bridge.hooks.manager import PluginCallError
from piis_bridge.hooks.types import PluginFailure, PushItem, PushResult, RecordProblem, RunInfo, RunReport, SourceRecord
from piis_bridge.logging import get_logger, redact
from piis_bridge.pipeline.models import (
    Effect,
    Notice,
    StatementFetch,
    QuarantineEntry,
    StageStat,
    SyncCursor,
    SyncRun,
    SyncRunCpas,
    WorkItem,
    utcnow,
)
from piis_bridge.pipeline.reliability import is_transient
from piis_bridge.pipeline.runtime import Runtime
from piis_bridge.rules import RuleRegistry, RuleSettings, evaluate

__all__ = [
    "Enqueuer",
    "create_run",
    "start_run",
    "pull",
    "process_items",
    "submit_forms",
    "collect_answers",
    "push_back",
    "maybe_finish",
    "replay_quarantine",
    "OPEN_ITEM_STATES",
    "OPEN_EFFECT_STATES",
    "OPEN_NOTICE_STATES",
]

_log = get_logger("piis_bridge.pipeline")
OPEN_ITEM_STATES = ("pending", "leased")
OPEN_EFFECT_STATES = ("pending", "sending", "submitted")
OPEN_NOTICE_STATES = ("pending", "queued", "fetching")  # sync_run_cpas.notices_state still to do
NOTICES_HOOK = "piis_federal_fetch_notices"
_KEY_NAMESPACE = uuid.UUID("9b6c3f4e-5d1a-4c2b-8f7e-1a2b3c4d5e6f")
_PENDING_ANSWERS = frozenset({"PENDING", "QUEUED", "SUBMITTED", "RECEIVED", "IN_PROGRESS"})


class Enqueuer(Protocol):
    """How a stage asks for the next task (celery in production; the tests use the same tasks)."""

    def pull(self, run_id: str, cpas_id: str, *, countdown: float = 0, attempt: int = 0) -> None: ...
    def process(self, run_id: str, item_ids: list[int], *, countdown: float = 0, attempt: int = 0) -> None: ...
    def submit(self, run_id: str, cpas_id: str, *, countdown: float = 0, attempt: int = 0) -> None: ...
    def collect(self, run_id: str, cpas_id: str, *, countdown: float = 0, attempt: int = 0) -> None: ...
    def push(self, run_id: str, cpas_id: str, *, countdown: float = 0, attempt: int = 0) -> None: ...
    def notices(self, run_id: str, cpas_id: str, *, countdown: float = 0, attempt: int = 0) -> None: ...
    def statement(self, run_id: str, cpas_id: str, *, countdown: float = 0, attempt: int = 0) -> None: ...


# ====================================================================================== helpers


def _insert_ignore(session: Session, model: type, rows: list[dict[str, Any]], returning: Any = None) -> list[Any]:
    """INSERT ... ON CONFLICT DO NOTHING on SQLite and PostgreSQL; returns the inserted ids.

    Core ``executemany`` (one cached compiled statement, batched by SQLAlchemy's insertmanyvalues)
    rather than one multi-row VALUES statement, which is recompiled for every batch size.
    """
    if not rows:
        return []
    dialect = session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    table = model.__table__  # type: ignore[attr-defined]
    stmt = insert(table).on_conflict_do_nothing()
    conn = session.connection()
    if returning is not None:
        result = conn.execute(stmt.returning(table.c[returning.key]), rows)
        return [row[0] for row in result]
    conn.execute(stmt, rows)
    return []


def _record_stat(session: Session, run_id: str, stage: str, units: int, elapsed: float) -> None:
    now = utcnow()
    for _ in range(3):
        changed = session.execute(
            update(StageStat).where(StageStat.run_id == run_id, StageStat.stage == stage).values(
                units=StageStat.units + units, tasks=StageStat.tasks + 1,
                busy_seconds=StageStat.busy_seconds + elapsed, last_at=now)
        ).rowcount
        if changed:
            return
        try:
            with session.begin_nested():
                session.add(StageStat(run_id=run_id, stage=stage, units=units, tasks=1, busy_seconds=elapsed,
                                      first_at=now, last_at=now))
            return
        except IntegrityError:
            continue


def _claim(session: Session, model: type, ids_filter: Any, lease: float) -> tuple[str, datetime]:
    owner = uuid.uuid4().hex
    now = utcnow()
    session.execute(
        update(model).where(ids_filter).values(
            state="leased" if model is WorkItem else "sending", lease_owner=owner,
            lease_until=now + timedelta(seconds=lease), attempts=model.attempts + 1, updated_at=now)
        .execution_options(synchronize_session=False)
    )
    session.commit()
    return owner, now


def _type_path(obj: Any) -> str:
    cls = type(obj)
    return f"{cls.__module__}:{cls.__qualname__}"


def _dump(obj: Any) -> str:
    if hasattr(obj, "model_dump_json"):
        return obj.model_dump_json()
    if dataclasses.is_dataclass(obj):
        return orjson.dumps(dataclasses.asdict(obj), default=str).decode()
    raise TypeError(f"cannot store a {type(obj).__name__}: forms must be pydantic models or dataclasses")


def _load(type_path: str, payload: str) -> Any:
    module, _, qualname = type_path.partition(":")
    cls: Any = importlib.import_module(module)
    for part in qualname.split("."):
        cls = getattr(cls, part)
    if hasattr(cls, "model_validate_json"):
        return cls.model_validate_json(payload)
    return cls(**orjson.loads(payload))


def form_key(cpas_id: str, record_id: str, form: Any) -> tuple[str, Any]:
    """The idempotency key of a form, and the form carrying it.

    The federal ``ClientReference`` (at most 36 characters) is the key the federal service
    deduplicates on: a form built with one keeps it; otherwise the key is a UUID derived from the
    CPAS, the dossier and the form's content, so rebuilding the same form after a crash gives the same
    key and the federal service answers the original result instead of creating a second effect.
    """
    if callable(getattr(form, "with_key", None)):
        form = form.with_key()  # the federal form's own derivation (piis_bridge.forms.FederalForm)
    ref = getattr(form, "client_reference", None)
    if ref:
        return str(ref), form
    digest = hashlib.sha256(_dump(form).encode()).hexdigest()
    ref = str(uuid.uuid5(_KEY_NAMESPACE, f"{cpas_id}|{record_id}|{digest}"))
    if hasattr(form, "client_reference") and hasattr(form, "model_copy"):
        form = form.model_copy(update={"client_reference": ref})
    return ref, form


def _quarantine(session: Session, *, run_id: str, cpas_id: str, record_id: str, stage: str, reason: str,
                problems: Sequence[RecordProblem] = (), item_id: int | None = None,
                effect_id: int | None = None) -> None:
    session.add(QuarantineEntry(
        run_id=run_id, cpas_id=cpas_id, record_id=record_id, stage=stage, reason=redact(reason)[:4000],
        problems=[redact(p.model_dump(mode="json")) for p in problems], item_id=item_id, effect_id=effect_id))
    _log.warning("quarantined", run_id=run_id, cpas=cpas_id, record_id=record_id, stage=stage, reason=redact(reason))


def _new_failures(host: Any, before: int) -> list[PluginFailure]:
    return list(host.failures[before:])


def _describe(failures: Sequence[PluginFailure]) -> str:
    if not failures:
        return "the plugin returned nothing"
    f = failures[-1]
    return f"plugin {f.plugin!r} failed in {f.hook}: {f.error_type}: {f.message}"


# ====================================================================================== runs


def create_run(rt: Runtime, *, cpas_ids: Iterable[str] | None = None, dossier: str | None = None,
               trigger: str = "manual", schedule_key: str | None = None) -> str | None:
    """Record a new run (the CPAS to pull); None when ``schedule_key`` already started one."""
    chosen = list(cpas_ids) if cpas_ids else sorted(rt.settings.cpas)
    unknown = [c for c in chosen if c not in rt.settings.cpas]
    if unknown:
        raise KeyError(f"unknown CPAS {', '.join(unknown)}; configured: {', '.join(sorted(rt.settings.cpas)) or 'none'}")
    if dossier is not None and len(chosen) != 1:
        raise ValueError("a run for one dossier needs exactly one CPAS (--cpas)")
    run_id = uuid.uuid4().hex
    with rt.session() as s:
        s.add(SyncRun(id=run_id, trigger=trigger, schedule_key=schedule_key, cpas_ids=chosen, dossier=dossier,
                      status="running", counts={}))
        try:
            s.flush()
        except IntegrityError:
            s.rollback()
            return None
        for cpas_id in chosen:
            s.add(SyncRunCpas(run_id=run_id, cpas_id=cpas_id, state="pending"))
        s.commit()
    return run_id


def start_run(rt: Runtime, run_id: str, enq: Enqueuer) -> None:
    """Notify plugins and start one pull per CPAS (for a one-dossier run: the fetch of that record).

    Each CPAS whose federal plugin has a National Register notice feed gets its notices read once
    the run's answers are collected (:mod:`piis_bridge.pipeline.notices`); a one-dossier run reads none.
    """
    with rt.session() as s:
        run = s.get(SyncRun, run_id)
        if run is None or run.status != "running":
            return
        info = RunInfo(run_id=run_id, started_at=run.started_at, cpas_ids=list(run.cpas_ids), trigger=run.trigger)
        dossier, cpas_ids, trigger = run.dossier, list(run.cpas_ids), run.trigger
    if trigger == "statement":
        from piis_bridge.pipeline.statement import start_statement_run

        start_statement_run(rt, run_id, info, enq)
        return
    host = rt.host
    if dossier is None and trigger != "replay":
        readers = [c for c in cpas_ids if implements(host, c, "federal", NOTICES_HOOK)]
        if readers:
            with rt.session() as s:
                s.execute(update(SyncRunCpas).where(SyncRunCpas.run_id == run_id, SyncRunCpas.cpas_id.in_(readers),
                                                    SyncRunCpas.notices_state == "none")
                          .values(notices_state="pending"))
                s.commit()
    host.run_started(info)
    for cpas_id in cpas_ids:
        enq.pull(run_id, cpas_id)


def implements(host: Any, cpas_id: str, role: str, hook: str) -> bool:
    """Whether the plugin serving *role* for the CPAS implements the optional *hook* (introspection only)."""
    plugin = host.settings.cpas[cpas_id].routed_plugins().get(role)
    if plugin is None:
        return False
    return any(impl.plugin_name == plugin and not (impl.wrapper or impl.hookwrapper)
               for impl in getattr(host.pm.hook, hook).get_hookimpls())


def _pull_dossier(rt: Runtime, run_id: str, cpas_id: str, dossier: str, enq: Enqueuer, attempt: int) -> None:
    """The record as the case system holds it now (``piis_case_fetch_record``), processed like a fetched one.

    A plugin without the hook, or a failure, stops the run with a message naming the plugin and the
    record (never read as "no such record"); ``None`` means the case system has no such record.
    Transient failures are retried like a page of the change feed.
    """
    host = rt.host
    remote = f"casesystem:{cpas_id}"
    with rt.session() as s:
        wait = rt.breaker.allow(s, remote)
        if wait:
            _release_pull(s, run_id, cpas_id)
            enq.pull(run_id, cpas_id, countdown=wait, attempt=attempt)
            return
    error: str | None = None
    record: SourceRecord | None = None
    try:
        record = host.case_fetch_record(cpas_id, dossier, run_id=run_id)
    except PluginCallError as exc:
        f = exc.failure
        if f.error_type == "NotImplementedError":
            error = (f"the case-system plugin {f.plugin!r} of {cpas_id} cannot fetch one record "
                     f"(it does not implement piis_case_fetch_record): --dossier is not available for this CPAS")
        else:
            if is_transient(f) and not rt.retry.exhausted(attempt + 1):
                with rt.session() as s:
                    rt.breaker.failure(s, remote)
                    _release_pull(s, run_id, cpas_id)
                delay = rt.retry.delay(attempt + 1)
                _log.warning("case system unavailable, retrying", cpas=cpas_id, run_id=run_id, attempt=attempt + 1,
                             delay=round(delay, 2), error=str(exc))
                enq.pull(run_id, cpas_id, countdown=delay, attempt=attempt + 1)
                return
            error = (f"fetching dossier {dossier} from the case system of {cpas_id} failed: plugin {f.plugin!r} "
                     f"failed in {f.hook}: {f.error_type}: {f.message}")
    if record is None and error is None:
        error = f"the case system of {cpas_id} has no record {dossier} (deleted, or never existed)"
    ids: list[int] = []
    with rt.session() as s:
        rc = s.get(SyncRunCpas, (run_id, cpas_id))
        if error is not None:
            rc.state, rc.error = "failed", redact(error)
        else:
            assert record is not None
            rt.breaker.success(s, remote)
            ids = _insert_ignore(s, WorkItem, [dict(run_id=run_id, cpas_id=cpas_id, record_id=record.record_id,
                                                    version=record.version or "", payload=record.model_dump_json(),
                                                    state="pending", updated_at=utcnow())], returning=WorkItem.id)
            rc.state, rc.fetched, rc.pages = "pulled", len(ids), 1
        s.commit()
    if ids:
        enq.process(run_id, ids)
    maybe_finish(rt, run_id, enq)


# ====================================================================================== pull


def pull(rt: Runtime, run_id: str, cpas_id: str, enq: Enqueuer, attempt: int = 0) -> None:
    """Fetch every changed record page by page; items and cursor are committed together."""
    o = rt.options
    remote = f"casesystem:{cpas_id}"
    with rt.session() as s:
        now = utcnow()
        won = s.execute(update(SyncRunCpas).where(
            SyncRunCpas.run_id == run_id, SyncRunCpas.cpas_id == cpas_id,
            or_(SyncRunCpas.state == "pending",
                and_(SyncRunCpas.state == "pulling", SyncRunCpas.lease_until < now))
        ).values(state="pulling", lease_until=now + timedelta(seconds=o.lease_seconds),
                 attempts=SyncRunCpas.attempts + 1)).rowcount
        s.commit()
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
            wait = rt.breaker.allow(s, remote)
            if wait:
                _release_pull(s, run_id, cpas_id)
                enq.pull(run_id, cpas_id, countdown=wait, attempt=attempt)
                return
            row = s.get(SyncCursor, cpas_id)
            cursor = row.cursor if row else None
        before = len(host.failures)
        page = host.case_fetch_changes(cpas_id, cursor, o.page_size, run_id=run_id)
        if page is None:
            failures = _new_failures(host, before)
            with rt.session() as s:
                if failures and is_transient(failures[-1]) and not rt.retry.exhausted(attempt + 1):
                    rt.breaker.failure(s, remote)
                    _release_pull(s, run_id, cpas_id)
                    delay = rt.retry.delay(attempt + 1)
                    _log.warning("case system unavailable, retrying", cpas=cpas_id, run_id=run_id,
                                 attempt=attempt + 1, delay=round(delay, 2), error=_describe(failures))
                    enq.pull(run_id, cpas_id, countdown=delay, attempt=attempt + 1)
                    return
                rc = s.get(SyncRunCpas, (run_id, cpas_id))
                rc.state, rc.error = "failed", _describe(failures)
                s.commit()
            maybe_finish(rt, run_id, enq)
            return
        attempt = 0
        now = utcnow()
        rows = [dict(run_id=run_id, cpas_id=cpas_id, record_id=r.record_id, version=r.version or "",
                     payload=r.model_dump_json(), state="pending", updated_at=now) for r in page.records]
        with rt.session() as s:
            rt.breaker.success(s, remote)
            ids = _insert_ignore(s, WorkItem, rows, returning=WorkItem.id)
            if page.cursor is not None or cursor is not None:
                row = s.get(SyncCursor, cpas_id)
                if row is None:
                    s.add(SyncCursor(cpas_id=cpas_id, cursor=page.cursor, run_id=run_id, updated_at=now))
                else:
                    row.cursor, row.run_id, row.updated_at = page.cursor, run_id, now
            rc = s.get(SyncRunCpas, (run_id, cpas_id))
            rc.pages += 1
            rc.fetched += len(ids)
            rc.lease_until = now + timedelta(seconds=o.lease_seconds)
            if not page.has_more:
                rc.state = "pulled"
            _record_stat(s, run_id, "pull", len(page.records), time.perf_counter() - t0)
            s.commit()
        ids.sort()
        for start in range(0, len(ids), o.chunk_size):
            enq.process(run_id, ids[start:start + o.chunk_size])
        if not page.has_more:
            break
    with rt.session() as s:
        refresh_statistics(s)
    maybe_finish(rt, run_id, enq)


def _release_pull(s: Session, run_id: str, cpas_id: str) -> None:
    s.execute(update(SyncRunCpas).where(SyncRunCpas.run_id == run_id, SyncRunCpas.cpas_id == cpas_id,
                                        SyncRunCpas.state == "pulling").values(state="pending", lease_until=None))
    s.commit()


# ====================================================================================== evaluate + build


_ALERT_STATUSES = frozenset({"pending", "overdue"})


def _evaluate(contract: Any, on: date, settings: RuleSettings,
              registry: RuleRegistry) -> tuple[int, list[dict[str, Any]]]:
    """Apply the PIIS rules with the CPAS's settings; returns (number of findings, deadline alerts).

    A deadline alert is every computed legal date still to meet (``pending``) or missed
    (``overdue``) on the reference date; its push key is (dossier, rule, label, date), so a
    deadline is pushed once, not every night.
    """
    report = evaluate(contract, on=on, settings=settings, registry=registry)
    alerts = []
    for d in report.dates:
        status = d.status.value
        if status in _ALERT_STATUSES:
            alerts.append({"rule": d.rule_id, "due": d.date, "label": d.label, "status": status,
                           "title": f"{d.label} ({d.rule_id}, {status}, {d.date.isoformat()})"})
    return len(report.findings), alerts


def _transfer_configured(rt: Runtime, cpas_id: str) -> bool:
    cpas = rt.settings.cpas.get(cpas_id)
    return bool(cpas is not None and cpas.transfer)


def _detect_transfers(rt: Runtime, run_id: str, moves: list[tuple[str, str, int, Any]]) -> set[str]:
    """Open a transfer case for each contract whose beneficiary moved (R-TRF-01) and queue the social
    worker's task as a push effect.

    Runs after the item transaction has committed: the transfer service opens its own transactions
    (one SQLite writer at a time).  Safe every night: a case is opened once per move and contract,
    and the task's push key is stable, so a repeated detection inserts nothing.
    """
    from piis_bridge.transfer.detection import detect_transfer
    from piis_bridge.transfer.package import PackageParty

    rows: list[dict[str, Any]] = []
    for cpas_id, record_id, item_id, contract in moves:
        cfg = rt.settings.cpas[cpas_id]
        try:
            found = detect_transfer(rt.sessions, cpas_id=cpas_id, contract=contract, record_id=record_id,
                                    party=PackageParty(name=cfg.name, ins_code=cfg.ins_code, bce=cfg.bce))
        except Exception as exc:  # noqa: BLE001 - one record's detection must not stop the run
            with rt.session() as s:
                _quarantine(s, run_id=run_id, cpas_id=cpas_id, record_id=record_id, stage="transfer",
                            reason=f"{type(exc).__name__}: {exc}", item_id=item_id)
                s.commit()
            continue
        if found is None or found.task is None:
            continue
        rows.append(_push_row(found.task, run_id=run_id, cpas_id=cpas_id, item_id=item_id))
    if not rows:
        return set()
    with rt.session() as s:
        _insert_ignore(s, Effect, rows)
        s.commit()
    return {row["cpas_id"] for row in rows}


def process_items(rt: Runtime, run_id: str, item_ids: list[int], enq: Enqueuer, attempt: int = 0) -> None:
    """Map, evaluate and build the forms of a chunk of items; forms become keyed effects."""
    t0 = time.perf_counter()
    with rt.session() as s:
        now = utcnow()
        owner, _ = _claim(s, WorkItem, and_(WorkItem.id.in_(item_ids), or_(
            WorkItem.state == "pending", and_(WorkItem.state == "leased", WorkItem.lease_until < now))),
            rt.options.lease_seconds)
        items = list(s.scalars(select(WorkItem).where(WorkItem.lease_owner == owner, WorkItem.state == "leased")
                               .order_by(WorkItem.id)))
    if not items:
        return
    host = rt.host
    today = datetime.now(timezone.utc).date()
    retry_ids: list[int] = []
    touched: set[str] = set()
    effect_rows: list[dict[str, Any]] = []
    moves: list[tuple[str, str, int, Any]] = []  # (cpas, record, item, contract) to check for a move (R-TRF)
    with rt.session() as s:
        items = list(s.scalars(select(WorkItem).where(WorkItem.lease_owner == owner, WorkItem.state == "leased")
                               .order_by(WorkItem.id)))
        for item in items:
            record = SourceRecord.model_validate_json(item.payload)
            before = len(host.failures)
            outcome = host.case_map_record(item.cpas_id, record, run_id=run_id)
            failures = _new_failures(host, before)
            if failures and is_transient(failures[-1]):
                retry_ids.append(item.id)
                item.state, item.lease_owner, item.lease_until = "pending", None, None
                continue
            if outcome.skip_reason is not None:
                item.state = "skipped"
                continue
            if not outcome.ok:
                item.state = "quarantined"
                _quarantine(s, run_id=run_id, cpas_id=item.cpas_id, record_id=item.record_id, stage="map",
                            reason="; ".join(f"{p.field or '(record)'}: {p.reason}" for p in outcome.problems),
                            problems=outcome.problems, item_id=item.id)
                continue
            contract = outcome.contract
            item.person_key = rt.person_key(contract.beneficiary.niss)
            try:
                settings, registry = rt.rules(item.cpas_id)
                findings, alerts = _evaluate(contract, today, settings, registry)
                event = event_for_contract(contract)
            except Exception as exc:  # noqa: BLE001 - a rules bug on one record must not stop the run
                item.state = "quarantined"
                _quarantine(s, run_id=run_id, cpas_id=item.cpas_id, record_id=item.record_id, stage="evaluate",
                            reason=f"{type(exc).__name__}: {exc}", item_id=item.id)
                continue
            before = len(host.failures)
            forms = host.federal_build_forms(item.cpas_id, contract, event, run_id=run_id)
            failures = _new_failures(host, before)
            if failures:
                item.state = "quarantined"
                _quarantine(s, run_id=run_id, cpas_id=item.cpas_id, record_id=item.record_id, stage="build",
                            reason=_describe(failures), item_id=item.id)
                continue
            rows = []
            try:
                for form in forms:
                    ref, form = form_key(item.cpas_id, item.record_id, form)
                    rows.append(dict(key=f"form:{item.cpas_id}:{ref}", kind="form", run_id=run_id, item_id=item.id,
                                     cpas_id=item.cpas_id, record_id=item.record_id, state="pending",
                                     payload_type=_type_path(form), payload=_dump(form), created_at=utcnow(),
                                     updated_at=utcnow()))
            except (TypeError, ValueError) as exc:
                item.state = "quarantined"
                _quarantine(s, run_id=run_id, cpas_id=item.cpas_id, record_id=item.record_id, stage="build",
                            reason=f"{type(exc).__name__}: {exc}", item_id=item.id)
                continue
            for alert in alerts:
                label = hashlib.sha1(alert["label"].encode()).hexdigest()[:8]
                push = PushItem(key=f"alert:{item.record_id}:{alert['rule']}:{label}:{alert['due']}"[:200],
                                record_id=item.record_id, kind="deadline_alert", title=alert["title"][:200],
                                due=alert["due"], data={"rule": alert["rule"], "status": alert["status"]})
                rows.append(_push_row(push, run_id=run_id, cpas_id=item.cpas_id, item_id=item.id))
            effect_rows.extend(rows)
            item.forms, item.findings, item.state = len(forms), findings, "done"
            touched.add(item.cpas_id)
            if _transfer_configured(rt, item.cpas_id):
                moves.append((item.cpas_id, item.record_id, item.id, contract))
        _insert_ignore(s, Effect, effect_rows)
        _record_stat(s, run_id, "evaluate", len(items) - len(retry_ids), time.perf_counter() - t0)
        s.commit()
    if moves:
        touched.update(_detect_transfers(rt, run_id, moves))
    for cpas_id in sorted(touched):
        enq.submit(run_id, cpas_id)
        enq.push(run_id, cpas_id)
    if retry_ids:
        enq.process(run_id, retry_ids, countdown=rt.retry.delay(attempt + 1), attempt=attempt + 1)
    maybe_finish(rt, run_id, enq)


# ====================================================================================== submit


def refresh_statistics(s: Session) -> None:
    """PostgreSQL: refresh the planner statistics of the outbox tables.

    Why: the tables grow from empty to 100,000 rows within minutes, long before autovacuum analyses
    them; with the empty-table estimates PostgreSQL plans the per-dossier order check as a nested loop
    over every open form (seconds per claim instead of milliseconds, measured).
    """
    if s.get_bind().dialect.name == "postgresql":
        s.commit()
        s.execute(text("ANALYZE sync_item, sync_effect"))
        s.commit()


def _claim_effects(rt: Runtime, s: Session, kind: str, cpas_id: str, limit: int, *, one_per_dossier: bool
                   ) -> list[Effect]:
    now = utcnow()
    cond = [Effect.kind == kind, Effect.cpas_id == cpas_id, Effect.state == "pending",
            or_(Effect.next_attempt_at.is_(None), Effect.next_attempt_at <= now)]
    if one_per_dossier:
        # Forms of one dossier go out in the order they were built, one at a time: the federal
        # service refuses a form while an earlier one of the same dossier is pending (B00008).
        earlier = aliased(Effect)
        cond.append(~exists().where(earlier.kind == kind, earlier.cpas_id == Effect.cpas_id,
                                    earlier.record_id == Effect.record_id, earlier.id < Effect.id,
                                    earlier.state.in_(OPEN_EFFECT_STATES)))
    t0 = time.perf_counter()
    ids = list(s.scalars(select(Effect.id).where(*cond).order_by(Effect.id).limit(limit)))
    if time.perf_counter() - t0 > 0.5:
        refresh_statistics(s)
    if not ids:
        return []
    owner, _ = _claim(s, Effect, and_(Effect.id.in_(ids), Effect.state == "pending"), rt.options.lease_seconds)
    return list(s.scalars(select(Effect).where(Effect.lease_owner == owner, Effect.state == "sending")
                          .order_by(Effect.id)))


def _release_effects(s: Session, effects: Sequence[Effect], delay: float, error: str) -> None:
    at = utcnow() + timedelta(seconds=delay)
    s.execute(update(Effect).where(Effect.id.in_([e.id for e in effects]), Effect.state == "sending").values(
        state="pending", lease_owner=None, lease_until=None, next_attempt_at=at, last_error=redact(error)[:2000]))
    s.commit()


def _outcome_fields(outcome: Any) -> tuple[str, str | None, str | None, str]:
    """(effect state, answer, ticket, stored result) of one ``SubmissionOutcome``."""
    answer = None
    for name in ("evaluation", "status", "result", "answer"):
        value = getattr(outcome, name, None)
        if value is not None and not isinstance(value, (dict, list)):
            answer = str(getattr(value, "value", value)).upper()
            break
    ticket = getattr(outcome, "ticket", None)
    stored = _dump(outcome) if hasattr(outcome, "model_dump_json") or dataclasses.is_dataclass(outcome) else str(outcome)
    pending = answer is None or answer in _PENDING_ANSWERS
    return ("submitted" if pending else "answered"), answer, (str(ticket) if ticket else None), stored


def _answer_push(effect: Effect, answer: str) -> dict[str, Any]:
    ref = effect.key.split(":", 2)[-1]
    form_type = effect.payload_type.rsplit(":", 1)[-1]
    push = PushItem(key=f"fed:{ref}:{answer}"[:200], record_id=effect.record_id, kind="federal_answer",
                    title=f"Federal answer: {answer}", body=f"{form_type} {ref}",
                    data={"client_reference": ref, "answer": answer})
    return _push_row(push, run_id=effect.run_id, cpas_id=effect.cpas_id, item_id=effect.item_id)


def _push_row(push: PushItem, *, run_id: str, cpas_id: str, item_id: int | None) -> dict[str, Any]:
    """The outbox row of one push-back, keyed on the push item's own idempotency key."""
    now = utcnow()
    return dict(key=f"push:{cpas_id}:{push.key}"[:200], kind="push", run_id=run_id, item_id=item_id,
                cpas_id=cpas_id, record_id=push.record_id, state="pending", payload_type=_type_path(push),
                payload=push.model_dump_json(), created_at=now, updated_at=now)


def _apply_outcomes(s: Session, effects: Sequence[Effect], outcomes: Sequence[Any]) -> tuple[int, int]:
    """Store one outcome per effect; answered forms get their federal-answer push item."""
    by_ref = {}
    for outcome in outcomes:
        ref = getattr(outcome, "client_reference", None)
        if ref:
            by_ref[str(ref)] = outcome
    pushes, waiting = [], 0
    now = utcnow()
    for effect, positional in zip(effects, outcomes):
        outcome = by_ref.get(effect.key.split(":", 2)[-1], positional)
        state, answer, ticket, stored = _outcome_fields(outcome)
        effect = s.merge(effect, load=False) if effect not in s else effect
        effect.state, effect.answer, effect.ticket, effect.result = state, answer, ticket or effect.ticket, stored
        remote_ref = getattr(outcome, "client_reference", None)
        if remote_ref and str(remote_ref) != effect.key.split(":", 2)[-1]:
            effect.remote_ref = str(remote_ref)
        effect.lease_owner, effect.lease_until, effect.updated_at, effect.last_error = None, None, now, None
        if state == "answered" and answer:
            pushes.append(_answer_push(effect, answer))
        else:
            waiting += 1
    _insert_ignore(s, Effect, pushes)
    return len(pushes), waiting


def submit_forms(rt: Runtime, run_id: str, cpas_id: str, enq: Enqueuer, attempt: int = 0) -> None:
    """Submit pending forms in batches; transient failures back off, permanent ones are quarantined."""
    remote = f"federal:{cpas_id}"
    host = rt.host
    any_answered = any_waiting = False
    while True:
        t0 = time.perf_counter()
        with rt.session() as s:
            wait = rt.breaker.allow(s, remote)
            if wait:
                enq.submit(run_id, cpas_id, countdown=wait, attempt=attempt)
                break
            effects = _claim_effects(rt, s, "form", cpas_id, rt.options.submit_batch, one_per_dossier=True)
            if not effects:
                break
            try:
                forms = [_load(e.payload_type, e.payload) for e in effects]
            except Exception as exc:  # noqa: BLE001 - a form class that moved or changed shape
                for e in effects:
                    e.state = "quarantined"
                    _quarantine(s, run_id=e.run_id, cpas_id=cpas_id, record_id=e.record_id, stage="submit",
                                reason=f"stored form cannot be loaded: {type(exc).__name__}: {exc}", effect_id=e.id)
                s.commit()
                continue
            before = len(host.failures)
            outcomes = host.federal_submit(cpas_id, forms, run_id=run_id)
            failures = _new_failures(host, before)
            if outcomes is not None and isinstance(outcomes, list) and len(outcomes) == len(forms):
                rt.breaker.success(s, remote)
                answered, waiting = _apply_outcomes(s, effects, outcomes)
                any_answered |= bool(answered)
                any_waiting |= bool(waiting)
                _record_stat(s, run_id, "submit", len(effects), time.perf_counter() - t0)
                s.commit()
                attempt = 0
                continue
            error = _describe(failures) if failures else (
                f"federal_submit returned {type(outcomes).__name__} for {len(forms)} forms")
            if failures and is_transient(failures[-1]):
                rt.breaker.failure(s, remote)
                exhausted = [e for e in effects if rt.retry.exhausted(e.attempts)]
                for e in exhausted:
                    e.state = "quarantined"
                    _quarantine(s, run_id=e.run_id, cpas_id=cpas_id, record_id=e.record_id, stage="submit",
                                reason=f"gave up after {e.attempts} attempts: {error}", effect_id=e.id)
                s.commit()
                rest = [e for e in effects if e not in exhausted]
                delay = rt.retry.delay(max([e.attempts for e in rest] or [1]))
                if rest:
                    _release_effects(s, rest, delay, error)
                _log.warning("federal service unavailable, retrying", cpas=cpas_id, run_id=run_id,
                             forms=len(rest), delay=round(delay, 2), error=error)
                enq.submit(run_id, cpas_id, countdown=delay, attempt=attempt + 1)
                break
            # Permanent: find the culprit(s) by submitting one form at a time.
            if len(effects) > 1:
                _release_effects(s, effects[1:], 0, error)
                effects = effects[:1]
                single = host.federal_submit(cpas_id, [forms[0]], run_id=run_id)
                if single is not None and len(single) == 1:
                    answered, waiting = _apply_outcomes(s, effects, single)
                    any_answered |= bool(answered)
                    any_waiting |= bool(waiting)
                    s.commit()
                    continue
                failures = _new_failures(host, before)
                error = _describe(failures)
                if failures and is_transient(failures[-1]):
                    _release_effects(s, effects, rt.retry.delay(1), error)
                    continue
            for e in effects:
                e.state = "quarantined"
                _quarantine(s, run_id=e.run_id, cpas_id=cpas_id, record_id=e.record_id, stage="submit",
                            reason=error, effect_id=e.id)
            s.commit()
    if any_answered:
        enq.push(run_id, cpas_id)
    if any_waiting:
        enq.collect(run_id, cpas_id, countdown=rt.options.collect_delay)
    maybe_finish(rt, run_id, enq)


# ====================================================================================== collect


def collect_answers(rt: Runtime, run_id: str, cpas_id: str, enq: Enqueuer, attempt: int = 0) -> None:
    """Ask the federal service for the answers of forms submitted asynchronously (batch tickets)."""
    t0 = time.perf_counter()
    host = rt.host
    with rt.session() as s:
        waiting = list(s.scalars(select(Effect).where(Effect.kind == "form", Effect.cpas_id == cpas_id,
                                                      Effect.state == "submitted").order_by(Effect.id).limit(1000)))
        if not waiting:
            return
        unticketed = [e for e in waiting if not e.ticket]
        if unticketed:
            # Accepted for later without a ticket (e.g. held back behind an earlier form of the same
            # dossier): submit again with the same key; the remote's ledger deduplicates.
            s.execute(update(Effect).where(Effect.id.in_([e.id for e in unticketed])).values(
                state="pending", next_attempt_at=utcnow() + timedelta(seconds=rt.options.collect_delay)))
            s.commit()
            enq.submit(run_id, cpas_id, countdown=rt.options.collect_delay)
            waiting = [e for e in waiting if e.ticket]
            if not waiting:
                return
        tickets = sorted({e.ticket for e in waiting if e.ticket})
        before = len(host.failures)
        outcomes = host.federal_fetch_results(cpas_id, tickets, run_id=run_id) if tickets else []
        failures = _new_failures(host, before)
        if outcomes is None:
            delay = rt.retry.delay(attempt + 1) if failures and is_transient(failures[-1]) else rt.options.collect_delay * 5
            enq.collect(run_id, cpas_id, countdown=delay, attempt=attempt + 1)
            return
        by_ref = {str(getattr(o, "client_reference", "")): o for o in outcomes}
        pushes = []
        for e in waiting:
            outcome = by_ref.get(e.remote_ref or e.key.split(":", 2)[-1])
            if outcome is None:
                continue
            state, answer, ticket, stored = _outcome_fields(outcome)
            if state == "answered" and answer:
                # Conditional: two collect tasks may look at the same forms; one records the answer.
                won = s.execute(update(Effect).where(Effect.id == e.id, Effect.state == "submitted").values(
                    state=state, answer=answer, result=stored, updated_at=utcnow())
                    .execution_options(synchronize_session=False)).rowcount
                if won:
                    pushes.append(_answer_push(e, answer))
        _insert_ignore(s, Effect, pushes)
        _record_stat(s, run_id, "collect", len(pushes), time.perf_counter() - t0)
        s.commit()
        left = len(waiting) - len(pushes)
    if pushes:
        enq.push(run_id, cpas_id)
    if left:
        enq.collect(run_id, cpas_id, countdown=rt.options.collect_delay, attempt=attempt)
    maybe_finish(rt, run_id, enq)


# ====================================================================================== push back


def push_back(rt: Runtime, run_id: str, cpas_id: str, enq: Enqueuer, attempt: int = 0) -> None:
    """Push federal answers and deadline alerts to the case system, idempotent on the item key."""
    remote = f"casesystem:{cpas_id}"
    host = rt.host
    while True:
        t0 = time.perf_counter()
        with rt.session() as s:
            wait = rt.breaker.allow(s, remote)
            if wait:
                enq.push(run_id, cpas_id, countdown=wait, attempt=attempt)
                break
            effects = _claim_effects(rt, s, "push", cpas_id, rt.options.push_batch, one_per_dossier=False)
            if not effects:
                break
            items = [PushItem.model_validate_json(e.payload) for e in effects]
            before = len(host.failures)
            results: list[PushResult] = host.case_push(cpas_id, items, run_id=run_id)
            failures = _new_failures(host, before)
            if failures and all(r.status == "failed" for r in results):
                error = _describe(failures)
                if is_transient(failures[-1]):
                    rt.breaker.failure(s, remote)
                    delay = rt.retry.delay(attempt + 1)
                    _release_effects(s, effects, delay, error)
                    enq.push(run_id, cpas_id, countdown=delay, attempt=attempt + 1)
                    break
            else:
                rt.breaker.success(s, remote)
            retry_later = []
            for e, r in zip(effects, results):
                if r.status in ("created", "duplicate"):
                    e.state, e.answer, e.ticket = "done", r.status, r.remote_id
                    e.lease_owner = e.lease_until = None
                elif not failures and not rt.retry.exhausted(e.attempts):
                    retry_later.append(e)
                else:
                    e.state = "quarantined"
                    _quarantine(s, run_id=e.run_id, cpas_id=cpas_id, record_id=e.record_id, stage="push",
                                reason=r.detail or _describe(failures), effect_id=e.id)
            _record_stat(s, run_id, "push", len(effects) - len(retry_later), time.perf_counter() - t0)
            s.commit()
            if retry_later:
                delay = rt.retry.delay(max(e.attempts for e in retry_later))
                _release_effects(s, retry_later, delay, "; ".join(r.detail for r in results if r.status == "failed"))
                enq.push(run_id, cpas_id, countdown=delay, attempt=attempt + 1)
    maybe_finish(rt, run_id, enq)


# ====================================================================================== report


def run_counts(s: Session, run_id: str) -> dict[str, Any]:
    items = dict(s.execute(select(WorkItem.state, func.count()).where(WorkItem.run_id == run_id)
                           .group_by(WorkItem.state)).all())
    forms = dict(s.execute(select(Effect.state, func.count()).where(Effect.run_id == run_id, Effect.kind == "form")
                           .group_by(Effect.state)).all())
    answers = dict(s.execute(select(Effect.answer, func.count()).where(
        Effect.run_id == run_id, Effect.kind == "form", Effect.state == "answered").group_by(Effect.answer)).all())
    pushes = dict(s.execute(select(Effect.state, func.count()).where(Effect.run_id == run_id, Effect.kind == "push")
                            .group_by(Effect.state)).all())
    quarantine = dict(s.execute(select(QuarantineEntry.stage, func.count()).where(QuarantineEntry.run_id == run_id)
                                .group_by(QuarantineEntry.stage)).all())
    pulls = list(s.scalars(select(SyncRunCpas).where(SyncRunCpas.run_id == run_id)))
    notices = dict(s.execute(select(Notice.state, func.count()).where(Notice.run_id == run_id)
                             .group_by(Notice.state)).all())
    return {
        "fetched": sum(items.values()),
        "processed": items.get("done", 0),
        "skipped": items.get("skipped", 0),
        "items_quarantined": items.get("quarantined", 0),
        "items_open": sum(items.get(k, 0) for k in OPEN_ITEM_STATES),
        "forms": sum(forms.values()),
        "forms_answered": forms.get("answered", 0),
        "forms_waiting": forms.get("submitted", 0),
        "forms_open": forms.get("pending", 0) + forms.get("sending", 0),
        "forms_quarantined": forms.get("quarantined", 0),
        "answers": {str(k): v for k, v in answers.items()},
        "pushed": pushes.get("done", 0),
        "push_open": pushes.get("pending", 0) + pushes.get("sending", 0),
        "push_quarantined": pushes.get("quarantined", 0),
        "quarantined": sum(quarantine.values()),
        "quarantine_by_stage": quarantine,
        "pages": sum(p.pages for p in pulls),
        "pulls": {p.cpas_id: p.state for p in pulls},
        "pull_errors": {p.cpas_id: p.error for p in pulls if p.error},
        # National Register notices handled by this run (piis_bridge.pipeline.notices)
        "notices": sum(notices.values()),
        "notices_done": notices.get("done", 0),
        "notices_unmatched": notices.get("unmatched", 0),
        "notices_quarantined": notices.get("quarantined", 0),
        "notice_errors": {p.cpas_id: p.notices_error for p in pulls if p.notices_error},
        **_statement_counts(s, run_id),
    }


def _statement_counts(s: Session, run_id: str) -> dict[str, Any]:
    """A statement run's figures: per CPAS the month, state, lines, total and number of differences."""
    rows = list(s.scalars(select(StatementFetch).where(StatementFetch.run_id == run_id)))
    if not rows:
        return {}
    return {
        "statements": {r.cpas_id: {"month": r.month.isoformat()[:7], "state": r.state, "lines": r.lines,
                                   "total_cents": r.total_cents, "differences": len(r.differences or []),
                                   "error": r.error} for r in rows},
        "statement_differences": sum(len(r.differences or []) for r in rows),
        "statements_reconciled": sum(r.state == "reconciled" for r in rows),
    }


def stage_stats(s: Session, run_id: str) -> dict[str, dict[str, Any]]:
    out = {}
    for st in s.scalars(select(StageStat).where(StageStat.run_id == run_id).order_by(StageStat.first_at)):
        span = (st.last_at - st.first_at).total_seconds() if st.first_at and st.last_at else 0.0
        out[st.stage] = {"units": st.units, "tasks": st.tasks, "busy_seconds": round(st.busy_seconds, 3),
                         "span_seconds": round(span, 3),
                         "units_per_busy_second": round(st.units / st.busy_seconds, 1) if st.busy_seconds else None}
    return out


def maybe_finish(rt: Runtime, run_id: str, enq: Enqueuer | None = None) -> bool:
    """Close the run once nothing is left to do; exactly one caller wins and notifies the plugins.

    Once every record is processed and every form answered, the National Register notices of
    each CPAS that reads them are fetched (one task per CPAS, sent by whichever caller with an
    enqueuer sees it first; the sweeper covers a lost message); the run closes after them.
    """
    with rt.session() as s:
        run = s.get(SyncRun, run_id)
        if run is None or run.status != "running":
            return False
        if s.scalar(select(func.count()).select_from(SyncRunCpas).where(
                SyncRunCpas.run_id == run_id, SyncRunCpas.state.in_(("pending", "pulling")))):
            return False
        if s.scalar(select(func.count()).select_from(WorkItem).where(
                WorkItem.run_id == run_id, WorkItem.state.in_(OPEN_ITEM_STATES))):
            return False
        open_effects = dict(s.execute(select(Effect.kind, func.count()).where(
            Effect.run_id == run_id, Effect.state.in_(OPEN_EFFECT_STATES)).group_by(Effect.kind)).all())
        notices_open = list(s.execute(select(SyncRunCpas.cpas_id, SyncRunCpas.notices_state).where(
            SyncRunCpas.run_id == run_id, SyncRunCpas.notices_state.in_(OPEN_NOTICE_STATES))).all())
        if not open_effects.get("form") and enq is not None:
            _queue_notices(rt, s, run_id, [c for c, state in notices_open if state == "pending"], enq)
        if open_effects or notices_open:
            return False
        if run.trigger == "statement" and s.scalar(select(func.count()).select_from(StatementFetch).where(
                StatementFetch.run_id == run_id, StatementFetch.state.in_(("waiting", "fetching")))):
            return False
        counts = run_counts(s, run_id)
        stats = stage_stats(s, run_id)
        finished = utcnow()
        problems = [RecordProblem(record_id=q.record_id, field=(q.problems[0]["field"] if q.problems else ""),
                                  reason=f"[{q.stage}] {q.reason}"[:1000])
                    for q in s.scalars(select(QuarantineEntry).where(QuarantineEntry.run_id == run_id)
                                       .order_by(QuarantineEntry.id).limit(1000))]
        failures = [PluginFailure(plugin="?", hook="piis_case_fetch_changes", cpas_id=c, error_type="PullFailed",
                                  message=e) for c, e in counts["pull_errors"].items()]
        failures += [PluginFailure(plugin="?", hook=NOTICES_HOOK, cpas_id=c, error_type="NoticesFailed", message=e)
                     for c, e in counts["notice_errors"].items()]
        status = "failed" if counts["pull_errors"] and counts["fetched"] == 0 else "finished"
        statements = counts.get("statements") or {}
        if statements and not any(st["state"] == "reconciled" for st in statements.values()):
            status = "failed"  # not one statement could be fetched and reconciled
        won = s.execute(update(SyncRun).where(SyncRun.id == run_id, SyncRun.status == "running").values(
            status=status, finished_at=finished, counts=counts,
            report={"stages": stats, "elapsed_seconds": round((finished - run.started_at).total_seconds(), 3)})
        ).rowcount
        s.commit()
        started, cpas_ids = run.started_at, list(run.cpas_ids)
    if won:
        report = RunReport(run_id=run_id, started_at=started, finished_at=finished, cpas_ids=cpas_ids,
                           counts={k: v for k, v in counts.items() if isinstance(v, int)}, problems=problems,
                           plugin_failures=failures)
        rt.host.run_finished(report)
        _log.info("run finished", run_id=run_id, status=status, **{k: v for k, v in counts.items() if isinstance(v, int)})
    return bool(won)


def _queue_notices(rt: Runtime, s: Session, run_id: str, cpas_ids: Sequence[str], enq: Enqueuer) -> None:
    """Send the notice task of each CPAS whose notices are still to read (one sender wins each)."""
    for cpas_id in cpas_ids:
        won = s.execute(update(SyncRunCpas).where(
            SyncRunCpas.run_id == run_id, SyncRunCpas.cpas_id == cpas_id, SyncRunCpas.notices_state == "pending")
            .values(notices_state="queued",
                    notices_lease_until=utcnow() + timedelta(seconds=rt.options.requeue_after))).rowcount
        s.commit()
        if won:
            enq.notices(run_id, cpas_id)


# ====================================================================================== replay


def replay_quarantine(rt: Runtime, entry_ids: Sequence[int] | None, enq: Enqueuer) -> str | None:
    """Put quarantined records and effects back into a new run (trigger 'replay')."""
    with rt.session() as s:
        # A notice the federal feed itself could not give ("notice_feed") has nothing stored to handle
        # again: it stays open until the federal side corrects it (docs/pipeline.md).
        cond = [QuarantineEntry.status == "open", QuarantineEntry.stage != "notice_feed"]
        if entry_ids is not None:
            cond.append(QuarantineEntry.id.in_(list(entry_ids)))
        entries = list(s.scalars(select(QuarantineEntry).where(*cond).order_by(QuarantineEntry.id)))
    if not entries:
        return None
    cpas_ids = sorted({e.cpas_id for e in entries if e.cpas_id in rt.settings.cpas})
    run_id = create_run(rt, cpas_ids=cpas_ids or None, trigger="replay")
    assert run_id is not None
    new_items: list[int] = []
    effect_cpas: set[tuple[str, str]] = set()
    with rt.session() as s:
        s.execute(update(SyncRunCpas).where(SyncRunCpas.run_id == run_id).values(state="pulled"))
        for entry in entries:
            entry = s.merge(entry)
            if entry.effect_id is not None:
                s.execute(update(Effect).where(Effect.id == entry.effect_id, Effect.state == "quarantined").values(
                    state="pending", run_id=run_id, attempts=0, next_attempt_at=None, lease_owner=None,
                    lease_until=None))
                effect = s.get(Effect, entry.effect_id)
                effect_cpas.add((effect.kind, effect.cpas_id))
            elif entry.item_id is not None:
                old = s.get(WorkItem, entry.item_id)
                ids = _insert_ignore(s, WorkItem, [dict(run_id=run_id, cpas_id=old.cpas_id, record_id=old.record_id,
                                                        version=old.version, payload=old.payload, state="pending",
                                                        updated_at=utcnow())], returning=WorkItem.id)
                new_items.extend(ids)
            elif entry.stage == "notice":
                # Handled again from its stored row by this run's notice stage (no new page is read).
                s.execute(update(Notice).where(Notice.cpas_id == entry.cpas_id, Notice.reference == entry.record_id,
                                               Notice.state == "quarantined").values(state="pending", run_id=run_id))
                s.execute(update(SyncRunCpas).where(SyncRunCpas.run_id == run_id, SyncRunCpas.cpas_id == entry.cpas_id)
                          .values(notices_state="pending"))
            entry.status, entry.replay_run_id = "replayed", run_id
        s.commit()
    with rt.session() as s:
        info = s.get(SyncRun, run_id)
        rt.host.run_started(RunInfo(run_id=run_id, started_at=info.started_at, cpas_ids=list(info.cpas_ids),
                                    trigger="replay"))
    for start in range(0, len(new_items), rt.options.chunk_size):
        enq.process(run_id, new_items[start:start + rt.options.chunk_size])
    for kind, cpas_id in sorted(effect_cpas):
        (enq.submit if kind == "form" else enq.push)(run_id, cpas_id)
    maybe_finish(rt, run_id, enq)
    return run_id
