"""Alerts: each rule fires once under its condition and respects its cap, through a real SMTP server
(aiosmtpd) and a real webhook receiver on loopback; no personal data in any alert."""

from __future__ import annotations

import datetime as dt
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from stdnum.be import nn

from piis_bridge.observability.alerts import check_and_send, evaluate, send_test
from tests.observability.conftest import NOW, Db, SmtpSink, WebhookSink, settings_for
from tests.observability.test_health import self_signed_certificate

QUIET = {
    "run_failed": False,
    "nightly_late_hours": 0,
    "quarantine_over": 0,
    "refused_percent": 0,
    "circuit_open_minutes": 0,
    "certificate_days": 0,
    "statement_differences": False,
}


def _settings(
    tmp_path: Path,
    smtp: SmtpSink | None = None,
    webhook: WebhookSink | None = None,
    rules: dict[str, Any] | None = None,
    **alerts: Any,
) -> Any:
    cfg: dict[str, Any] = {
        "rules": {**QUIET, **(rules or {})},
        "digest_time": None,
        "console_url": "https://bridge.example/console",
        **alerts,
    }
    if smtp:
        cfg["email"] = {
            "host": "127.0.0.1",
            "port": smtp.port,
            "sender": "bridge@cpas.example",
            "to": ["it@cpas.example"],
            "starttls": False,
        }
    if webhook:
        cfg["webhook"] = {"url": webhook.url}
    return settings_for(tmp_path, alerts=cfg)


def _rules(deliveries) -> list[tuple[str, str | None, bool]]:
    return sorted((d.alert.rule, d.alert.cpas_id, d.sent) for d in deliveries)


def test_run_failed_fires_once_per_cap_on_both_channels(
    tmp_path: Path, db: Db, smtp: SmtpSink, webhook: WebhookSink
) -> None:
    run_id = db.run("gent", status="failed", ended=NOW - dt.timedelta(minutes=10))
    settings = _settings(tmp_path, smtp, webhook, rules={"run_failed": True})
    first = check_and_send(settings, db.engine, NOW)
    assert _rules(first) == [("run_failed", "gent", True)]
    assert len(smtp.messages) == 1 and len(webhook.bodies) == 1
    message = smtp.messages[0]
    assert message["Subject"].strip() == f"piis-bridge critical: [gent] run {run_id} failed"
    assert f"runs show {run_id}" in message.get_content()
    assert webhook.bodies[0]["link"] == f"https://bridge.example/console/runs/{run_id}"
    assert webhook.bodies[0]["counts"]["fetched"] == 10
    # Within the cap: held back, and counted.
    db.run("gent", status="failed", ended=NOW + dt.timedelta(hours=1))
    again = check_and_send(settings, db.engine, NOW + dt.timedelta(hours=1))
    assert [d.suppressed for d in again] == [True] and len(smtp.messages) == 1
    # After the cap: sent again, saying how many were held back.
    later = check_and_send(settings, db.engine, NOW + dt.timedelta(hours=24, minutes=1))
    assert [d.sent for d in later] == [True] and len(smtp.messages) == 2
    assert "1 similar alert(s) held back" in smtp.messages[1].get_content()


def test_cap_hours_is_a_setting(tmp_path: Path, db: Db, webhook: WebhookSink) -> None:
    db.run("gent", status="failed", ended=NOW)
    settings = _settings(tmp_path, webhook=webhook, rules={"run_failed": True}, cap_hours=1)
    check_and_send(settings, db.engine, NOW)
    check_and_send(settings, db.engine, NOW + dt.timedelta(minutes=61))
    assert len(webhook.bodies) == 2


