"""Builders for the part-1 rule tests: a real example contract with only the tested fields changed."""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from datetime import date
from functools import lru_cache
from pathlib import Path
from typing import Any

import pytest

from piis_bridge.model import PIISContract
from piis_bridge.rules import Report, evaluate
from piis_bridge.rules.settings import RuleSettings

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


@lru_cache(maxsize=None)
def _text(name: str) -> str:
    return (EXAMPLES / f"{name}.json").read_text(encoding="utf-8")


def raw(name: str) -> dict[str, Any]:
    return copy.deepcopy(json.loads(_text(name))["contracts"][0])


def make(name: str = "u25-employment-project", change: Callable[[dict[str, Any]], None] | None = None,
         **top: Any) -> PIISContract:
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
