"""A rule finding written in the reader's language.

Why here, at the output boundary: a finding is computed once (100,000 contracts a night) and read in
one language or another (the CLI's ``--lang``, a console user's choice, the CPAS's setting).  The
check functions record the English template (``Finding.message_id``, a catalogue msgid marked ``N_``)
and its named values (``Finding.params``); the English ``message`` is that template filled, exactly
the text the bridge always wrote.  :func:`render` looks the template up in the language's catalogue
and fills it with the values written for that language:

- a ``date`` in the language's Belgian format (``Translator.format_date``; English keeps ISO);
- a :class:`~piis_bridge.i18n.Msg` (words of the check's own, with values) rendered the same way;
- a :class:`~piis_bridge.i18n.Join` (a list of such words) item by item, its separator too;
- an :class:`~piis_bridge.i18n.Evidence` (an inspection evidence text) by its shape;
- a text marked ``N_`` at its definition (a fixed phrase such as "the community-service schedule")
  through the catalogue; any other text (an id, a code, a municipality) as it is.

A finding without a template (a plugin rule writing plain text) is shown as written.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from piis_bridge.i18n import Evidence, Join, Msg, Translator

__all__ = ["finding_message", "params_json", "render", "render_message"]


def _value(value: Any, t: Translator) -> Any:
    if isinstance(value, Msg):
        return render_message(value.id, value.params, t)
    if isinstance(value, Join):
        return _value(value.sep, t).join(str(_value(item, t)) for item in value.items)
    if isinstance(value, date):
        return t.format_date(value)
    if isinstance(value, Evidence):
        from piis_bridge.i18n.evidence import translate_evidence

        return translate_evidence(str(value), t)
    if isinstance(value, str) and value:
        return t._catalog.gettext(
            value
        )  # a marked phrase, else the text itself (gettext's fallback)
    return value


def render_message(message_id: str, params: tuple[tuple[str, Any], ...], t: Translator) -> str:
    """The template *message_id* in *t*'s language, filled with *params* written for that language."""
    text = t._catalog.gettext(message_id)
    if not params:
        return text
    return text.format_map({name: _value(value, t) for name, value in params})


def render(finding: Any, t: Translator) -> str:
    """*finding*'s message in *t*'s language (its English ``message`` when it has no template)."""
    message_id = getattr(finding, "message_id", None)
    if not message_id or t.language == "en":
        return finding.message
    return render_message(message_id, finding.params, t)


finding_message = render


def _json_value(value: Any) -> Any:
    if isinstance(value, Msg):
        return {"id": value.id, "params": params_json(value.params)}
    if isinstance(value, Join):
        return {"join": value.sep, "items": [_json_value(item) for item in value.items]}
    if isinstance(value, date):
        return value.isoformat()
    return value


def params_json(params: tuple[tuple[str, Any], ...]) -> dict[str, Any]:
    """The values of a template, language-neutral (ISO dates, nested messages as id + params)."""
    return {name: _json_value(value) for name, value in params}
