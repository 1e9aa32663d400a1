"""What an operator command's output must not contain in French, Dutch or German: an English text of
that command's source that the catalogue translates (a ``t.gettext`` left out at one call site, a
catalogue not loaded)."""

from __future__ import annotations

import re
import string
from functools import cache

from babel.messages.catalog import Catalog

from piis_bridge.i18n import LOCALES
from piis_bridge.i18n.catalog import po_path, read_catalog, template

OPS_SOURCES = (
    "piis_bridge/cli/pipeline_commands.py",
    "piis_bridge/cli/ops_commands.py",
    "piis_bridge/cli/rules_more_commands.py",
    "plugins/transfer/cli.py",
    "piis_bridge/cli/plugins_commands.py",
    "piis_bridge/cli/model_commands.py",
    "piis_bridge/cli/observability_commands.py",
    "plugins/federal/cli.py",
    "plugins/neptunus/cli.py",
    # texts said in the reader's language where they are shown (piis_bridge.i18n.text.Text)
    "piis_bridge/observability/health.py",
    "piis_bridge/observability/alerts.py",
    "piis_bridge/config.py",
    "piis_bridge/hooks/manager.py",
    "piis_bridge/ops/errors.py",
    "piis_bridge/ops/preflight.py",
    "piis_bridge/cli/__init__.py",
    "piis_bridge/cli/_registry.py",
    "piis_bridge/i18n/ops.py",  # stored reasons: poison records, mapping problems
)


@cache
def _catalog(language: str) -> Catalog:
    assert language in LOCALES
    return read_catalog(po_path(language), language)


@cache
def english_fragments(language: str) -> tuple[str, ...]:
    """The literal parts (between placeholders) of the English texts of the operator commands whose
    translation in *language* differs: multi-word parts of 12 characters or more, so that a word the
    languages share ("contact", "detail") is not taken for a leak."""
    translated = _catalog(language)
    found: set[str] = set()
    for msg in template():
        if not msg.id or not any(path in OPS_SOURCES for path, _ in msg.locations):
            continue
        ids = msg.id if isinstance(msg.id, (list, tuple)) else (msg.id,)
        local = translated.get(ids[0], context=msg.context)
        forms = local.string if local is not None else ""
        texts = " ".join(forms) if isinstance(forms, (list, tuple)) else (forms or "")
        for english in ids:
            found.update(english_parts(english, texts))
    return tuple(sorted(found))


def english_parts(english: str, translated: str) -> set[str]:
    """The literal parts of *english* (between placeholders and line breaks) of 12 characters or
    more, with a space, that *translated* does not contain: what would be a leak in the output."""
    found: set[str] = set()
    for literal, *_ in string.Formatter().parse(english):
        for part in re.split(r"[\n]", literal):
            part = part.strip(" :;,.()")
            if len(part) >= 12 and " " in part and part not in translated:
                found.add(part)
    return found


def english_leaks(output: str, language: str) -> list[str]:
    """The English fragments of :func:`english_fragments` found in *output* (whitespace folded)."""
    text = " ".join(output.replace("│", " ").split())
    return [f for f in english_fragments(language) if f in text]
