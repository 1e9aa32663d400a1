"""The command line's ``--help`` in the operator's language: extracted by Babel, rendered at help time.

**Extraction.** :func:`extract_help` is a Babel extraction method (``python -m piis_bridge.i18n
update`` runs ``babel.messages.extract.extract_from_file(extract_help, ...)``): from the command
modules listed in :data:`HELP_SOURCES` it takes every string literal given as ``help=``
(``typer.Option``, ``typer.Argument``, ``cli.group``, ``@app.command(help=...)``) and the docstring of
every command function (decorated with ``.command(...)``/``.callback(...)``, or declaring
``typer.Option``/``typer.Argument`` parameters), which typer shows as the command's help.  A help text
kept in a constant is marked ``N_`` where it is defined (``LANG_HELP``, ``RULES_HELP``) and found by
the ordinary extractor.  The English text in the source *is* the message id: the English help is
exactly what typer printed before, and a changed wording shows up as a fuzzy entry.

**Rendering.** The help is translated when typer formats it, not when the commands are declared: the
root callback (``piis-bridge --lang nl run --help``) has run by then, and a sub-command's help is
formatted after its group's callback.  :func:`localize` gives every command and group of the
application :class:`LocalizedCommand` / :class:`LocalizedGroup`, whose ``format_help`` puts the
translations in place for that one call and restores the English texts afterwards (the English path
touches nothing).  The root's ``--help`` is processed while its options are parsed, so ``--lang`` is
eager: ``piis-bridge --lang de --help`` works, ``piis-bridge --help --lang de`` answers before
``--lang`` is read.  A command's own ``--lang`` is read from its arguments before they are parsed
(:class:`LocalizedCommand`), so ``piis-bridge rules check --lang nl --help`` and ``... --help --lang
nl`` both answer in Dutch.  Option names, command names and metavars are not texts and stay as they
are; typer's own markers (``Usage:``, ``[default: ...]``, ``[required]``) stay English.

**Language of the help**: the root ``--lang``, else ``PIIS_LANG``, else the configuration's one
language (:func:`piis_bridge.i18n.cli.configured_language`), else English; a command's own
``--lang`` comes first, for its help as for its output.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from contextlib import contextmanager
from typing import IO, Any

from typer.core import TyperCommand, TyperGroup

from piis_bridge.i18n import Translator

__all__ = [
    "CLICK_HELP_TEXTS",
    "HELP_SOURCES",
    "PANEL_TITLES",
    "LocalizedCommand",
    "LocalizedGroup",
    "extract_help",
    "localize",
    "own_lang",
    "translated_help",
]

HELP_SOURCES: tuple[str, ...] = (
    "piis_bridge/cli/*.py",
    "piis_bridge/console/cli.py",
    "plugins/*/cli.py",
    "plugins/neptunus/plugin.py",
    "plugins/demo/command.py",
)
"""Repository paths of the modules that declare commands: their help texts are message ids."""
PANEL_TITLES: tuple[str, ...] = ("Arguments", "Options", "Commands")
"""Typer's panel titles, translated with msgctxt ``help panel`` (typer's own English is the msgid)."""
CLICK_HELP_TEXTS: tuple[str, ...] = ("Show this message and exit.",)
"""Help texts click writes itself (the ``--help`` option's)."""
_COMMENT = "help text of the command line (--help)"
_TYPER_PARAMS = frozenset({"Option", "Argument"})


def extract_help(
    fileobj: IO[bytes], keywords: Any, comment_tags: Any, options: Any
) -> Iterator[tuple[int, str | None, str, list[str]]]:
    """Babel extraction method: the help texts of the typer commands declared in a Python file."""
    del keywords, comment_tags, options  # the texts are found by their place, not by a keyword
    tree = ast.parse(fileobj.read())
    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            for kw in node.keywords:
                text = kw.value.value if isinstance(kw.value, ast.Constant) else None
                if kw.arg == "help" and isinstance(text, str) and text.strip():
                    yield kw.value.lineno, None, text, [_COMMENT]
        elif isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) and _is_command(node):
            doc = ast.get_docstring(node, clean=True)  # what typer shows: inspect.getdoc
            if doc:
                yield node.body[0].lineno, None, doc, [_COMMENT]


def _is_command(node: ast.FunctionDef | ast.AsyncFunctionDef) -> bool:
    """A typer command function: decorated ``@x.command(...)``/``@x.callback(...)``, or declaring
    ``typer.Option``/``typer.Argument`` parameters (a command registered by a call, ``demo``)."""
    for deco in node.decorator_list:
        func = deco.func if isinstance(deco, ast.Call) else deco
        if isinstance(func, ast.Attribute) and func.attr in ("command", "callback"):
            return True
    defaults = [*node.args.defaults, *(d for d in node.args.kw_defaults if d is not None)]
    return any(
        isinstance(d, ast.Call)
        and isinstance(d.func, ast.Attribute)
        and d.func.attr in _TYPER_PARAMS
        for d in defaults
    )


