"""The stale-work sweeper: re-enqueue whatever a killed worker or a lost message left behind.

Why it is mandatory: the embedded filesystem broker (like every kombu virtual transport) loses
prefetched and in-flight messages on ``kill -9`` even with ``acks_late``; Redis redelivers only after
its visibility timeout; a task can die between its commit and its ``apply_async``.  The database
rows are the truth, so a periodic pass over them is enough to finish every run:

- a pull whose lease expired is re-enqueued (it resumes from the persisted cursor);
- a work item ``leased`` past its lease is re-enqueued (its worker died; the claim is atomic, so a
  duplicate message is harmless);
- a work item or pull still ``pending`` is re-enqueued only when its run has made no progress (no
  stage recorded work) for ``requeue_after``: while the run moves, a pending item is simply waiting
  behind others in the broker, and a second message for it would only be a duplicate (the
  100,000-record run used to send 11,250 of them);
- a side effect left ``sending`` past its lease went out or not: it is put back to ``pending``
  and resent with the *same* idempotency key, which the remote answers with the original result;
- a National Register notice task lost or abandoned past its lease is sent again (it resumes from
  the stored notice cursor; notices already stored are handled once);
- a monthly statement whose next ask is due (it was not available yet) is asked again;
- every running run gets a finish check.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime, timedelta

from sqlalchemy import and_, func, or_, select, update
from sqlalchemy.orm import Session

from piis_bridge.i18n.ops import WaitingTexts, semicolons, stalled_text
from piis_bridge.i18n.text import Text
from piis_bridge.logging import get_logger, redact
from piis_bridge.pipeline.models import (
    CircuitState,
    Effect,
    StageStat,
    StatementFetch,
    SyncRun,
    SyncRunCpas,
    WorkItem,
    utcnow,
)
from piis_bridge.pipeline.outbox import (
    EFFECT,
    ITEM,
    PULL,
    STATEMENT,
    Enqueuer,
    refresh_statistics,
    release,
    slices,
    vacuum_bloated,
)
from piis_bridge.pipeline.runs import close_run, last_progress, maybe_finish
from piis_bridge.pipeline.runtime import Runtime

__all__ = ["sweep", "why_stalled"]

_log = get_logger("piis_bridge.pipeline.sweeper")


def _stalled(s: Session, started: dict[str, datetime], before: datetime) -> list[str]:
    """The running runs with no progress since *before*: no stage recorded work (``sync_stage_stat``)
    and the run did not start after it."""
    if not started:
        return []
    last = dict(
        s.execute(
            select(StageStat.run_id, func.max(StageStat.last_at))
            .where(StageStat.run_id.in_(list(started)))
            .group_by(StageStat.run_id)
        ).all()
    )
    return [
        run_id
        for run_id, at in started.items()
        if max(filter(None, (at, last.get(run_id)))) < before
    ]


def sweep(rt: Runtime, enq: Enqueuer, *, idle_seconds: float | None = None) -> dict[str, int]:
    """One pass; returns what was re-enqueued (for logs and tests)."""
    now = utcnow()
    idle = timedelta(seconds=idle_seconds if idle_seconds is not None else rt.options.requeue_after)
    found = {"pulls": 0, "items": 0, "effects": 0, "notices": 0, "statements": 0, "runs": 0}
    with rt.session() as s:
        started = dict(
            s.execute(
                select(SyncRun.id, SyncRun.started_at).where(SyncRun.status == "running")
            ).all()
        )
        running = list(started)
        stalled = _stalled(s, started, now - idle)
        pulls = (
            list(
                s.execute(
                    select(SyncRunCpas.run_id, SyncRunCpas.cpas_id).where(
                        SyncRunCpas.run_id.in_(running),
                        or_(
                            PULL.expired(now),
                            and_(SyncRunCpas.state == "pending", SyncRunCpas.run_id.in_(stalled)),
                        ),
                    )
                ).all()
            )
            if running
            else []
        )
        # A notice task lost ('queued' past its lease) or whose worker died ('fetching' past its lease).
        notices = (
            list(
                s.execute(
                    select(SyncRunCpas.run_id, SyncRunCpas.cpas_id).where(
                        SyncRunCpas.run_id.in_(running),
                        SyncRunCpas.notices_state.in_(("queued", "fetching")),
                        SyncRunCpas.notices_lease_until < now,
                    )
                ).all()
            )
            if running
            else []
        )
        # Leased past the lease: the worker died.  Pending: the message is waiting in the broker as long
        # as the run moves (a 100,000-record run queues items for many minutes); only when the run
        # made no progress for ``requeue_after`` were the messages lost.
        items = (
            list(
                s.execute(
                    select(WorkItem.run_id, WorkItem.id).where(
                        WorkItem.run_id.in_(running),
                        or_(
                            ITEM.expired(now),
                            and_(
                                WorkItem.state == "pending",
                                WorkItem.run_id.in_(stalled),
                                WorkItem.updated_at < now - idle,
                            ),
                        ),
                    )
                ).all()
            )
            if running
            else []
        )
        # Back to pending with a fresh clock: claimable by the message sent now, and not sent again by
        # the next pass unless the run stalls.
        # (Conditional: a worker that claimed one meanwhile holds a fresh lease and keeps it.)
        for some in slices([i for _, i in items]):  # more items than one statement may bind
            s.execute(
                update(WorkItem)
                .where(
                    WorkItem.id.in_(some),
                    or_(
                        WorkItem.state == "pending",
                        ITEM.expired(now),
                    ),
                )
                .values(state="pending", lease_owner=None, lease_until=None, updated_at=now)
            )
        # 'sending' past its lease: the call may or may not have reached the remote; resend with the
        # same key (the remote deduplicates) rather than guess.
        stale = EFFECT.expired(now)
        resent = list(
            s.execute(
                select(Effect.run_id, Effect.kind, Effect.cpas_id).where(stale).distinct()
            ).all()
        )
        stale_sending = release(s, EFFECT, stale, "pending", next_attempt_at=None, updated_at=now)
        effects: list[tuple[str, str, str, str]] = [
            (r, k, c, st)
            for r, k, c, st in s.execute(
                select(Effect.run_id, Effect.kind, Effect.cpas_id, Effect.state)
                .where(
                    Effect.state.in_(("pending", "submitted")),
                    or_(Effect.updated_at < now - idle, Effect.next_attempt_at < now),
                )
                .distinct()
            ).all()
        ]
        effects += [(r, k, c, "pending") for r, k, c in resent]
        # A statement to ask again (its time came, or its message was lost), or left by a dead worker.
        due = or_(
            and_(StatementFetch.state == "waiting", StatementFetch.next_attempt_at <= now),
            STATEMENT.expired(now),
        )
        statements = (
            list(
                s.execute(
                    select(StatementFetch.run_id, StatementFetch.cpas_id).where(
                        StatementFetch.run_id.in_(running), due
                    )
                ).all()
            )
            if running
            else []
        )
        if statements:
            s.execute(
                update(StatementFetch)
                .where(
                    StatementFetch.run_id.in_(running),
                    StatementFetch.state == "waiting",
                    StatementFetch.next_attempt_at <= now,
                )
                .values(next_attempt_at=now + idle)
            )
        s.commit()
    for run_id, cpas_id in pulls:
        enq.pull(run_id, cpas_id)
    for run_id, cpas_id in notices:
        enq.notices(run_id, cpas_id)
    for run_id, cpas_id in statements:
        enq.statement(run_id, cpas_id)
    by_run: dict[str, list[int]] = defaultdict(list)
    for run_id, item_id in items:
        by_run[run_id].append(item_id)
    for run_id, ids in by_run.items():
        ids.sort()
        for start in range(0, len(ids), rt.options.chunk_size):
            enq.process(run_id, ids[start : start + rt.options.chunk_size])
    for run_id, kind, cpas_id, state in sorted(set(effects)):
        if kind == "push":
            enq.push(run_id, cpas_id)
        elif state == "submitted":
            enq.collect(run_id, cpas_id)
        else:
            enq.submit(run_id, cpas_id)
    if running:
        with rt.session() as s:
            vacuum_bloated(s)
            refresh_statistics(s)
    for run_id in running:
        found["runs"] += int(maybe_finish(rt, run_id, enq))
    found["stalled"] = _watchdog(rt)
    found.update(
        pulls=len(pulls),
        items=len(items),
        effects=len(effects),
        notices=len(notices),
        statements=len(statements),
        resent=stale_sending,
    )
    if any(found[k] for k in ("pulls", "items", "effects", "notices", "statements")):
        _log.info("sweeper re-enqueued stale work", **found)
    return found


def _watchdog(rt: Runtime) -> int:
    """End every run that made no progress for ``watchdog_seconds`` as *stalled*, saying why.

    A statement run is exempt: it waits for the federal statement for days by design."""
    limit = timedelta(seconds=rt.options.watchdog_seconds)
    now = utcnow()
    closing: list[tuple[str, str]] = []
    with rt.session() as s:
        for run in s.scalars(
            select(SyncRun).where(SyncRun.status == "running", SyncRun.trigger != "statement")
        ):
            idle = now - last_progress(s, run)
            if idle > limit:
                closing.append(
                    (
                        run.id,
                        stalled_text(int(idle.total_seconds()), why_stalled(s, run.id)),
                    )
                )
    return sum(close_run(rt, run_id, "stalled", reason) for run_id, reason in closing)


def why_stalled(s: Session, run_id: str) -> Text:
    """What a run is waiting for, in words: open circuits and until when, retries scheduled, last errors."""
    now = utcnow()
    parts: list[Text] = []
    pulls = list(s.scalars(select(SyncRunCpas).where(SyncRunCpas.run_id == run_id)))
    for p in pulls:
        if p.state in ("pending", "pulling"):
            parts.append(WaitingTexts.pull(p.cpas_id, p.state))
    cpas = [p.cpas_id for p in pulls]
    for c in s.scalars(select(CircuitState).where(CircuitState.opened_until > now)):
        if c.remote.split(":", 1)[-1] in cpas:
            parts.append(
                WaitingTexts.circuit(c.remote, f"{c.opened_until:%Y-%m-%d %H:%M:%S}", c.failures)
            )
    retry = s.execute(
        select(func.count(), func.min(Effect.next_attempt_at)).where(
            Effect.run_id == run_id, Effect.state == "pending", Effect.next_attempt_at > now
        )
    ).one()
    if retry[0]:
        parts.append(WaitingTexts.retries(retry[0], f"{retry[1]:%H:%M:%S}"))
    items = s.scalar(
        select(func.count())
        .select_from(WorkItem)
        .where(WorkItem.run_id == run_id, WorkItem.state.in_(("pending", "leased")))
    )
    if items:
        parts.append(WaitingTexts.records(items))
    open_effects = dict(
        s.execute(
            select(Effect.state, func.count())
            .where(Effect.run_id == run_id, Effect.state.in_(("pending", "sending", "submitted")))
            .group_by(Effect.state)
        ).all()
    )
    if open_effects:
        parts.append(WaitingTexts.effects(open_effects))
    last = (
        s.execute(
            select(Effect.last_error)
            .where(Effect.run_id == run_id, Effect.last_error.is_not(None))
            .order_by(Effect.updated_at.desc())
            .limit(1)
        ).scalar()
        or s.execute(
            select(WorkItem.last_error)
            .where(WorkItem.run_id == run_id, WorkItem.last_error.is_not(None))
            .order_by(WorkItem.updated_at.desc())
            .limit(1)
        ).scalar()
    )
    if last:
        parts.append(WaitingTexts.last_error(redact(last)[:3000]))
    if not parts:
        parts.append(WaitingTexts.nothing_open())
    return semicolons(parts)
