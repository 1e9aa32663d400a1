"""Runs: create, start, count, finish, and replay quarantined entries into a new run."""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import bindparam, case, delete, exists, func, or_, select, text, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from piis_bridge.hooks.types import PluginFailure, RecordProblem, RunInfo, RunReport
from piis_bridge.i18n.ops import abandoned_text
from piis_bridge.i18n.text import Text, text_json
from piis_bridge.logging import get_logger, redact
from piis_bridge.pipeline.models import (
    CpasLease,
    Effect,
    Notice,
    QuarantineEntry,
    StageStat,
    StatementFetch,
    SyncRun,
    SyncRunCpas,
    WorkItem,
    rowcount,
    utcnow,
)
from piis_bridge.pipeline.outbox import (
    NOTICES_HOOK,
    OPEN_EFFECT_STATES,
    OPEN_ITEM_STATES,
    OPEN_NOTICE_STATES,
    Enqueuer,
    insert_ignore,
    slices,
)
from piis_bridge.pipeline.runtime import Runtime

_log = get_logger("piis_bridge.pipeline.runs")


class RunRefused(ValueError):
    """A run for a CPAS that already has one in progress (one run per CPAS at a time)."""


def create_run(
    rt: Runtime,
    *,
    cpas_ids: Iterable[str] | None = None,
    dossier: str | None = None,
    trigger: str = "manual",
    schedule_key: str | None = None,
) -> str | None:
    """Record a new run (the CPAS to pull); None when ``schedule_key`` already started one.

    Takes the lease of every CPAS of the run in the same transaction (``sync_cpas_lease``): while another
    run of one of them is running, raises :class:`RunRefused` naming it, unless that run made no progress
    for ``watchdog_seconds`` (its workers are gone): it is then closed as *abandoned*, with the reason, and
    this run takes over its unfinished work when it starts."""
    chosen = list(cpas_ids) if cpas_ids else sorted(rt.settings.cpas)
    unknown = [c for c in chosen if c not in rt.settings.cpas]
    if unknown:
        raise KeyError(
            f"unknown CPAS {', '.join(unknown)}; configured: {', '.join(sorted(rt.settings.cpas)) or 'none'}"
        )
    if dossier is not None and len(chosen) != 1:
        raise ValueError("a run for one dossier needs exactly one CPAS (--cpas)")
    run_id = uuid.uuid4().hex
    stale: list[str] = []
    with rt.session() as s:
        s.add(
            SyncRun(
                id=run_id,
                trigger=trigger,
                schedule_key=schedule_key,
                cpas_ids=chosen,
                dossier=dossier,
                status="running",
                counts={},
            )
        )
        try:
            s.flush()
        except IntegrityError:
            s.rollback()
            return None
        holders = _take_cpas_leases(rt, s, run_id, chosen)
        busy = {c: h for c, h in holders.items() if h is not None and not h[2]}
        if busy:
            s.rollback()
            raise RunRefused(
                "; ".join(
                    f"CPAS {c} already has a run in progress: {h[0]} ({h[1]}), which moved "
                    f"{int(h[3])} s ago; wait until it ends (`piis-bridge runs show {h[0]}`) and start again"
                    for c, h in sorted(busy.items())
                )
            )
        stale = sorted({h[0] for h in holders.values() if h is not None})
        for cpas_id in chosen:
            s.add(SyncRunCpas(run_id=run_id, cpas_id=cpas_id, state="pending"))
        s.commit()
    for old in stale:
        close_run(
            rt,
            old,
            "abandoned",
            abandoned_text(int(rt.options.watchdog_seconds), run_id),
        )
    return run_id


