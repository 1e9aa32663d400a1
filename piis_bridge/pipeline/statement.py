"""The federal monthly statement: fetched once a month per CPAS and reconciled against the form ledger.

Why a run of its own (trigger ``statement``): the statement of month M is produced on the first
Sunday of M+1 and is often not there yet when it is first asked for, so it is asked again
(every ``statement_retry_minutes``) until it is, or until ``statement_give_up_days`` have passed;
the nightly runs must not wait for it.  Beat's ``dispatch_statement`` creates the run from the
Monday after that Sunday (:func:`piis_bridge.pipeline.schedule.due_statement_key`, unique key
``statement:<YYYY-MM>``), ``piis-bridge run --statement YYYY-MM`` by hand.

Per CPAS a ``sync_statement`` row holds the state.  The task asks the CPAS's federal plugin
(``piis_federal_fetch_statement``, through the plugin host: no plugin is imported); ``None``
without a recorded failure means "not available yet": the row waits and the sweeper sends the task
again when ``next_attempt_at`` comes (no long countdown sits in the broker).  A transient failure is
retried with backoff, a permanent one fails the row with the plugin's message.  A statement is
reconciled (:func:`piis_bridge.ledger.reconcile.reconcile`) against the ledger in the application
database, where the bundled federal plugin keeps it; the differences are stored with the row and
shown by ``piis-bridge runs show``.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterable
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import and_, select, update
from sqlalchemy.exc import IntegrityError

from piis_bridge.hooks.types import RunInfo
from piis_bridge.logging import get_logger, redact
from piis_bridge.pipeline.models import StatementFetch, SyncRun, SyncRunCpas, utcnow
from piis_bridge.pipeline.outbox import STATEMENT, Enqueuer, call, claim, describe, record_stat
from piis_bridge.pipeline.reliability import is_transient
from piis_bridge.pipeline.runs import implements, maybe_finish
from piis_bridge.pipeline.runtime import Runtime

__all__ = [
    "OPEN_STATEMENT_STATES",
    "STATEMENT_HOOK",
    "create_statement_run",
    "dispatch_statement_run",
    "fetch_statement",
    "start_statement_run",
    "statement_rows",
]

STATEMENT_HOOK = "piis_federal_fetch_statement"
OPEN_STATEMENT_STATES = ("waiting", "fetching")
_log = get_logger("piis_bridge.pipeline.statement")


def create_statement_run(
    rt: Runtime,
    month: date,
    *,
    cpas_ids: Iterable[str] | None = None,
    trigger: str = "statement",
    schedule_key: str | None = None,
) -> str | None:
    """Record a statement run for *month* (every CPAS with a federal plugin by default); None when
    ``schedule_key`` already started one."""
    month = month.replace(day=1)
    chosen = (
        list(cpas_ids)
        if cpas_ids
        else sorted(c for c, cfg in rt.settings.cpas.items() if cfg.federal)
    )
    unknown = [c for c in chosen if c not in rt.settings.cpas]
    if unknown:
        known = ", ".join(sorted(rt.settings.cpas)) or "none"
        raise KeyError(f"unknown CPAS {', '.join(unknown)}; configured: {known}")
    run_id = uuid.uuid4().hex
    now = utcnow()
    with rt.session() as s:
        if schedule_key is not None and s.scalar(
            select(SyncRun.id).where(SyncRun.schedule_key == schedule_key)
        ):
            return None
        s.add(
            SyncRun(
                id=run_id,
                trigger=trigger,
                schedule_key=schedule_key,
                cpas_ids=chosen,
                status="running",
                counts={"statement_month": month.isoformat()[:7]},
            )
        )
        try:
            s.flush()
        except IntegrityError:
            s.rollback()
            return None
        for cpas_id in chosen:
            s.add(SyncRunCpas(run_id=run_id, cpas_id=cpas_id, state="pulled"))  # nothing to pull
            s.add(
                StatementFetch(
                    run_id=run_id,
                    cpas_id=cpas_id,
                    month=month,
                    state="waiting",
                    differences=[],
                    next_attempt_at=now + timedelta(seconds=rt.options.requeue_after),
                    updated_at=now,
                )
            )
        s.commit()
    return run_id


def dispatch_statement_run(rt: Runtime, enq: Enqueuer, now: datetime) -> str | None:
    """What beat's ``dispatch_statement`` does at *now*: start last month's statement run once it is
    due (``statement:<YYYY-MM>``, once a month however often it is called); else None."""
    from piis_bridge.pipeline.schedule import due_statement_key

    s = rt.settings
    key = due_statement_key(now, s.statement_time, s.nightly_zone())
    if key is None or not s.cpas:
        return None
    run_id = create_statement_run(
        rt, date.fromisoformat(key.split(":", 1)[1] + "-01"), schedule_key=key
    )
    if run_id is not None:
        enq.start(run_id)
    return run_id


def start_statement_run(rt: Runtime, run_id: str, info: RunInfo, enq: Enqueuer) -> None:
    """Called by ``start_run`` for a statement run: notify the plugins, one task per CPAS."""
    rt.host.run_started(info)
    for cpas_id in info.cpas_ids:
        enq.statement(run_id, cpas_id)


def fetch_statement(
    rt: Runtime, run_id: str, cpas_id: str, enq: Enqueuer, attempt: int = 0
) -> None:
    """Ask for the statement once; reconcile it, or wait for the next attempt."""
    o = rt.options
    t0 = time.perf_counter()
    with rt.session() as s:
        won, _ = claim(
            s,
            STATEMENT,
            and_(StatementFetch.run_id == run_id, StatementFetch.cpas_id == cpas_id),
            o.lease_seconds,
        )
        if not won:
            return
        row = s.get_one(StatementFetch, (run_id, cpas_id))
        month = row.month
        started = s.scalar(select(SyncRun.started_at).where(SyncRun.id == run_id)) or utcnow()
    host = rt.host
    if not implements(host, cpas_id, "federal", STATEMENT_HOOK):
        plugin = rt.settings.cpas[cpas_id].federal
        _finish(
            rt,
            run_id,
            cpas_id,
            state="unsupported",
            error=f"the federal plugin {plugin!r} of {cpas_id} has no monthly statement ({STATEMENT_HOOK})",
        )
        maybe_finish(rt, run_id, enq)
        return
    fetched = call(host, "federal_fetch_statement", cpas_id, month, run_id=run_id)
    statement, failures = fetched.value, list(fetched.failures)
    label = month.isoformat()[:7]
    if statement is None and failures:
        if is_transient(failures[-1]) and not rt.retry.exhausted(attempt + 1):
            delay = rt.retry.delay(attempt + 1)
            _wait(rt, run_id, cpas_id, delay, error=describe(failures))
            enq.statement(run_id, cpas_id, countdown=delay, attempt=attempt + 1)
        else:
            _finish(
                rt,
                run_id,
                cpas_id,
                state="failed",
                error=f"statement {label}: {describe(failures)}",
            )
        maybe_finish(rt, run_id, enq)
        return
    if statement is None:
        if utcnow() - started > timedelta(days=o.statement_give_up_days):
            _finish(
                rt,
                run_id,
                cpas_id,
                state="failed",
                error=f"statement {label} still not available {o.statement_give_up_days:g} days after it was due",
            )
        else:
            _wait(
                rt,
                run_id,
                cpas_id,
                o.statement_retry_minutes * 60,
                error=f"statement {label} not available yet",
            )  # the sweeper asks again then
            _log.info(
                "monthly statement not available yet", cpas=cpas_id, run_id=run_id, month=label
            )
        maybe_finish(rt, run_id, enq)
        return
    try:
        from piis_bridge.ledger import Ledger
        from piis_bridge.ledger.reconcile import reconcile

        differences = [_difference(d) for d in reconcile(statement, Ledger(rt.sessions), cpas_id)]
    except Exception as exc:  # noqa: BLE001 - reported on the row; the other CPAS go on
        _finish(
            rt,
            run_id,
            cpas_id,
            state="failed",
            error=f"statement {label}: cannot reconcile: {type(exc).__name__}: {exc}",
        )
        maybe_finish(rt, run_id, enq)
        return
    _finish(
        rt,
        run_id,
        cpas_id,
        state="reconciled",
        lines=len(statement.lines),
        total_cents=sum(line.signed_cents for line in statement.lines),
        differences=differences,
    )
    with rt.session() as s:
        record_stat(s, run_id, "statement", 1, time.perf_counter() - t0)
        s.commit()
    _log.info(
        "monthly statement reconciled",
        cpas=cpas_id,
        run_id=run_id,
        month=label,
        lines=len(statement.lines),
        differences=len(differences),
    )
    maybe_finish(rt, run_id, enq)


def _difference(d: Any) -> dict[str, Any]:
    data = d.model_dump(mode="json")
    data["detail"] = redact(data.get("detail") or "")
    return data


def _wait(rt: Runtime, run_id: str, cpas_id: str, delay: float, *, error: str) -> None:
    with rt.session() as s:
        s.execute(
            update(StatementFetch)
            .where(StatementFetch.run_id == run_id, StatementFetch.cpas_id == cpas_id)
            .values(
                state="waiting",
                lease_until=None,
                error=redact(error),
                next_attempt_at=utcnow() + timedelta(seconds=delay),
                updated_at=utcnow(),
            )
        )
        s.commit()


def _finish(
    rt: Runtime, run_id: str, cpas_id: str, *, state: str, error: str | None = None, **values: Any
) -> None:
    now = utcnow()
    with rt.session() as s:
        s.execute(
            update(StatementFetch)
            .where(StatementFetch.run_id == run_id, StatementFetch.cpas_id == cpas_id)
            .values(
                state=state,
                error=redact(error) if error else None,
                lease_until=None,
                next_attempt_at=None,
                fetched_at=now if state == "reconciled" else None,
                updated_at=now,
                **values,
            )
        )
        s.commit()


def statement_rows(s: Any, run_id: str) -> list[dict[str, Any]]:
    """Per CPAS: the month, state, lines, total and differences (what ``runs show`` prints)."""
    return [
        {
            "cpas_id": r.cpas_id,
            "month": r.month.isoformat()[:7],
            "state": r.state,
            "attempts": r.attempts,
            "lines": r.lines,
            "total_cents": r.total_cents,
            "differences": list(r.differences or []),
            "error": r.error,
        }
        for r in s.scalars(
            select(StatementFetch)
            .where(StatementFetch.run_id == run_id)
            .order_by(StatementFetch.cpas_id)
        )
    ]
