"""Stage 4, collect: the answers of forms submitted asynchronously (batch tickets)."""

from __future__ import annotations

import json
import time
from collections.abc import Sequence
from datetime import timedelta
from typing import Any
from typing import cast as cast_type

from sqlalchemy import (
    JSON,
    Column,
    Integer,
    String,
    Text,
    bindparam,
    cast,
    func,
    select,
    update,
)
from sqlalchemy.orm import Session

from piis_bridge.crypto import EncryptedText
from piis_bridge.observability import tracing
from piis_bridge.pipeline.models import (
    Effect,
    utcnow,
)
from piis_bridge.pipeline.outbox import (
    Enqueuer,
    PluginCall,
    answer_push,
    call,
    insert_ignore,
    outcome_fields,
    record_stat,
)
from piis_bridge.pipeline.reliability import is_transient
from piis_bridge.pipeline.runs import maybe_finish
from piis_bridge.pipeline.runtime import Runtime

_PAGE = 1000  # forms looked at per collect task
# What the collect stage reads of a waiting form (answer_push's fields, the ticket, the keys).
_COLUMNS = (
    Effect.id,
    Effect.key,
    Effect.remote_ref,
    Effect.ticket,
    Effect.run_id,
    Effect.item_id,
    Effect.cpas_id,
    Effect.record_id,
    Effect.payload_type,
)


def json_rows(name: str, rows: list[dict[str, Any]], columns: Sequence[Column[Any]]) -> Any:
    """PostgreSQL: *rows* as a derived table ``json_to_recordset(:name) AS name(col type, ...)``
    of *columns* (plain ones: their name and type), for one set-based UPDATE of many rows.

    Why JSON and not ``unnest`` of one array per column: psycopg dumps a text array element by
    element in Python and escapes every double quote of every value with a regular expression (an
    outcome's stored JSON result holds dozens): that was a fifth of the collect stage's CPU in the
    worker (py-spy); ``json.dumps`` of the rows is one C call and the statement has one parameter.
    Values that need a bind processor (an encrypted column) are processed by the caller."""
    doc = json.dumps(rows, separators=(",", ":"))
    return (
        func.json_to_recordset(cast(bindparam(name, doc, type_=Text), JSON))
        .table_valued(*columns)
        .render_derived(name=name, with_types=True)
    )


def encrypt_result(s: Session) -> Any:
    """The bind processing of ``sync_effect.result`` (encrypted when keys are configured), for
    values that reach the column through :func:`json_rows` rather than as its own parameter."""
    column = cast_type(EncryptedText, Effect.__table__.c.result.type)
    dialect = s.get_bind().dialect
    return lambda value: None if value is None else column.process_bind_param(value, dialect)


def record_answers(s: Session, answered: dict[int, tuple[Any, str, str]]) -> list[int]:
    """Record the answers of the forms still waiting among *answered* (effect id -> (row, answer,
    stored result)); returns the ids won, in order.  A form another collect task answered meanwhile
    is left alone (the state guard); the rows won stay locked until the caller commits.

    PostgreSQL: one ``UPDATE ... FROM json_to_recordset(...) ... RETURNING`` writes the state,
    the answer and the result at once.  Why: the state change and the answer were two statements,
    so every answered form left two new row versions, each with an entry in every index of
    ``sync_effect`` (none of these updates can be HOT: ``state`` and ``answer`` are indexed), and
    the state change bound one parameter per form (a new statement text for every page size).
    Measured with ``benchmarks/bench_sql.py`` (docs/pipeline.md).  The rows travel as JSON
    (:func:`json_rows`).  SQLite: the guarded ``UPDATE ... RETURNING`` then the answers in one
    ``executemany``.
    """
    if not answered:
        return []
    now = utcnow()
    if s.get_bind().dialect.name == "postgresql":
        encrypt = encrypt_result(s)
        rows = json_rows(
            "answered",
            [
                {"id": i, "answer": answer, "result": encrypt(stored)}
                for i, (_row, answer, stored) in sorted(answered.items())
            ],
            (Column("id", Integer), Column("answer", String), Column("result", Text)),
        )
        return sorted(
            s.scalars(
                update(Effect)
                .where(Effect.id == rows.c.id, Effect.state == "submitted")
                .values(
                    state="answered", answer=rows.c.answer, result=rows.c.result, updated_at=now
                )
                .returning(Effect.id)
                .execution_options(synchronize_session=False)
            )
        )
    won = sorted(
        s.scalars(
            update(Effect)
            .where(Effect.id.in_(list(answered)), Effect.state == "submitted")
            .values(state="answered", updated_at=now)
            .returning(Effect.id)
            .execution_options(synchronize_session=False)
        )
    )
    if won:
        s.connection().execute(
            update(Effect)
            .where(Effect.id == bindparam("effect_id"))
            .values(answer=bindparam("answer"), result=bindparam("result")),
            [{"effect_id": i, "answer": answered[i][1], "result": answered[i][2]} for i in won],
        )
    return won


