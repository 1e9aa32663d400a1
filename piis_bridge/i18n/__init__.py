"""Texts for people in the CPAS's language: French, Dutch, German or English.

Why gettext catalogues (Babel): translators work in ``.po`` files with the standard tools, every
message has one id, and the completeness of the four catalogues is testable.  The ``.po`` files
are the committed sources and are read at runtime through Babel (compiled to a ``.mo`` image in
memory, once per process), so a fresh clone needs no build step (``python3 dev.py test`` works as
is) and a catalogue can never be older than its source.  See docs/i18n.md.

Public API::

    t = translator("nl")
    t.gettext("Federal answer: {answer}", answer="REFUSED")
    t.ngettext("{n} contract", "{n} contracts", 3)
    t.pgettext("R-OBL-01", "Under 25 in full-time studies: PIIS mandatory")   # rule titles by rule id
    t.format_date(date(2026, 12, 6))        # 6 dec 2026 (nl_BE)
    t.format_amount(123456)                 # € 1.234,56 (integer cents in, nl_BE out)

Placeholders are named (``{answer}``); a ``date`` value is written in the language's Belgian
format.  Rule ids, citations, codes and ISO dates are never translated.
"""

from __future__ import annotations

import gettext as _gettext
import io
import string
from datetime import date
from functools import cache
from pathlib import Path
from typing import Any

__all__ = [
    "DEFAULT_LANGUAGE",
    "DOMAIN",
    "LANGUAGES",
    "LOCALES",
    "LOCALE_DIR",
    "NP_",
    "N_",
    "Evidence",
    "Join",
    "LanguageError",
    "Msg",
    "Translator",
    "check_language",
    "placeholders",
    "translator",
]

LANGUAGES: tuple[str, ...] = ("fr", "nl", "de", "en")
"""The languages of the bridge: the three official languages of Belgium, and English."""
DEFAULT_LANGUAGE = "en"
"""Used when a CPAS sets no ``language`` (the texts the bridge wrote before the setting existed)."""
LOCALES: dict[str, str] = {"fr": "fr_BE", "nl": "nl_BE", "de": "de_BE", "en": "en_BE"}
"""The Babel locale of each language: Belgian date and number formats."""
DOMAIN = "piis_bridge"
LOCALE_DIR = Path(__file__).with_name("locale")


class LanguageError(ValueError):
    """A language that is not one of :data:`LANGUAGES`."""


def check_language(value: str) -> str:
    """*value* if it is a supported language code; else a :class:`LanguageError` saying the fix."""
    if value in LANGUAGES:
        return value
    raise LanguageError(
        f"unsupported language {value!r}: use one of "
        + ", ".join(f'"{x}"' for x in LANGUAGES)
        + " (fr = French, nl = Dutch, de = German, en = English)"
    )


def N_(message: str) -> str:  # noqa: N802 - the gettext convention
    """Mark *message* for extraction without translating it (it is translated where it is shown)."""
    return message


def NP_(singular: str, plural: str) -> tuple[str, str]:  # noqa: N802 - the gettext convention
    """Mark a singular/plural pair for extraction; ``Translator.ngettext`` picks the form."""
    return singular, plural


class Msg:
    """A message inside a message: a template (the catalogue's msgid) and its named values.

    Why: a rule's finding sometimes names something with words of its own ("missing {what}.", what =
    "the objective that commitment {commitment} serves").  As a placeholder value it writes itself in
    English (``format``, so the finding's English ``message`` is what it always was), and
    :func:`piis_bridge.i18n.findings.render` writes it in the reader's language.  Extracted like
    ``N_`` (keyword ``Msg`` in ``piis_bridge.i18n.catalog.KEYWORDS``).
    """

    __slots__ = ("id", "params")

    def __init__(self, message: str, /, **params: Any) -> None:
        self.id = message
        self.params = tuple(params.items())

    def __str__(self) -> str:
        return self.id.format_map(dict(self.params)) if self.params else self.id

    def __format__(self, spec: str) -> str:
        return format(str(self), spec)

    def __repr__(self) -> str:
        return f"Msg({self.id!r}, {dict(self.params)!r})"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Msg) and other.id == self.id and other.params == self.params

    def __hash__(self) -> int:
        return hash((self.id, self.params))


class Join:
    """A list of words inside a message ("the beneficiary, the CPAS"), each item a text marked ``N_``,
    a :class:`Msg` or a value; *sep* is written between them (a separator with words, such as
    ``N_(" and ")``, is translated too).  In English it writes itself as ``sep.join(items)``."""

    __slots__ = ("items", "sep")

    def __init__(self, sep: str, items: Any) -> None:
        self.sep = sep
        self.items = tuple(items)

    def __str__(self) -> str:
        return self.sep.join(map(str, self.items))

    def __format__(self, spec: str) -> str:
        return format(str(self), spec)

    def __repr__(self) -> str:
        return f"Join({self.sep!r}, {list(self.items)!r})"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Join) and other.sep == self.sep and other.items == self.items

    def __hash__(self) -> int:
        return hash((self.sep, self.items))


