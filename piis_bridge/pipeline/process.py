"""Stage 2, process: map, hash the person, judge (rules), build the forms of a chunk of items."""

from __future__ import annotations

import hashlib
import re
import time
from datetime import date, datetime
from typing import Any

import orjson
from sqlalchemy import bindparam, or_, select, update

from piis_bridge.forms import event_for_contract
from piis_bridge.hooks.types import PushItem, RecordProblem, SourceRecord
from piis_bridge.i18n import push as push_text
from piis_bridge.i18n.ops import poison_text, problems_reason
from piis_bridge.i18n.text import Text
from piis_bridge.logging import redact
from piis_bridge.observability import tracing
from piis_bridge.pipeline.models import (
    Effect,
    WorkItem,
    utcnow,
)
from piis_bridge.pipeline.outbox import (
    ITEM,
    Enqueuer,
    any_of,
    call,
    claim_returning,
    dump_payload,
    form_key,
    insert_ignore,
    push_row,
    quarantine,
    record_stat,
    slices,
    type_path,
    update_rows,
)
from piis_bridge.pipeline.quarantine import resolve_processed
from piis_bridge.pipeline.runs import maybe_finish
from piis_bridge.pipeline.runtime import Runtime
from piis_bridge.pipeline.states import ITEM_TRANSITIONS, check_state
from piis_bridge.rules import RuleRegistry, RuleSettings, evaluate

_ALERT_STATUSES = frozenset({"pending", "overdue"})
UNASSIGNED = (
    ""  # ``sync_effect.worker_id`` of a deadline whose contract names no social worker in charge
)


def worker_in_charge(contract: Any, on: date) -> tuple[str, str] | None:
    """The social worker in charge of a contract's deadlines on *on*: ``(worker_id, name)``, or None.

    Why this choice: the law names one worker in charge and substitutes who stand in during an
    absence only [002 L212-214] (R-CNT-11), so substitutes, second-line referents and job coaches
    are never "in charge" of a deadline.  Among the ``IN_CHARGE`` assignments, the ones still on the
    file on the reference day (``min(on, contract end)``, as R-CNT-12 judges it: an ended contract
    keeps the worker it ended with) count; of those, the latest to have started (the last hand-over
    wins; an assignment without a start date is the oldest), then the first listed.  When none has
    started yet (a contract that starts next month), the first to start takes the upcoming
    deadlines.  A worker who left with no successor leaves the deadline unassigned, which the
    agenda shows as such.  Staff only: the beneficiary's identity is never returned.
    """
    from piis_bridge.model.enums import WorkerRole

    end = getattr(contract, "end_date", None)
    limit = min(on, end) if end is not None else on
    present = [
        (i, w)
        for i, w in enumerate(getattr(contract, "social_workers", None) or [])
        if w.role is WorkerRole.IN_CHARGE and (w.end_date is None or w.end_date >= limit)
    ]
    started = [(i, w) for i, w in present if w.start_date is None or w.start_date <= limit]
    if started:
        _, w = max(started, key=lambda iw: (iw[1].start_date or date.min, -iw[0]))
    elif present:
        _, w = min(present, key=lambda iw: (iw[1].start_date or date.min, iw[0]))
    else:
        return None
    return str(w.worker_id), str(w.name)


def _evaluate(
    contract: Any, on: date, settings: RuleSettings, registry: RuleRegistry
) -> tuple[int, list[dict[str, Any]]]:
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
            title, _, message = push_text.deadline_alert(d.label, d.rule_id, status, d.date)
            alerts.append(
                {
                    "rule": d.rule_id,
                    "due": d.date,
                    "label": d.label,
                    "status": status,
                    "title": title,
                    "message": message,
                }
            )
    return len(report.findings), alerts


