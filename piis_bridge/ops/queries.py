"""Read-only queries behind the daily-work commands (and, later, the web console).

Each function takes an open SQLAlchemy session (or the runtime, when plugins are needed) and returns
plain JSON-ready data whose shape is documented in ``docs/ops.md`` and stable: fields are only ever
added.  Dates are ISO 8601 strings in UTC.  Nothing here returns a NISS: forms are named by their
dossier and key, records by their vendor id.

Why plain data and not ORM rows: the CLI prints it as a table or as ``--json`` unchanged, and the
console serves the same dictionaries, so both always show the same facts.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

__all__ = ["FORMAT", "forms_list", "held_contracts", "quarantine_list", "run_details", "runs_list"]

FORMAT = {
    "runs": "piis-bridge/runs/1",
    "run": "piis-bridge/run/1",
    "quarantine": "piis-bridge/quarantine/1",
    "forms": "piis-bridge/forms/1",
}


def _iso(value: datetime | None) -> str | None:
    if value is None:
        return None
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.astimezone(UTC).isoformat(timespec="seconds")


def _aware(value: datetime | None) -> datetime | None:
    if value is not None and value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value


def runs_list(session: Session, *, limit: int = 20) -> dict[str, Any]:
    """The latest runs, newest first."""
    from piis_bridge.pipeline.models import SyncRun

    runs = []
    for r in session.scalars(select(SyncRun).order_by(SyncRun.started_at.desc()).limit(limit)):
        c = r.counts or {}
        runs.append(
            {
                "id": r.id,
                "trigger": r.trigger,
                "status": r.status,
                "started_at": _iso(r.started_at),
                "finished_at": _iso(r.finished_at),
                "seconds": round((r.finished_at - r.started_at).total_seconds(), 1)
                if r.finished_at
                else None,
                "cpas_ids": list(r.cpas_ids or []),
                "fetched": c.get("fetched"),
                "forms": c.get("forms"),
                "quarantined": c.get("quarantined", c.get("items_quarantined")),
                "error": (r.report or {}).get("error"),
            }
        )
    return {"format": FORMAT["runs"], "runs": runs}


def quarantine_list(
    session: Session,
    *,
    status: str | None = "open",
    run_id: str | None = None,
    cpas_id: str | None = None,
    limit: int = 100,
) -> dict[str, Any]:
    """Quarantine entries (open ones by default), oldest first, with their full reason."""
    from piis_bridge.pipeline.models import QuarantineEntry

    q = select(QuarantineEntry).order_by(QuarantineEntry.id).limit(limit)
    if status:
        q = q.where(QuarantineEntry.status == status)
    if run_id:
        q = q.where(QuarantineEntry.run_id == run_id)
    if cpas_id:
        q = q.where(QuarantineEntry.cpas_id == cpas_id)
    entries = [
        {
            "id": e.id,
            "run_id": e.run_id,
            "cpas_id": e.cpas_id,
            "record_id": e.record_id,
            "stage": e.stage,
            "status": e.status,
            "reason": e.reason,
            "problems": list(e.problems or []),
            "created_at": _iso(e.created_at),
            "replay_run_id": e.replay_run_id,
        }
        for e in session.scalars(q)
    ]
    return {"format": FORMAT["quarantine"], "entries": entries}


def run_details(
    session: Session,
    run_id: str,
    *,
    now: datetime | None = None,
    counts: dict[str, Any] | None = None,
) -> dict[str, Any] | None:
    """One run: its counts, why it is waiting (open circuits and until when, retries scheduled, the
    last error in full), its quarantined records, and whether the workers run its configuration."""
    from piis_bridge.ops.tables import RunConfig, WorkerConfig
    from piis_bridge.pipeline.models import CircuitState, Effect, SyncRun, SyncRunCpas, WorkItem

    run = session.get(SyncRun, run_id)
    if run is None:
        return None
    now = now or datetime.now(UTC)
    cpas_ids = list(run.cpas_ids or [])
    remotes = [f"{kind}:{c}" for c in cpas_ids for kind in ("casesystem", "federal")]
    circuits = [
        {
            "remote": c.remote,
            "consecutive_failures": c.failures,
            "open_until": _iso(c.opened_until),
        }
        for c in session.scalars(select(CircuitState).where(CircuitState.remote.in_(remotes)))
        if c.opened_until is not None and _aware(c.opened_until) > now
    ]
    open_states = ("pending", "sending", "submitted")
    retries = [
        {
            "kind": e.kind,
            "cpas_id": e.cpas_id,
            "record_id": e.record_id,
            "key": e.key,
            "state": e.state,
            "attempts": e.attempts,
            "next_attempt_at": _iso(e.next_attempt_at),
            "last_error": e.last_error,
        }
        for e in session.scalars(
            select(Effect)
            .where(Effect.run_id == run_id, Effect.state.in_(open_states), Effect.attempts > 0)
            .order_by(Effect.next_attempt_at)
        )
    ]
    pending = {
        "records": session.scalar(
            select(func.count())
            .select_from(WorkItem)
            .where(WorkItem.run_id == run_id, WorkItem.state.in_(("pending", "leased")))
        )
        or 0,
        "forms": session.scalar(
            select(func.count())
            .select_from(Effect)
            .where(Effect.run_id == run_id, Effect.kind == "form", Effect.state.in_(open_states))
        )
        or 0,
        "pushes": session.scalar(
            select(func.count())
            .select_from(Effect)
            .where(
                Effect.run_id == run_id,
                Effect.kind == "push",
                Effect.state.in_(("pending", "sending")),
            )
        )
        or 0,
    }
    pulls = {
        p.cpas_id: {"state": p.state, "attempts": p.attempts, "error": p.error}
        for p in session.scalars(select(SyncRunCpas).where(SyncRunCpas.run_id == run_id))
    }
    last = session.scalars(
        select(Effect)
        .where(Effect.run_id == run_id, Effect.last_error.is_not(None))
        .order_by(Effect.updated_at.desc())
        .limit(1)
    ).first()
    last_error = (
        {"where": f"{last.kind} {last.key}", "at": _iso(last.updated_at), "error": last.last_error}
        if last is not None
        else None
    )
    if last_error is None:
        failed = [(c, p["error"]) for c, p in pulls.items() if p["error"]]
        if failed:
            last_error = {"where": f"pull {failed[0][0]}", "at": None, "error": failed[0][1]}
    error = (run.report or {}).get("error")
    reasons: list[str] = []
    if run.status == "running":
        for c in circuits:
            reasons.append(
                f"circuit {c['remote']} is open until {c['open_until']} after "
                f"{c['consecutive_failures']} consecutive failures: nobody calls it before then"
            )
        if retries:
            nxt = min((r["next_attempt_at"] for r in retries if r["next_attempt_at"]), default=None)
            reasons.append(
                f"{len(retries)} side effect(s) wait for a retry"
                + (f", the next at {nxt}" if nxt else "")
            )
        if pending["forms"] and not retries:
            reasons.append(
                f"{pending['forms']} form(s) sent or queued, waiting for the federal answer"
            )
        if pending["records"]:
            reasons.append(f"{pending['records']} record(s) not processed yet")
        if pending["pushes"] and not retries:
            reasons.append(f"{pending['pushes']} push-back(s) queued")
    fingerprint = session.get(RunConfig, run_id)
    workers = [
        {
            "node": w.node,
            "fingerprint": w.fingerprint,
            "started_at": _iso(w.started_at),
            "matches_run": fingerprint is None or w.fingerprint == fingerprint.fingerprint,
        }
        for w in session.scalars(select(WorkerConfig).order_by(WorkerConfig.node))
    ]
    if (
        run.status == "running"
        and fingerprint is not None
        and workers
        and not any(w["matches_run"] for w in workers)
    ):
        reasons.append("no worker runs this run's configuration: restart the workers")
    quarantined = quarantine_list(session, status=None, run_id=run_id, limit=10_000)["entries"]
    return {
        "format": FORMAT["run"],
        "run": {
            "id": run.id,
            "trigger": run.trigger,
            "status": run.status,
            "started_at": _iso(run.started_at),
            "finished_at": _iso(run.finished_at),
            "cpas_ids": cpas_ids,
            "dossier": run.dossier,
            "error": error,
        },
        "counts": counts if counts is not None else dict(run.counts or {}),
        "waiting": {
            "reasons": reasons,
            "open_circuits": circuits,
            "retries_scheduled": retries,
            "pending": pending,
            "pulls": pulls,
            "last_error": last_error,
        },
        "quarantined": quarantined,
        "configuration": {
            "run_fingerprint": fingerprint.fingerprint if fingerprint else None,
            "workers": workers,
        },
    }


def _month_bounds(month: str) -> tuple[datetime, datetime]:
    first = date.fromisoformat(month + "-01")
    following = date(first.year + (first.month == 12), first.month % 12 + 1, 1)
    return (
        datetime(first.year, first.month, 1, tzinfo=UTC),
        datetime(following.year, following.month, 1, tzinfo=UTC),
    )


def forms_list(
    session: Session,
    cpas_id: str,
    *,
    status: str | None = None,
    month: str | None = None,
    limit: int = 1000,
) -> dict[str, Any]:
    """Federal forms of a CPAS from the ledger: dossier, form, status and every code and message of
    the answer.  ``month`` (YYYY-MM) keeps the forms sent that month (built, for forms not sent)."""
    from piis_bridge.ledger.models import FormEntry

    q = select(FormEntry).where(FormEntry.cpas_id == cpas_id).order_by(FormEntry.id).limit(limit)
    if status:
        q = q.where(FormEntry.status == status)
    if month:
        start, end = _month_bounds(month)
        when = func.coalesce(FormEntry.sent_at, FormEntry.created_at)
        q = q.where(when >= start, when < end)
    forms = [
        {
            "key": f.key,
            "cpas_id": f.cpas_id,
            "dossier": f.dossier,
            "form": f.kind,
            "version": f.version,
            "status": f.status,
            "reference": f.reference,
            "sent_at": _iso(f.sent_at),
            "answered_at": _iso(f.answered_at),
            "issues": [
                {
                    "code": i.get("code"),
                    "severity": i.get("severity"),
                    "field": i.get("field"),
                    "rubric": i.get("rubric"),
                    "message": i.get("message"),
                }
                for i in (f.errors or [])
            ],
        }
        for f in session.scalars(q)
    ]
    return {
        "format": FORMAT["forms"],
        "cpas_id": cpas_id,
        "status": status,
        "month": month,
        "forms": forms,
    }


def held_contracts(rt: Any, cpas_id: str) -> Iterator[Any]:
    """The contracts the bridge holds for a CPAS: the latest processed version of each of its records,
    mapped through the CPAS's case-system plugin (no call to the case system itself)."""
    from piis_bridge.hooks.types import SourceRecord
    from piis_bridge.pipeline.models import WorkItem

    with rt.session() as s:
        latest = (
            select(func.max(WorkItem.id))
            .where(WorkItem.cpas_id == cpas_id, WorkItem.state == "done")
            .group_by(WorkItem.record_id)
        )
        payloads = list(
            s.scalars(select(WorkItem.payload).where(WorkItem.id.in_(latest)).order_by(WorkItem.id))
        )
    host = rt.host
    for payload in payloads:
        outcome = host.case_map_record(cpas_id, SourceRecord.model_validate_json(payload))
        if outcome.contract is not None:
            yield outcome.contract