@contextmanager
def translated_help(t: Translator, command: Any, ctx: Any) -> Iterator[None]:
    """While the block runs, *command*'s help, its parameters' help, its sub-commands' help (a group
    lists them) and the panel titles are in *t*'s language; the English texts are put back after.

    Why swap rather than build translated copies: typer reads these attributes from the command
    objects it formats, and the objects are shared with the parsing that is under way.  The command
    line runs one command per process, on one thread."""
    if t.language == "en":
        yield
        return
    saved: list[tuple[Any, str, Any]] = []

    def put(obj: Any, attr: str, value: Any) -> None:
        saved.append((obj, attr, getattr(obj, attr, None)))
        setattr(obj, attr, value)

    commands = getattr(command, "commands", {})
    try:
        for obj in (command, *commands.values()):
            for attr in ("help", "short_help"):
                text = getattr(obj, attr, None)
                if text:
                    put(obj, attr, t.gettext(text))
        for sub in commands.values():
            if not getattr(sub, "rich_help_panel", None):
                put(sub, "rich_help_panel", t.pgettext("help panel", "Commands"))
        for param in command.get_params(ctx):
            if getattr(param, "help", None):
                put(param, "help", t.gettext(param.help))
            if not getattr(param, "rich_help_panel", None):
                title = "Arguments" if param.param_type_name == "argument" else "Options"
                put(param, "rich_help_panel", t.pgettext("help panel", title))
        yield
    finally:
        for obj, attr, value in reversed(saved):
            setattr(obj, attr, value)


def _help_translator() -> Translator:
    from piis_bridge.i18n.cli import help_translator

    return help_translator()


def own_lang(command: Any, args: list[str]) -> str | None:
    """The value of *command*'s own ``--lang`` among *args* (``--lang nl`` or ``--lang=nl``, before a
    ``--``), or None when the command has no such option or it is not given."""
    if not any("--lang" in getattr(p, "opts", ()) for p in command.params):
        return None
    for i, arg in enumerate(args):
        if arg == "--":
            break
        if arg == "--lang" and i + 1 < len(args):
            return args[i + 1]
        if arg.startswith("--lang="):
            return arg.partition("=")[2]
    return None


class LocalizedCommand(TyperCommand):
    """A typer command whose ``--help`` is in the chosen language (:func:`translated_help`).

    Its own ``--lang`` counts for its help too: click answers an eager ``--help`` while it parses,
    possibly before ``--lang`` is processed, so the language is read from the arguments first."""

    def parse_args(self, ctx: Any, args: list[str]) -> list[str]:
        from piis_bridge.i18n.cli import set_help_language

        set_help_language(own_lang(self, args))
        return super().parse_args(ctx, args)

    def format_help(self, ctx: Any, formatter: Any) -> None:
        with translated_help(_help_translator(), self, ctx):
            super().format_help(ctx, formatter)


class LocalizedGroup(TyperGroup):
    """A typer group whose ``--help`` (its commands' summaries included) is in the chosen language."""

    def make_context(
        self, info_name: str | None, args: list[str], parent: Any = None, **extra: Any
    ) -> Any:
        if parent is None:  # a new command line: no language chosen until its root --lang is read
            from piis_bridge.i18n.cli import set_global_language, set_help_language

            set_global_language(None)
            set_help_language(None)
        return super().make_context(info_name, args, parent=parent, **extra)

    def format_help(self, ctx: Any, formatter: Any) -> None:
        with translated_help(_help_translator(), self, ctx):
            super().format_help(ctx, formatter)


def localize(app: Any) -> None:
    """Give every command and group of the typer *app* (plugins' included) the localized classes.

    A command or group declared with a class of its own keeps it (its help stays as it writes it)."""
    if _plain(app.info.cls, TyperGroup):
        app.info.cls = LocalizedGroup
    for info in app.registered_commands:
        if _plain(info.cls, TyperCommand):
            info.cls = LocalizedCommand
    for group in app.registered_groups:
        if _plain(group.cls, TyperGroup):
            group.cls = LocalizedGroup
        localize(group.typer_instance)


def _plain(cls: Any, default: type) -> bool:
    """No class chosen: typer's own default, None, or typer's placeholder for an argument left out."""
    return cls is None or cls is default or getattr(cls, "value", cls) is None
