"""National Register notices in the nightly run: moves, deaths, emigrations, replaced NISS (issue #8).

Why the pipeline reads them: a move recorded in the National Register can reach the federal side
before the social worker types it into the case system, and the PIIS ends by law on the day the
CPAS stops being competent (R-TRF-01).  For each CPAS whose federal plugin implements
``piis_federal_fetch_notices``, once the run's forms are answered (:func:`runs.maybe_finish`
sends the task), this stage pages through the notices after the stored cursor:

- each page's notices are stored (``sync_notice``, unique per CPAS and notice reference) in the
  same transaction as the cursor the page returns, so a crash between pages loses nothing and a
  notice the feed returns again is handled once;
- each stored notice is then handled on its own: the person's contracts at this CPAS are found by
  the keyed person hash (:mod:`piis_bridge.pipeline.persons`, never by the NISS), each contract is
  read back from its last processed source record, and

  * ``move``: a transfer case through :func:`piis_bridge.transfer.detection.detect_transfer` (the
    move reported from outside the contract), with the social worker's task as a keyed push effect
    (the same key as when the case system reports the move); for a CPAS without a transfer plugin,
    only the task saying the PIIS ends (R-TRF-01);
  * ``death``, ``emigration``: a task saying the PIIS ends (R-GEN-01), for the contracts still
    running on that day;
  * ``niss_replaced``: a task to update the dossier (the new number masked);

- a notice that cannot be handled is quarantined with its reference (stage ``notice``,
  replayable) and the others go on; a notice for a person with no contract here is kept as
  ``unmatched``.

A plugin without the hook changes nothing: the stage is never started for that CPAS.
"""

from __future__ import annotations

import hashlib
import time
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from sqlalchemy import and_, func, select, update
from sqlalchemy.orm import Session

from piis_bridge.hooks.types import PushItem, RegisterNotice, SourceRecord
from piis_bridge.i18n import push as push_text
from piis_bridge.i18n.ops import (
    move_without_ins_text,
    no_longer_maps_text,
    notice_failed_text,
    notice_problem_text,
    unknown_notice_text,
)
from piis_bridge.i18n.text import error_text
from piis_bridge.identifiers import mask_niss
from piis_bridge.logging import get_logger
from piis_bridge.model import PIISContract
from piis_bridge.pipeline.models import (
    Effect,
    Notice,
    NoticeCursor,
    SyncRun,
    SyncRunCpas,
    WorkItem,
    utcnow,
)
from piis_bridge.pipeline.outbox import (
    NOTICE,
    NOTICE_FEED,
    Enqueuer,
    call,
    circuit_open,
    claim,
    describe,
    insert_ignore,
    push_row,
    quarantine,
    record_stat,
    release,
    renew,
)
from piis_bridge.pipeline.process import transfer_configured
from piis_bridge.pipeline.runs import maybe_finish
from piis_bridge.pipeline.runtime import Runtime

__all__ = ["handle_pending_notices", "notice_task", "read_notices", "stored_reference"]

_log = get_logger("piis_bridge.pipeline.notices")
_REFERENCE_MAX = 120


class NoticeError(Exception):
    """This notice cannot be handled now (the reason names the dossier or the field, never the NISS)."""


@dataclass(frozen=True)
class _Handled:
    state: str  # done | unmatched
    contracts: int
    pushes: list[dict[str, Any]]


# ====================================================================================== the stage