def _take_cpas_leases(
    rt: Runtime, s: Session, run_id: str, cpas_ids: Sequence[str]
) -> dict[str, tuple[str, str, bool, float] | None]:
    """Take each CPAS's lease for *run_id*; per CPAS None (taken) or the holder (run id, trigger,
    whether it may be taken over, seconds since its last progress).  A holder that is no longer running
    (or stalled past the watchdog) is replaced by this run in the same conditional UPDATE."""
    now = utcnow()
    out: dict[str, tuple[str, str, bool, float] | None] = {}
    for cpas_id in cpas_ids:
        if insert_ignore(
            s,
            CpasLease,
            [dict(cpas_id=cpas_id, run_id=run_id, acquired_at=now)],
            returning=CpasLease.cpas_id,
        ):
            out[cpas_id] = None
            continue
        holder = s.scalar(select(CpasLease.run_id).where(CpasLease.cpas_id == cpas_id))
        run = s.get(SyncRun, holder) if holder else None
        idle = (now - last_progress(s, run)).total_seconds() if run is not None else float("inf")
        free = run is None or run.status != "running" or idle > rt.options.watchdog_seconds
        if free:
            s.execute(
                update(CpasLease)
                .where(CpasLease.cpas_id == cpas_id, CpasLease.run_id == holder)
                .values(run_id=run_id, acquired_at=now)
            )
        out[cpas_id] = (holder or "?", run.trigger if run is not None else "?", free, idle)
        if free and (run is None or run.status != "running"):
            out[cpas_id] = None  # nothing to close
    return out


def last_progress(s: Session, run: SyncRun) -> datetime:
    """When the run last did something: its start, or the last work a stage recorded."""
    last = s.scalar(select(func.max(StageStat.last_at)).where(StageStat.run_id == run.id))
    return max(filter(None, (run.started_at, last)))


def release_cpas_leases(s: Session, run_id: str) -> None:
    s.execute(delete(CpasLease).where(CpasLease.run_id == run_id))


def close_run(rt: Runtime, run_id: str, status: str, reason: str) -> bool:
    """End a run that cannot finish by itself (``stalled``, ``abandoned``), saying why; its leases are
    released and its unfinished work is taken over by the next run of its CPAS."""
    with rt.session() as s:
        run = s.get(SyncRun, run_id)
        if run is None or run.status != "running":
            return False
        counts = run_counts(s, run_id)
        finished = utcnow()
        won = rowcount(
            s.execute(
                update(SyncRun)
                .where(SyncRun.id == run_id, SyncRun.status == "running")
                .values(
                    status=status,
                    finished_at=finished,
                    counts=counts,
                    reason=redact(reason)[:4000],
                    report={
                        "stages": stage_stats(s, run_id),
                        "elapsed_seconds": round((finished - run.started_at).total_seconds(), 3),
                        # the reason as message id + values, said in the reader's language (#19)
                        **(
                            {"reason_text": redact(text_json(reason))}
                            if isinstance(reason, Text)
                            else {}
                        ),
                    },
                )
            )
        )
        release_cpas_leases(s, run_id)
        s.commit()
        started, cpas_ids = run.started_at, list(run.cpas_ids)
    if won:
        _log.warning("run closed", run_id=run_id, status=status, reason=redact(str(reason)))
        rt.host.run_finished(
            RunReport(
                run_id=run_id,
                started_at=started,
                finished_at=finished,
                cpas_ids=cpas_ids,
                counts={k: v for k, v in counts.items() if isinstance(v, int)},
                plugin_failures=[
                    PluginFailure(
                        plugin="?",
                        hook="pipeline",
                        error_type=f"Run{status.title()}",
                        message=redact(reason)[:1000],
                    )
                ],
            )
        )
    return bool(won)


