"""The federal ledger keeps no NISS in clear: keyed hashes for look-ups, encryption where it is needed.

What is proved: the hash key is its own setting (a data-key rotation leaves every hash as it was; the
hash key changes them; missing while data keys exist is a configuration error naming it); migration
0020 converts rows written by the old schema on SQLite and PostgreSQL, after which the ledger's own
queries find them; its downgrade is refused; a change of hash key is recovered by ``rehash_niss``.
"""

from __future__ import annotations

import base64
import os
from collections.abc import Iterator
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from sqlalchemy import inspect, text

from piis_bridge import crypto
from piis_bridge.crypto import CryptoError, new_key, reset_key_ring, rotate
from piis_bridge.db import Base, make_engine, make_sessionmaker
from piis_bridge.forms import FederalForm, FormKind
from piis_bridge.ledger import Ledger, niss_hash, rehash_niss
from piis_bridge.migrations import alembic_config, upgrade_database
from tests.privacy.niss_scan import find_niss

NISS, OTHER = "85073003328", "93051822361"
K1, K2, H1, H2 = new_key(), new_key(), new_key(), new_key()


def _keys(monkeypatch: pytest.MonkeyPatch, data: str | None, hashed: str | None) -> None:
    for env in (crypto.KEYS_FILE_ENV, crypto.HASH_KEY_FILE_ENV):
        monkeypatch.delenv(env, raising=False)
    for env, value in ((crypto.KEYS_ENV, data), (crypto.HASH_KEY_ENV, hashed)):
        if value is None:
            monkeypatch.delenv(env, raising=False)
        else:
            monkeypatch.setenv(env, value)
    reset_key_ring()


@pytest.fixture(autouse=True)
def _fresh_ring() -> Iterator[None]:
    reset_key_ring()
    yield
    reset_key_ring()


def test_hash_key_is_separate_from_the_data_key(monkeypatch: pytest.MonkeyPatch) -> None:
    _keys(monkeypatch, f"k1:{K1}", f"h1:{H1}")
    before = niss_hash(NISS)
    _keys(monkeypatch, f"k2:{K2},k1:{K1}", f"h1:{H1}")  # data key rotated
    assert niss_hash(NISS) == before and len(before) == 64 and NISS not in before
    _keys(monkeypatch, f"k2:{K2}", f"h2:{H2}")  # the hash key is what the hashes depend on
    assert niss_hash(NISS) != before
    _keys(monkeypatch, None, None)  # development: a public key, different again
    assert niss_hash(NISS) not in (before, niss_hash(OTHER))