class Evidence(str):
    """An inspection checklist evidence text used inside a message: it carries values of its own, so it
    is translated by its shape (:func:`piis_bridge.i18n.evidence.translate_evidence`), not by msgid."""

    __slots__ = ()


def placeholders(text: str) -> frozenset[str]:
    """The named placeholders of a message (``{answer}`` -> ``answer``)."""
    return frozenset(name for _, name, _, _ in string.Formatter().parse(text) if name)


class Translator:
    """The texts of one language.  Cheap to share: built once per language and cached."""

    def __init__(self, language: str, catalog: _gettext.NullTranslations) -> None:
        self.language = check_language(language)
        self.locale = LOCALES[language]
        self._catalog = catalog

    def __repr__(self) -> str:
        return f"Translator({self.language!r})"

    # -- messages ---------------------------------------------------------------------------

    def gettext(self, message: str, /, **params: Any) -> str:
        return self._fill(self._catalog.gettext(message), params)

    def ngettext(self, singular: str, plural: str, n: int, /, **params: Any) -> str:
        params.setdefault("n", n)
        return self._fill(self._catalog.ngettext(singular, plural, n), params)

    def pgettext(self, context: str, message: str, /, **params: Any) -> str:
        return self._fill(self._catalog.pgettext(context, message), params)

    # -- formats ----------------------------------------------------------------------------

    def format_date(self, day: date, width: str = "medium") -> str:
        """A date in the language's Belgian format (``medium``: 6 déc. 2026, 6 dec 2026, 06.12.2026).

        English keeps ISO 8601 (2026-12-06): it is the operators' language, not a Belgian one, and
        its texts stay exactly what the bridge wrote before it spoke other languages."""
        from babel.dates import format_date

        if self.language == "en":
            return day.isoformat()
        return format_date(day, width, locale=self.locale)

    def format_amount(self, cents: int, *, symbol: bool = True) -> str:
        """Integer cents as euros in the language's Belgian format: 12 345,60 € (fr), € 12.345,60 (nl),
        12.345,60 € (de); English 12,345.60 (as before).  ``symbol=False`` for a column headed EUR."""
        from decimal import Decimal

        from babel.numbers import format_currency, format_decimal

        amount = Decimal(cents) / 100
        locale = "en" if self.language == "en" else self.locale
        if symbol:
            return format_currency(amount, "EUR", locale=locale)
        return format_decimal(amount, format="#,##0.00", locale=locale)

    def format_number(self, value: float, digits: int | None = None) -> str:
        """A number in the language's Belgian format (12,5 in French, Dutch and German); *digits* fixed
        decimals, or None for as many as the value has (``:g``).  English as before: ``f"{value:.1f}"``
        or ``f"{value:g}"``, so an operator's scripts reading the English tables see no change."""
        if self.language == "en":
            return f"{value:.{digits}f}" if digits is not None else f"{value:g}"
        from decimal import Decimal

        from babel.numbers import format_decimal

        if digits is None:
            return format_decimal(Decimal(str(value)), locale=self.locale)
        pattern = "#,##0" + ("." + "0" * digits if digits else "")
        return format_decimal(Decimal(str(value)), format=pattern, locale=self.locale)

    def _fill(self, text: str, params: dict[str, Any]) -> str:
        if not params:
            return text
        values = {k: (self.format_date(v) if isinstance(v, date) else v) for k, v in params.items()}
        return text.format_map(values)


def _load(language: str) -> _gettext.NullTranslations:
    """The ``.po`` catalogue of *language*, compiled in memory (fuzzy entries left out)."""
    from babel.messages.mofile import write_mo
    from babel.messages.pofile import read_po

    path = LOCALE_DIR / language / "LC_MESSAGES" / f"{DOMAIN}.po"
    if not path.is_file():
        raise LanguageError(f"no catalogue for language {language!r} ({path} is missing)")
    with path.open("rb") as fh:
        catalog = read_po(fh, locale=LOCALES[language], domain=DOMAIN)
    buf = io.BytesIO()
    write_mo(buf, catalog, use_fuzzy=False)
    buf.seek(0)
    return _gettext.GNUTranslations(buf)


@cache
def translator(language: str | None = None) -> Translator:
    """The :class:`Translator` of *language* (default :data:`DEFAULT_LANGUAGE`)."""
    language = check_language(language or DEFAULT_LANGUAGE)
    return Translator(language, _load(language))