def _store_effects(s: Any, rows: list[dict[str, Any]]) -> None:
    """Insert the chunk's forms and alerts (a key already stored keeps its row), then move the alerts
    already stored to their worker in charge where it changed.

    A deadline already stored (its key is stable, so the insert kept the old row) follows a change of
    the worker in charge: only the plain ``worker_id`` column moves; the pushed payload is what was
    pushed and stays as it was.  Why not one keyed UPDATE per alert, as before: every night re-keyed
    every deadline of every processed record, nearly all of them no-ops; now the rows the insert did
    not create are read in one statement and only those whose worker changed are written.
    """
    inserted = set(insert_ignore(s, Effect, rows, returning=Effect.key))
    wanted = {  # per key, the last row's worker (as the keyed UPDATEs in row order left it)
        r["key"]: r["worker_id"]
        for r in rows
        if r["key"] not in inserted and r.get("worker_id") is not None
    }
    if not wanted:
        return
    stored: dict[str, str | None] = {}
    for keys in slices(list(wanted)):
        stored.update(
            s.execute(select(Effect.key, Effect.worker_id).where(Effect.key.in_(keys))).all()
        )
    moved = [{"k": k, "w": w} for k, w in wanted.items() if k in stored and stored[k] != w]
    if not moved:
        return
    s.connection().execute(
        update(Effect)
        .where(
            Effect.key == bindparam("k"),
            or_(Effect.worker_id.is_(None), Effect.worker_id != bindparam("w")),
        )
        .values(worker_id=bindparam("w")),
        moved,
    )


def transfer_configured(rt: Runtime, cpas_id: str) -> bool:
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
            found = detect_transfer(
                rt.sessions,
                cpas_id=cpas_id,
                contract=contract,
                record_id=record_id,
                party=PackageParty(name=cfg.name, ins_code=cfg.ins_code, bce=cfg.bce),
            )
        except Exception as exc:  # noqa: BLE001 - one record's detection must not stop the run
            with rt.session() as s:
                quarantine(
                    s,
                    run_id=run_id,
                    cpas_id=cpas_id,
                    record_id=record_id,
                    stage="transfer",
                    reason=f"{type(exc).__name__}: {exc}",
                    item_id=item_id,
                )
                s.commit()
            continue
        if found is None or found.task is None:
            continue
        rows.append(push_row(found.task, run_id=run_id, cpas_id=cpas_id, item_id=item_id))
    if not rows:
        return set()
    with rt.session() as s:
        insert_ignore(s, Effect, rows)
        s.commit()
    return {row["cpas_id"] for row in rows}


def process_items(
    rt: Runtime, run_id: str, item_ids: list[int], enq: Enqueuer, attempt: int = 0
) -> None:
    """Map, hash, evaluate and build the forms of a chunk of items; forms become keyed effects.

    Each record is on its own: whatever one record raises (mapping, the person hash of an odd NISS,
    the rules, the form build) quarantines that record with the stage and reason, and the rest of the
    chunk goes on.  A record given back by a transient failure is retried at most
    ``retry_max_attempts`` times.  A chunk claimed again after its worker died (``attempts`` > 1) is
    processed one record per transaction, so that a record that kills its worker (a poison record)
    is the only one left to retry, and it is quarantined with its last error once its attempts are spent.
    """
    t0 = time.perf_counter()
    with rt.session() as s:
        # The claim returns the claimed rows themselves (as _load_items read them): one statement
        # and one transaction per chunk fewer than a claim followed by a read of what it won.
        won = claim_returning(
            s,
            ITEM,
            any_of(s, WorkItem.id, item_ids),
            rt.options.lease_seconds,
            [getattr(WorkItem, name) for name in _ITEM_COLUMNS],
        )
    if not won:
        return
    items = sorted((_Item(row) for row in won), key=lambda item: item.id)
    owner = items[0].lease_owner
    careful = any(item.attempts > 1 for item in items)
    if careful and len(items) > 1:
        # Retried after a dead worker: give every record but the first back, and go one by one.
        rest = [item.id for item in items[1:]]
        with rt.session() as s:
            s.execute(
                update(WorkItem)
                .where(any_of(s, WorkItem.id, rest), WorkItem.lease_owner == owner)
                .values(
                    state="pending",
                    lease_owner=None,
                    lease_until=None,
                    attempts=WorkItem.attempts - 1,
                )
            )
            s.commit()
        enq.process(run_id, rest, attempt=attempt)
        items = items[:1]
    touched, retry_ids = _process_claimed(rt, run_id, items, t0, careful=careful)
    for cpas_id in sorted(touched):
        enq.submit(run_id, cpas_id)
        enq.push(run_id, cpas_id)
    if retry_ids:
        enq.process(run_id, retry_ids, countdown=rt.retry.delay(attempt + 1), attempt=attempt + 1)
    maybe_finish(rt, run_id, enq)


