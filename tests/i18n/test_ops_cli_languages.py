"""``runs``, ``quarantine``, ``forms list``, ``rules share`` and ``rules agenda --by-month`` speak the
CPAS's language; ``--json`` is the same in every language.

The runs and quarantined records are those of one real nightly run (embedded worker, the pipeline
tests' remote, a record in four refused by the mapping); every command is run through the real CLI
in the four languages, and its French, Dutch and German output must contain none of the command's
English texts (:mod:`tests.i18n._leaks`)."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from piis_bridge.cli import build_app
from piis_bridge.migrations import upgrade_database
from piis_bridge.pipeline import run_nightly
from tests.i18n._leaks import english_leaks
from tests.pipeline.conftest import PLUGIN, make_settings, pipetest_config
from tests.pipeline.remote import Remote, RemoteState

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = sorted(str(p) for p in (ROOT / "examples").glob("*.json"))


def _config(root: Path, url: str, language: str | None = None) -> Path:
    return pipetest_config(root, url, language=language)


@pytest.fixture(scope="module")
def installation(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    """One finished run with six quarantined records, and the configuration that reads it."""
    root = tmp_path_factory.mktemp("ops-i18n")
    saved = dict(os.environ)
    for name in list(os.environ):
        if name.startswith("PIIS_"):
            del os.environ[name]
    os.environ["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), saved.get("PYTHONPATH")]))
    try:
        with Remote(RemoteState(24, bad_every=4)) as remote:
            settings = make_settings(root, remote.url)
            upgrade_database(settings.database_url)
            summary = run_nightly(settings, extra_plugins=[PLUGIN], timeout=120)
            assert summary.status == "finished", summary
            os.environ["PIIS_CONFIG"] = str(_config(root, remote.url))
            os.environ["PIIS_EXTRA_PLUGINS"] = PLUGIN
            yield {"root": root, "run_id": summary.run_id, "url": remote.url}
    finally:
        os.environ.clear()
        os.environ.update(saved)


def _cli(*args: str, env: dict[str, str] | None = None) -> tuple[int, str]:
    result = CliRunner().invoke(
        build_app(), list(args), env={"COLUMNS": "400", **(env or {})}, catch_exceptions=False
    )
    return result.exit_code, result.output


def _text(output: str) -> str:
    return " ".join(output.replace("│", " ").split())


RUNS = {  # what `runs list` and `runs show` say, per language
    "fr": ["exécution", "déclencheur", "terminée", "manuel", "dossiers lus", "Étapes",
           "circuits ouverts : aucun", "dossiers de cette exécution en quarantaine"],
    "nl": ["uitvoering", "aanleiding", "afgelopen", "handmatig", "dossiers opgehaald", "Fasen",
           "open circuits: geen", "dossiers van deze uitvoering in quarantaine"],
    "de": ["Lauf", "Auslöser", "beendet", "manuell", "Akten geholt", "Stufen",
           "offene Schutzschalter: keine", "Akten dieses Laufs in Quarantäne"],
    "en": ["run", "trigger", "finished", "manual", "records fetched", "Stages",
           "open circuits: none", "quarantined records of this run"],
}  # fmt: skip


@pytest.mark.parametrize("language", sorted(RUNS))
def test_runs_list_and_show_in_each_language(installation: dict[str, Any], language: str) -> None:
    run_id = installation["run_id"]
    code, listed = _cli("runs", "list", "--lang", language)
    assert code == 0, listed
    code, shown = _cli("runs", "show", run_id, "--lang", language)
    assert code == 0, shown
    text = _text(listed + shown)
    for expected in RUNS[language]:
        assert expected in text, (language, expected)
    assert run_id in listed and "D000004" in shown  # ids are the same in every language
    if language != "en":
        assert english_leaks(listed + shown, language) == []
    code, missing = _cli("runs", "show", "no-such-run", "--lang", language)
    assert (
        code == 1
        and {
            "fr": "aucune exécution no-such-run",
            "nl": "geen uitvoering no-such-run",
            "de": "kein Lauf no-such-run",
            "en": "no run no-such-run",
        }[language]
        in missing
    )


QUARANTINE = {
    "fr": ("quarantaine (ouverte)", "motif", "ouverte", "statut=ouverte", "motif : ", "classée"),
    "nl": ("quarantaine (open)", "reden", "open", "status=open", "reden: ", "afgesloten"),
    "de": ("Quarantäne (offen)", "Grund", "offen", "Status=offen", "Grund: ", "abgeschlossen"),
    "en": ("quarantine (open)", "reason", "open", "status=open", "reason: ", "dismissed"),
}


@pytest.mark.parametrize("language", sorted(QUARANTINE))
def test_quarantine_list_show_and_dismiss_in_each_language(
    installation: dict[str, Any], language: str
) -> None:
    title, column, status, show_status, reason, dismissed = QUARANTINE[language]
    code, listed = _cli("quarantine", "list", "--lang", language)
    assert code == 0, listed
    assert title in listed and column in listed and status in listed
    code, out = _cli("quarantine", "list", "--json", "--lang", language)
    entries = json.loads(out)["entries"]
    assert {e["status"] for e in entries} == {"open"}  # JSON: codes, in every language
    entry = entries[0]["id"]
    code, shown = _cli("quarantine", "show", str(entry), "--lang", language)
    assert code == 0 and show_status in shown and reason in shown, shown
    code, closed = _cli(
        "quarantine", "dismiss", str(entry), "--reason", f"test {language}", "--lang", language
    )
    assert code == 0 and f"test {language}" in closed, closed
    code, every = _cli("quarantine", "list", "--all", "--lang", language)
    assert dismissed in every
    if language != "en":
        assert english_leaks(listed + shown + closed + every, language) == []


def test_the_json_of_runs_and_quarantine_is_the_same_in_every_language(
    installation: dict[str, Any],
) -> None:
    run_id = installation["run_id"]
    for args in (("runs", "list", "--json"), ("quarantine", "list", "--all", "--json")):
        bodies = {lang: json.loads(_cli(*args, "--lang", lang)[1]) for lang in ("en", "fr", "de")}
        assert bodies["en"] == bodies["fr"] == bodies["de"], args
    shown = {
        lang: json.loads(_cli("runs", "show", run_id, "--json", "--lang", lang)[1])
        for lang in ("en", "nl")
    }
    for body in shown.values():
        body.pop("elapsed_seconds", None)
        body["run"].pop("seconds", None)
        body.get("waiting", {}).pop("checked_at", None)
    assert shown["en"]["run"] == shown["nl"]["run"]
    assert shown["en"]["counts"] == shown["nl"]["counts"]
    assert shown["en"]["quarantined"] == shown["nl"]["quarantined"]


def test_forms_list_and_quarantine_follow_the_cpas_language(
    installation: dict[str, Any], tmp_path: Path
) -> None:
    """No --lang: the CPAS's own ``language`` setting (here the one CPAS, gent = Dutch)."""
    config = _config(installation["root"], installation["url"], "nl")
    env = {"PIIS_CONFIG": str(config)}
    code, out = _cli("forms", "list", "--cpas", "gent", "--status", "refused", env=env)
    assert (code, out) == (0, "formulieren van gent, geweigerd: geen\n")
    code, out = _cli("forms", "list", "--cpas", "gent", "--lang", "de", env=env)
    assert code == 0 and out.startswith("Formulare von gent: keine"), out
    code, out = _cli("quarantine", "list", "--cpas", "gent", "--all", env=env)
    assert code == 0 and "quarantaine" in out and "reden" in out, out
    code, out = _cli("--lang", "fr", "runs", "list", env=env)  # the root option wins
    assert code == 0 and "déclencheur" in out
    code, out = _cli("runs", "list", "--lang", "wa", env=env)
    assert code == 2 and "unsupported language 'wa'" in _text(out)