def adopt_leftovers(
    rt: Runtime, run_id: str, cpas_ids: Sequence[str], enq: Enqueuer
) -> dict[str, int]:
    """Take over the unfinished work of earlier runs of these CPAS that are no longer running (crashed,
    closed by the watchdog, abandoned): items to process and side effects to send, collect or push.

    An effect left ``sending`` goes back to ``pending`` under the same key: the federal plugin asks the
    federal service first (status) and resends only what it never received."""
    with rt.session() as s:
        closed = select(SyncRun.id).where(SyncRun.status != "running")
        items = list(
            s.scalars(
                select(WorkItem.id).where(
                    WorkItem.cpas_id.in_(list(cpas_ids)),
                    WorkItem.state.in_(OPEN_ITEM_STATES),
                    WorkItem.run_id.in_(closed),
                )
            )
        )
        for some in slices(
            items
        ):  # a crashed 100,000-dossier run leaves more than one statement binds
            s.execute(
                update(WorkItem)
                .where(WorkItem.id.in_(some))
                .values(
                    run_id=run_id,
                    state="pending",
                    lease_owner=None,
                    lease_until=None,
                    updated_at=utcnow(),
                )
            )
        effects = list(
            s.execute(
                select(Effect.id, Effect.kind, Effect.cpas_id, Effect.state).where(
                    Effect.cpas_id.in_(list(cpas_ids)),
                    Effect.state.in_(OPEN_EFFECT_STATES),
                    Effect.run_id.in_(closed),
                )
            ).all()
        )
        for ids in slices([e[0] for e in effects]):
            s.execute(
                update(Effect).where(Effect.id.in_(ids)).values(run_id=run_id, updated_at=utcnow())
            )
            s.execute(
                update(Effect)
                .where(Effect.id.in_(ids), Effect.state == "sending")
                .values(state="pending", lease_owner=None, lease_until=None, next_attempt_at=None)
            )
        s.commit()
    items.sort()
    for start in range(0, len(items), rt.options.chunk_size):
        enq.process(run_id, items[start : start + rt.options.chunk_size])
    for kind, cpas_id, state in sorted({(k, c, st) for _, k, c, st in effects}):
        if kind == "push":
            enq.push(run_id, cpas_id)
        elif state == "submitted":
            enq.collect(run_id, cpas_id)
        else:
            enq.submit(run_id, cpas_id)
    if items or effects:
        _log.info(
            "run took over unfinished work", run_id=run_id, items=len(items), effects=len(effects)
        )
    return {"items": len(items), "effects": len(effects)}


def start_run(rt: Runtime, run_id: str, enq: Enqueuer) -> None:
    """Notify plugins and start one pull per CPAS (for a one-dossier run: the fetch of that record).

    Each CPAS whose federal plugin has a National Register notice feed gets its notices read once
    the run's answers are collected (:mod:`piis_bridge.pipeline.notices`); a one-dossier run reads none.
    """
    with rt.session() as s:
        run = s.get(SyncRun, run_id)
        if run is None or run.status != "running":
            return
        info = RunInfo(
            run_id=run_id,
            started_at=run.started_at,
            cpas_ids=list(run.cpas_ids),
            trigger=run.trigger,
        )
        dossier, cpas_ids, trigger = run.dossier, list(run.cpas_ids), run.trigger
    if trigger == "statement":
        from piis_bridge.pipeline.statement import start_statement_run

        start_statement_run(rt, run_id, info, enq)
        return
    # Every run starts with a sweep (work a dead worker left), then takes over what earlier runs of its
    # CPAS left unfinished: no run is left behind, however short the runs are.
    from piis_bridge.pipeline.sweeper import sweep

    sweep(rt, enq)
    if trigger == "nightly":
        from piis_bridge.pipeline.prune import prune

        prune(rt)  # once a night: finished work does not slow down the next runs (issue #20)
    if dossier is None:
        adopt_leftovers(rt, run_id, cpas_ids, enq)
    host = rt.host
    if dossier is None and trigger != "replay":
        readers = [c for c in cpas_ids if implements(host, c, "federal", NOTICES_HOOK)]
        if readers:
            with rt.session() as s:
                s.execute(
                    update(SyncRunCpas)
                    .where(
                        SyncRunCpas.run_id == run_id,
                        SyncRunCpas.cpas_id.in_(readers),
                        SyncRunCpas.notices_state == "none",
                    )
                    .values(notices_state="pending")
                )
                s.commit()
    host.run_started(info)
    for cpas_id in cpas_ids:
        enq.pull(run_id, cpas_id)


