"""A quarantine entry's reason and a run's stored error are said in the reader's language (issue #19).

The texts come from their real producers: the plugin host's foreign-record refusal
(``PluginHost.foreign_record_problem``) and the quarantine reason the pipeline builds from mapping
problems (``problems_reason``), the poison reason (``pipeline.process.poison_reason``), a worker's
preflight that fails a run started with another configuration (``ops.preflight.run_is_fresh``); they
are stored by the pipeline's own ``quarantine``.  Then ``quarantine list/show`` and ``runs show``
(the real CLI) and the console's quarantine pages read them in fr/nl/de/en: the English column is
unchanged, ``--json`` is the same in every language, no English text of the command leaks, and an
older row (no ``reason_text``) is shown as written."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from piis_bridge.cli import build_app
from piis_bridge.hooks.types import SourceRecord
from piis_bridge.i18n.ops import (
    gave_up_text,
    notice_failed_text,
    problems_reason,
    unknown_notice_text,
)
from piis_bridge.i18n.text import error_text
from piis_bridge.migrations import upgrade_database
from piis_bridge.ops.preflight import run_is_fresh
from piis_bridge.ops.tables import RunConfig
from piis_bridge.pipeline.models import CircuitState, CpasLease, QuarantineEntry, SyncRun
from piis_bridge.pipeline.notices import NoticeError
from piis_bridge.pipeline.outbox import quarantine
from piis_bridge.pipeline.process import poison_reason
from piis_bridge.pipeline.runs import create_run
from piis_bridge.pipeline.runtime import Runtime
from piis_bridge.pipeline.sweeper import sweep
from tests.console.conftest import PASSWORD, login
from tests.i18n._leaks import english_leaks
from tests.pipeline.conftest import PLUGIN, make_settings, pipetest_config
from tests.pipeline.inline import InlineEnqueuer

ROOT = Path(__file__).resolve().parents[2]
NISS = "85073003328"  # a valid NISS: must never be shown, in any language

FOREIGN = {
    "fr": "appartient au CPAS BCE 0212344959, pas à cpas.gent",
    "nl": "hoort bij OCMW KBO 0212344959, niet bij cpas.gent",
    "de": "gehört zum ÖSHZ ZDU 0212344959, nicht zu cpas.gent",
    "en": "belongs to CPAS BCE 0212344959, not to cpas.gent",
}
POISON = {
    "fr": "dossier toxique : abandonné après 3 tentatives à l'étape « build » ; dernière erreur "
    "WorkerLost",
    "nl": "giftig dossier: opgegeven na 3 pogingen in fase 'build'; laatste fout WorkerLost",
    "de": "schädliche Akte: nach 3 Versuchen in der Stufe „build“ aufgegeben; letzter Fehler "
    "WorkerLost",
    "en": "poison record: gave up after 3 attempts in stage 'build'; last error WorkerLost",
}
STALE = {
    "fr": "le worker w1 tourne avec une autre configuration",
    "nl": "worker w1 draait met een andere configuratie",
    "de": "Worker w1 läuft mit einer anderen Konfiguration",
    "en": "worker w1 runs with another configuration",
}
GAVE_UP = {
    "fr": "abandonné après 5 tentatives : HTTP 503 Service Unavailable",
    "nl": "opgegeven na 5 pogingen: HTTP 503 Service Unavailable",
    "de": "nach 5 Versuchen aufgegeben: HTTP 503 Service Unavailable",
    "en": "gave up after 5 attempts: HTTP 503 Service Unavailable",
}
NOTICE = {
    "fr": "avis teleport N42 : type d'avis inconnu 'teleport'",
    "nl": "bericht teleport N42: onbekend soort bericht 'teleport'",
    "de": "Hinweis teleport N42: unbekannte Hinweisart 'teleport'",
    "en": "teleport notice N42: unknown notice kind 'teleport'",
}
ABANDONED = {
    "fr": "(ses workers ont disparu) ; repris par l'exécution",
    "nl": "(haar workers zijn weg); overgenomen door uitvoering",
    "de": "(seine Worker sind weg); übernommen vom Lauf",
    "en": "(its workers are gone); taken over by run",
}
STALLED = {
    "fr": "la lecture de gent est en attente ; circuit federal:gent ouvert jusqu'au",
    "nl": "het ophalen van gent wacht nog; circuit federal:gent open tot",
    "de": "der Abruf von gent steht noch aus; Schutzschalter federal:gent offen bis",
    "en": "the pull of gent is pending; circuit federal:gent open until",
}
STALLED_START = {
    "fr": "aucun progrès depuis",
    "nl": "geen voortgang sinds",
    "de": "kein Fortschritt seit",
    "en": "no progress for",
}
OLD = "an older reason, stored before issue #19"  # no reason_text: shown as written


@pytest.fixture(scope="module")
def installation(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    root = tmp_path_factory.mktemp("stored-reasons")
    saved = dict(os.environ)
    for name in list(os.environ):
        if name.startswith("PIIS_"):
            del os.environ[name]
    settings = make_settings(root, "http://127.0.0.1:9")
    upgrade_database(settings.database_url)
    rt = Runtime(settings, extra_plugins=[PLUGIN])
    now = datetime.now(UTC)
    ids: dict[str, Any] = {}
    try:
        with rt.session() as s:
            s.add(SyncRun(id="run1", trigger="nightly", cpas_ids=["gent"], status="finished"))
            s.add(SyncRun(id="run2", trigger="manual", cpas_ids=["gent"], status="running"))
            s.add(RunConfig(run_id="run2", fingerprint="0123456789abcdef"))
            s.flush()
            record = SourceRecord(
                source="pipetest",
                record_id="D000001",
                kind="contract",
                modified_at=now,
                payload={"niss": NISS},
                cpas_bce="0212344959",
            )
            foreign = rt.host.foreign_record_problem("gent", record)
            assert foreign is not None and foreign.text is not None
            entries = [
                ("D000001", "map", problems_reason([foreign]), [foreign]),
                ("D000002", "process", poison_reason(3, f"build: WorkerLost: {NISS} died"), []),
                # what push.py / submit.py store when a side effect is given up, and notices.py
                # when a notice cannot be handled (its NoticeError's text)
                ("D000004", "push", gave_up_text(5, "HTTP 503 Service Unavailable"), []),
                (
                    "D000005",
                    "notice",
                    notice_failed_text(
                        "teleport", "N42", error_text(NoticeError(unknown_notice_text("teleport")))
                    ),
                    [],
                ),
            ]
            for record_id, stage, reason, problems in entries:
                quarantine(
                    s,
                    run_id="run1",
                    cpas_id="gent",
                    record_id=record_id,
                    stage=stage,
                    reason=reason,
                    problems=problems,
                )
            s.add(
                QuarantineEntry(
                    run_id="run1", cpas_id="gent", record_id="D000003", stage="map", reason=OLD
                )
            )
            s.commit()
            ids.update(
                {q.record_id: q.id for q in s.query(QuarantineEntry).order_by(QuarantineEntry.id)}
            )
        rt.__dict__["worker_node"] = "w1"
        assert run_is_fresh(rt, "run2") is False  # fails run2, saying why
        # run4 holds gent's lease and has not moved for two days: the next run closes it as
        # abandoned; that one is then left idle behind an open circuit: the watchdog stalls it
        long_ago = now - timedelta(days=2)
        with rt.session() as s:
            s.add(SyncRun(id="run4", trigger="nightly", cpas_ids=["gent"], started_at=long_ago))
            s.add(CpasLease(cpas_id="gent", run_id="run4"))
            s.commit()
        later = create_run(rt, cpas_ids=["gent"])
        assert later is not None
        with rt.session() as s:
            s.get_one(SyncRun, later).started_at = long_ago
            s.add(
                CircuitState(
                    remote="federal:gent", failures=4, opened_until=now + timedelta(hours=1)
                )
            )
            s.commit()
        assert sweep(rt, InlineEnqueuer(rt))["stalled"] == 1
        ids["stalled"] = later
        config = pipetest_config(root, "http://127.0.0.1:9", database_url=settings.database_url)
        os.environ["PIIS_CONFIG"] = str(config)
        os.environ["PIIS_EXTRA_PLUGINS"] = PLUGIN
        os.environ["PYTHONPATH"] = os.pathsep.join(
            filter(None, [str(ROOT), saved.get("PYTHONPATH")])
        )
        yield {"settings": settings, "rt": rt, "ids": ids}
    finally:
        rt.close()
        os.environ.clear()
        os.environ.update(saved)


def _cli(*args: str) -> str:
    result = CliRunner().invoke(
        build_app(), list(args), env={"COLUMNS": "400"}, catch_exceptions=False
    )
    assert result.exit_code == 0, result.output
    return result.output


def _text(output: str) -> str:
    return " ".join(output.replace("│", " ").split())


def test_the_english_column_is_as_before(installation: dict[str, Any]) -> None:
    rt = installation["rt"]
    with rt.session() as s:
        rows = {q.record_id: q for q in s.query(QuarantineEntry)}
        run = s.get(SyncRun, "run2")
        assert run is not None and run.status == "failed"
        error = run.report["error"]
        stored = json.dumps([q.reason_text for q in rows.values()] + [run.report])
    assert rows["D000001"].reason.startswith(
        "cpas: belongs to CPAS BCE 0212344959, not to cpas.gent (OCMW gent, BCE 0207567726, INS "
        "44021): refused before mapping"
    )
    assert rows["D000002"].reason == POISON["en"]
    assert rows["D000003"].reason_text is None
    assert error.startswith(STALE["en"] + " (fingerprint ")
    assert rows["D000004"].reason == GAVE_UP["en"] and rows["D000005"].reason == NOTICE["en"]
    with rt.session() as s:
        abandoned = s.get_one(SyncRun, "run4")
        stalled = s.get_one(SyncRun, installation["ids"]["stalled"])
        assert abandoned.status == "abandoned" and stalled.status == "stalled"
        assert abandoned.reason.startswith("no progress for more than ")
        assert abandoned.reason.endswith(ABANDONED["en"] + " " + stalled.id)
        assert stalled.reason.startswith("no progress for ")
        assert STALLED["en"] in stalled.reason and " UTC after 4 failures" in stalled.reason
        assert abandoned.report["reason_text"]["id"] and stalled.report["reason_text"]["id"]
    assert NISS not in stored  # the values are redacted like the text


@pytest.mark.parametrize("language", sorted(FOREIGN))
def test_quarantine_and_runs_show_say_the_stored_reason(
    installation: dict[str, Any], language: str
) -> None:
    ids = installation["ids"]
    listed = _cli("quarantine", "list", "--lang", language)
    foreign = _cli("quarantine", "show", str(ids["D000001"]), "--lang", language)
    poison = _cli("quarantine", "show", str(ids["D000002"]), "--lang", language)
    old = _cli("quarantine", "show", str(ids["D000003"]), "--lang", language)
    run = _cli("runs", "show", "run2", "--lang", language)
    text = _text(listed)
    assert FOREIGN[language] in text and POISON[language] in text and OLD in text
    assert FOREIGN[language] in _text(foreign) and POISON[language] in _text(poison)
    assert OLD in _text(old)
    assert STALE[language] in _text(run)
    assert GAVE_UP[language] in text and NOTICE[language] in text
    abandoned = _text(_cli("runs", "show", "run4", "--lang", language))
    stalled = _text(_cli("runs", "show", ids["stalled"], "--lang", language))
    assert ABANDONED[language] in abandoned
    assert STALLED_START[language] in stalled and STALLED[language] in stalled
    everything = listed + foreign + poison + old + run + abandoned + stalled
    assert NISS not in everything
    if language != "en":
        assert english_leaks(everything, language) == []
        assert "belongs to CPAS" not in everything and "poison record" not in everything
        assert "runs with another configuration" not in everything
        assert "gave up after" not in everything and "no progress for" not in everything
        assert "unknown notice kind" not in everything and "the pull of" not in everything


def test_json_is_the_same_in_every_language(installation: dict[str, Any]) -> None:
    outputs = {
        language: (
            _cli("quarantine", "list", "--json", "--lang", language),
            _cli("runs", "show", "run2", "--json", "--lang", language),
            _cli("runs", "show", "run4", "--json", "--lang", language),
            _cli("runs", "list", "--json", "--lang", language),
        )
        for language in sorted(FOREIGN)
    }
    assert len(set(outputs.values())) == 1
    entries = json.loads(outputs["en"][0])["entries"]
    assert [e["reason_text"] is not None for e in entries] == [True, True, True, True, False]
    assert json.loads(outputs["en"][1])["run"]["error"].startswith(STALE["en"])


@pytest.mark.parametrize("language", sorted(FOREIGN))
def test_the_console_quarantine_pages_say_it(installation: dict[str, Any], language: str) -> None:
    from starlette.testclient import TestClient

    from piis_bridge.console import accounts
    from piis_bridge.console.app import create_app

    settings, rt, ids = installation["settings"], installation["rt"], installation["ids"]
    user = f"reader_{language}"
    with rt.session() as s:
        accounts.add_user(s, user, PASSWORD, "viewer", ["gent"], actor="test", language=language)
        s.commit()
    c = TestClient(create_app(settings), base_url="https://testserver")
    login(c, user)
    listing = c.get("/quarantine")
    entry = c.get(f"/quarantine/{ids['D000001']}")
    poison = c.get(f"/quarantine/{ids['D000002']}")
    assert listing.status_code == entry.status_code == poison.status_code == 200
    for page in (listing.text, entry.text):
        assert FOREIGN[language] in _text(page.replace("&#39;", "'"))
    assert POISON[language] in _text(poison.text.replace("&#39;", "'"))
    assert OLD in listing.text
    assert NISS not in listing.text + entry.text + poison.text
    if language != "en":
        assert "belongs to CPAS" not in listing.text + entry.text
        assert "poison record" not in listing.text + poison.text
