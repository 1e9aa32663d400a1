"""The form ledger: every federal form, its idempotency key, payload hash, status and answers.

Why: "nothing is sent twice, nothing lost on a crash".  A form is recorded (built) before it is sent,
marked sent before the call, and answered from the federal reply or, after an unknown outcome, from the
federal status.  Recording the same content again returns the existing entry (the key is derived from the
content).  A refused form is replaced by a new version linked to it; an accepted B corrected later is
superseded once its correction is accepted.  Bulk methods use Core statements so that 100,000 forms
stream through in bounded memory.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Iterator, Sequence
from datetime import UTC, date, datetime
from typing import Any, cast

from sqlalchemy import (
    Date,
    DateTime,
    Integer,
    String,
    Table,
    bindparam,
    func,
    insert,
    select,
    text,
    true,
    update,
)
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.engine import Engine
from sqlalchemy.orm import sessionmaker

from piis_bridge.crypto import hash_key
from piis_bridge.db import make_engine, make_sessionmaker
from piis_bridge.forms import (
    FederalForm,
    FormKind,
    FormStatus,
    SubmissionOutcome,
    status_for_evaluation,
)
from piis_bridge.ledger.models import NISS_HASH_PURPOSE, FormEntry, IntegrationEntry, niss_hash
from piis_bridge.ledger.state import check_transition

__all__ = ["NISS_HASH_PURPOSE", "Ledger", "niss_hash", "payload_hash", "rehash_niss"]


# the Core tables (typed as such: the ORM declares ``__table__`` as a FromClause)
_FORMS = cast(Table, FormEntry.__table__)
_INTEGRATIONS = cast(Table, IntegrationEntry.__table__)

# a start date shared by this many NISS is written by one IN-update (see Ledger._set_integrations)
_SHARED_START = 50

_ANSWERED = (FormStatus.ACCEPTED, FormStatus.PARTIALLY_ACCEPTED, FormStatus.BLOCKED)


def _now() -> datetime:
    return datetime.now(UTC)


def _insert_ignoring(s: Any, table: Any) -> Any:
    """INSERT ... ON CONFLICT DO NOTHING on PostgreSQL and SQLite (a plain INSERT elsewhere)."""
    name = s.get_bind().dialect.name
    if name == "postgresql":
        from sqlalchemy.dialects import postgresql

        return postgresql.insert(table).on_conflict_do_nothing()
    if name == "sqlite":
        from sqlalchemy.dialects import sqlite

        return sqlite.insert(table).on_conflict_do_nothing()
    return insert(table)


def _given_starts(starts: dict[str, date]) -> Any:
    """``unnest(hashes, starts) AS given(h, d)``: the (keyed hash, start) pairs as one derived table
    bound as two arrays (PostgreSQL), so the statement's text does not depend on how many there are."""
    hashes = list(starts)
    return (
        func.unnest(
            bindparam("hashes", hashes, type_=ARRAY(String)),
            bindparam("starts", [starts[h] for h in hashes], type_=ARRAY(Date)),
        )
        .table_valued("h", "d")
        .render_derived(name="given")
    )


def _insert_integrations(
    s: Any, cpas_id: str, starts: dict[str, date], purpose: int, now: datetime
) -> None:
    """Insert *pending* integration rows (keyed hash -> start), ignoring a row that exists.

    PostgreSQL: one ``INSERT ... SELECT FROM unnest(hashes, starts) ON CONFLICT DO NOTHING`` (one
    execution, a statement text that does not depend on the number of rows); elsewhere an
    ``executemany`` of the ignoring insert."""
    t = _INTEGRATIONS
    if s.get_bind().dialect.name == "postgresql":
        from sqlalchemy import literal
        from sqlalchemy.dialects import postgresql

        rows = _given_starts(starts)
        s.execute(
            postgresql.insert(t)
            .from_select(
                ["cpas_id", "niss_hash", "purpose", "start", "status", "created_at", "updated_at"],
                select(
                    literal(cpas_id, String),
                    rows.c.h,
                    literal(purpose, Integer),
                    rows.c.d,
                    literal("pending", String),
                    literal(now, t.c.created_at.type),
                    literal(now, t.c.updated_at.type),
                ),
            )
            .on_conflict_do_nothing()
        )
        return
    s.connection().execute(
        _insert_ignoring(s, t),
        [
            dict(
                cpas_id=cpas_id,
                niss_hash=h,
                purpose=purpose,
                start=d,
                status="pending",
                created_at=now,
                updated_at=now,
            )
            for h, d in starts.items()
        ],
    )


def payload_hash(payload: bytes | str) -> str:
    if isinstance(payload, str):
        payload = payload.encode()
    return hashlib.sha256(payload).hexdigest()