_ITEM_COLUMNS = (
    "id",
    "cpas_id",
    "record_id",
    "attempts",
    "payload",
    "state",
    "lease_owner",
    "lease_until",
    "forms",
    "findings",
    "person_key",
    "last_error",
)
_WRITABLE = frozenset(
    ("state", "lease_owner", "lease_until", "forms", "findings", "person_key", "last_error")
)


class _Item:
    """A claimed ``sync_item`` row as the process stage reads and changes it: plain attributes, the
    columns set since the claim in ``dirty``, written back by :func:`_write_items`.

    Why not the ORM object: loading, tracking and flushing one ``WorkItem`` per record was ~6% of the
    process stage (py-spy, 5,000-dossier run); the writes are the ORM's (by primary key, only the
    columns set, the same state transitions checked), grouped into one executemany per column set."""

    __slots__ = (*_ITEM_COLUMNS, "dirty")
    id: int
    cpas_id: str
    record_id: str
    attempts: int
    payload: str
    state: str
    lease_owner: str | None
    lease_until: datetime | None
    forms: int
    findings: int
    person_key: str | None
    last_error: str | None
    dirty: set[str]

    def __init__(self, row: Any) -> None:
        for name, value in zip(_ITEM_COLUMNS, row, strict=True):
            object.__setattr__(self, name, value)
        object.__setattr__(self, "dirty", set())

    def __setattr__(self, name: str, value: Any) -> None:
        if name == "state":  # WorkItem's own check (its @validates("state"))
            value = check_state(ITEM_TRANSITIONS, self.state, value, "record")
        if name in _WRITABLE:
            self.dirty.add(name)
        object.__setattr__(self, name, value)


def _write_items(s: Any, items: list[_Item]) -> None:
    """The changed columns of *items*, by primary key (as the ORM's flush wrote them): one
    :func:`~piis_bridge.pipeline.outbox.update_rows` per set of changed columns."""
    groups: dict[tuple[str, ...], list[dict[str, Any]]] = {}
    for item in items:
        if item.dirty:
            names = tuple(sorted(item.dirty))
            params = {name: getattr(item, name) for name in names}
            params["id"] = item.id
            groups.setdefault(names, []).append(params)
            item.dirty.clear()
    for rows in groups.values():
        update_rows(s, WorkItem.__table__, rows)


def _stored_record(payload: str) -> SourceRecord:
    """The record as the pull stored it (``SourceRecord.model_dump_json``).

    Why orjson first: pydantic's JSON parsing into the ``dict[str, Any]`` payload took 30 us a record,
    orjson and the same validation of the parsed dict 20 us (a NeptunusWeb record, ~3 kB); the model's
    checks are the same.  Whatever orjson refuses (an integer beyond 64 bits) goes pydantic's way."""
    try:
        data = orjson.loads(payload)
    except orjson.JSONDecodeError:
        return SourceRecord.model_validate_json(payload)
    return SourceRecord.model_validate(data)


class _Skip(Exception):
    """The record is settled (skipped, quarantined, or given back for a retry): go to the next one."""


def last_error(stage: str, error_type: str, message: str = "") -> str:
    """What ``sync_item.last_error`` holds: the stage, the error type, then the message (redacted)."""
    return redact(f"{stage}: {error_type}: {message}")[:2000]


_LAST_ERROR = re.compile(r"^(?P<stage>[a-z_]+): (?P<type>[A-Za-z_][A-Za-z0-9_.]*):")