def implements(host: Any, cpas_id: str, role: str, hook: str) -> bool:
    """Whether the plugin serving *role* for the CPAS implements the optional *hook* (introspection only)."""
    plugin = host.settings.cpas[cpas_id].routed_plugins().get(role)
    if plugin is None:
        return False
    return any(
        impl.plugin_name == plugin and not (impl.wrapper or impl.hookwrapper)
        for impl in getattr(host.pm.hook, hook).get_hookimpls()
    )


def run_counts(s: Session, run_id: str) -> dict[str, Any]:
    items = dict(
        s.execute(
            select(WorkItem.state, func.count())
            .where(WorkItem.run_id == run_id)
            .group_by(WorkItem.state)
        ).all()
    )
    forms = dict(
        s.execute(
            select(Effect.state, func.count())
            .where(Effect.run_id == run_id, Effect.kind == "form")
            .group_by(Effect.state)
        ).all()
    )
    answers = dict(
        s.execute(
            select(Effect.answer, func.count())
            .where(Effect.run_id == run_id, Effect.kind == "form", Effect.state == "answered")
            .group_by(Effect.answer)
        ).all()
    )
    pushes = dict(
        s.execute(
            select(Effect.state, func.count())
            .where(Effect.run_id == run_id, Effect.kind == "push")
            .group_by(Effect.state)
        ).all()
    )
    quarantine = dict(
        s.execute(
            select(QuarantineEntry.stage, func.count())
            .where(QuarantineEntry.run_id == run_id)
            .group_by(QuarantineEntry.stage)
        ).all()
    )
    pulls = list(s.scalars(select(SyncRunCpas).where(SyncRunCpas.run_id == run_id)))
    notices = dict(
        s.execute(
            select(Notice.state, func.count()).where(Notice.run_id == run_id).group_by(Notice.state)
        ).all()
    )
    repeats = sum(p.repeats or 0 for p in pulls)
    rejected = sum(p.rejected or 0 for p in pulls)
    return {
        # every record the feeds gave = processed + skipped + items_quarantined + rejected + repeats
        # (+ items_open while the run moves): nothing dropped without a trace (issue #12)
        "fetched": sum(items.values()) + repeats + rejected,
        "repeats": repeats,
        "rejected": rejected,
        "records_quarantined": items.get("quarantined", 0) + rejected,
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
        "pushes": sum(pushes.values()),
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
        "notices_open": sum(notices.get(k, 0) for k in ("pending", "leased")),
        # quarantine entries that are not a record, form, push or notice of their own
        "notice_feed_problems": quarantine.get("notice_feed", 0),
        "transfers_quarantined": quarantine.get("transfer", 0),
        "notice_errors": {p.cpas_id: p.notices_error for p in pulls if p.notices_error},
        **_statement_counts(s, run_id),
    }


def unbalanced(counts: dict[str, Any]) -> list[str]:
    """The sums of a run report that do not add up (empty: every unit is accounted for once).

    Why: "nothing dropped without a trace" is checked on every report, not only in tests; a run whose
    counts do not add up is logged as an error when it closes."""
    c = counts
    total_push = c["pushed"] + c["push_open"] + c["push_quarantined"]
    checks = {
        "fetched = processed + skipped + items_quarantined + rejected + repeats + items_open": (
            c["fetched"],
            c["processed"]
            + c["skipped"]
            + c["items_quarantined"]
            + c["rejected"]
            + c["repeats"]
            + c["items_open"],
        ),
        "records_quarantined = items_quarantined + rejected": (
            c["records_quarantined"],
            c["items_quarantined"] + c["rejected"],
        ),
        "forms = forms_answered + forms_waiting + forms_open + forms_quarantined": (
            c["forms"],
            c["forms_answered"] + c["forms_waiting"] + c["forms_open"] + c["forms_quarantined"],
        ),
        "forms_answered = sum(answers)": (c["forms_answered"], sum(c["answers"].values())),
        "push effects = pushed + push_open + push_quarantined": (
            c.get("pushes", total_push),
            total_push,
        ),
        "notices = notices_done + notices_unmatched + notices_quarantined + notices_open": (
            c["notices"],
            c["notices_done"]
            + c["notices_unmatched"]
            + c["notices_quarantined"]
            + c["notices_open"],
        ),
        "quarantined = records_quarantined + forms_quarantined + push_quarantined + "
        "notices_quarantined + notice_feed_problems + transfers_quarantined": (
            c["quarantined"],
            c["records_quarantined"]
            + c["forms_quarantined"]
            + c["push_quarantined"]
            + c["notices_quarantined"]
            + c["notice_feed_problems"]
            + c["transfers_quarantined"],
        ),
        "quarantined = sum(quarantine_by_stage)": (
            c["quarantined"],
            sum(c["quarantine_by_stage"].values()),
        ),
    }
    return [f"{what}: {a} != {b}" for what, (a, b) in checks.items() if a != b]


