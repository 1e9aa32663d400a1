"""The translator API: named placeholders, Belgian dates and amounts per language, language codes."""

from __future__ import annotations

from datetime import date

import pytest

from piis_bridge.i18n import LANGUAGES, LanguageError, check_language, placeholders, translator
from piis_bridge.i18n.labels import DATE_LABELS, label_message, translate_label

DAY = date(2026, 12, 6)


@pytest.mark.parametrize(
    ("language", "day", "amount"),
    [
        ("fr", "6 déc. 2026", "12\u202f345,60\xa0€"),
        ("nl", "6 dec 2026", "€\xa012.345,60"),
        ("de", "06.12.2026", "12.345,60\xa0€"),
        ("en", "2026-12-06", "€12,345.60"),
    ],
)
def test_dates_and_amounts_in_the_language_s_belgian_format(
    language: str, day: str, amount: str
) -> None:
    t = translator(language)
    assert t.format_date(DAY) == day
    assert t.format_amount(1_234_560) == amount


def test_amounts_without_symbol_for_a_column_headed_eur() -> None:
    assert translator("nl").format_amount(-87_61, symbol=False) == "-87,61"
    assert translator("de").format_amount(123_456_78, symbol=False) == "123.456,78"
    assert translator("en").format_amount(123_456_78, symbol=False) == "123,456.78"


def test_named_placeholders_and_dates_inside_messages() -> None:
    assert (
        translator("fr").gettext("Death on {date} (National Register): the PIIS ends", date=DAY)
        == "Décès le 6 déc. 2026 (Registre national) : le PIIS prend fin"
    )
    assert (
        translator("de").gettext("interview requested on {date}", date=DAY)
        == "Gespräch beantragt am 06.12.2026"
    )
    assert (
        translator("en").gettext("interview requested on {date}", date=DAY)
        == "interview requested on 2026-12-06"
    )


def test_rule_titles_by_rule_id_keep_ids_and_vocabulary_of_the_law() -> None:
    title = "A formal warning precedes any sanction"
    assert (
        translator("fr").pgettext("R-SAN-03", title) == "Une mise en demeure précède toute sanction"
    )
    assert (
        translator("nl").pgettext("R-SAN-03", title) == "Een aanmaning gaat aan elke sanctie vooraf"
    )
    assert (
        translator("de").pgettext("R-SAN-03", title)
        == "Eine Inverzugsetzung geht jeder Sanktion voraus"
    )
    assert translator("en").pgettext("R-SAN-03", title) == title


def test_an_unknown_language_is_an_error_that_says_the_fix() -> None:
    with pytest.raises(LanguageError, match='use one of "fr", "nl", "de", "en"'):
        check_language("wa")
    assert [check_language(x) for x in LANGUAGES] == list(LANGUAGES)


def test_placeholders() -> None:
    assert placeholders("{label} ({rule}, {status}, {date})") == {"label", "rule", "status", "date"}


@pytest.mark.parametrize(
    "label",
    [
        "interview requested on 2026-03-02",
        "sanction S-7: latest allowed end (3 months)",
        "sanction S-7: latest allowed end (1 month)",
        "evaluation year 2 ends: 1 of 3 evaluations held, 0 of 2 in person",
        "beneficiary turns 25: the under-25 basis no longer applies",
        "FIRST subsidy window ends",
        "job-application proofs of 2026-04 due",
    ],
)
def test_computed_date_labels_are_recognised_with_their_values(label: str) -> None:
    found = label_message(label)
    assert found is not None and found[0] in DATE_LABELS
    nl = translate_label(label, translator("nl"))
    assert nl != label
    for _, value in found[1]:
        if len(value) != 10:  # ISO dates are rewritten in the Belgian format, other values kept
            assert value in nl


def test_an_unknown_label_stays_english() -> None:
    assert (
        translate_label("something new from a plugin rule", translator("de"))
        == "something new from a plugin rule"
    )
