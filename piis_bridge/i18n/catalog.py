"""The catalogue workflow: extract the message ids, update the four ``.po`` files, check them.

``python -m piis_bridge.i18n update`` is this project's ``pybabel extract`` + ``pybabel update``:
besides the ``gettext``/``N_`` calls in the source (extracted with Babel's Python extractor), the
messages include texts that live as data -- every rule title of the registry (msgctxt = rule id),
every inspection checklist question (msgctxt = item id) and the codes shown in words (levels, date
statuses, agenda kinds, federal answers) -- which no source extractor can see.  A changed English
text keeps its old translation marked *fuzzy* (Babel's fuzzy matching): a fuzzy entry is not used
and the check fails until a translator confirms it.

A translation whose text left the source is kept as an obsolete ``#~`` entry and comes back when the
text does (as GNU ``msgmerge`` does): translations may be written ahead of a source change.

``python -m piis_bridge.i18n check`` lists every message id without a translation in one of the
four languages and every translation that drops or adds a placeholder (``tests/i18n`` runs it).
There is no compile step: the ``.po`` files are read at runtime (see :mod:`piis_bridge.i18n`).
"""

from __future__ import annotations

import copy
from collections.abc import Iterable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from babel.messages.catalog import Catalog, Message
from babel.messages.extract import extract_from_file
from babel.messages.pofile import read_po, write_po

from piis_bridge.i18n import DOMAIN, LANGUAGES, LOCALE_DIR, LOCALES, placeholders

__all__ = ["KEYWORDS", "SOURCES", "check", "po_path", "pot_path", "template", "update"]

_ROOT = Path(__file__).resolve().parents[2]
SOURCES: tuple[str, ...] = (
    "piis_bridge/i18n/*.py",
    "piis_bridge/cli/rules_commands.py",
    "piis_bridge/cli/rules_more_commands.py",
    "piis_bridge/cli/pipeline_commands.py",
    "piis_bridge/cli/ops_commands.py",
    "plugins/transfer/cli.py",
    "piis_bridge/cli/plugins_commands.py",
    "piis_bridge/cli/model_commands.py",
    "piis_bridge/cli/observability_commands.py",
    "plugins/federal/cli.py",
    "plugins/neptunus/cli.py",
    "piis_bridge/rules/*.py",
    # texts made as piis_bridge.i18n.text.Text and said where a person reads them
    "piis_bridge/observability/health.py",
    "piis_bridge/observability/alerts.py",
    "piis_bridge/config.py",
    "piis_bridge/hooks/manager.py",
    "piis_bridge/ops/errors.py",
    "piis_bridge/ops/preflight.py",
    "piis_bridge/cli/__init__.py",
    "piis_bridge/cli/_registry.py",
)
"""Python files whose ``gettext``/``ngettext``/``N_``/``NP_`` calls hold message ids (repository paths).
The ``--help`` texts of the command modules are extracted by
:func:`piis_bridge.i18n.cli_help.extract_help` from ``cli_help.HELP_SOURCES``."""
KEYWORDS: dict[str, Any] = {
    "gettext": None,
    "N_": None,
    "Msg": None,
    "Text": None,
    "ngettext": (1, 2),
    "NP_": (1, 2),
    "pgettext": ((1, "c"), 2),
}
_FIXED = datetime(2026, 1, 1, tzinfo=UTC)  # no changing dates in the files: diffs show only texts


def po_path(language: str, locale_dir: Path = LOCALE_DIR) -> Path:
    return locale_dir / language / "LC_MESSAGES" / f"{DOMAIN}.po"


def pot_path() -> Path:
    return LOCALE_DIR / f"{DOMAIN}.pot"


def _new_catalog(locale: str | None = None) -> Catalog:
    return Catalog(
        locale=locale,
        domain=DOMAIN,
        project="piis-bridge",
        version="1",
        copyright_holder="piis-bridge contributors",
        msgid_bugs_address="",
        creation_date=_FIXED,
        revision_date=_FIXED,
        fuzzy=False,
        header_comment="# Messages of piis-bridge. Edit the translations; run\n"
        "# `python -m piis_bridge.i18n update` after changing the source (docs/i18n.md).",
    )


def _source_files(patterns: Iterable[str] = SOURCES) -> Iterable[Path]:
    for pattern in patterns:
        yield from sorted(_ROOT.glob(pattern))