def read_notices(rt: Runtime, run_id: str, cpas_id: str, enq: Enqueuer, attempt: int = 0) -> None:
    """Handle the notices left pending, then page through the feed (except in a replay run)."""
    o = rt.options
    remote = f"federal:{cpas_id}"
    with rt.session() as s:
        won, _ = claim(s, NOTICE_FEED, _feed(run_id, cpas_id), o.lease_seconds)
        if not won:
            return
        trigger = s.scalar(select(SyncRun.trigger).where(SyncRun.id == run_id))
    _backfill_person_keys(rt, run_id, cpas_id)
    pushed = handle_pending_notices(rt, run_id, cpas_id)
    host = rt.host
    state, error = "done", None
    while trigger != "replay":
        t0 = time.perf_counter()
        with rt.session() as s:

            def hold_off(wait: float, s: Session = s, attempt: int = attempt) -> None:
                _release(s, rt, run_id, cpas_id, wait)
                enq.notices(run_id, cpas_id, countdown=wait, attempt=attempt)

            if circuit_open(rt, s, remote, hold_off):
                return
            row = s.get(NoticeCursor, cpas_id)
            cursor = row.cursor if row else None
        fetched = call(host, "federal_fetch_notices", cpas_id, cursor, o.page_size, run_id=run_id)
        page = fetched.value
        if page is None:
            failures = list(fetched.failures)
            if fetched.transient and not rt.retry.exhausted(attempt + 1):
                delay = rt.retry.delay(attempt + 1)
                with rt.session() as s:
                    rt.breaker.failure(s, remote)
                    _release(s, rt, run_id, cpas_id, delay)
                _log.warning(
                    "notice feed unavailable, retrying",
                    cpas=cpas_id,
                    run_id=run_id,
                    attempt=attempt + 1,
                    delay=round(delay, 2),
                    error=describe(failures),
                )
                enq.notices(run_id, cpas_id, countdown=delay, attempt=attempt + 1)
                return
            state, error = "failed", describe(failures)
            break
        attempt = 0
        now = utcnow()
        rows = [_notice_row(rt, cpas_id, run_id, notice) for notice in page.notices]
        with rt.session() as s:
            rt.breaker.success(s, remote)
            insert_ignore(s, Notice, rows)
            for (
                problem
            ) in page.problems:  # unreadable at the source: kept for IT staff, not replayable here
                quarantine(
                    s,
                    run_id=run_id,
                    cpas_id=cpas_id,
                    record_id=problem.record_id,
                    stage="notice_feed",
                    reason=notice_problem_text(problem),
                    problems=[problem],
                )
            if page.cursor is not None or cursor is not None:
                stored = s.get(NoticeCursor, cpas_id)
                if stored is None:
                    s.add(
                        NoticeCursor(
                            cpas_id=cpas_id, cursor=page.cursor, run_id=run_id, updated_at=now
                        )
                    )
                else:
                    stored.cursor, stored.run_id, stored.updated_at = page.cursor, run_id, now
            renew(s, NOTICE_FEED, _feed(run_id, cpas_id), o.lease_seconds)
            record_stat(s, run_id, "notices", len(page.notices), time.perf_counter() - t0)
            s.commit()
        pushed |= handle_pending_notices(rt, run_id, cpas_id)
        if not page.has_more:
            break
    with rt.session() as s:
        release(s, NOTICE_FEED, _feed(run_id, cpas_id), state, notices_error=error)
    if pushed:
        enq.push(run_id, cpas_id)
    maybe_finish(rt, run_id, enq)


def _feed(run_id: str, cpas_id: str) -> Any:
    return and_(SyncRunCpas.run_id == run_id, SyncRunCpas.cpas_id == cpas_id)


def _release(s: Session, rt: Runtime, run_id: str, cpas_id: str, delay: float) -> None:
    """Back to ``queued`` (the retry message is sent); the sweeper resends it if it is lost."""
    release(
        s,
        NOTICE_FEED,
        _feed(run_id, cpas_id),
        "queued",
        until=utcnow() + timedelta(seconds=delay + rt.options.requeue_after),
    )


def stored_reference(reference: str) -> str:
    """The notice's reference as stored and keyed: as is, or (when too long for the column) a prefix
    and a digest, so two long references never collide."""
    if len(reference) <= _REFERENCE_MAX:
        return reference
    return (
        reference[: _REFERENCE_MAX - 17] + "~" + hashlib.sha256(reference.encode()).hexdigest()[:16]
    )


def _notice_row(rt: Runtime, cpas_id: str, run_id: str, notice: RegisterNotice) -> dict[str, Any]:
    now = utcnow()
    details = {
        "new_ins_code": notice.new_ins_code,
        "new_municipality": notice.new_municipality,
        "replaced_by": mask_niss(notice.replaced_by) if notice.replaced_by else None,
    }
    return dict(
        cpas_id=cpas_id,
        reference=stored_reference(notice.reference),
        kind=notice.kind,
        effective_date=notice.effective_date,
        person_key=rt.person_key(notice.niss),
        details=details,
        state="pending",
        run_id=run_id,
        contracts=0,
        created_at=now,
        updated_at=now,
    )


