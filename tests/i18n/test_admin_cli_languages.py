"""The installation and monitoring commands speak the CPAS's language; what a machine reads does not.

One representative command of each group, run through the real CLI with a configuration whose CPAS
speaks the language under test: ``db upgrade`` in French, ``health`` and ``alerts check`` in Dutch,
``plugins check`` in German, ``validate`` in French, and the federal ``forms build/submit/status/
statement`` in Dutch against the running NovaPrima simulator.  Each French, Dutch or German output
must contain none of the command's English texts (:mod:`tests.i18n._leaks`) and must contain the
language's words (a health check's summary too); the machine-read outputs -- ``health``'s first line and exit code, ``--json``,
``db new-key``'s key line, the ``monitor metrics`` exposition -- are the same in every language.
"""

from __future__ import annotations

import json
import re
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from tests.i18n._cli import cli as _cli
from tests.i18n._cli import (
    gent_config,
    use_config,  # noqa: F401 - a fixture
)
from tests.i18n._leaks import english_leaks

ROOT = Path(__file__).resolve().parents[2]
STUDIES = ROOT / "examples" / "studies.json"


def _config(
    root: Path, language: str, federal_endpoint: str | None = None, extra: str = ""
) -> Path:
    federal = (
        f'federal = "federal"\n\n[cpas.gent.plugins.federal]\nendpoint = "{federal_endpoint}"\n'
        'mode = "batch"\noperation_timeout = 5.0\n'
        if federal_endpoint
        else ""
    )
    return gent_config(root, language, f"{federal}{extra}")


def _no_leak(output: str, language: str) -> None:
    assert english_leaks(output, language) == [], output


def test_db_upgrade_speaks_french(tmp_path: Path, use_config: Any) -> None:
    use_config(_config(tmp_path, "fr"))
    code, out = _cli("db", "upgrade")
    assert code == 0, out
    assert re.fullmatch(r"base de données à la révision \S+\n", out), out
    _no_leak(out, "fr")
    code, english = _cli("--lang", "en", "db", "upgrade")
    assert code == 0 and english.startswith("database at revision "), english
    assert english.split()[-1] == out.split()[-1]  # the revision itself: the same id


def test_db_new_key_line_is_language_neutral(tmp_path: Path, use_config: Any) -> None:
    use_config(_config(tmp_path, "nl"))
    for lang in ("nl", "fr", "de", "en"):
        code, out = _cli("--lang", lang, "db", "new-key", "2026a")
        assert code == 0 and re.fullmatch(r"2026a:[A-Za-z0-9+/]{43}=\n", out), (lang, out)


def test_health_speaks_dutch_and_keeps_the_nagios_line(tmp_path: Path, use_config: Any) -> None:
    use_config(_config(tmp_path, "nl"))
    assert _cli("db", "upgrade")[0] == 0
    code, out = _cli("health", "--no-workers")
    en_code, english = _cli("--lang", "en", "health", "--no-workers")
    first, *lines = out.splitlines()
    assert code == en_code and code in (0, 1, 2), out
    assert first == english.splitlines()[0]  # Nagios-style monitors read this line
    assert re.fullmatch(r"piis-bridge (OK|WARNING|CRITICAL)", first)
    # the status, the check's name and its summary are in Dutch (the summary's values as they are)
    assert len(lines) == len(english.splitlines()) - 1, out
    for name in ("databank", "broker", "schijf", "nachtelijke uitvoering"):
        assert any(f" {name} " in line for line in lines), (name, out)
    assert not any(re.match(r"\s+\S+\s+(database|disk|nightly)\s", line) for line in lines), out
    assert "geen certificaat geconfigureerd" in out and "genoeg vrije schijfruimte" in out, out
    english_status = {line.split()[0] for line in english.splitlines()[1:]}
    dutch_status = {line.split()[0] for line in lines}
    if english_status - {"OK"}:  # a warning or a critical check: its word in Dutch
        assert dutch_status - {"OK"} <= {"WAARSCHUWING", "KRITIEK", "ONBEKEND"}, out
        assert dutch_status - {"OK"}, out
    _no_leak(out, "nl")
    as_json = [
        json.loads(_cli("--lang", lang, "health", "--no-workers", "--json")[1])
        for lang in ("nl", "en")
    ]
    for report in as_json:
        report.pop("checked_at", None)
        for check in report["checks"]:  # free disk space moves between two runs
            for where in check["details"].values() if check["name"] == "disk" else ():
                where.pop("free_mb")
    assert as_json[0] == as_json[1]  # language-neutral: English summaries, message ids and values