def poison_reason(attempts: int, error: str | None) -> Text:
    """The quarantine reason of a record given up after *attempts*: the stage it was in and the type
    of its last error, never the error's message (it may quote the record's data)."""
    found = _LAST_ERROR.match(error or "")
    if found is None:
        return poison_text(attempts)
    return poison_text(attempts, found["stage"], found["type"])


def form_rows(
    forms: list[Any], run_id: str, cpas_id: str, record_id: str, item_id: int
) -> list[dict[str, Any]]:
    """The ``sync_effect`` rows of a record's built forms, each keyed before anything is sent (the
    process stage's; ``benchmarks/bench_process.py`` measures the same function)."""
    rows = []
    now = utcnow()
    for form in forms:
        ref, form = form_key(cpas_id, record_id, form)
        rows.append(
            dict(
                key=f"form:{cpas_id}:{ref}",
                kind="form",
                run_id=run_id,
                item_id=item_id,
                cpas_id=cpas_id,
                record_id=record_id,
                state="pending",
                payload_type=type_path(form),
                payload=dump_payload(form),
                worker_id=None,  # every row of one executemany has the same keys
                created_at=now,
                updated_at=now,
            )
        )
    return rows


def alert_rows(
    alerts: list[dict[str, Any]],
    worker: tuple[str, str] | None,
    run_id: str,
    cpas_id: str,
    record_id: str,
    item_id: int,
) -> list[dict[str, Any]]:
    """The push rows of a record's deadline alerts for its social worker in charge (*worker*:
    staff id and name, None when the contract names none)."""
    rows = []
    for alert in alerts:
        label = hashlib.sha1(alert["label"].encode()).hexdigest()[:8]
        push = PushItem(
            key=f"alert:{record_id}:{alert['rule']}:{label}:{alert['due']}"[:200],
            record_id=record_id,
            kind="deadline_alert",
            title=alert["title"][:200],
            due=alert["due"],
            data={
                "rule": alert["rule"],
                "status": alert["status"],
                # the worker in charge (staff; "unassigned" when the contract names none)
                "worker_id": worker[0] if worker else "unassigned",
                "worker_name": worker[1] if worker else "",
            },
            message=alert["message"],
        )
        row = push_row(push, run_id=run_id, cpas_id=cpas_id, item_id=item_id)
        # plain and indexed (the payload is encrypted): the console filters on it
        row["worker_id"] = worker[0] if worker else UNASSIGNED
        rows.append(row)
    return rows


