"""Health checks, alerts, configuration errors, the plugin host's problems and the error paragraphs
are said in the reader's language; what a machine reads is the same in every language.

Each test runs the real code path in French, Dutch, German and English: ``health`` (a certificate
that cannot be read, a CPAS without a nightly run), an alert sent to a real webhook receiver in the
language of the CPAS it concerns, a configuration error and a database failure through the command
line's last resort (``piis_bridge.cli.main``), and a tenancy warning of ``plugins check``.  French,
Dutch and German outputs must hold none of the English texts of these modules
(:mod:`tests.i18n._leaks`); setting names, paths, values and ids stay as they are; ``--json`` is the
same in every language.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from pathlib import Path
from typing import Any

import pytest

from piis_bridge.i18n import translator
from piis_bridge.i18n.text import Text, say, text_json
from piis_bridge.observability.alerts import check_and_send
from tests.i18n._cli import cli as _cli
from tests.i18n._cli import gent_config as _config
from tests.i18n._cli import use_config  # noqa: F401 - a fixture
from tests.i18n._leaks import english_leaks
from tests.observability.conftest import (  # noqa: F401 - db, webhook: fixtures
    NOW,
    Db,
    SmtpSink,
    WebhookSink,
    db,
    settings_for,
    smtp,
    webhook,
)

LANGUAGES = ("fr", "nl", "de", "en")


CERT = "cpas.gent.plugins.transfer.tls_cert_path"


def _no_leak(output: str, language: str) -> None:
    if language != "en":
        assert english_leaks(output, language) == [], output


@pytest.mark.parametrize("language", LANGUAGES)
def test_health_says_every_summary_in_the_language(
    tmp_path: Path, use_config: Any, language: str
) -> None:
    missing = tmp_path / "missing.pem"
    use_config(
        _config(
            tmp_path,
            language,
            extra=f'\n[cpas.gent.plugins.transfer]\ntls_cert_path = "{missing}"\n',
        )
    )
    assert _cli("db", "upgrade")[0] == 0
    code, out = _cli("health", "--no-workers")
    en_code, english = _cli("--lang", "en", "health", "--no-workers")
    assert code == en_code == 2, out  # the unreadable certificate: CRITICAL
    assert out.splitlines()[0] == english.splitlines()[0] == "piis-bridge CRITICAL"
    # the values stay: the setting, the path, the exception's name, the CPAS id
    assert re.search(rf"{re.escape(CERT)} ?: ", out), out  # French puts a space before ':'
    assert str(missing) in out and "(FileNotFoundError)" in out, out
    assert re.search(r"gent ?: ", out), out
    _no_leak(out, language)
    if language != "en":
        assert out.splitlines()[1:] != english.splitlines()[1:]
    as_json = [
        json.loads(_cli("--lang", lang, "health", "--no-workers", "--json")[1])
        for lang in (language, "en")
    ]
    for report in as_json:
        report.pop("checked_at")
        for check in report["checks"]:  # free disk space moves between two runs
            for where in check["details"].values() if check["name"] == "disk" else ():
                where.pop("free_mb")
    assert as_json[0] == as_json[1]
    certificates = next(c for c in as_json[0]["checks"] if c["name"] == "certificates")
    assert certificates["message"]["params"]["parts"]["items"][0] == {
        "id": "{setting}: cannot read {path} ({error})",
        "params": {"setting": CERT, "path": str(missing), "error": "FileNotFoundError"},
    }


@pytest.mark.parametrize("language", LANGUAGES)
def test_an_alert_is_sent_in_the_language_of_its_cpas(
    tmp_path: Path, db: Db, webhook: WebhookSink, smtp: SmtpSink, language: str
) -> None:
    db.run("gent", status="failed", ended=NOW - dt.timedelta(minutes=10))
    db.quarantine("gent", 6)
    settings = settings_for(
        tmp_path,
        cpas={
            "gent": {
                "name": "OCMW Gent",
                "ins_code": "44021",
                "bce": "0207567726",
                "language": language,
            },
            "liege": {  # another CPAS, another language: it does not change gent's alerts
                "name": "CPAS de Liège",
                "ins_code": "62063",
                "bce": "0207567726",
                "language": "de" if language != "de" else "fr",
            },
        },
        alerts={
            "rules": {
                "run_failed": True,
                "quarantine_over": 5,
                "nightly_late_hours": 0,
                "refused_percent": 0,
                "circuit_open_minutes": 0,
                "certificate_days": 0,
                "statement_differences": False,
            },
            "digest_time": None,
            "webhook": {"url": webhook.url},
            "email": {
                "host": "127.0.0.1",
                "port": smtp.port,
                "sender": "bridge@cpas.example",
                "to": ["it@cpas.example"],
                "starttls": False,
            },
        },
    )
    deliveries = check_and_send(settings, db.engine, NOW)
    assert sorted(d.alert.rule for d in deliveries) == ["quarantine_over", "run_failed"]
    assert all(d.sent for d in deliveries)
    bodies = {body["rule"]: body for body in webhook.bodies}
    for body in bodies.values():
        assert body["language"] == language
        _no_leak(body["title"] + "\n" + body["text"], language)
    run = bodies["run_failed"]
    run_id = run["counts"]["run_id"]
    assert run["title"].startswith("[gent] ") and run_id in run["title"], run
    assert f"'piis-bridge runs show {run_id}'" in run["text"], run  # the command stays
    # the language-neutral description is the same whatever the language
    assert run["message"]["title"] == {
        "id": "[{cpas}] run {run} {status}",
        "params": {
            "cpas": "gent",
            "run": run_id,
            "status": {"id": "failed", "params": {}},
        },
    }
    if language == "en":
        assert run["title"] == f"[gent] run {run_id} failed"
    else:
        words = {"fr": "exécution", "nl": "uitvoering", "de": "Lauf"}[language]
        assert words in run["title"], run
        assert {"fr": "CPAS gent", "nl": "OCMW gent", "de": "ÖSHZ gent"}[language] in run["text"]

    # the e-mail: subject (the severity stays a code, for mail filters) and body in the language
    mail = next(m for m in smtp.messages if run_id in m["Subject"])
    assert mail["Subject"].strip() == f"piis-bridge critical: {run['title']}"
    content = mail.get_content()
    assert run["text"] in " ".join(content.split()) or run["text"] in content, content
    footer = {
        "fr": "règle : run_failed ; CPAS : gent",
        "nl": "regel: run_failed; OCMW: gent",
        "de": "Regel: run_failed; ÖSHZ: gent",
        "en": "rule: run_failed; cpas: gent",
    }
    assert footer[language] in content, content
    _no_leak(content, language)


def _main(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str]:
    """The real console script (its last resort turns an exception into one paragraph)."""
    from piis_bridge.cli import main

    with pytest.raises(SystemExit) as done:
        main(list(args))
    captured = capsys.readouterr()
    return int(done.value.code or 0), captured.err + captured.out


@pytest.mark.parametrize("language", LANGUAGES)
def test_a_configuration_error_names_the_setting_in_the_language(
    tmp_path: Path, use_config: Any, capsys: pytest.CaptureFixture[str], language: str
) -> None:
    path = _config(tmp_path, "xx")  # not a language: the configuration is refused
    text = path.read_text(encoding="utf-8").replace('name = "OCMW Gent"\n', "")  # and a key missing
    path.write_text(text, encoding="utf-8")
    use_config(path)
    code, out = _cli("--lang", language, "health")
    assert code == 2, out
    for kept in (str(path), "cpas.gent.language", "'xx'", "cpas.gent.name", '"fr", "nl", "de"'):
        assert kept in out, (kept, out)
    _no_leak(out, language)
    if language != "en":
        assert "Field required" not in out and "invalid configuration" not in out, out
    # the same through the last resort of any command (a paragraph naming the fix)
    code, paragraph = _main(capsys, "--lang", language, "runs", "list")
    assert code == 2, paragraph
    assert "cpas.gent.language" in paragraph and str(path) in paragraph, paragraph
    _no_leak(paragraph, language)


@pytest.mark.parametrize("language", LANGUAGES)
def test_a_database_failure_is_one_paragraph_in_the_language(
    tmp_path: Path, use_config: Any, capsys: pytest.CaptureFixture[str], language: str
) -> None:
    path = _config(tmp_path, language)
    url = "postgresql://postgres@127.0.0.1:1/piis"  # nothing listens on port 1
    path.write_text(
        path.read_text(encoding="utf-8").replace(f"sqlite:///{tmp_path / 'app.sqlite3'}", url),
        encoding="utf-8",
    )
    use_config(path)
    code, out = _main(capsys, "db", "upgrade")
    assert code == 3, out
    assert "Traceback" not in out
    assert f"database_url = {url}" in out and "127.0.0.1:1" in out, out
    assert str(path) in out, out  # the setting's source: the file
    _no_leak(out, language)
    label = {"fr": "Solution :", "nl": "Oplossing:", "de": "Abhilfe:", "en": "Fix:"}[language]
    assert label in out, out


@pytest.mark.parametrize("language", LANGUAGES)
def test_a_tenancy_warning_of_plugins_check_is_in_the_language(
    tmp_path: Path, use_config: Any, monkeypatch: pytest.MonkeyPatch, language: str
) -> None:
    neptunus = (
        '[cpas.gent.plugins.neptunus]\nbase_url = "http://127.0.0.1:9"\nclient_id = "bridge"\n'
    )
    use_config(_config(tmp_path, language, extra=neptunus))  # no ocmw_kbo: it would read every CPAS
    monkeypatch.setenv("PIIS_CPAS__GENT__PLUGINS__NEPTUNUS__CLIENT_SECRET", "geheim")
    code, out = _cli("plugins", "check")
    assert code == 1, out
    line = next(x for x in out.splitlines() if "ocmw_kbo" in x)
    assert re.search(r"cpas\.gent\.plugins\.neptunus\.ocmw_kbo ?: ", line), out
    assert '"0207567726"' in line, out
    assert "'neptunus'" in line and "OCMW Gent" in line, out
    _no_leak(out, language)
    if language != "en":
        assert "serves several CPAS" not in out, out
    as_json = [_cli("--lang", lang, "plugins", "--json")[1] for lang in (language, "en")]
    assert as_json[0] == as_json[1]


def test_a_text_keeps_its_english_and_its_values() -> None:
    shown = Text(
        "{setting}: {path} expires {date} ({days} days)",
        setting="a.b",
        path="/x.pem",
        date=dt.date(2026, 12, 6),
        days=3,
    )
    assert shown == "a.b: /x.pem expires 2026-12-06 (3 days)"  # the English it always was
    assert say(shown, translator("de")) == "a.b: /x.pem läuft am 06.12.2026 ab (3 Tage)"
    assert say(shown, translator("en")) == shown
    assert say(shown + "!", translator("fr")) == shown + "!"  # a new string: shown as written
    assert text_json(shown)["params"]["date"] == "2026-12-06"
