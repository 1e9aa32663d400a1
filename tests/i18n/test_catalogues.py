"""The four catalogues are complete and keep every placeholder; the check catches what it must."""

from __future__ import annotations

import shutil
from pathlib import Path

from babel.messages.pofile import read_po, write_po

from piis_bridge.i18n import LOCALE_DIR, LOCALES, translator
from piis_bridge.i18n.catalog import check, po_path, template
from piis_bridge.rules.registry import load_core_rules


def test_every_message_is_translated_in_the_four_languages_with_its_placeholders() -> None:
    assert check() == []


def test_the_template_holds_every_rule_title_by_rule_id() -> None:
    tmpl = template()
    rules = list(load_core_rules())
    assert len(rules) >= 148
    for rule in rules:
        assert tmpl.get(rule.title, context=rule.id) is not None, rule.id


def test_the_committed_template_is_up_to_date() -> None:
    """`python -m piis_bridge.i18n update` was run after the last change of an English text."""
    with (LOCALE_DIR / "piis_bridge.pot").open("rb") as fh:
        committed = read_po(fh)
    fresh = template()
    key = lambda m: (m.context, m.id if isinstance(m.id, str) else tuple(m.id))  # noqa: E731
    assert {key(m) for m in committed if m.id} == {key(m) for m in fresh if m.id}


def _edit(root: Path, language: str, change) -> None:  # noqa: ANN001
    path = po_path(language, root)
    with path.open("rb") as fh:
        cat = read_po(fh, locale=LOCALES[language])
    change(cat)
    with path.open("wb") as fh:
        write_po(fh, cat)


def test_the_check_fails_on_a_missing_a_fuzzy_and_an_unfaithful_translation(tmp_path: Path) -> None:
    root = tmp_path / "locale"
    shutil.copytree(LOCALE_DIR, root)
    before = set(
        check(locale_dir=root)
    )  # empty, unless a rule title changed and awaits its translation

    def drop_placeholder(cat) -> None:  # noqa: ANN001
        cat.get("Federal answer: {answer}").string = "Réponse fédérale"

    def add_placeholder(cat) -> None:  # noqa: ANN001
        cat.get("INS {ins}").string = "NIS {ins} {gemeente}"

    def remove(cat) -> None:  # noqa: ANN001
        cat.delete("Old contract {contract} ended on {date}.")

    def fuzzy(cat) -> None:  # noqa: ANN001
        cat.get("Did the parties sign?", context="I-04").flags.add("fuzzy")

    def empty(cat) -> None:  # noqa: ANN001
        msg = cat.get("A formal warning precedes any sanction", context="R-SAN-03")
        msg.string = ""

    _edit(root, "fr", drop_placeholder)
    _edit(root, "nl", add_placeholder)
    _edit(root, "de", remove)
    _edit(root, "de", fuzzy)
    _edit(root, "nl", empty)
    problems = [p for p in check(locale_dir=root) if p not in before]
    assert len(problems) == 5, problems
    text = "\n".join(problems)
    assert "fr: 'Federal answer: {answer}': translation 'Réponse fédérale' drops {answer}" in text
    assert "nl: 'INS {ins}': translation 'NIS {ins} {gemeente}' adds {gemeente}" in text
    assert "de: 'Old contract {contract} ended on {date}.': not in the catalogue" in text
    assert "de: [I-04] 'Did the parties sign?': fuzzy" in text
    assert "nl: [R-SAN-03] 'A formal warning precedes any sanction': no translation" in text


def test_plural_forms_follow_the_count_in_each_language() -> None:
    singular = "Transfer reviewed by the new CPAS: {n} commitment taken over"
    plural = "Transfer reviewed by the new CPAS: {n} commitments taken over"
    expected = {
        "fr": ("1 engagement repris", "2 engagements repris"),
        "nl": ("1 verbintenis overgenomen", "2 verbintenissen overgenomen"),
        "de": ("1 Verpflichtung übernommen", "2 Verpflichtungen übernommen"),
        "en": ("1 commitment taken over", "2 commitments taken over"),
    }
    for language, (one, two) in expected.items():
        t = translator(language)
        assert t.ngettext(singular, plural, 1).endswith(one)
        assert t.ngettext(singular, plural, 2).endswith(two)
