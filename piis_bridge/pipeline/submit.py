"""Stage 3, submit: hand the federal plugin exactly the forms this task claimed; one outcome per form."""

from __future__ import annotations

import time
from collections.abc import Sequence
from functools import partial
from typing import Any

from sqlalchemy import Column, Integer, String, Text, bindparam, update
from sqlalchemy.orm import Session

from piis_bridge.i18n.ops import form_unreadable_text, gave_up_text
from piis_bridge.logging import get_logger
from piis_bridge.observability import tracing
from piis_bridge.pipeline.collect import encrypt_result, json_rows
from piis_bridge.pipeline.models import (
    Effect,
    utcnow,
)
from piis_bridge.pipeline.outbox import (
    Enqueuer,
    again,
    answer_push,
    call,
    claim_batch,
    describe,
    insert_ignore,
    load_payload,
    outcome_fields,
    quarantine,
    record_stat,
    release_effects,
)
from piis_bridge.pipeline.reliability import is_transient
from piis_bridge.pipeline.runs import maybe_finish
from piis_bridge.pipeline.runtime import Runtime
from piis_bridge.pipeline.states import EffectState

_log = get_logger("piis_bridge.pipeline.submit")


def apply_outcomes(
    s: Session, effects: Sequence[Effect], outcomes: Sequence[Any], started_ns: int
) -> tuple[int, int]:
    """Store one outcome per effect; answered forms get their federal-answer push item.

    ``started_ns`` is when the federal call began: each dossier's submit span covers it."""
    by_ref = {}
    for outcome in outcomes:
        ref = getattr(outcome, "client_reference", None)
        if ref:
            by_ref[str(ref)] = outcome
    pushes, waiting = [], 0
    spans: list[tuple[str, int | None, str, dict[str, Any]]] = []
    rows: list[dict[str, Any]] = []
    now = utcnow()
    for effect, positional in zip(effects, outcomes, strict=True):
        key = effect.key.split(":", 2)[-1]
        outcome = by_ref.get(key, positional)
        state, answer, ticket, stored = outcome_fields(outcome)
        remote_ref = getattr(outcome, "client_reference", None)
        rows.append(
            {
                "effect_id": effect.id,
                "state": state,
                "answer": answer,
                "ticket": ticket or effect.ticket,
                "result": stored,
                "remote_ref": (
                    str(remote_ref) if remote_ref and str(remote_ref) != key else effect.remote_ref
                ),
            }
        )
        if state == "answered" and answer:
            pushes.append(answer_push(effect, answer))
        else:
            waiting += 1
        spans.append(
            (effect.run_id, effect.item_id, effect.cpas_id, {"state": state, "answer": answer})
        )
    # Not the ORM's unit of work over every claimed effect (its flush was the submit stage's largest
    # bookkeeping cost); the transition is guarded in the WHERE clause, as every bulk UPDATE of the
    # pipeline does (piis_bridge.pipeline.states).
    if s.get_bind().dialect.name == "postgresql":
        # One UPDATE ... FROM json_to_recordset: one execution for the batch, not one per form
        # (an executemany), and no per-row parameter handling in the worker (docs/pipeline.md "Session 7").
        encrypt = encrypt_result(s)
        for row in rows:
            row["result"] = encrypt(row["result"])
        given = json_rows(
            "outcomes",
            rows,
            (
                Column("effect_id", Integer),
                Column("state", String),
                Column("answer", String),
                Column("ticket", String),
                Column("result", Text),
                Column("remote_ref", String),
            ),
        )
        s.execute(
            update(Effect)
            .where(Effect.id == given.c.effect_id, Effect.state == EffectState.SENDING.value)
            .values(
                state=given.c.state,
                answer=given.c.answer,
                ticket=given.c.ticket,
                result=given.c.result,
                remote_ref=given.c.remote_ref,
                lease_owner=None,
                lease_until=None,
                updated_at=now,
                last_error=None,
            )
            .execution_options(synchronize_session=False)
        )
    else:
        s.connection().execute(
            update(Effect)
            .where(Effect.id == bindparam("effect_id"), Effect.state == EffectState.SENDING.value)
            .values(
                state=bindparam("state"),
                answer=bindparam("answer"),
                ticket=bindparam("ticket"),
                result=bindparam("result"),
                remote_ref=bindparam("remote_ref"),
                lease_owner=None,
                lease_until=None,
                updated_at=now,
                last_error=None,
            ),
            rows,
        )
    tracing.dossier_spans("submit", spans, started_ns)
    insert_ignore(s, Effect, pushes)
    return len(pushes), waiting


