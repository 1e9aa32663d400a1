"""The effect claims (issue #20): one ``UPDATE ... RETURNING`` returns what it won, and the
per-dossier order check (a form waits while an earlier form of its dossier is open) holds whatever
the position of the held-back forms, also when a whole batch of candidates is held back."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from piis_bridge.migrations import upgrade_database
from piis_bridge.pipeline import PipelineOptions, Runtime
from piis_bridge.pipeline.models import Effect, SyncRun, utcnow
from piis_bridge.pipeline.outbox import claim_effects
from tests.pipeline.conftest import make_settings


def _runtime(tmp_path: Path, url: str) -> Runtime:
    upgrade_database(url)
    return Runtime(
        make_settings(tmp_path, "http://127.0.0.1:9", database_url=url), PipelineOptions()
    )


def _form(i: int, record: str, state: str = "pending", **extra: object) -> Effect:
    now = utcnow()
    return Effect(
        key=f"form:gent:{i}",
        kind="form",
        run_id="r1",
        cpas_id="gent",
        record_id=record,
        state=state,
        payload_type="x:y",
        payload="{}",
        created_at=now,
        updated_at=now,
        **extra,
    )


@pytest.mark.parametrize(
    "backend", ["sqlite", pytest.param("postgresql", marks=pytest.mark.services)]
)
def test_a_form_waits_for_the_earlier_open_forms_of_its_dossier(
    tmp_path: Path, backend: str, request: pytest.FixtureRequest
) -> None:
    url = (
        f"sqlite:///{tmp_path}/app.sqlite3"
        if backend == "sqlite"
        else request.getfixturevalue("pg_url")
    )
    rt = _runtime(tmp_path, url)
    try:
        with rt.session() as s:
            s.add(
                SyncRun(id="r1", trigger="manual", cpas_ids=["gent"], status="running", counts={})
            )
            s.flush()
            # ids 1-5: the first forms of D1..D5, already submitted (waiting for their answer);
            # ids 6-10: the second forms of D1..D5, pending: one whole batch of 5 held back;
            # ids 11-13: the forms of D6, D7 (two) and D8, pending; 14: D9, retried later.
            plan = [(f"D{n}", "submitted") for n in range(1, 6)]
            plan += [(f"D{n}", "pending") for n in range(1, 6)]
            plan += [("D6", "pending"), ("D7", "pending"), ("D7", "pending"), ("D8", "pending")]
            for i, (record, state) in enumerate(plan, start=1):
                s.add(_form(i, record, state))
                s.flush()
            s.add(_form(99, "D9", next_attempt_at=utcnow() + timedelta(hours=1)))
            s.add(_form(100, "D9"))  # behind D9's form waiting for its retry
            s.commit()
        with rt.session() as s:
            first = claim_effects(rt, s, "form", "gent", 5, one_per_dossier=True)
        # past the five held-back candidates: D6, D7's first form, D8 (not D7's second, not D9's)
        assert [e.key for e in first] == ["form:gent:11", "form:gent:12", "form:gent:14"]
        assert {e.state for e in first} == {"sending"} and len({e.lease_owner for e in first}) == 1
        with rt.session() as s:
            again = claim_effects(rt, s, "form", "gent", 5, one_per_dossier=True)
        assert again == []  # what is left is held back by open forms
        with rt.session() as s:  # D1..D5's first forms answered: their second forms may go
            for e in s.scalars(select(Effect).where(Effect.state == "submitted")):
                e.state = "answered"
            s.commit()
        with rt.session() as s:
            after = claim_effects(rt, s, "form", "gent", 3, one_per_dossier=True)
        assert [e.key for e in after] == ["form:gent:6", "form:gent:7", "form:gent:8"]
    finally:
        rt.close()