def _statement_counts(s: Session, run_id: str) -> dict[str, Any]:
    """A statement run's figures: per CPAS the month, state, lines, total and number of differences."""
    rows = list(s.scalars(select(StatementFetch).where(StatementFetch.run_id == run_id)))
    if not rows:
        return {}
    return {
        "statements": {
            r.cpas_id: {
                "month": r.month.isoformat()[:7],
                "state": r.state,
                "lines": r.lines,
                "total_cents": r.total_cents,
                "differences": len(r.differences or []),
                "error": r.error,
            }
            for r in rows
        },
        "statement_differences": sum(len(r.differences or []) for r in rows),
        "statements_reconciled": sum(r.state == "reconciled" for r in rows),
    }


def stage_stats(s: Session, run_id: str) -> dict[str, dict[str, Any]]:
    out = {}
    for st in s.scalars(
        select(StageStat).where(StageStat.run_id == run_id).order_by(StageStat.first_at)
    ):
        span = (st.last_at - st.first_at).total_seconds() if st.first_at and st.last_at else 0.0
        out[st.stage] = {
            "units": st.units,
            "tasks": st.tasks,
            "busy_seconds": round(st.busy_seconds, 3),
            "span_seconds": round(span, 3),
            "units_per_busy_second": round(st.units / st.busy_seconds, 1)
            if st.busy_seconds
            else None,
        }
    return out


def _index_probes(s: Session, on: bool) -> None:
    """PostgreSQL: make the open-work probes of :func:`maybe_finish` read their index, whatever the
    planner statistics say (``SET LOCAL``: this transaction only; ``on=False`` restores the default).

    Why: the statistics of ``sync_item`` are taken by the pull, when every item is still pending;
    after that the planner expects most items to be open and answers "is any item open?" with a
    sequential scan that stops at the first open one, which is the whole table once none is left.
    Every task asks, so the cost grew with the square of the run: 140-200 ms a probe at 40,000
    dossiers (49,082 items and their dead versions, EXPLAIN ANALYZE) against 0.25 ms by
    ``ix_sync_item_state_lease``.  Disabling sequential scans for these few statements is the one
    way to keep that plan independent of the statistics on PostgreSQL 15 (no planner hints).
    """
    if s.get_bind().dialect.name == "postgresql":
        s.execute(_SEQSCAN_OFF if on else _SEQSCAN_DEFAULT)


_PROBE: list[Any] = []
_SEQSCAN_OFF = text("SET LOCAL enable_seqscan = off")
_SEQSCAN_DEFAULT = text("SET LOCAL enable_seqscan = DEFAULT")