def _row(
    form: FederalForm, payload: bytes | str, *, version: int = 1, supersedes_id: int | None = None
) -> dict[str, Any]:
    now = _now()
    amount = form.rubrics.get("MonthlyAmount", form.rubrics.get("Amount"))
    return dict(
        key=form.client_reference,
        cpas_id=form.cpas_id,
        kind=form.kind.value,
        niss=form.niss,
        niss_hash=niss_hash(form.niss),
        dossier=form.dossier,
        period_key=form.period_key,
        version=version,
        supersedes_id=supersedes_id,
        status=FormStatus.BUILT.value,
        sent_at=None,
        payload=form.model_dump_json(),
        payload_hash=payload_hash(payload),
        xml=payload.decode() if isinstance(payload, bytes) else payload,
        content_hash=form.content_hash(),
        amount=None if amount is None else int(amount),
        errors=[],
        created_at=now,
        updated_at=now,
    )


class _Bulk:
    """One INSERT or UPDATE run with ``executemany`` on the driver, rows given as tuples.

    Why: for 100,000 forms SQLAlchemy's per-row parameter handling costs several times what the database
    does with the row.  The statement is written once per dialect with its placeholder style, and each
    column's own bind processor (dates and datetimes on SQLite, JSON everywhere) is applied in a plain loop:
    the values reach the driver exactly as SQLAlchemy would pass them.  Dialects with another placeholder
    style fall back to SQLAlchemy Core."""

    def __init__(
        self, dialect: Any, table: Any, kind: str, columns: Sequence[str], where: Sequence[str] = ()
    ) -> None:
        self.table, self.kind, self.columns, self.where = table, kind, tuple(columns), tuple(where)
        mark = {"qmark": "?", "format": "%s", "pyformat": "%s"}.get(dialect.paramstyle)
        self.sql: str | None = None
        if mark is not None:
            if kind == "insert":
                # names are this module's constants; every value is a parameter
                self.sql = (
                    f"INSERT INTO {table.name} ({', '.join(self.columns)}) "  # noqa: S608
                    f"VALUES ({', '.join(mark for _ in self.columns)})"
                )
            else:
                self.sql = (
                    f"UPDATE {table.name} SET {', '.join(f'{c} = {mark}' for c in self.columns)} "  # noqa: S608
                    f"WHERE {' AND '.join(f'{c} = {mark}' for c in self.where)}"
                )
        self.processors = [
            (i, proc)
            for i, name in enumerate(self.columns + self.where)
            if (proc := table.c[name].type.dialect_impl(dialect).bind_processor(dialect))
            is not None
        ]

    def run(self, s: Any, rows: Sequence[Sequence[Any]]) -> None:
        if not rows:
            return
        if self.sql is None:
            names = self.columns + self.where
            dicts = [dict(zip(names, row, strict=True)) for row in rows]
            t = self.table
            if self.kind == "insert":
                s.connection().execute(insert(t), dicts)
            else:
                s.connection().execute(
                    update(t)
                    .where(*(t.c[c] == bindparam("w_" + c) for c in self.where))
                    .values({c: bindparam(c) for c in self.columns}),
                    [
                        {**{c: d[c] for c in self.columns}, **{"w_" + c: d[c] for c in self.where}}
                        for d in dicts
                    ],
                )
            return
        if self.processors:
            out = []
            done: dict[
                tuple[int, Any], Any
            ] = {}  # the rows of a chunk share their timestamps: convert each once
            for row in rows:
                row = list(row)
                for i, proc in self.processors:
                    value = row[i]
                    if value is None:
                        continue
                    if isinstance(value, (datetime, date)):
                        key = (i, value)
                        if key not in done:
                            done[key] = proc(value)
                        row[i] = done[key]
                    else:
                        row[i] = proc(value)
                out.append(tuple(row))
            rows = out
        s.connection().exec_driver_sql(self.sql, list(rows))


_FORM_COLUMNS = (
    "key",
    "cpas_id",
    "kind",
    "niss",
    "niss_hash",
    "dossier",
    "period_key",
    "version",
    "supersedes_id",
    "status",
    "sent_at",
    "payload",
    "payload_hash",
    "xml",
    "content_hash",
    "amount",
    "errors",
    "created_at",
    "updated_at",
)
_ANSWER_COLUMNS = (
    "status",
    "reference",
    "percentage",
    "accepted_amount",
    "errors",
    "received_at",
    "answered_at",
    "updated_at",
    "ticket",
)


#: What :meth:`Ledger.live_by_hash` reads of a live form.
_LIVE_COLUMNS = ("id", "key", "niss_hash", "period_key", "status", "content_hash", "version")