def test_missing_or_bad_hash_key_is_a_configuration_error(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    _keys(monkeypatch, f"k1:{K1}", None)
    with pytest.raises(CryptoError, match="PIIS_HASH_KEY or PIIS_HASH_KEY_FILE") as info:
        Ledger.open(f"sqlite:///{tmp_path}/a.sqlite3")
    assert "db new-key" in str(info.value) and K1 not in str(info.value)
    _keys(monkeypatch, f"k1:{K1}", f"h1:{H1},h2:{H2}")
    with pytest.raises(CryptoError, match="exactly one hash key"):
        niss_hash(NISS)
    key_file = tmp_path / "hash.key"
    key_file.write_text(f"h1:{H1}\n")
    os.chmod(key_file, 0o644)
    _keys(monkeypatch, f"k1:{K1}", None)
    monkeypatch.setenv(crypto.HASH_KEY_FILE_ENV, str(key_file))
    with pytest.raises(CryptoError, match=r"PIIS_HASH_KEY_FILE.*chmod 600"):
        niss_hash(NISS)
    os.chmod(key_file, 0o600)
    reset_key_ring()
    from_file = niss_hash(NISS)
    _keys(monkeypatch, f"k1:{K1}", f"h1:{H1}")
    assert niss_hash(NISS) == from_file  # the file and the variable give the same key


# ------------------------------------------------------------------ migration 0020 on both databases
@pytest.fixture(params=["sqlite", "postgres"])
def db_url(request, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path}/app.sqlite3"
    return request.getfixturevalue("pg_url")


def _old_rows(url: str) -> None:
    """Rows as the schema before 0020 stored them: the NISS in clear in both tables."""
    now = datetime(2026, 11, 2, 10, tzinfo=UTC)
    engine = make_engine(url)
    form_row = (
        "INSERT INTO federal_form_ledger (key, cpas_id, kind, niss, dossier, period_key, version, "
        "status, payload, xml, payload_hash, content_hash, errors, created_at, updated_at) VALUES "
        "(:key, 'gent', 'B', :niss, :dossier, :period, 1, 'accepted', :payload, :xml, :h, :h, "
        "'[]', :now, :now)"
    )
    with engine.begin() as conn:
        for i, niss in enumerate((NISS, OTHER)):
            conn.execute(
                text(form_row),
                dict(
                    key=f"k{i}",
                    niss=niss,
                    dossier=f"D{i}",
                    period="2026-11-01",
                    payload="{}",
                    xml="<x/>",
                    h="h" * 64,
                    now=now,
                ),
            )
            conn.execute(
                text(
                    "INSERT INTO federal_niss_integration (cpas_id, niss, purpose, start, status, "
                    "created_at, updated_at) VALUES ('gent', :niss, 2, :start, 'done', :now, :now)"
                ),
                dict(niss=niss, start=date(2026, 1, 1 + i), now=now),
            )
    engine.dispose()


def _text_columns(url: str, tables: tuple[str, ...]) -> list[str]:
    engine = make_engine(url)
    out: list[str] = []
    with engine.connect() as conn:
        for table in tables:
            for row in conn.execute(text(f"SELECT * FROM {table}")):  # noqa: S608 - fixed names
                out += [str(v) for v in row if v is not None]
    engine.dispose()
    return out


def test_migration_0020_converts_old_rows_and_the_ledger_finds_them(
    db_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    _keys(monkeypatch, f"k1:{K1}", f"h1:{H1}")
    upgrade_database(db_url, "0019_alert_state")
    _old_rows(db_url)
    upgrade_database(db_url)  # head: 0020 converts

    tables = ("federal_form_ledger", "federal_niss_integration")
    stored = _text_columns(db_url, tables)
    assert [n for v in stored for n in find_niss(v)] == []  # no NISS in clear, in any column
    engine = make_engine(db_url)
    with engine.connect() as conn:
        raw = list(
            conn.execute(text("SELECT niss, niss_hash FROM federal_form_ledger ORDER BY id"))
        )
        cols = [c["name"] for c in inspect(conn).get_columns(tables[1])]
    assert all(n.startswith("enc:v1:k1:") for n, _ in raw)
    assert [h for _, h in raw] == [niss_hash(NISS), niss_hash(OTHER)]
    assert "niss" not in cols and "niss_hash" in cols

    ledger = Ledger(make_sessionmaker(engine))
    entry = ledger.latest("gent", FormKind.B, NISS, "2026-11-01")
    assert entry is not None and entry.key == "k0" and entry.niss == NISS  # decrypted for a resend
    assert ledger.integrations("gent", [NISS, OTHER, "00010100137"]) == {
        NISS: ("done", date(2026, 1, 1)),
        OTHER: ("done", date(2026, 1, 2)),
    }
    ledger.integration_forget("gent", ["k1"])  # -300020 for OTHER's form: integrate it again
    assert set(ledger.integrations("gent", [NISS, OTHER])) == {NISS}
    ledger.integration_pending("gent", {OTHER: date(2025, 12, 1)})
    ledger.integration_done("gent", {OTHER: date(2025, 12, 1), NISS: date(2025, 6, 1)})
    assert ledger.integrations("gent", [NISS, OTHER]) == {
        NISS: ("done", date(2025, 6, 1)),
        OTHER: ("done", date(2025, 12, 1)),
    }

    # the data key rotates: values re-encrypted, every look-up still finds its row
    _keys(monkeypatch, f"k2:{K2},k1:{K1}", f"h1:{H1}")
    assert rotate(engine, Base.metadata)["federal_form_ledger.niss"] == 2
    _keys(monkeypatch, f"k2:{K2}", f"h1:{H1}")
    found = ledger.latest("gent", FormKind.B, OTHER, "2026-11-01")
    assert found is not None and found.niss == OTHER
    assert set(ledger.integrations("gent", [NISS, OTHER])) == {NISS, OTHER}
    engine.dispose()

    from alembic import command

    with pytest.raises(RuntimeError, match=r"cannot be downgraded.*backup"):
        command.downgrade(alembic_config(db_url), "0019_alert_state")


def test_a_new_hash_key_is_recovered_by_rehash(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _keys(monkeypatch, f"k1:{K1}", f"h1:{H1}")
    url = f"sqlite:///{tmp_path}/app.sqlite3"
    upgrade_database(url)
    engine = make_engine(url)
    ledger = Ledger(make_sessionmaker(engine))
    form = FederalForm(
        kind=FormKind.B,
        cpas_id="gent",
        cpas_name="Gent",
        cpas_ins="44021",
        cpas_bce="0207567726",
        niss=NISS,
        dossier="D1",
        entry_date=date(2025, 3, 1),
        rubrics={"Category": "2", "MonthlyAmount": "120000"},
    )
    entry, _ = ledger.record(form, b"<x/>")
    with engine.begin() as conn:  # an old superseded version whose NISS retention purged
        conn.execute(
            text(
                "INSERT INTO federal_form_ledger (key, cpas_id, kind, niss, niss_hash, dossier, "
                "period_key, version, status, payload, xml, payload_hash, content_hash, errors, "
                "created_at, updated_at) SELECT 'old', cpas_id, kind, '', niss_hash, dossier, "
                "period_key, 1, 'superseded', '', '', payload_hash, content_hash, errors, created_at, "
                "updated_at FROM federal_form_ledger WHERE key = :k"
            ),
            {"k": entry.key},
        )
    ledger.integration_pending("gent", {NISS: date(2025, 3, 1), OTHER: date(2025, 3, 1)})
    _keys(monkeypatch, f"k1:{K1}", f"h2:{H2}")  # the hash key changed: nothing is found any more
    assert ledger.latest("gent", FormKind.B, NISS, entry.period_key) is None
    assert rehash_niss(engine, previous_key=base64.b64decode(H1)) == {
        "federal_form_ledger": 2,  # the purged one through its NISS's other form
        "federal_niss_integration": 1,
        "integrations_dropped": 1,  # OTHER has no form: integrated again by its first form
    }
    with engine.connect() as conn:
        assert set(conn.execute(text("SELECT niss_hash FROM federal_form_ledger")).scalars()) == {
            niss_hash(NISS)
        }
    again = ledger.latest("gent", FormKind.B, NISS, entry.period_key)
    assert again is not None and again.key == entry.key
    assert ledger.integrations("gent", [NISS, OTHER]) == {NISS: ("pending", date(2025, 3, 1))}
    assert rehash_niss(engine, previous_key=base64.b64decode(H1)) == {
        "federal_form_ledger": 0,
        "federal_niss_integration": 0,
        "integrations_dropped": 0,
    }
    engine.dispose()


def _valid_niss(i: int) -> str:
    base = f"{800101000 + i:09d}"
    return base + f"{97 - int(base) % 97:02d}"


def test_integration_starts_are_written_per_row_in_few_statements(
    db_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """60 NISS sharing a start date (one IN-update) and 40 with their own (one executemany; on
    PostgreSQL all 100 in one UPDATE ... FROM unnest): each row gets its own start, and the statements
    issued do not grow with the number of dates."""
    from sqlalchemy import event

    _keys(monkeypatch, f"k1:{K1}", f"h1:{H1}")
    ledger = Ledger.open(db_url)
    engine = ledger.sessions.kw["bind"]
    shared = {_valid_niss(i): date(2025, 1, 1) for i in range(60)}
    own = {_valid_niss(100 + i): date(2025, 2, 1 + i % 28) for i in range(40)}
    ledger.integration_pending("gent", {**shared, **own})
    later = {n: date(2024, 12, 1) for n in shared} | {
        n: date(2024, 11, 1 + i % 28) for i, n in enumerate(own)
    }
    updates: list[str] = []

    def count(conn: object, cursor: object, statement: str, *args: object) -> None:
        if statement.startswith("UPDATE federal_niss_integration"):
            updates.append(statement)

    event.listen(engine, "before_cursor_execute", count)
    try:
        ledger.integration_done("gent", later)
    finally:
        event.remove(engine, "before_cursor_execute", count)
    # was one per distinct start date (29 here); PostgreSQL: one UPDATE ... FROM unnest for all
    assert len(updates) == (1 if engine.dialect.name == "postgresql" else 2), updates
    assert ledger.integrations("gent", list(later)) == {n: ("done", d) for n, d in later.items()}
    engine.dispose()


def test_rehash_niss_command(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """`piis-bridge db rehash-niss`: the previous key from the environment only, clear refusals."""
    import subprocess
    import sys

    _keys(monkeypatch, f"k1:{K1}", f"h1:{H1}")
    url = f"sqlite:///{tmp_path}/app.sqlite3"
    upgrade_database(url)
    engine = make_engine(url)
    ledger = Ledger(make_sessionmaker(engine))
    form = FederalForm(
        kind=FormKind.B,
        cpas_id="gent",
        cpas_name="Gent",
        cpas_ins="44021",
        cpas_bce="0207567726",
        niss=NISS,
        dossier="D1",
        entry_date=date(2025, 3, 1),
        rubrics={"Category": "2", "MonthlyAmount": "120000"},
    )
    entry, _ = ledger.record(form, b"<x/>")
    (tmp_path / "piis-bridge.toml").write_text(
        f'database_url = "{url}"\nstate_dir = "{tmp_path}/state"\n'
        '[cpas.gent]\nname = "OCMW Gent"\nins_code = "44021"\nbce = "0207567726"\n'
    )

    def cli(**env: str) -> subprocess.CompletedProcess[str]:
        base = {k: v for k, v in os.environ.items() if not k.startswith("PIIS_")}
        return subprocess.run(
            [str(Path(sys.executable).parent / "piis-bridge"), "db", "rehash-niss"],
            capture_output=True,
            text=True,
            env={**base, "PIIS_CONFIG": str(tmp_path / "piis-bridge.toml"), **env},
            timeout=120,
            cwd=tmp_path,
        )

    new = {crypto.KEYS_ENV: f"k1:{K1}", crypto.HASH_KEY_ENV: f"h2:{H2}"}
    missing = cli(**new)
    assert missing.returncode == 2 and "PIIS_PREVIOUS_HASH_KEY" in missing.stderr
    same = cli(**new, PIIS_PREVIOUS_HASH_KEY=f"h2:{H2}")
    assert same.returncode == 2 and "is the current one" in same.stderr
    done = cli(**new, PIIS_PREVIOUS_HASH_KEY=f"h1:{H1}")
    assert done.returncode == 0, done.stderr
    assert "federal_form_ledger: 1" in done.stdout
    assert H1 not in done.stdout + done.stderr and H2 not in done.stdout + done.stderr
    _keys(monkeypatch, f"k1:{K1}", f"h2:{H2}")
    found = ledger.latest("gent", FormKind.B, NISS, entry.period_key)
    assert found is not None and found.key == entry.key
    engine.dispose()
