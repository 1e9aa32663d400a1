"""Canonical contract files: JSON in, JSON out, round-trip exact, and validation that reports every
problem of every record instead of stopping at the first.

A canonical file is either one contract object or ``{"format": "piis-bridge/contracts",
"schema_version": 1, "contracts": [...]}``.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final, Literal

import orjson
from pydantic import Field, ValidationError

from piis_bridge.i18n.text import validation_message
from piis_bridge.model._base import CanonicalModel
from piis_bridge.model.contract import SCHEMA_VERSION, PIISContract

__all__ = [
    "FILE_FORMAT",
    "ContractFile",
    "LoadResult",
    "Problem",
    "contract_file_schema",
    "dump_contract",
    "dump_file",
    "load_contracts",
    "load_file",
]

FILE_FORMAT: Final = "piis-bridge/contracts"


class ContractFile(CanonicalModel):
    """A file of canonical contracts, the exchange format vendors map to."""

    format: Literal["piis-bridge/contracts"] = FILE_FORMAT
    schema_version: Literal[1] = SCHEMA_VERSION
    contracts: list[PIISContract] = Field(default_factory=list)


@dataclass(frozen=True)
class Problem:
    """One problem with one record: where it is and why it is wrong (never the offending value)."""

    source: str
    record: str
    field: str
    reason: str

    def __str__(self) -> str:
        return f"{self.source}: {self.record}: {self.field}: {self.reason}"

    def as_dict(self) -> dict[str, str]:
        return {
            "source": self.source,
            "record": self.record,
            "field": self.field,
            "reason": self.reason,
        }


@dataclass
class LoadResult:
    contracts: list[PIISContract]
    problems: list[Problem]
    records_seen: int


def _loc(loc: Iterable[Any]) -> str:
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out or "(record)"


def problems_from_error(
    error: ValidationError, source: str, record: str, prefix: str = ""
) -> list[Problem]:
    """Turn a pydantic error into one Problem per field, with the full path of the field."""

    def path(*parts: str) -> str:
        joined = ".".join(p for p in parts if p and p != "(record)").replace(".[", "[")
        return joined or "(record)"

    problems = []
    for item in error.errors(include_input=False, include_url=False):
        field = _loc(item["loc"])
        if item["type"] == "field_problems":
            for sub_field, reason in item["ctx"]["problems"]:
                problems.append(Problem(source, record, path(prefix, field, sub_field), reason))
            continue
        # pydantic's common messages as Text (``validate`` says them in the reader's language)
        message = validation_message(item)
        problems.append(Problem(source, record, path(prefix, field), message))
    return problems


def _record_label(raw: Any, index: int | None) -> str:
    cid = raw.get("contract_id") if isinstance(raw, dict) else None
    where = f"#{index}" if index is not None else "contract"
    return f"{where} ({cid})" if isinstance(cid, str) and cid else where


def load_contracts(data: bytes | str, source: str = "<input>") -> LoadResult:
    """Parse canonical JSON and validate each record on its own, collecting every problem."""
    try:
        raw = orjson.loads(data)
    except orjson.JSONDecodeError as exc:
        return LoadResult([], [Problem(source, "(file)", "(json)", f"not valid JSON: {exc}")], 0)
    if isinstance(raw, dict) and "contracts" in raw:
        header = {k: v for k, v in raw.items() if k != "contracts"}
        problems: list[Problem] = []
        try:
            ContractFile.model_validate({**header, "contracts": []})
        except ValidationError as exc:
            problems.extend(problems_from_error(exc, source, "(file)"))
        records = raw["contracts"]
        if not isinstance(records, list):
            return LoadResult(
                [], [*problems, Problem(source, "(file)", "contracts", "must be a list")], 0
            )
        indexed: list[tuple[int | None, Any]] = list(enumerate(records))
    elif isinstance(raw, dict):
        problems, indexed = [], [(None, raw)]
    else:
        return LoadResult(
            [],
            [Problem(source, "(file)", "(json)", "expected a contract object or a contracts file")],
            0,
        )
    contracts: list[PIISContract] = []
    for index, record in indexed:
        label = _record_label(record, index)
        prefix = f"contracts[{index}]" if index is not None else ""
        try:
            contracts.append(PIISContract.model_validate(record))
        except ValidationError as exc:
            problems.extend(problems_from_error(exc, source, label, prefix))
    return LoadResult(contracts, problems, len(indexed))


def load_file(path: str | Path) -> LoadResult:
    path = Path(path)
    try:
        data = path.read_bytes()
    except OSError as exc:
        return LoadResult(
            [], [Problem(str(path), "(file)", "(file)", f"cannot read: {exc.strerror}")], 0
        )
    return load_contracts(data, source=str(path))


def _dump(model: CanonicalModel) -> dict[str, Any]:
    # exclude_unset keeps exactly what was given: load(dump(x)) == x and dump(load(j)) == j.
    return model.model_dump(mode="json", exclude_unset=True, by_alias=True)


def dump_contract(contract: PIISContract, indent: bool = True) -> str:
    return json.dumps(_dump(contract), indent=2 if indent else None, ensure_ascii=False)


def dump_file(contracts: Iterable[PIISContract], indent: bool = True) -> str:
    body = {
        "format": FILE_FORMAT,
        "schema_version": SCHEMA_VERSION,
        "contracts": [_dump(c) for c in contracts],
    }
    return json.dumps(body, indent=2 if indent else None, ensure_ascii=False)


def contract_file_schema() -> dict[str, Any]:
    """JSON Schema of the canonical contract file, for vendors who map to it."""
    schema = ContractFile.model_json_schema(mode="validation")
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["$id"] = "https://piis-bridge.example/schema/contracts-v1.json"
    schema["description"] = (
        "A file of canonical PIIS contracts (piis-bridge). Dates are ISO 8601 (YYYY-MM-DD); "
        "money is integer euro cents; NISS, BCE and INS identifiers carry valid check digits."
    )
    return schema


def iter_problems(results: Iterable[LoadResult]) -> Iterator[Problem]:
    for result in results:
        yield from result.problems
