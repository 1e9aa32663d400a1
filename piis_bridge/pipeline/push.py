"""Stage 5, push back: federal answers, deadline alerts and tasks to the case system."""

from __future__ import annotations

import time
from functools import partial
from typing import Any

from piis_bridge.hooks.types import PluginFailure, PushItem, PushResult
from piis_bridge.i18n.ops import gave_up_text
from piis_bridge.observability import tracing
from piis_bridge.pipeline.models import Effect, utcnow
from piis_bridge.pipeline.outbox import (
    Enqueuer,
    again,
    call,
    claim_batch,
    describe,
    quarantine,
    record_stat,
    release_effects,
    update_rows,
)
from piis_bridge.pipeline.reliability import is_transient, is_transient_text
from piis_bridge.pipeline.runs import maybe_finish
from piis_bridge.pipeline.runtime import Runtime


def push_back(rt: Runtime, run_id: str, cpas_id: str, enq: Enqueuer, attempt: int = 0) -> None:
    """Push federal answers and deadline alerts to the case system, idempotent on the item key."""
    remote = f"casesystem:{cpas_id}"
    host = rt.host
    while True:
        t0 = time.perf_counter()
        with rt.session() as s:
            effects = claim_batch(
                rt,
                s,
                "push",
                cpas_id,
                rt.options.push_batch,
                one_per_dossier=False,
                on_wait=partial(again, enq.push, run_id, cpas_id, attempt),
            )
            if not effects:
                break
            items = [PushItem.model_validate_json(e.payload) for e in effects]
            started_ns = time.time_ns()
            pushed = call(host, "case_push", cpas_id, items, run_id=run_id)
            results: list[PushResult] = pushed.value
            failures = list(pushed.failures)
            if failures and all(r.status == "failed" for r in results):
                error = describe(failures)
                if is_transient(failures[-1]):
                    rt.breaker.failure(s, remote)
                    delay = rt.retry.delay(attempt + 1)
                    release_effects(s, effects, delay, error)
                    enq.push(run_id, cpas_id, countdown=delay, attempt=attempt + 1)
                    break
            else:
                rt.breaker.success(s, remote)
            retry_later = []
            done: list[dict[str, Any]] = []
            states: dict[int, str] = {}
            for e, r in zip(effects, results, strict=False):
                if r.status in ("created", "duplicate"):
                    done.append({"id": e.id, "answer": r.status, "ticket": r.remote_id})
                    states[e.id] = "done"
                elif _retry_item(r, failures) and not rt.retry.exhausted(e.attempts):
                    retry_later.append(e)
                else:
                    # A refusal of this item (404: no such dossier, 422...) is not an outage: quarantined
                    # at once with the case system's answer; a transient one after its attempts.
                    e.state, e.lease_owner, e.lease_until = "quarantined", None, None
                    reason = r.detail or describe(failures)
                    if _retry_item(r, failures):
                        reason = gave_up_text(e.attempts, reason)
                    quarantine(
                        s,
                        run_id=e.run_id,
                        cpas_id=cpas_id,
                        record_id=e.record_id,
                        stage="push",
                        reason=reason,
                        effect_id=e.id,
                    )
            if done:
                # One statement for the pushed effects (outbox.update_rows) rather than the ORM's
                # flush of each; the transition is guarded in the WHERE clause
                # (piis_bridge.pipeline.states).
                update_rows(
                    s,
                    Effect.__table__,
                    done,
                    where=[Effect.state == "sending"],
                    values=dict(
                        state="done", lease_owner=None, lease_until=None, updated_at=utcnow()
                    ),
                )
            tracing.dossier_spans(
                "push",
                [
                    (
                        e.run_id,
                        e.item_id,
                        cpas_id,
                        {"state": states.get(e.id, e.state), "kind": i.kind},
                    )
                    for e, i in zip(effects, items, strict=True)
                ],
                started_ns,
            )
            record_stat(
                s, run_id, "push", len(effects) - len(retry_later), time.perf_counter() - t0
            )
            s.commit()
            if retry_later:
                delay = rt.retry.delay(max(e.attempts for e in retry_later))
                release_effects(
                    s,
                    retry_later,
                    delay,
                    "; ".join(r.detail for r in results if r.status == "failed"),
                )
                enq.push(run_id, cpas_id, countdown=delay, attempt=attempt + 1)
    maybe_finish(rt, run_id, enq)


def _retry_item(result: PushResult, failures: list[PluginFailure]) -> bool:
    """Whether a failed item is worth sending again: the plugin failed transiently, or its answer for
    this item says the case system was unavailable (429, 5xx, a timeout), not that it refused it."""
    if failures:
        return is_transient(failures[-1])
    return is_transient_text(result.detail)
