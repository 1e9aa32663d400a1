"""Retention: the payloads of finished work are purged after ``retention_days``.

Why: the bridge needs a record's payload while the work on it may still move (mapping, forms,
answers, push-backs, a replay, a person-matching of a National Register notice).  Once finished,
the personal data in it has no purpose left here: the case system and the federal service keep
their own records.  What stays is what makes the history auditable: keys, states, dates, counts,
hashes (``payload_hash`` / ``content_hash`` of each federal form, the envelope hash of a received
package) and the keyed person hash.

Purged (payload replaced by ``""``, result by NULL), each only when older than the cut-off:

* ``sync_item.payload`` of *done* items that are no longer the latest done version of their record
  (the latest one is what a notice is matched against);
* ``sync_effect.payload`` / ``result`` of effects in a final state (``done``, ``answered``);
* ``federal_form_ledger.payload`` / ``xml`` / ``niss`` (the encrypted NISS; its keyed hash stays) of
  forms in a final state (``superseded``, ``refused``): a new version carries its own NISS;
* ``transfer_received.envelope`` / ``draft_json`` of packages whose review went back
  (``assessment_acknowledged``) and ``transfer_case.contract_json`` / ``envelope`` of closed cases.

Quarantined items keep their payload: they wait for a replay.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import func, inspect, select, update
from sqlalchemy.engine import Engine

__all__ = ["PURGED", "purge_finished"]

PURGED = ""


def purge_finished(engine: Engine, days: int, *, now: datetime | None = None) -> dict[str, int]:
    """Purge what :mod:`piis_bridge.retention` describes; returns rows purged per column group."""
    from piis_bridge.ledger.models import FormEntry
    from piis_bridge.pipeline.models import Effect, WorkItem
    from piis_bridge.transfer.tables import ReceivedPackage, TransferCase

    if days < 1:
        raise ValueError("retention_days must be at least 1")
    cutoff = (now or datetime.now(UTC)) - timedelta(days=days)
    present = set(inspect(engine).get_table_names())
    out: dict[str, int] = {}
    with engine.begin() as conn:
        if WorkItem.__tablename__ in present:
            latest = (
                select(func.max(WorkItem.id))
                .where(WorkItem.state == "done")
                .group_by(WorkItem.cpas_id, WorkItem.record_id)
                .scalar_subquery()
            )
            out["sync_item.payload"] = conn.execute(
                update(WorkItem)
                .where(
                    WorkItem.state == "done",
                    WorkItem.updated_at < cutoff,
                    WorkItem.payload != PURGED,
                    WorkItem.id.not_in(latest),
                )
                .values(payload=PURGED)
            ).rowcount
        if Effect.__tablename__ in present:
            out["sync_effect.payload"] = conn.execute(
                update(Effect)
                .where(
                    Effect.state.in_(("done", "answered")),
                    Effect.updated_at < cutoff,
                    Effect.payload != PURGED,
                )
                .values(payload=PURGED, result=None)
            ).rowcount
        if FormEntry.__tablename__ in present:
            out["federal_form_ledger.payload"] = conn.execute(
                update(FormEntry)
                .where(
                    FormEntry.status.in_(("superseded", "refused")),
                    FormEntry.updated_at < cutoff,
                    FormEntry.payload != PURGED,
                )
                .values(payload=PURGED, xml=PURGED, niss=PURGED)
            ).rowcount
        if ReceivedPackage.__tablename__ in present:
            out["transfer_received.envelope"] = conn.execute(
                update(ReceivedPackage)
                .where(
                    ReceivedPackage.state == "assessment_acknowledged",
                    ReceivedPackage.updated_at < cutoff,
                    ReceivedPackage.envelope != PURGED,
                )
                .values(envelope=PURGED, draft_json=None)
            ).rowcount
        if TransferCase.__tablename__ in present:
            closed = ("consent_refused", "not_transferable", "assessed", "rejected")
            out["transfer_case.contract_json"] = conn.execute(
                update(TransferCase)
                .where(
                    TransferCase.state.in_(closed),
                    TransferCase.updated_at < cutoff,
                    TransferCase.contract_json != PURGED,
                )
                .values(contract_json=PURGED, envelope=None)
            ).rowcount
    return out
