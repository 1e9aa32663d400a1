"""The shared outbox machinery of the pipeline's stages: claims (leases), side-effect rows and their
keys, quarantine, statistics, and the :class:`Enqueuer` through which a stage asks for the next task.

Why one module: every stage claims its units the same way (one conditional UPDATE that sets the
state, a lease owner and a lease end, then a read of what it won), writes the next stage's rows in
the same transaction (outbox), and records what could not be done in the quarantine.  Written once
here; the stage modules (:mod:`.pull`, :mod:`.process`, :mod:`.submit`, :mod:`.collect`,
:mod:`.push`, :mod:`.runs`) only say what is specific to them.
"""

from __future__ import annotations

import dataclasses
import hashlib
import importlib
import uuid
from collections.abc import Callable, Iterator, Sequence
from datetime import datetime, timedelta
from typing import Any, Protocol

import orjson
from sqlalchemy import (
    JSON,
    String,
    and_,
    any_,
    bindparam,
    func,
    or_,
    select,
    text,
    update,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session
from sqlalchemy.types import Text as SqlText
from sqlalchemy.types import TypeDecorator

from piis_bridge.forms import SubmissionOutcome
from piis_bridge.hooks.types import PluginFailure, PushItem, RecordProblem
from piis_bridge.i18n import push as push_text
from piis_bridge.i18n.text import Text, text_json
from piis_bridge.logging import get_logger, redact
from piis_bridge.pipeline.models import (
    Effect,
    Notice,
    QuarantineEntry,
    StageStat,
    StatementFetch,
    SyncRunCpas,
    WorkItem,
    rowcount,
    utcnow,
)
from piis_bridge.pipeline.reliability import is_transient
from piis_bridge.pipeline.runtime import Runtime
from piis_bridge.pipeline.states import EffectState, ItemState

_log = get_logger("piis_bridge.pipeline")
OPEN_ITEM_STATES = (ItemState.PENDING.value, ItemState.LEASED.value)
OPEN_EFFECT_STATES = (
    EffectState.PENDING.value,
    EffectState.SENDING.value,
    EffectState.SUBMITTED.value,
)
OPEN_NOTICE_STATES = ("pending", "queued", "fetching")  # sync_run_cpas.notices_state still to do
NOTICES_HOOK = "piis_federal_fetch_notices"
_KEY_NAMESPACE = uuid.UUID("9b6c3f4e-5d1a-4c2b-8f7e-1a2b3c4d5e6f")
PENDING_ANSWERS = frozenset({"PENDING", "QUEUED", "SUBMITTED", "RECEIVED", "IN_PROGRESS"})


class Enqueuer(Protocol):
    """How a stage asks for the next task (celery in production; the tests use the same tasks)."""

    def pull(
        self, run_id: str, cpas_id: str, *, countdown: float = 0, attempt: int = 0
    ) -> None: ...
    def process(
        self, run_id: str, item_ids: list[int], *, countdown: float = 0, attempt: int = 0
    ) -> None: ...
    def submit(
        self, run_id: str, cpas_id: str, *, countdown: float = 0, attempt: int = 0
    ) -> None: ...
    def collect(
        self, run_id: str, cpas_id: str, *, countdown: float = 0, attempt: int = 0
    ) -> None: ...
    def push(
        self, run_id: str, cpas_id: str, *, countdown: float = 0, attempt: int = 0
    ) -> None: ...
    def notices(
        self, run_id: str, cpas_id: str, *, countdown: float = 0, attempt: int = 0
    ) -> None: ...
    def statement(
        self, run_id: str, cpas_id: str, *, countdown: float = 0, attempt: int = 0
    ) -> None: ...
    def start(self, run_id: str) -> None: ...


BIND_SLICE = 5000  # ids bound in one statement: far below PostgreSQL's 65,535 and SQLite's 32,766


def slices(ids: Sequence[int]) -> Iterator[Sequence[int]]:
    """*ids* in slices of :data:`BIND_SLICE`, for ``IN`` lists whose length the data decides.

    Why: a run whose messages were lost can hold more items than one statement may bind (85,750
    pending items of a 100,000-dossier run made every sweep fail on PostgreSQL, and it never moved)."""
    for start in range(0, len(ids), BIND_SLICE):
        yield ids[start : start + BIND_SLICE]


def insert_ignore(
    session: Session, model: type, rows: list[dict[str, Any]], returning: Any = None
) -> list[Any]:
    """INSERT ... ON CONFLICT DO NOTHING on SQLite and PostgreSQL; returns the *returning* column of
    the rows inserted (a row whose key was already stored returns nothing), in no promised order.

    PostgreSQL: one statement whatever the number of rows, ``INSERT ... SELECT * FROM unnest(:a, :b,
    ...)`` with one typed array per column (:func:`_insert_unnest`).  Why: SQLAlchemy's
    insertmanyvalues made each batch one multi-row ``VALUES`` statement whose text grows with the
    batch, so psycopg parsed every one again (its query cache keeps only short statements) and
    PostgreSQL planned it again: 5.7 % of the worker's samples in a 10,000-dossier run (py-spy).
    SQLite (and a table with a JSON column, whose arrays psycopg would not adapt as such): Core
    ``executemany``, one cached compiled statement batched by insertmanyvalues.
    """
    if not rows:
        return []
    dialect = session.get_bind().dialect.name
    table = model.__table__  # type: ignore[attr-defined]
    conn = session.connection()
    if dialect == "postgresql":
        stmt = _insert_unnest(conn.dialect, table, rows, returning)
        if stmt is not None:
            result = conn.execute(stmt)
            return [row[0] for row in result] if returning is not None else []
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    stmt = insert(table).on_conflict_do_nothing()
    if returning is not None:
        result = conn.execute(stmt.returning(table.c[returning.key]), rows)
        return [row[0] for row in result]
    conn.execute(stmt, rows)
    return []


def _insert_unnest(dialect: Any, table: Any, rows: list[dict[str, Any]], returning: Any) -> Any:
    """PostgreSQL's constant-shape ``INSERT ... SELECT * FROM unnest(...) ON CONFLICT DO NOTHING``
    of *rows*, or None when they do not fit it (rows with different columns, a JSON column, a
    default that is not a plain value or function).

    Each column's values go through the column type's own bind processor here (encryption of
    ``EncryptedText``, UTC of ``UTCDateTime``), as in an INSERT of the rows, and are bound as an
    array of the type underneath, strings as ``TEXT[]``: a cast to ``VARCHAR(n)[]`` would cut a
    value that is too long without a word, where the INSERT's own (assignment) cast to the column
    refuses it, as an INSERT of the rows did.  The columns the rows leave out that have a Python-side
    default (``default=``) get it here, once per statement (an executemany evaluated it per row: the
    same values, bar the microseconds of a ``utcnow``); server-side defaults are left to the server.
    """
    names = list(rows[0])
    keys = set(names)
    if any(len(r) != len(names) or r.keys() != keys for r in rows):
        return None
    columns = [table.c[name] for name in names]
    arrays: dict[str, list[Any]] = {name: [r[name] for r in rows] for name in names}
    for col in table.c:
        if col.name in keys or col.default is None:
            continue
        default = col.default
        if getattr(default, "is_scalar", False):
            value = default.arg
        elif getattr(default, "is_callable", False):
            value = default.arg(None)  # SQLAlchemy's wrapper of a no-argument function
        else:
            return None
        columns.append(col)
        arrays[col.name] = [value] * len(rows)
    binds = _array_binds(dialect, columns, arrays)
    if binds is None:
        return None
    source = _unnest_rows(binds, columns)
    stmt = (
        postgresql.insert(table)
        .from_select(columns, select(*(source.c[col.name] for col in columns)))
        .on_conflict_do_nothing()
    )
    return stmt.returning(table.c[returning.key]) if returning is not None else stmt


def _array_binds(
    dialect: Any, columns: list[Any], arrays: dict[str, list[Any]]
) -> list[Any] | None:
    """One array parameter per column for ``unnest``: each value through the column type's own bind
    processor (encryption, UTC), bound as an array of the type underneath (strings as ``TEXT[]``,
    see :func:`_insert_unnest`); None when a column's type has no plain array (JSON, ARRAY)."""
    binds = []
    for col in columns:
        base = col.type.impl_instance if isinstance(col.type, TypeDecorator) else col.type
        if isinstance(base, JSON | postgresql.ARRAY):
            return None
        values = arrays[col.name]
        process = col.type.dialect_impl(dialect).bind_processor(dialect)
        if process is not None:
            values = [process(v) for v in values]
        item = SqlText() if isinstance(base, String) else base
        binds.append(bindparam(f"u_{col.name}", values, type_=postgresql.ARRAY(item)))
    return binds


def _unnest_rows(binds: list[Any], columns: list[Any]) -> Any:
    """``unnest(:a, :b, ...) AS u(a, b, ...)``: the arrays of :func:`_array_binds` as one derived
    table whose columns are named after *columns* (the insert's and the update's source)."""
    return func.unnest(*binds).table_valued(*(col.name for col in columns)).render_derived(name="u")


def update_rows(
    session: Session,
    table: Any,
    rows: list[dict[str, Any]],
    *,
    where: Sequence[Any] = (),
    values: dict[str, Any] | None = None,
) -> None:
    """Per row of *rows* (``id`` and the columns to set, the same columns in every row): ``UPDATE
    table SET <the row's columns>, <values> WHERE id = row id AND <where>``, in the caller's
    transaction.

    PostgreSQL: one ``UPDATE ... FROM unnest(:id, :a, ...)`` whatever the number of rows, where an
    executemany was one execution of the statement per row in the server (and, by psycopg, a
    round of its pipeline per row).  SQLite: that executemany.  *values* are the same for every row
    (``lease_owner=None``); *where* guards the transition (``state == 'sending'``).
    """
    if not rows:
        return
    values = values or {}
    names = [name for name in rows[0] if name != "id"]
    conn = session.connection()
    if conn.dialect.name == "postgresql" and all(len(r) == len(names) + 1 for r in rows):
        columns = [table.c.id, *(table.c[name] for name in names)]
        arrays = {col.name: [r[col.name] for r in rows] for col in columns}
        binds = _array_binds(conn.dialect, columns, arrays)
        if binds is not None:
            source = _unnest_rows(binds, columns)
            conn.execute(
                update(table)
                .where(table.c.id == source.c.id, *where)
                .values({**{name: source.c[name] for name in names}, **values})
            )
            return
    conn.execute(
        update(table)
        .where(table.c.id == bindparam("r_id"), *where)
        .values({**{name: bindparam(f"r_{name}") for name in names}, **values}),
        [{f"r_{k}": v for k, v in r.items()} for r in rows],
    )


def any_of(session: Session, column: Any, values: Sequence[Any], item_type: Any = None) -> Any:
    """``column IN (values)`` as one constant statement: ``column = ANY(:array)`` on PostgreSQL,
    the plain ``IN`` elsewhere (SQLite has no arrays; its expanding ``IN`` is cheap to build).

    Why: an ``IN`` list's text grows with its length, so every claim, load and release of a batch
    of a new length was a new statement for psycopg to parse (its query cache keeps only short
    statements) and for PostgreSQL to plan; the array is one parameter of one cached statement.
    """
    if session.get_bind().dialect.name != "postgresql":
        return column.in_(list(values))
    array = bindparam(None, list(values), type_=postgresql.ARRAY(item_type or column.type))
    return column == any_(array)


def record_stat(session: Session, run_id: str, stage: str, units: int, elapsed: float) -> None:
    """Add one task's units and busy time to its run's stage (``sync_stage_stat``), in the caller's
    transaction: one upsert (it was an ORM UPDATE, then an INSERT in a savepoint the first time)."""
    now = utcnow()
    session.connection().execute(
        _stat_upsert(session.get_bind().dialect.name),
        {"s_run": run_id, "s_stage": stage, "s_units": units, "s_busy": elapsed, "s_now": now},
    )


_STAT_UPSERTS: dict[str, Any] = {}


def _stat_upsert(dialect: str) -> Any:
    """:func:`record_stat`'s statement, built once per dialect with its values as parameters.

    Why: building it at every call (the ``excluded`` columns' proxies, the values' coercion, its
    cache key) cost more of the worker than sending it; a statement object built once keeps its
    cache key too.  Every task records its stage once or more."""
    stmt = _STAT_UPSERTS.get(dialect)
    if stmt is None:
        insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
        table = StageStat.__table__
        ins = insert(table).values(  # type: ignore[arg-type]
            run_id=bindparam("s_run", type_=table.c.run_id.type),
            stage=bindparam("s_stage", type_=table.c.stage.type),
            units=bindparam("s_units", type_=table.c.units.type),
            tasks=1,
            busy_seconds=bindparam("s_busy", type_=table.c.busy_seconds.type),
            first_at=bindparam("s_now", type_=table.c.first_at.type),
            last_at=bindparam("s_now", type_=table.c.last_at.type),
        )
        stmt = _STAT_UPSERTS[dialect] = ins.on_conflict_do_update(
            index_elements=[StageStat.run_id, StageStat.stage],
            set_={
                "units": StageStat.units + ins.excluded.units,
                "tasks": StageStat.tasks + 1,
                "busy_seconds": StageStat.busy_seconds + ins.excluded.busy_seconds,
                "last_at": ins.excluded.last_at,
            },
        )
    return stmt


@dataclasses.dataclass(frozen=True)
class Lease:
    """How one kind of unit is claimed: its state column, the states it may be claimed from, the state
    it is held in, and its lease end (plus, where the table has them, attempts, owner and clock).

    Why one description: every stage claims its unit with the same conditional UPDATE (claimable
    state, or held past its lease by a worker that died), so two workers, a redelivered message or
    the sweeper never hold one unit at once; the sweeper finds abandoned units with the same
    :meth:`expired` condition.  :func:`claim`, :func:`renew` and :func:`release` are the only
    writers of a lease.
    """

    name: str
    model: Any
    state: Any
    until: Any
    claimable: tuple[str, ...]
    held: str
    takeover: bool = True  # an expired unit may be claimed at once (else the sweeper gives it back)
    attempts: Any = None
    owner: Any = None
    touched: Any = None

    def expired(self, now: datetime) -> Any:
        """Held past its lease: the worker holding it died (or its task was lost)."""
        return and_(self.state == self.held, self.until < now)

    def open(self, now: datetime) -> Any:
        cond = self.state.in_(self.claimable)
        return or_(cond, self.expired(now)) if self.takeover else cond


def _claim_update(lease: Lease, where: Any, seconds: float, now: datetime, values: Any) -> Any:
    """The conditional UPDATE of a claim and its lease owner (None when the table has none)."""
    owner = uuid.uuid4().hex if lease.owner is not None else None
    sets: dict[str, Any] = {
        lease.state.key: lease.held,
        lease.until.key: now + timedelta(seconds=seconds),
    }
    if lease.attempts is not None:
        sets[lease.attempts.key] = lease.attempts + 1
    if owner is not None:
        sets[lease.owner.key] = owner
    if lease.touched is not None:
        sets[lease.touched.key] = now
    sets.update(values)
    stmt = (
        update(lease.model)
        .where(where, lease.open(now))
        .values(sets)
        .execution_options(synchronize_session=False)
    )
    return stmt, owner


def claim(
    session: Session,
    lease: Lease,
    where: Any,
    seconds: float,
    *,
    now: datetime | None = None,
    **values: Any,
) -> tuple[int, str | None]:
    """The pipeline's one claim: a conditional UPDATE of the units matching *where* that may be taken
    now, committed at once; returns (units won, lease owner, when the table has one).
    """
    stmt, owner = _claim_update(lease, where, seconds, now or utcnow(), values)
    won = rowcount(session.execute(stmt))
    session.commit()
    return won, owner


def claim_returning(
    session: Session, lease: Lease, where: Any, seconds: float, returning: Any
) -> list[Any]:
    """:func:`claim`, returning what it won in the same statement (``UPDATE ... RETURNING``): the
    columns, or the ORM objects, named by *returning*; committed at once.

    Why: a claim followed by a read-back by lease owner was two statements per batch and needed an
    index on the owner column, which every claim and every release of a unit had to update (0024).
    """
    stmt, _ = _claim_update(lease, where, seconds, utcnow(), {})
    rows = list(session.execute(stmt.returning(*returning)).all())
    session.commit()
    return rows


def renew(session: Session, lease: Lease, where: Any, seconds: float) -> None:
    """Push the lease end of held units (a long pull or notice read, page after page); the caller
    commits it with the page."""
    session.execute(
        update(lease.model)
        .where(where, lease.state == lease.held)
        .values({lease.until.key: utcnow() + timedelta(seconds=seconds)})
        .execution_options(synchronize_session=False)
    )


def release(
    session: Session,
    lease: Lease,
    where: Any,
    to: str,
    *,
    until: datetime | None = None,
    **values: Any,
) -> int:
    """Give held units back (state *to*, lease end *until*), only while still held; committed."""
    sets: dict[str, Any] = {lease.state.key: to, lease.until.key: until}
    if lease.owner is not None:
        sets[lease.owner.key] = None
    sets.update(values)
    n = rowcount(
        session.execute(
            update(lease.model)
            .where(where, lease.state == lease.held)
            .values(sets)
            .execution_options(synchronize_session=False)
        )
    )
    session.commit()
    return n


PULL = Lease(
    "pull",
    SyncRunCpas,
    SyncRunCpas.state,
    SyncRunCpas.lease_until,
    ("pending",),
    "pulling",
    attempts=SyncRunCpas.attempts,
)
# queued (task sent) -> fetching (held); a queued row has a lease too: past it, its message was lost.
NOTICE_FEED = Lease(
    "notices",
    SyncRunCpas,
    SyncRunCpas.notices_state,
    SyncRunCpas.notices_lease_until,
    ("queued",),
    "fetching",
)
NOTICE = Lease(
    "notice",
    Notice,
    Notice.state,
    Notice.lease_until,
    ("pending",),
    "leased",
    touched=Notice.updated_at,
)
STATEMENT = Lease(
    "statement",
    StatementFetch,
    StatementFetch.state,
    StatementFetch.lease_until,
    ("waiting",),
    "fetching",
    attempts=StatementFetch.attempts,
    touched=StatementFetch.updated_at,
)
ITEM = Lease(
    "item",
    WorkItem,
    WorkItem.state,
    WorkItem.lease_until,
    (ItemState.PENDING.value,),
    ItemState.LEASED.value,
    attempts=WorkItem.attempts,
    owner=WorkItem.lease_owner,
    touched=WorkItem.updated_at,
)
# A side effect left 'sending' may have reached the remote: only the sweeper gives it back (to be
# resent under the same key), never a direct takeover.
EFFECT = Lease(
    "effect",
    Effect,
    Effect.state,
    Effect.lease_until,
    (EffectState.PENDING.value,),
    EffectState.SENDING.value,
    takeover=False,
    attempts=Effect.attempts,
    owner=Effect.lease_owner,
    touched=Effect.updated_at,
)


def circuit_open(
    rt: Runtime, s: Session, remote: str, on_wait: Callable[[float], None] | None = None
) -> bool:
    """Whether *remote*'s circuit is open; if so *on_wait* (give the unit back, send the task again
    when the circuit may close) is called with the seconds to wait.  The head of every stage loop."""
    wait = rt.breaker.allow(s, remote)
    if wait and on_wait is not None:
        on_wait(wait)
    return bool(wait)


def type_path(obj: Any) -> str:
    cls = type(obj)
    return f"{cls.__module__}:{cls.__qualname__}"


def dump_payload(obj: Any) -> str:
    if hasattr(obj, "model_dump_json"):
        return obj.model_dump_json()
    if dataclasses.is_dataclass(obj) and not isinstance(obj, type):
        return orjson.dumps(dataclasses.asdict(obj), default=str).decode()
    raise TypeError(
        f"cannot store a {type(obj).__name__}: forms must be pydantic models or dataclasses"
    )


def load_payload(type_path: str, payload: str) -> Any:
    module, _, qualname = type_path.partition(":")
    cls: Any = importlib.import_module(module)
    for part in qualname.split("."):
        cls = getattr(cls, part)
    if hasattr(cls, "model_validate_json"):
        return cls.model_validate_json(payload)
    return cls(**orjson.loads(payload))


def form_key(cpas_id: str, record_id: str, form: Any) -> tuple[str, Any]:
    """The idempotency key of a form, and the form carrying it.

    The federal ``ClientReference`` (at most 36 characters) is the key the federal service
    deduplicates on: a form built with one keeps it; otherwise the key is a UUID derived from the
    CPAS, the dossier and the form's content, so rebuilding the same form after a crash gives the same
    key and the federal service answers the original result instead of creating a second effect.
    """
    if callable(getattr(form, "with_key", None)):
        form = form.with_key()  # the federal form's own derivation (piis_bridge.forms.FederalForm)
    ref = getattr(form, "client_reference", None)
    if ref:
        return str(ref), form
    digest = hashlib.sha256(dump_payload(form).encode()).hexdigest()
    ref = str(uuid.uuid5(_KEY_NAMESPACE, f"{cpas_id}|{record_id}|{digest}"))
    if hasattr(form, "client_reference") and hasattr(form, "model_copy"):
        form = form.model_copy(update={"client_reference": ref})
    return ref, form


def _problem_json(problem: RecordProblem) -> dict[str, Any]:
    """A problem as stored: its fields, and its message id + values when the bridge wrote it."""
    data = problem.model_dump(mode="json")
    return {**data, "text": problem.text} if problem.text else data


def quarantine(
    session: Session,
    *,
    run_id: str,
    cpas_id: str,
    record_id: str,
    stage: str,
    reason: str,
    problems: Sequence[RecordProblem] = (),
    item_id: int | None = None,
    effect_id: int | None = None,
) -> None:
    session.add(
        QuarantineEntry(
            run_id=run_id,
            cpas_id=cpas_id,
            record_id=record_id,
            stage=stage,
            reason=redact(reason)[:4000],
            reason_text=redact(text_json(reason)) if isinstance(reason, Text) else None,
            problems=[redact(_problem_json(p)) for p in problems],
            item_id=item_id,
            effect_id=effect_id,
        )
    )
    _log.warning(
        "quarantined",
        run_id=run_id,
        cpas=cpas_id,
        record_id=record_id,
        stage=stage,
        reason=redact(str(reason)),  # a Text logs as its English, not its repr
    )


@dataclasses.dataclass(frozen=True)
class PluginCall:
    """The typed result of one call through the plugin host: what it returned and the failures *this*
    call recorded (the host keeps the plugin's exceptions as :class:`PluginFailure`, never raises)."""

    value: Any
    failures: tuple[PluginFailure, ...]

    @property
    def failed(self) -> bool:
        return bool(self.failures)

    @property
    def transient(self) -> bool:
        """The last failure is worth retrying (timeouts, 429/5xx, ``TransientError``)."""
        return bool(self.failures) and is_transient(self.failures[-1])

    def describe(self) -> str:
        return describe(self.failures)


def call(host: Any, method: str, *args: Any, **kwargs: Any) -> PluginCall:
    """Call ``host.<method>`` and return its value with the failures it recorded, in one place (the
    stages no longer count ``host.failures`` before and after every call)."""
    before = len(host.failures)
    value = getattr(host, method)(*args, **kwargs)
    return PluginCall(value, tuple(host.failures[before:]))


def describe(failures: Sequence[PluginFailure]) -> str:
    if not failures:
        return "the plugin returned nothing"
    f = failures[-1]
    return f"plugin {f.plugin!r} failed in {f.hook}: {f.error_type}: {f.message}"


STATS_STALE_SHARE = (
    0.2  # re-analyse a table once this share of its rows changed since the last time
)


def refresh_statistics(s: Session) -> None:
    """PostgreSQL: refresh the planner statistics of the outbox tables that changed much.

    Why: the tables grow from empty to 100,000 rows within minutes, long before autovacuum analyses
    them; with the empty-table estimates PostgreSQL planned the per-dossier order check as a nested
    loop over every open form (seconds per claim instead of milliseconds, measured).  That check no
    longer depends on the statistics (:func:`_first_of_their_dossier`); the pull and the sweeper
    still refresh them for the other statements.  Only a table of which more than
    :data:`STATS_STALE_SHARE` of the rows changed since its last analysis (or never analysed) is
    analysed: every pull and every sweep analysed both tables, which was most of PostgreSQL's CPU
    in an incremental night (0.36 of 0.6 s in ``benchmarks/bench_sql.py --nights``) and grew with
    the history kept.
    """
    if s.get_bind().dialect.name != "postgresql":
        return
    s.commit()
    stale = list(
        s.scalars(
            text(
                "SELECT relname FROM pg_stat_user_tables "
                "WHERE relname IN ('sync_item', 'sync_effect') AND ("
                "(last_analyze IS NULL AND last_autoanalyze IS NULL) "
                "OR n_mod_since_analyze > 50 + :share * n_live_tup) ORDER BY relname"
            ),
            {"share": STATS_STALE_SHARE},
        )
    )
    if stale:
        s.execute(text(f"ANALYZE {', '.join(stale)}"))  # names from the fixed list above
    s.commit()


VACUUM_DEAD_SHARE = 1.0  # vacuum a hot table once it holds more dead row versions than live rows
# The pipeline's tables every contract of a night rewrites several times (a form: inserted, claimed,
# submitted, answered).  Not the federal ledger's tables (the plugin's): vacuumed with them in
# the same run (bench_sql --sweep-every 30, 20,000 dossiers), the ledger's fresh statistics made
# its live-form look-up 70 ms a call instead of 1.2 (17 s of PostgreSQL CPU); not explained yet.
VACUUM_TABLES = ("sync_item", "sync_effect")


def vacuum_bloated(s: Session) -> list[str]:
    """PostgreSQL: ``VACUUM (ANALYZE)`` the hot tables holding more dead row versions than
    :data:`VACUUM_DEAD_SHARE` of their live rows; returns the tables vacuumed.

    Why: none of a side effect's state changes can be a HOT update (``state`` is in four indexes),
    so each leaves a dead row version and one dead entry in every index of ``sync_effect``.  A
    server whose autovacuum is off (this benchmark machine's) or behind (its default throttling,
    on a table that grows by 100,000 rows within minutes) keeps them all night: at 20,000 dossiers
    ``sync_effect`` held 137,742 dead versions for 56,601 live rows, every index scan of an open
    state walked the dead entries of all the effects that were once in it, and the tables outgrew
    the server's buffer cache.  The share is autovacuum's idea with a higher threshold, since
    every vacuum also reads every index once (0.9 s of CPU for ``sync_effect`` at 20,000 dossiers,
    measured).  ``SKIP_LOCKED``: a table another vacuum holds is left to it.  Called by the
    sweeper, outside any transaction (VACUUM cannot run in one).
    """
    bind = s.get_bind()
    if bind.dialect.name != "postgresql":
        return []
    s.commit()
    bloated = list(
        s.scalars(
            text(
                "SELECT relname FROM pg_stat_user_tables "
                "WHERE relname = ANY(:tables) AND n_dead_tup > 1000 + :share * n_live_tup "
                "ORDER BY relname"
            ),
            {"tables": list(VACUUM_TABLES), "share": VACUUM_DEAD_SHARE},
        )
    )
    s.commit()
    if bloated:
        engine = bind.engine  # an Engine's .engine is itself; a Connection's, its engine
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            # names from the fixed list above
            conn.execute(text(f"VACUUM (ANALYZE, SKIP_LOCKED) {', '.join(bloated)}"))
    return bloated


def _first_of_their_dossier(
    s: Session, kind: str, cpas_id: str, pending: list[Any], limit: int
) -> list[int]:
    """The first *limit* claimable effects (id order) that no earlier open effect of the same
    dossier holds back: forms of one dossier go out in the order they were built, one at a time
    (the federal service refuses a form while an earlier one of the same dossier is pending, B00008).

    Why two plain statements rather than one ``NOT EXISTS``: the planner's choice for the anti-join
    followed its statistics, and on statistics taken while ``sync_effect`` was still nearly empty
    it compared each candidate with every open form of the CPAS (9.1 ms instead of 0.25 ms per
    claim at 2,458 forms, measured; growing with the run).  Here the candidates come in id order
    from ``ix_sync_effect_claim`` and the earliest open effect of their dossiers from
    ``ix_sync_effect_dossier``, one look-up per dossier (:func:`_first_open`), whatever the
    statistics say.
    """
    chosen: list[int] = []
    after = 0
    while len(chosen) < limit:
        batch = list(
            s.execute(
                select(Effect.id, Effect.record_id)
                .where(*pending, Effect.id > after)
                .order_by(Effect.id)
                .limit(limit)
            ).all()
        )
        if not batch:
            break
        first_open = _first_open(s, kind, cpas_id, sorted({record for _, record in batch}))
        # a candidate is itself open: it goes when no open effect of its dossier is older
        chosen += [i for i, record in batch if first_open.get(record, i) >= i][
            : limit - len(chosen)
        ]
        if len(batch) < limit:
            break
        after = batch[-1][0]
    return chosen


def _first_open(s: Session, kind: str, cpas_id: str, records: list[str]) -> dict[str, int]:
    """The earliest open effect of each of these dossiers (dossiers with none are left out).

    PostgreSQL: one look-up per dossier (``unnest`` of the dossiers, a correlated ``min``), so that
    the dossier is a condition of the index scan.  With ``record_id IN (...)`` the planner, on
    statistics taken while few forms were open, scanned every open form of the CPAS and filtered
    the dossiers: 32 ms per claim at 40,000 dossiers (15.8 of 123.6 s of PostgreSQL CPU,
    ``benchmarks/bench_sql.py``), growing with the run; 0.5 ms this way (EXPLAIN ANALYZE).
    Elsewhere (SQLite) the plain grouped ``IN``.
    """
    where = (Effect.kind == kind, Effect.cpas_id == cpas_id, Effect.state.in_(OPEN_EFFECT_STATES))
    if s.get_bind().dialect.name != "postgresql":
        q = (
            select(Effect.record_id, func.min(Effect.id))
            .where(*where, Effect.record_id.in_(records))
            .group_by(Effect.record_id)
        )
        return {record: first for record, first in s.execute(q).all()}
    recs = (
        func.unnest(bindparam("records", records, type_=postgresql.ARRAY(String)))
        .table_valued("record_id")
        .render_derived(name="recs")
    )
    first = (
        select(func.min(Effect.id)).where(*where, Effect.record_id == recs.c.record_id)
    ).scalar_subquery()
    rows = s.execute(select(recs.c.record_id, first)).all()
    return {record: first for record, first in rows if first is not None}


def claim_effects(
    rt: Runtime, s: Session, kind: str, cpas_id: str, limit: int, *, one_per_dossier: bool
) -> list[Effect]:
    now = utcnow()
    pending = [
        Effect.kind == kind,
        Effect.cpas_id == cpas_id,
        Effect.state == "pending",
        or_(Effect.next_attempt_at.is_(None), Effect.next_attempt_at <= now),
    ]
    if one_per_dossier:
        ids = _first_of_their_dossier(s, kind, cpas_id, pending, limit)
    else:
        ids = list(s.scalars(select(Effect.id).where(*pending).order_by(Effect.id).limit(limit)))
    if not ids:
        return []
    won = claim_returning(s, EFFECT, any_of(s, Effect.id, ids), rt.options.lease_seconds, [Effect])
    return sorted((row[0] for row in won), key=lambda e: e.id)


def again(send: Callable[..., None], run_id: str, cpas_id: str, attempt: int, wait: float) -> None:
    """Send a stage's task again in *wait* seconds (``partial(again, enq.submit, run_id, cpas_id,
    attempt)`` is the usual *on_wait*)."""
    send(run_id, cpas_id, countdown=wait, attempt=attempt)


def claim_batch(
    rt: Runtime,
    s: Session,
    kind: str,
    cpas_id: str,
    limit: int,
    *,
    one_per_dossier: bool,
    on_wait: Callable[[float], None],
) -> list[Effect]:
    """The head of the submit and push loops: nothing while the remote's circuit is open (*on_wait*
    sends the task again for when it may close), else the next batch of side effects, claimed."""
    remote = f"{'federal' if kind == 'form' else 'casesystem'}:{cpas_id}"
    if circuit_open(rt, s, remote, on_wait):
        return []
    return claim_effects(rt, s, kind, cpas_id, limit, one_per_dossier=one_per_dossier)


def release_effects(s: Session, effects: Sequence[Effect], delay: float, error: str) -> None:
    release(
        s,
        EFFECT,
        any_of(s, Effect.id, [e.id for e in effects]),
        EffectState.PENDING.value,
        next_attempt_at=utcnow() + timedelta(seconds=delay),
        last_error=redact(error)[:2000],
    )


def outcome_fields(outcome: SubmissionOutcome) -> tuple[str, str | None, str | None, str]:
    """(effect state, answer, ticket, stored result) of one ``SubmissionOutcome``.

    The plugin host hands over only :class:`SubmissionOutcome` values (it records anything else as
    the plugin's failure), so the answer is the outcome's ``evaluation``."""
    answer = str(outcome.evaluation.value).upper()
    pending = answer in PENDING_ANSWERS
    return (
        ("submitted" if pending else "answered"),
        answer,
        outcome.ticket or None,
        outcome.model_dump_json(),
    )


def answer_push(effect: Effect, answer: str) -> dict[str, Any]:
    ref = effect.key.split(":", 2)[-1]
    form_type = effect.payload_type.rsplit(":", 1)[-1]
    title, _, message = push_text.federal_answer(answer)
    push = PushItem(
        key=f"fed:{ref}:{answer}"[:200],
        record_id=effect.record_id,
        kind="federal_answer",
        title=title,
        body=f"{form_type} {ref}",
        data={"client_reference": ref, "answer": answer},
        message=message,
    )
    return push_row(push, run_id=effect.run_id, cpas_id=effect.cpas_id, item_id=effect.item_id)


def push_row(push: PushItem, *, run_id: str, cpas_id: str, item_id: int | None) -> dict[str, Any]:
    """The outbox row of one push-back, keyed on the push item's own idempotency key."""
    now = utcnow()
    return dict(
        key=f"push:{cpas_id}:{push.key}"[:200],
        kind="push",
        run_id=run_id,
        item_id=item_id,
        cpas_id=cpas_id,
        record_id=push.record_id,
        state="pending",
        payload_type=type_path(push),
        payload=push.model_dump_json(),
        created_at=now,
        updated_at=now,
    )
