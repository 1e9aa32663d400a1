"""Run the pipeline's stages in this process, without a broker: deterministic stage-level tests.

The stage functions are what the celery tasks call (:mod:`piis_bridge.pipeline.tasks`); this
enqueuer calls them directly, in the order the messages were sent, honouring countdowns.  A test can
stop it half-way (an exception raised in a stage propagates, like a worker dying) and go on later
with the sweeper, exactly as a restarted worker would.
"""

from __future__ import annotations

import heapq
import itertools
import time
from collections import Counter
from typing import Any

from piis_bridge.pipeline import stages
from piis_bridge.pipeline.runtime import Runtime

__all__ = ["InlineEnqueuer"]


class InlineEnqueuer:
    """An :class:`~piis_bridge.pipeline.stages.Enqueuer` that runs each task here, on :meth:`drain`."""

    def __init__(self, rt: Runtime) -> None:
        self.rt = rt
        self._queue: list[tuple[float, int, str, tuple[Any, ...], int]] = []
        self._order = itertools.count()
        self.sent: Counter[str] = Counter()

    def _add(self, name: str, args: tuple[Any, ...], countdown: float, attempt: int) -> None:
        self.sent[name] += 1
        heapq.heappush(
            self._queue,
            (time.monotonic() + (countdown or 0), next(self._order), name, args, attempt),
        )

    def pull(self, run_id: str, cpas_id: str, *, countdown: float = 0, attempt: int = 0) -> None:
        self._add("pull", (run_id, cpas_id), countdown, attempt)

    def process(
        self, run_id: str, item_ids: list[int], *, countdown: float = 0, attempt: int = 0
    ) -> None:
        self._add("process", (run_id, list(item_ids)), countdown, attempt)

    def submit(self, run_id: str, cpas_id: str, *, countdown: float = 0, attempt: int = 0) -> None:
        self._add("submit", (run_id, cpas_id), countdown, attempt)

    def collect(self, run_id: str, cpas_id: str, *, countdown: float = 0, attempt: int = 0) -> None:
        self._add("collect", (run_id, cpas_id), countdown, attempt)

    def push(self, run_id: str, cpas_id: str, *, countdown: float = 0, attempt: int = 0) -> None:
        self._add("push", (run_id, cpas_id), countdown, attempt)

    def notices(self, run_id: str, cpas_id: str, *, countdown: float = 0, attempt: int = 0) -> None:
        self._add("notices", (run_id, cpas_id), countdown, attempt)

    def statement(
        self, run_id: str, cpas_id: str, *, countdown: float = 0, attempt: int = 0
    ) -> None:
        self._add("statement", (run_id, cpas_id), countdown, attempt)

    def start(self, run_id: str) -> None:
        self._add("start", (run_id,), 0, 0)

    def clear(self) -> None:
        """Forget every message not run yet (what a SIGKILLed worker loses)."""
        self._queue.clear()

    def drain(self, *, timeout: float = 60.0) -> None:
        """Run every task, and the tasks they send, until none is left."""
        deadline = time.monotonic() + timeout
        while self._queue:
            due, _, name, args, attempt = heapq.heappop(self._queue)
            wait = due - time.monotonic()
            if wait > 0:
                assert time.monotonic() + wait < deadline, f"{name}{args} is due after the timeout"
                time.sleep(wait)
            self._run(name, args, attempt)
            assert time.monotonic() < deadline, "the stages did not settle in time"

    def _run(self, name: str, args: tuple[Any, ...], attempt: int) -> None:
        rt = self.rt
        if name == "start":
            stages.start_run(rt, args[0], self)
        elif name == "pull":
            stages.pull(rt, *args, self, attempt)
        elif name == "process":
            stages.process_items(rt, *args, self, attempt)
        elif name == "submit":
            stages.submit_forms(rt, *args, self, attempt)
        elif name == "collect":
            stages.collect_answers(rt, *args, self, attempt)
        elif name == "push":
            stages.push_back(rt, *args, self, attempt)
        elif name == "notices":
            from piis_bridge.pipeline.notices import read_notices

            read_notices(rt, *args, self, attempt)
        elif name == "statement":
            from piis_bridge.pipeline.statement import fetch_statement

            fetch_statement(rt, *args, self, attempt)
        else:  # pragma: no cover - a new task needs a line here
            raise AssertionError(f"unknown task {name}")
