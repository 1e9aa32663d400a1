"""Personal data at rest: AES-GCM field encryption with a key ring, rotation, and retention."""

from __future__ import annotations

import os
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select, text

from piis_bridge import crypto
from piis_bridge.crypto import CryptoError, KeyRing, new_key, reset_key_ring, rotate
from piis_bridge.db import Base, make_engine, make_sessionmaker
from piis_bridge.ledger.models import FormEntry, niss_hash
from piis_bridge.pipeline.models import Effect, SyncRun, WorkItem
from piis_bridge.transfer.tables import ReceivedPackage

NISS = "85073003328"
K1, K2, H1 = new_key(), new_key(), new_key()


@pytest.fixture
def ring(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.delenv(crypto.KEYS_FILE_ENV, raising=False)
    monkeypatch.delenv(crypto.HASH_KEY_FILE_ENV, raising=False)
    monkeypatch.setenv(crypto.KEYS_ENV, f"k1:{K1}")
    monkeypatch.setenv(crypto.HASH_KEY_ENV, f"h1:{H1}")
    reset_key_ring()
    yield
    reset_key_ring()


def _use(monkeypatch: pytest.MonkeyPatch, value: str) -> None:
    monkeypatch.setenv(crypto.KEYS_ENV, value)
    reset_key_ring()


@pytest.fixture
def db(tmp_path: Path):
    from piis_bridge.migrations import upgrade_database

    upgrade_database(
        f"sqlite:///{tmp_path}/app.sqlite3"
    )  # the real schema, as `db upgrade` makes it
    engine = make_engine(f"sqlite:///{tmp_path}/app.sqlite3")
    yield engine, make_sessionmaker(engine)
    engine.dispose()


def _item(
    sessions,
    payload: str,
    *,
    state: str = "done",
    record: str = "R1",
    updated: datetime | None = None,
) -> int:
    with sessions.begin() as s:
        if s.get(SyncRun, "run1") is None:
            s.add(SyncRun(id="run1", trigger="test", cpas_ids=["gent"]))
            s.flush()
        item = WorkItem(
            run_id="run1",
            cpas_id="gent",
            record_id=record,
            version=str(os.urandom(4).hex()),
            state=state,
            payload=payload,
            updated_at=updated or datetime.now(UTC),
        )
        s.add(item)
        s.flush()
        return item.id


def _raw(engine, table: str, column: str) -> list[str]:
    with engine.connect() as conn:
        query = f"SELECT {column} FROM {table} ORDER BY 1"  # noqa: S608 - the test's own names
        return [r[0] for r in conn.execute(text(query))]


def test_payload_is_encrypted_in_the_database_and_clear_through_the_orm(ring, db) -> None:
    engine, sessions = db
    _item(sessions, f'{{"niss": "{NISS}", "name": "Peeters"}}')
    (raw,) = _raw(engine, "sync_item", "payload")
    assert raw.startswith("enc:v1:k1:") and NISS not in raw and "Peeters" not in raw
    with sessions() as s:
        assert NISS in s.scalars(select(WorkItem.payload)).one()


def test_rotation_new_key_encrypts_old_keys_decrypt_rotate_key_reencrypts(
    ring, db, monkeypatch
) -> None:
    engine, sessions = db
    old = _item(sessions, f"old {NISS}")
    _use(monkeypatch, f"k2:{K2},k1:{K1}")  # a new key first, the old one kept
    new = _item(sessions, f"new {NISS}")
    raws = _raw(engine, "sync_item", "payload")
    assert sorted(str(KeyRing.key_id_of(r)) for r in raws) == ["k1", "k2"]
    with sessions() as s:
        assert (
            s.get(WorkItem, old).payload == f"old {NISS}"
            and s.get(WorkItem, new).payload == f"new {NISS}"
        )
    assert rotate(engine, Base.metadata)["sync_item.payload"] == 1
    assert {KeyRing.key_id_of(r) for r in _raw(engine, "sync_item", "payload")} == {"k2"}
    assert rotate(engine, Base.metadata)["sync_item.payload"] == 0  # idempotent, can be interrupted
    _use(monkeypatch, f"k2:{K2}")  # the old key removed after the rotation
    with sessions() as s:
        assert s.get(WorkItem, old).payload == f"old {NISS}"
    _use(monkeypatch, f"k1:{K1}")  # a ring without the key used: a clear error, no data in it
    with pytest.raises(CryptoError, match="not in the key ring") as info, sessions() as s:
        s.get(WorkItem, old).payload  # noqa: B018
    assert NISS not in str(info.value)


def test_legacy_plaintext_is_read_and_encrypted_by_rotate_key(db, monkeypatch) -> None:
    engine, sessions = db
    monkeypatch.delenv(crypto.KEYS_ENV, raising=False)
    monkeypatch.delenv(crypto.KEYS_FILE_ENV, raising=False)
    reset_key_ring()
    try:
        _item(sessions, f"before encryption {NISS}")
        assert _raw(engine, "sync_item", "payload") == [f"before encryption {NISS}"]
        with pytest.raises(CryptoError, match="no data key"):
            rotate(engine, Base.metadata)
        _use(monkeypatch, f"k1:{K1}")
        with sessions() as s:
            assert s.scalars(select(WorkItem.payload)).one() == f"before encryption {NISS}"
        rotate(engine, Base.metadata)
        assert _raw(engine, "sync_item", "payload")[0].startswith("enc:v1:k1:")
    finally:
        reset_key_ring()


def test_a_value_moved_to_another_column_does_not_decrypt(ring, db) -> None:
    engine, sessions = db
    _item(sessions, f"{NISS}")
    (raw,) = _raw(engine, "sync_item", "payload")
    ring_ = crypto.key_ring()
    assert ring_.decrypt(raw, "sync_item.payload") == NISS
    with pytest.raises(CryptoError, match="tampered or moved"):
        ring_.decrypt(raw, "sync_effect.payload")


def test_keys_from_a_file_readable_only_by_its_owner(tmp_path: Path, monkeypatch) -> None:
    path = tmp_path / "keys"
    path.write_text(f"# data keys\nk2:{K2}\nk1:{K1}\n")
    path.chmod(0o644)
    monkeypatch.delenv(crypto.KEYS_ENV, raising=False)
    monkeypatch.setenv(crypto.KEYS_FILE_ENV, str(path))
    with pytest.raises(CryptoError, match="chmod 600"):
        KeyRing.from_environment()
    path.chmod(0o600)
    ring = KeyRing.from_environment()
    assert ring.current == "k2" and set(ring.keys) == {"k1", "k2"}
    monkeypatch.setenv(crypto.KEYS_ENV, f"k1:{K1}")
    with pytest.raises(CryptoError, match="keep one"):
        KeyRing.from_environment()


@pytest.mark.parametrize(
    "bad", ["k1", "k1:notbase64!", "k1:" + "QUJD", f"k1:{K1},k1:{K2}", f"bad id:{K1}"]
)
def test_malformed_keys_are_refused_without_echoing_them(bad: str) -> None:
    with pytest.raises(CryptoError) as info:
        KeyRing.parse(bad, "PIIS_DATA_KEYS")
    assert K1 not in str(info.value) and K2 not in str(info.value)


def test_keyed_hash_is_stable_and_per_purpose(ring) -> None:
    a = crypto.keyed_hash(NISS, "ledger")
    assert a == crypto.keyed_hash(NISS, "ledger") and a != crypto.keyed_hash(NISS, "integration")
    assert NISS not in a and len(a) == 64


def test_cli_rotate_key(ring, db, tmp_path: Path, monkeypatch, capsys) -> None:
    from piis_bridge.cli import main

    _engine, sessions = db
    _item(sessions, f"x {NISS}")
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("PIIS_DATABASE_URL", f"sqlite:///{tmp_path}/app.sqlite3")
    _use(monkeypatch, f"k2:{K2},k1:{K1}")
    with pytest.raises(SystemExit) as done:
        main(["db", "rotate-key"])
    assert done.value.code in (0, None)
    out = capsys.readouterr().out
    assert "sync_item.payload: 1 value(s) re-encrypted" in out and "sync_item.payload: k2=1" in out
    with pytest.raises(SystemExit):
        main(["db", "new-key", "2027a"])
    assert capsys.readouterr().out.startswith("2027a:")


def test_retention_purges_finished_payloads_and_keeps_keys_states_hashes(
    ring, db, monkeypatch, tmp_path, capsys
) -> None:
    engine, sessions = db
    old = datetime.now(UTC) - timedelta(days=40)
    superseded = _item(sessions, "v1", record="R1", updated=old)
    latest = _item(sessions, "v2", record="R1", updated=old)
    quarantined = _item(sessions, "q", state="quarantined", record="R2", updated=old)
    recent = _item(sessions, "recent", record="R3", updated=datetime.now(UTC) - timedelta(days=20))
    recent_superseded = _item(
        sessions, "recent-old", record="R3", updated=datetime.now(UTC) - timedelta(days=20)
    )
    _item(sessions, "recent-new", record="R3")
    with sessions.begin() as s:
        for key, state in (("e-done", "done"), ("e-pending", "pending")):
            s.add(
                Effect(
                    key=key,
                    kind="push",
                    run_id="run1",
                    cpas_id="gent",
                    record_id="R1",
                    state=state,
                    payload_type="x",
                    payload=f"push {NISS}",
                    result="r",
                    updated_at=old,
                )
            )
        for key, status in (("f-refused", "refused"), ("f-accepted", "accepted")):
            s.add(
                FormEntry(
                    key=key,
                    cpas_id="gent",
                    kind="B",
                    niss=NISS,
                    dossier="D",
                    period_key="p",
                    status=status,
                    payload=f"form {NISS}",
                    xml=f"<x>{NISS}</x>",
                    payload_hash="h" * 64,
                    content_hash="c" * 64,
                    created_at=old,
                    updated_at=old,
                )
            )
        s.add(
            ReceivedPackage(
                package_id="p1",
                cpas_id="gent",
                transfer_id="t",
                sender_bce="0212456724",
                sender_name="x",
                contract_id="c",
                state="assessment_acknowledged",
                envelope_sha256="e" * 64,
                envelope="env",
                draft_json="{}",
                received_at=old,
                updated_at=old,
            )
        )
    from piis_bridge.retention import purge_finished

    counts = purge_finished(engine, 30)
    assert counts["sync_item.payload"] == 1 and counts["sync_effect.payload"] == 1
    assert counts["federal_form_ledger.payload"] == 1 and counts["transfer_received.envelope"] == 1
    with sessions() as s:
        payloads = {i.id: i.payload for i in s.scalars(select(WorkItem))}
        assert (
            payloads[superseded] == "" and payloads[latest] == "v2" and payloads[quarantined] == "q"
        )
        assert payloads[recent] == "recent" and payloads[recent_superseded] == "recent-old"
        effects = {e.key: (e.state, e.payload, e.result) for e in s.scalars(select(Effect))}
        assert effects == {
            "e-done": ("done", "", None),
            "e-pending": ("pending", f"push {NISS}", "r"),
        }
        forms = {
            f.key: (f.status, f.payload, f.xml, f.payload_hash, f.niss, f.niss_hash)
            for f in s.scalars(select(FormEntry))
        }
        # the encrypted NISS goes with the payload; its keyed hash (the look-up key) stays
        assert forms["f-refused"][:5] == ("refused", "", "", "h" * 64, "")
        assert forms["f-refused"][5] == forms["f-accepted"][5] == niss_hash(NISS)
        assert forms["f-accepted"][1] == f"form {NISS}" and forms["f-accepted"][4] == NISS
        pkg = s.get(ReceivedPackage, "p1")
        assert (pkg.envelope, pkg.draft_json, pkg.envelope_sha256) == ("", None, "e" * 64)
    assert purge_finished(engine, 30)["sync_item.payload"] == 0

    # The setting drives `piis-bridge db purge` (and the start of each nightly run).
    from piis_bridge.cli import main

    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("PIIS_DATABASE_URL", f"sqlite:///{tmp_path}/app.sqlite3")
    with pytest.raises(SystemExit) as done:
        main(["db", "purge"])
    assert done.value.code == 2 and "retention_days" in capsys.readouterr().err
    monkeypatch.setenv("PIIS_RETENTION_DAYS", "10")
    with pytest.raises(SystemExit) as done:
        main(["db", "purge"])
    assert done.value.code in (0, None)
    assert (
        "sync_item.payload: 2 purged" in capsys.readouterr().out
    )  # the two 20-day-old superseded versions


def test_the_person_hash_key_is_encrypted_too(ring, db) -> None:
    from piis_bridge.pipeline.persons import person_hasher

    engine, sessions = db
    with sessions() as s:
        first = person_hasher(s)(NISS)
    (raw,) = _raw(engine, "sync_secret", "value")
    assert raw.startswith("enc:v1:k1:")
    with sessions() as s:
        assert person_hasher(s)(NISS) == first  # the same key, read back through the ring