def _live_statements() -> tuple[Any, Any]:
    """The two statements of :meth:`Ledger.live_by_hash`, built once (values are parameters)."""
    t = _FORMS
    where = (
        t.c.cpas_id == bindparam("cpas_id"),
        t.c.kind == bindparam("kind"),
        t.c.status != FormStatus.SUPERSEDED.value,
    )
    cols = [t.c[c] for c in _LIVE_COLUMNS]
    plain = (
        select(*cols)
        .where(*where, t.c.niss_hash.in_(bindparam("hashes", expanding=True)))
        .order_by(t.c.version)
    )
    wanted = (
        func.unnest(bindparam("hashes", type_=ARRAY(String)))
        .table_valued("niss_hash")
        .render_derived(name="wanted")
    )
    found = (
        select(*cols)
        .where(*where, t.c.niss_hash == wanted.c.niss_hash)
        .offset(0)  # the fence: a sub-select with OFFSET is never pulled up into a join
        .lateral("found")
    )
    lateral = (
        select(*(found.c[c] for c in _LIVE_COLUMNS))
        .select_from(wanted)
        .join(found, true())
        .order_by(found.c.version)
    )
    return plain, lateral


_LIVE_IN, _LIVE_LATERAL = _live_statements()


# The answers of forms still *sent* (or *built*), in one statement: see _answer_sent.
_ANSWER_SENT = text(
    "UPDATE federal_form_ledger AS f SET status = v.status, reference = v.reference,"
    " percentage = v.percentage, accepted_amount = v.accepted_amount, errors = v.errors,"
    " received_at = v.received_at, answered_at = :now, updated_at = :now,"
    " ticket = COALESCE(f.ticket, v.ticket)"
    " FROM json_to_recordset(CAST(:rows AS json)) AS v(key varchar, status varchar,"
    " reference varchar, percentage integer, accepted_amount integer, errors json,"
    " received_at timestamp, ticket varchar)"
    " WHERE f.key = v.key AND f.status IN ('sent', 'built')"
    " RETURNING f.key, f.supersedes_id"
).bindparams(bindparam("now", type_=DateTime(timezone=True)), bindparam("rows", type_=String))


def _answer_sent(
    s: Any, rows: list[list[Any]], superseding: set[str], now: datetime
) -> tuple[set[str], list[int]]:
    """PostgreSQL: store the answers of the forms among *rows* (``_ANSWER_COLUMNS`` + key) that are
    still *sent* or *built*, the two statuses from which every answer is a valid transition, in one
    ``UPDATE ... FROM json_to_recordset(...) ... RETURNING``; returns the keys written and the ids
    their answer supersedes.  The others (unknown, already answered, a later answer of an answered
    form) are left to the caller's checked path, which raises on a transition the table forbids.

    Why: the checked path reads every form's status first and then writes each row with its own
    execution (an ``executemany``): two statements and one execution per answered form, the collect
    stage's largest cost in PostgreSQL (bench_sql.py).  The rows travel as one JSON document: the
    driver's text arrays escape every quote of every value in Python."""
    doc = json.dumps(
        [
            {
                "key": r[9],
                "status": r[0],
                "reference": r[1],
                "percentage": r[2],
                "accepted_amount": r[3],
                "errors": r[4],
                "received_at": r[5].isoformat() if r[5] is not None else None,
                "ticket": r[8],
            }
            for r in rows
        ]
    )
    done: set[str] = set()
    old_ids: list[int] = []
    for key, supersedes_id in s.execute(_ANSWER_SENT, {"now": now, "rows": doc}):
        done.add(key)
        if supersedes_id is not None and key in superseding:
            old_ids.append(supersedes_id)
    return done, old_ids