def test_alerts_check_and_monitor_speak_dutch(tmp_path: Path, use_config: Any) -> None:
    use_config(_config(tmp_path, "nl"))
    assert _cli("db", "upgrade")[0] == 0
    code, out = _cli("alerts", "check")
    assert code == 2 and "geen waarschuwingskanaal geconfigureerd" in out, out
    _no_leak(out, "nl")
    code, out = _cli("monitor", "trace", "no-such-run")
    assert code == 1 and "geen uitvoering no-such-run" in out, out
    _no_leak(out, "nl")
    # the Prometheus exposition is read by a machine: the same metric names and help in every language
    metrics = [_cli("--lang", lang, "monitor", "metrics")[1] for lang in ("nl", "en")]
    assert [line for line in metrics[0].splitlines() if line.startswith("#")] == [
        line for line in metrics[1].splitlines() if line.startswith("#")
    ]


def test_plugins_check_speaks_german(
    tmp_path: Path, use_config: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    neptunus = (
        '[cpas.gent.plugins.neptunus]\nbase_url = "http://127.0.0.1:9"\nclient_id = "bridge"\n'
        'ocmw_kbo = "0207567726"\n'
    )
    use_config(_config(tmp_path, "de", extra=neptunus))
    monkeypatch.setenv("PIIS_CPAS__GENT__PLUGINS__NEPTUNUS__CLIENT_SECRET", "geheim")
    code, out = _cli("plugins", "check")
    assert code == 0, out
    assert "OK: " in out and "Plugin(s) aktiviert" in out and "1 ÖSHZ konfiguriert" in out, out
    assert "wirksame Einstellungen (Wert, und woher er kommt):" in out, out
    assert "cpas.gent.federal = keines (" in out, out  # the setting's name stays, its words do not
    _no_leak(out, "de")
    code, listed = _cli("plugins")
    assert code == 0 and "Distribution" in listed and "aktiviert" in listed, listed
    _no_leak(listed, "de")
    as_json = [_cli("--lang", lang, "plugins", "--json")[1] for lang in ("de", "en")]
    assert as_json[0] == as_json[1]


def test_validate_speaks_french(tmp_path: Path, use_config: Any) -> None:
    use_config(_config(tmp_path, "fr"))
    bad = tmp_path / "bad.json"
    bad.write_text('{"contracts": [{"id": 1}]}', encoding="utf-8")
    code, out = _cli("validate", str(STUDIES), str(bad))
    assert code == 1, out
    assert "Problèmes" in out and re.search(r"2 fichier\(s\), \d+ enregistrement\(s\)", out), out
    _no_leak(out, "fr")


def test_federal_forms_speak_dutch(federal_simulator: Any, tmp_path: Path, use_config: Any) -> None:
    sim = federal_simulator
    sim.admin.register_cpas("0207567726", "44021", "OCMW Gent", 5500)
    sim.admin.set_clock(datetime(2025, 9, 10, 9))
    sim.admin.integrate("0207567726", "05093020265", start="2025-01-01")
    use_config(_config(tmp_path, "nl", federal_endpoint=sim.endpoint))
    code, built = _cli("forms", "build", str(STUDIES), "--cpas", "gent")
    assert code == 0 and "opgemaakt" in built and "05093020265" not in built, built
    _no_leak(built, "nl")
    code, sent = _cli("forms", "submit", "--cpas", "gent", "--wait", "10")
    assert code == 0 and "1 formulier verzonden; register: aanvaard: 1" in sent, sent
    _no_leak(sent, "nl")
    code, status = _cli("forms", "status", "--cpas", "gent")
    assert "aanvaard: 1" in status, status
    _no_leak(status, "nl")
    code, early = _cli("forms", "statement", "--month", "2025-09", "--cpas", "gent")
    assert code == 2 and "maandstaat 2025-09 nog niet beschikbaar" in early, early
    _no_leak(early, "nl")
    sim.admin.set_clock(datetime(2025, 10, 5))
    code, statement = _cli("forms", "statement", "--month", "2025-09", "--cpas", "gent")
    assert code == 0, statement
    assert "maandstaat 2025-09: 2 lijnen, totaal" in statement, statement
    assert "geen verschillen" in statement, statement
    _no_leak(statement, "nl")
