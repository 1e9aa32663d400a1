"""A rule finding is read in the reader's language: its template and values, rendered at the boundary.

The check functions record ``Finding.message_id`` (an English template marked ``N_``, a catalogue
msgid) and ``Finding.params`` (named values: ids, codes, dates, and words of the check's own as
``Msg``/``Join``); ``message`` stays the English text it always was.  Over the generated caseload of
the rules benchmark (every rule family) plus the examples, every finding must have a template of the
catalogue, render in French, Dutch and German without an English word phrase left, and its English
rendering must be ``message`` exactly.
"""

from __future__ import annotations

import re
import sys
from datetime import date
from pathlib import Path

import pytest
from babel.messages.pofile import read_po

from piis_bridge.i18n import N_, Join, Msg, placeholders, translator
from piis_bridge.i18n.catalog import po_path
from piis_bridge.i18n.findings import params_json, render, render_message
from piis_bridge.model import load_file
from piis_bridge.rules.engine import evaluate

_ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(_ROOT / "benchmarks"))

from bench_rules import generate  # noqa: E402
from check_rules_equivalence import variants  # noqa: E402

# English words that mean a phrase of a message was left untranslated (ids and codes are not words)
# ("was" is Dutch and German too)
_ENGLISH = re.compile(r"\b(the|were|has|have|not|after|before|without|signed on|missing|of the)\b")


@pytest.fixture(scope="module")
def findings() -> list:
    generated = generate(400)
    examples = [
        (c, date(2026, 11, 22))
        for p in sorted((_ROOT / "examples").glob("*.json"))
        for c in load_file(p).contracts
    ]
    out = []
    for contract, on in [*generated, *variants(generated), *examples]:
        out.extend(evaluate(contract, on=on).findings)
    return out


def _msgids(language: str) -> set[str]:
    with po_path(language).open("rb") as fh:
        return {m.id for m in read_po(fh) if m.id and m.string}


def _templates(value: object) -> list[str]:
    """The templates of the nested phrases of one value."""
    if isinstance(value, Msg):
        return [value.id, *(t for _, v in value.params for t in _templates(v))]
    if isinstance(value, Join):  # a separator with words ("and") is a template; punctuation is not
        seps = [value.sep] if re.search(r"[a-z]", value.sep) else []
        return [*seps, *(t for v in value.items for t in _templates(v))]
    return []


def test_every_finding_has_a_translated_template_and_its_english_is_the_message(
    findings: list,
) -> None:
    assert len(findings) > 1000
    ids = {f.message_id for f in findings}
    assert (
        len(ids) > 20
    )  # the caseload reaches messages of every family (all templates: test_catalogues)
    for language in ("fr", "nl", "de"):
        known = _msgids(language)
        assert sorted(i for i in ids if i not in known) == [], language
        nested = {t for f in findings for _, v in f.params for t in _templates(v)}
        assert sorted(t for t in nested if t not in known) == [], language
    for f in findings:
        assert placeholders(f.message_id) == {name for name, _ in f.params}
        assert render(f, translator("en")) == f.message
        assert render_message(f.message_id, f.params, translator("en")) == f.message


@pytest.mark.parametrize("language", ["fr", "nl", "de"])
def test_every_finding_renders_in_the_language_without_english_phrases(
    findings: list, language: str
) -> None:
    t = translator(language)
    left = set()
    for f in findings:
        text = render(f, t)
        assert text != f.message, (language, f.message)
        if _ENGLISH.search(text):
            left.add((f.message_id, text))
    assert sorted(left) == [], language


REPORT = {  # the R-EVA-06 finding of the sanction-history example, 2026-04-06 in each Belgian format
    "en": "Contract CHA-2025-0410: ended on 2026-04-06 without a final evaluation.",
    "fr": "Contrat CHA-2025-0410 : terminé le 6 avr. 2026 sans évaluation finale.",
    "nl": "Contract CHA-2025-0410: beëindigd op 6 apr 2026 zonder eindevaluatie.",
    "de": "Vertrag CHA-2025-0410: am 06.04.2026 beendet ohne abschließende Auswertung.",
}


@pytest.mark.parametrize("language", sorted(REPORT))
def test_a_rules_report_finding_in_each_language(language: str) -> None:
    [contract] = load_file(_ROOT / "examples" / "sanction-history.json").contracts
    report = evaluate(contract, on=date(2026, 11, 22))
    [finding] = report.by_rule("R-EVA-06")
    assert finding.message == REPORT["en"]  # the report itself stays English and language-neutral
    assert finding.message_id == "Contract {contract}: ended on {end} without a final evaluation."
    assert params_json(finding.params) == {"contract": "CHA-2025-0410", "end": "2026-04-06"}
    assert render(finding, translator(language)) == REPORT[language]
    assert "message_id" not in report.to_json_dict()["findings"][0]  # the stable JSON is unchanged


def test_nested_phrases_and_lists_are_written_in_the_language() -> None:
    who = Join(N_(" and "), [N_("the person"), N_("the CPAS")])
    assert f"{who}" == "the person and the CPAS"
    template = "Contract {contract}: community service without the agreement of {absent}."
    params = (("contract", "LGE-1"), ("absent", who))
    assert render_message(template, params, translator("en")) == (
        "Contract LGE-1: community service without the agreement of the person and the CPAS."
    )
    assert render_message(template, params, translator("nl")) == (
        "Contract LGE-1: gemeenschapsdienst zonder het akkoord van de persoon en het OCMW."
    )
    refusal = Msg("refusal of {date}", date=date(2026, 3, 2))
    assert str(refusal) == "refusal of 2026-03-02"
    assert render_message(
        "Contract {contract}: the review of the {what} found {found} but maintained the refusal.",
        (
            ("contract", "X"),
            ("what", refusal),
            ("found", Join(N_(" and "), [N_("health/equity reasons")])),
        ),
        translator("de"),
    ) == (
        "Vertrag X: die Prüfung der Ablehnung vom 02.03.2026 hat Gesundheits- oder Billigkeitsgründe festgestellt, "
        "aber die Verweigerung beibehalten."
    )
    assert params_json((("what", refusal), ("who", who))) == {
        "what": {"id": "refusal of {date}", "params": {"date": "2026-03-02"}},
        "who": {"join": " and ", "items": ["the person", "the CPAS"]},
    }


def test_a_plugin_finding_without_a_template_is_shown_as_written() -> None:
    from piis_bridge.rules.report import Finding, Level

    plain = Finding(
        rule_id="LOCAL-1",
        level=Level.WARNING,
        severity="X",
        message="Local text {not a field}",
        citation="local",
    )
    assert render(plain, translator("fr")) == "Local text {not a field}"