def collect_answers(
    rt: Runtime, run_id: str, cpas_id: str, enq: Enqueuer, attempt: int = 0
) -> None:
    """Ask the federal service for the answers of forms submitted asynchronously (batch tickets)."""
    t0 = time.perf_counter()
    host = rt.host
    with rt.session() as s:
        # Columns, not Effect objects: the payload and the result (encrypted) are not needed here.
        waiting = list(
            s.execute(
                select(*_COLUMNS)
                .where(
                    Effect.kind == "form", Effect.cpas_id == cpas_id, Effect.state == "submitted"
                )
                .order_by(Effect.id)
                .limit(_PAGE)
            ).all()
        )
        if not waiting:
            return
        more = len(waiting) == _PAGE  # a full page: more forms wait after these (ask for them too)
        unticketed = [e for e in waiting if not e.ticket]
        if unticketed:
            # Accepted for later without a ticket (e.g. held back behind an earlier form of the same
            # dossier): submit again with the same key; the remote's ledger deduplicates.
            s.execute(
                update(Effect)
                .where(Effect.id.in_([e.id for e in unticketed]))
                .values(
                    state="pending",
                    next_attempt_at=utcnow() + timedelta(seconds=rt.options.collect_delay),
                )
            )
            s.commit()
            enq.submit(run_id, cpas_id, countdown=rt.options.collect_delay)
            waiting = [e for e in waiting if e.ticket]
            if not waiting:
                if more:
                    enq.collect(run_id, cpas_id, attempt=attempt)
                return
        tickets = sorted({e.ticket for e in waiting if e.ticket})
        # End the read's transaction before the remote call: psycopg's last (unnamed) portal keeps
        # its snapshot while the session sits idle in a transaction (``backend_xmin`` stays set,
        # checked in pg_stat_activity), and a held snapshot stops PostgreSQL from pruning the dead
        # row versions every other worker leaves meanwhile.  The rows read are plain tuples.
        s.commit()
        started_ns = time.time_ns()
        fetched = (
            call(host, "federal_fetch_results", cpas_id, tickets, run_id=run_id)
            if tickets
            else PluginCall([], ())
        )
        outcomes, failures = fetched.value, list(fetched.failures)
        if outcomes is None:
            delay = (
                rt.retry.delay(attempt + 1)
                if failures and is_transient(failures[-1])
                else rt.options.collect_delay * 5
            )
            enq.collect(run_id, cpas_id, countdown=delay, attempt=attempt + 1)
            return
        by_ref = {str(getattr(o, "client_reference", "")): o for o in outcomes}
        answered: dict[int, tuple[Any, str, str]] = {}
        for e in waiting:
            outcome = by_ref.get(e.remote_ref or e.key.split(":", 2)[-1])
            if outcome is None:
                continue
            state, answer, _ticket, stored = outcome_fields(outcome)
            if state == "answered" and answer:
                answered[e.id] = (e, answer, stored)
        pushes = []
        spans: list[tuple[str, int | None, str, dict[str, Any]]] = []
        # Conditional: two collect tasks may look at the same forms; one records each answer.
        won = record_answers(s, answered)
        for i in won:
            e, answer, _ = answered[i]
            pushes.append(answer_push(e, answer))
            spans.append((e.run_id, e.item_id, cpas_id, {"state": "answered", "answer": answer}))
        tracing.dossier_spans("collect", spans, started_ns)
        insert_ignore(s, Effect, pushes)
        record_stat(s, run_id, "collect", len(pushes), time.perf_counter() - t0)
        s.commit()
        left = len(waiting) - len(pushes)
    if pushes:
        enq.push(run_id, cpas_id)
    if left or more:
        # a full page answered entirely goes on at once with the next page (it used to stop at 1,000)
        enq.collect(
            run_id, cpas_id, countdown=rt.options.collect_delay if left else 0, attempt=attempt
        )
    maybe_finish(rt, run_id, enq)