def test_nightly_late(tmp_path: Path, db: Db, webhook: WebhookSink) -> None:
    db.run("gent", ended=NOW - dt.timedelta(hours=27))
    db.run("liege", ended=NOW - dt.timedelta(hours=2))
    settings = _settings(tmp_path, webhook=webhook, rules={"nightly_late_hours": 26})
    assert _rules(check_and_send(settings, db.engine, NOW)) == [("nightly_late", "gent", True)]
    assert "27.0 h" in webhook.bodies[0]["text"]
    relaxed = _settings(tmp_path, webhook=webhook, rules={"nightly_late_hours": 30})
    assert evaluate(relaxed, db.engine, NOW) == []


def test_quarantine_over(tmp_path: Path, db: Db, webhook: WebhookSink) -> None:
    db.quarantine("liege", 6)
    assert (
        evaluate(_settings(tmp_path, webhook=webhook, rules={"quarantine_over": 6}), db.engine, NOW)
        == []
    )
    deliveries = check_and_send(
        _settings(tmp_path, webhook=webhook, rules={"quarantine_over": 5}), db.engine, NOW
    )
    assert _rules(deliveries) == [("quarantine_over", "liege", True)]
    assert webhook.bodies[0]["counts"] == {"open": 6}


def test_refused_rate_needs_enough_forms(tmp_path: Path, db: Db, webhook: WebhookSink) -> None:
    db.forms("gent", "accepted", 15)
    db.forms("gent", "refused", 5)
    db.forms("gent", "refused", 50, answered=NOW - dt.timedelta(days=8))  # outside the 7-day window
    rules = {"refused_percent": 25, "refused_min_forms": 20}
    deliveries = check_and_send(_settings(tmp_path, webhook=webhook, rules=rules), db.engine, NOW)
    assert _rules(deliveries) == [("refused_rate", "gent", True)]
    assert webhook.bodies[0]["counts"] == {"refused": 5, "answered": 20}
    assert (
        evaluate(_settings(tmp_path, rules={**rules, "refused_percent": 26}), db.engine, NOW) == []
    )
    assert (
        evaluate(_settings(tmp_path, rules={**rules, "refused_min_forms": 21}), db.engine, NOW)
        == []
    )


def test_circuit_open_only_after_its_duration(tmp_path: Path, db: Db, webhook: WebhookSink) -> None:
    db.circuit("federal:gent", NOW + dt.timedelta(hours=2))
    settings = _settings(tmp_path, webhook=webhook, rules={"circuit_open_minutes": 30})
    assert check_and_send(settings, db.engine, NOW) == []  # first seen now
    assert check_and_send(settings, db.engine, NOW + dt.timedelta(minutes=29)) == []
    deliveries = check_and_send(settings, db.engine, NOW + dt.timedelta(minutes=31))
    assert _rules(deliveries) == [("circuit_open", "gent", True)]
    assert "federal:gent" in webhook.bodies[0]["text"]


def test_a_circuit_that_closed_starts_its_duration_again(
    tmp_path: Path, db: Db, webhook: WebhookSink
) -> None:
    settings = _settings(tmp_path, webhook=webhook, rules={"circuit_open_minutes": 30})
    db.circuit("federal:gent", NOW + dt.timedelta(minutes=20))
    check_and_send(settings, db.engine, NOW)
    check_and_send(settings, db.engine, NOW + dt.timedelta(minutes=25))  # closed by then
    db.circuit("federal:gent", NOW + dt.timedelta(hours=3))
    assert (
        check_and_send(settings, db.engine, NOW + dt.timedelta(minutes=40)) == []
    )  # open 0 minutes again
    assert len(check_and_send(settings, db.engine, NOW + dt.timedelta(minutes=71))) == 1