class Ledger:
    def __init__(self, sessions: sessionmaker) -> None:
        hash_key()  # a missing hash key is a configuration error at start, not at the first form
        self.sessions = sessions
        self._owned_engine: Engine | None = None  # set by open(): the pool close() disposes
        bind = sessions.kw.get("bind")
        dialect = bind.dialect if bind is not None else None
        self._insert_forms = _Bulk(dialect, _FORMS, "insert", _FORM_COLUMNS) if dialect else None
        self._answer_forms = (
            _Bulk(dialect, _FORMS, "update", _ANSWER_COLUMNS, ("key",)) if dialect else None
        )

    @classmethod
    def open(cls, url: str | None = None, engine: Engine | None = None) -> Ledger:
        """Open (creating the table if needed: alembic owns production schemas)."""
        owned = engine is None
        engine = engine or make_engine(url)
        _FORMS.create(engine, checkfirst=True)
        _INTEGRATIONS.create(engine, checkfirst=True)
        ledger = cls(make_sessionmaker(engine))
        ledger._owned_engine = engine if owned else None
        return ledger

    def close(self) -> None:
        """Close the connection pool this ledger opened itself (:meth:`open` from a URL); an engine
        handed in by the caller stays the caller's to dispose.  Without it, every ledger a process
        drops (a CPAS's federal settings changed, the plugin closed) keeps its pooled connections
        open on the database server until the process ends."""
        if self._owned_engine is not None:
            self._owned_engine.dispose()
            self._owned_engine = None

    # ------------------------------------------------------------------ recording
    def record(self, form: FederalForm, payload: bytes | str) -> tuple[FormEntry, bool]:
        """Record a built form; returns (entry, created).  Same key again = the existing entry, untouched."""
        form = form.with_key()
        with self.sessions() as s:
            existing = s.scalar(select(FormEntry).where(FormEntry.key == form.client_reference))
            if existing is not None:
                return existing, False
            supersedes_id, version = None, 1
            if form.supersedes:
                old = s.scalar(select(FormEntry).where(FormEntry.key == form.supersedes))
                if old is not None:
                    supersedes_id, version = old.id, old.version + 1
                    if old.status in (FormStatus.REFUSED, FormStatus.BUILT):
                        # a refused form is replaced right away; a built one never left
                        old.status, old.updated_at = FormStatus.SUPERSEDED.value, _now()
            entry = FormEntry(**_row(form, payload, version=version, supersedes_id=supersedes_id))
            s.add(entry)
            s.commit()
            return entry, True

    def record_many(
        self, items: Iterable[tuple[FederalForm, bytes | str]], chunk: int = 1000
    ) -> int:
        """Bulk record (new keys only); returns how many were new.  Streams in chunks."""
        created = 0
        buffer: list[dict[str, Any]] = []
        for form, payload in items:
            buffer.append(_row(form.with_key(), payload))
            if len(buffer) >= chunk:
                created += self._insert_new(buffer)
                buffer = []
        if buffer:
            created += self._insert_new(buffer)
        return created

    def record_new(
        self,
        items: Sequence[tuple[FederalForm, bytes | str]],
        *,
        sent: set[str] | frozenset[str] = frozenset(),
        known: set[str] | frozenset[str] | None = None,
    ) -> list[str]:
        """Bulk record one chunk; returns the keys that were new (the others were already known).

        A new form whose key is in ``sent`` is recorded *sent* at once (the caller sends it right after this
        commit): one write instead of a *built* row marked *sent* a moment later, with the same guarantee,
        since a *sent* form without a ticket is resolved by asking the federal status, never resent blindly.
        ``known``: the keys of the chunk the ledger holds, when the caller has just looked them up
        (:meth:`unknown_keys`); they are not asked again.  A key recorded meanwhile by another
        process makes the insert fail on the unique key: it is never recorded (or sent) twice."""
        rows = []
        for form, payload in items:
            form = form.with_key()
            row = _row(form, payload)
            if form.supersedes:
                row["_supersedes"] = form.supersedes
            rows.append(row)
        if sent:
            now = _now()
            for r in rows:
                if r["key"] in sent:
                    r["status"], r["sent_at"] = FormStatus.SENT.value, now
        return [r["key"] for r in self._insert_rows(rows, known)]

    def unknown_keys(self, keys: Iterable[str]) -> set[str]:
        """The keys among ``keys`` that the ledger does not hold yet."""
        keys = list(dict.fromkeys(keys))
        known: set[str] = set()
        with self.sessions() as s:
            for i in range(0, len(keys), 900):
                known.update(
                    s.scalars(select(FormEntry.key).where(FormEntry.key.in_(keys[i : i + 900])))
                )
        return {k for k in keys if k not in known}

    def _insert_new(self, rows: list[dict[str, Any]]) -> int:
        return len(self._insert_rows(rows))

    def _insert_rows(
        self, rows: list[dict[str, Any]], known: set[str] | frozenset[str] | None = None
    ) -> list[dict[str, Any]]:
        with self.sessions() as s:
            if known is None:
                keys = [r["key"] for r in rows]
                known = set(s.scalars(select(FormEntry.key).where(FormEntry.key.in_(keys))))
            fresh, seen = [], set()
            for r in rows:
                if r["key"] not in known and r["key"] not in seen:
                    fresh.append(r)
                    seen.add(r["key"])
            self._link_versions(s, [r for r in fresh if r.get("_supersedes")])
            if (
                fresh and self._insert_forms is not None
            ):  # executemany on the driver: no ORM object per form
                self._insert_forms.run(s, [tuple(r[c] for c in _FORM_COLUMNS) for r in fresh])
            elif fresh:
                s.connection().execute(
                    insert(_FORMS), [{c: r[c] for c in _FORM_COLUMNS} for r in fresh]
                )
            s.commit()
            return fresh

    @staticmethod
    def _link_versions(s: Any, rows: list[dict[str, Any]]) -> None:
        """A new version (a correction, or the resend of a refused form) links to the version it replaces,
        as :meth:`record` does: version + 1, and a refused or never-sent old version is superseded at once."""
        if not rows:
            return
        olds = {
            e.key: e
            for e in s.scalars(
                select(FormEntry).where(FormEntry.key.in_({r["_supersedes"] for r in rows}))
            )
        }
        now = _now()
        for r in rows:
            old = olds.get(r["_supersedes"])
            if old is None:
                continue
            r["supersedes_id"], r["version"] = old.id, old.version + 1
            if old.status in (FormStatus.REFUSED, FormStatus.BUILT):
                old.status, old.updated_at = FormStatus.SUPERSEDED.value, now
        s.flush()

    # ------------------------------------------------------------------ queries
    def get(self, key: str) -> FormEntry | None:
        with self.sessions() as s:
            return s.scalar(select(FormEntry).where(FormEntry.key == key))

    def latest(
        self, cpas_id: str, kind: FormKind | str, niss: str, period_key: str
    ) -> FormEntry | None:
        """The live version for a (form, period): the newest one not superseded."""
        with self.sessions() as s:
            return s.scalar(
                select(FormEntry)
                .where(
                    FormEntry.cpas_id == cpas_id,
                    FormEntry.kind == str(kind),
                    FormEntry.niss_hash == niss_hash(niss),
                    FormEntry.period_key == period_key,
                    FormEntry.status != FormStatus.SUPERSEDED.value,
                )
                .order_by(FormEntry.version.desc(), FormEntry.id.desc())
                .limit(1)
            )

    def live_by_hash(self, cpas_id: str, kind: str, hashes: Sequence[str]) -> list[Any]:
        """The versions not superseded of the *kind* forms of these NISS (keyed hashes), oldest
        version first (a caller keeping the last per period keeps the newest), as rows of the
        columns deciding how a new form is recorded (:data:`_LIVE_COLUMNS`: no NISS, payload or
        XML decrypted, no ORM instance).

        PostgreSQL: one index descent of ``ix_federal_form_ledger_period`` per hash (``unnest`` of
        the hashes, a ``LATERAL`` sub-select fenced by ``OFFSET 0`` so that the planner keeps the
        hash a condition of the index scan).  Why: with ``niss_hash IN (...)`` the planner, on a
        table never analysed (autovacuum had not reached it), estimated two rows for the CPAS's
        forms of the kind and read them all, filtering the hashes: 10.8 ms for 100 hashes at 20,000
        dossiers, growing with the ledger (EXPLAIN ANALYZE); 1.4 ms this way, whatever the
        statistics.  Elsewhere (SQLite) the plain ``IN``.  The statement is built once per ledger
        (every value a parameter): building the lateral select and its aliased entity on every
        call was most of this look-up's client CPU (bench_submit.py, docs/pipeline.md "Session 7").
        """
        unique = sorted(set(hashes))
        if not unique:
            return []
        with self.sessions() as s:
            if s.get_bind().dialect.name != "postgresql":
                return list(
                    s.execute(_LIVE_IN, {"cpas_id": cpas_id, "kind": str(kind), "hashes": unique})
                )
            return list(
                s.execute(_LIVE_LATERAL, {"cpas_id": cpas_id, "kind": str(kind), "hashes": unique})
            )

    def next_sequence(self, cpas_id: str, dossier: str, month: date) -> int:
        """D: the next numéro d'ordre for (dossier, month) (federal.md 4.1); refused forms free their number."""
        prefix = month.isoformat()[:7] + "/"
        with self.sessions() as s:
            keys = s.scalars(
                select(FormEntry.period_key).where(
                    FormEntry.cpas_id == cpas_id,
                    FormEntry.kind == "D",
                    FormEntry.dossier == dossier,
                    FormEntry.period_key.like(prefix + "%"),
                    FormEntry.status.notin_(
                        [FormStatus.REFUSED.value, FormStatus.SUPERSEDED.value]
                    ),
                )
            )
            used = [int(k.split("/", 1)[1]) for k in keys]
        return max(used, default=0) + 1

    def with_status(
        self, cpas_id: str, *statuses: FormStatus, limit: int | None = None
    ) -> list[FormEntry]:
        with self.sessions() as s:
            q = (
                select(FormEntry)
                .where(
                    FormEntry.cpas_id == cpas_id, FormEntry.status.in_([x.value for x in statuses])
                )
                .order_by(FormEntry.id)
            )
            if limit:
                q = q.limit(limit)
            return list(s.scalars(q))

    def iter_with_status(
        self, cpas_id: str, status: FormStatus, chunk: int = 1000, *, without_ticket: bool = False
    ) -> Iterator[list[FormEntry]]:
        """Chunks of entries by id, without holding them all (keyset pagination)."""
        last = 0
        while True:
            with self.sessions() as s:
                q = select(FormEntry).where(
                    FormEntry.cpas_id == cpas_id,
                    FormEntry.status == status.value,
                    FormEntry.id > last,
                )
                if without_ticket:
                    q = q.where(FormEntry.ticket.is_(None))
                rows = list(s.scalars(q.order_by(FormEntry.id).limit(chunk)))
            if not rows:
                return
            last = rows[-1].id
            yield rows

    def pending_dossiers(self, cpas_id: str) -> set[str]:
        """Dossiers with a form sent and not answered: their next form must wait (federal.md 2.1, B00008)."""
        with self.sessions() as s:
            return set(
                s.scalars(
                    select(FormEntry.dossier).where(
                        FormEntry.cpas_id == cpas_id, FormEntry.status == FormStatus.SENT.value
                    )
                )
            )

    def received_in(self, cpas_id: str, month: date) -> list[FormEntry]:
        start = datetime(month.year, month.month, 1)
        end = datetime(month.year + (month.month == 12), month.month % 12 + 1, 1)
        with self.sessions() as s:
            return list(
                s.scalars(
                    select(FormEntry).where(
                        FormEntry.cpas_id == cpas_id,
                        FormEntry.received_at >= start,
                        FormEntry.received_at < end,
                    )
                )
            )

    def versions(self, key: str) -> list[FormEntry]:
        """The chain of versions ending at *key*, oldest first."""
        chain = []
        with self.sessions() as s:
            entry = s.scalar(select(FormEntry).where(FormEntry.key == key))
            while entry is not None:
                chain.append(entry)
                entry = s.get(FormEntry, entry.supersedes_id) if entry.supersedes_id else None
        return list(reversed(chain))

    def counts(self, cpas_id: str | None = None) -> dict[str, int]:
        with self.sessions() as s:
            q = select(FormEntry.status, func.count()).group_by(FormEntry.status)
            if cpas_id:
                q = q.where(FormEntry.cpas_id == cpas_id)
            return {status: n for status, n in s.execute(q)}

    # ------------------------------------------------------------------ transitions
    def mark_sent(
        self, keys: Sequence[str], ticket: str | None = None, *, claim: bool = False
    ) -> list[str]:
        """Before the call: from here on, the outcome must be learnt from the service, never guessed.

        One conditional UPDATE (``built`` -> ``sent``) per 900 keys: of two processes marking the same
        form, exactly one moves it, and only that one may send it.  Strict (the default): every key must
        be *built*; any other status (``sent -> sent`` included) raises :class:`InvalidTransition`.
        ``claim=True``: returns the keys this call moved; the others (sent, answered meanwhile by another
        process) are left alone and must not be sent by the caller."""
        now = _now()
        won: list[str] = []
        t = _FORMS
        with self.sessions() as s:
            for i in range(0, len(keys), 900):
                part = list(dict.fromkeys(keys[i : i + 900]))
                moved = list(
                    s.execute(
                        update(t)
                        .where(t.c.key.in_(part), t.c.status == FormStatus.BUILT.value)
                        .values(
                            status=FormStatus.SENT.value, sent_at=now, updated_at=now, ticket=ticket
                        )
                        .returning(t.c.key)
                    ).scalars()
                )
                won.extend(moved)
                if len(moved) != len(part) and not claim:  # say which move is forbidden
                    s.rollback()
                    missing = set(part) - set(moved)
                    for _key, status in s.execute(
                        select(t.c.key, t.c.status).where(t.c.key.in_(sorted(missing)))
                    ):
                        check_transition(status, FormStatus.SENT)
                    raise KeyError(f"unknown form(s) {', '.join(sorted(missing))}")
            s.commit()
        order = {k: n for n, k in enumerate(keys)}
        return sorted(won, key=order.__getitem__)

    def set_ticket(self, keys: Sequence[str], ticket: str) -> None:
        with self.sessions() as s:
            for i in range(0, len(keys), 900):
                s.execute(
                    update(FormEntry)
                    .where(FormEntry.key.in_(keys[i : i + 900]))
                    .values(ticket=ticket)
                )
            s.commit()

    def apply(self, outcomes: Iterable[SubmissionOutcome]) -> int:
        """Store answers (and the batch ticket they came with, when the form does not hold one yet).
        Invalid transitions raise; a pending outcome changes nothing."""
        now = _now()
        applied = 0
        with self.sessions() as s:
            rows: list[list[Any]] = []
            superseding = []
            for outcome in outcomes:
                new = status_for_evaluation(outcome.evaluation)
                if new is FormStatus.SENT:
                    continue
                rows.append(
                    [
                        new.value,
                        outcome.reference,
                        outcome.percentage,
                        outcome.accepted_amount,
                        [i.model_dump() for i in outcome.issues],
                        outcome.received_at.replace(tzinfo=None) if outcome.received_at else None,
                        now,
                        now,
                        outcome.ticket,
                        outcome.client_reference,
                    ]
                )
                if new in _ANSWERED:
                    superseding.append(outcome.client_reference)
            old_ids: list[int] = []
            superseding_set = set(superseding)
            if rows and s.get_bind().dialect.name == "postgresql":
                done, old_ids = _answer_sent(s, rows, superseding_set, now)
                applied = len(done)
                rows = [r for r in rows if r[-1] not in done]
            if rows:
                keys = [r[-1] for r in rows]
                current: dict[str, tuple[str, int | None, str | None]] = {}
                repeated: list[str] = []
                for i in range(0, len(keys), 900):
                    for key, status, supersedes_id, ticket in s.execute(
                        select(
                            FormEntry.key,
                            FormEntry.status,
                            FormEntry.supersedes_id,
                            FormEntry.ticket,
                        ).where(FormEntry.key.in_(keys[i : i + 900]))
                    ):
                        current[key] = (status, supersedes_id, ticket)
                for r in rows:
                    known = current.get(r[-1])
                    if known is None:
                        raise KeyError(f"outcome for an unknown form {r[-1]}")
                    if known[0] == r[0]:
                        # the same answer delivered again (a repeated collect, a GEN004 echo): nothing
                        # changes, and it is not a transition; counted apart, never checked as one
                        repeated.append(r[-1])
                        continue
                    check_transition(known[0], r[0])
                    if known[2]:  # the ticket recorded when it was sent stays
                        r[-2] = known[2]
                if repeated:
                    skip = set(repeated)
                    rows = [r for r in rows if r[-1] not in skip]
                old_ids += [
                    sup
                    for key, (_, sup, _) in current.items()
                    if sup is not None and key in superseding_set
                ]
                if self._answer_forms is not None:
                    self._answer_forms.run(s, rows)
                else:  # pragma: no cover - a Ledger built on a sessionmaker without a bind
                    s.connection().execute(
                        update(_FORMS)
                        .where(_FORMS.c.key == bindparam("k"))
                        .values({c: bindparam(c) for c in _ANSWER_COLUMNS}),
                        [dict(zip((*_ANSWER_COLUMNS, "k"), r, strict=True)) for r in rows],
                    )
                applied += len(rows)
            for i in range(0, len(old_ids), 900):
                for old in s.scalars(
                    select(FormEntry).where(FormEntry.id.in_(old_ids[i : i + 900]))
                ):
                    if old.status != FormStatus.SUPERSEDED.value:
                        check_transition(old.status, FormStatus.SUPERSEDED)
                        old.status, old.updated_at = FormStatus.SUPERSEDED.value, now
            s.commit()
        return applied

    def transition(self, key: str, new: FormStatus) -> None:
        with self.sessions() as s:
            entry = s.scalar(select(FormEntry).where(FormEntry.key == key))
            if entry is None:
                raise KeyError(key)
            check_transition(entry.status, new)
            entry.status, entry.updated_at = new.value, _now()
            s.commit()

    # ------------------------------------------------------------------ NISS integration (ManageAccess)
    def integrations(self, cpas_id: str, nisses: Iterable[str]) -> dict[str, tuple[str, date]]:
        """(status, start) of the integration of each NISS already known for this CPAS."""
        t = _INTEGRATIONS
        by_hash = {niss_hash(n): n for n in nisses}
        hashes = list(by_hash)
        out: dict[str, tuple[str, date]] = {}
        with self.sessions() as s:
            for i in range(0, len(hashes), 900):
                for h, status, start in s.execute(
                    select(t.c.niss_hash, t.c.status, t.c.start).where(
                        t.c.cpas_id == cpas_id, t.c.niss_hash.in_(hashes[i : i + 900])
                    )
                ):
                    out[by_hash[h]] = (status, start)
        return out

    def integration_pending(
        self,
        cpas_id: str,
        starts: dict[str, date],
        purpose: int = 2,
        *,
        known: Iterable[str] | None = None,
    ) -> None:
        """Before the REGISTER call: from here on, whether it happened is asked (LIST), never assumed.

        ``known``: the NISS among *starts* that have a row already, when the caller has just read
        them (:meth:`integrations`); they are not looked up again.  A row another process inserted
        meanwhile is left as it is (pending either way)."""
        if not starts:
            return
        t = _INTEGRATIONS
        now = _now()
        hashed = {niss_hash(n): d for n, d in starts.items()}
        with self.sessions() as s:
            hashes = list(hashed)
            if known is not None:
                known_hashes = {niss_hash(n) for n in known}
            else:
                known_hashes = set()
                for i in range(0, len(hashes), 900):
                    known_hashes.update(
                        s.scalars(
                            select(t.c.niss_hash).where(
                                t.c.cpas_id == cpas_id, t.c.niss_hash.in_(hashes[i : i + 900])
                            )
                        )
                    )
            fresh = {h: d for h, d in hashed.items() if h not in known_hashes}
            if fresh:
                # Two submit tasks of one CPAS may integrate the same NISS at once (read-then-insert race,
                # issue #20): the second insert is ignored, the row is *pending* either way.
                _insert_integrations(s, cpas_id, fresh, purpose, now)
            self._set_integrations(
                s,
                cpas_id,
                {h: d for h, d in hashed.items() if h in known_hashes},
                status="pending",
                updated_at=now,
            )
            s.commit()

    def integration_done(self, cpas_id: str, starts: dict[str, date]) -> None:
        """The BCSS confirmed (REGISTER reply or LIST) that each NISS is integrated from ``start``."""
        if not starts:
            return
        now = _now()
        with self.sessions() as s:
            hashed = {niss_hash(n): d for n, d in starts.items()}
            self._set_integrations(s, cpas_id, hashed, status="done", updated_at=now, done_at=now)
            s.commit()

    @staticmethod
    def _set_integrations(s: Any, cpas_id: str, starts: dict[str, date], **values: Any) -> None:
        """Set status, times and each row's own start in a bounded number of statements.

        Why: start dates are per person (a contract's first day), so the former UPDATE per start
        date was close to one per NISS (2,000 NISS over 365 dates: ~0.7-1 s on PostgreSQL).
        PostgreSQL: one ``UPDATE ... FROM unnest(hashes, starts)`` whatever the dates (an
        ``executemany`` of one UPDATE per row cost the worker per-row parameter handling and the
        server one execution per row: docs/pipeline.md "Session 7").  Elsewhere a date shared by many NISS
        gets one ``IN`` UPDATE per 900, and all other rows go in one UPDATE run with the driver's
        ``executemany``.  Figures in docs/privacy.md 7."""
        if not starts:
            return
        t = _INTEGRATIONS
        if s.get_bind().dialect.name == "postgresql":
            rows = _given_starts(starts)
            s.execute(
                update(t)
                .where(t.c.cpas_id == cpas_id, t.c.niss_hash == rows.c.h)
                .values(start=rows.c.d, **values)
            )
            return
        by_start: dict[date, list[str]] = {}
        for h, start in starts.items():
            by_start.setdefault(start, []).append(h)
        single: list[dict[str, Any]] = []
        for start, hashes in by_start.items():
            if len(hashes) < _SHARED_START:
                single.extend({"h": h, "d": start} for h in hashes)
                continue
            for i in range(0, len(hashes), 900):
                s.execute(
                    update(t)
                    .where(t.c.cpas_id == cpas_id, t.c.niss_hash.in_(hashes[i : i + 900]))
                    .values(start=start, **values)
                )
        if single:
            s.execute(
                update(t)
                .where(t.c.cpas_id == cpas_id, t.c.niss_hash == bindparam("h"))
                .values(start=bindparam("d"), **values),
                single,
            )

    def integration_forget(self, cpas_id: str, form_keys: Sequence[str]) -> None:
        """The BCSS refused forms as "NISS not integrated" (-300020: unregistered since): integrate again."""
        t = _INTEGRATIONS
        with self.sessions() as s:
            hashes: set[str] = set()
            for i in range(0, len(form_keys), 900):
                hashes.update(
                    s.scalars(
                        select(FormEntry.niss_hash).where(FormEntry.key.in_(form_keys[i : i + 900]))
                    )
                )
            found = sorted(hashes)
            for i in range(0, len(found), 900):
                s.execute(
                    t.delete().where(t.c.cpas_id == cpas_id, t.c.niss_hash.in_(found[i : i + 900]))
                )
            s.commit()