def submit_forms(rt: Runtime, run_id: str, cpas_id: str, enq: Enqueuer, attempt: int = 0) -> None:
    """Submit pending forms in batches; transient failures back off, permanent ones are quarantined."""
    remote = f"federal:{cpas_id}"
    host = rt.host
    any_answered = any_waiting = False
    while True:
        t0 = time.perf_counter()
        with rt.session() as s:
            effects = claim_batch(
                rt,
                s,
                "form",
                cpas_id,
                rt.options.submit_batch,
                one_per_dossier=True,
                on_wait=partial(again, enq.submit, run_id, cpas_id, attempt),
            )
            if not effects:
                break
            try:
                forms = [load_payload(e.payload_type, e.payload) for e in effects]
            except Exception as exc:  # noqa: BLE001 - a form class that moved or changed shape
                for e in effects:
                    e.state = "quarantined"
                    quarantine(
                        s,
                        run_id=e.run_id,
                        cpas_id=cpas_id,
                        record_id=e.record_id,
                        stage="submit",
                        reason=form_unreadable_text(exc),
                        effect_id=e.id,
                    )
                s.commit()
                continue
            started_ns = time.time_ns()
            submitted = call(host, "federal_submit", cpas_id, forms, run_id=run_id)
            outcomes, failures = submitted.value, list(submitted.failures)
            if outcomes is not None and isinstance(outcomes, list) and len(outcomes) == len(forms):
                rt.breaker.success(s, remote)
                answered, waiting = apply_outcomes(s, effects, outcomes, started_ns)
                any_answered |= bool(answered)
                any_waiting |= bool(waiting)
                record_stat(s, run_id, "submit", len(effects), time.perf_counter() - t0)
                s.commit()
                attempt = 0
                continue
            error = (
                describe(failures)
                if failures
                else (f"federal_submit returned {type(outcomes).__name__} for {len(forms)} forms")
            )
            if failures and is_transient(failures[-1]):
                rt.breaker.failure(s, remote)
                exhausted = [e for e in effects if rt.retry.exhausted(e.attempts)]
                for e in exhausted:
                    e.state = "quarantined"
                    quarantine(
                        s,
                        run_id=e.run_id,
                        cpas_id=cpas_id,
                        record_id=e.record_id,
                        stage="submit",
                        reason=gave_up_text(e.attempts, error),
                        effect_id=e.id,
                    )
                s.commit()
                rest = [e for e in effects if e not in exhausted]
                delay = rt.retry.delay(max([e.attempts for e in rest] or [1]))
                if rest:
                    release_effects(s, rest, delay, error)
                _log.warning(
                    "federal service unavailable, retrying",
                    cpas=cpas_id,
                    run_id=run_id,
                    forms=len(rest),
                    delay=round(delay, 2),
                    error=error,
                )
                enq.submit(run_id, cpas_id, countdown=delay, attempt=attempt + 1)
                break
            # Permanent: find the culprit(s) by submitting one form at a time.
            if len(effects) > 1:
                release_effects(s, effects[1:], 0, error)
                effects = effects[:1]
                started_ns = time.time_ns()
                alone = call(host, "federal_submit", cpas_id, [forms[0]], run_id=run_id)
                single = alone.value
                if single is not None and len(single) == 1:
                    answered, waiting = apply_outcomes(s, effects, single, started_ns)
                    any_answered |= bool(answered)
                    any_waiting |= bool(waiting)
                    s.commit()
                    continue
                failures = [*failures, *alone.failures]
                error = describe(failures)
                if alone.transient or (failures and is_transient(failures[-1])):
                    release_effects(s, effects, rt.retry.delay(1), error)
                    continue
            for e in effects:
                e.state = "quarantined"
                quarantine(
                    s,
                    run_id=e.run_id,
                    cpas_id=cpas_id,
                    record_id=e.record_id,
                    stage="submit",
                    reason=error,
                    effect_id=e.id,
                )
            s.commit()
    if any_answered:
        enq.push(run_id, cpas_id)
    if any_waiting:
        enq.collect(run_id, cpas_id, countdown=rt.options.collect_delay)
    maybe_finish(rt, run_id, enq)
