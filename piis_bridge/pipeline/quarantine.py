"""Closing quarantine entries with a trace (issue #14): resolved when the record later goes through,
dismissed by hand with a reason.

Why: an entry that stays open after its record was fixed at the source and processed by a later run
hides the entries that still need someone; one that nobody can fix (a test record, a dossier closed
by hand) must be closable without pretending it was replayed.  Both keep who/why/when.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from piis_bridge.logging import redact
from piis_bridge.pipeline.models import QuarantineEntry, rowcount, utcnow
from piis_bridge.pipeline.outbox import any_of
from piis_bridge.pipeline.runtime import Runtime

__all__ = ["RECORD_STAGES", "QuarantineError", "dismiss", "resolve_processed"]

# stages at which a *record* was quarantined: a later successful processing of that record resolves them
RECORD_STAGES = (
    "store",
    "conflict",
    "map",
    "hash",
    "evaluate",
    "build",
    "alerts",
    "process",
    "transfer",
)


class QuarantineError(ValueError):
    """An entry that does not exist or is no longer open."""


def resolve_processed(s: Session, run_id: str, cpas_id: str, record_ids: Sequence[str]) -> int:
    """In the caller's transaction: the open record-stage entries of these records, from earlier runs,
    are resolved ("processed in run X")."""
    if not record_ids:
        return 0
    now, done = utcnow(), 0
    ids = sorted(set(record_ids))
    # PostgreSQL: one ``= ANY(:array)`` statement whatever the number of records (outbox.any_of);
    # the slices only bound SQLite's IN lists.
    step = len(ids) if s.get_bind().dialect.name == "postgresql" else 500
    for i in range(0, len(ids), step):
        done += rowcount(
            s.execute(
                update(QuarantineEntry)
                .where(
                    QuarantineEntry.cpas_id == cpas_id,
                    any_of(s, QuarantineEntry.record_id, ids[i : i + step]),
                    QuarantineEntry.status == "open",
                    QuarantineEntry.stage.in_(RECORD_STAGES),
                    QuarantineEntry.run_id != run_id,
                )
                .values(
                    status="resolved", closed_at=now, closed_reason=f"processed in run {run_id}"
                )
                .execution_options(synchronize_session=False)
            )
        )
    return done


def dismiss(rt: Runtime, entry_id: int, reason: str) -> QuarantineEntry:
    """Close one open entry by hand; *reason* is required and kept (masked like every stored text)."""
    reason = (reason or "").strip()
    if not reason:
        raise QuarantineError("a reason is required to dismiss a quarantine entry (--reason)")
    with rt.session() as s:
        entry = s.get(QuarantineEntry, entry_id)
        if entry is None:
            raise QuarantineError(f"no quarantine entry {entry_id}")
        if entry.status != "open":
            raise QuarantineError(
                f"quarantine entry {entry_id} is {entry.status}, not open"
                + (f" ({entry.closed_reason})" if entry.closed_reason else "")
            )
        won = rowcount(
            s.execute(
                update(QuarantineEntry)
                .where(QuarantineEntry.id == entry_id, QuarantineEntry.status == "open")
                .values(status="dismissed", closed_at=utcnow(), closed_reason=redact(reason)[:2000])
            )
        )
        s.commit()
        if not won:
            raise QuarantineError(f"quarantine entry {entry_id} was closed meanwhile")
        return s.scalars(select(QuarantineEntry).where(QuarantineEntry.id == entry_id)).one()
