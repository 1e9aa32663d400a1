"""An English text that can be written again in the reader's language: health checks, alerts,
configuration errors, the plugin host's problems and the operator's error paragraphs.

Why a ``str`` subclass: these texts are made far from where a person reads them (a health check, the
plugin host at start-up, a pydantic validator) and travel as strings through code, logs and tests
that compare, join and ``startswith`` them.  A :class:`Text` *is* the English string the bridge
always wrote (so logs, which stay English for grep, and every existing caller see no change) and
also keeps its message id (the catalogue's msgid, extracted like ``N_``) and named values, so the
command line, the console and the alert sender write it in the reader's language with :func:`say`.
Anything that builds a new string from it (slicing, ``+``, an f-string) gets plain English back:
shown as written, never wrong.

Values: a ``str`` is shown as it is (a setting name, a path, a URL, an id); a nested :class:`Text`
is written in the language too; a ``date`` in the language's Belgian format (English: ISO); a
:class:`Num` with the language's decimal separator; a :class:`~piis_bridge.i18n.Join` item by item.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from piis_bridge.i18n import N_, Join, Translator

__all__ = [
    "Num",
    "Text",
    "error_text",
    "say",
    "say_stored",
    "text_from_json",
    "text_json",
    "validation_message",
]


class Num:
    """A number with *digits* fixed decimals (``26.0`` in English, ``26,0`` in French)."""

    __slots__ = ("digits", "value")

    def __init__(self, value: float, digits: int = 1) -> None:
        self.value = float(value)
        self.digits = digits

    def __str__(self) -> str:
        return f"{self.value:.{self.digits}f}"

    def __format__(self, spec: str) -> str:
        return format(str(self), spec)

    def __repr__(self) -> str:
        return f"Num({self.value!r}, {self.digits})"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Num) and (other.value, other.digits) == (self.value, self.digits)

    def __hash__(self) -> int:
        return hash((self.value, self.digits))


def _english(value: Any) -> Any:
    if isinstance(value, date):
        return value.isoformat()
    return value


class Text(str):
    """The English text of *message* (a catalogue msgid with named placeholders) filled with
    *params*; ``id`` and ``params`` kept for :func:`say`."""

    id: str
    params: tuple[tuple[str, Any], ...]

    def __new__(cls, message: str, /, **params: Any) -> Text:
        english = (
            message.format_map({k: _english(v) for k, v in params.items()}) if params else message
        )
        obj = super().__new__(cls, english)
        obj.id = message
        obj.params = tuple(params.items())
        return obj

    def __repr__(self) -> str:
        return f"Text({self.id!r}, {dict(self.params)!r})"


def _value(value: Any, t: Translator) -> Any:
    if isinstance(value, Text):
        return say(value, t)
    if isinstance(value, Join):
        return str(_value(value.sep, t)).join(str(_value(v, t)) for v in value.items)
    if isinstance(value, date):
        return t.format_date(value)
    if isinstance(value, Num):
        return t.format_number(value.value, value.digits)
    return value


def say(value: object, t: Translator) -> str:
    """*value* in *t*'s language: a :class:`Text` rendered from its message id, anything else as
    written (a remote's error, a plugin's own text)."""
    if value is None:
        return ""
    if not isinstance(value, Text) or t.language == "en" or not getattr(value, "id", None):
        return str(value)  # a Text's own string is its English
    params = {name: _value(v, t) for name, v in value.params}
    return t.gettext(value.id, **params) if params else t.gettext(value.id)


def error_text(exc: BaseException) -> str:
    """The message of *exc*: its :class:`Text` when it was raised with one (so :func:`say` can
    write it in the reader's language), else ``str(exc)``."""
    first = exc.args[0] if len(exc.args) == 1 else None
    return first if isinstance(first, Text) else str(exc)


def _json(value: Any) -> Any:
    if isinstance(value, Text):
        return text_json(value)
    if isinstance(value, Join):
        return {"join": value.sep, "items": [_json(v) for v in value.items]}
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Num):
        return value.value
    return value