def _backfill_person_keys(rt: Runtime, run_id: str, cpas_id: str, batch: int = 500) -> int:
    """Give the dossiers processed before ``person_key`` existed (or by a plugin that failed to map
    them since) their person hash, so a notice about them is not ``unmatched``.

    Why: after the upgrade only the dossiers that change are processed again, so the others would
    never get the hash.  The last processed version of each such dossier is mapped again by the
    case-system plugin (once: a few minutes for 100,000 dossiers on the first night, then nothing);
    older versions, and a dossier that no longer maps, get ``''`` (not a person) so they are not
    looked at every night.  Returns the number of dossiers given a hash.
    """
    missing = and_(
        WorkItem.cpas_id == cpas_id, WorkItem.state == "done", WorkItem.person_key.is_(None)
    )
    with rt.session() as s:
        if s.scalar(select(WorkItem.id).where(missing).limit(1)) is None:
            return 0
    host = rt.host
    filled = 0
    while True:
        with rt.session() as s:
            latest = (
                select(func.max(WorkItem.id))
                .where(WorkItem.cpas_id == cpas_id, WorkItem.state == "done")
                .group_by(WorkItem.record_id)
            )
            items = list(
                s.execute(
                    select(WorkItem.id, WorkItem.payload)
                    .where(missing, WorkItem.id.in_(latest))
                    .order_by(WorkItem.id)
                    .limit(batch)
                ).all()
            )
            if not items:
                s.execute(
                    update(WorkItem).where(missing).values(person_key="")
                )  # superseded versions
                s.commit()
                break
            keys: dict[int, str] = {}
            for item_id, payload in items:
                outcome = host.case_map_record(
                    cpas_id, SourceRecord.model_validate_json(payload), run_id=run_id
                )
                keys[item_id] = (
                    rt.person_key(outcome.contract.beneficiary.niss) if outcome.contract else ""
                )
            for item_id, key in keys.items():
                s.execute(update(WorkItem).where(WorkItem.id == item_id).values(person_key=key))
            renew(s, NOTICE_FEED, _feed(run_id, cpas_id), rt.options.lease_seconds)
            s.commit()
            filled += sum(1 for key in keys.values() if key)
    _log.info(
        "person hashes filled for dossiers processed before them",
        cpas=cpas_id,
        run_id=run_id,
        dossiers=filled,
    )
    return filled


# ====================================================================================== one notice


def handle_pending_notices(rt: Runtime, run_id: str, cpas_id: str) -> bool:
    """Handle every notice of the CPAS still pending (or left leased by a dead worker); True when
    push effects were created."""
    pushed = False
    with rt.session() as s:
        ids = list(
            s.scalars(
                select(Notice.id)
                .where(Notice.cpas_id == cpas_id, NOTICE.open(utcnow()))
                .order_by(Notice.id)
            )
        )
    for notice_id in ids:
        with rt.session() as s:
            won, _ = claim(
                s, NOTICE, Notice.id == notice_id, rt.options.lease_seconds, run_id=run_id
            )
            if not won:
                continue
            notice = s.get_one(Notice, notice_id)
            s.expunge(notice)
        try:
            handled = _handle(rt, run_id, notice)
        except Exception as exc:  # noqa: BLE001 - one bad notice must not stop the others
            reason = (
                error_text(exc) if isinstance(exc, NoticeError) else f"{type(exc).__name__}: {exc}"
            )
            with rt.session() as s:
                s.execute(
                    update(Notice)
                    .where(Notice.id == notice_id)
                    .values(state="quarantined", lease_until=None, updated_at=utcnow())
                )
                quarantine(
                    s,
                    run_id=run_id,
                    cpas_id=cpas_id,
                    record_id=notice.reference,
                    stage="notice",
                    reason=notice_failed_text(notice.kind, notice.reference, reason),
                )
                s.commit()
            continue
        with rt.session() as s:
            insert_ignore(s, Effect, handled.pushes)
            s.execute(
                update(Notice)
                .where(Notice.id == notice_id)
                .values(
                    state=handled.state,
                    contracts=handled.contracts,
                    lease_until=None,
                    updated_at=utcnow(),
                )
            )
            s.commit()
        pushed |= bool(handled.pushes)
        _log.info(
            "register notice handled",
            cpas=cpas_id,
            run_id=run_id,
            notice=notice.reference,
            kind=notice.kind,
            state=handled.state,
            contracts=handled.contracts,
        )
    return pushed


def _latest_items(s: Session, cpas_id: str, person_key: str) -> list[WorkItem]:
    """The last processed version of each dossier of this person at this CPAS."""
    latest = (
        select(func.max(WorkItem.id))
        .where(
            WorkItem.cpas_id == cpas_id, WorkItem.person_key == person_key, WorkItem.state == "done"
        )
        .group_by(WorkItem.record_id)
    )
    return list(
        s.scalars(select(WorkItem).where(WorkItem.id.in_(latest)).order_by(WorkItem.record_id))
    )


