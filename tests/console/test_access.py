"""Access rules of the console over HTTP: roles, CPAS scope, CSRF, sessions, rate limit, headers, NISS."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from piis_bridge.console import accounts
from piis_bridge.console.app import SESSION_COOKIE
from piis_bridge.console.models import AuditEntry, ConsoleSession
from tests.console.conftest import NISS, PASSWORD, csrf_of, login, seed_rows, seed_users

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")
TEMPLATES = Path(__file__).resolve().parents[2] / "piis_bridge" / "console" / "templates"


@pytest.fixture
def seeded(console_env):
    _, sessions = console_env
    seed_users(sessions)
    return seed_rows(sessions)


def _audit(sessions, action: str) -> list[AuditEntry]:
    with sessions() as s:
        return list(
            s.scalars(select(AuditEntry).where(AuditEntry.action == action).order_by(AuditEntry.id))
        )


def test_login_sets_a_secure_host_cookie_and_pages_need_it(client_for, seeded) -> None:
    c = client_for()
    assert c.get("/", follow_redirects=False).headers["location"] == "/login"
    r = login(c, "olivier")
    assert r.status_code == 303
    cookie = r.headers["set-cookie"]
    assert cookie.startswith(f"{SESSION_COOKIE}=") and "HttpOnly" in cookie and "Secure" in cookie
    assert "SameSite=strict" in cookie and "Path=/" in cookie and "Domain" not in cookie
    assert c.get("/").status_code == 200


def test_security_headers_and_no_inline_script_or_style(client_for, seeded) -> None:
    c = client_for("ada")
    for path in ("/", "/login", "/static/console.css"):
        h = c.get(path).headers
        csp = h["content-security-policy"]
        assert (
            "script-src 'self'" in csp
            and "unsafe-inline" not in csp
            and "frame-ancestors 'none'" in csp
        )
        assert h["x-content-type-options"] == "nosniff" and h["x-frame-options"] == "DENY"
    assert c.get("/").headers["cache-control"] == "no-store"
    for tpl in TEMPLATES.glob("*.html"):
        text = tpl.read_text()
        assert not re.search(r"<script(?![^>]*\bsrc=)", text), tpl.name
        assert " style=" not in text and "<style" not in text and " on" + "click=" not in text, (
            tpl.name
        )


def test_viewer_sees_no_action_and_a_forged_post_is_refused(
    client_for, seeded, console_env
) -> None:
    _, sessions = console_env
    c = client_for("vera")
    page = c.get("/quarantine").text
    assert (
        "replay-selected" not in page
        and "dismiss-selected" not in page
        and 'name="ids"' not in page
    )
    assert "replay-one" not in c.get(f"/quarantine/{seeded['q_gent']}").text
    token = csrf_of(c)
    for path in ("/quarantine/preview", "/quarantine/replay", "/quarantine/dismiss"):
        r = c.post(
            path,
            data={
                "csrf": token,
                "ids": [seeded["q_gent"]],
                "reason": "forged by a viewer",
                "confirm": "yes",
            },
        )
        assert r.status_code == 403, path
    assert c.get(f"/quarantine/{seeded['q_gent']}").text.count("st-open") == 1  # untouched
    assert not _audit(sessions, "dismiss") and not _audit(sessions, "replay")


def test_every_post_needs_the_session_csrf_token(client_for, seeded) -> None:
    c = client_for("olivier")
    r = c.post(
        "/quarantine/dismiss",
        data={"ids": [seeded["q_gent"]], "reason": "no token here", "confirm": "yes"},
    )
    assert r.status_code == 403
    r = c.post(
        "/quarantine/dismiss",
        data={
            "csrf": "x" * 43,
            "ids": [seeded["q_gent"]],
            "reason": "wrong token",
            "confirm": "yes",
        },
    )
    assert r.status_code == 403
    other = client_for("ada")
    r = c.post("/language", data={"csrf": csrf_of(other), "lang": "en"})  # another session's token
    assert r.status_code == 403
    fresh = client_for()
    fresh.get("/login")
    r = fresh.post("/login", data={"csrf": "forged", "username": "olivier", "password": PASSWORD})
    assert r.status_code == 403


def test_a_user_of_one_cpas_never_sees_another(client_for, seeded) -> None:
    c = client_for("olivier")  # gent only
    assert c.get(f"/quarantine/{seeded['q_antwerpen']}").status_code == 404
    assert c.get("/dossiers/antwerpen/A1").status_code == 404
    assert c.get("/dossiers/gent/A1").status_code == 404
    assert c.get("/dossiers/antwerpen/A1/versions/1").status_code == 404
    for path in ("/", "/quarantine?status=all", "/forms", "/agenda", "/runs/run1"):
        text = c.get(path).text
        assert "A1" not in text and "antwerpen" not in text, path
    token = csrf_of(c)
    r = c.post(
        "/quarantine/dismiss",
        data={
            "csrf": token,
            "ids": [seeded["q_antwerpen"]],
            "reason": "not mine",
            "confirm": "yes",
        },
    )
    assert r.status_code == 400  # nothing in scope to dismiss
    r = c.post("/dossiers/antwerpen/A1/reveal", data={"csrf": token, "reason": "curious about it"})
    assert r.status_code == 404
    assert c.get("/audit").status_code == 403  # operators do not read the audit log


def test_dismiss_needs_a_reason_keeps_the_entry_visible_and_is_audited(
    client_for, seeded, console_env
) -> None:
    _, sessions = console_env
    c = client_for("olivier")
    token = csrf_of(c)
    preview = c.post(
        "/quarantine/preview", data={"csrf": token, "ids": [seeded["q_gent"]], "action": "dismiss"}
    )
    assert preview.status_code == 200 and "G1Q" in preview.text
    r = c.post(
        "/quarantine/dismiss",
        data={"csrf": token, "ids": [seeded["q_gent"]], "reason": "no", "confirm": "yes"},
    )
    assert r.status_code == 400 and not _audit(sessions, "dismiss")
    r = c.post(
        "/quarantine/dismiss",
        data={
            "csrf": token,
            "ids": [seeded["q_gent"]],
            "reason": "duplicate of G1",
            "confirm": "yes",
        },
    )
    assert r.status_code == 200 and "G1Q" in r.text  # followed to ?status=dismissed
    entry = c.get(f"/quarantine/{seeded['q_gent']}").text
    assert "st-dismissed" in entry and "duplicate of G1" in entry
    [row] = _audit(sessions, "dismiss")
    assert (row.actor, row.cpas_id, row.reason) == ("olivier", "gent", "duplicate of G1")


def test_niss_is_masked_everywhere_and_its_reveal_needs_a_reason_and_is_audited(
    client_for, seeded, console_env
) -> None:
    _, sessions = console_env
    c = client_for("olivier")
    for path in (
        "/dossiers/gent/G1",
        "/forms",
        "/forms?status=refused",
        "/quarantine",
        "/agenda",
        "/agenda.csv",
        "/agenda.ics",
        "/runs/run1",
    ):
        assert NISS not in c.get(path).text, path
    assert "*********28" in c.get("/dossiers/gent/G1").text
    token = csrf_of(c)
    r = c.post("/dossiers/gent/G1/reveal", data={"csrf": token, "reason": ""})
    assert r.status_code == 400 and NISS not in r.text and not _audit(sessions, "reveal")
    r = c.post(
        "/dossiers/gent/G1/reveal", data={"csrf": token, "reason": "phone call of the beneficiary"}
    )
    assert r.status_code == 200 and NISS in r.text
    [row] = _audit(sessions, "reveal")
    assert (row.actor, row.cpas_id, row.target, row.reason) == (
        "olivier",
        "gent",
        "dossier G1",
        "phone call of the beneficiary",
    )
    assert NISS not in str(row.detail) and NISS not in row.target


def test_no_niss_in_any_url(client_for, seeded) -> None:
    c = client_for("olivier")
    assert c.get(f"/runs?cpas={NISS}").status_code == 400
    assert c.get("/quarantine?reason=85.07.30-033.28").status_code == 400
    r = c.post("/dossiers", data={"csrf": csrf_of(c), "q": NISS}, follow_redirects=False)
    assert r.status_code == 400 and "location" not in r.headers
    r = c.post("/dossiers", data={"csrf": csrf_of(c), "q": "G1"}, follow_redirects=False)
    assert r.headers["location"] == "/dossiers/gent/G1"


def test_revoked_sessions_are_refused_at_once(client_for, seeded, console_env) -> None:
    _, sessions = console_env
    c = client_for("olivier")
    assert c.get("/").status_code == 200
    token = c.cookies.get(SESSION_COOKIE)
    c.post("/logout", data={"csrf": csrf_of(c)})
    replay = client_for()
    replay.cookies.set(SESSION_COOKIE, token)
    assert replay.get("/", follow_redirects=False).headers["location"] == "/login"

    c1 = client_for("olivier")
    with sessions() as s:
        assert accounts.revoke_all(s, "olivier", actor="test", reason="laptop lost") == 1
        s.commit()
    assert c1.get("/", follow_redirects=False).status_code == 303
    [revoke] = _audit(sessions, "session_revoke")
    assert revoke.target == "olivier" and revoke.detail == {"sessions": 1}

    c2, c3 = client_for("olivier"), client_for("olivier")
    with sessions() as s:
        accounts.set_role(s, "olivier", "viewer", None, actor="test", reason="moved to reporting")
        s.commit()
    assert (
        c2.get("/", follow_redirects=False).status_code == 303
        and c3.get("/", follow_redirects=False).status_code == 303
    )
    c4 = client_for("olivier")
    assert "replay-selected" not in c4.get("/quarantine").text  # the new role applies
    with sessions() as s:
        accounts.disable_user(s, "olivier", actor="test", reason="left")
        s.commit()
        assert all(x.revoked_at is not None for x in s.scalars(select(ConsoleSession)))
    assert c4.get("/", follow_redirects=False).status_code == 303
    assert login(client_for(), "olivier").status_code == 401
    [change] = _audit(sessions, "role_change")
    assert change.detail["to"]["role"] == "viewer" and change.reason == "moved to reporting"


def test_login_is_rate_limited_per_user(client_for, seeded, console_env) -> None:
    _, sessions = console_env
    c = client_for()
    for _ in range(accounts.MAX_FAILURES_PER_USER):
        assert login(c, "olivier", "wrong password!").status_code == 401
    assert login(c, "olivier").status_code == 429  # even the right password, for the window
    assert login(c, "ada").status_code == 303  # another user is not locked out
    assert len(_audit(sessions, "login_failed")) == accounts.MAX_FAILURES_PER_USER


def test_audit_log_for_admins_with_csv_export(client_for, seeded, console_env) -> None:
    _, sessions = console_env
    c = client_for("ada")
    page = c.get("/audit").text
    assert "olivier" in page and "user_add" not in page  # translated action words
    csv_text = c.get("/audit.csv").text
    assert (
        csv_text.splitlines()[0] == "id,at,actor,action,cpas,target,reason" and "login" in csv_text
    )
    assert _audit(sessions, "audit_export")


def test_agenda_overdue_first_csv_and_icalendar(client_for, seeded) -> None:
    c = client_for("ada")
    page = c.get("/agenda").text
    assert 'class="overdue"' in page and "15/01/2026" in page
    csv_text = c.get("/agenda.csv").text.splitlines()
    assert csv_text[0] == "cpas,dossier,rule,due,status,title,worker_id,worker"
    assert len(csv_text) == 3 and csv_text[1].endswith(",unassigned,")
    ics = c.get("/agenda.ics")
    assert ics.headers["content-type"].startswith("text/calendar")
    assert ics.text.count("BEGIN:VEVENT") == 2 and "DTSTART;VALUE=DATE:20260115" in ics.text


def test_refused_forms_show_the_federal_code_and_its_meaning(client_for, seeded) -> None:
    c = client_for("olivier")
    page = c.get("/forms?status=refused&code=-300020&kind=B").text
    assert "-300020" in page and "NISS not integrated" in page and "quality code" in page
    assert "G1" in page
    assert "G1" not in c.get("/forms?status=accepted").text
    month = datetime.now(UTC).strftime("%m/%Y")
    assert (
        "G1" in c.get(f"/forms?month={month}").text
        and "G1" not in c.get("/forms?month=01/2001").text
    )
    assert c.get("/forms?month=13/2026").status_code == 400


def test_run_filters_take_belgian_dates(client_for, seeded) -> None:
    c = client_for("olivier")
    today = datetime.now(UTC)
    assert "run1" in c.get(f"/runs?since={today - timedelta(days=1):%d/%m/%Y}").text
    assert "run1" not in c.get(f"/runs?since={today + timedelta(days=2):%d/%m/%Y}").text
    assert "run1" in c.get(f"/runs?until={today + timedelta(days=1):%Y-%m-%d}").text
    assert c.get("/runs?since=31/02/2026").status_code == 400


def test_consent_recorded_through_the_transfer_service_and_audited(
    client_for, seeded, console_env
) -> None:
    from datetime import date, datetime

    from piis_bridge.transfer.tables import ConsentRecord, TransferCase

    _, sessions = console_env
    now = datetime.now(UTC)
    with sessions() as s:
        s.add(
            TransferCase(
                case_id="case-1",
                cpas_id="gent",
                contract_id="G1",
                record_id="G1",
                to_ins_code="21004",
                residence_change_date=date(2026, 11, 2),
                eligibility="eligible",
                state="awaiting_consent",
                contract_json="{}",
                created_at=now,
                updated_at=now,
            )
        )
        s.commit()
    form = {
        "consent": "GIVEN",
        "channel": "in person",
        "reason": "signed form in the file",
        "confirm": "yes",
    }
    viewer = client_for("vera")
    assert 'action="/transfers/case-1/consent"' not in viewer.get("/transfers").text
    assert (
        viewer.post("/transfers/case-1/consent", data={**form, "csrf": csrf_of(viewer)}).status_code
        == 403
    )
    other = client_for("anton")
    assert (
        other.post("/transfers/case-1/consent", data={**form, "csrf": csrf_of(other)}).status_code
        == 404
    )
    c = client_for("olivier")
    assert 'action="/transfers/case-1/consent"' in c.get("/transfers").text
    r = c.post("/dossiers", data={"csrf": csrf_of(c), "q": "G1"}, follow_redirects=False)
    assert r.headers["location"] == "/dossiers/gent/G1"
    with sessions() as s:
        s.get(TransferCase, "case-1").contract_id = "PIIS-2026-0001"
        s.commit()
    r = c.post(
        "/dossiers", data={"csrf": csrf_of(c), "q": "PIIS-2026-0001"}, follow_redirects=False
    )
    assert r.headers["location"] == "/dossiers/gent/G1"  # by the contract id a transfer case names
    assert (
        other.post("/dossiers", data={"csrf": csrf_of(other), "q": "PIIS-2026-0001"}).status_code
        == 404
    )
    r = c.post("/transfers/case-1/consent", data={**form, "csrf": csrf_of(c)})
    assert r.status_code == 200 and "consentement donné" in r.text
    with sessions() as s:
        [rec] = s.scalars(select(ConsentRecord))
        assert (rec.consent, rec.recorded_by, rec.channel) == ("GIVEN", "olivier", "in person")
    [row] = _audit(sessions, "consent")
    assert (
        row.cpas_id == "gent"
        and row.target == "transfer case-1"
        and row.detail["state"] == "consent_given"
    )


def test_long_lists_are_paginated_with_a_capped_count(client_for, seeded, console_env) -> None:
    from sqlalchemy import insert

    from piis_bridge.ops.queries import COUNT_CAP, PAGE_SIZE
    from piis_bridge.pipeline.models import QuarantineEntry

    _, sessions = console_env
    extra = COUNT_CAP + 59  # with the seeded one: COUNT_CAP + 60 open entries of gent
    with sessions() as s:
        s.execute(
            insert(QuarantineEntry),
            [
                dict(
                    run_id="run1",
                    cpas_id="gent",
                    record_id=f"X{n}",
                    stage="map",
                    reason="r",
                    problems=[],
                    status="open",
                )
                for n in range(extra)
            ],
        )
        s.commit()
    c = client_for("olivier")
    first = c.get("/quarantine").text
    assert f"plus de {COUNT_CAP}" in first and "Suivant" in first and "Précédent" not in first
    assert first.count('name="ids"') == PAGE_SIZE
    last_page = (COUNT_CAP + 60) // PAGE_SIZE + 1
    last = c.get(f"/quarantine?page={last_page}").text
    assert last.count('name="ids"') == (COUNT_CAP + 60) % PAGE_SIZE and "Suivant" not in last
    assert (
        "X0<" in last and "Précédent" in last
    )  # newest first: the first inserted is on the last page
    few = c.get("/quarantine?stage=map&reason=checksum").text
    assert "1 au total" in few and "Suivant" not in few


def test_healthz_and_readyz_need_no_login_and_match_the_monitor(client_for, seeded) -> None:
    """The same readiness as `piis-bridge monitor serve` (observability.http), for the reverse proxy."""
    c = client_for(None)
    live = c.get("/healthz")
    assert live.status_code == 200 and live.json() == {"status": "ok"}
    ready = c.get("/readyz")
    assert ready.status_code == 200, ready.text
    assert [check["name"] for check in ready.json()["checks"]] == ["database", "broker"]
