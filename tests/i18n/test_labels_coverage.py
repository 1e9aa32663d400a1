"""Every computed-date label and every inspection evidence text the engine writes has a translated shape.

Why over a generated caseload: labels carry values (sanction ids, dates, counts, subsidy kinds), and the
generator of the rules benchmark varies every family (sanctions with sursis, transfers, studies, local
evidence...).  A label of a new shape fails here until it is added to ``piis_bridge.i18n.labels`` and
translated, instead of reaching a social worker in English.
"""

from __future__ import annotations

import sys
from datetime import date
from pathlib import Path

from piis_bridge.i18n import translator
from piis_bridge.i18n.evidence import evidence_message, translate_evidence
from piis_bridge.i18n.labels import label_message, translate_label
from piis_bridge.model import load_file
from piis_bridge.rules.agenda import agenda
from piis_bridge.rules.engine import evaluate

_ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(_ROOT / "benchmarks"))

from bench_rules import generate  # noqa: E402
from check_rules_equivalence import variants  # noqa: E402


def _caseload() -> list[tuple[object, date]]:
    generated = generate(400)
    examples = [
        (c, date(2026, 11, 22))
        for p in sorted((_ROOT / "examples").glob("*.json"))
        for c in load_file(p).contracts
    ]
    return [*generated, *variants(generated), *examples]


def test_every_label_of_reports_and_agenda_is_recognised_and_translated() -> None:
    cases = _caseload()
    labels = {d.label for c, on in cases for d in evaluate(c, on=on).dates}
    labels |= {
        i.label
        for i in agenda([c for c, _ in cases], date(2010, 1, 1), date(2035, 12, 31), overdue=True)
    }
    assert len(labels) > 50
    unknown = sorted(label for label in labels if label_message(label) is None)
    assert unknown == []
    for language in ("fr", "nl", "de"):
        t = translator(language)
        untranslated = [label for label in labels if translate_label(label, t) == label]
        assert untranslated == [], language


def test_every_inspection_evidence_text_is_recognised_and_translated() -> None:
    texts = set()
    for contract, on in _caseload():
        for item in evaluate(contract, on=on).sections["inspection"]["items"]:
            texts.update(item["evidence_found"], item["evidence_missing"])
    assert len(texts) > 40
    assert sorted(text for text in texts if evidence_message(text) is None) == []
    for language in ("fr", "nl", "de"):
        t = translator(language)
        assert [text for text in texts if translate_evidence(text, t) == text] == [], language
