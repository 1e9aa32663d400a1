"""Finished work does not slow down tomorrow's run (issue #20): the rows of runs that ended more than
``prune_after_days`` ago are deleted once their work is settled.

What goes: side effects answered or done (the form ledger keeps each form's own record: key, payload
hash, status, answer), and work items processed or skipped, except each dossier's last processed item
(the National Register notice stage maps it again to find a person's contracts).  What stays: every
run and its report, quarantine entries and what they point at, anything still open.
"""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import delete, func, select

from piis_bridge.logging import get_logger
from piis_bridge.pipeline.models import Effect, SyncRun, WorkItem, rowcount, utcnow
from piis_bridge.pipeline.runtime import Runtime

__all__ = ["prune"]

_log = get_logger("piis_bridge.pipeline.prune")


def prune(rt: Runtime, *, older_than_days: float | None = None) -> dict[str, int]:
    """Delete the settled rows of runs finished before the cut-off; returns how many of each."""
    days = rt.options.prune_after_days if older_than_days is None else older_than_days
    cutoff = utcnow() - timedelta(days=days)
    with rt.session() as s:
        old = (
            select(SyncRun.id)
            .where(SyncRun.status != "running", SyncRun.finished_at < cutoff)
            .scalar_subquery()
        )
        effects = rowcount(
            s.execute(
                delete(Effect)
                .where(Effect.run_id.in_(old), Effect.state.in_(("answered", "done")))
                .execution_options(synchronize_session=False)
            )
        )
        latest = (
            select(func.max(WorkItem.id))
            .where(WorkItem.state == "done")
            .group_by(WorkItem.cpas_id, WorkItem.record_id)
            .scalar_subquery()
        )
        items = rowcount(
            s.execute(
                delete(WorkItem)
                .where(
                    WorkItem.run_id.in_(old),
                    WorkItem.state.in_(("done", "skipped")),
                    WorkItem.id.not_in(latest),
                )
                .execution_options(synchronize_session=False)
            )
        )
        s.commit()
    if effects or items:
        _log.info("pruned finished work", effects=effects, items=items, older_than_days=days)
    return {"effects": effects, "items": items}