def probe_statement() -> Any:
    """:func:`maybe_finish`'s one probe, built once (its run id a parameter): the run's status and
    what is still open, as -1 (a pull or an item: the answer of most calls while records come
    in), else 1 (a form) + 2 (a push).

    EXISTS, not counts: every task asks, and counting the open items of a 100,000-record run read
    them all each time.  One statement, where it was an ORM load of the run and two or three more
    (each built again at every call); the CASE evaluates the effect probes only once no pull and
    no item is open, and the OR stops at the first probe that finds one.
    """
    if not _PROBE:
        run_id = bindparam("probe_run", type_=SyncRun.id.type)
        busy = or_(
            exists().where(
                SyncRunCpas.run_id == run_id, SyncRunCpas.state.in_(("pending", "pulling"))
            ),
            exists().where(WorkItem.run_id == run_id, WorkItem.state.in_(OPEN_ITEM_STATES)),
        )

        def effects_open(kind: str, bit: int) -> Any:
            found = exists().where(
                Effect.run_id == run_id,
                Effect.state.in_(OPEN_EFFECT_STATES),
                Effect.kind == kind,
            )
            return case((found, bit), else_=0)

        flags = case((busy, -1), else_=effects_open("form", 1) + effects_open("push", 2))
        _PROBE.append(select(SyncRun.status, flags).where(SyncRun.id == run_id))
    return _PROBE[0]


def maybe_finish(rt: Runtime, run_id: str, enq: Enqueuer | None = None) -> bool:
    """Close the run once nothing is left to do; exactly one caller wins and notifies the plugins.

    Once every record is processed and every form answered, the National Register notices of
    each CPAS that reads them are fetched (one task per CPAS, sent by whichever caller with an
    enqueuer sees it first; the sweeper covers a lost message); the run closes after them.
    """
    with rt.session() as s:
        _index_probes(s, True)
        head = s.execute(probe_statement(), {"probe_run": run_id}).first()
        if head is None or head[0] != "running" or head[1] < 0:
            return False
        _index_probes(s, False)
        open_effects = {kind for kind, bit in (("form", 1), ("push", 2)) if head[1] & bit}
        notices_open = list(
            s.execute(
                select(SyncRunCpas.cpas_id, SyncRunCpas.notices_state).where(
                    SyncRunCpas.run_id == run_id, SyncRunCpas.notices_state.in_(OPEN_NOTICE_STATES)
                )
            ).all()
        )
        if "form" not in open_effects and enq is not None:
            _queue_notices(
                rt, s, run_id, [c for c, state in notices_open if state == "pending"], enq
            )
        if open_effects or notices_open:
            return False
        run = s.get_one(SyncRun, run_id)
        if run.trigger == "statement" and s.scalar(
            select(func.count())
            .select_from(StatementFetch)
            .where(
                StatementFetch.run_id == run_id, StatementFetch.state.in_(("waiting", "fetching"))
            )
        ):
            return False
        counts = run_counts(s, run_id)
        stats = stage_stats(s, run_id)
        finished = utcnow()
        problems = [
            RecordProblem(
                record_id=q.record_id,
                field=(q.problems[0]["field"] if q.problems else ""),
                reason=f"[{q.stage}] {q.reason}"[:1000],
            )
            for q in s.scalars(
                select(QuarantineEntry)
                .where(QuarantineEntry.run_id == run_id)
                .order_by(QuarantineEntry.id)
                .limit(1000)
            )
        ]
        failures = [
            PluginFailure(
                plugin="?",
                hook="piis_case_fetch_changes",
                cpas_id=c,
                error_type="PullFailed",
                message=e,
            )
            for c, e in counts["pull_errors"].items()
        ]
        failures += [
            PluginFailure(
                plugin="?", hook=NOTICES_HOOK, cpas_id=c, error_type="NoticesFailed", message=e
            )
            for c, e in counts["notice_errors"].items()
        ]
        status = "failed" if counts["pull_errors"] and counts["fetched"] == 0 else "finished"
        statements = counts.get("statements") or {}
        if statements and not any(st["state"] == "reconciled" for st in statements.values()):
            status = "failed"  # not one statement could be fetched and reconciled
        won = rowcount(
            s.execute(
                update(SyncRun)
                .where(SyncRun.id == run_id, SyncRun.status == "running")
                .values(
                    status=status,
                    finished_at=finished,
                    counts=counts,
                    report={
                        "stages": stats,
                        "elapsed_seconds": round((finished - run.started_at).total_seconds(), 3),
                    },
                )
            )
        )
        if won:
            release_cpas_leases(s, run_id)
        s.commit()
        started, cpas_ids = run.started_at, list(run.cpas_ids)
    if won:
        wrong = unbalanced(counts)
        if wrong:
            _log.error("run report does not add up", run_id=run_id, sums="; ".join(wrong))
        report = RunReport(
            run_id=run_id,
            started_at=started,
            finished_at=finished,
            cpas_ids=cpas_ids,
            counts={k: v for k, v in counts.items() if isinstance(v, int)},
            problems=problems,
            plugin_failures=failures,
        )
        rt.host.run_finished(report)
        _log.info(
            "run finished",
            run_id=run_id,
            status=status,
            **{k: v for k, v in counts.items() if isinstance(v, int)},
        )
    return bool(won)


