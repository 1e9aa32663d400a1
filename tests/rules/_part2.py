"""Builders for the part-2 rule tests (sanctions, transfers, subsidies, inspection, agenda).

Tests start from a real example contract (``examples/*.json``) and change only the fields they
test, so every contract a test judges is valid against the canonical model.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from datetime import date
from functools import cache
from pathlib import Path
from typing import Any

from piis_bridge.model import PIISContract

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


@cache
def _raw(name: str) -> str:
    return (EXAMPLES / f"{name}.json").read_text(encoding="utf-8")


def raw(name: str) -> dict[str, Any]:
    """A fresh, mutable copy of the first contract of ``examples/<name>.json``."""
    return copy.deepcopy(json.loads(_raw(name))["contracts"][0])


def build(name: str, change: Callable[[dict[str, Any]], None] | None = None) -> PIISContract:
    data = raw(name)
    if change is not None:
        change(data)
    return PIISContract.model_validate(data)


def d(text: str) -> date:
    return date.fromisoformat(text)


def all_text(obj: Any) -> str:
    """Everything a result would show a user, as one string (to check that no NISS leaks)."""
    if hasattr(obj, "model_dump_json"):
        return obj.model_dump_json()
    return json.dumps(obj, default=str)


def niss_for(birth: str, serial: int = 123) -> str:
    """A checksum-valid NISS for *birth* (YYYY-MM-DD): the check digits of the national register."""
    born = date.fromisoformat(birth)
    first9 = f"{born.year % 100:02d}{born.month:02d}{born.day:02d}{serial:03d}"
    base = int(("2" if born.year >= 2000 else "") + first9)
    return first9 + f"{97 - base % 97:02d}"
