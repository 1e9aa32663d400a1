"""An in-memory vendor case system and a reference plugin over it.

Why: the conformance kit must be runnable without any connector (the core never imports one), and a
plugin author needs a working example of every case-system hook to compare theirs with.  The
sample system behaves like a real vendor feed: each change gets a new sequence number, the feed is
read after a cursor in sequence order, tasks are created once per idempotency key.
"""

from __future__ import annotations

import copy
import json
import threading
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from importlib.resources import files
from typing import Any

from pydantic import ValidationError

from piis_bridge.hooks.markers import hookimpl
from piis_bridge.hooks.types import (
    ChangePage,
    MappingOutcome,
    PushResult,
    RecordProblem,
    SourceRecord,
)

__all__ = [
    "SampleCaseSystem",
    "SampleCaseSystemPlugin",
    "SampleHarness",
    "invalid_contract_payload",
    "sample_contract_payload",
]

_EPOCH = datetime(2026, 1, 1, tzinfo=UTC)


def sample_contract_payload(index: int = 0) -> dict[str, Any]:
    """A valid canonical contract (the sample vendor's schema *is* the canonical JSON), unique per index."""
    base = json.loads(
        files("piis_bridge.testing").joinpath("sample_contract.json").read_text(encoding="utf-8")
    )
    base["contract_id"] = f"SAMPLE-{index:04d}"
    return base


def invalid_contract_payload(index: int = 0) -> dict[str, Any]:
    """A contract with two field errors (a missing decision, a malformed end date)."""
    payload = sample_contract_payload(index)
    del payload["decision"]
    payload["end_date"] = "31/12/2026"
    return payload


@dataclass
class _Row:
    record_id: str
    kind: str
    payload: dict[str, Any]
    seq: int
    version: int = 1


@dataclass
class SampleCaseSystem:
    """The vendor side: records with a change sequence, and tasks keyed by idempotency key."""

    rows: dict[str, _Row] = field(default_factory=dict)
    tasks: dict[str, dict[str, Any]] = field(default_factory=dict)
    _seq: int = 0
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def create(
        self, payload: dict[str, Any], *, kind: str = "piis_contract", record_id: str | None = None
    ) -> str:
        with self._lock:
            self._seq += 1
            rid = record_id or f"SMP-{self._seq:06d}"
            if rid in self.rows:
                raise ValueError(f"record {rid} already exists")
            self.rows[rid] = _Row(rid, kind, copy.deepcopy(payload), self._seq)
            return rid

    def modify(self, record_id: str, changes: dict[str, Any] | None = None) -> None:
        with self._lock:
            row = self.rows[record_id]
            self._seq += 1
            row.payload.update(copy.deepcopy(changes or {}))
            row.seq = self._seq
            row.version += 1

    def changes_after(self, seq: int, limit: int) -> list[_Row]:
        with self._lock:
            return sorted((r for r in self.rows.values() if r.seq > seq), key=lambda r: r.seq)[
                :limit
            ]

    def add_task(self, key: str, task: dict[str, Any]) -> tuple[str, bool]:
        """(remote id, created?) - a second call with the same key creates nothing."""
        with self._lock:
            if key in self.tasks:
                return self.tasks[key]["id"], False
            self.tasks[key] = {"id": f"T{len(self.tasks) + 1}", **copy.deepcopy(task)}
            return self.tasks[key]["id"], True


class SampleCaseSystemPlugin:
    """Reference case-system plugin over a :class:`SampleCaseSystem` (register it under ``name``)."""

    def __init__(self, system: SampleCaseSystem, name: str = "sample") -> None:
        self.system = system
        self.name = name

    @hookimpl
    def piis_case_fetch_changes(self, cpas, cursor, page_size):
        after = int(cursor) if cursor else 0
        rows = self.system.changes_after(after, page_size + 1)
        page, more = rows[:page_size], len(rows) > page_size
        records = [
            SourceRecord(
                source=self.name,
                record_id=r.record_id,
                kind=r.kind,
                modified_at=_EPOCH + timedelta(seconds=r.seq),
                version=str(r.version),
                payload=copy.deepcopy(r.payload),
            )
            for r in page
        ]
        # The cursor names the last record *returned*: resuming from it neither skips nor repeats.
        return ChangePage(
            records=records, cursor=str(page[-1].seq) if page else cursor, has_more=more
        )

    @hookimpl
    def piis_case_map_record(self, cpas, record):
        from piis_bridge.model import PIISContract, problems_from_error

        if record.kind != "piis_contract":
            return MappingOutcome(
                record_id=record.record_id, skip_reason=f"record kind {record.kind!r}"
            )
        try:
            contract = PIISContract.model_validate(record.payload)
        except ValidationError as exc:
            return MappingOutcome(
                record_id=record.record_id,
                problems=[
                    RecordProblem(record_id=record.record_id, field=p.field, reason=p.reason)
                    for p in problems_from_error(exc, self.name, record.record_id)
                ],
            )
        return MappingOutcome(record_id=record.record_id, contract=contract)

    @hookimpl
    def piis_case_push(self, cpas, items):
        results = []
        for item in items:
            if item.record_id not in self.system.rows:
                results.append(
                    PushResult(key=item.key, status="failed", detail=f"no record {item.record_id}")
                )
                continue
            remote, created = self.system.add_task(item.key, item.model_dump(mode="json"))
            results.append(
                PushResult(
                    key=item.key, status="created" if created else "duplicate", remote_id=remote
                )
            )
        return results


class SampleHarness:
    """Conformance harness for the sample system: what a social worker does in the vendor UI."""

    def __init__(self, system: SampleCaseSystem) -> None:
        self.system = system

    def create_record(self, index: int) -> str:
        return self.system.create(sample_contract_payload(index))

    def modify_record(self, record_id: str) -> None:
        self.system.modify(
            record_id, {"means_choice_note": f"edited v{self.system.rows[record_id].version + 1}"}
        )

    def create_invalid_record(self) -> str:
        return self.system.create(invalid_contract_payload(9999))

    def task_count(self, key: str) -> int:
        return 1 if key in self.system.tasks else 0
