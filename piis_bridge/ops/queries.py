"""The one query layer over the pipeline's, ledger's and transfer's tables: the CLI listings and the
web console both read through here.

Two kinds of results, over the same statements and conditions:

* the CLI's listings (:func:`runs_list`, :func:`run_details`, :func:`quarantine_list`,
  :func:`forms_list`, :func:`held_contracts`) return plain JSON-ready data whose shape is documented
  in ``docs/ops.md`` and stable (fields are only ever added; dates ISO 8601 in UTC), printed as a
  table or ``--json`` unchanged;
* the console's pages get typed, CPAS-scoped, paginated results (:class:`Page` of dataclasses):
  every such function takes the caller's CPAS scope and never returns a row of another CPAS (a record
  outside the scope is ``None``, which the pages turn into 404).

Why one module: those tables are owned by the pipeline (``piis_bridge.pipeline.models``), the form
ledger (``piis_bridge.ledger.models``) and the hand-over (``piis_bridge.transfer.tables``) and change
with them; a filter (a quarantine status, a ledger month, a federal code) is written once, in the
``*_conditions`` helpers below, so the CLI and the console always show the same facts.

Nothing here returns an unmasked NISS, except :func:`dossier_niss`, which the console's audited
reveal calls; the CLI names forms by their dossier and key, records by their vendor id.  Console
lists are paginated in the database (``LIMIT``/``OFFSET`` with a bounded page size).
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any, Generic, TypeVar

from sqlalchemy import String, exists, func, literal, literal_column, or_, select
from sqlalchemy.orm import Session

from piis_bridge.console.models import AGENDA_DUE_SQL
from piis_bridge.identifiers import is_valid_niss, mask_niss
from piis_bridge.ledger.models import FormEntry
from piis_bridge.logging import redact
from piis_bridge.pipeline.models import (
    CircuitState,
    Effect,
    QuarantineEntry,
    StageStat,
    StatementFetch,
    SyncRun,
    SyncRunCpas,
    WorkItem,
    utcnow,
)
from piis_bridge.transfer.tables import ConsentRecord, ReceivedPackage, TransferCase, TransferEvent

__all__ = [
    "FORMAT",
    "OPEN_FORM_STATES",
    "PAGE_SIZE",
    "QUARANTINE_STATUSES",
    "UNASSIGNED",
    "AgendaRow",
    "AgendaWorker",
    "CpasOverview",
    "DossierHistory",
    "FormRow",
    "LedgerRow",
    "Page",
    "PushRow",
    "QuarantineDetail",
    "QuarantineRow",
    "ReceivedRow",
    "ReviewItem",
    "RunCpasRow",
    "RunDetail",
    "RunRow",
    "StageRow",
    "StatementRow",
    "TransferEventRow",
    "TransferRow",
    "VersionRow",
    "agenda_workers",
    "dossier_history",
    "dossier_niss",
    "dossiers_of_person",
    "find_dossier",
    "forms_list",
    "held_contracts",
    "item_payload",
    "latest_statements",
    "ledger_conditions",
    "list_agenda",
    "list_ledger",
    "list_quarantine",
    "list_received",
    "list_runs",
    "list_transfers",
    "overview",
    "page_of",
    "quarantine_conditions",
    "quarantine_detail",
    "quarantine_list",
    "replay_preview",
    "run_detail",
    "run_details",
    "runs_list",
    "worker_fingerprints",
]

FORMAT = {
    "runs": "piis-bridge/runs/1",
    "run": "piis-bridge/run/1",
    "quarantine": "piis-bridge/quarantine/1",
    "forms": "piis-bridge/forms/1",
}

T = TypeVar("T")
PAGE_SIZE = 50
COUNT_CAP = 1_000
MAX_PAGE = 2_000  # OFFSET beyond 100,000 rows: use the filters
QUARANTINE_STATUSES = ("open", "replayed", "resolved", "dismissed")
OPEN_FORM_STATES = ("pending", "sending", "submitted")
# the ledger statuses the overview counts: what still needs someone (accepted forms are the bulk, and
# counting them on every visit would cost more than the page; the forms ledger page filters them)
LEDGER_TO_WATCH = ("built", "sent", "refused", "blocked", "partially_accepted")


@dataclass(frozen=True)
class Page(Generic[T]):
    """One page of a list.  ``total`` is exact up to :data:`COUNT_CAP`; beyond, ``capped`` is true
    and the page shows "more than ..." (counting a million ledger rows, or a JSON text search over
    them, on every page view would cost more than the page itself).  ``more`` says whether a next
    page exists, known by reading one row more than the page, whatever the count."""

    items: list[T]
    page: int
    size: int
    total: int
    capped: bool = False
    more: bool = False

    @property
    def pages(self) -> int | None:
        return None if self.capped else max(1, -(-self.total // self.size))

    @property
    def has_next(self) -> bool:
        return self.more

    @property
    def has_prev(self) -> bool:
        return self.page > 1


def _page(
    s: Session, stmt: Any, key: Any, cond: Sequence[Any], page: int, size: int = PAGE_SIZE
) -> tuple[list[Any], int, int, bool]:
    """Rows of one page, the page number, the count of matching rows (at most ``COUNT_CAP + 1``) and
    whether another page follows."""
    page = min(max(1, page), MAX_PAGE)
    total = (
        s.scalar(
            select(func.count()).select_from(
                select(key).where(*cond).limit(COUNT_CAP + 1).subquery()
            )
        )
        or 0
    )
    rows = list(s.execute(stmt.limit(size + 1).offset((page - 1) * size)))
    return rows[:size], page, total, len(rows) > size


def _mk(items: list[Any], page: int, total: int, more: bool, size: int = PAGE_SIZE) -> Page[Any]:
    return Page(items, page, size, min(total, COUNT_CAP), total > COUNT_CAP, more)


def page_of(
    s: Session,
    stmt: Any,
    key: Any,
    cond: Sequence[Any],
    page: int,
    size: int = PAGE_SIZE,
    convert: Any = None,
) -> Page[Any]:
    """One :class:`Page` of *stmt* (filtered by *cond*, counted on *key*), each row through *convert*
    (for lists of tables outside this module, such as the console's audit log)."""
    rows, page, total, more = _page(s, stmt, key, cond, page, size)
    return _mk([convert(r) if convert else r for r in rows], page, total, more, size)


def _loads(text: str | None) -> Any:
    if not text:
        return None
    try:
        return json.loads(text)
    except ValueError:
        return text


def _masked_payload(text: str | None) -> Any:
    """A stored payload for display: parsed, with every NISS masked (``redact``)."""
    return redact(_loads(text))


# ============================================================================================ overview


@dataclass(frozen=True)
class CpasOverview:
    cpas_id: str
    last_run_id: str | None
    last_run_status: str | None
    last_run_started: datetime | None
    last_run_finished: datetime | None
    fetched: int
    processed: int
    quarantined: int
    forms_by_state: dict[str, int]
    ledger_by_status: dict[str, int]
    open_quarantine: int
    open_circuits: list[tuple[str, datetime]]
    statement_month: date | None
    statement_state: str | None
    statement_differences: int

    @property
    def age(self) -> timedelta | None:
        return utcnow() - self.last_run_started if self.last_run_started else None

    @property
    def duration(self) -> timedelta | None:
        if self.last_run_started and self.last_run_finished:
            return self.last_run_finished - self.last_run_started
        return None


# Per-CPAS counts of a *finished* run hardly change (only a replay moves effects to its own run), and
# counting 70,000 items and forms per CPAS on every visit of the overview costs most of the page on
# a large installation: they are kept for RUN_COUNTS_TTL seconds, per database, run and CPAS.
RUN_COUNTS_TTL = 300.0
_run_counts: dict[tuple[str, str, str], tuple[float, dict[str, int], dict[str, int]]] = {}
_run_counts_lock = threading.Lock()


def _item_states(s: Session, run_id: str, cpas: str) -> dict[str, int]:
    """How many records of a run and CPAS are in each state (done, quarantined, pending...)."""
    return dict(
        s.execute(
            select(WorkItem.state, func.count())
            .where(WorkItem.run_id == run_id, WorkItem.cpas_id == cpas)
            .group_by(WorkItem.state)
        ).all()
    )


def _counts_of_run(
    s: Session, run_id: str, cpas: str, finished: bool
) -> tuple[dict[str, int], dict[str, int]]:
    key = (str(s.get_bind().engine.url), run_id, cpas)
    now = time.monotonic()
    with _run_counts_lock:
        hit = _run_counts.get(key)
    if finished and hit and hit[0] > now:
        return hit[1], hit[2]
    items = _item_states(s, run_id, cpas)
    forms: dict[str, int] = {}
    for state, answer, n in s.execute(
        select(Effect.state, Effect.answer, func.count())
        .where(Effect.run_id == run_id, Effect.cpas_id == cpas, Effect.kind == "form")
        .group_by(Effect.state, Effect.answer)
    ):
        label = (answer or state).lower() if state == "answered" else state
        forms[label] = forms.get(label, 0) + n
    if finished:
        with _run_counts_lock:
            if len(_run_counts) > 10_000:
                _run_counts.clear()
            _run_counts[key] = (now + RUN_COUNTS_TTL, items, forms)
    return items, forms


def _open_circuits(s: Session, which: Any, now: datetime) -> list[CircuitState]:
    """The circuits among *which* open at *now* (the overview's, and a run's waiting reasons)."""
    return list(
        s.scalars(
            select(CircuitState)
            .where(which, CircuitState.opened_until.is_not(None), CircuitState.opened_until > now)
            .order_by(CircuitState.remote)
        )
    )


def overview(s: Session, cpas_ids: Sequence[str]) -> list[CpasOverview]:
    out: list[CpasOverview] = []
    now = utcnow()
    for cpas in cpas_ids:
        last = s.execute(
            select(
                SyncRun.id,
                SyncRun.status,
                SyncRun.started_at,
                SyncRun.finished_at,
                SyncRunCpas.fetched,
            )
            .join(SyncRunCpas, SyncRunCpas.run_id == SyncRun.id)
            .where(SyncRunCpas.cpas_id == cpas, SyncRun.trigger.in_(("nightly", "manual")))
            .order_by(SyncRun.started_at.desc())
            .limit(1)
        ).first()
        items: dict[str, int] = {}
        forms: dict[str, int] = {}
        if last is not None:
            items, forms = _counts_of_run(s, last.id, cpas, last.status != "running")
        ledger = dict(
            s.execute(
                select(FormEntry.status, func.count())
                .where(FormEntry.cpas_id == cpas, FormEntry.status.in_(LEDGER_TO_WATCH))
                .group_by(FormEntry.status)
            ).all()
        )
        open_q = (
            s.scalar(
                select(func.count())
                .select_from(QuarantineEntry)
                .where(QuarantineEntry.status == "open", QuarantineEntry.cpas_id == cpas)
            )
            or 0
        )
        circuits = [
            (c.remote, c.opened_until)
            for c in _open_circuits(s, CircuitState.remote.like(f"%:{cpas}"), now)
            if c.opened_until is not None
        ]
        st = s.execute(
            select(StatementFetch.month, StatementFetch.state, StatementFetch.differences)
            .where(StatementFetch.cpas_id == cpas)
            .order_by(StatementFetch.month.desc(), StatementFetch.updated_at.desc())
            .limit(1)
        ).first()
        out.append(
            CpasOverview(
                cpas_id=cpas,
                last_run_id=last.id if last else None,
                last_run_status=last.status if last else None,
                last_run_started=last.started_at if last else None,
                last_run_finished=last.finished_at if last else None,
                fetched=last.fetched if last else 0,
                processed=items.get("done", 0),
                quarantined=items.get("quarantined", 0),
                forms_by_state=forms,
                ledger_by_status=ledger,
                open_quarantine=open_q,
                open_circuits=circuits,
                statement_month=st.month if st else None,
                statement_state=st.state if st else None,
                statement_differences=len(st.differences or []) if st else 0,
            )
        )
    return out


# ================================================================================================ runs


@dataclass(frozen=True)
class RunRow:
    run_id: str
    trigger: str
    status: str
    cpas_ids: list[str]
    started_at: datetime
    finished_at: datetime | None

    @property
    def duration(self) -> timedelta | None:
        return self.finished_at - self.started_at if self.finished_at else None


def _runs_stmt(cond: Sequence[Any]) -> Any:
    """Runs, newest first (the console's runs page and ``piis-bridge runs``)."""
    return select(SyncRun).where(*cond).order_by(SyncRun.started_at.desc(), SyncRun.id.desc())


def _run_in_scope(cpas_ids: Sequence[str]) -> Any:
    return exists().where(SyncRunCpas.run_id == SyncRun.id, SyncRunCpas.cpas_id.in_(list(cpas_ids)))


def list_runs(
    s: Session,
    cpas_ids: Sequence[str],
    *,
    status: str | None = None,
    since: date | None = None,
    until: date | None = None,
    page: int = 1,
) -> Page[RunRow]:
    cond = [_run_in_scope(cpas_ids)]
    if status:
        cond.append(SyncRun.status == status)
    if since:
        cond.append(SyncRun.started_at >= datetime.combine(since, datetime.min.time()))
    if until:
        cond.append(
            SyncRun.started_at < datetime.combine(until + timedelta(days=1), datetime.min.time())
        )
    rows, page, total, more = _page(s, _runs_stmt(cond), SyncRun.id, cond, page)
    return _mk(
        [
            RunRow(
                r.id,
                r.trigger,
                r.status,
                [c for c in r.cpas_ids if c in cpas_ids],
                r.started_at,
                r.finished_at,
            )
            for (r,) in rows
        ],
        page,
        total,
        more,
    )


@dataclass(frozen=True)
class RunCpasRow:
    cpas_id: str
    state: str
    pages: int
    fetched: int
    attempts: int
    error: str | None
    notices_state: str
    notices_error: str | None
    items: dict[str, int]
    effects: dict[str, int]


@dataclass(frozen=True)
class StageRow:
    stage: str
    units: int
    tasks: int
    busy_seconds: float
    first_at: datetime | None
    last_at: datetime | None


@dataclass(frozen=True)
class RunDetail:
    run: RunRow
    cpas: list[RunCpasRow]
    stages: list[StageRow]
    statements: list[StatementRow]
    quarantine: Page[QuarantineRow]


def run_detail(s: Session, cpas_ids: Sequence[str], run_id: str, page: int = 1) -> RunDetail | None:
    run = s.scalar(select(SyncRun).where(SyncRun.id == run_id, _run_in_scope(cpas_ids)))
    if run is None:
        return None
    rows: list[RunCpasRow] = []
    for rc in s.scalars(
        select(SyncRunCpas)
        .where(SyncRunCpas.run_id == run_id, SyncRunCpas.cpas_id.in_(cpas_ids))
        .order_by(SyncRunCpas.cpas_id)
    ):
        items = _item_states(s, run_id, rc.cpas_id)
        effects = {
            f"{k}:{st}": n
            for k, st, n in s.execute(
                select(Effect.kind, Effect.state, func.count())
                .where(Effect.run_id == run_id, Effect.cpas_id == rc.cpas_id)
                .group_by(Effect.kind, Effect.state)
            )
        }
        rows.append(
            RunCpasRow(
                rc.cpas_id,
                rc.state,
                rc.pages,
                rc.fetched,
                rc.attempts,
                redact(rc.error),
                rc.notices_state,
                redact(rc.notices_error),
                items,
                effects,
            )
        )
    stages = [
        StageRow(st.stage, st.units, st.tasks, st.busy_seconds, st.first_at, st.last_at)
        for st in s.scalars(
            select(StageStat).where(StageStat.run_id == run_id).order_by(StageStat.first_at)
        )
    ]
    statements = [
        _statement_row(st)
        for st in s.scalars(
            select(StatementFetch).where(
                StatementFetch.run_id == run_id, StatementFetch.cpas_id.in_(cpas_ids)
            )
        )
    ]
    quarantine = list_quarantine(s, cpas_ids, run_id=run_id, status="", page=page)
    return RunDetail(
        RunRow(
            run.id,
            run.trigger,
            run.status,
            [c for c in run.cpas_ids if c in cpas_ids],
            run.started_at,
            run.finished_at,
        ),
        rows,
        stages,
        statements,
        quarantine,
    )


# ========================================================================================== quarantine


@dataclass(frozen=True)
class QuarantineRow:
    entry_id: int
    run_id: str
    cpas_id: str
    record_id: str
    stage: str
    reason: str
    status: str
    replay_run_id: str | None
    created_at: datetime
    # the reason as message id + values (i18n.text.say_stored says it in the reader's language)
    reason_text: dict[str, Any] | None = None


@dataclass(frozen=True)
class QuarantineDetail:
    row: QuarantineRow
    problems: list[dict[str, Any]]
    item_id: int | None
    effect_id: int | None


def _q_row(q: QuarantineEntry) -> QuarantineRow:
    return QuarantineRow(
        q.id,
        q.run_id,
        q.cpas_id,
        q.record_id,
        q.stage,
        redact(q.reason),
        q.status,
        q.replay_run_id,
        q.created_at,
        redact(q.reason_text),
    )


def quarantine_conditions(
    scope: Sequence[str] | None,
    *,
    status: str | None = None,
    stage: str | None = None,
    reason: str | None = None,
    older_than_days: int | None = None,
    run_id: str | None = None,
) -> list[Any]:
    """The WHERE of a quarantine listing (console page and ``piis-bridge quarantine list``); a
    *scope* of None is every CPAS (the CLI runs with the installation's own rights)."""
    cond: list[Any] = [] if scope is None else [QuarantineEntry.cpas_id.in_(list(scope))]
    if status:
        cond.append(QuarantineEntry.status == status)
    if stage:
        cond.append(QuarantineEntry.stage == stage)
    if reason:
        cond.append(QuarantineEntry.reason.contains(reason, autoescape=True))
    if older_than_days:
        cond.append(QuarantineEntry.created_at < utcnow() - timedelta(days=older_than_days))
    if run_id:
        cond.append(QuarantineEntry.run_id == run_id)
    return cond


def list_quarantine(
    s: Session,
    cpas_ids: Sequence[str],
    *,
    cpas: str | None = None,
    stage: str | None = None,
    status: str | None = "open",
    reason: str | None = None,
    older_than_days: int | None = None,
    run_id: str | None = None,
    page: int = 1,
) -> Page[QuarantineRow]:
    cond = quarantine_conditions(
        [c for c in cpas_ids if not cpas or c == cpas],
        status=status,
        stage=stage,
        reason=reason,
        older_than_days=older_than_days,
        run_id=run_id,
    )
    stmt = select(QuarantineEntry).where(*cond).order_by(QuarantineEntry.id.desc())
    rows, page, total, more = _page(s, stmt, QuarantineEntry.id, cond, page)
    return _mk([_q_row(q) for (q,) in rows], page, total, more)


def quarantine_detail(
    s: Session, cpas_ids: Sequence[str], entry_id: int
) -> QuarantineDetail | None:
    q = s.scalar(
        select(QuarantineEntry).where(
            QuarantineEntry.id == entry_id, QuarantineEntry.cpas_id.in_(cpas_ids)
        )
    )
    if q is None:
        return None
    return QuarantineDetail(_q_row(q), redact(list(q.problems or [])), q.item_id, q.effect_id)


def replay_preview(
    s: Session, cpas_ids: Sequence[str], entry_ids: Sequence[int]
) -> list[QuarantineRow]:
    """The open entries among *entry_ids* in scope that a replay would take, in their original order."""
    rows = s.scalars(
        select(QuarantineEntry)
        .where(
            QuarantineEntry.id.in_(list(entry_ids)),
            QuarantineEntry.cpas_id.in_(cpas_ids),
            QuarantineEntry.status == "open",
            QuarantineEntry.stage != "notice_feed",
        )
        .order_by(QuarantineEntry.id)
    )
    return [_q_row(q) for q in rows]


# ============================================================================================ dossier


@dataclass(frozen=True)
class VersionRow:
    item_id: int
    run_id: str
    version: str
    state: str
    forms: int
    findings: int
    updated_at: datetime


@dataclass(frozen=True)
class FormRow:
    effect_id: int
    key: str
    form_type: str
    state: str
    answer: str | None
    ticket: str | None
    result: Any
    created_at: datetime


@dataclass(frozen=True)
class PushRow:
    effect_id: int
    key: str
    state: str
    title: str
    due: str | None
    answer: str | None
    created_at: datetime


@dataclass(frozen=True)
class TransferEventRow:
    at: datetime
    from_state: str | None
    to_state: str
    detail: str


@dataclass(frozen=True)
class TransferRow:
    case_id: str
    cpas_id: str
    contract_id: str
    record_id: str
    state: str
    to_ins_code: str
    residence_change_date: date
    legal_end_date: date | None
    consent: str | None
    consent_by: str | None
    package_id: str | None
    ack_status: str | None
    updated_at: datetime
    events: list[TransferEventRow] = field(default_factory=list)


@dataclass(frozen=True)
class DossierHistory:
    cpas_id: str
    record_id: str
    niss_masked: str | None
    versions: list[VersionRow]
    forms: list[FormRow]
    ledger: list[LedgerRow]
    pushes: list[PushRow]
    quarantine: list[QuarantineRow]
    transfers: list[TransferRow]


def _dossier_cpas(
    s: Session, cpas_ids: Sequence[str], record_id: str, cpas: str | None
) -> str | None:
    scope = [c for c in cpas_ids if not cpas or c == cpas]
    for model, col in (
        (WorkItem, WorkItem.record_id),
        (Effect, Effect.record_id),
        (FormEntry, FormEntry.dossier),
    ):
        found = s.scalar(
            select(model.cpas_id).where(model.cpas_id.in_(scope), col == record_id).limit(1)
        )
        if found:
            return found
    return None


def find_dossier(
    s: Session, cpas_ids: Sequence[str], query: str, cpas: str | None = None
) -> tuple[str, str] | None:
    """(CPAS, record id) of a dossier in scope by its record id, its ledger dossier number, or the
    contract id a transfer case names (the canonical contract's id)."""
    found = _dossier_cpas(s, cpas_ids, query, cpas)
    if found:
        return found, query
    scope = [c for c in cpas_ids if not cpas or c == cpas]
    row = s.execute(
        select(TransferCase.cpas_id, TransferCase.record_id)
        .where(TransferCase.cpas_id.in_(scope), TransferCase.contract_id == query)
        .limit(1)
    ).first()
    return (row.cpas_id, row.record_id) if row else None


def dossier_history(
    s: Session, cpas_ids: Sequence[str], record_id: str, cpas: str | None = None, limit: int = 200
) -> DossierHistory | None:
    """Everything the bridge did with one dossier (a record / contract id) of a CPAS in scope."""
    cpas_id = _dossier_cpas(s, cpas_ids, record_id, cpas)
    if cpas_id is None:
        return None
    versions = [
        VersionRow(i.id, i.run_id, i.version, i.state, i.forms, i.findings, i.updated_at)
        for i in s.scalars(
            select(WorkItem)
            .where(WorkItem.cpas_id == cpas_id, WorkItem.record_id == record_id)
            .order_by(WorkItem.id.desc())
            .limit(limit)
        )
    ]
    forms: list[FormRow] = []
    pushes: list[PushRow] = []
    niss: str | None = None
    for e in s.scalars(
        select(Effect)
        .where(Effect.cpas_id == cpas_id, Effect.record_id == record_id)
        .order_by(Effect.id.desc())
        .limit(limit)
    ):
        payload = _loads(e.payload)
        if e.kind == "form":
            if niss is None and isinstance(payload, dict) and payload.get("niss"):
                niss = mask_niss(payload["niss"])
            forms.append(
                FormRow(
                    e.id,
                    e.key,
                    e.payload_type.rsplit(":", 1)[-1].rsplit(".", 1)[-1],
                    e.state,
                    e.answer,
                    e.ticket,
                    _masked_payload(e.result),
                    e.created_at,
                )
            )
        else:
            p = payload if isinstance(payload, dict) else {}
            pushes.append(
                PushRow(
                    e.id,
                    e.key,
                    e.state,
                    str(redact(p.get("title", ""))),
                    p.get("due"),
                    e.answer,
                    e.created_at,
                )
            )
    ledger = [
        _ledger_row(f)
        for f in s.scalars(
            select(FormEntry)
            .where(FormEntry.cpas_id == cpas_id, FormEntry.dossier == record_id)
            .order_by(FormEntry.id.desc())
            .limit(limit)
        )
    ]
    if niss is None and ledger:
        niss = ledger[0].niss_masked
    if niss is None and versions:
        found = _find_niss(
            _loads(s.scalar(select(WorkItem.payload).where(WorkItem.id == versions[0].item_id)))
        )
        niss = mask_niss(found) if found else None
    quarantine = [
        _q_row(q)
        for q in s.scalars(
            select(QuarantineEntry)
            .where(QuarantineEntry.cpas_id == cpas_id, QuarantineEntry.record_id == record_id)
            .order_by(QuarantineEntry.id.desc())
            .limit(limit)
        )
    ]
    transfers = _transfers(
        s,
        [cpas_id],
        extra=[or_(TransferCase.contract_id == record_id, TransferCase.record_id == record_id)],
        with_events=True,
    )
    return DossierHistory(
        cpas_id, record_id, niss, versions, forms, ledger, pushes, quarantine, transfers
    )


def _find_niss(value: Any) -> str | None:
    """The first valid NISS in a stored record (the vendor's field names are the plugin's business)."""
    if isinstance(value, str):
        return value if len(value) == 11 and value.isdigit() and is_valid_niss(value) else None
    if isinstance(value, dict):
        value = list(value.values())
    if isinstance(value, list):
        for v in value:
            found = _find_niss(v)
            if found:
                return found
    return None


def dossier_niss(s: Session, cpas_ids: Sequence[str], cpas_id: str, record_id: str) -> str | None:
    """The unmasked NISS of a dossier in scope (for the audited reveal only): from its latest federal
    form, else its ledger entry, else the latest source record pulled."""
    if cpas_id not in cpas_ids:
        return None
    for (payload,) in s.execute(
        select(Effect.payload)
        .where(Effect.cpas_id == cpas_id, Effect.record_id == record_id, Effect.kind == "form")
        .order_by(Effect.id.desc())
        .limit(1)
    ):
        data = _loads(payload)
        if isinstance(data, dict) and data.get("niss"):
            return str(data["niss"])
    niss = s.scalar(
        select(FormEntry.niss)
        .where(FormEntry.cpas_id == cpas_id, FormEntry.dossier == record_id)
        .order_by(FormEntry.id.desc())
        .limit(1)
    )
    if niss:
        return str(niss)
    latest = s.scalar(
        select(WorkItem.payload)
        .where(WorkItem.cpas_id == cpas_id, WorkItem.record_id == record_id)
        .order_by(WorkItem.id.desc())
        .limit(1)
    )
    return _find_niss(_loads(latest))


def dossiers_of_person(
    s: Session, cpas_ids: Sequence[str], person_key: str, limit: int = 100
) -> list[tuple[str, str]]:
    """(CPAS, record id) of the dossiers in scope whose beneficiary has this person key (a keyed
    hash of the NISS, ``piis_bridge.pipeline.persons``): the NISS itself is never searched for."""
    return [
        (r.cpas_id, r.record_id)
        for r in s.execute(
            select(WorkItem.cpas_id, WorkItem.record_id)
            .where(WorkItem.cpas_id.in_(list(cpas_ids)), WorkItem.person_key == person_key)
            .group_by(WorkItem.cpas_id, WorkItem.record_id)
            .order_by(WorkItem.cpas_id, WorkItem.record_id)
            .limit(limit)
        )
    ]


def item_payload(s: Session, cpas_ids: Sequence[str], item_id: int) -> tuple[str, str, str] | None:
    """(cpas, record id, stored source record) of one pulled version in scope, for its rules report."""
    row = s.execute(
        select(WorkItem.cpas_id, WorkItem.record_id, WorkItem.payload).where(
            WorkItem.id == item_id, WorkItem.cpas_id.in_(cpas_ids)
        )
    ).first()
    return (row.cpas_id, row.record_id, row.payload) if row else None


# ========================================================================================== ledger


@dataclass(frozen=True)
class LedgerRow:
    entry_id: int
    cpas_id: str
    kind: str
    dossier: str
    niss_masked: str
    period_key: str
    version: int
    status: str
    reference: str | None
    amount: int | None
    accepted_amount: int | None
    errors: list[dict[str, Any]]
    created_at: datetime
    answered_at: datetime | None


def _ledger_row(f: FormEntry) -> LedgerRow:
    return LedgerRow(
        f.id,
        f.cpas_id,
        f.kind,
        f.dossier,
        mask_niss(f.niss),
        f.period_key,
        f.version,
        f.status,
        f.reference,
        f.amount,
        f.accepted_amount,
        redact(list(f.errors or [])),
        f.created_at,
        f.answered_at,
    )


def _month_bounds(month: str) -> tuple[datetime, datetime]:
    """[first instant, first instant of the next month) of a YYYY-MM month, in UTC."""
    first = date.fromisoformat(month + "-01")
    following = date(first.year + (first.month == 12), first.month % 12 + 1, 1)
    return (
        datetime(first.year, first.month, 1, tzinfo=UTC),
        datetime(following.year, following.month, 1, tzinfo=UTC),
    )


def ledger_conditions(
    scope: Sequence[str],
    *,
    status: str | None = None,
    code: str | None = None,
    month: str | None = None,
    kind: str | None = None,
) -> list[Any]:
    """The WHERE of a forms-ledger listing (console page and ``piis-bridge forms list``).

    ``month`` (YYYY-MM) keeps the forms sent that month, and the forms built that month among those
    never sent (docs/ops.md); ``code`` the federal answer's code (its first issue's)."""
    cond: list[Any] = [FormEntry.cpas_id.in_(list(scope))]
    if status:
        cond.append(FormEntry.status == status)
    if kind:
        cond.append(FormEntry.kind == kind)
    if month:
        start, end = _month_bounds(month)
        when = func.coalesce(FormEntry.sent_at, FormEntry.created_at)
        cond.append(when >= start)
        cond.append(when < end)
    if code:  # the answer's first code, a generated and indexed column (0021_console_answer_code)
        cond.append(FormEntry.answer_code == code)
    return cond


def list_ledger(
    s: Session,
    cpas_ids: Sequence[str],
    *,
    cpas: str | None = None,
    status: str | None = None,
    code: str | None = None,
    month: str | None = None,
    kind: str | None = None,
    page: int = 1,
) -> Page[LedgerRow]:
    cond = ledger_conditions(
        [c for c in cpas_ids if not cpas or c == cpas],
        status=status,
        code=code,
        month=month,
        kind=kind,
    )
    # With a code, the order names the code too (constant under the filter, so still newest first):
    # only the (cpas_id, answer_code, id) index gives that order, so a CPAS with few forms of that
    # code is read through the index instead of scanning the ledger backwards for them.
    order = (FormEntry.answer_code.desc(), FormEntry.id.desc()) if code else (FormEntry.id.desc(),)
    stmt = select(FormEntry).where(*cond).order_by(*order)
    rows, page, total, more = _page(s, stmt, FormEntry.id, cond, page)
    return _mk([_ledger_row(f) for (f,) in rows], page, total, more)


@dataclass(frozen=True)
class StatementRow:
    run_id: str
    cpas_id: str
    month: date
    state: str
    lines: int | None
    total_cents: int | None
    differences: list[dict[str, Any]]
    error: str | None


def _statement_row(st: StatementFetch) -> StatementRow:
    return StatementRow(
        st.run_id,
        st.cpas_id,
        st.month,
        st.state,
        st.lines,
        st.total_cents,
        redact(list(st.differences or [])),
        redact(st.error),
    )


def latest_statements(s: Session, cpas_ids: Sequence[str]) -> list[StatementRow]:
    out = []
    for cpas in cpas_ids:
        st = s.scalar(
            select(StatementFetch)
            .where(StatementFetch.cpas_id == cpas)
            .order_by(StatementFetch.month.desc(), StatementFetch.updated_at.desc())
            .limit(1)
        )
        if st is not None:
            out.append(_statement_row(st))
    return out


# ========================================================================================= transfers


def _transfers(
    s: Session,
    cpas_ids: Sequence[str],
    *,
    extra: list[Any] | None = None,
    with_events: bool = False,
    page: int | None = None,
) -> Any:
    cond = [TransferCase.cpas_id.in_(list(cpas_ids)), *(extra or [])]
    stmt = select(TransferCase).where(*cond).order_by(TransferCase.updated_at.desc())
    if page is not None:
        rows, page, total, more = _page(s, stmt, TransferCase.case_id, cond, page)
        cases = [c for (c,) in rows]
    else:
        cases = list(s.scalars(stmt.limit(PAGE_SIZE)))
    out = []
    for c in cases:
        consent = s.execute(
            select(ConsentRecord.consent, ConsentRecord.recorded_by)
            .where(ConsentRecord.case_id == c.case_id)
            .order_by(ConsentRecord.id.desc())
            .limit(1)
        ).first()
        events = (
            [
                TransferEventRow(e.at, e.from_state, e.to_state, redact(e.detail))
                for e in s.scalars(
                    select(TransferEvent)
                    .where(TransferEvent.case_id == c.case_id)
                    .order_by(TransferEvent.id)
                )
            ]
            if with_events
            else []
        )
        out.append(
            TransferRow(
                c.case_id,
                c.cpas_id,
                c.contract_id,
                c.record_id,
                c.state,
                c.to_ins_code,
                c.residence_change_date,
                c.legal_end_date,
                consent.consent if consent else None,
                consent.recorded_by if consent else None,
                c.package_id,
                c.ack_status,
                c.updated_at,
                events,
            )
        )
    return _mk(out, page, total, more) if page is not None else out


def list_transfers(
    s: Session, cpas_ids: Sequence[str], *, state: str | None = None, page: int = 1
) -> Page[TransferRow]:
    return _transfers(s, cpas_ids, extra=[TransferCase.state == state] if state else [], page=page)


@dataclass(frozen=True)
class ReceivedRow:
    package_id: str
    cpas_id: str
    sender_name: str
    contract_id: str
    state: str
    draft_ref: str | None
    received_at: datetime


ReviewItem = ReceivedRow


def list_received(s: Session, cpas_ids: Sequence[str], page: int = 1) -> Page[ReceivedRow]:
    cond = [ReceivedPackage.cpas_id.in_(list(cpas_ids))]
    stmt = select(ReceivedPackage).where(*cond).order_by(ReceivedPackage.received_at.desc())
    rows, page, total, more = _page(s, stmt, ReceivedPackage.package_id, cond, page)
    return _mk(
        [
            ReceivedRow(
                r.package_id,
                r.cpas_id,
                r.sender_name,
                r.contract_id,
                r.state,
                r.draft_ref,
                r.received_at,
            )
            for (r,) in rows
        ],
        page,
        total,
        more,
    )


# ============================================================================================ agenda


UNASSIGNED = "unassigned"  # the agenda's filter value for deadlines whose contract names no worker


@dataclass(frozen=True)
class AgendaRow:
    cpas_id: str
    record_id: str
    rule: str
    title: str
    due: date | None
    status: str
    push_state: str
    worker_id: str = ""  # the social worker in charge (staff id); "" when unassigned
    worker_name: str = ""
    overdue: bool = False  # due before the reader's today (list_agenda's *today*)


@dataclass(frozen=True)
class AgendaWorker:
    """A social worker seen in a CPAS's agenda (staff: an id and a display name)."""

    cpas_id: str
    worker_id: str
    name: str


def _agenda_due() -> Any:
    # the very expression of the agenda's indexes, so the database reads them in order
    return literal_column(AGENDA_DUE_SQL.replace('"key"', 'sync_effect."key"'))


def list_agenda(
    s: Session,
    cpas_ids: Sequence[str],
    *,
    cpas: str | None = None,
    worker: str | None = None,
    page: int = 1,
    size: int = PAGE_SIZE,
    today: date,
) -> Page[AgendaRow]:
    """The legal deadlines the pipeline computed (its deadline alerts), earliest (overdue) first;
    a row is ``overdue`` when due before *today* (the installation's day: ``Settings.local_today``).

    *worker* keeps one social worker's deadlines (their staff id, or :data:`UNASSIGNED`), filtered in
    SQL on the plain ``sync_effect.worker_id`` (the payload is encrypted) through the index
    ``ix_console_sync_effect_worker_due``.  The due date is the key's last ten characters
    (``push:<cpas>:alert:<dossier>:<rule>:<label>:<date>``, ``piis_bridge.pipeline.stages``)."""
    scope = [c for c in cpas_ids if not cpas or c == cpas]
    cond = [Effect.kind == "push", Effect.cpas_id.in_(scope), Effect.key.like("push:%:alert:%")]
    if worker:
        cond.append(Effect.worker_id == ("" if worker == UNASSIGNED else worker))
    stmt = (
        select(Effect.cpas_id, Effect.record_id, Effect.payload, Effect.state, Effect.worker_id)
        .where(*cond)
        .order_by(_agenda_due())
    )
    rows, page, total, more = _page(s, stmt, Effect.id, cond, page, size)
    out = []
    for r in rows:
        p = _loads(r.payload) or {}
        data = p.get("data") or {}
        due_value = date.fromisoformat(p["due"]) if p.get("due") else None
        out.append(
            AgendaRow(
                r.cpas_id,
                r.record_id,
                str(data.get("rule", "")),
                str(redact(p.get("title", ""))),
                due_value,
                str(data.get("status", "")),
                r.state,
                r.worker_id or "",
                str(data.get("worker_name", "")) if r.worker_id else "",
                due_value is not None and due_value < today,
            )
        )
    return _mk(out, page, total, more, size)


def agenda_workers(s: Session, cpas_ids: Sequence[str]) -> list[AgendaWorker]:
    """The social workers seen in the agenda of *cpas_ids*, by name.

    Why a recursive skip scan (each step ``min(worker_id) > previous``) rather than ``DISTINCT``: a
    CPAS has a few dozen workers but up to a million deadline alerts; each step is one seek in
    ``ix_console_sync_effect_worker_due``, and the whole list is one statement (one round trip).
    The name is the one on the worker's latest deadline: names live in the encrypted payload,
    never in a plain column, and are decrypted here, one per worker."""
    table = Effect.__table__
    step, named = table.alias("step"), table.alias("named")

    def after(cpas_id: Any, previous: Any) -> Any:
        return (
            select(func.min(step.c.worker_id))
            .where(step.c.cpas_id == cpas_id, step.c.worker_id > previous)
            .scalar_subquery()
        )

    out = []
    for cpas_id in dict.fromkeys(cpas_ids):  # one statement per CPAS: the seek keeps its CPAS
        w = select(
            literal(cpas_id, String()).label("cpas_id"), after(cpas_id, "").label("worker_id")
        ).cte("w", recursive=True)
        w = w.union_all(
            select(w.c.cpas_id, after(w.c.cpas_id, w.c.worker_id)).where(w.c.worker_id.is_not(None))
        )
        due: Any = literal_column(AGENDA_DUE_SQL.replace('"key"', 'named."key"'))
        name = (
            select(named.c.payload)
            .where(named.c.cpas_id == w.c.cpas_id, named.c.worker_id == w.c.worker_id)
            .order_by(due.desc())
            .limit(1)
            .scalar_subquery()
        )
        stmt = select(w.c.worker_id, name.label("payload")).where(w.c.worker_id.is_not(None))
        for worker_id, payload in s.execute(stmt):
            data = (_loads(payload) or {}).get("data") or {}
            out.append(AgendaWorker(cpas_id, worker_id, str(data.get("worker_name") or worker_id)))
    return sorted(out, key=lambda w: (w.name.casefold(), w.worker_id, w.cpas_id))


# ======================================================================================= CLI listings


def _iso(value: datetime | None) -> str | None:
    if value is None:
        return None
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.astimezone(UTC).isoformat(timespec="seconds")


def worker_fingerprints(engine: Any, nodes: Sequence[str]) -> dict[str, str]:
    """node -> the configuration fingerprint it recorded when it started (``ops_worker_config``);
    nodes that never recorded one are absent.  Takes the engine: the health checks have no session."""
    from piis_bridge.ops.tables import WorkerConfig

    with engine.connect() as conn:
        rows = conn.execute(
            select(WorkerConfig.node, WorkerConfig.fingerprint).where(
                WorkerConfig.node.in_(list(nodes))
            )
        ).all()
    return {node: fingerprint for node, fingerprint in rows}


def runs_list(session: Session, *, limit: int = 20) -> dict[str, Any]:
    """The latest runs, newest first."""

    runs = []
    for r in session.scalars(_runs_stmt([]).limit(limit)):
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

    cond = quarantine_conditions([cpas_id] if cpas_id else None, status=status, run_id=run_id)
    q = select(QuarantineEntry).where(*cond).order_by(QuarantineEntry.id).limit(limit)
    entries = [
        {
            "id": e.id,
            "run_id": e.run_id,
            "cpas_id": e.cpas_id,
            "record_id": e.record_id,
            "stage": e.stage,
            "status": e.status,
            "reason": e.reason,
            "reason_text": redact(e.reason_text),
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
        for c in _open_circuits(session, CircuitState.remote.in_(remotes), now)
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
    last_error: dict[str, Any] | None = (
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
            "error_text": (run.report or {}).get("error_text"),
            # why a stalled or abandoned run was closed, and the same as message id + values
            "reason": run.reason,
            "reason_text": (run.report or {}).get("reason_text"),
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

    cond = ledger_conditions([cpas_id], status=status, month=month)
    q = select(FormEntry).where(*cond).order_by(FormEntry.id).limit(limit)
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
