"""A database error never carries the bound values (a NISS) in its text."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import Column, Integer, MetaData, String, Table, insert
from sqlalchemy.exc import IntegrityError

from piis_bridge.db import make_engine

NISS = "85073003328"


def test_integrity_error_hides_parameters(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path}/x.sqlite3")
    meta = MetaData()
    people = Table(
        "people", meta, Column("id", Integer, primary_key=True), Column("niss", String, unique=True)
    )
    meta.create_all(engine)
    with engine.begin() as conn:
        conn.execute(insert(people).values(niss=NISS))
    with pytest.raises(IntegrityError) as info, engine.begin() as conn:
        conn.execute(insert(people).values(niss=NISS))
    assert NISS not in str(info.value)
    assert "hidden due to hide_parameters" in str(info.value)
