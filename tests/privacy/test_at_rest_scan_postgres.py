"""Proof: after a full nightly run on PostgreSQL, no table holds a NISS in clear.

A real embedded nightly run (worker subprocess, vendor REST simulator, federal SOAP simulator,
celery results in the same PostgreSQL database) with data keys and a hash key configured: the
bridge integrates each NISS itself (ManageAccess), records and sends the forms, answers them.  Then
every text-like column (CHAR, VARCHAR, TEXT, JSON) of every table in the database is read raw and
scanned with python-stdnum (tests/privacy/niss_scan.py): 0 NISS.  Non-vacuous: the same rows read
through the application (decrypting) do show the NISS, and the run did fill the ledger tables.
The hostile records (NISS in odd writings, wrong fields, record ids) are the fuzzed run's concern
(test_fuzzed_run_scan.py): a record id built from a NISS is the vendor's key, stored as given
(docs/privacy.md 6), so this scan of every column runs on the vendor's ordinary records.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import JSON, String, Text, inspect, select, text

from piis_bridge import crypto
from piis_bridge.config import Settings
from piis_bridge.crypto import new_key, reset_key_ring
from piis_bridge.db import make_engine
from piis_bridge.ledger.models import niss_hash
from piis_bridge.migrations import upgrade_database
from piis_bridge.pipeline import PipelineOptions, run_nightly
from tests.pipeline.realworld import real_cpas
from tests.privacy.niss_scan import find_niss

pytestmark = [pytest.mark.slow, pytest.mark.services]


@pytest.fixture
def world(tmp_path: Path):
    from piis_connectors.casesystem.seed import OCMWS, generate
    from piis_connectors.casesystem.simulator import CaseSystemSimulator, SimulatorConfig
    from piis_connectors.federal.testing import start_running_simulator

    case = CaseSystemSimulator(
        SimulatorConfig(db_path=tmp_path / "neptunus.sqlite"), host="127.0.0.1", port=0
    )
    case.seed(150)  # the simulator's synthetic dossiers (NISS in their documents)
    kbo, ins, name = OCMWS[0]
    nisses = [
        c.data["client"]["rijksregisternummer"]
        for c in generate(150, case.config.seed)
        if c.ocmw == kbo
    ]
    case.start()
    federal = start_running_simulator(tmp_path / "novaprima.sqlite3")
    federal.admin.register_cpas(kbo, ins, name=name)  # no NISS integrated: the bridge does it
    try:
        yield case, federal, (kbo, ins, name), nisses
    finally:
        federal.stop()
        case.stop()


def _text_like(column_type: object) -> bool:
    return isinstance(column_type, (String, Text, JSON))


def test_no_niss_in_clear_in_any_table_after_a_postgresql_run(
    tmp_path: Path, world, pg_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    case, federal, (kbo, ins, name), nisses = world
    monkeypatch.delenv(crypto.KEYS_FILE_ENV, raising=False)
    monkeypatch.delenv(crypto.HASH_KEY_FILE_ENV, raising=False)
    monkeypatch.setenv(crypto.KEYS_ENV, f"k1:{new_key()}")  # inherited by the worker process
    monkeypatch.setenv(crypto.HASH_KEY_ENV, f"h1:{new_key()}")
    reset_key_ring()
    settings = Settings.model_validate(
        {
            "database_url": pg_url,
            "result_backend": "db+" + pg_url,
            "state_dir": str(tmp_path / "state"),
            "plugins": {"enabled": ["neptunus", "federal"]},
            "cpas": {"gent": real_cpas(case.url, federal.endpoint, kbo, ins, name)},
        }
    )
    upgrade_database(pg_url)
    try:
        summary = run_nightly(
            settings,
            options=PipelineOptions(broker_dir=tmp_path / "broker", collect_delay=0.5),
            timeout=180,
        )
    finally:
        reset_key_ring()
    assert summary.status == "finished", summary
    assert summary.counts["fetched"] >= 20, summary.counts

    engine = make_engine(pg_url)
    hits: dict[str, list[str]] = {}
    scanned: dict[str, int] = {}
    hashed: dict[str, list[str]] = {}
    try:
        insp = inspect(engine)
        with engine.connect() as conn:
            tables = insp.get_table_names()
            for table in tables:
                columns = [c["name"] for c in insp.get_columns(table) if _text_like(c["type"])]
                for column in columns:
                    query = text(f'SELECT "{column}"::text FROM "{table}"')  # noqa: S608 - catalog names
                    values = [v for (v,) in conn.execute(query) if v]
                    scanned[f"{table}.{column}"] = len(values)
                    if column == "niss_hash":
                        # proven below to be keyed hashes, value by value: not scanned, since a
                        # 64-hex HMAC can hold 11 digits in a row that pass the NISS checksum
                        # (one did in CI: the keys are new at every run)
                        hashed[f"{table}.{column}"] = values
                        continue
                    found = [n for v in values for n in find_niss(v)]
                    if found:
                        hits[f"{table}.{column}"] = found
            counts = {
                t: conn.execute(text(f'SELECT count(*) FROM "{t}"')).scalar_one()  # noqa: S608
                for t in ("federal_form_ledger", "federal_niss_integration", "sync_item")
            }
        # non-vacuous: the run filled the ledger, and the application reads the NISS back
        assert counts["federal_form_ledger"] >= 10 and counts["federal_niss_integration"] >= 10, (
            counts
        )
        assert {"celery_taskmeta", "federal_form_ledger", "sync_item", "sync_effect"} <= set(tables)
        assert scanned["federal_form_ledger.niss"] >= 10 and scanned["sync_item.payload"] >= 10
        from piis_bridge.ledger.models import FormEntry
        from piis_bridge.pipeline.models import WorkItem

        reset_key_ring()  # the same keys are still in the environment
        with engine.connect() as conn:
            clear = list(conn.execute(select(FormEntry.niss)).scalars())
            payloads = list(conn.execute(select(WorkItem.payload)).scalars())
        assert set(clear) <= set(nisses) and len(set(clear)) >= 10
        assert sum(1 for p in payloads if find_niss(p)) >= 10
        # every value of a hash column is the keyed hash of one of the run's NISS, nothing else
        expected = {niss_hash(n) for n in nisses}
        assert set(hashed) == {
            "federal_form_ledger.niss_hash",
            "federal_niss_integration.niss_hash",
        }
        for column, values in hashed.items():
            assert len(values) >= 10 and set(values) <= expected, column
    finally:
        engine.dispose()
        reset_key_ring()
    assert hits == {}, {k: len(v) for k, v in hits.items()}