def _contract_of(rt: Runtime, run_id: str, item: WorkItem) -> PIISContract:
    """The dossier's contract, mapped again from its stored source record (the plugin's mapping)."""
    record = SourceRecord.model_validate_json(item.payload)
    outcome = rt.host.case_map_record(item.cpas_id, record, run_id=run_id)
    if outcome.contract is None:
        why = (
            "; ".join(f"{p.field or '(record)'}: {p.reason}" for p in outcome.problems)
            or outcome.skip_reason
        )
        raise NoticeError(no_longer_maps_text(item.record_id, str(item.version or "-"), why))
    return outcome.contract


def _handle(rt: Runtime, run_id: str, notice: Notice) -> _Handled:
    cpas_id = notice.cpas_id
    with rt.session() as s:
        items = _latest_items(s, cpas_id, notice.person_key)
        for item in items:
            s.expunge(item)
    if not items:
        return _Handled("unmatched", 0, [])
    pushes: list[dict[str, Any]] = []
    concerned = 0
    for item in items:
        contract = _contract_of(rt, run_id, item)
        task: PushItem | None = None
        if notice.kind == "move":
            affected, task = _move(rt, notice, item, contract)
        else:  # a death or an emigration after the contract ended concerns it no more
            affected = notice.kind == "niss_replaced" or contract.end_date >= notice.effective_date
            if affected:
                task = notice_task(
                    notice.kind,
                    notice.reference,
                    notice.effective_date,
                    item.record_id,
                    notice.details,
                )
        concerned += affected
        if task is not None:
            pushes.append(push_row(task, run_id=run_id, cpas_id=cpas_id, item_id=item.id))
    return _Handled("done", concerned, pushes)


def _move(
    rt: Runtime, notice: Notice, item: WorkItem, contract: PIISContract
) -> tuple[bool, PushItem | None]:
    """A move for one contract: (concerned, the task to push).  Not concerned: the move is outside the
    contract's period or within the municipality.  No task: the case system already confirmed it."""
    from piis_bridge.transfer.detection import detect_transfer
    from piis_bridge.transfer.legal import ResidenceChange, transfer_eligibility, with_move

    new_ins = notice.details.get("new_ins_code")
    if not new_ins:
        raise NoticeError(move_without_ins_text())
    move = ResidenceChange(
        new_ins_code=new_ins,
        change_date=notice.effective_date,
        municipality=notice.details.get("new_municipality"),
    )
    cpas_id = notice.cpas_id
    if transfer_configured(rt, cpas_id):
        from piis_bridge.transfer.package import PackageParty

        cfg = rt.settings.cpas[cpas_id]
        found = detect_transfer(
            rt.sessions,
            cpas_id=cpas_id,
            contract=contract,
            record_id=item.record_id,
            party=PackageParty(name=cfg.name, ins_code=cfg.ins_code, bce=cfg.bce),
            move=move,
        )
        if found is None:
            return False, None
        return True, found.task
    settings, _ = rt.rules(cpas_id)
    verdict = transfer_eligibility(with_move(contract, move), settings)
    if verdict is None:
        return False, None
    title, body, message = push_text.move_notice(
        new_ins, move.municipality, move.change_date, verdict.legal_end_date, verdict.reason
    )
    return True, PushItem(
        key=f"notice:{notice.reference}:{item.record_id}"[:200],
        record_id=item.record_id,
        kind="transfer_notice",
        title=title[:200],
        body=body,
        due=verdict.legal_end_date,
        data={
            "notice": notice.reference,
            "kind": "move",
            "rules": list(verdict.rules),
            "new_ins_code": new_ins,
            "effective_date": move.change_date.isoformat(),
        },
        message=message,
    )


def notice_task(
    kind: str, reference: str, effective: date, record_id: str, details: dict[str, Any]
) -> PushItem:
    """The social worker's task for a death, an emigration or a replaced NISS (one per notice and dossier)."""
    if kind == "death":
        title, body, message = push_text.death_notice(effective)
        rules, due = ["R-GEN-01"], effective
    elif kind == "emigration":
        title, body, message = push_text.emigration_notice(effective)
        rules, due = ["R-GEN-01", "R-GEN-07", "R-TRF-01"], effective
    elif kind == "niss_replaced":
        title, body, message = push_text.niss_replaced_notice(
            effective, (details.get("replaced_by") or "")[-2:]
        )
        rules, due = [], None
    else:
        raise NoticeError(unknown_notice_text(kind))
    return PushItem(
        key=f"notice:{reference}:{record_id}"[:200],
        record_id=record_id,
        kind="status",
        title=title,
        body=body,
        due=due,
        data={
            "notice": reference,
            "kind": kind,
            "rules": rules,
            "effective_date": effective.isoformat(),
        },
        message=message,
    )
