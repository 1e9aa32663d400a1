"""``piis-bridge transfer`` speaks the CPAS's language: Charleroi (French) and Liège hand a PIIS over
through the real bridges of tests/transfer/test_two_bridges.py (mutual TLS, two case-system
simulators), and every command's output is read in the four languages.  ``--json`` keeps its keys,
codes and texts in every language."""

from __future__ import annotations

import json
from typing import Any

import pytest
from typer.testing import CliRunner

from piis_bridge.cli import build_app
from tests.i18n._leaks import english_leaks
from tests.transfer.test_two_bridges import (  # noqa: F401 - `bridges` is the fixture
    Bridge,
    bridges,
    charleroi_contract,
    detect_at,
)

SHOWN = {  # `transfer show` of the case at Charleroi after the consent, per language
    "fr": ("état : consentement donné", "consentements :", "donné par D. Renard via entretien",
           "en attente du consentement -> consentement donné", "transférabilité : transférable"),
    "nl": ("toestand: toestemming gegeven", "toestemmingen:", "gegeven door D. Renard via entretien",
           "wacht op toestemming -> toestemming gegeven", "overdraagbaarheid: overdraagbaar"),
    "de": ("Zustand: Zustimmung erteilt", "Zustimmungen:", "erteilt durch D. Renard über entretien",
           "wartet auf Zustimmung -> Zustimmung erteilt", "Übertragbarkeit: übertragbar"),
    "en": ("state: consent_given", "consents:", "GIVEN by D. Renard via entretien",
           "awaiting_consent -> consent_given", "eligibility: TRANSFERABLE"),
}  # fmt: skip
RECEIVED = {  # `transfer show` of the package at Liège, per language
    "fr": ("paquet :", "sanctions en cours :", "S2 : 19 jours, 10 févr. 2026 .. 28 févr. 2026",
           "bénéficiaire : ********", "état : accusé de réception reçu"),
    "nl": ("pakket:", "lopende sancties:", "S2: 19 dagen, 10 feb 2026 .. 28 feb 2026",
           "begunstigde: ********", "toestand: ontvangst bevestigd"),
    "de": ("Paket:", "laufende Sanktionen:", "S2: 19 Tage, 10.02.2026 .. 28.02.2026",
           "Leistungsempfänger: ********", "Zustand: Empfang bestätigt"),
    "en": ("package_id:", "continuing_sanctions:", "S2: 19 days, 2026-02-10 .. 2026-02-28",
           "beneficiary: ********", "state: acknowledged"),
}  # fmt: skip


def _cli(bridge: Bridge, *args: str, env: dict[str, str] | None = None) -> Any:
    return CliRunner().invoke(
        build_app(),
        ["transfer", *args, "--config", str(bridge.config)],
        env={"COLUMNS": "400", **(env or {})},
        catch_exceptions=False,
    )


def test_transfer_commands_in_each_language(bridges: Any) -> None:  # noqa: F811 - the fixture
    charleroi, liege = bridges
    case = detect_at(charleroi, charleroi_contract("sanction-history")).case
    # Charleroi is a French-speaking CPAS: without --lang its answers are in French
    fr_env = {"PIIS_CPAS__CHARLEROI__LANGUAGE": "fr"}
    result = _cli(
        charleroi, "consent", case.case_id, "--given", "--by", "D. Renard", "--channel",
        "entretien", env=fr_env,
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert (
        f"{case.case_id} : consentement donné enregistré ; état consentement donné" in result.output
    )
    outputs: dict[str, list[str]] = {lang: [] for lang in SHOWN}
    for lang in SHOWN:
        shown = _cli(charleroi, "show", case.case_id, "--lang", lang)
        assert shown.exit_code == 0, shown.output
        for text in SHOWN[lang]:
            assert text in shown.output, (lang, text, shown.output)
        outputs[lang].append(shown.output)
    sent = _cli(charleroi, "send", env=fr_env)
    assert sent.exit_code == 0, sent.output
    assert f"{case.case_id} : accepté (état accusé de réception reçu, tentatives 1)" in sent.output
    outputs["fr"].append(sent.output)
    (received,) = liege.service.list_received()
    for lang in RECEIVED:
        shown = _cli(liege, "show", received.package_id, "--lang", lang)
        assert shown.exit_code == 0, shown.output
        for text in RECEIVED[lang]:
            assert text in shown.output, (lang, text, shown.output)
        listed = _cli(charleroi, "list", "--lang", lang)
        title = {"fr": "cas de transfert", "nl": "overdrachtsgevallen"}.get(lang)
        assert title is None or title in listed.output
        nothing = _cli(charleroi, "send", "--lang", lang)
        assert {
            "fr": "rien à envoyer",
            "nl": "niets te verzenden",
            "de": "nichts zu senden",
            "en": "nothing to send",
        }[lang] in nothing.output
        redelivered = _cli(liege, "redeliver", "--lang", lang)
        assert redelivered.exit_code == 0
        outputs[lang] += [shown.output, listed.output, nothing.output, redelivered.output]
    assessed = _cli(
        liege, "assess", received.package_id, "--take", "C1", "--not", "C2=formation au Forem",
        "--by", "M. Lambert", "--lang", "de",
    )  # fmt: skip
    assert assessed.exit_code == 0, assessed.output
    assert f"{received.package_id}: Prüfung angenommen durch ZDU" in assessed.output
    outputs["de"].append(assessed.output)
    for lang in ("fr", "nl", "de"):
        assert english_leaks("\n".join(outputs[lang]), lang) == [], lang
    # JSON: the same keys, codes and texts whatever the language
    bodies = {
        lang: json.loads(_cli(charleroi, "show", case.case_id, "--json", "--lang", lang).output)
        for lang in ("en", "fr", "de")
    }
    assert bodies["en"] == bodies["fr"] == bodies["de"]
    assert bodies["fr"]["state"] == "acknowledged" or bodies["fr"]["state"] == "assessed"
    listed = {
        lang: json.loads(_cli(liege, "list", "--received", "--json", "--lang", lang).output)
        for lang in ("en", "nl")
    }
    assert listed["en"] == listed["nl"] and listed["nl"][0]["state"] == "assessment_acknowledged"


@pytest.mark.parametrize(
    ("language", "text"),
    [("fr", "indiquez exactement une option"), ("de", "geben Sie genau eine der Optionen")],
)
def test_a_usage_error_is_in_the_language(bridges: Any, language: str, text: str) -> None:  # noqa: F811
    charleroi, _ = bridges
    result = _cli(charleroi, "consent", "X", "--by", "a", "--channel", "b", "--lang", language)
    assert result.exit_code == 2 and text in result.output
