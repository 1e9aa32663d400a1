"""The rules commands speak the requested language; their JSON stays language-neutral.

``--lang`` per command or on the root command, else the configured CPAS's ``language``.  Rule ids,
citations, codes, field paths and ISO dates are the same in every language; in JSON the texts in the
language are *added* keys (``title``, ``label_text``, ``question_text``, ``title_text``, ``language``).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from piis_bridge.cli import build_app

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = sorted(str(p) for p in (ROOT / "examples").glob("*.json"))
SANCTIONS = str(ROOT / "examples" / "sanction-history.json")
ADDED = {
    "language",
    "title",
    "label_text",
    "question_text",
    "message_language",
    "title_text",
    "status_text",
    "evidence_found_text",
    "evidence_missing_text",
    "message_id",
    "params",
    "message_text",
}


@pytest.fixture(scope="module")
def app():  # noqa: ANN201
    return build_app()


def _run(app: Any, *args: str, env: dict[str, str] | None = None):  # noqa: ANN202
    return CliRunner().invoke(
        app, list(args), env={"COLUMNS": "400", **(env or {})}, catch_exceptions=False
    )


REPORT = {  # what a social worker reads for the sanction-history example, per language
    "nl": [
        "OCMW 52011  op 22 nov 2026",
        "begunstigde: GPMI verplicht",
        "Contract CHA-2025-0410: beëindigd op 6 apr 2026 zonder eindevaluatie.",
        "uiterste datum voor ondertekening van het GPMI",
        "sanctie S1: einde van de periode van uitstel",
        "waarschuwing",
        "nageleefd",
        "1 contract(en), 0 met wettelijke fouten, 0 fout(en), 1 waarschuwing(en)",
    ],
    "fr": [
        "CPAS 52011  au 22 nov. 2026",
        "bénéficiaire : PIIS obligatoire",
        "Contrat CHA-2025-0410 : terminé le 6 avr. 2026 sans évaluation finale.",
        "date limite de signature du PIIS",
        "sanction S1 : fin du délai de sursis",
        "avertissement",
        "respecté",
        "1 contrat(s), 0 avec erreurs légales",
    ],
    "de": [
        "ÖSHZ 52011  am 22.11.2026",
        "Leistungsempfänger: IPSE verpflichtend",
        "Vertrag CHA-2025-0410: am 06.04.2026 beendet ohne abschließende Auswertung.",
        "Frist für die Unterzeichnung des IPSE",
        "Sanktion S1: Ende der Aufschubfrist",
        "Warnung",
        "eingehalten",
        "1 Vertrag/Verträge, 0 mit Rechtsfehlern",
    ],
    "en": [
        "CPAS 52011  as of 2026-11-22",
        "beneficiary: PIIS mandatory",
        "Contract CHA-2025-0410: ended on 2026-04-06 without a final evaluation.",
        "PIIS signature deadline",
        "sanction S1: sursis period ends",
        "warning",
        "met",
        "1 contract(s), 0 with legal errors",
    ],
}


@pytest.mark.parametrize("language", sorted(REPORT))
def test_rules_check_report_in_each_language(app: Any, language: str) -> None:
    result = _run(
        app, "rules", "check", SANCTIONS, "--on", "2026-11-22", "--no-plugins", "--lang", language
    )
    assert result.exit_code == 0, result.output
    for text in REPORT[language]:
        assert text in result.stdout, (language, text)
    if language != "en":  # the finding is written in the language, not English
        assert "ended on" not in result.stdout and "final evaluation" not in result.stdout
    # ids and citations are the same in every language
    for text in ("CHA-2025-0410", "R-EVA-06", "[003 L19-20]", "R-SAN-09", "U25_EMPLOYMENT_PROJECT"):
        assert text in result.stdout


def test_rules_check_lang_nl_output(app: Any) -> None:
    """The proof asked by the issue: `piis-bridge rules check --lang nl`."""
    result = _run(
        app, "rules", "check", *EXAMPLES, "--on", "2026-11-22", "--no-plugins", "--lang", "nl"
    )
    assert result.exit_code == 0
    out = result.stdout
    assert "5 contract(en), 0 met wettelijke fouten" in out
    assert "Vaststelling" in out and "Bron" in out and "Wat" in out
    assert "examenresultaten 2025-2026 te bezorgen aan het OCMW" in out
    assert "as of" not in out and "PIIS signature deadline" not in out


def test_the_root_option_and_the_configuration_choose_the_language(
    app: Any, tmp_path: Path
) -> None:
    root = _run(
        app, "--lang", "de", "rules", "check", SANCTIONS, "--on", "2026-11-22", "--no-plugins"
    )
    assert (
        "Vertrag CHA-2025-0410: am 06.04.2026 beendet ohne abschließende Auswertung." in root.stdout
    )
    config = tmp_path / "piis-bridge.toml"
    config.write_text(
        '[cpas.gent]\nname = "OCMW Gent"\nins_code = "44021"\nbce = "0207916035"\nlanguage = "nl"\n'
        'federal = ""\ntransfer = ""\n',
        encoding="utf-8",
    )
    env = {"PIIS_CONFIG": str(config)}
    configured = _run(
        app, "rules", "check", SANCTIONS, "--on", "2026-11-22", "--no-plugins", env=env
    )
    assert (
        "Contract CHA-2025-0410: beëindigd op 6 apr 2026 zonder eindevaluatie." in configured.stdout
    )
    override = _run(
        app,
        "rules",
        "check",
        SANCTIONS,
        "--on",
        "2026-11-22",
        "--no-plugins",
        "--lang",
        "fr",
        env=env,
    )
    assert (
        "Contrat CHA-2025-0410 : terminé le 6 avr. 2026 sans évaluation finale." in override.stdout
    )


def test_an_unknown_language_is_refused_with_the_fix(app: Any) -> None:
    result = _run(app, "rules", "check", SANCTIONS, "--no-plugins", "--lang", "wa")
    assert result.exit_code == 2
    text = " ".join(result.output.replace("│", " ").split())
    assert (
        "--lang" in text
        and "unsupported language 'wa'" in text
        and '"fr", "nl", "de", "en"' in text
    )


def _strip(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _strip(v) for k, v in value.items() if k not in ADDED}
    if isinstance(value, list):
        return [_strip(v) for v in value]
    return value


def test_check_json_is_language_neutral_with_the_texts_added_in_the_language(app: Any) -> None:
    bodies = {
        lang: json.loads(
            _run(
                app,
                "rules",
                "check",
                *EXAMPLES,
                "--on",
                "2026-11-22",
                "--json",
                "--no-plugins",
                "--lang",
                lang,
            ).stdout
        )
        for lang in ("en", "nl", "de")
    }
    assert _strip(bodies["nl"]) == _strip(bodies["en"]) == _strip(bodies["de"])
    report = next(r for r in bodies["nl"]["reports"] if r["contract_id"] == "CHA-2025-0410")
    [finding] = [f for f in report["findings"] if f["rule_id"] == "R-EVA-06"]
    assert finding["title"] == "Eindevaluatie bij het einde van het contract"
    # the English message stays; the template, its language-neutral values and the text in the language are added
    assert (
        finding["message"]
        == "Contract CHA-2025-0410: ended on 2026-04-06 without a final evaluation."
    )
    assert (
        finding["message_id"] == "Contract {contract}: ended on {end} without a final evaluation."
    )
    assert finding["params"] == {"contract": "CHA-2025-0410", "end": "2026-04-06"}  # ISO date
    assert (
        finding["message_text"]
        == "Contract CHA-2025-0410: beëindigd op 6 apr 2026 zonder eindevaluatie."
    )
    assert finding["message_language"] == "nl"
    english = next(r for r in bodies["en"]["reports"] if r["contract_id"] == "CHA-2025-0410")
    [en_finding] = [f for f in english["findings"] if f["rule_id"] == "R-EVA-06"]
    assert (
        en_finding["message_text"] == en_finding["message"]
        and en_finding["message_language"] == "en"
    )
    assert (
        en_finding["params"] == finding["params"]
        and en_finding["message_id"] == finding["message_id"]
    )
    dates = {d["label"]: d for d in report["dates"]}
    assert (
        dates["PIIS signature deadline"]["label_text"]
        == "uiterste datum voor ondertekening van het GPMI"
    )
    assert dates["PIIS signature deadline"]["date"] == "2025-06-12"  # ISO in every language
    items = report["sections"]["inspection"]["items"]
    assert (
        items[3]["item"] == "I-04"
        and items[3]["question_text"] == "Hebben de partijen ondertekend?"
    )
    assert items[3]["evidence_found_text"] == [
        "handtekening van de begunstigde",
        "handtekening van het OCMW",
    ]
    assert items[3]["evidence_found"] == ["signature of the beneficiary", "signature of the cpas"]
    assert items[3]["status"] == "pass" and items[3]["status_text"] == "in orde"
    assert bodies["nl"]["language"] == report["language"] == "nl"


@pytest.mark.parametrize(
    ("language", "title", "row"),
    [
        ("fr", "Agenda du 1 nov. 2026 au 31 mars 2027 : 6 élément(s)", "évaluation prévue"),
        ("nl", "Agenda van 1 nov 2026 tot 31 mrt 2027: 6 item(s)", "geplande evaluatie"),
        (
            "de",
            "Terminplan vom 01.11.2026 bis 31.03.2027: 6 Eintrag/Einträge",
            "geplante Auswertung",
        ),
        ("en", "Agenda 2026-11-01 to 2026-03-31", "planned evaluation"),
    ],
)
def test_agenda_in_each_language(app: Any, language: str, title: str, row: str) -> None:
    result = _run(
        app,
        "rules",
        "agenda",
        *EXAMPLES,
        "--from",
        "2026-11-01",
        "--to",
        "2027-03-31",
        "--overdue",
        "--lang",
        language,
    )
    assert result.exit_code == 0
    if language == "en":
        title = "Agenda 2026-11-01 to 2027-03-31: 6 item(s)"
    assert title in result.stdout and row in result.stdout
    assert "R-EVA-01" in result.stdout and "NAM-2026-0033" in result.stdout


def test_agenda_json_keeps_ids_codes_and_iso_dates(app: Any) -> None:
    args = ("rules", "agenda", *EXAMPLES, "--from", "2026-11-01", "--to", "2027-03-31", "--json")
    en, de = (json.loads(_run(app, *args, "--lang", lang).stdout) for lang in ("en", "de"))
    assert _strip(en) == _strip(de)
    item = next(i for i in de["items"] if i["label"] == "planned evaluation")
    assert (
        item["label_text"] == "geplante Auswertung"
        and item["kind"] == "event"
        and len(item["date"]) == 10
    )
    # in English the existing fields are the texts: an English agenda item has exactly its documented keys
    assert set(en["items"][0]) == {
        "date",
        "contract_id",
        "cpas_ins",
        "rule_id",
        "kind",
        "label",
        "citation",
    }


def test_rules_list_and_subsidy_in_the_language(app: Any) -> None:
    from piis_bridge.rules.registry import build_registry

    listed = _run(app, "rules", "list", "--no-plugins", "--lang", "de").stdout
    assert f"IPSE-Regeln ({len(build_registry())})" in listed
    assert "Eine Inverzugsetzung geht jeder Sanktion voraus" in listed
    rows = json.loads(_run(app, "rules", "list", "--json", "--no-plugins", "--lang", "fr").stdout)
    row = next(r for r in rows if r["id"] == "R-SAN-09")
    assert row["title"].startswith("Sursis: applied")  # the registry's English title stays
    assert row["title_text"].startswith("Sursis : appliqué au plus tard")
    subsidy = _run(app, "rules", "subsidy", SANCTIONS, "--lang", "nl").stdout
    assert "totaal EUR 788,49" in subsidy and "leefloon (EUR)" in subsidy and "876,13" in subsidy
    # the schedule's notes in the reader's language, not the English text labelled "(English)"
    studies = str(ROOT / "examples" / "studies.json")
    english = _run(app, "rules", "subsidy", studies, "--lang", "en").stdout
    dutch = _run(app, "rules", "subsidy", studies, "--lang", "nl").stdout
    assert "note: no monthly RI records" in english
    assert "opmerking: geen maandelijkse gegevens over het leefloon" in dutch
    assert "no monthly RI records" not in dutch and "(English)" not in dutch


def test_the_inspection_checklist_in_the_language(app: Any) -> None:
    studies = str(ROOT / "examples" / "studies.json")
    out = _run(
        app,
        "rules",
        "check",
        studies,
        "--on",
        "2026-11-22",
        "--no-plugins",
        "--inspection",
        "--lang",
        "fr",
    ).stdout
    for text in (
        "Liste de contrôle de l'inspection",
        "Existe-t-il un bilan social des besoins de la personne ?",
        "bilan social du 25 août 2025 par L. Peeters",
        "délai au 20 nov. 2025",
        "signé le 15 sept. 2025",
        "total du plan de subvention 4\u202f862,54 EUR",
        "conforme",
        "sans objet",
        "I-11",
    ):
        assert text in out, text
    english = _run(
        app, "rules", "check", studies, "--on", "2026-11-22", "--no-plugins", "--inspection"
    ).stdout
    assert (
        "subsidy schedule total 4862.54 EUR" in english
        and "needs assessment of 2025-08-25" in english
    )
