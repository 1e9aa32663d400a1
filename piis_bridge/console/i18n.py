"""French, Dutch, German and English for the console (gettext catalogues read with Babel);
Belgian dates.

Why the catalogues are compiled at start-up from the ``.po`` files: no binary ``.mo`` in the tree to
forget to rebuild; ``locale/<lang>/LC_MESSAGES/console.po`` is the only source.  Messages are written
in English in the templates (the msgid) and translated for each language, English included (so a
missing translation shows up in ``tests/console/test_i18n.py``, not as a silent fallback).
"""

from __future__ import annotations

import gettext
import io
from datetime import date, datetime
from functools import cache
from pathlib import Path
from zoneinfo import ZoneInfo

from babel.dates import format_date, format_datetime
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po

__all__ = ["BRUSSELS", "LANGUAGES", "LOCALES", "belgian_date", "belgian_datetime", "translations"]

LANGUAGES = ("fr", "nl", "de", "en")
LOCALES = {"fr": "fr_BE", "nl": "nl_BE", "de": "de_BE", "en": "en_BE"}
BRUSSELS = ZoneInfo("Europe/Brussels")
_DIR = Path(__file__).resolve().parent / "locale"


@cache
def translations(lang: str) -> gettext.GNUTranslations:
    with open(_DIR / lang / "LC_MESSAGES" / "console.po", "rb") as f:
        catalog = read_po(f, locale=LOCALES[lang])
    buf = io.BytesIO()
    write_mo(buf, catalog)
    buf.seek(0)
    return gettext.GNUTranslations(buf)


def belgian_date(value: date | datetime | str | None, lang: str = "fr") -> str:
    """dd/mm/yyyy, as Belgian forms and letters write it (the same in every language)."""
    if value in (None, ""):
        return ""
    if isinstance(value, str):
        value = date.fromisoformat(value[:10])
    if isinstance(value, datetime):
        value = value.astimezone(BRUSSELS).date() if value.tzinfo else value.date()
    return format_date(value, "dd/MM/yyyy", locale=LOCALES[lang])


def belgian_datetime(value: datetime | None, lang: str = "fr") -> str:
    """dd/mm/yyyy HH:mm in Brussels time."""
    if value is None:
        return ""
    return format_datetime(value, "dd/MM/yyyy HH:mm", tzinfo=BRUSSELS, locale=LOCALES[lang])