SHARE = {
    "fr": ("part des bénéficiaires du RI ayant un PIIS", "palier suivant", "annoncé", "%"),
    "nl": ("aandeel leefloongerechtigden met een GPMI", "volgende schijf", "aangekondigd", "%"),
    "de": ("Anteil der Empfänger des Eingliederungseinkommens mit einem IPSE", "nächste Stufe",
           "angekündigt", "%"),
    "en": ("share of RI beneficiaries with a PIIS", "next tier", "announced", "%"),
}  # fmt: skip


@pytest.mark.parametrize("language", sorted(SHARE))
def test_rules_share_and_the_signing_wave_in_each_language(language: str) -> None:
    title, column, regime, percent = SHARE[language]
    code, share = _cli(
        "rules", "share", "--cpas", "52011", "--beneficiaries", "200", "--with-piis", "37",
        "--ri-base-cents", "123456789", "--year", "2028", "--on", "2028-06-30",
        "--lang", language,
    )  # fmt: skip
    assert code == 0, share
    text = _text(share)
    assert title in text and column in text and regime in text and percent in text, text
    if language != "en":
        assert "18,5" in text  # 37 of 200, written as the language writes it
    code, wave = _cli(
        "rules", "agenda", *EXAMPLES, "--from", "2025-01-01", "--to", "2025-12-31",
        "--by-month", "--on", "2025-06-01", "--lang", language,
    )  # fmt: skip
    assert code == 0, wave
    expected = {
        "fr": "Signatures de PIIS attendues par mois, à risque au 1 juin 2025",
        "nl": "Te ondertekenen GPMI per maand, met risico op 1 jun 2025",
        "de": "Fällige IPSE-Unterzeichnungen pro Monat, gefährdet am 01.06.2025",
        "en": "PIIS signatures due per month, at risk on 2025-06-01",
    }[language]
    assert expected in _text(wave), wave
    if language != "en":
        assert english_leaks(share + wave, language) == []
    code, share_json = _cli(
        "rules", "share", "--cpas", "52011", "--beneficiaries", "200", "--with-piis", "37",
        "--year", "2028", "--on", "2028-06-30", "--json", "--lang", language,
    )  # fmt: skip
    assert json.loads(share_json)["years"][0]["regime"] in ("announced", "flat", "adopted")


def test_run_prints_its_progress_and_summary_in_the_language(
    installation: dict[str, Any],
) -> None:
    """Last in this module: a second real run (embedded worker) through `piis-bridge run --lang nl`."""
    code, out = _cli("run", "--lang", "nl", "--timeout", "120")
    text = _text(out)
    assert "Uitvoering" in text and "afgelopen" in text, out  # "Run <id> — finished in ... s"
    for expected in (
        "dossiers opgehaald",
        "identieke herhalingen",
        "federale formulieren beantwoord",
    ):
        assert expected in text, expected
    assert english_leaks(out, "nl") == []
    assert code == 0, out
