"""Recognise an English text the engine wrote by its *shape*, and write it in another language.

Why: the rules engine writes some texts with values inside ("interview requested on 2026-03-02",
"sanction S-1: sursis period ends", "signed on 2026-02-11"), and its modules are not changed for
translation.  Each shape is one message id with named placeholders; :class:`ShapeTable` finds the
message whose shape matches a text exactly, reads the values back, and renders the message in the
translator's language (an ISO date value is written in the language's date format).  A text of an
unknown shape is returned as is (English); tests run the engine over a generated caseload and fail on
any text no shape recognises.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from datetime import date
from functools import lru_cache
from typing import Any

from piis_bridge.i18n import Translator

__all__ = ["ShapeTable"]

_FIELD = re.compile(r"\{(\w+)\}")
_ISO = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def _pattern(message: str) -> re.Pattern[str]:
    parts, seen, pos = [], set(), 0
    for m in _FIELD.finditer(message):
        parts.append(re.escape(message[pos : m.start()]))
        name = m.group(1)
        parts.append(f"(?P={name})" if name in seen else f"(?P<{name}>.+?)")
        seen.add(name)
        pos = m.end()
    parts.append(re.escape(message[pos:]))
    return re.compile("".join(parts))


class ShapeTable:
    """The message ids of one family of engine texts (date labels, inspection evidence...).

    *converters* turn a placeholder's text back into a value before rendering (by placeholder name);
    by default an ISO date becomes a ``date`` and anything else stays text.
    """

    def __init__(
        self,
        messages: Iterable[str],
        converters: dict[str, Callable[[str, Translator], Any]] | None = None,
    ) -> None:
        self.messages = tuple(messages)
        # texts without values first, so "deadline not reached yet" is never read as "deadline {date}"
        ordered = sorted(self.messages, key=lambda m: "{" in m)
        self._patterns = tuple((m, _pattern(m)) for m in ordered)
        self._converters = converters or {}
        self.match = lru_cache(maxsize=8192)(self._match)

    def _match(self, text: str) -> tuple[str, tuple[tuple[str, str], ...]] | None:
        """The message id of *text* and the values found in it, or None for an unknown shape."""
        for message, pattern in self._patterns:
            m = pattern.fullmatch(text)
            if m is not None:
                return message, tuple(m.groupdict().items())
        return None

    def translate(self, text: str, t: Translator) -> str:
        """*text* in the translator's language; an unknown shape is returned as is (English).

        English returns the engine's own text, character for character."""
        if t.language == "en":
            return text
        found = self.match(text)
        if found is None:
            return text
        message, values = found
        params: dict[str, Any] = {}
        for name, value in values:
            convert = self._converters.get(name)
            if convert is not None:
                params[name] = convert(value, t)
            else:
                params[name] = date.fromisoformat(value) if _ISO.match(value) else value
        return t.gettext(message, **params)
