"""The audit log refuses UPDATE and DELETE at the database (SQLite and PostgreSQL); the users commands."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import delete, select, text, update
from sqlalchemy.exc import DatabaseError
from typer.testing import CliRunner

from piis_bridge.cli import build_app
from piis_bridge.console.audit import record
from piis_bridge.console.models import AuditEntry, ConsoleUser
from piis_bridge.db import make_engine, make_sessionmaker
from piis_bridge.migrations import upgrade_database


def _append_only(url: str) -> None:
    upgrade_database(url)
    engine = make_engine(url)
    sessions = make_sessionmaker(engine)
    try:
        with sessions() as s:
            record(
                s,
                actor="ada",
                action="reveal",
                cpas_id="gent",
                target="dossier G1",
                reason="phone call",
            )
            s.commit()
        for stmt in (
            update(AuditEntry).values(reason="nothing happened"),
            delete(AuditEntry),
            text("UPDATE console_audit SET actor = 'someone else'"),
            text("DELETE FROM console_audit"),
        ):
            with (
                sessions() as s,
                pytest.raises(DatabaseError, match="console_audit is append-only"),
            ):
                s.execute(stmt)
                s.commit()
        if engine.dialect.name == "postgresql":
            with sessions() as s, pytest.raises(DatabaseError, match="append-only"):
                s.execute(text("TRUNCATE console_audit"))
        with sessions() as s:
            [row] = s.scalars(select(AuditEntry))
            assert (row.actor, row.reason) == ("ada", "phone call")
            record(s, actor="ada", action="logout")
            s.commit()  # inserting still works
            assert len(list(s.scalars(select(AuditEntry)))) == 2
    finally:
        engine.dispose()


def test_audit_log_is_append_only_on_sqlite(tmp_path: Path) -> None:
    _append_only(f"sqlite:///{tmp_path}/audit.sqlite3")


@pytest.mark.services
def test_audit_log_is_append_only_on_postgresql(pg_url: str) -> None:
    _append_only(pg_url)


def test_audit_refuses_unknown_actions_and_masks_niss(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path}/a.sqlite3"
    upgrade_database(url)
    with make_sessionmaker(make_engine(url))() as s:
        with pytest.raises(ValueError):
            record(s, actor="x", action="rewrite_history")
        row = record(
            s, actor="x", action="reveal", reason="asked about 85073003328", target="85073003328"
        )
        assert "85073003328" not in row.reason and "85073003328" not in row.target


@pytest.fixture
def cli_config(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    url = f"sqlite:///{tmp_path}/app.sqlite3"
    cfg = tmp_path / "piis-bridge.toml"
    cfg.write_text(f'database_url = "{url}"\nstate_dir = "{tmp_path}/state"\n')
    monkeypatch.setenv("PIIS_CONFIG", str(cfg))
    return url


def _cli(*args: str, stdin: str | None = None) -> tuple[int, str]:
    r = CliRunner().invoke(build_app(), list(args), input=stdin, catch_exceptions=False)
    return r.exit_code, r.output


def test_users_add_list_set_role_disable(cli_config: str, tmp_path: Path) -> None:
    pw = tmp_path / "pw"
    pw.write_text("a long enough password\n")
    code, out = _cli(
        "users", "add", "ada", "--role", "admin", "--cpas", "*", "--password-file", str(pw)
    )
    assert code == 0, out
    code, out = _cli(
        "users",
        "add",
        "vera",
        "--role",
        "viewer",
        "--cpas",
        "gent",
        "--cpas",
        "liege",
        stdin="another long password\nanother long password\n",
    )
    assert code == 0, out
    code, out = _cli(
        "users", "add", "bob", "--role", "viewer", "--cpas", "gent", "--password-file", str(pw)
    )
    assert code == 0
    code, out = _cli(
        "users", "add", "short", "--role", "viewer", "--cpas", "gent", stdin="short\nshort\n"
    )
    assert code == 2 and "at least 12 characters" in out
    code, out = _cli(
        "users", "add", "x", "--role", "boss", "--cpas", "gent", "--password-file", str(pw)
    )
    assert code == 2 and "unknown role 'boss'" in out
    code, out = _cli(
        "users", "add", "x", "--role", "viewer", "--cpas", "gent", "--password", "secret"
    )
    assert code != 0  # there is no --password option: never a password in an argument
    code, out = _cli("users", "set-role", "vera", "operator", "--reason", "on call")
    assert code == 0
    code, out = _cli("users", "revoke-sessions", "vera", "--reason", "laptop lost")
    assert code == 0 and "0 session(s) of vera revoked" in out
    code, out = _cli("users", "disable", "bob", "--reason", "left")
    assert code == 0
    code, out = _cli("users", "list")
    assert "ada\tadmin\t*\tfr\tenabled" in out and "vera\toperator\tgent,liege\tfr\tenabled" in out
    assert "bob\tviewer\tgent\tfr\tdisabled" in out
    code, out = _cli("users", "disable", "nobody")
    assert code == 2 and "no user 'nobody'" in out
    with make_sessionmaker(make_engine(cli_config))() as s:
        actions = [
            (a.action, a.target) for a in s.scalars(select(AuditEntry).order_by(AuditEntry.id))
        ]
        assert ("role_change", "vera") in actions and ("user_disable", "bob") in actions
        hashes = [u.password_hash for u in s.scalars(select(ConsoleUser))]
        assert all(h.startswith("$argon2id$") for h in hashes)