def test_certificate_expiring(tmp_path: Path, db: Db, webhook: WebhookSink) -> None:
    cert = self_signed_certificate(tmp_path / "tls.pem", 20)
    cfg = {
        "rules": {**QUIET, "certificate_days": 30},
        "digest_time": None,
        "webhook": {"url": webhook.url},
    }
    settings = settings_for(
        tmp_path,
        alerts=cfg,
        cpas={
            "gent": {
                "name": "OCMW Gent",
                "ins_code": "44021",
                "bce": "0207567726",
                "plugins": {"transfer": {"tls_cert_path": str(cert)}},
            }
        },
    )
    assert _rules(check_and_send(settings, db.engine, NOW)) == [("certificate", "gent", True)]
    assert "cpas.gent.plugins.transfer.tls_cert_path" in webhook.bodies[0]["title"]
    cfg["rules"]["certificate_days"] = 19
    assert (
        evaluate(
            settings_for(tmp_path, alerts=cfg, cpas=settings.model_dump()["cpas"]), db.engine, NOW
        )
        == []
    )


def test_statement_differences(tmp_path: Path, db: Db, webhook: WebhookSink) -> None:
    db.statement("gent", 3)
    db.statement("liege", 0)
    deliveries = check_and_send(
        _settings(tmp_path, webhook=webhook, rules={"statement_differences": True}), db.engine, NOW
    )
    assert _rules(deliveries) == [("statement_differences", "gent", True)]
    assert webhook.bodies[0]["title"] == "[gent] statement 2026-11: 3 difference(s)"


def test_daily_digest_once_a_day_after_its_time(tmp_path: Path, db: Db, smtp: SmtpSink) -> None:
    db.run("gent", ended=NOW - dt.timedelta(hours=1))
    db.forms("gent", "accepted", 3)
    settings = _settings(tmp_path, smtp, digest_time="14:00")  # Brussels: 13:00 UTC in December
    assert check_and_send(settings, db.engine, NOW) == []
    sent = check_and_send(settings, db.engine, NOW + dt.timedelta(hours=1, minutes=1))
    assert _rules(sent) == [("digest", None, True)]
    body = smtp.messages[0].get_content()
    assert "gent: runs finished 1; forms answered accepted 3; open quarantine 0" in body
    assert check_and_send(settings, db.engine, NOW + dt.timedelta(hours=5)) == []
    assert len(check_and_send(settings, db.engine, NOW + dt.timedelta(days=1, hours=2))) == 1


def test_undeliverable_alert_is_retried_and_reported(tmp_path: Path, db: Db) -> None:
    db.run("gent", status="failed", ended=NOW)
    with WebhookSink(status=500) as broken:
        settings = _settings(tmp_path, webhook=broken, rules={"run_failed": True})
        first = check_and_send(settings, db.engine, NOW)
        assert [d.sent for d in first] == [False] and "500" in first[0].errors[0]
        second = check_and_send(settings, db.engine, NOW + dt.timedelta(minutes=5))
        assert [d.sent for d in second] == [False]  # not capped: it was never delivered
        assert len(broken.bodies) == 2


def test_webhook_formats_and_token(tmp_path: Path, db: Db, webhook: WebhookSink) -> None:
    db.run("gent", status="failed", ended=NOW)
    token = tmp_path / "token"
    token.write_text("t0ken\n")
    cfg = {
        "rules": {**QUIET, "run_failed": True},
        "digest_time": None,
        "webhook": {"url": webhook.url, "format": "slack", "token_file": str(token)},
    }
    check_and_send(settings_for(tmp_path, alerts=cfg), db.engine, NOW)
    assert set(webhook.bodies[0]) == {"text"} and "[gent] run" in webhook.bodies[0]["text"]
    assert webhook.headers[0]["Authorization"] == "Bearer t0ken"


def test_no_channel_sends_nothing(tmp_path: Path, db: Db) -> None:
    db.run("gent", status="failed", ended=NOW)
    settings = settings_for(tmp_path)
    assert evaluate(settings, db.engine, NOW)  # the condition holds ...
    assert check_and_send(settings, db.engine, NOW) == []  # ... but there is nowhere to send it


