"""A test-only plugin implementing the case-system and federal hooks against :mod:`tests.pipeline.remote`.

A real pluggy plugin (``@hookimpl``), loaded by the worker subprocess through ``PIIS_EXTRA_PLUGINS``
exactly like an in-house plugin would be.  It is the stand-in for the neptunus/federal plugins in
the tests that must control faults precisely; the contract it maps to is a real canonical
``PIISContract`` (one of the repository's examples, with the dossier's id and its own person).

It also implements the optional hooks (one record by id, National Register notices, the monthly
statement) and ``piis_rule_parameters`` (the CPAS's ``rule_parameters`` setting);
:func:`without` gives the same plugin lacking some hooks.  ``PIPETEST_MAP_FAIL=D1,D2`` makes the
mapping of those dossiers raise (a plugin bug).
"""

from __future__ import annotations

import os
import sys
import threading
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import httpx
from pydantic import BaseModel, ConfigDict, ValidationError

from piis_bridge.forms import FormKind, FormStatus, MonthlyStatement, SubmissionOutcome
from piis_bridge.hooks import hookimpl
from piis_bridge.hooks.types import (
    ChangePage,
    MappingOutcome,
    NoticePage,
    PushResult,
    RecordProblem,
    RegisterNotice,
    SourceRecord,
)
from piis_bridge.model import load_file

_EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "studies.json"
_BASE = load_file(_EXAMPLE).contracts[0]
_clients: dict[str, httpx.Client] = {}
# A worker on the threads pool (the remote queues in deploy/compose.yaml) calls the hooks from several
# threads: without the lock two of them could each make a client and one would be dropped unclosed.
_clients_lock = threading.Lock()


class TestSettings(BaseModel):
    model_config = ConfigDict(extra="forbid")
    url: str
    rule_parameters: dict[str, Any] = {}


class TestForm(BaseModel):
    """Stands for the federal FormB/C/D: carries the ClientReference the remote deduplicates on."""

    model_config = ConfigDict(frozen=True)
    client_reference: str | None = None
    cpas: str
    record_id: str
    seq: int
    version: str


class TestOutcome(SubmissionOutcome):
    """The remote's answer as the federal hooks must return it: a SubmissionOutcome (the host checks)."""

    kind: FormKind = FormKind.B
    status: FormStatus = FormStatus.SENT


def _client(url: str) -> httpx.Client:
    with _clients_lock:
        if url not in _clients:
            _clients[url] = httpx.Client(base_url=url, timeout=10)
        return _clients[url]


@hookimpl
def piis_plugin_settings() -> type[BaseModel]:
    return TestSettings


def _record(x: dict[str, Any]) -> SourceRecord:
    return SourceRecord(
        source="pipetest",
        record_id=x["record_id"],
        kind="piis_contract",
        modified_at=datetime.now(UTC),
        version=x["version"],
        payload=x,
    )


@hookimpl
def piis_case_fetch_changes(cpas: Any, cursor: str | None, page_size: int) -> ChangePage:
    r = _client(cpas.settings["url"]).get(
        "/changes", params={"cursor": cursor or "0", "limit": page_size}
    )
    r.raise_for_status()
    data = r.json()
    return ChangePage(
        records=[_record(x) for x in data["records"]],
        cursor=data["cursor"],
        has_more=data["has_more"],
    )


@hookimpl
def piis_case_fetch_record(cpas: Any, record_id: str) -> SourceRecord | None:
    r = _client(cpas.settings["url"]).get(f"/record/{record_id}")
    if r.status_code == 404:
        return None
    r.raise_for_status()
    return _record(r.json())


@hookimpl
def piis_case_map_record(cpas: Any, record: SourceRecord) -> MappingOutcome:
    if record.record_id in os.environ.get("PIPETEST_MAP_FAIL", "").split(","):
        raise RuntimeError(f"mapping service down for {record.record_id}")
    if record.payload.get("bad") and not os.environ.get("PIPETEST_MAPPING_FIXED"):
        return MappingOutcome(
            record_id=record.record_id,
            problems=[
                RecordProblem(
                    record_id=record.record_id,
                    field="beneficiary.niss",
                    reason="NISS checksum invalid",
                )
            ],
        )
    update: dict[str, Any] = {
        "contract_id": f"{record.record_id}@{record.payload['forms']}@{record.version}"
    }
    if record.payload.get("niss"):
        update["beneficiary"] = _BASE.beneficiary.model_copy(
            update={"niss": record.payload["niss"]}
        )
    return MappingOutcome(record_id=record.record_id, contract=_BASE.model_copy(update=update))


@hookimpl
def piis_federal_build_forms(cpas: Any, contract: Any, event: Any) -> list[TestForm]:
    record_id, forms, version = contract.contract_id.split("@")
    return [
        TestForm(cpas=cpas.cpas_id, record_id=record_id, seq=int(version) * 10 + i, version=version)
        for i in range(int(forms))
    ]


@hookimpl
def piis_federal_submit(cpas: Any, forms: list[TestForm]) -> list[TestOutcome]:
    r = _client(cpas.settings["url"]).post(
        "/submit", json={"forms": [f.model_dump() for f in forms]}
    )
    r.raise_for_status()
    return [TestOutcome(**a) for a in r.json()["answers"]]


@hookimpl
def piis_case_push(cpas: Any, items: list[Any]) -> list[PushResult]:
    r = _client(cpas.settings["url"]).post(
        "/push", json={"items": [i.model_dump(mode="json") for i in items]}
    )
    r.raise_for_status()
    return [PushResult(key=x["key"], status=x["status"]) for x in r.json()["results"]]


@hookimpl
def piis_federal_fetch_notices(cpas: Any, cursor: str | None, page_size: int) -> NoticePage:
    r = _client(cpas.settings["url"]).get(
        "/notices", params={"cursor": cursor or "", "limit": page_size}
    )
    r.raise_for_status()
    data = r.json()
    notices, problems = [], []
    for n in data["notices"]:
        try:
            notices.append(RegisterNotice(**n))
        except ValidationError as exc:  # reported with the reference, as a real plugin must
            err = exc.errors(include_input=False)[0]
            problems.append(
                RecordProblem(
                    record_id=n["reference"],
                    field=".".join(map(str, err["loc"])),
                    reason=err["msg"],
                )
            )
    return NoticePage(
        notices=notices, problems=problems, cursor=data["cursor"], has_more=data["has_more"]
    )


@hookimpl
def piis_federal_fetch_statement(cpas: Any, month: date) -> MonthlyStatement | None:
    r = _client(cpas.settings["url"]).get(f"/statement/{month.isoformat()[:7]}")
    if r.status_code == 404:
        return None
    r.raise_for_status()
    return MonthlyStatement(**r.json())


@hookimpl
def piis_rule_parameters(cpas: Any) -> dict[str, Any] | None:
    return cpas.settings.get("rule_parameters") or None


def without(*hooks: str) -> object:
    """This plugin lacking *hooks* (a plugin that does not implement an optional hook)."""
    module = sys.modules[__name__]
    names = {
        n: staticmethod(getattr(module, n))
        for n in dir(module)
        if n.startswith("piis_") and n not in hooks
    }
    return type("PipetestWithout", (), names)()


def replacing(**hooks: Any) -> object:
    """This plugin with some hooks replaced by the given ``@hookimpl`` functions (fault injection)."""
    base = type(without(*hooks))
    return type("PipetestReplaced", (base,), {n: staticmethod(f) for n, f in hooks.items()})()