def text_json(value: str) -> dict[str, Any]:
    """A text as language-neutral JSON: ``{"id": msgid, "params": {...}}`` (dates ISO, nested texts
    the same way); a plain string as ``{"id": null, "text": value}``."""
    if isinstance(value, Text) and getattr(value, "id", None):
        return {"id": value.id, "params": {k: _json(v) for k, v in value.params}}
    return {"id": None, "text": str(value)}


def _from_json(value: Any) -> Any:
    if isinstance(value, dict) and "join" in value and "items" in value:
        return Join(str(value["join"]), [_from_json(v) for v in value["items"] or ()])
    if isinstance(value, dict) and ("id" in value or "text" in value):
        return text_from_json(value)
    return value


def text_from_json(data: Any) -> str:
    """The text :func:`text_json` wrote, back: a :class:`Text` (nested texts and joins too; dates
    and numbers come back as the ISO string and the number, shown as they are) or the plain string.

    Why: a reason stored in the database (a quarantine entry's, a run's error) keeps its message id
    and values next to its English column, so whoever reads it later hears it in their language."""
    if not isinstance(data, dict):
        return "" if data is None else str(data)
    if not data.get("id"):
        return str(data.get("text") or "")
    params = {str(k): _from_json(v) for k, v in (data.get("params") or {}).items()}
    return Text(str(data["id"]), **params)


def say_stored(english: str | None, stored: Any, t: Translator) -> str:
    """A stored reason in *t*'s language: from its message id and values (*stored*, the JSON of
    :func:`text_json`) when the row has them, else *english* as written (older rows, a remote's
    own words); in English always the stored English column, exactly as before."""
    if t.language != "en" and isinstance(stored, dict) and stored.get("id"):
        try:
            return say(text_from_json(stored), t)
        except (KeyError, IndexError, ValueError):  # a stored id whose placeholders changed since
            pass
    return english or ""


# pydantic's own messages for the errors a configuration or contract file shows most, by error type,
# so they can be said in the reader's language; any other keeps pydantic's English text
_PYDANTIC: dict[str, str] = {
    "missing": N_("Field required"),
    "string_type": N_("Input should be a valid string"),
    "int_parsing": N_("Input should be a valid integer, unable to parse string as an integer"),
    "int_type": N_("Input should be a valid integer"),
    "float_parsing": N_("Input should be a valid number, unable to parse string as a number"),
    "float_type": N_("Input should be a valid number"),
    "bool_parsing": N_("Input should be a valid boolean, unable to interpret input"),
    "bool_type": N_("Input should be a valid boolean"),
    "dict_type": N_("Input should be a valid dictionary"),
    "list_type": N_("Input should be a valid list"),
    "literal_error": N_("Input should be {expected}"),
    "string_too_short": N_("String should have at least {min_length} character(s)"),
    "greater_than": N_("Input should be greater than {gt}"),
    "greater_than_equal": N_("Input should be greater than or equal to {ge}"),
    "less_than": N_("Input should be less than {lt}"),
    "less_than_equal": N_("Input should be less than or equal to {le}"),
}


def validation_message(err: Any, unknown_key: Text | None = None) -> str:
    """The problem of one pydantic error (an item of ``ValidationError.errors()``) as a
    :class:`~piis_bridge.i18n.text.Text` when it can be said in another language: our validators'
    own texts, pydantic's most common messages (by error type), *unknown_key* (when given) for a key
    that is no setting; else pydantic's English message as written.  Used for a configuration file,
    a plugin's settings and a contract file (``validate``)."""
    ctx = err.get("ctx") or {}
    error = ctx.get("error")
    if isinstance(error, ValueError) and len(error.args) == 1 and isinstance(error.args[0], Text):
        return error.args[0]
    if err["type"] == "extra_forbidden" and unknown_key is not None:
        return unknown_key
    template = _PYDANTIC.get(err["type"])
    if template is not None:
        values = {k: str(v) for k, v in ctx.items()}
        try:
            text = Text(template, **values)
        except (KeyError, IndexError, ValueError):
            text = None
        if text is not None and str(text) == str(err["msg"]):  # the same words as pydantic's
            return text
    return str(err["msg"]).removeprefix("Value error, ")