def test_alert_texts_carry_no_niss(
    tmp_path: Path, db: Db, webhook: WebhookSink, smtp: SmtpSink
) -> None:
    niss = "85073003328"
    assert nn.is_valid(niss)
    run_id = db.run(
        "gent", status="failed", ended=NOW, counts={"fetched": 1, "note": f"record GPMI-{niss}"}
    )
    db.quarantine("gent", 60, reason=f"NISS {niss[:6]}-{niss[6:9]}.{niss[9:]} unknown")
    settings = _settings(
        tmp_path,
        smtp,
        webhook,
        rules={"run_failed": True, "quarantine_over": 1},
        digest_time="00:00",
    )
    deliveries = check_and_send(settings, db.engine, NOW)
    assert {d.alert.rule for d in deliveries} == {"run_failed", "quarantine_over", "digest"}
    texts = [str(b) for b in webhook.bodies] + [m.as_string() for m in smtp.messages]
    assert run_id in texts[0]
    for text in texts:
        assert not valid_niss_in(text), text


def valid_niss_in(text: str) -> list[str]:
    """Valid NISS in *text*, in any common writing (separators, Unicode digits), not glued to other digits."""
    import re
    import unicodedata

    pattern = r"(?<![\d])(\d{2}[ ./-]?\d{2}[ ./-]?\d{2}[ ./-]?\d{3}[ ./-]?\d{2})(?![\d])"
    found = re.findall(pattern, unicodedata.normalize("NFKC", text))
    return [m for m in (re.sub(r"\D", "", f) for f in found) if nn.is_valid(m)]


def test_the_niss_scanner_finds_every_writing() -> None:
    for writing in (
        "85073003328",
        "85.07.30-033.28",
        "850730 033-28",
        "８５０７３００３３２８",
        "85/07/30 033 28",
    ):
        assert valid_niss_in(f"x {writing} y") == ["85073003328"], writing
    assert valid_niss_in("le=0.05 8507300332812") == []


def test_cli_alerts_test_and_check(tmp_path: Path, smtp: SmtpSink) -> None:
    (tmp_path / "piis-bridge.toml").write_text(
        f'database_url = "sqlite:///{tmp_path}/app.sqlite3"\nstate_dir = "{tmp_path}/state"\n'
        f'[alerts]\ndigest_time = "00:00"\n[alerts.email]\nhost = "127.0.0.1"\nport = {smtp.port}\n'
        'sender = "bridge@cpas.example"\nto = ["it@cpas.example"]\nstarttls = false\n'
    )
    env = {**os.environ, "PIIS_CONFIG": str(tmp_path / "piis-bridge.toml")}
    exe = str(Path(sys.executable).parent / "piis-bridge")
    test = subprocess.run(
        [exe, "alerts", "test"], capture_output=True, text=True, env=env, timeout=120
    )
    assert test.returncode == 0 and test.stdout.strip() == "email: sent", test.stdout + test.stderr
    assert smtp.messages[0]["Subject"].strip() == "piis-bridge info: test alert"
    Db(f"sqlite:///{tmp_path}/app.sqlite3").engine.dispose()
    check = subprocess.run(
        [exe, "alerts", "check"], capture_output=True, text=True, env=env, timeout=120
    )
    assert check.returncode == 0, check.stdout + check.stderr
    assert "digest" in check.stdout and len(smtp.messages) == 2


def test_cli_alerts_test_without_channel_names_the_fix(tmp_path: Path) -> None:
    with pytest.raises(Exception, match=r"\[alerts.email\] or \[alerts.webhook\]"):
        send_test(settings_for(tmp_path))


def test_inline_smtp_password_is_refused_in_the_file(tmp_path: Path) -> None:
    from piis_bridge.config import ConfigError, load_settings

    path = tmp_path / "piis-bridge.toml"
    path.write_text(
        '[alerts.email]\nhost = "h"\nsender = "a@b.c"\nto = ["x@y.z"]\nusername = "u"\npassword = "pw"\n'
    )
    with pytest.raises(ConfigError, match="PIIS_ALERTS__EMAIL__PASSWORD"):
        load_settings(path)