def _queue_notices(
    rt: Runtime, s: Session, run_id: str, cpas_ids: Sequence[str], enq: Enqueuer
) -> None:
    """Send the notice task of each CPAS whose notices are still to read (one sender wins each)."""
    for cpas_id in cpas_ids:
        won = rowcount(
            s.execute(
                update(SyncRunCpas)
                .where(
                    SyncRunCpas.run_id == run_id,
                    SyncRunCpas.cpas_id == cpas_id,
                    SyncRunCpas.notices_state == "pending",
                )
                .values(
                    notices_state="queued",
                    notices_lease_until=utcnow() + timedelta(seconds=rt.options.requeue_after),
                )
            )
        )
        s.commit()
        if won:
            enq.notices(run_id, cpas_id)


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
                s.execute(
                    update(Effect)
                    .where(Effect.id == entry.effect_id, Effect.state == "quarantined")
                    .values(
                        state="pending",
                        run_id=run_id,
                        attempts=0,
                        next_attempt_at=None,
                        lease_owner=None,
                        lease_until=None,
                    )
                )
                effect = s.get_one(Effect, entry.effect_id)
                effect_cpas.add((effect.kind, effect.cpas_id))
            elif entry.item_id is not None:
                old = s.get_one(WorkItem, entry.item_id)
                ids = insert_ignore(
                    s,
                    WorkItem,
                    [
                        dict(
                            run_id=run_id,
                            cpas_id=old.cpas_id,
                            record_id=old.record_id,
                            version=old.version,
                            payload=old.payload,
                            state="pending",
                            updated_at=utcnow(),
                        )
                    ],
                    returning=WorkItem.id,
                )
                new_items.extend(ids)
            elif entry.stage == "notice":
                # Handled again from its stored row by this run's notice stage (no new page is read).
                s.execute(
                    update(Notice)
                    .where(
                        Notice.cpas_id == entry.cpas_id,
                        Notice.reference == entry.record_id,
                        Notice.state == "quarantined",
                    )
                    .values(state="pending", run_id=run_id)
                )
                s.execute(
                    update(SyncRunCpas)
                    .where(SyncRunCpas.run_id == run_id, SyncRunCpas.cpas_id == entry.cpas_id)
                    .values(notices_state="pending")
                )
            entry.status, entry.replay_run_id = "replayed", run_id
        s.commit()
    with rt.session() as s:
        info = s.get_one(SyncRun, run_id)
        rt.host.run_started(
            RunInfo(
                run_id=run_id,
                started_at=info.started_at,
                cpas_ids=list(info.cpas_ids),
                trigger="replay",
            )
        )
    for start in range(0, len(new_items), rt.options.chunk_size):
        enq.process(run_id, new_items[start : start + rt.options.chunk_size])
    for kind, cpas_id in sorted(effect_cpas):
        (enq.submit if kind == "form" else enq.push)(run_id, cpas_id)
    maybe_finish(rt, run_id, enq)
    return run_id