def _process_claimed(
    rt: Runtime,
    run_id: str,
    items: list[_Item],
    t0: float,
    *,
    careful: bool = False,
) -> tuple[set[str], list[int]]:
    """``careful`` (one record, claimed again after its worker died): the stage is committed before
    each step, so that if this record kills its worker again, its quarantine can name the stage."""
    host = rt.host
    # The rules' day is the CPAS's calendar day (a run at 00:30 in Brussels is 23:30 UTC the day before).
    today = rt.options.rules_date or datetime.now(rt.settings.nightly_zone()).date()
    retry_ids: list[int] = []
    touched: set[str] = set()
    effect_rows: list[dict[str, Any]] = []
    moves: list[
        tuple[str, str, int, Any]
    ] = []  # (cpas, record, item, contract) to check for a move (R-TRF)
    max_attempts = rt.options.retry_max_attempts
    # *items* come from the claim, committed: no transaction is open during the records' Python
    # work (1-4 s a chunk), whose snapshot would hold back the pruning of every table's dead rows.
    with rt.session() as s:

        def give_up(item: _Item, stage: str, reason: str) -> None:
            item.state, item.lease_owner, item.lease_until = "quarantined", None, None
            quarantine(
                s,
                run_id=run_id,
                cpas_id=item.cpas_id,
                record_id=item.record_id,
                stage=stage,
                reason=reason,
                item_id=item.id,
                problems=[
                    RecordProblem(record_id=item.record_id, field="(record)", reason=reason[:1000])
                ],
            )
            raise _Skip

        current: list[_Item] = []

        def enter(stage: str) -> str:
            """Careful mode: record the stage before it runs (a worker killed in it leaves it said)."""
            if careful and current:
                current[0].last_error = last_error(
                    stage, "WorkerLost", "its worker died in this stage"
                )
                _write_items(s, current)
                s.commit()
            return stage

        timer = tracing.DossierTimer("process", run_id)
        for item in items:
            current[:] = [item]
            timer.start(item.id, item.cpas_id)
            stage = "map"
            try:
                if item.attempts > max_attempts:
                    give_up(item, "process", poison_reason(item.attempts - 1, item.last_error))
                enter("map")
                record = _stored_record(item.payload)
                mapped = call(host, "case_map_record", item.cpas_id, record, run_id=run_id)
                outcome = mapped.value
                if mapped.transient:
                    error = mapped.describe()
                    failure = mapped.failures[-1]
                    item.last_error = last_error("map", failure.error_type, error)
                    if rt.retry.exhausted(item.attempts):
                        give_up(item, "map", poison_reason(item.attempts, item.last_error))
                    retry_ids.append(item.id)
                    item.state, item.lease_owner, item.lease_until = "pending", None, None
                    raise _Skip
                if outcome.skip_reason is not None:
                    item.state = "skipped"
                    raise _Skip
                if not outcome.ok:
                    item.state = "quarantined"
                    quarantine(
                        s,
                        run_id=run_id,
                        cpas_id=item.cpas_id,
                        record_id=item.record_id,
                        stage="map",
                        reason=problems_reason(outcome.problems),
                        problems=outcome.problems,
                        item_id=item.id,
                    )
                    raise _Skip
                contract = outcome.contract
                stage = enter("hash")
                item.person_key = rt.person_key(contract.beneficiary.niss)
                stage = enter("evaluate")
                settings, registry = rt.rules(item.cpas_id)
                findings, alerts = _evaluate(contract, today, settings, registry)
                event = event_for_contract(contract)
                stage = enter("build")
                built = call(
                    host, "federal_build_forms", item.cpas_id, contract, event, run_id=run_id
                )
                forms = built.value
                if built.failed:
                    give_up(item, "build", built.describe())
                rows = form_rows(forms, run_id, item.cpas_id, item.record_id, item.id)
                stage = "alerts"
                worker = worker_in_charge(contract, today) if alerts else None
                rows += alert_rows(alerts, worker, run_id, item.cpas_id, item.record_id, item.id)
            except _Skip:
                continue
            except Exception as exc:  # noqa: BLE001 - one record, whatever it raises, never stops the chunk
                item.state, item.lease_owner, item.lease_until = "quarantined", None, None
                reason = f"{type(exc).__name__}: {exc}"
                quarantine(
                    s,
                    run_id=run_id,
                    cpas_id=item.cpas_id,
                    record_id=item.record_id,
                    stage=stage,
                    reason=reason,
                    item_id=item.id,
                    problems=[
                        RecordProblem(
                            record_id=item.record_id,
                            field=f"({stage})",
                            reason=redact(reason)[:1000],
                        )
                    ],
                )
                continue
            effect_rows.extend(rows)
            item.forms, item.findings, item.state, item.last_error = (
                len(forms),
                findings,
                "done",
                None,
            )
            touched.add(item.cpas_id)
            if transfer_configured(rt, item.cpas_id):
                moves.append((item.cpas_id, item.record_id, item.id, contract))
        timer.finish({i.id: {"outcome": i.state, "forms": i.forms} for i in items})
        _write_items(s, items)
        _store_effects(s, effect_rows)
        done: dict[str, list[str]] = {}
        for item in items:
            if item.state in ("done", "skipped"):
                done.setdefault(item.cpas_id, []).append(item.record_id)
        for cpas_id, record_ids in done.items():
            resolve_processed(
                s, run_id, cpas_id, record_ids
            )  # earlier quarantine entries close themselves
        record_stat(s, run_id, "evaluate", len(items) - len(retry_ids), time.perf_counter() - t0)
        s.commit()
    if moves:
        touched.update(_detect_transfers(rt, run_id, moves))
    return touched, retry_ids
