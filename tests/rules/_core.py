"""Builders for the part-1 rule tests: a real example contract with only the tested fields changed."""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from datetime import date
from functools import cache
from pathlib import Path
from typing import Any

import pytest

from piis_bridge.model import PIISContract
from piis_bridge.rules import Report, evaluate
from piis_bridge.rules.settings import RuleSettings

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


@cache
def _text(name: str) -> str:
    return (EXAMPLES / f"{name}.json").read_text(encoding="utf-8")


def raw(name: str) -> dict[str, Any]:
    return copy.deepcopy(json.loads(_text(name))["contracts"][0])


def make(
    name: str = "u25-employment-project",
    change: Callable[[dict[str, Any]], None] | None = None,
    **top: Any,
) -> PIISContract:
    data = raw(name)
    data.update(top)
    if change is not None:
        change(data)
    return PIISContract.model_validate(data)


def d(text: str) -> date:
    return date.fromisoformat(text)


def run(contract: PIISContract, on: str | date = "2026-11-22", **settings: Any) -> Report:
    day = d(on) if isinstance(on, str) else on
    return evaluate(contract, on=day, settings=RuleSettings(**settings) if settings else None)


def ids(report: Report, level: str | None = None) -> set[str]:
    return {f.rule_id for f in report.findings if level is None or f.level.value == level}


@pytest.fixture
def u25_contract() -> PIISContract:
    return make("u25-employment-project")


def niss_for(birth: date, seq: int = 1) -> str:
    """A checksum-valid NISS for *birth* (synthetic; used to build partners and birthdays)."""
    body = f"{birth:%y%m%d}{seq:03d}"
    base = int(("2" if birth.year >= 2000 else "") + body)
    return body + f"{97 - base % 97:02d}"


def person(birth: str, **extra: Any) -> dict[str, Any]:
    b = d(birth)
    return {"niss": niss_for(b), "birth_date": birth, **extra}


def set_decision(
    data: dict[str, Any],
    decision: str,
    request: str | None = None,
    prior_dis: list[dict[str, Any]] | None = None,
) -> None:
    """Move the DIS decision (and the RI it grants) to *decision*; the beneficiary's DIS history
    becomes *prior_dis* plus the RI granted by this decision."""
    data["decision"]["decision_date"] = decision
    data["decision"]["request_date"] = request or decision
    data["decision"]["ri_start_date"] = decision
    data["beneficiary"]["dis_history"] = [
        *(prior_dis or []),
        {"kind": "RI", "start_date": decision},
    ]


def unsign(data: dict[str, Any]) -> None:
    data["signatures"] = []
    data["status"] = "OFFERED"


def sign_on(data: dict[str, Any], day: str) -> None:
    for s in data["signatures"]:
        s["signed_date"] = day