def template() -> Catalog:
    """Every message id of the bridge (the ``.pot`` template)."""
    from piis_bridge.i18n.cli_help import (
        CLICK_HELP_TEXTS,
        HELP_SOURCES,
        PANEL_TITLES,
        extract_help,
    )
    from piis_bridge.i18n.ops import CODES
    from piis_bridge.i18n.push import DATE_STATUSES as _PUSH_STATUSES
    from piis_bridge.i18n.push import FEDERAL_ANSWERS
    from piis_bridge.i18n.rules import (
        AGENDA_KINDS,
        CHECKLIST_STATUSES,
        DATE_STATUSES,
        LEVELS,
        PERSONS,
    )
    from piis_bridge.rules.inspection import ITEMS
    from piis_bridge.rules.registry import load_core_rules

    cat = _new_catalog()
    # Any: babel's annotation of an extraction method's tuples differs from what it unpacks
    methods: tuple[tuple[Any, tuple[str, ...]], ...] = (
        ("python", SOURCES),
        (extract_help, HELP_SOURCES),
    )
    for method, patterns in methods:
        for path in _source_files(patterns):
            rel = path.relative_to(_ROOT).as_posix()
            for lineno, message, comments, context in extract_from_file(
                method, path, keywords=KEYWORDS
            ):
                cat.add(message, locations=[(rel, lineno)], auto_comments=comments, context=context)
    for text in CLICK_HELP_TEXTS:
        cat.add(text, auto_comments=["help text click writes itself (the --help option)"])
    for title in PANEL_TITLES:
        cat.add(title, context="help panel", auto_comments=["title of a panel of a --help screen"])
    for rule in load_core_rules():
        comment = f"Title of rule {rule.id} ({rule.severity.value}), {rule.citation}"
        cat.add(rule.title, context=rule.id, auto_comments=[comment])
        meaning = getattr(rule, "meaning", None)
        if meaning:
            cat.add(
                meaning,
                context=f"{rule.id} meaning",
                auto_comments=[f"Plain-language meaning of {rule.id}"],
            )
    for item, question, rule_ids in ITEMS:
        cat.add(
            question,
            context=item,
            auto_comments=[f"Inspection checklist item {item} ({', '.join(rule_ids)})"],
        )
    for context, codes in (
        ("level", LEVELS),
        ("date status", (*DATE_STATUSES, *_PUSH_STATUSES)),
        ("agenda kind", AGENDA_KINDS),
        ("person", PERSONS),
        ("checklist status", CHECKLIST_STATUSES),
        ("federal answer", FEDERAL_ANSWERS),
        *CODES.items(),
    ):
        for code in dict.fromkeys(codes):
            cat.add(
                code, context=context, auto_comments=[f"code {code!r} shown in words ({context})"]
            )
    return cat


def read_catalog(path: Path, language: str) -> Catalog:
    """The ``.po`` file at *path* as a babel catalogue (the leak tests read the shipped ones too)."""
    with path.open("rb") as fh:
        return read_po(fh, locale=LOCALES[language], domain=DOMAIN)


def _write(path: Path, catalog: Catalog) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("wb") as fh:
        write_po(
            fh,
            catalog,
            width=100,
            sort_output=False,
            ignore_obsolete=False,
            include_previous=True,
            include_lineno=False,
        )


def update(languages: Iterable[str] = LANGUAGES) -> list[Path]:
    """Write the template and bring each language's ``.po`` up to date with it; returns the files written.

    English is the source language: its entries are filled with the message id itself, so the
    English catalogue is complete by construction (and an English wording change is one edit in
    the source)."""
    tmpl = template()
    written = [pot_path()]
    _write(pot_path(), tmpl)
    for language in languages:
        path = po_path(language)
        cat = read_catalog(path, language) if path.is_file() else _new_catalog(LOCALES[language])
        kept = dict(
            cat.obsolete
        )  # translations of texts not (or no longer) in the source: `#~` entries
        # a copy per language: Babel may put the template's own Message objects into the catalogue
        cat.update(copy.deepcopy(tmpl), no_fuzzy_matching=False, update_header_comment=False)
        for msg in cat:  # like msgmerge: a text back in the source gets its kept translation back
            old = kept.get(cat._key_for(msg.id, msg.context)) if msg.id else None
            if old is not None and (msg.fuzzy or not any(_forms(msg))) and any(_forms(old)):
                msg.string, msg.previous_id = old.string, []
                msg.flags.discard("fuzzy")
        cat.revision_date = _FIXED
        if language == "en":
            for msg in cat:
                if msg.id:
                    msg.string = msg.id
                    msg.flags.discard("fuzzy")
                    msg.previous_id = []
        _write(path, cat)
        written.append(path)
    return written


def _forms(msg: Message) -> list[str]:
    if isinstance(msg.string, (list, tuple)):
        return [form or "" for form in msg.string]
    return [msg.string or ""]


def check(languages: Iterable[str] = LANGUAGES, locale_dir: Path = LOCALE_DIR) -> list[str]:
    """Every problem of the catalogues, one line each; empty when all four are complete and correct."""
    tmpl = template()
    problems: list[str] = []
    for language in languages:
        path = po_path(language, locale_dir)
        if not path.is_file():
            problems.append(
                f"{language}: {path} is missing; run `python -m piis_bridge.i18n update`"
            )
            continue
        cat = read_catalog(path, language)
        for want in tmpl:
            if not want.id:
                continue
            where = (
                f"{language}: [{want.context}] {want.id!r}"
                if want.context
                else f"{language}: {want.id!r}"
            )
            msg = cat.get(want.id, context=want.context)
            if msg is None:
                problems.append(
                    f"{where}: not in the catalogue; run `python -m piis_bridge.i18n update`"
                )
                continue
            if msg.fuzzy:
                problems.append(
                    f"{where}: fuzzy (the English text changed); check the translation, remove the flag"
                )
                continue
            forms = _forms(msg)
            if not all(f.strip() for f in forms):
                problems.append(f"{where}: no translation")
                continue
            ids = want.id if isinstance(want.id, (list, tuple)) else (want.id,)
            expected = frozenset().union(*(placeholders(i) for i in ids))
            for form in forms:
                try:
                    found = placeholders(form)
                except ValueError as exc:
                    problems.append(f"{where}: broken placeholder in {form!r} ({exc})")
                    continue
                if found != expected:
                    lost, extra = sorted(expected - found), sorted(found - expected)
                    problems.append(
                        f"{where}: translation {form!r} "
                        + (f"drops {{{'}, {'.join(lost)}}} " if lost else "")
                        + (f"adds {{{'}, {'.join(extra)}}}" if extra else "")
                    )
    return problems