def rehash_niss(engine: Engine, previous_key: bytes) -> dict[str, int]:
    """After a change of hash key: recompute every NISS hash of the ledger under the current key.

    Why it is possible: each form keeps its NISS encrypted; its new hash comes from it, and its hash
    under *previous_key* says which integration rows were its NISS's.  An integration no form names
    (a REGISTER whose form was never recorded) is deleted: the next form of that NISS integrates it
    again, which the BCSS answers "already integrated" and LIST confirms.  A final form whose NISS
    retention purged is re-keyed through another form of the same NISS, else keeps its old hash
    (it is never looked up again: a new version carries its own NISS).  One transaction, stop
    the bridge while it runs; running it again changes nothing.  Returns counts per table."""
    forms, integ = _FORMS, _INTEGRATIONS
    moved: dict[str, str] = {}
    current: set[str] = set()
    counts = {"federal_form_ledger": 0, "federal_niss_integration": 0, "integrations_dropped": 0}
    with engine.begin() as conn:
        rows = list(conn.execute(select(forms.c.id, forms.c.niss, forms.c.niss_hash)))
        updates = []
        for row_id, niss, stored in rows:
            if not niss:  # purged by retention: re-keyed below through another form of its NISS
                continue
            new = niss_hash(niss)
            current.add(new)
            moved[niss_hash(niss, previous_key)] = new
            if stored != new:
                updates.append({"i": row_id, "h": new})
        for row_id, niss, stored in rows:
            if not niss and stored not in current and stored in moved:
                updates.append({"i": row_id, "h": moved[stored]})
        if updates:
            conn.execute(
                update(forms).where(forms.c.id == bindparam("i")).values(niss_hash=bindparam("h")),
                updates,
            )
        counts["federal_form_ledger"] = len(updates)
        for row_id, stored in list(conn.execute(select(integ.c.id, integ.c.niss_hash))):
            if stored in current:
                continue
            if stored in moved:
                conn.execute(
                    update(integ).where(integ.c.id == row_id).values(niss_hash=moved[stored])
                )
                counts["federal_niss_integration"] += 1
            else:
                conn.execute(integ.delete().where(integ.c.id == row_id))
                counts["integrations_dropped"] += 1
    return counts
