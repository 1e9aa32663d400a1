"""The stages of the nightly run, one module each (issue #12 split this 1,063-line module).

Every stage follows the same pattern (written once in :mod:`piis_bridge.pipeline.outbox`):

1. claim its units in the database with a conditional UPDATE (state + lease owner + lease end), so
   two workers, a redelivered message or the sweeper can never process the same unit twice at once;
2. call the remote system through the plugin host (never ``pm.hook`` directly);
3. record the outcome in one transaction; the next stage's units are created in that same
   transaction (outbox), and only then are the next tasks enqueued (with ids only).

=================  ==========================================================
module             what
=================  ==========================================================
:mod:`.runs`       create, start, count, finish a run; one run per CPAS; replay
:mod:`.pull`       the changed records page by page (cursor with the page)
:mod:`.process`    map, hash, judge, build: one record at a time, isolated
:mod:`.submit`     the claimed forms to the federal plugin, one outcome each
:mod:`.collect`    asynchronous answers by ticket
:mod:`.push`       answers, alerts and tasks back to the case system
:mod:`.outbox`     claims/leases, effect rows and keys, quarantine, statistics
=================  ==========================================================

This module re-exports their public functions for existing callers.
"""

from __future__ import annotations

from piis_bridge.pipeline.collect import collect_answers
from piis_bridge.pipeline.outbox import (
    NOTICES_HOOK,
    OPEN_EFFECT_STATES,
    OPEN_ITEM_STATES,
    OPEN_NOTICE_STATES,
    Enqueuer,
    form_key,
    refresh_statistics,
)
from piis_bridge.pipeline.process import process_items
from piis_bridge.pipeline.pull import pull
from piis_bridge.pipeline.push import push_back
from piis_bridge.pipeline.runs import (
    RunRefused,
    create_run,
    implements,
    maybe_finish,
    replay_quarantine,
    run_counts,
    stage_stats,
    start_run,
)
from piis_bridge.pipeline.submit import submit_forms

__all__ = [
    "NOTICES_HOOK",
    "OPEN_EFFECT_STATES",
    "OPEN_ITEM_STATES",
    "OPEN_NOTICE_STATES",
    "Enqueuer",
    "RunRefused",
    "collect_answers",
    "create_run",
    "form_key",
    "implements",
    "maybe_finish",
    "process_items",
    "pull",
    "push_back",
    "refresh_statistics",
    "replay_quarantine",
    "run_counts",
    "stage_stats",
    "start_run",
    "submit_forms",
]
